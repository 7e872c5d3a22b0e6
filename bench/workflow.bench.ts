/**
 * Rescale workflow cost and latency per scenario: Step Functions state transitions (billed), step Lambda
 * invocations, and the wall time the workflow adds on top of what Flink and the infrastructure take anyway
 * (TaskManager boot and registration, savepoint, cancel, restart until all tasks run, first checkpoint), in the
 * emulator's virtual time. The synthesized state machine runs on aws-local-stepfunctions with the real step
 * handlers against the emulator over loopback (the same harness as test/workflow).
 *
 * "Added" is total execution time minus the union of those Flink/infra intervals: what polling granularity and
 * sequencing cost. Lambda and REST latencies are ~0 in virtual time; in AWS add roughly 50-150 ms per invocation.
 */
import '../test/setup-env';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobConfigInput } from '../functions/core/config';
import { SimulatedCapacityTarget, startEmulator, type Emulator } from '../local/emulator';
import { startDynalite, type LocalDynamo } from '../test/support/dynalite';
import { WorkflowHarness, type RunResult } from '../test/support/workflow-harness';

interface Scenario {
  name: string;
  mode: 'savepoint' | 'adaptive' | 'reactive';
  taskManagers: number;
  parallelism?: number;
  input: Record<string, unknown>;
  slotAllocation?: 'pack' | 'spread';
  inlinePollSeconds?: number;
  before?: (emu: Emulator) => void;
}

const SCENARIOS: Scenario[] = [
  { name: 'scale-out, savepoint 4->8 (+2 TMs)', mode: 'savepoint', taskManagers: 2, parallelism: 4, input: { parallelism: 8 } },
  { name: 'scale-out, savepoint, no inline polling', mode: 'savepoint', taskManagers: 2, parallelism: 4, input: { parallelism: 8 }, inlinePollSeconds: 0 },
  { name: 'scale-in, savepoint 8->4 (drain, -2 TMs)', mode: 'savepoint', taskManagers: 4, parallelism: 8, input: { parallelism: 4 } },
  { name: 'adaptive in place 2->4', mode: 'adaptive', taskManagers: 2, parallelism: 2, input: { parallelism: 4 } },
  { name: 'reactive 4->8 (+2 TMs)', mode: 'reactive', taskManagers: 2, input: { parallelism: 8 } },
  { name: 'savepoint fails (abort)', mode: 'savepoint', taskManagers: 4, parallelism: 4, input: { parallelism: 6 }, before: (e) => e.model.faults.failNextSavepoints(1) },
  { name: 'resubmit fails (rollback)', mode: 'savepoint', taskManagers: 4, parallelism: 4, input: { parallelism: 8 }, before: (e) => e.model.faults.failNextRuns(1) },
  { name: 'drain timeout 8->4 (spread slots)', mode: 'savepoint', taskManagers: 4, parallelism: 8, input: { parallelism: 4 }, slotAllocation: 'spread' },
  { name: 'dry run', mode: 'savepoint', taskManagers: 2, parallelism: 4, input: { parallelism: 8, dryRun: true } },
];

function jobConfig(url: string, mode: Scenario['mode']): JobConfigInput {
  return {
    name: 'orders',
    flink: { url, version: '1.19', jobName: 'orders' },
    mode,
    ...(mode === 'savepoint' ? { submit: { jarPath: 's3://artifacts/orders.jar' }, savepoint: { directory: 's3://state/savepoints/orders' } } : {}),
    target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
    drainTimeoutSeconds: 120,
  } as JobConfigInput;
}

type Interval = [number, number];

/** Length of the union of intervals clipped to [from, to]. */
function unionLength(intervals: Interval[], from: number, to: number): number {
  const xs = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as Interval)
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let cur: Interval | undefined;
  for (const x of xs) {
    if (!cur || x[0] > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [...x];
    } else cur[1] = Math.max(cur[1], x[1]);
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

/** What Flink and the infrastructure spent during the run, from the emulator's and the target's own records. */
function flinkOwnIntervals(emu: Emulator, r: RunResult): Interval[] {
  const out: Interval[] = [];
  // TaskManager boot: from the capacity change to the last new TaskManager registering with the JobManager.
  const state = r.output ?? r.finalState;
  const registered = emu.model.taskManagers.filter((t) => t.registeredAt > r.startedAt).map((t) => t.registeredAt);
  if (state?.capacity?.changed && registered.length) out.push([state.capacity.at, Math.max(...registered)]);
  for (const op of emu.model.operations.values()) if (op.completedAt !== undefined) out.push([op.createdAt, op.completedAt]);
  for (const job of emu.model.jobs) {
    const ts = job.timestamps;
    if (ts.CANCELLING !== undefined && ts.CANCELED !== undefined) out.push([ts.CANCELLING, ts.CANCELED]);
    if (job.startTime >= r.startedAt && ts.RUNNING !== undefined) out.push([job.startTime, ts.RUNNING]);
    if (ts.RESTARTING !== undefined && ts.RUNNING !== undefined && ts.RESTARTING >= r.startedAt) out.push([ts.RESTARTING, ts.RUNNING]);
    // The first checkpoint after a (re)start is the job's own cadence; the workflow waits for it on purpose.
    const runningSince = ts.RUNNING ?? job.startTime;
    const first = job.checkpoints.find((c) => !c.isSavepoint && c.status === 'COMPLETED' && c.ackAt !== undefined && c.triggeredAt >= runningSince);
    if (first && runningSince >= r.startedAt) out.push([runningSince, first.ackAt!]);
  }
  return out;
}

async function runScenario(dynamo: LocalDynamo, s: Scenario, i: number): Promise<string[]> {
  const emu = await startEmulator({ version: '1.19', taskManagers: s.taskManagers, slotsPerTaskManager: 2, scheduler: s.mode === 'savepoint' ? 'default' : s.mode, slotAllocation: s.slotAllocation });
  try {
    const sim = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000 });
    const h = new WorkflowHarness({ emulator: emu, dynamo, target: sim, sns: new SNSClient({}), jobs: [jobConfig(emu.url, s.mode)], inlinePollSeconds: s.inlinePollSeconds });
    emu.model.startJob({ name: 'orders', parallelism: s.parallelism, inputRate: 1000 });
    await h.elapse(40_000);
    s.before?.(emu);
    const r = await h.run({ job: 'orders', ...s.input }, `bench-${i}`);
    const total = r.finishedAt - r.startedAt;
    const own = unionLength(flinkOwnIntervals(emu, r), r.startedAt, r.finishedAt);
    const outcome = (r.output ?? r.finalState)?.notify?.outcome ?? r.status;
    return [s.name, outcome, String(r.states.length), String(r.invocations.length), String(r.retries), (total / 1000).toFixed(1), (own / 1000).toFixed(1), ((total - own) / 1000).toFixed(1)];
  } finally {
    await emu.close();
  }
}

export async function run(): Promise<void> {
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: 'bench' });
  const dynamo = await startDynalite();
  const rows: string[][] = [];
  try {
    for (const [i, s] of SCENARIOS.entries()) {
      process.stderr.write(`  running: ${s.name} ...\n`);
      rows.push(await runScenario(dynamo, s, i));
    }
  } finally {
    await dynamo.stop();
    sns.restore();
  }
  const head = ['scenario', 'outcome', 'transitions', 'Lambda calls', 'retries', 'total s', 'Flink+infra s', 'added s'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => '| ' + r.map((v, c) => (c < 2 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ') + ' |';
  process.stdout.write(
    [
      'Rescale workflow per execution (virtual time; Flink emulator 1.19, TM boot 30 s, checkpoint interval 30 s)',
      line(head),
      '|' + widths.map((w, c) => (c < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|',
      ...rows.map(line),
      '',
      'transitions = states entered (Step Functions Standard bills each, $0.025 per 1000); Lambda calls = step invocations incl. retries.',
      'added = total - union(TM boot..registered, savepoint, cancel, submit..RUNNING, RUNNING..first checkpoint): polling granularity and sequencing.',
      '',
    ].join('\n'),
  );
}

if (require.main === module) void run();
