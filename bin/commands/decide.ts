import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliIo } from './support/io';
import { configPath, loadConfig } from '../../functions/adapters/config-file';
import { ConfigError, findJob, type Config, type JobConfig } from '../../functions/core/config';
import { POLICIES, explainDecision, parsePolicyState, parseSnapshot, policyFor, type PolicyState } from '../../functions/core/policy';
import { jsonText } from './support/json';
import { intIn, oneOf } from './support/options';

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read ${what}: ${(e as Error).message}` }], file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }], file);
  }
}

function pickJob(config: Config, explicit: string | undefined, fromSnapshot: string | undefined): JobConfig {
  const name = explicit ?? fromSnapshot;
  if (name) return findJob(config, name);
  if (config.jobs.length === 1) return config.jobs[0];
  throw new ConfigError([
    { path: 'job', message: `the config has ${config.jobs.length} jobs; pick one with --job NAME or "job" in the snapshot: ${config.jobs.map((j) => j.name).join(', ')}` },
  ]);
}

export function registerDecide(program: Command, io: CliIo): void {
  program
    .command('decide')
    .description('Ask a scaling policy what it would do now for one job snapshot (changes nothing)')
    .requiredOption('--snapshot <file>', 'job snapshot JSON (format: schema/job-snapshot.schema.json)')
    .option('--job <name>', 'job in the config (default: the snapshot\'s "job" field, or the only job)')
    .option('--state <file>', 'policy state carried between calls: read when the file exists, the new state is written back')
    .option('--explain', 'print a readable explanation with the arithmetic instead of JSON')
    .option('--policy <name>', `policy to ask: ${Object.keys(POLICIES).join(', ')}`, oneOf('--policy', Object.keys(POLICIES)), 'flink-elastic')
    .option('--throughput-per-subtask <rec/s>', 'aws-step-throughput only: records/s one subtask sustains (its ThroughputPerKPU)', intIn('--throughput-per-subtask', 1, 100_000_000))
    .addHelpText(
      'after',
      [
        '',
        'Prints the decision as JSON: action (none | scale-out-capacity | rescale | scale-in-capacity), direction,',
        'target parallelism and TaskManagers, a one-line reason, the figures used, what limited it, what was missing.',
        '',
        'Example:',
        '  $ flink-elastic decide --config flink-elastic.config.json --snapshot examples/snapshot.json --explain',
        '  $ flink-elastic decide --snapshot examples/snapshot.json --state /tmp/orders.state.json --policy seed-001',
      ].join('\n'),
    )
    .action((opts: { snapshot: string; job?: string; state?: string; explain?: boolean; policy: string; throughputPerSubtask?: number }) => {
      const policy = policyFor(opts.policy, { throughputPerSubtask: opts.throughputPerSubtask })!;
      const config = loadConfig(configPath(program.opts().config));
      const snapshot = parseSnapshot(readJson(opts.snapshot, 'snapshot'), opts.snapshot);
      const job = pickJob(config, opts.job, snapshot.job);
      let state: PolicyState | undefined;
      if (opts.state && existsSync(opts.state)) state = parsePolicyState(readJson(opts.state, 'policy state'), opts.state);
      const { decision, state: next } = policy(snapshot, job, state);
      if (opts.state) writeFileSync(opts.state, JSON.stringify(next, null, 2) + '\n');
      io.out(opts.explain ? explainDecision(decision, job.name) : jsonText(decision));
    });
}
