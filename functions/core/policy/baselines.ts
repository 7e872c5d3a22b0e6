/**
 * Baseline policies with the same signature as `decide`, so the simulator and `npm run bench` can compare them:
 *  - msf-cpu: Amazon Managed Service for Apache Flink's built-in rule: CPU ≥ 75 % for 15 min → double the
 *    parallelism; CPU < 10 % for 6 h → halve it (rounded up).
 *  - aws-step-throughput: the aws-samples step-scaling autoscaler: alarms on the input rate at capacity × T (out, one
 *    period) and (capacity − 1) × T (in, two periods), re-written from the capacity after each scale; +1/+2/+4/+8 and
 *    −1..−4 by how far past the threshold; cooldown 600 s. T (records/s per subtask) is its one parameter.
 *  - seed-001: the seed's two rules alone: backlog ÷ consume rate > max tolerated backlog (10 s) ⇒ parallelism =
 *    produce ÷ consume × current; free ÷ total slots < 0.2 ⇒ +20 % TaskManagers; never more often than every 60 s.
 * Each follows its source (cited in docs/simulator.md, "Baselines"); none smooths, aligns or delays beyond it.
 */
import { taskManagersFor, type JobConfig } from '../config';
import { decide, lastChangeAt } from './decide';
import { fmt } from './math';
import { emptyState, type JobSnapshot, type PolicyState } from './snapshot';
import type { Decision, PolicyFn, PolicyResult } from './types';

interface Base {
  snap: JobSnapshot;
  job: JobConfig;
  cur: number;
  s: number;
  lower: number;
  upper: number;
  tmsFor: (p: number) => number;
}

function base(snap: JobSnapshot, job: JobConfig): Base {
  const s = snap.cluster.slotsPerTaskManager ?? job.slotsPerTaskManager;
  const pins = new Set(Object.keys(job.policy.pinnedVertices));
  const free = snap.vertices.filter((v) => !v.pinned && !pins.has(v.name));
  const pinnedSlots = Math.max(0, ...snap.vertices.filter((v) => v.pinned || pins.has(v.name)).map((v) => v.parallelism));
  const cur = snap.parallelism ?? Math.max(1, ...free.map((v) => v.parallelism));
  const upper = Math.min(job.bounds.maxParallelism, job.bounds.maxTaskManagers * s, ...free.map((v) => v.maxParallelism));
  return {
    snap,
    job,
    cur,
    s,
    lower: Math.min(job.bounds.minParallelism, upper),
    upper,
    tmsFor: (p) => taskManagersFor({ ...job, slotsPerTaskManager: s }, Math.max(p, pinnedSlots)),
  };
}

function result(
  name: string,
  b: Base,
  state: PolicyState,
  o: { p?: number; tms?: number; reason: string; figures: Record<string, number>; steps: string[]; missing: string[]; limitedBy?: Decision['limitedBy'] },
): PolicyResult {
  const { cur, snap, job } = b;
  let p = o.p ?? cur;
  const limitedBy = [...(o.limitedBy ?? [])];
  if (p > b.upper || p < b.lower) {
    p = Math.min(b.upper, Math.max(b.lower, p));
    limitedBy.push('bounds');
  }
  const curTMs = snap.cluster.taskManagers;
  let tms = o.tms ?? (p !== cur ? b.tmsFor(p) : curTMs);
  tms = Math.min(job.bounds.maxTaskManagers, Math.max(job.bounds.minTaskManagers, tms));
  if (job.mode === 'reactive' && p !== cur) p = Math.min(b.upper, tms * b.s);
  const action: Decision['action'] =
    p !== cur ? (job.mode === 'reactive' ? (p > cur ? 'scale-out-capacity' : 'scale-in-capacity') : 'rescale') : tms > curTMs ? 'scale-out-capacity' : tms < curTMs ? 'scale-in-capacity' : 'none';
  const direction = action === 'none' ? undefined : p !== cur ? (p > cur ? 'up' : 'down') : tms > curTMs ? 'up' : 'down';
  const decision: Decision = {
    policy: name,
    action,
    ...(direction ? { direction } : {}),
    currentParallelism: cur,
    targetParallelism: p,
    currentTaskManagers: curTMs,
    targetTaskManagers: action === 'none' ? curTMs : tms,
    wantedParallelism: o.p ?? cur,
    rule: 'baseline',
    reason: o.reason,
    limitedBy,
    missing: o.missing,
    figures: o.figures,
    steps: o.steps,
  };
  return { decision, state };
}

const counters = (state: PolicyState | undefined): [PolicyState, Record<string, number>] => {
  const st: PolicyState = { ...(state ?? emptyState()), baseline: { ...(state?.baseline ?? {}) } };
  return [st, st.baseline!];
};

/** MSF built-in autoscaling: CPU ≥ 75 % for 15 min → ×2; CPU < 10 % for 6 h → ÷2 (rounded up). */
export const msfCpuPolicy: PolicyFn = (snap, job, state) => {
  const b = base(snap, job);
  const [st, c] = counters(state);
  const cpu = snap.signals.cpuPercent;
  if (cpu === undefined) return result('msf-cpu', b, st, { reason: 'no CPU figure', figures: {}, steps: [], missing: ['cpuPercent'] });
  if (cpu >= 75) c['msf.highSince'] ??= snap.now;
  else delete c['msf.highSince'];
  if (cpu < 10) c['msf.lowSince'] ??= snap.now;
  else delete c['msf.lowSince'];
  const high = c['msf.highSince'] !== undefined ? (snap.now - c['msf.highSince']) / 1000 : 0;
  const low = c['msf.lowSince'] !== undefined ? (snap.now - c['msf.lowSince']) / 1000 : 0;
  const figures = { cpuPercent: cpu, highForSeconds: high, lowForSeconds: low, currentParallelism: b.cur };
  if (high >= 15 * 60) {
    delete c['msf.highSince'];
    return result('msf-cpu', b, st, { p: b.cur * 2, reason: `CPU ${fmt(cpu)}% ≥ 75% for ${fmt(high)} s: double ${b.cur} → ${b.cur * 2}`, figures, steps: [`${b.cur} × 2 = ${b.cur * 2}`], missing: [] });
  }
  if (low >= 6 * 3600) {
    delete c['msf.lowSince'];
    const p = Math.ceil(b.cur / 2);
    return result('msf-cpu', b, st, { p, reason: `CPU ${fmt(cpu)}% < 10% for ${fmt(low)} s: halve ${b.cur} → ${p}`, figures, steps: [`ceil(${b.cur} ÷ 2) = ${p}`], missing: [] });
  }
  return result('msf-cpu', b, st, { reason: `CPU ${fmt(cpu)}%: no change`, figures, steps: [], missing: [] });
};

/**
 * aws-step-throughput's parameters, as aws-samples/kda-flink-app-autoscaling step-scaling/ sets them
 * (step-scaling.yaml: KDAAutoScaling, KDAAutoScalingPolicyOut/In, KDACWAlarmOut/In; index.py: put_alarms). The
 * step bounds there are absolute records/s (4,400, 8,800, 13,200: one, two and three ThroughputPerKPU at its default),
 * so here they are one, two and three `throughputPerSubtask` wide.
 */
export const AWS_STEP = {
  /** IncomingRecords Sum over 60 s, ÷ 60 (metric math `ir/60`). */
  periodSeconds: 60,
  /** KDACWAlarmOut EvaluationPeriods 1 (GreaterThanOrEqualToThreshold once put_alarms re-wrote it). */
  outEvaluationPeriods: 1,
  /** KDACWAlarmIn EvaluationPeriods 2 (LessThanOrEqualToThreshold). */
  inEvaluationPeriods: 2,
  /** StepScalingPolicyConfiguration Cooldown of both policies. */
  cooldownSeconds: 600,
  /** ChangeInCapacity by breach size: [0, 1 T) +1, [1 T, 2 T) +2, [2 T, 3 T) +4, ≥ 3 T +8. */
  outSteps: [1, 2, 4, 8],
  /** (−1 T, 0] −1, (−2 T, −1 T] −2, (−3 T, −2 T] −3, ≤ −3 T −4. */
  inSteps: [1, 2, 3, 4],
  /** The template's ThroughputPerKPU default, records/s per KPU (the sample runs one subtask per KPU). */
  throughputPerKpuDefault: 4400,
} as const;

export interface AwsStepParams {
  /**
   * ThroughputPerKPU's analogue: the records/s one subtask sustains (the sample's "Max throughput per KPU", found
   * by a load test). The simulator sets it to the scenario job's known per-subtask capacity.
   */
  throughputPerSubtask?: number;
}

/** The last change the scaler made (from the history), for the cooldown of the policy that made it. */
function lastStepChange(snap: JobSnapshot): { direction: 'up' | 'down'; from: number; endedAt: number } | undefined {
  const d = [...snap.history.decisions]
    .reverse()
    .find((x) => x.action !== 'none' && (x.outcome === 'succeeded' || x.outcome === 'in-progress') && x.fromParallelism !== undefined && x.toParallelism !== undefined && x.toParallelism !== x.fromParallelism);
  if (!d) return undefined;
  // the cooldown runs from when the scaling activity completed (the workflow's finish sets lastRescaleAt)
  const endedAt = Math.max(d.at, snap.history.lastRescaleAt ?? d.at);
  return { direction: d.toParallelism! > d.fromParallelism! ? 'up' : 'down', from: d.fromParallelism!, endedAt };
}

/**
 * The aws-samples step-scaling autoscaler (kda-flink-app-autoscaling, step-scaling/): two alarms on the input rate
 * whose thresholds the Lambda re-writes from the capacity after each scale (put_alarms): scale out when one period's
 * rate ≥ capacity × T, scale in when two periods' are ≤ (capacity − 1) × T; the step by how far past the threshold;
 * a 600 s cooldown per policy with Application Auto Scaling's semantics (a scale-out in its cooldown adds only what
 * a larger step asks beyond the previous one; a scale-in waits out its cooldown; a scale-out ends a scale-in's).
 * One datapoint per 60 s period: the snapshot's produce rate, taken at the first call in each period.
 */
export const awsStepThroughputPolicy =
  (params: AwsStepParams = {}): PolicyFn =>
  (snap, job, state) => {
    const name = 'aws-step-throughput';
    const b = base(snap, job);
    const [st, c] = counters(state);
    const T = params.throughputPerSubtask;
    const rate = snap.signals.produceRate;
    if (T === undefined || !(T > 0) || rate === undefined) {
      const missing = [...(T === undefined || !(T > 0) ? ['throughputPerSubtask (baseline parameter)'] : []), ...(rate === undefined ? ['produceRate'] : [])];
      return result(name, b, st, { reason: `no datapoint: ${missing.join(', ')} unknown`, figures: {}, steps: [], missing });
    }
    const period = Math.floor(snap.now / (AWS_STEP.periodSeconds * 1000));
    if (c['step.period'] === period) {
      return result(name, b, st, { reason: `period ${period} already evaluated (one datapoint per ${AWS_STEP.periodSeconds} s)`, figures: { incomingRecordsPerSecond: rate }, steps: [], missing: [] });
    }
    const prev = c['step.period'] === period - 1 ? c['step.rate'] : undefined;
    c['step.period'] = period;
    c['step.rate'] = rate;
    // put_alarms: the thresholds follow the capacity the last scale left (here: the parallelism now)
    const outThreshold = b.cur * T;
    const inThreshold = b.cur > 1 ? (b.cur - 1) * T : 0;
    const figures: Record<string, number> = { incomingRecordsPerSecond: rate, throughputPerSubtask: T, scaleOutThreshold: outThreshold, scaleInThreshold: inThreshold, currentParallelism: b.cur };
    const stepOf = (breach: number, steps: readonly number[]) => steps[Math.min(steps.length - 1, Math.floor(Math.abs(breach) / T))];
    const last = lastStepChange(snap);
    const cooling = (dir: 'up' | 'down') => last?.direction === dir && (snap.now - last.endedAt) / 1000 < AWS_STEP.cooldownSeconds;
    const thresholds = `thresholds out ≥ ${b.cur} × ${fmt(T)} = ${fmt(outThreshold)}, in ≤ ${b.cur > 1 ? `${b.cur - 1} × ${fmt(T)} = ` : ''}${fmt(inThreshold)}`;
    // Not the sample's: the rescale workflow refuses any rescale within job.cooldownSeconds of the last one (as KDA
    // refuses an update while the application is UPDATING), so none is asked for then.
    const changed = lastChangeAt(snap);
    if (changed !== undefined && (snap.now - changed) / 1000 < job.cooldownSeconds) {
      return result(name, b, st, { reason: `input ${fmt(rate)} rec/s (${thresholds}); within the workflow's ${job.cooldownSeconds} s cooldown`, figures, steps: [], missing: [], limitedBy: ['cooldown'] });
    }
    if (rate >= outThreshold) {
      const step = stepOf(rate - outThreshold, AWS_STEP.outSteps);
      // in the scale-out cooldown the capacity the previous scale-out added counts towards this one
      const from = cooling('up') ? last!.from : b.cur;
      const p = Math.max(b.cur, from + step);
      const why = `input ${fmt(rate)} rec/s ≥ ${fmt(outThreshold)} (${thresholds}): +${step}`;
      if (p === b.cur) {
        return result(name, b, st, { reason: `${why}, but in the ${AWS_STEP.cooldownSeconds} s cooldown after ${last!.from} → ${b.cur}, which added as much`, figures: { ...figures, step }, steps: [], missing: [], limitedBy: ['cooldown'] });
      }
      return result(name, b, st, { p, reason: why, figures: { ...figures, step }, steps: [`${from} + ${step} = ${p}`], missing: [] });
    }
    if (b.cur > 1 && prev !== undefined && prev <= inThreshold && rate <= inThreshold) {
      const step = stepOf(rate - inThreshold, AWS_STEP.inSteps);
      const why = `input ${fmt(prev)}, ${fmt(rate)} rec/s ≤ ${fmt(inThreshold)} for ${AWS_STEP.inEvaluationPeriods} periods (${thresholds}): −${step}`;
      if (cooling('down')) {
        return result(name, b, st, { reason: `${why}, but in the ${AWS_STEP.cooldownSeconds} s cooldown after ${last!.from} → ${b.cur}`, figures: { ...figures, step }, steps: [], missing: [], limitedBy: ['cooldown'] });
      }
      return result(name, b, st, { p: b.cur - step, reason: why, figures: { ...figures, step }, steps: [`${b.cur} − ${step} = ${b.cur - step}`], missing: [] });
    }
    return result(name, b, st, { reason: `input ${fmt(rate)} rec/s: no alarm (${thresholds})`, figures, steps: [], missing: [] });
  };

/** The policy by name with the baseline parameters it takes (aws-step-throughput: throughputPerSubtask). */
export function policyFor(name: string, params: AwsStepParams = {}): PolicyFn | undefined {
  return name === 'aws-step-throughput' ? awsStepThroughputPolicy(params) : POLICIES[name];
}

/** Seed 001 alone: lag ratio rule and the 20 % slot rule, at most once per 60 s window. */
export const seedRulesPolicy: PolicyFn = (snap, job, state) => {
  const b = base(snap, job);
  const [st] = counters(state);
  const sig = snap.signals;
  const last = lastChangeAt(snap);
  const figures: Record<string, number> = { currentParallelism: b.cur };
  if (last !== undefined && (snap.now - last) / 1000 < 60) {
    return result('seed-001', b, st, { reason: 'within the 60 s window after the last change', figures, steps: [], missing: [], limitedBy: ['cooldown'] });
  }
  const missing: string[] = [];
  const pending = snap.vertices.filter((v) => v.pendingRecords !== undefined);
  const lag = sig.lagRecords ?? (pending.length ? pending.reduce((a, v) => a + v.pendingRecords!, 0) : undefined);
  const backlog = sig.lagSeconds ?? (lag !== undefined && sig.consumeRate ? lag / sig.consumeRate : undefined);
  if (backlog !== undefined) figures.backlogSeconds = backlog;
  if (backlog !== undefined && backlog > job.policy.maxBacklogSeconds && sig.produceRate !== undefined && sig.consumeRate) {
    const p = Math.ceil((sig.produceRate / sig.consumeRate) * b.cur);
    if (p !== b.cur) {
      return result('seed-001', b, st, {
        p,
        reason: `backlog ${fmt(backlog)} s > ${job.policy.maxBacklogSeconds} s: produce ${fmt(sig.produceRate)} ÷ consume ${fmt(sig.consumeRate)} × ${b.cur} = ${p}`,
        figures: { ...figures, produceRate: sig.produceRate, consumeRate: sig.consumeRate },
        steps: [],
        missing,
      });
    }
  } else if (sig.produceRate === undefined || sig.consumeRate === undefined) missing.push('produceRate/consumeRate');
  const total = snap.cluster.slotsTotal;
  const ratio = total > 0 ? snap.cluster.slotsFree / total : 0;
  figures.slotFreeRatio = ratio;
  if (ratio < 0.2) {
    const tms = Math.ceil(snap.cluster.taskManagers * 1.2);
    if (job.mode === 'reactive') {
      return result('seed-001', b, st, { p: tms * b.s, tms, reason: `free slots ${fmt(ratio * 100)}% < 20%: +20% TaskManagers`, figures, steps: [], missing });
    }
    return result('seed-001', b, st, { tms, reason: `free slots ${fmt(ratio * 100)}% < 20%: +20% TaskManagers`, figures, steps: [], missing });
  }
  return result('seed-001', b, st, { reason: 'no rule fired', figures, steps: [], missing });
};

/** Every policy by name: flink-elastic's own and the baselines. */
export const POLICIES: Record<string, PolicyFn> = {
  'flink-elastic': decide,
  'msf-cpu': msfCpuPolicy,
  'aws-step-throughput': awsStepThroughputPolicy(),
  'seed-001': seedRulesPolicy,
};

export const policyNames = (): string[] => Object.keys(POLICIES);
