/**
 * Baseline policies with the same signature as `decide`, so the simulator and `npm run bench` can compare them:
 *  - msf-cpu: Amazon Managed Service for Apache Flink's built-in rule: CPU ≥ 75 % for 15 min → double the
 *    parallelism; CPU < 10 % for 6 h → halve it (rounded up).
 *  - aws-step-lag: the aws-samples step-scaling autoscaler on a lag alarm: +1/+2/+4 by how far the lag is over the
 *    alarm threshold (< 1.5×, < 2×, ≥ 2×), cooldown 300 s, -1 after 2 periods at or below the low threshold.
 *  - seed-001: the seed's two rules alone: backlog ÷ consume rate > max tolerated backlog (10 s) ⇒ parallelism =
 *    produce ÷ consume × current; free ÷ total slots < 0.2 ⇒ +20 % TaskManagers; never more often than every 60 s.
 * None of them smooths, aligns or delays; they exist to be beaten.
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

/** aws-samples step scaling on a lag alarm: +1/+2/+4, cooldown 300 s, -1 after 2 periods below the low threshold. */
export const awsStepLagPolicy: PolicyFn = (snap, job, state) => {
  const b = base(snap, job);
  const [st, c] = counters(state);
  const pending = snap.vertices.filter((v) => v.pendingRecords !== undefined);
  const lag = snap.signals.lagRecords ?? (pending.length ? pending.reduce((a, v) => a + v.pendingRecords!, 0) : undefined);
  if (!job.lag || lag === undefined) {
    return result('aws-step-lag', b, st, { reason: 'no lag alarm configured or no lag figure', figures: {}, steps: [], missing: [job.lag ? 'lagRecords' : 'job.lag (alarm thresholds)'] });
  }
  const high = job.lag.highThreshold;
  const lowT = job.lag.lowThreshold;
  const last = Math.max(c['step.lastAt'] ?? 0, lastChangeAt(snap) ?? 0);
  const cooling = last > 0 && (snap.now - last) / 1000 < 300;
  const figures = { lagRecords: lag, highThreshold: high, lowThreshold: lowT, currentParallelism: b.cur };
  if (lag > high) {
    delete c['step.below'];
    const ratio = lag / high;
    const step = ratio < 1.5 ? 1 : ratio < 2 ? 2 : 4;
    if (cooling) return result('aws-step-lag', b, st, { reason: `lag ${fmt(lag)} > ${fmt(high)}, but in the 300 s cooldown`, figures, steps: [], missing: [], limitedBy: ['cooldown'] });
    c['step.lastAt'] = snap.now;
    return result('aws-step-lag', b, st, { p: b.cur + step, reason: `lag ${fmt(lag)} is ${fmt(ratio)}× the alarm threshold: +${step}`, figures: { ...figures, step }, steps: [`${b.cur} + ${step}`], missing: [] });
  }
  if (lag <= lowT) {
    const periodMs = (job.lag.alarm.periodSeconds ?? 60) * 1000;
    if (c['step.belowAt'] === undefined || snap.now - c['step.belowAt'] >= periodMs) {
      c['step.below'] = (c['step.below'] ?? 0) + 1;
      c['step.belowAt'] = snap.now;
    }
    if (c['step.below'] >= 2 && !cooling) {
      c['step.below'] = 0;
      c['step.lastAt'] = snap.now;
      return result('aws-step-lag', b, st, { p: b.cur - 1, reason: `lag ${fmt(lag)} ≤ ${fmt(lowT)} for 2 periods: -1`, figures, steps: [`${b.cur} - 1`], missing: [] });
    }
  } else {
    delete c['step.below'];
    delete c['step.belowAt'];
  }
  return result('aws-step-lag', b, st, { reason: `lag ${fmt(lag)}: no change`, figures, steps: [], missing: [] });
};

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
  'aws-step-lag': awsStepLagPolicy,
  'seed-001': seedRulesPolicy,
};

export const policyNames = (): string[] => Object.keys(POLICIES);
