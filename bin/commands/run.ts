/**
 * `flink-elastic run --local`: the real-time local driver (local/driver/loop.ts) — collector, alarms, scaler and the
 * rescale workflow on the wall clock against a Flink REST URL (`--flink-url`), or against a real Flink cluster this
 * command starts on this machine with the project's test job (`--real-flink [VERSION]`).
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { CliIo } from './support/io';
import { configPath, loadConfig } from '../../functions/adapters/config-file';
import type { Config, JobConfig } from '../../functions/core/config';
import { addPollOption, addWhereOptions, defaultServices, localStore, localTarget, type WhereOptions } from './support/context';
import { CommandFailed } from './support/exit';
import { durationIn, jobName } from './support/options';

interface RunOpts extends WhereOptions {
  job?: string;
  duration?: number;
  alarmPeriod?: number;
  collectEvery?: number;
  realFlink?: string | boolean;
  scenario: string;
  verboseSteps?: boolean;
}

export function registerRun(program: Command, io: CliIo): void {
  const cmd = program
    .command('run')
    .description('Run the whole scaling loop locally in real time: collector, alarms, scaler and the rescale workflow against a Flink REST URL (or a real Flink it starts)')
    .option('--job <name>', 'the job to drive (default: the config\'s only enabled job)', jobName)
    .option('--duration <duration>', 'stop after this long (default: until Ctrl-C)', durationIn('--duration', 1, 30 * 86400))
    .option('--alarm-period <duration>', 'every alarm\'s period (default: as synthesized, 60 s); shorter to try things out quickly', durationIn('--alarm-period', 1, 3600))
    .option('--collect-every <duration>', 'how often the collector reads Flink (default: deployment.collectorIntervalMinutes)', durationIn('--collect-every', 1, 3600))
    .addOption(new Option('--real-flink [version]', 'start a real Flink standalone cluster on this machine (pinned 1.20.5 or 2.3.0; FLINK_HOME wins) with the test job, and drive it with --scenario'))
    .option('--scenario <name>', 'with --real-flink: the producer-rate shape (step-spike)', 'step-spike')
    .option('--verbose-steps', 'print every state of the workflow, Choice and Wait states included');
  addPollOption(addWhereOptions(cmd)).option('--json', 'print every event as one JSON line on stdout');
  cmd.addHelpText(
    'after',
    `
Ctrl-C stops it: no new decision is taken, and a rescale in flight is waited for (it ends rescaled, or failed with
the job restored from its savepoint or untouched) — never left between its cancel and its resubmit.

Example:
  $ flink-elastic run --local --flink-url http://127.0.0.1:8081 --job orders --alarm-period 10s --poll-interval 1s
  $ flink-elastic run --local --real-flink 1.20 --duration 8m      # a real Flink on this machine (Java 17, Maven)`,
  );
  cmd.action(async (o: RunOpts, c: Command) => {
    if (!o.local) c.error('error: run is the local driver: add --local (deployed, the Lambdas run the loop)', { exitCode: 2 });
    if (o.realFlink !== undefined && o.flinkUrl) c.error('error: --real-flink starts its own cluster: leave out --flink-url', { exitCode: 2 });
    if (o.realFlink === undefined && !o.flinkUrl) c.error('error: run --local needs --flink-url URL (a Flink JobManager REST API) or --real-flink', { exitCode: 2 });
    const out = o.json ? () => undefined : io.out;
    const json = o.json ? (e: unknown) => io.out(JSON.stringify(e)) : () => undefined;
    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) io.err('stopping after the current step: no new decisions; a rescale in flight is waited for (Ctrl-C again to see what it waits for)');
      else io.err('still waiting for the rescale in flight to end; it is never left between its cancel and its resubmit');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    try {
      if (o.realFlink !== undefined) {
        const { runAgainstRealFlink } = await import('../../local/real-flink/demo');
        const ok = await runAgainstRealFlink({
          version: typeof o.realFlink === 'string' ? o.realFlink : undefined,
          scenario: o.scenario,
          durationMs: o.duration !== undefined ? o.duration * 1000 : undefined,
          stateFile: resolve(o.stateFile),
          signal: controller.signal,
          out: io.out,
          json: o.json,
          verboseSteps: o.verboseSteps,
        });
        if (!ok) throw new CommandFailed(1);
        return;
      }
      const config = loadConfig(configPath(program.opts().config));
      const job = pickJob(c, config, o.job);
      const local: Config = { ...config, jobs: config.jobs.map((j) => (j.name === job.name ? { ...j, flink: { ...j.flink, url: o.flinkUrl! } } : { ...j, enabled: false })) };
      const localJob = local.jobs.find((j) => j.name === job.name)!;
      const { FlinkRestClient } = await import('../../functions/adapters/flink/client');
      const probe = new FlinkRestClient({ baseUrl: o.flinkUrl!, timeoutMs: localJob.flink.requestTimeoutMs, retries: 2, version: localJob.flink.version });
      const { target, note } = await localTarget(o, localJob, probe, { ...defaultServices, ...io.services }, localJob.dryRun);
      out(`Running the scaling loop for ${job.name} against ${o.flinkUrl} (Ctrl-C stops it)`);
      out(`  ${note}; state: ${resolve(o.stateFile)}`);
      out(`  alarms: ${o.alarmPeriod ? `period ${o.alarmPeriod} s (shortened from the synthesized 60 s)` : 'as synthesized'}; collector every ${o.collectEvery ?? local.deployment.collectorIntervalMinutes * 60} s${o.pollInterval !== undefined ? `; workflow waits ${o.pollInterval} s` : ''}`);
      const { runLocalLoop } = await import('../../local/driver/loop');
      const { formatLoopEvent, formatLoopSummary } = await import('../../local/driver/print');
      const r = await runLocalLoop({
        config: local,
        store: localStore(o),
        target: () => target,
        ...(o.alarmPeriod ? { alarmPeriodSeconds: o.alarmPeriod } : {}),
        ...(o.collectEvery ? { collectEveryMs: o.collectEvery * 1000 } : {}),
        ...(o.pollInterval !== undefined ? { waitSeconds: o.pollInterval } : {}),
        ...(o.duration !== undefined ? { durationMs: o.duration * 1000 } : {}),
        signal: controller.signal,
        onEvent: (e) => {
          json(e);
          const line = formatLoopEvent(e, { verboseSteps: o.verboseSteps });
          if (line) out(line);
        },
      });
      out(formatLoopSummary(r));
      if (r.executions.some((e) => e.status === 'FAILED')) throw new CommandFailed(1, 'a rescale workflow failed (see above)');
    } finally {
      process.off('SIGINT', onSigint);
    }
  });
}

function pickJob(c: Command, config: Config, name?: string): JobConfig {
  const enabled = config.jobs.filter((j) => j.enabled);
  if (name) {
    const j = config.jobs.find((x) => x.name === name);
    if (!j) c.error(`error: --job "${name}" is not in the config; configured jobs: ${config.jobs.map((x) => x.name).join(', ')}`, { exitCode: 2 });
    return j!;
  }
  if (enabled.length !== 1) c.error(`error: the config has ${enabled.length} enabled jobs (${enabled.map((j) => j.name).join(', ')}): name one with --job`, { exitCode: 2 });
  return enabled[0];
}
