/**
 * Reads what the policy needs about one job right now: Flink REST (vertices, rates, busy time, pending records,
 * slots) and CloudWatch (the lag and CPU metrics the alarms watch), plus the job's recent history from the state
 * store. Produces the policy's snapshot document (functions/core/policy JobSnapshotSchema), which `decide` validates.
 */
import type { JobConfig } from '../core/config';
import { cpuMetric, lagMetric } from '../core/signals';
import type { FlinkApi, JobDetails, TaskManagerInfo } from '../adapters/flink/types';
import type { ScalerDeps } from './ports';
import type { AlarmTrigger, Trigger } from './event';

export class JobNotRunningError extends Error {
  override readonly name = 'JobNotRunning';
}

export interface ReadSnapshot {
  snapshot: Record<string, any>;
  flinkJobId: string;
  details: JobDetails;
  taskManagers: TaskManagerInfo[];
  /** Signals that could not be read (logged, the policy works with what is there). */
  warnings: string[];
  /**
   * The source figures of this read, recorded with the decision (history `detail.sample`) so that the next read can
   * derive the produce rate from the change of the backlog. Undefined when the sources report no rate or no lag.
   */
  sample?: RateSample;
}

/** Consume rate and backlog of a job's sources at one moment (a decision's history entry carries it). */
export interface RateSample {
  at: number;
  /** The Flink job the figures were read from: a sample from before a restart is not compared across it. */
  flinkJobId: string;
  /** Records/s the sources read (Σ of the source vertices' numRecordsOutPerSecond). */
  consumeRate: number;
  /** Records waiting in the source topic/stream (Σ pendingRecords of the sources, else the lag metric in records). */
  backlogRecords: number;
  /** Records the sources emitted since their subtasks started (Σ of the numRecordsOut counters), when every source reports it. */
  recordsOut?: number;
}

/** A previous sample is compared with the current one only if it is this many seconds old or more ... */
export const RATE_SAMPLE_MIN_AGE_SECONDS = 10;
/** ... and at most this old (the rates over a longer interval say little about now). */
export const RATE_SAMPLE_MAX_AGE_SECONDS = 600;
/** A backlog of less than this many seconds of consumption counts as caught up: produce ≈ consume. */
export const CAUGHT_UP_SECONDS = 1;

const finite = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const clamp = (x: number | undefined, lo: number, hi: number) => (x === undefined ? undefined : Math.min(hi, Math.max(lo, x)));

export async function readSnapshot(deps: ScalerDeps, job: JobConfig, api: FlinkApi, trigger: Trigger, now: number): Promise<ReadSnapshot> {
  const warnings: string[] = [];
  const flinkName = job.flink.jobName ?? job.name;
  const [overview, summary, taskManagers] = await Promise.all([api.overview(), api.findJobByName(flinkName), api.taskManagers()]);
  if (!summary) throw new JobNotRunningError(`no running Flink job named "${flinkName}" at the job's flink.url`);
  if (summary.state !== 'RUNNING') throw new JobNotRunningError(`Flink job "${flinkName}" (${summary.id}) is ${summary.state}, not RUNNING`);
  const details = await api.job(summary.id);
  const vm = await Promise.all(details.vertices.map((v) => api.vertexMetrics(summary.id, v.id)));
  const jobMaxP = details.maxParallelism > 0 ? details.maxParallelism : (job.bounds.jobMaxParallelism ?? 128);

  const vertices = details.vertices.map((v, i) => {
    const m = vm[i];
    const source = v.inputs.length === 0;
    const inputRate = finite(source ? (m.numRecordsOutPerSecond ?? m.numRecordsInPerSecond) : m.numRecordsInPerSecond);
    return omitUndefined({
      id: v.id,
      name: v.name,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism > 0 ? v.maxParallelism : jobMaxP,
      inputRate,
      outputRate: finite(m.numRecordsOutPerSecond),
      busyTimeMsPerSecond: clamp(finite(m.busyTimeMsPerSecondMax), 0, 1000),
      backpressureMsPerSecond: clamp(finite(m.backPressuredTimeMsPerSecondMax), 0, 1000),
      pendingRecords: source ? finite(m.pendingRecords) : undefined,
      keyedInput: v.keyedInput,
      inputs: v.inputs,
      sourcePartitions: source ? job.policy.sourcePartitions : undefined,
    });
  });

  // CloudWatch: the metrics the alarms watch, newest datapoint of the last few periods.
  const signals: Record<string, any> = {};
  const lag = lagMetric(deps.config.deployment.stackName, job);
  const cpu = cpuMetric(deps.config.deployment.stackName, job);
  const queries = [
    ...(lag && job.lag ? [{ key: 'lag', spec: lag, periodSeconds: job.lag.alarm.periodSeconds }] : []),
    { key: 'cpu', spec: cpu, periodSeconds: job.cpu.alarm.periodSeconds },
  ];
  try {
    const lookbackSeconds = Math.max(...queries.map((q) => q.periodSeconds)) * 5;
    const r = await deps.metrics.read(queries, { now, lookbackSeconds });
    const lagValue = r.lag?.value;
    if (lag && lagValue !== undefined) {
      if (lag.unit === 'records') signals.lagRecords = Math.max(0, lagValue);
      else signals.lagSeconds = Math.max(0, lag.unit === 'milliseconds' ? lagValue / 1000 : lagValue);
    } else if (lag) warnings.push(`no recent datapoint for ${lag.namespace} ${lag.metricName}`);
    if (r.cpu?.value !== undefined) signals.cpuPercent = clamp(r.cpu.value, 0, 100);
    else warnings.push(`no recent datapoint for ${cpu.namespace} ${cpu.metricName}`);
  } catch (e) {
    warnings.push(`CloudWatch metrics unavailable: ${(e as Error).message}`);
  }
  // Produce/consume rates from Flink when no source gave them (see rateSignals).
  const rates = rateSignals(vertices.map((v, i) => ({ ...v, recordsOut: finite(vm[i].numRecordsOut) })), signals.lagRecords, summary.id, now, warnings);
  if (trigger.kind === 'alarm') signals.alarms = alarmSignal(trigger, deps.config.deployment.stackName);
  else if (trigger.kind === 'reevaluate' && trigger.alarmStates) signals.alarms = alarmStatesSignal(trigger.alarmStates);

  // History: cooldown clock, recent decisions (oldest first), observed restart times.
  const [lastRescaleAt, decisions, rescales] = await Promise.all([
    deps.store.getLastRescaleAt(job.name),
    deps.store.history(job.name, 'decision', { limit: 20 }),
    deps.store.history(job.name, 'rescale', { limit: 10 }),
  ]);
  // A decision that started a workflow execution is "in-progress" until that execution recorded how it ended.
  const ended = new Map(rescales.map((r) => [r.id, rescaleOutcome(r.detail.outcome)]));
  const past = decisions
    .filter((d) => d.at <= now && typeof d.detail.action === 'string' && typeof d.detail.outcome === 'string')
    .map((d) => omitUndefined({
      at: d.at,
      action: d.detail.action,
      fromParallelism: d.detail.fromParallelism,
      toParallelism: d.detail.toParallelism,
      outcome: d.detail.outcome === 'in-progress' && typeof d.detail.executionName === 'string' ? (ended.get(d.detail.executionName) ?? 'in-progress') : d.detail.outcome,
    }))
    .reverse();
  const restartSeconds = rescales
    .map((r) => r.detail.restartSeconds)
    .filter((s): s is number => typeof s === 'number' && Number.isFinite(s) && s >= 0 && s <= 86_400)
    .reverse();

  // The newest sample old enough to compare with (decisions can come seconds apart: an alarm just after a tick).
  const previous = decisions.map((d) => parseSample(d.detail.sample)).find((x): x is RateSample => x !== undefined && x.at <= now - RATE_SAMPLE_MIN_AGE_SECONDS * 1000);
  const sample = rates.sample;
  if (signals.consumeRate === undefined && rates.consumeRate !== undefined) signals.consumeRate = rates.consumeRate;
  if (signals.produceRate === undefined && sample) {
    const produce = produceRate(sample, previous);
    if (produce.rate !== undefined) signals.produceRate = produce.rate;
    else warnings.push(produce.why);
  }

  const snapshot = {
    job: job.name,
    now,
    vertices,
    cluster: { taskManagers: overview.taskManagers, slotsPerTaskManager: job.slotsPerTaskManager, slotsTotal: overview.slotsTotal, slotsFree: overview.slotsAvailable },
    signals,
    // A rescale recorded while this snapshot was read (after `now`) counts as just now: the cooldown applies.
    history: omitUndefined({ lastRescaleAt: lastRescaleAt !== undefined ? Math.min(lastRescaleAt, now) : undefined, decisions: past, restartSeconds }),
  };
  return { snapshot, flinkJobId: summary.id, details, taskManagers, warnings, ...(sample ? { sample } : {}) };
}

/**
 * Consume rate = Σ over the source vertices of the records/s they emit (numRecordsOutPerSecond, what they read from
 * the topic/stream); backlog = Σ of their pendingRecords, else the lag metric in records. Both only when every
 * source reports them (a partial sum would understate the job).
 */
function rateSignals(vertices: { inputs: string[]; inputRate?: number; outputRate?: number; pendingRecords?: number; recordsOut?: number }[], lagRecords: number | undefined, flinkJobId: string, now: number, warnings: string[]): { consumeRate?: number; sample?: RateSample } {
  const sources = vertices.filter((v) => v.inputs.length === 0);
  const rates = sources.map((v) => v.outputRate ?? v.inputRate);
  if (sources.length === 0 || rates.some((r) => r === undefined)) {
    warnings.push('consumeRate unknown: a source vertex reports no numRecordsOutPerSecond');
    return {};
  }
  const consumeRate = rates.reduce<number>((a, r) => a + (r ?? 0), 0);
  const backlogRecords = sources.every((v) => v.pendingRecords !== undefined) ? sources.reduce<number>((a, v) => a + (v.pendingRecords ?? 0), 0) : lagRecords;
  if (backlogRecords === undefined) {
    warnings.push('produceRate unknown: no backlog in records (source pendingRecords or a lag metric in records)');
    return { consumeRate };
  }
  const recordsOut = sources.every((v) => v.recordsOut !== undefined) ? sources.reduce<number>((a, v) => a + (v.recordsOut ?? 0), 0) : undefined;
  return { consumeRate, sample: { at: now, flinkJobId, consumeRate, backlogRecords, ...(recordsOut !== undefined ? { recordsOut } : {}) } };
}

/**
 * Produce rate ≈ what the sources read now + how fast the backlog grows. Records arrive at `produce` and are read at
 * `consume`, so d(backlog)/dt = produce − consume:
 *  - caught up now (backlog under 1 s of consumption): the sources read everything that arrives, produce = consume;
 *  - else, against the newest earlier decision's sample of the same Flink job (no restart in between) taken 10 s to
 *    10 min earlier: when both carry the sources' record counters, produce = (records read + backlog growth) ÷ Δt —
 *    exact over Δt, where Flink's per-second meters average the last 60 s and so lag a step by up to a minute (seen on
 *    real Flink: a step read that way was met a minute late); else produce = consume now + (backlog now − backlog
 *    then) ÷ Δt. Never below 0;
 *  - else unknown (the reason says why).
 */
export function produceRate(cur: RateSample, prev: RateSample | undefined): { rate?: number; why: string } {
  if (cur.backlogRecords <= cur.consumeRate * CAUGHT_UP_SECONDS) return { rate: cur.consumeRate, why: 'caught up: produce = consume' };
  const age = prev ? (cur.at - prev.at) / 1000 : undefined;
  if (prev && age !== undefined && prev.flinkJobId === cur.flinkJobId && age >= RATE_SAMPLE_MIN_AGE_SECONDS && age <= RATE_SAMPLE_MAX_AGE_SECONDS) {
    const growth = (cur.backlogRecords - prev.backlogRecords) / age;
    if (cur.recordsOut !== undefined && prev.recordsOut !== undefined && cur.recordsOut >= prev.recordsOut) {
      return { rate: Math.max(0, (cur.recordsOut - prev.recordsOut) / age + growth), why: `records read + backlog growth over ${age} s (counters)` };
    }
    return { rate: Math.max(0, cur.consumeRate + growth), why: `consume + backlog growth over ${age} s` };
  }
  const whyNot = !prev
    ? 'no earlier sample'
    : prev.flinkJobId !== cur.flinkJobId
      ? 'the job restarted since the last sample'
      : `the last sample is ${age} s old (usable: ${RATE_SAMPLE_MIN_AGE_SECONDS}–${RATE_SAMPLE_MAX_AGE_SECONDS} s)`;
  return { why: `produceRate unknown: a backlog of ${Math.round(cur.backlogRecords)} records and ${whyNot} to see how fast it grows` };
}

function parseSample(x: unknown): RateSample | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const o = x as Record<string, unknown>;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!ok(o.at) || !ok(o.consumeRate) || !ok(o.backlogRecords) || typeof o.flinkJobId !== 'string') return undefined;
  return { at: o.at, flinkJobId: o.flinkJobId, consumeRate: o.consumeRate, backlogRecords: o.backlogRecords, ...(ok(o.recordsOut) ? { recordsOut: o.recordsOut } : {}) };
}

/** The decision outcome that a workflow's recorded outcome (functions/workflow/finish.ts `Outcome`) means. */
export function rescaleOutcome(outcome: unknown): 'succeeded' | 'failed' | 'rolled-back' | 'dry-run' | 'skipped' {
  if (outcome === 'succeeded' || outcome === 'succeeded-drain-timeout' || outcome === 'rescaled-cleanup-failed') return 'succeeded';
  if (outcome === 'failed-rolled-back') return 'rolled-back';
  if (outcome === 'dry-run') return 'dry-run';
  if (typeof outcome === 'string' && outcome.startsWith('failed')) return 'failed';
  return 'skipped'; // no-change, busy, cooldown, rejected: nothing was changed
}

function alarmSignal(trigger: AlarmTrigger, _stackName: string): Record<string, boolean> {
  const m = /-(lag|cpu)-(high|low)$/.exec(trigger.alarmName);
  if (!m) return {};
  const key = `${m[1]}${m[2] === 'high' ? 'High' : 'Low'}`;
  return { [key]: trigger.state === 'ALARM' };
}

/** Every alarm state of a job as the snapshot's `signals.alarms` (true = ALARM). */
function alarmStatesSignal(states: Record<string, string>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [name, state] of Object.entries(states)) {
    const m = /-(lag|cpu)-(high|low)$/.exec(name);
    if (m) out[`${m[1]}${m[2] === 'high' ? 'High' : 'Low'}`] = state === 'ALARM';
  }
  return out;
}

function omitUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
