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
 *  6 alignment (seed 004) to key groups / source partitions, never reversing direction, never leaving bounds.
 *  7 bounds: min/max parallelism, ≤ maxParallelism, ≤ max TMs × slots, pinned vertices untouched.
 *  8 stability: cooldown, immediate scale-up, delayed scale-down (to the highest value wanted in the delay when the
 *    wanted value rebounded in it, else to the value wanted now), backlog freeze, minimum change.
 *  9 ineffective scale-up: if the last scale-up did not raise the processing rate, do not repeat it.
 */
import { taskManagersFor, type JobConfig } from '../config';
import { CAPACITY_LEAD_SECONDS, LEVEL_SHIFT_FRACTION, LEVEL_SHIFT_SAMPLES, TREND_SAMPLES, alignAtLeast, alignDown, alignUp, busiestShare, ewma, fmt, receding, risingForecast, trendStep, type Trend } from './math';
import { emptyState, topoOrder, type JobSnapshot, type PolicyState, type VertexSnapshot } from './snapshot';
import type { Action, Decision, Limit, PolicyResult, RuleName } from './types';

/** Rule 9: a scale-up is ineffective when it delivered less than this fraction of the expected rate increase. */
export const EFFECTIVENESS_THRESHOLD = 0.1;
/** Observed restart durations considered (newest first). */
export const RESTART_SAMPLES = 5;

interface VertexCalc {
  v: VertexSnapshot;
  key: string;
  pinned: boolean;
  isSource: boolean;
  /** Alignment units (key groups or partitions), when alignment applies to this vertex. */
  units?: number;
  unitsKind?: 'key groups' | 'partitions';
  lower: number;
  upper: number;
  upperWhy: Limit[];
  lag?: number;
  demand?: number;
  trend?: Trend;
  target?: number;
  catchUp?: number;
  cap?: number;
  need?: number;
  r?: number;
  want?: number;
  capacity?: number;
  outsideUp?: boolean;
  outsideDown?: boolean;
  /** Alignment moved the wanted value away from plain ceil(r). */
  aligned?: boolean;
  /** The wanted value hit the vertex's upper bound. */
  capped?: boolean;
}

interface Plan {
  p: number;
  perVertex?: Record<string, number>;
  rule: RuleName;
  why: string;
  limits: Limit[];
  /** Scale-ups made while the backlog breaches the SLO skip the min-change rule. */
  urgent?: boolean;
  /** Within the band, but the demand is receding: the parallelism wanted, for the scale-down delay's clock. */
  receding?: number;
}

class Ctx {
  figures: Record<string, number> = {};
  steps: string[] = [];
  missing = new Set<string>();
  /** Demand series whose level shift is not confirmed yet. */
  unconfirmed: string[] = [];
  /** Series whose level shift was confirmed at this decision. */
  shifted = new Set<string>();
  constructor(
    readonly snap: JobSnapshot,
    readonly job: JobConfig,
    readonly prev: PolicyState,
    readonly next: PolicyState,
  ) {}
  fig(name: string, value: number): number {
    this.figures[name] = value;
    return value;
  }
  step(s: string): void {
    this.steps.push(s);
  }
  smooth(key: string, raw: number): number {
    const r = ewma(this.prev.smoothed[key], raw, this.job.policy.ewmaAlpha);
    const { shifted, ...rest } = r;
    this.next.smoothed[key] = rest;
    if (shifted) this.shifted.add(key);
    if (shifted) this.step(`${key}: level shift confirmed, average restarts at ${fmt(r.value)}`);
    if (r.shiftN !== undefined && (key.startsWith('demand:') || key === 'produce')) {
      this.unconfirmed.push(key);
      this.step(`${key}: ${fmt(raw)} is more than ${fmt(LEVEL_SHIFT_FRACTION * 100)}% away from the level ${fmt(r.shiftBase ?? this.prev.smoothed[key]!.value)}; waiting for ${LEVEL_SHIFT_SAMPLES - r.shiftN} more sample(s) to confirm the change`);
    }
    return r.value;
  }
  carry(key: string): number | undefined {
    const p = this.prev.smoothed[key];
    if (p) this.next.smoothed[key] = p;
    return p?.value;
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const pct = (x: number) => `${fmt(x * 100)}%`;

export function decide(snapshot: JobSnapshot, job: JobConfig, state?: PolicyState): PolicyResult {
  const prev = state ?? emptyState();
  const next: PolicyState = {
    version: 1,
    smoothed: {},
    lastLag: {},
    ...(prev.pendingScaleDown ? { pendingScaleDown: prev.pendingScaleDown } : {}),
    ...(prev.pendingCapacityIn ? { pendingCapacityIn: prev.pendingCapacityIn } : {}),
    ...(prev.lastScaleUp ? { lastScaleUp: prev.lastScaleUp } : {}),
    ...(prev.baseline ? { baseline: prev.baseline } : {}),
  };
  const x = new Ctx(snapshot, job, prev, next);
  const decision = run(x);
  return { decision, state: next };
}

function run(x: Ctx): Decision {
  const { snap, job } = x;
  const pol = job.policy;
  const now = snap.now;
  const s = snap.cluster.slotsPerTaskManager ?? job.slotsPerTaskManager;
  const maxSlots = job.bounds.maxTaskManagers * s;

  // ---- vertices, pins, bounds -------------------------------------------------------------------------------
  const order = topoOrder(snap.vertices) ?? snap.vertices;
  const names = new Map<string, number>();
  for (const v of snap.vertices) names.set(v.name, (names.get(v.name) ?? 0) + 1);
  const calcs = new Map<string, VertexCalc>();
  for (const v of order) {
    const pinned = v.pinned || pol.pinnedVertices[v.name] !== undefined;
    const isSource = v.inputs.length === 0;
    const partitions = isSource ? (v.sourcePartitions ?? (pol.sourcePartitions !== undefined ? pol.sourcePartitions : undefined)) : undefined;
    let units: number | undefined;
    let unitsKind: VertexCalc['unitsKind'];
    if (pol.alignment === 'source-partitions' && isSource && partitions !== undefined) [units, unitsKind] = [partitions, 'partitions'];
    else if (pol.alignment !== 'off' && v.keyedInput) [units, unitsKind] = [v.maxParallelism, 'key groups'];
    const upperWhy: Limit[] = [];
    let upper = job.bounds.maxParallelism;
    if (v.maxParallelism < upper) [upper, upperWhy[0]] = [v.maxParallelism, 'bounds'];
    if (maxSlots < upper) [upper, upperWhy[0]] = [maxSlots, 'max-task-managers'];
    if (job.mode === 'adaptive' && partitions !== undefined && partitions < upper) [upper, upperWhy[0]] = [partitions, 'source-partitions'];
    if (upperWhy.length === 0) upperWhy.push('bounds');
    calcs.set(v.id, {
      v,
      key: (names.get(v.name) ?? 0) > 1 ? `${v.name}#${v.id}` : v.name,
      pinned,
      isSource,
      units,
      unitsKind,
      lower: Math.min(job.bounds.minParallelism, upper),
      upper,
      upperWhy,
    });
  }
  const all = [...calcs.values()];
  const free = all.filter((c) => !c.pinned);
  const pinnedSlots = Math.max(0, ...all.filter((c) => c.pinned).map((c) => c.v.parallelism));
  const cur = snap.parallelism ?? Math.max(0, ...free.map((c) => c.v.parallelism));
  const curTMs = snap.cluster.taskManagers;
  x.fig('currentParallelism', cur);
  x.fig('currentTaskManagers', curTMs);
  x.fig('slotsPerTaskManager', s);
  x.fig('slotsTotal', snap.cluster.slotsTotal);
  x.fig('slotsFree', snap.cluster.slotsFree);
  for (const c of all.filter((c) => c.pinned)) x.step(`${c.key}: pinned at ${c.v.parallelism}, never changed`);

  // ---- lag, backlog and demand at the sources ---------------------------------------------------------------
  const sources = all.filter((c) => c.isSource);
  const sig = snap.signals;
  const srcWeight = (c: VertexCalc) => {
    const rates = sources.map((sc) => sc.v.inputRate ?? 0);
    const total = sum(rates);
    return total > 0 ? (c.v.inputRate ?? 0) / total : 1 / sources.length;
  };
  for (const c of sources) {
    if (c.v.pendingRecords !== undefined) c.lag = c.v.pendingRecords;
    else if (sig.lagRecords !== undefined) c.lag = sig.lagRecords * srcWeight(c);
  }
  const lagRecords = sources.some((c) => c.lag !== undefined)
    ? sum(sources.map((c) => c.lag ?? 0))
    : sig.lagSeconds !== undefined && sig.consumeRate !== undefined
      ? sig.lagSeconds * sig.consumeRate
      : undefined;
  const consume = sig.consumeRate !== undefined ? x.smooth('consume', sig.consumeRate) : undefined;
  const produce = sig.produceRate !== undefined ? x.smooth('produce', sig.produceRate) : undefined;
  const srcIn = sources.every((c) => c.v.inputRate !== undefined) ? sum(sources.map((c) => c.v.inputRate!)) : undefined;
  let backlogSeconds: number | undefined;
  if (sig.lagSeconds !== undefined) backlogSeconds = sig.lagSeconds;
  else if (lagRecords !== undefined) {
    const drain = sig.consumeRate ?? srcIn ?? sig.produceRate;
    backlogSeconds = lagRecords === 0 ? 0 : drain && drain > 0 ? lagRecords / drain : Infinity;
  }
  if (lagRecords === undefined && backlogSeconds === undefined) x.missing.add('lag (pendingRecords, lagRecords or lagSeconds)');
  if (lagRecords !== undefined) x.fig('lagRecords', lagRecords);
  if (backlogSeconds !== undefined && Number.isFinite(backlogSeconds)) x.fig('backlogSeconds', backlogSeconds);
  x.fig('maxBacklogSeconds', pol.maxBacklogSeconds);
  const backlog = backlogSeconds !== undefined && backlogSeconds > pol.maxBacklogSeconds;
  if (backlogSeconds !== undefined) {
    x.step(
      `backlog: ${sig.lagSeconds !== undefined ? `lag ${fmt(backlogSeconds)} s` : `${fmt(lagRecords!)} records ÷ ${fmt(sig.consumeRate ?? srcIn ?? sig.produceRate ?? 0)} rec/s = ${fmt(backlogSeconds)} s`}` +
        ` ${backlog ? '>' : '≤'} max ${fmt(pol.maxBacklogSeconds)} s${backlog ? ' (SLO breached: scale-down frozen)' : ''}`,
    );
  }

  for (const c of sources) {
    let raw: number | undefined;
    if (sig.produceRate !== undefined) {
      raw = sig.produceRate * srcWeight(c);
    } else if (c.v.inputRate !== undefined) {
      raw = c.v.inputRate;
      const last = x.prev.lastLag[c.v.id];
      if (c.lag !== undefined && last && now > last.at) {
        const growth = (c.lag - last.records) / ((now - last.at) / 1000);
        raw = Math.max(0, raw + growth);
        x.fig(`${c.key}.lagGrowthRate`, growth);
      }
    }
    if (c.lag !== undefined) x.next.lastLag[c.v.id] = { at: now, records: c.lag };
    if (raw !== undefined) {
      x.fig(`${c.key}.demandRaw`, raw);
      const key = `demand:${c.v.id}`;
      c.demand = x.fig(`${c.key}.demand`, x.smooth(key, raw));
      // rule 5: the trend restarts at a level shift (a step is not a ramp)
      const reset = x.shifted.has(key) || x.unconfirmed.includes(key);
      c.trend = trendStep(x.prev.trend?.[key], now, c.demand, pol.ewmaAlpha, reset);
      (x.next.trend ??= {})[key] = c.trend;
    } else {
      const carried = x.carry(`demand:${c.v.id}`);
      if (carried !== undefined) c.demand = x.fig(`${c.key}.demand`, carried);
      x.missing.add(`input rate of source "${c.key}" (or produceRate)`);
    }
  }

  // ---- rule 1: rate-based target per vertex ------------------------------------------------------------------
  const u = x.fig('targetUtilization', pol.targetUtilization);
  const uMax = x.fig('utilizationMax', backlog ? 1 : Math.min(1, pol.targetUtilization + pol.utilizationBoundary));
  // during a backlog the scale-down is frozen in finish(), which says so (limitedBy 'backlog-freeze')
  const uMin = x.fig('utilizationMin', Math.max(0, pol.targetUtilization - pol.utilizationBoundary));
  const catchUpSec = x.fig('catchUpSeconds', pol.catchUpSeconds);
  const observed = x.snap.history.restartSeconds.slice(-RESTART_SAMPLES);
  const restartSec = x.fig('restartSeconds', observed.length > 0 ? Math.min(3600, Math.max(...observed)) : pol.restartSeconds);
  x.step(
    `utilization band ${pct(uMin)}–${pct(uMax)} around target ${pct(u)}${backlog ? ' (backlog: up to 100%, no scale-down)' : ''}; restart time ${fmt(restartSec)} s ${observed.length > 0 ? `(max of last ${observed.length} observed)` : '(configured)'}`,
  );

  for (const c of order.map((v) => calcs.get(v.id)!)) {
    const v = c.v;
    // target and catch-up rates: sources from demand/lag, others through the measured edge ratios
    if (c.isSource) {
      c.target = c.demand;
      const fc = c.trend && c.demand !== undefined ? risingForecast(c.trend, restartSec + CAPACITY_LEAD_SECONDS) : undefined;
      if (fc !== undefined && c.trend) {
        // rule 5: predicted load drives allocation; the forecast only ever raises the target
        x.fig(`${c.key}.demandSlope`, c.trend.slope);
        x.fig(`${c.key}.demandForecast`, fc);
        x.step(
          `${c.key}: demand rising for ${c.trend.rises} decisions (≥ ${TREND_SAMPLES}) at ${fmt(c.trend.slope)} rec/s per s → forecast ${fmt(c.demand!)} + ${fmt(c.trend.slope)} × (restart ${fmt(restartSec)} + capacity lead ${CAPACITY_LEAD_SECONDS} s) = ${fmt(fc)} rec/s, used as the target rate`,
        );
        c.target = fc;
      }
      c.catchUp = c.lag !== undefined && catchUpSec > 0 ? c.lag / catchUpSec : 0;
    } else {
      let t = 0;
      let cu = 0;
      let ok = true;
      for (const id of v.inputs) {
        const up = calcs.get(id)!;
        if (up.target === undefined) {
          ok = false;
          break;
        }
        let ratio = 1;
        if (up.v.inputRate !== undefined && up.v.inputRate > 0) {
          if (v.inputs.length === 1 && v.inputRate !== undefined) ratio = v.inputRate / up.v.inputRate;
          else if (up.v.outputRate !== undefined) ratio = up.v.outputRate / up.v.inputRate;
        }
        t += up.target * ratio;
        cu += (up.catchUp ?? 0) * ratio;
      }
      if (ok) [c.target, c.catchUp] = [t, cu];
    }
    // capacity per subtask from busy time
    const busy = v.busyTimeMsPerSecond;
    let capRaw: number | undefined;
    if (v.inputRate !== undefined && busy !== undefined && v.inputRate > 0 && busy > 0) {
      capRaw = (v.inputRate * busiestShare(c.units, v.parallelism)) / (busy / 1000);
    }
    // keyed by parallelism: a rescale restarts the average (per-subtask capacity need not scale linearly)
    if (capRaw !== undefined) c.cap = x.smooth(`cap:${v.id}@${v.parallelism}`, capRaw);
    else c.cap = x.carry(`cap:${v.id}@${v.parallelism}`);
    if (c.pinned) continue;
    if (busy === undefined) x.missing.add(`busyTimeMsPerSecond of "${c.key}"`);
    if (v.inputRate === undefined && !c.isSource) x.missing.add(`inputRate of "${c.key}"`);
    if (c.target === undefined) continue;
    const restartComp = catchUpSec > 0 ? (c.target * restartSec) / catchUpSec : 0;
    c.need = c.catchUp! + restartComp + c.target / u;
    x.fig(`${c.key}.targetRate`, c.target);
    x.fig(`${c.key}.catchUpRate`, c.catchUp!);
    x.fig(`${c.key}.restartCompensation`, restartComp);
    x.fig(`${c.key}.requiredRate`, c.need);
    if (c.target === 0 && c.catchUp === 0) {
      c.r = 0;
      c.want = c.lower;
      c.outsideDown = v.parallelism > c.lower;
      c.outsideUp = false;
      x.step(`${c.key}: idle (target rate 0) → wants the minimum ${c.lower}`);
      continue;
    }
    if (c.cap === undefined) continue;
    if (busy !== undefined && v.inputRate !== undefined) x.fig(`${c.key}.busyFraction`, busy / 1000);
    x.fig(`${c.key}.capacityPerSubtask`, c.cap);
    c.r = x.fig(`${c.key}.requiredParallelism`, c.need / c.cap);
    let want = alignUp(c.units, c.r);
    c.aligned = c.units !== undefined && want !== alignUp(undefined, c.r);
    const limits: string[] = [];
    if (want > c.upper) {
      want = Math.max(alignDown(c.units, c.upper), Math.min(c.upper, v.parallelism));
      limits.push(`capped at ${c.upper} (${c.upperWhy.join(', ')})`);
    }
    c.capped = c.r > c.upper;
    if (want < c.lower) {
      want = c.lower;
      // the smallest aligned parallelism at or above the minimum (not alignUp(lower), which treats the minimum as a
      // load requirement and can step past an aligned minimum: 128 key groups, minimum 5 → 6)
      const up = alignAtLeast(c.units, c.lower);
      if (up <= c.upper) want = up;
      limits.push(`raised to the minimum ${c.lower}`);
    }
    c.want = x.fig(`${c.key}.wantedParallelism`, want);
    c.capacity = c.cap / busiestShare(c.units, v.parallelism);
    const upAt = c.catchUp! + c.target / uMax;
    const downAt = uMin > 0 ? c.catchUp! + restartComp + c.target / uMin : Infinity;
    c.outsideUp = c.capacity < upAt;
    c.outsideDown = c.capacity > downAt;
    x.fig(`${c.key}.capacity`, c.capacity);
    const inShare = busy !== undefined && v.inputRate !== undefined && v.inputRate > 0 && busy > 0;
    x.step(
      `${c.key}: ` +
        (inShare
          ? `capacity per subtask = ${fmt(v.inputRate!)} rec/s × ${c.units ? `${Math.ceil(c.units / Math.min(v.parallelism, c.units))}/${c.units} ${c.unitsKind}` : `1/${v.parallelism}`} ÷ ${fmt(busy! / 1000)} busy = ${fmt(capRaw!)} (smoothed ${fmt(c.cap)}) rec/s; `
          : `capacity per subtask ${fmt(c.cap)} rec/s (last known); `) +
        `required = ${fmt(c.target)} ÷ ${fmt(u)} + catch-up ${fmt(c.catchUp!)} + restart ${fmt(restartComp)} = ${fmt(c.need)} rec/s ` +
        `→ ${fmt(c.need)} ÷ ${fmt(c.cap)} = ${fmt(c.r)} subtasks → ${want}${c.units ? ` (aligned to ${c.units} ${c.unitsKind})` : ''}` +
        `${limits.length ? `, ${limits.join(', ')}` : ''}; now ${v.parallelism} ` +
        `(${c.outsideUp ? 'over' : c.outsideDown ? 'under' : 'within'} the band: capacity ${fmt(c.capacity)} vs ${fmt(upAt)}–${Number.isFinite(downAt) ? fmt(downAt) : '∞'} rec/s)`,
    );
  }
  const measured = free.filter((c) => c.want !== undefined);
  const rateAvailable = measured.length > 0;
  if (!rateAvailable) x.missing.add('per-vertex rates and busy time (rule 1)');

  // ---- candidates by precedence: rate > lag > cpu > slots ------------------------------------------------------
  const jobUnits = (() => {
    const keyed = free.filter((c) => c.units !== undefined);
    return keyed.length > 0 ? Math.min(...keyed.map((c) => c.units!)) : undefined;
  })();
  const jobLower = Math.min(job.bounds.minParallelism, job.bounds.maxParallelism);
  const jobUpper = Math.min(job.bounds.maxParallelism, maxSlots, ...free.map((c) => c.v.maxParallelism));
  const alignJob = (r: number): { p: number; limits: Limit[] } => {
    let p = alignUp(jobUnits, r);
    const limits: Limit[] = [];
    if (jobUnits !== undefined && p !== Math.max(1, Math.ceil(r - 1e-9))) limits.push('alignment');
    if (p > jobUpper) [p, limits[limits.length]] = [Math.max(alignDown(jobUnits, jobUpper), Math.min(jobUpper, cur)), 'bounds'];
    if (p < jobLower) [p, limits[limits.length]] = [jobLower, 'bounds'];
    return { p, limits };
  };

  let plan: Plan | undefined;
  const curPer: Record<string, number> = Object.fromEntries(free.map((c) => [c.v.id, c.v.parallelism]));
  if (rateAvailable) {
    const limitsOf = (cs: VertexCalc[]): Limit[] => cs.flatMap((c) => [...(c.aligned ? (['alignment'] as Limit[]) : []), ...(c.capped ? c.upperWhy : [])]);
    const needs = (c: VertexCalc) => `${c.key} needs ${fmt(c.r!)} subtasks for ${fmt(c.need!)} rec/s at ${fmt(c.cap!)} rec/s each`;
    const within = `every vertex is within the utilization band ${pct(uMin)}–${pct(uMax)}`;
    if (job.mode === 'adaptive') {
      // per vertex: a change is made when some vertex is outside its band in that direction (scale-ups first)
      const ups = measured.filter((c) => c.outsideUp && c.want! > c.v.parallelism);
      const downs = measured.filter((c) => c.outsideDown && c.want! < c.v.parallelism);
      const moving = ups.length > 0 ? measured.filter((c) => c.want! > c.v.parallelism) : downs.length > 0 ? measured.filter((c) => c.want! < c.v.parallelism) : [];
      if (moving.length === 0) plan = { p: cur, rule: 'rate', why: within, limits: [] };
      else {
        const per: Record<string, number> = { ...curPer };
        for (const c of moving) per[c.v.id] = c.want!;
        const driver = (ups.length > 0 ? ups : downs)[0];
        plan = { p: Math.max(...Object.values(per)), perVertex: per, rule: 'rate', why: `${needs(driver)}${ups.length + downs.length > 1 ? ` (${moving.length} vertices change)` : ''}`, limits: limitsOf(moving) };
      }
    } else {
      // one job-level parallelism: the tightest vertex sets it; up when some vertex is over its band, down only when
      // the tightest vertex itself is under its band
      const b = measured.reduce((a, c) => (c.want! > a.want! ? c : a));
      const upDriver = measured.find((c) => c.outsideUp && c.want! > cur);
      if (b.want! > cur && upDriver) {
        plan = { p: b.want!, rule: 'rate', why: `${needs(b)}${upDriver !== b ? ` (${upDriver.key} is over its band)` : ''}`, limits: limitsOf([b]) };
      } else if (b.want! < cur && b.outsideDown) {
        plan = { p: b.want!, rule: 'rate', why: `the tightest vertex, ${needs(b)}`, limits: limitsOf([b]) };
      } else if (b.want! === cur) {
        plan = { p: cur, rule: 'rate', why: `the tightest vertex, ${needs(b)} → ${cur}`, limits: [] };
      } else if (b.want! < cur && sources.length > 0 && sources.every((c) => receding(c.trend))) {
        const falls = Math.min(...sources.map((c) => c.trend!.falls ?? 0));
        plan = { p: cur, rule: 'rate', why: `${within}, but the demand fell at the last ${falls} decisions and the tightest vertex, ${needs(b)}`, limits: [], receding: b.want! };
      } else {
        plan = { p: cur, rule: 'rate', why: within, limits: [] };
      }
    }
    plan.urgent = backlog;
  } else {
    // rule 2: the seed's lag rule
    if (backlog && produce !== undefined && consume !== undefined && consume > 0 && cur > 0) {
      const lagRec = lagRecords ?? 0;
      const catchUp = catchUpSec > 0 ? lagRec / catchUpSec : 0;
      const r = x.fig('lagRule.requiredParallelism', (cur * (produce + catchUp)) / consume);
      const a = alignJob(r);
      x.step(
        `lag rule (seed 001): ${fmt(cur)} × (produce ${fmt(produce)} + catch-up ${fmt(lagRec)} ÷ ${catchUpSec} s = ${fmt(catchUp)}) ÷ consume ${fmt(consume)} rec/s = ${fmt(r)} → ${a.p}`,
      );
      plan = { p: Math.max(a.p, cur), rule: 'lag', why: `backlog ${fmt(backlogSeconds!)} s > ${fmt(pol.maxBacklogSeconds)} s; produce ${fmt(produce)} ÷ consume ${fmt(consume)} rec/s`, limits: a.limits, urgent: true };
      if (a.p <= cur) plan.why += ' (the backlog is already being worked off fast enough)';
    } else if (backlog) {
      if (produce === undefined) x.missing.add('produceRate (lag rule)');
      if (consume === undefined) x.missing.add('consumeRate (lag rule)');
    } else if (produce === undefined || consume === undefined) {
      if (produce === undefined) x.missing.add('produceRate');
      if (consume === undefined) x.missing.add('consumeRate');
    }
    // rule 4: CPU
    if (!plan || plan.p === cur) {
      const cpuPlan = cpuRule(x, cur, backlog, alignJob);
      if (cpuPlan) plan = cpuPlan;
    }
  }
  // rule 3: slot rule — pressure nothing could size
  const freeRatio = snap.cluster.slotsTotal > 0 ? snap.cluster.slotsFree / snap.cluster.slotsTotal : 0;
  x.fig('slotFreeRatio', freeRatio);
  const pressure =
    backlog ||
    sig.alarms?.lagHigh === true ||
    (lagRecords !== undefined && job.lag !== undefined && job.lag.source.type !== 'cloudwatch' && lagRecords > job.lag.highThreshold) ||
    free.some((c) => (c.v.backpressureMsPerSecond ?? 0) >= 500 || (c.v.busyTimeMsPerSecond ?? 0) >= 1000 * Math.min(1, pol.targetUtilization + pol.utilizationBoundary) - 1e-9);
  if (!plan && pressure && freeRatio < pol.slotFreeRatioBelow) {
    const addTMs = Math.max(1, Math.ceil(curTMs * pol.slotAddFraction));
    const tms = curTMs + addTMs;
    const p = Math.min(jobUpper, Math.max(cur + 1, tms * s));
    x.step(
      `slot rule (seed 001): free ${snap.cluster.slotsFree} ÷ total ${snap.cluster.slotsTotal} slots = ${fmt(freeRatio)} < ${pol.slotFreeRatioBelow} and the job is under pressure with no figures to size it → +${pct(pol.slotAddFraction)} TaskManagers: ${curTMs} + ${addTMs} = ${tms}`,
    );
    const a = alignDown(jobUnits, p);
    plan = { p: a > cur ? a : p, rule: 'slots', why: `${fmt(freeRatio * 100)}% of slots free (< ${pct(pol.slotFreeRatioBelow)}) under pressure: +${pct(pol.slotAddFraction)} TaskManagers`, limits: a !== p && a > cur ? ['alignment'] : [] };
  }
  if (!plan) {
    plan = {
      p: cur,
      rule: 'none',
      why: pressure ? 'under pressure, but no rate, lag or CPU figures to size a change' : 'no rule asks for a change with the signals available',
      limits: [],
    };
  }

  // rule 7: bounds repair — a current parallelism outside the (possibly changed) bounds is brought back
  let boundsRepair = false;
  if ((cur > jobUpper && !(plan.p < cur && job.scaleDownDelaySeconds === 0)) || (cur < jobLower && plan.p <= cur)) {
    const p = Math.min(Math.max(cur, jobLower), jobUpper);
    plan = { p, rule: 'bounds', why: `parallelism ${cur} is outside the bounds ${jobLower}–${jobUpper}`, limits: ['bounds'] };
    boundsRepair = true;
  }
  return finish(x, plan, { cur, curTMs, curPer, s, pinnedSlots, backlog, boundsRepair, jobUnits, measured, names: Object.fromEntries(all.map((c) => [c.v.id, c.key])) });
}

function cpuRule(x: Ctx, cur: number, backlog: boolean, alignJob: (r: number) => { p: number; limits: Limit[] }): Plan | undefined {
  const { snap, job } = x;
  const raw = snap.signals.cpuPercent;
  if (raw === undefined) {
    x.missing.add('cpuPercent');
    delete x.next.cpuHighSince;
    delete x.next.cpuLowSince;
    return undefined;
  }
  const cpu = x.fig('cpuPercent', x.smooth('cpu', raw));
  const targetCpu = x.fig('cpuTargetPercent', job.policy.targetUtilization * 100);
  const window = x.fig('cpuSustainSeconds', job.cpu.alarm.periodSeconds * job.cpu.alarm.datapointsToAlarm);
  const high = raw >= job.cpu.highPercent;
  const low = raw <= job.cpu.lowPercent;
  if (high) x.next.cpuHighSince = x.prev.cpuHighSince ?? snap.now;
  if (low) x.next.cpuLowSince = x.prev.cpuLowSince ?? snap.now;
  const sustained = (alarm: boolean | undefined, since: number | undefined) =>
    alarm ?? (since !== undefined && (snap.now - since) / 1000 >= window);
  const highSustained = high && sustained(snap.signals.alarms?.cpuHigh, x.next.cpuHighSince);
  const lowSustained = low && sustained(snap.signals.alarms?.cpuLow, x.next.cpuLowSince);
  if (!highSustained && !lowSustained) {
    x.step(
      `cpu: ${fmt(raw)}% (smoothed ${fmt(cpu)}%)` +
        (high || low ? ` ${high ? '≥' : '≤'} ${high ? job.cpu.highPercent : job.cpu.lowPercent}% but not yet sustained for ${window} s` : ` within ${job.cpu.lowPercent}–${job.cpu.highPercent}%`),
    );
    return undefined;
  }
  const r = x.fig('cpuRule.requiredParallelism', (cur * cpu) / targetCpu);
  const a = alignJob(r);
  x.step(`cpu rule: ${fmt(cur)} × ${fmt(cpu)}% ÷ ${fmt(targetCpu)}% = ${fmt(r)} → ${a.p}`);
  if (highSustained) {
    return { p: Math.max(cur, a.p), rule: 'cpu', why: `CPU ${fmt(cpu)}% ≥ ${job.cpu.highPercent}% for ${window} s; sized to ${fmt(targetCpu)}%`, limits: a.limits, urgent: backlog };
  }
  return { p: Math.min(cur, a.p), rule: 'cpu', why: `CPU ${fmt(cpu)}% ≤ ${job.cpu.lowPercent}% for ${window} s; sized to ${fmt(targetCpu)}%`, limits: a.limits };
}

interface Finish {
  cur: number;
  curTMs: number;
  curPer: Record<string, number>;
  s: number;
  pinnedSlots: number;
  backlog: boolean;
  boundsRepair: boolean;
  jobUnits?: number;
  measured: VertexCalc[];
  /** vertex id → display name */
  names: Record<string, string>;
}

/** Rule 8 and 9 (stability, effectiveness), then capacity: turns the wanted plan into an action. */
function finish(x: Ctx, plan: Plan, f: Finish): Decision {
  const { snap, job } = x;
  const { cur, curTMs, s } = f;
  const reactive = job.mode === 'reactive';
  const tmsFor = (p: number) => taskManagersFor({ ...job, slotsPerTaskManager: s }, Math.max(p, f.pinnedSlots));
  const limits = new Set<Limit>(plan.limits);
  let wanted = plan.p;
  let per = plan.perVertex;
  // reactive mode: the job takes every slot, so the decision is a TaskManager count
  if (reactive && wanted !== cur) {
    const tms = tmsFor(wanted);
    const eff = Math.min(tms * s, job.bounds.maxParallelism, ...x.snap.vertices.filter((v) => !v.pinned).map((v) => v.maxParallelism));
    x.step(`reactive mode: ${wanted} subtasks need ${tms} TaskManagers × ${s} slots${tms === curTMs ? ', which the cluster has' : `; the job will run at ${eff}`}`);
    wanted = tms === curTMs ? cur : eff;
  }
  x.fig('wantedParallelism', wanted);
  const dirOf = (p: number, pv?: Record<string, number>): 'up' | 'down' | undefined => {
    if (pv) {
      const ups = Object.entries(pv).some(([id, q]) => q > (f.curPer[id] ?? q));
      const downs = Object.entries(pv).some(([id, q]) => q < (f.curPer[id] ?? q));
      return ups ? 'up' : downs ? 'down' : undefined;
    }
    return p > cur ? 'up' : p < cur ? 'down' : undefined;
  };
  const direction = dirOf(wanted, per);
  if (per && direction === 'up') {
    // scale-ups are immediate; the scale-downs of other vertices wait for the delay
    per = Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.max(q, f.curPer[id] ?? q)]));
    wanted = Math.max(...Object.values(per));
  }
  const base = {
    policy: 'flink-elastic',
    currentParallelism: cur,
    currentTaskManagers: curTMs,
    wantedParallelism: wanted,
    rule: plan.rule,
  };
  const none = (reason: string, extra: Limit[] = []): Decision => {
    extra.forEach((l) => limits.add(l));
    return capacityOnly(x, f, { ...base, action: 'none', targetParallelism: cur, targetTaskManagers: curTMs, reason, limitedBy: [...limits] }, tmsFor);
  };
  const inProgress = snap.history.decisions.filter((d) => d.outcome === 'in-progress');
  const lastRescaleAt = lastChangeAt(snap);
  const cooling = lastRescaleAt !== undefined && (snap.now - lastRescaleAt) / 1000 < job.cooldownSeconds;
  if (lastRescaleAt !== undefined) x.fig('secondsSinceLastRescale', (snap.now - lastRescaleAt) / 1000);
  x.fig('cooldownSeconds', job.cooldownSeconds);
  x.fig('scaleDownDelaySeconds', job.scaleDownDelaySeconds);

  if (direction === undefined) {
    const r = plan.receding;
    if (r !== undefined && !f.backlog && job.scaleDownDelaySeconds > 0 && (cur - r) / Math.max(1, cur) >= job.policy.minChangeFraction) {
      // a receding load: the delay's clock runs inside the band too; the scale-down is made once the band is left
      const d = delayClock(x, tmsFor, r);
      return none(
        `no change at ${cur}: ${plan.why}; scale down ${cur} → ${r} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay, made once the utilization leaves the band`,
        ['scale-down-delay'],
      );
    }
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${plan.why}`);
  }
  const moves = per
    ? Object.entries(per)
        .filter(([id, q]) => q !== f.curPer[id])
        .map(([id, q]) => `${f.names[id] ?? id} ${f.curPer[id]} → ${q}`)
        .join(', ')
    : `${cur} → ${wanted}`;
  const change = `${direction === 'up' ? 'scale up' : 'scale down'} ${moves}`;

  // minimum change: one rescale costs a restart
  const rel = per
    ? Math.max(...Object.entries(per).map(([id, q]) => Math.abs(q - (f.curPer[id] ?? q)) / Math.max(1, f.curPer[id] ?? q)))
    : Math.abs(wanted - cur) / Math.max(1, cur);
  x.fig('changeFraction', rel);
  x.fig('minChangeFraction', job.policy.minChangeFraction);
  if (!f.boundsRepair && rel < job.policy.minChangeFraction && !(direction === 'up' && plan.urgent)) {
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${change} is a ${pct(rel)} change, below the ${pct(job.policy.minChangeFraction)} minimum (${plan.why})`, ['min-change']);
  }
  if (inProgress.length > 0) return none(`${change} wanted, but a rescale is still in progress`, ['in-progress']);
  if (x.unconfirmed.length > 0 && !f.boundsRepair && direction === 'up') {
    return none(`${change} wanted, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample to size the change once`, ['smoothing']);
  }

  if (direction === 'up') {
    delete x.next.pendingScaleDown;
    // rule 9: ineffective scale-up
    const rate = processingRate(x, f);
    const last = x.prev.lastScaleUp;
    if (last && rate !== undefined && last.toParallelism === cur && !f.boundsRepair) {
      const expected = last.expectedRate - last.rateBefore;
      const actual = rate - last.rateBefore;
      x.fig('lastScaleUp.rateBefore', last.rateBefore);
      x.fig('lastScaleUp.expectedRate', last.expectedRate);
      x.fig('lastScaleUp.rateNow', rate);
      if (expected > 0 && actual / expected < EFFECTIVENESS_THRESHOLD) {
        x.step(
          `ineffective scale-up: the last scale-up ${last.fromParallelism} → ${last.toParallelism} raised the processing rate from ${fmt(last.rateBefore)} to ${fmt(rate)} rec/s, ${pct(Math.max(0, actual) / expected)} of the expected +${fmt(expected)} (< ${pct(EFFECTIVENESS_THRESHOLD)})`,
        );
        return none(
          `${change} wanted, but the last scale-up ${last.fromParallelism} → ${last.toParallelism} did not raise the processing rate (${pct(Math.max(0, actual) / expected)} of the expected gain); not repeating it: look for a bottleneck outside the job's parallelism (sink, external system, skew, pinned vertex)`,
          ['ineffective-scale-up'],
        );
      }
    }
    if (cooling) return none(`${change} wanted (${plan.why}), but the last rescale was ${fmt((snap.now - lastRescaleAt!) / 1000)} s ago (cooldown ${job.cooldownSeconds} s)`, ['cooldown']);
    if (rate !== undefined) {
      x.next.lastScaleUp = { at: snap.now, fromParallelism: cur, toParallelism: wanted, rateBefore: rate, expectedRate: (rate * wanted) / Math.max(1, cur) };
    }
    return act(x, f, { ...base, direction, targetParallelism: wanted, perVertex: per, reason: `${change}: ${plan.why}`, limitedBy: [...limits] }, tmsFor);
  }

  // direction down
  if (f.backlog && !f.boundsRepair) {
    delete x.next.pendingScaleDown;
    return none(`no change at ${cur}: ${change} wanted, but a backlog is being worked off (scale-down frozen)`, ['backlog-freeze']);
  }
  let target = wanted;
  let targetPer = per;
  if (!f.boundsRepair && job.scaleDownDelaySeconds > 0) {
    // the clock runs on while one sample of a sharp change waits for its confirmation
    const d = delayClock(x, tmsFor, wanted, per);
    if (x.unconfirmed.length > 0) {
      return none(`${change} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample`, ['smoothing']);
    }
    if (d.waited < job.scaleDownDelaySeconds) {
      return none(`no change at ${cur}: ${change} wanted for ${fmt(d.waited)} s of the ${job.scaleDownDelaySeconds} s scale-down delay (highest wanted so far ${d.highest}; ${plan.why})`, ['scale-down-delay']);
    }
    if (d.rebounded) {
      // the load came back within the delay: keep what it needed at its highest
      target = d.highest;
      targetPer = d.highestPer;
      if (target !== wanted) {
        limits.add('scale-down-delay');
        x.step(`scale-down delay over: the wanted parallelism fell to ${d.lowest} and rose again within the last ${fmt(d.waited)} s, so going to ${target}, the highest value wanted in it`);
      }
    } else if (d.highest !== wanted) {
      // a steady decline has no dip to guard against: the highest value is the oldest, most stale one
      x.step(
        `scale-down delay over: the wanted parallelism only fell in the last ${fmt(d.waited)} s (from ${d.highest} to ${wanted}, never rising ${pct(job.policy.minChangeFraction)} or more over its lowest), so going to ${wanted}, the value wanted now`,
      );
    }
  } else if (x.unconfirmed.length > 0 && !f.boundsRepair) {
    return none(`${change} wanted, but the load just changed sharply (${x.unconfirmed.join(', ')}); waiting one more sample to size the change once`, ['smoothing']);
  }
  if (cooling) return none(`${change} wanted, but the last rescale was ${fmt((snap.now - lastRescaleAt!) / 1000)} s ago (cooldown ${job.cooldownSeconds} s)`, ['cooldown']);
  delete x.next.pendingScaleDown;
  delete x.next.lastScaleUp;
  return act(
    x,
    f,
    { ...base, direction, targetParallelism: target, perVertex: targetPer, reason: `scale down ${
        targetPer
          ? Object.entries(targetPer)
              .filter(([id, q]) => q !== f.curPer[id])
              .map(([id, q]) => `${f.names[id] ?? id} ${f.curPer[id]} → ${q}`)
              .join(', ')
          : `${cur} → ${target}`
      }: ${plan.why}`, limitedBy: [...limits] },
    tmsFor,
  );
}

interface DelayClock {
  waited: number;
  highest: number;
  highestPer?: Record<string, number>;
  lowest: number;
  rebounded: boolean;
}

/**
 * Rule 8, the scale-down delay's clock: since when a scale-down has been wanted, the highest and lowest values
 * wanted since, and whether the wanted value rebounded (rose by at least the minimum change over its lowest).
 */
function delayClock(x: Ctx, tmsFor: (p: number) => number, wanted: number, per?: Record<string, number>): DelayClock {
  const { snap, job } = x;
  const pend = x.prev.pendingScaleDown;
  const since = pend?.since ?? snap.now;
  const highest = Math.max(pend?.parallelism ?? 0, wanted);
  const highestPer = per ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.max(q, pend?.perVertex?.[id] ?? 0)])) : undefined;
  const lowest = Math.min(pend?.lowest ?? pend?.parallelism ?? wanted, wanted);
  const lowestPer = per ? Object.fromEntries(Object.entries(per).map(([id, q]) => [id, Math.min(q, pend?.lowestPerVertex?.[id] ?? q)])) : undefined;
  const rose = (q: number, low: number) => q > low && (q - low) / Math.max(1, low) >= job.policy.minChangeFraction;
  const rebounded =
    pend?.rebounded === true ||
    (pend !== undefined && (rose(wanted, pend.lowest ?? pend.parallelism) || Object.entries(per ?? {}).some(([id, q]) => rose(q, pend.lowestPerVertex?.[id] ?? q))));
  x.next.pendingScaleDown = {
    since,
    parallelism: highest,
    ...(highestPer ? { perVertex: highestPer } : {}),
    taskManagers: tmsFor(highest),
    lowest,
    ...(lowestPer ? { lowestPerVertex: lowestPer } : {}),
    ...(rebounded ? { rebounded } : {}),
  };
  const waited = (snap.now - since) / 1000;
  x.fig('scaleDownWantedForSeconds', waited);
  x.fig('scaleDownHighestWanted', highest);
  x.fig('scaleDownLowestWanted', lowest);
  return { waited, highest, ...(highestPer ? { highestPer } : {}), lowest, rebounded };
}

type Partial = Omit<Decision, 'action' | 'figures' | 'steps' | 'missing' | 'targetTaskManagers' | 'direction'> & { direction: 'up' | 'down' };

/** A parallelism change: capacity follows parallelism; in reactive mode the capacity change is the rescale. */
function act(x: Ctx, f: Finish, d: Partial, tmsFor: (p: number) => number): Decision {
  const tms = tmsFor(d.targetParallelism);
  const action: Action = x.job.mode === 'reactive' ? (d.direction === 'up' ? 'scale-out-capacity' : 'scale-in-capacity') : 'rescale';
  const limitedBy = new Set(d.limitedBy);
  if (Math.ceil(Math.max(d.targetParallelism, f.pinnedSlots) / f.s) > x.job.bounds.maxTaskManagers) limitedBy.add('max-task-managers');
  x.fig('targetParallelism', d.targetParallelism);
  x.fig('targetTaskManagers', tms);
  x.step(`capacity follows parallelism: ceil(${Math.max(d.targetParallelism, f.pinnedSlots)} slots ÷ ${f.s} per TM) = ${tms} TaskManagers (bounds ${x.job.bounds.minTaskManagers}–${x.job.bounds.maxTaskManagers})`);
  const out: Decision = {
    ...d,
    action,
    targetTaskManagers: tms,
    limitedBy: [...limitedBy],
    figures: x.figures,
    steps: x.steps,
    missing: [...x.missing],
  };
  if (!d.perVertex) delete out.perVertex;
  return order(out);
}

/** No parallelism change: still keep the TaskManager count where the current parallelism needs it. */
function capacityOnly(x: Ctx, f: Finish, d: Omit<Decision, 'figures' | 'steps' | 'missing'>, tmsFor: (p: number) => number): Decision {
  const { snap, job } = x;
  const need = tmsFor(f.cur);
  x.fig('neededTaskManagers', need);
  let out: Decision = { ...d, figures: x.figures, steps: x.steps, missing: [...x.missing] };
  if (job.mode !== 'reactive' && f.curTMs < need && !d.limitedBy.includes('in-progress')) {
    delete x.next.pendingCapacityIn;
    x.step(`slots: ${f.curTMs} TaskManagers × ${f.s} = ${f.curTMs * f.s} slots, but parallelism ${Math.max(f.cur, f.pinnedSlots)} needs ${need} TaskManagers`);
    out = {
      ...out,
      action: 'scale-out-capacity',
      direction: 'up',
      targetTaskManagers: need,
      rule: 'capacity',
      reason: `add TaskManagers ${f.curTMs} → ${need}: parallelism ${f.cur} needs ${need} × ${f.s} slots (${d.reason})`,
    };
  } else if (job.mode !== 'reactive' && f.curTMs > need && !d.limitedBy.includes('in-progress')) {
    const since = x.prev.pendingCapacityIn?.since ?? snap.now;
    x.next.pendingCapacityIn = { since, taskManagers: need };
    const waited = (snap.now - since) / 1000;
    if (waited >= job.scaleDownDelaySeconds) {
      delete x.next.pendingCapacityIn;
      out = {
        ...out,
        action: 'scale-in-capacity',
        direction: 'down',
        targetTaskManagers: need,
        rule: 'capacity',
        reason: `release TaskManagers ${f.curTMs} → ${need}: parallelism ${f.cur} needs only ${need} × ${f.s} slots (${d.reason})`,
      };
    } else {
      x.step(`slots: ${f.curTMs - need} surplus TaskManager(s) for ${fmt(waited)} s of the ${job.scaleDownDelaySeconds} s delay`);
    }
  } else {
    delete x.next.pendingCapacityIn;
  }
  if (out.action === 'none' && job.mode === 'reactive') out.targetTaskManagers = f.curTMs;
  return order(out);
}

/** Stable key order in the JSON output. */
function order(d: Decision): Decision {
  const o: Decision = {
    policy: d.policy,
    action: d.action,
    ...(d.direction ? { direction: d.direction } : {}),
    currentParallelism: d.currentParallelism,
    targetParallelism: d.targetParallelism,
    ...(d.perVertex ? { perVertex: d.perVertex } : {}),
    currentTaskManagers: d.currentTaskManagers,
    targetTaskManagers: d.targetTaskManagers,
    wantedParallelism: d.wantedParallelism,
    rule: d.rule,
    reason: d.reason,
    limitedBy: [...new Set(d.limitedBy)],
    missing: d.missing,
    figures: d.figures,
    steps: d.steps,
  };
  return o;
}

/** The time of the last parallelism or capacity change the snapshot knows about. */
export function lastChangeAt(snap: JobSnapshot): number | undefined {
  const changes = snap.history.decisions.filter((d) => d.action !== 'none' && d.outcome !== 'dry-run' && d.outcome !== 'skipped').map((d) => d.at);
  const all = [...changes, ...(snap.history.lastRescaleAt !== undefined ? [snap.history.lastRescaleAt] : [])];
  return all.length > 0 ? Math.max(...all) : undefined;
}

/**
 * The job's processing rate for rule 9, in source records/s: the capacity of the tightest measured vertex scaled to
 * source units (min over vertices of capacity × total demand ÷ vertex target), or the consume rate while a backlog
 * shows the job is saturated.
 */
function processingRate(x: Ctx, f: Finish): number | undefined {
  const demand = sum(f.measured.filter((c) => c.isSource && c.demand !== undefined).map((c) => c.demand!));
  const tight = f.measured
    .filter((c) => c.capacity !== undefined && c.target !== undefined && c.target > 0)
    .map((c) => (c.capacity! * (demand > 0 ? demand : c.target!)) / c.target!);
  if (tight.length > 0) return x.fig('processingRate', Math.min(...tight));
  if (f.backlog && x.snap.signals.consumeRate !== undefined) return x.fig('processingRate', x.snap.signals.consumeRate);
  return undefined;
}
