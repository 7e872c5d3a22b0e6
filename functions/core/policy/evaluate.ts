/**
 * Stage 1, evaluate: the vertices (pins, bounds, alignment units), lag, backlog and demand at the sources, and rule 1
 * (the rate-based target of every vertex). Writes figures and steps to the context; decides nothing.
 */
import { CAPACITY_LEAD_SECONDS, TREND_SAMPLES, alignAtLeast, alignDown, alignUp, busiestShare, divisorFit, fmt, risingForecast, trendStep } from './math';
import { topoOrder, type VertexSnapshot } from './snapshot';
import { pct, sum, type Ctx, type VertexCalc } from './context';
import type { JobConfig } from '../config';
import type { Limit } from './types';
import { describeForecast, forecastAhead } from './forecast';

/**
 * The utilization band outside which a vertex is rescaled: `policy.utilizationMin`/`utilizationMax` when set, else
 * target ± boundary (the operator's utilization.min/max over target.utilization ± target.utilization.boundary).
 */
export function utilizationBand(pol: JobConfig['policy']): { min: number; max: number } {
  return {
    min: pol.utilizationMin ?? Math.max(0, pol.targetUtilization - pol.utilizationBoundary),
    max: Math.min(1, pol.utilizationMax ?? pol.targetUtilization + pol.utilizationBoundary),
  };
}

/** policy.observedTrueProcessingRate: a sample with at least this backpressure (ms/s) is not backpressure-free. */
export const BACKPRESSURE_FREE_MS = 100;

/** Observed restart durations considered (newest first). */
export const RESTART_SAMPLES = 5;

export interface Evaluation {
  s: number;
  maxSlots: number;
  order: VertexSnapshot[];
  calcs: Map<string, VertexCalc>;
  all: VertexCalc[];
  free: VertexCalc[];
  sources: VertexCalc[];
  measured: VertexCalc[];
  pinnedSlots: number;
  cur: number;
  curTMs: number;
  lagRecords?: number;
  backlogSeconds?: number;
  backlog: boolean;
  consume?: number;
  produce?: number;
  u: number;
  uMin: number;
  uMax: number;
  catchUpSec: number;
  restartSec: number;
}

export function evaluate(x: Ctx): Evaluation {
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
    // divisor mode (the operator's): sources with known partitions align to them, keyed vertices to their key groups
    const byPartitions = pol.alignment === 'source-partitions' || pol.alignment === 'divisor';
    if (byPartitions && isSource && partitions !== undefined) [units, unitsKind] = [partitions, 'partitions'];
    else if (pol.alignment !== 'off' && v.keyedInput) [units, unitsKind] = [v.maxParallelism, 'key groups'];
    const upperWhy: Limit[] = [];
    let upper = job.bounds.maxParallelism;
    if (v.maxParallelism < upper) [upper, upperWhy[0]] = [v.maxParallelism, 'bounds'];
    if (maxSlots < upper) [upper, upperWhy[0]] = [maxSlots, 'max-task-managers'];
    // a source never uses more subtasks than partitions, in every mode (the job-level value may still be higher)
    if (partitions !== undefined && partitions < upper) [upper, upperWhy[0]] = [partitions, 'source-partitions'];
    if (upperWhy.length === 0) upperWhy.push('bounds');
    calcs.set(v.id, {
      v,
      key: (names.get(v.name) ?? 0) > 1 ? `${v.name}#${v.id}` : v.name,
      pinned,
      isSource,
      units,
      unitsKind,
      ...(partitions !== undefined ? { partitions } : {}),
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
  const band = utilizationBand(pol);
  const uMax = x.fig('utilizationMax', backlog ? 1 : band.max);
  // during a backlog the scale-down is frozen in finish(), which says so (limitedBy 'backlog-freeze')
  const uMin = x.fig('utilizationMin', band.min);
  const catchUpSec = x.fig('catchUpSeconds', pol.catchUpSeconds);
  const observed = x.snap.history.restartSeconds.slice(-RESTART_SAMPLES);
  const restartSec = x.fig('restartSeconds', observed.length > 0 ? Math.min(3600, Math.max(...observed)) : pol.restartSeconds);
  x.step(
    `utilization band ${pct(uMin)}–${pct(uMax)} around target ${pct(u)}${backlog ? ' (backlog: up to 100%, no scale-down)' : ''}; restart time ${fmt(restartSec)} s ${observed.length > 0 ? `(max of last ${observed.length} observed)` : '(configured)'}`,
  );

  const seasonal = seasonalForecast(x, sources);

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
      if (seasonal !== undefined && c.demand !== undefined) {
        // rule 10: a recurring peak within the lead window raises the target rate (never lowers it)
        const share = seasonal * srcWeight(c);
        if (share > c.target!) {
          x.step(`${c.key}: target rate ${fmt(c.target!)} → ${fmt(share)} rec/s, the forecast${sources.length > 1 ? ` × its share ${pct(srcWeight(c))} of the sources` : ''}`);
          x.fig(`${c.key}.seasonalTarget`, share);
          c.target = share;
        }
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
        // an upstream rate so small that the ratio overflows (5e-324 rec/s) says nothing: no rate-based target, as
        // with an unknown upstream target (it read "needs Infinity subtasks" and went to the maximum; found by fuzzing)
        if (!Number.isFinite(ratio)) {
          ok = false;
          break;
        }
        t += up.target * ratio;
        cu += (up.catchUp ?? 0) * ratio;
      }
      if (ok) [c.target, c.catchUp] = [t, cu];
    }
    // capacity per subtask from busy time
    const busy = v.busyTimeMsPerSecond;
    // a source with more subtasks than partitions: only as many subtasks as partitions read, each one partition
    const shareUnits = c.units ?? (c.partitions !== undefined && v.parallelism > c.partitions ? c.partitions : undefined);
    let capRaw: number | undefined;
    if (v.inputRate !== undefined && busy !== undefined && v.inputRate > 0 && busy > 0) {
      capRaw = (v.inputRate * busiestShare(shareUnits, v.parallelism)) / (busy / 1000);
      // subnormal rates or busy times (5e-324) make it 0 or Infinity: unmeasured, never smoothed into the state
      // (an Infinity there is written as null, and the next `decide --state` refuses the file; found by fuzzing)
      if (!(capRaw > 0 && Number.isFinite(capRaw))) capRaw = undefined;
    }
    // keyed by parallelism: a rescale restarts the average (per-subtask capacity need not scale linearly)
    const capKey = `cap:${v.id}@${v.parallelism}`;
    const bp = v.backpressureMsPerSecond ?? 0;
    // policy.observedTrueProcessingRate: a backpressured sample does not move an estimate from backpressure-free ones
    const held = capRaw !== undefined && pol.observedTrueProcessingRate && bp >= BACKPRESSURE_FREE_MS && x.prev.smoothed[capKey] !== undefined;
    if (capRaw !== undefined && pol.observedTrueProcessingRate && bp >= BACKPRESSURE_FREE_MS) {
      x.step(
        `${c.key}: backpressured ${fmt(bp)} ms/s (≥ ${BACKPRESSURE_FREE_MS}): ${held ? 'capacity kept from the backpressure-free samples' : 'no backpressure-free sample at this parallelism yet, this one is used'}`,
      );
    }
    if (capRaw !== undefined && !held) c.cap = x.smooth(capKey, capRaw);
    else c.cap = x.carry(capKey);
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
    // a capacity so small (subnormal rates, 5e-324 rec/s) that the required parallelism overflows sizes nothing:
    // unmeasured, not "needs Infinity subtasks" (found by fuzzing)
    if (c.cap === undefined || !Number.isFinite(c.need / c.cap)) continue;
    if (busy !== undefined && v.inputRate !== undefined) x.fig(`${c.key}.busyFraction`, busy / 1000);
    x.fig(`${c.key}.capacityPerSubtask`, c.cap);
    c.r = x.fig(`${c.key}.requiredParallelism`, c.need / c.cap);
    const divisor = pol.alignment === 'divisor';
    const limits: string[] = [];
    const capNote = `capped at ${c.upper} (${c.upperWhy.join(', ')})`;
    const lowNote = `raised to the minimum ${c.lower}`;
    let want: number;
    if (divisor) {
      // operator parity: the smallest divisor of the partitions / key groups at or above the wanted value
      want = divisorFit(c.units, c.r, c.lower, c.upper, v.parallelism);
      c.aligned = c.units !== undefined && want !== Math.min(Math.max(c.lower, alignUp(undefined, c.r)), c.upper);
      if (c.r > c.upper) limits.push(capNote);
      else if (alignUp(undefined, c.r) < c.lower) limits.push(lowNote);
    } else {
      want = alignUp(c.units, c.r);
      c.aligned = c.units !== undefined && want !== alignUp(undefined, c.r);
      if (want > c.upper) {
        want = Math.max(alignDown(c.units, c.upper), Math.min(c.upper, v.parallelism));
        limits.push(capNote);
      }
      if (want < c.lower) {
        want = c.lower;
        // the smallest aligned parallelism at or above the minimum (not alignUp(lower), which treats the minimum as a
        // load requirement and can step past an aligned minimum: 128 key groups, minimum 5 → 6)
        const up = alignAtLeast(c.units, c.lower);
        if (up <= c.upper) want = up;
        limits.push(lowNote);
      }
    }
    c.capped = c.r > c.upper;
    c.want = x.fig(`${c.key}.wantedParallelism`, want);
    // what the level alone needs (no backlog to work off): a scale-up's catch-up capacity above it is given back
    const levelR = (c.need - c.catchUp!) / c.cap;
    const levelFit = divisor ? divisorFit(c.units, levelR, c.lower, c.upper, v.parallelism) : Math.max(c.lower, Math.min(c.upper, alignUp(c.units, levelR)));
    c.levelWant = c.catchUp! > 0 ? Math.min(want, levelFit) : want;
    c.capacity = c.cap / busiestShare(shareUnits, v.parallelism);
    const upAt = c.catchUp! + c.target / uMax;
    const downAt = uMin > 0 ? c.catchUp! + restartComp + c.target / uMin : Infinity;
    c.outsideUp = c.capacity < upAt;
    c.outsideDown = c.capacity > downAt;
    x.fig(`${c.key}.capacity`, c.capacity);
    const inShare = busy !== undefined && v.inputRate !== undefined && v.inputRate > 0 && busy > 0;
    x.step(
      `${c.key}: ` +
        (inShare
          ? `capacity per subtask = ${fmt(v.inputRate!)} rec/s × ${shareUnits ? `${Math.ceil(shareUnits / Math.min(v.parallelism, shareUnits))}/${shareUnits} ${c.unitsKind ?? 'partitions'}` : `1/${v.parallelism}`} ÷ ${fmt(busy! / 1000)} busy = ${fmt(capRaw!)} (smoothed ${fmt(c.cap)}) rec/s; `
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
  return { s, maxSlots, order, calcs, all, free, sources, measured, pinnedSlots, cur, curTMs, lagRecords, backlogSeconds, backlog, consume, produce, u, uMin, uMax, catchUpSec, restartSec };
}

/**
 * Rule 10: the demand the seasonal profile expects within the lead window (all sources together), when it is above
 * the demand now; undefined when the forecast is off, inactive (too little history, a level not seen on most days),
 * when the job has schedules (they win) or when it expects no more than now. Steps say which.
 */
function seasonalForecast(x: Ctx, sources: VertexCalc[]): number | undefined {
  const cfg = x.job.policy.forecast;
  if (!cfg.enabled) return undefined;
  if (x.job.schedules.length > 0) {
    x.step(`forecast: not used, the job has ${x.job.schedules.length} schedule(s), which win`);
    return undefined;
  }
  if (!x.snap.forecast) {
    x.missing.add('forecast profile (policy.forecast is on)');
    return undefined;
  }
  const r = forecastAhead(x.snap.forecast, x.snap.now, cfg);
  if (!r.view) {
    x.step(`forecast: none for the next ${fmt(cfg.leadSeconds)} s (${r.why})`);
    return undefined;
  }
  const v = r.view;
  x.fig('forecast.rate', v.rate);
  x.fig('forecast.at', v.at);
  x.fig('forecast.seenDays', v.seen);
  x.fig('forecast.days', v.days);
  const now = sum(sources.map((c) => c.demand ?? 0));
  if (!(v.rate > now)) {
    x.step(`forecast: ${fmt(v.rate)} rec/s within the next ${fmt(cfg.leadSeconds)} s, not above the demand now (${fmt(now)} rec/s)`);
    return undefined;
  }
  x.forecast = describeForecast(v);
  x.step(`${x.forecast}: above the demand now (${fmt(now)} rec/s) within the next ${fmt(cfg.leadSeconds)} s (policy.forecast.leadSeconds); it raises the target rate ahead of the peak`);
  return v.rate;
}
