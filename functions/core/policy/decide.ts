/**
 * The flink-elastic scaling policy: one snapshot of a job in, one explained decision out. Pure: no I/O, no clock
 * (time is `snapshot.now`), deterministic. See docs/policy.md for the rules in prose with a worked example.
 *
 * Rules (numbers as in issue 4):
 *  1 rate: DS2 / operator. Per vertex, true processing rate per subtask = input rate × busiest share ÷ busy fraction;
 *    required = target rate ÷ target utilization + backlog ÷ catch-up time + restart compensation; parallelism =
 *    the smallest aligned value that carries it. Target rates flow from the sources' demand (produce rate, or input
 *    rate + lag growth) through the measured edge ratios.
 *  2 lag (seed 001) when only lag/produce/consume exist: backlog s > max ⇒ p = produce ÷ consume × p (+ catch-up).
 *  3 slots (seed 001): free ÷ total < 0.2 ⇒ +20 % TaskManagers at once, when the job is under pressure and nothing
 *    sizes the change exactly, or when the cluster lacks the slots the job's parallelism needs.
 *  4 cpu: sustained high CPU ⇒ × cpu ÷ target CPU; sustained low CPU ⇒ the same ratio down, after the delay.
 *  5 EWMA smoothing of demand and capacity (α from the config), with a level-shift detector; a clearly rising demand
 *    trend (Holt level + slope) sizes scale-ups for the forecast at now + restart + capacity lead.
 *  6 alignment (seed 004) to key groups / source partitions, never reversing direction, never leaving bounds; a
 *    source never gets more subtasks than partitions, and one over its band with more is brought down at once.
 *  7 bounds: min/max parallelism, ≤ maxParallelism, ≤ max TMs × slots, pinned vertices untouched.
 *  8 stability: cooldown, immediate scale-up, delayed scale-down (to the highest value wanted in the delay when the
 *    wanted value rebounded in it, else to the value wanted now; an in-band reading is kept in the window, it does
 *    not restart the delay), backlog freeze, minimum change; a scale-up's catch-up capacity is given back, at once
 *    and once, when the backlog is worked off.
 *  9 ineffective scale-up: if the last scale-up did not raise the processing rate, do not repeat it.
 * 10 forecast (policy.forecast, off by default): the job's seasonal demand profile (snapshot.forecast, per time-of-day
 *    bucket and day type, EWMA from day to day) raises the sources' target rate for a recurring peak within the
 *    lead window; it never lowers a target, and a job with schedules does not use it (functions/core/policy/forecast.ts).
 */
import type { JobConfig } from '../config';
import { Ctx } from './context';
import { evaluate } from './evaluate';
import { propose } from './rules';
import { emptyState, type JobSnapshot, type PolicyState } from './snapshot';
import { finish } from './stability';
import type { PolicyResult } from './types';

export { EFFECTIVENESS_THRESHOLD, lastChangeAt } from './stability';
export { RESTART_SAMPLES } from './evaluate';

export function decide(snapshot: JobSnapshot, job: JobConfig, state?: PolicyState): PolicyResult {
  const prev = state ?? emptyState();
  const next: PolicyState = {
    version: 1,
    smoothed: {},
    lastLag: {},
    ...(prev.pendingScaleDown ? { pendingScaleDown: prev.pendingScaleDown } : {}),
    ...(prev.pendingCapacityIn ? { pendingCapacityIn: prev.pendingCapacityIn } : {}),
    ...(prev.lastScaleUp ? { lastScaleUp: prev.lastScaleUp } : {}),
    ...(prev.catchUpGiveBack ? { catchUpGiveBack: prev.catchUpGiveBack } : {}),
    ...(prev.baseline ? { baseline: prev.baseline } : {}),
  };
  const x = new Ctx(snapshot, job, prev, next);
  const ev = evaluate(x);
  const p = propose(x, ev);
  return { decision: finish(x, p.plan, p.finish), state: next };
}
