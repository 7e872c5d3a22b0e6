import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliIo } from './support/io';
import { loadConfig } from '../../functions/adapters/config-file';
import { ConfigError } from '../../functions/core/config';
import { POLICIES } from '../../functions/core/policy';
import { renderReport } from '../../local/report';
import { SCENARIO_NAMES } from '../../local/scenarios';
import { FIDELITIES, POLICY_TRIGGERS, WAKES, progressLine, reportInput, simulate, summaryText, type Fidelity, type SimulationProgress, type Wake } from '../../local/simulator';
import { jsonText } from './support/json';
import { CommandFailed } from './support/exit';
import { intIn, oneOf } from './support/options';

/** The scenario noise takes the seed as an unsigned 32-bit integer (local/scenarios.ts `prng`). */
const MAX_SEED = 2 ** 32 - 1;

interface SimulateCliOptions {
  scenario: string;
  trace?: string;
  policy: string;
  wake?: Wake;
  seed: number;
  report?: string;
  json?: boolean;
  quiet?: boolean;
  fidelity: Fidelity;
  forecast?: boolean;
}

export function registerSimulate(program: Command, io: CliIo): void {
  program
    .command('simulate')
    .description('Run the whole loop locally in virtual time: emulated Flink, the synthesized alarms and workflow, the real scaler')
    .option('--scenario <name>', `load scenario: ${SCENARIO_NAMES.join(', ')}`, oneOf('--scenario', SCENARIO_NAMES), 'step-spike')
    .option('--trace <file.csv>', 'replay a recorded rate instead: CSV with header "time,records_per_second" (time: seconds or ISO)')
    .option('--policy <name>', `scaling policy: ${Object.keys(POLICIES).join(', ')}`, oneOf('--policy', Object.keys(POLICIES)), 'flink-elastic')
    .option('--wake <mode>', `what the minute tick does: ${WAKES.join(' | ')} (default: the policy's own, below)`, oneOf('--wake', WAKES) as (v: string) => Wake)
    .option('--seed <n>', `seed of the scenario noise, 0 to ${MAX_SEED} (same inputs, same output)`, intIn('--seed', 0, MAX_SEED), 1)
    .option('--report <file.html>', 'where to write the HTML report (default reports/simulation-<scenario>.html)')
    .option('--fidelity <mode>', `fast: state store in memory, Flink REST in process; full: DynamoDB (dynalite) and Flink REST over loopback HTTP; same figures (${FIDELITIES.join(' | ')})`, oneOf('--fidelity', FIDELITIES) as (v: string) => Fidelity, 'fast')
    .option('--json', 'print the results as JSON instead of the summary table')
    .option('--quiet', 'no progress display')
    .option('--forecast', 'turn on rule 10 (policy.forecast.enabled: scale ahead of recurring peaks) for every job')
    .addHelpText(
      'after',
      [
        '',
        'With --config FILE the simulation runs your jobs (any valid config: every lag source, target and mode) against',
        'the emulator, each with its own jar, entry class, program arguments, slots, bounds and Flink version; Flink URLs',
        'point at local emulators and capacity targets are simulated ones of the same kind.',
        'A rescale that fails makes the run fail (exit 1): the summary and the report name it and its reason.',
        '',
        'How each policy is triggered:',
        ...Object.entries(POLICY_TRIGGERS).map(([p, t]) => `  ${p.padEnd(20)} ${t.description}`),
        '',
        'Example:',
        '  $ flink-elastic simulate',
        '  $ flink-elastic simulate --scenario flash-crowd --policy msf-cpu --seed 7 --report /tmp/flash.html',
        '  $ flink-elastic simulate --config flink-elastic.config.json --trace traffic.csv --quiet',
        '  $ flink-elastic simulate --scenario weekday-peaks --forecast',
      ].join('\n'),
    )
    .action(async (opts: SimulateCliOptions) => {
      const seed = opts.seed;
      const configFile: string | undefined = program.opts().config;
      let trace: { csv: string; file: string } | undefined;
      if (opts.trace) {
        try {
          trace = { csv: readFileSync(opts.trace, 'utf8'), file: opts.trace };
        } catch (e) {
          throw new ConfigError([{ path: '--trace', message: `cannot read the trace: ${(e as Error).message}`, value: opts.trace }], 'simulate');
        }
      }
      const tty = process.stderr.isTTY === true;
      let lastLine = -Infinity;
      const onProgress = (p: SimulationProgress) => {
        if (opts.quiet) return;
        const line = progressLine(p);
        if (tty) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 160) - 1).padEnd(Math.min(160, (process.stderr.columns ?? 160) - 1))}`);
        else if (p.t - lastLine >= Math.max(10 * 60_000, p.durationMs / 12) || p.t >= p.durationMs) {
          lastLine = p.t;
          io.err(line);
        }
      };
      const result = await simulate({
        scenario: opts.scenario,
        trace,
        config: configFile ? loadConfig(configFile) : undefined,
        configSource: configFile,
        policy: opts.policy,
        wake: opts.wake,
        seed,
        fidelity: opts.fidelity,
        ...(opts.forecast ? { forecast: true } : {}),
        onProgress,
      });
      if (tty && !opts.quiet) process.stderr.write('\n');
      const report = resolve(opts.report ?? `reports/simulation-${trace ? 'trace' : opts.scenario}.html`);
      mkdirSync(dirname(report), { recursive: true });
      writeFileSync(report, renderReport(reportInput(result)));
      if (opts.json) {
        const { runs: _runs, config: _config, ...rest } = result;
        io.out(jsonText({ ...rest, report }));
      } else io.out(`${summaryText(result)}\nReport: ${report}`);
      // A rescale that fails in a simulation would fail in production too: the run fails (exit 1), naming it.
      const failed = result.jobs.reduce((a, j) => a + j.failedRescales, 0);
      if (failed > 0) {
        const first = result.jobs.flatMap((j) => j.failures)[0];
        throw new CommandFailed(1, `${failed} rescale(s) failed in the simulation (first: ${first.job}: ${first.reason}); see the summary and ${report}`);
      }
    });
}
