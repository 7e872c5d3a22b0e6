/** Builders for policy tests: a job config, snapshots, and a small linear job model to run the policy in a loop. */
import { parseJob, type JobConfig, type JobConfigInput } from '../../../functions/core/config';
import { decide, parseSnapshot, type Decision, type JobSnapshot, type JobSnapshotInput, type PolicyFn, type PolicyState } from '../../../functions/core/policy';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

type JobOverrides = Omit<Partial<JobConfigInput>, 'policy' | 'bounds'> & {
  policy?: Partial<NonNullable<JobConfigInput['policy']>>;
  bounds?: Partial<JobConfigInput['bounds']>;
};

/** A savepoint-mode job, 1 slot per TM, bounds 1..64, cooldown 0 and no scale-down delay unless overridden. */
export function job(o: JobOverrides = {}): JobConfig {
  const { policy, bounds, ...rest } = o;
  return parseJob({
    name: 'orders',
    flink: { url: 'http://127.0.0.1:8081' },
    mode: 'savepoint',
    target: { kind: 'asg', autoScalingGroupName: 'tms' },
    slotsPerTaskManager: 1,
    cooldownSeconds: 0,
    scaleDownDelaySeconds: 0,
    ...rest,
    bounds: { minParallelism: 1, maxParallelism: 64, minTaskManagers: 1, maxTaskManagers: 64, ...bounds },
    policy: { alignment: 'off', restartSeconds: 0, ...policy },
  });
}

export const SRC = 'a0000000000000000000000000000001';
export const WORK = 'a0000000000000000000000000000002';
export const SINK = 'a0000000000000000000000000000003';

export interface ChainOpts {
  p: number;
  /** records/s read by the source (and flowing through the chain) */
  inputRate?: number;
  /** busy ms/s of the work vertex (max over subtasks) */
  busy?: number;
  keyed?: boolean;
  /** busy ms/s of the sink (default 50: lightly loaded) */
  sinkBusy?: number;
  maxParallelism?: number;
  pendingRecords?: number;
  produceRate?: number;
  consumeRate?: number;
  cpuPercent?: number;
  now?: number;
  tms?: number;
  slotsFree?: number;
  extra?: Partial<JobSnapshotInput>;
}

/** source (pinned at 1) → work (p, optionally keyed) → sink (p, lightly loaded). */
export function chain(o: ChainOpts): JobSnapshot {
  const rate = o.inputRate;
  const tms = o.tms ?? o.p;
  const input: JobSnapshotInput = {
    now: o.now ?? T0,
    vertices: [
      { id: SRC, name: 'Source', parallelism: 1, maxParallelism: 128, pinned: true, inputRate: rate, outputRate: rate, busyTimeMsPerSecond: rate === undefined ? undefined : 100, pendingRecords: o.pendingRecords },
      { id: WORK, name: 'Work', parallelism: o.p, maxParallelism: o.maxParallelism ?? 128, keyedInput: o.keyed ?? false, inputs: [SRC], inputRate: rate, outputRate: rate, busyTimeMsPerSecond: o.busy },
      { id: SINK, name: 'Sink', parallelism: o.p, maxParallelism: o.maxParallelism ?? 128, inputs: [WORK], inputRate: rate, outputRate: 0, busyTimeMsPerSecond: rate === undefined ? undefined : (o.sinkBusy ?? 50) },
    ],
    cluster: { taskManagers: tms, slotsTotal: tms, slotsFree: o.slotsFree ?? Math.max(0, tms - o.p) },
    signals: { produceRate: o.produceRate, consumeRate: o.consumeRate, cpuPercent: o.cpuPercent },
    ...o.extra,
  };
  return parseSnapshot(JSON.parse(JSON.stringify(input)));
}

/**
 * A linear job: the work vertex processes `capacity` records/s per subtask; with keyed input the busiest subtask holds
 * ceil(N/p) of N key groups. Each tick the source reads what the job can take (demand plus backlog), the rest
 * becomes lag. Rescales take effect at the next tick after `restartSeconds` of downtime (lag grows meanwhile).
 */
export interface SimOpts {
  job: JobConfig;
  policy?: PolicyFn;
  p0: number;
  capacity: number;
  keyed?: boolean;
  keyGroups?: number;
  demand: (t: number, i: number) => number;
  ticks: number;
  tickSeconds?: number;
  restartSeconds?: number;
  lag0?: number;
  withProduceRate?: boolean;
  /**
   * Records/s one sink subtask processes. Set: the sink's busy time follows its load like the work vertex's. Unset:
   * the sink reports a fixed 50 ms/s (lightly loaded) whatever its parallelism.
   */
  sinkCapacity?: number;
}

export interface SimStep {
  t: number;
  p: number;
  demand: number;
  lag: number;
  busy: number;
  decision: Decision;
}

export function simulate(o: SimOpts): { steps: SimStep[]; rescales: SimStep[] } {
  const policy = o.policy ?? decide;
  const dt = o.tickSeconds ?? 60;
  const n = o.keyGroups ?? 128;
  let p = o.p0;
  let lag = o.lag0 ?? 0;
  let state: PolicyState | undefined;
  let downtime = 0;
  const decisions: JobSnapshotInput['history'] = { decisions: [], restartSeconds: [] };
  const steps: SimStep[] = [];
  for (let i = 0; i < o.ticks; i++) {
    const t = T0 + i * dt * 1000;
    const demand = o.demand(t, i);
    const limit = o.keyed ? (o.capacity * n) / Math.ceil(n / Math.min(p, n)) : o.capacity * p;
    const up = Math.max(0, dt - downtime);
    const input = Math.min(demand + (lag + demand * downtime) / dt, (limit * up) / dt);
    lag = Math.max(0, lag + demand * dt - input * dt);
    downtime = 0;
    const share = o.keyed ? Math.ceil(n / Math.min(p, n)) / n : 1 / p;
    const busy = Math.min(1000, ((input * share) / o.capacity) * 1000);
    const sinkBusy = o.sinkCapacity === undefined ? undefined : Math.min(1000, (input / p / o.sinkCapacity) * 1000);
    const snap = chain({
      p,
      inputRate: input,
      busy,
      sinkBusy,
      keyed: o.keyed,
      maxParallelism: n,
      pendingRecords: lag,
      produceRate: o.withProduceRate === false ? undefined : demand,
      consumeRate: input,
      now: t,
      extra: { history: JSON.parse(JSON.stringify(decisions)) },
    });
    const r = policy(snap, o.job, state);
    state = r.state;
    steps.push({ t, p, demand, lag, busy, decision: r.decision });
    if (r.decision.action !== 'none' && r.decision.targetParallelism !== p) {
      decisions.decisions!.push({ at: t, action: r.decision.action, fromParallelism: p, toParallelism: r.decision.targetParallelism, outcome: 'succeeded' });
      decisions.lastRescaleAt = t;
      p = r.decision.targetParallelism;
      downtime = o.restartSeconds ?? 0;
    }
  }
  return { steps, rescales: steps.filter((s) => s.decision.action !== 'none' && s.decision.targetParallelism !== s.p) };
}
