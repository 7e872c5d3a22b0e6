/**
 * Small pure helpers: key-group / partition alignment and EWMA smoothing with level-shift detection.
 *
 * Alignment model (seed 004): Flink gives each of p subtasks a contiguous range of the N key groups (or source
 * partitions), so the busiest subtask holds ceil(N/p) of them. A parallelism is *aligned* when no smaller
 * parallelism gives the busiest subtask the same load: p = ceil(N / ceil(N/p)). Divisors of N are aligned (every
 * subtask holds exactly N/p); so are the in-between values that still lower the busiest subtask's share. Any
 * unaligned p wastes subtasks: p' = ceil(N/ceil(N/p)) < p carries the same peak load.
 */

const EPS = 1e-9;

/** Share of the vertex's load carried by its busiest subtask when N units are spread over p subtasks. */
export function busiestShare(n: number | undefined, p: number): number {
  if (n === undefined) return 1 / p;
  if (p >= n) return 1 / n;
  return Math.ceil(n / p) / n;
}

/** p is aligned to N: no smaller parallelism gives the busiest subtask the same number of units. */
export function isAligned(n: number, p: number): boolean {
  return p >= 1 && p <= n && p === Math.ceil(n / Math.ceil(n / p));
}

/**
 * Smallest parallelism whose busiest subtask carries at most 1/r of the load, for a continuous requirement r
 * ("r subtasks' worth of work"). Without units (n undefined) that is ceil(r). With N units the busiest subtask holds
 * ceil(N/p) units, which must be ≤ floor(N/r): p = ceil(N / floor(N/r)). The result is always aligned and ≥ r.
 * Returns N when r > N (more is impossible) and 1 when r ≤ 0.
 */
export function alignUp(n: number | undefined, r: number): number {
  if (!(r > 0)) return 1;
  if (n === undefined) return Math.max(1, Math.ceil(r * (1 - EPS)));
  if (r >= n) return n;
  const k = Math.floor((n / r) * (1 + EPS));
  return Math.ceil(n / k);
}

/** Smallest aligned parallelism ≥ x (x itself when aligned); x when there are no units or x ≥ N. */
export function alignAtLeast(n: number | undefined, x: number): number {
  if (n === undefined || x >= n) return x;
  for (let p = Math.max(1, Math.ceil(x)); p < n; p++) if (isAligned(n, p)) return p;
  return n;
}

/** Largest aligned parallelism ≤ x (the same busiest-subtask load as x with no wasted subtasks). */
export function alignDown(n: number | undefined, x: number): number {
  if (n === undefined) return x;
  if (x >= n) return n;
  return Math.ceil(n / Math.ceil(n / x));
}

/**
 * Divisor-only alignment (`policy.alignment` `divisor`, the operator's EVENLY_SPREAD): the smallest divisor of N in
 * p..limit, else p itself (like the operator's current code, which keeps the value when no divisor fits rather than
 * blocking the change). p is the wanted parallelism already within the bounds; limit is the upper bound for a
 * scale-up and min(current, upper bound) for a scale-down, so the alignment never reverses the direction.
 */
export function alignDivisor(n: number | undefined, p: number, limit: number): number {
  if (n === undefined) return p;
  for (let q = p; q <= Math.min(limit, n); q++) if (n % q === 0) return q;
  return p;
}

/**
 * Divisor-only alignment of a requirement of r subtasks, the operator's way: ceil(r) within lower..upper, then the
 * smallest divisor of N from there up to the upper bound (scale-up) or the current parallelism (scale-down).
 */
export function divisorFit(n: number | undefined, r: number, lower: number, upper: number, current: number): number {
  const p = Math.min(Math.max(lower, alignUp(undefined, r)), upper);
  return p === current ? p : alignDivisor(n, p, p > current ? upper : Math.min(current, upper));
}

/** Largest divisor of N at most x (x when there are no units or x ≥ N: then N). */
export function divisorAtMost(n: number | undefined, x: number): number {
  if (n === undefined) return x;
  for (let q = Math.min(Math.floor(x), n); q > 1; q--) if (n % q === 0) return q;
  return 1;
}

/** Level-shift detector: this many consecutive samples beyond this fraction, all on one side, restart the EWMA. */
export const LEVEL_SHIFT_FRACTION = 0.25;
export const LEVEL_SHIFT_SAMPLES = 2;

export interface Smoothed {
  value: number;
  shiftDir?: 1 | -1;
  shiftN?: number;
  shiftSum?: number;
  shiftBase?: number;
}

/**
 * EWMA (seed 002): s = α·x + (1-α)·s_prev, so noise does not trigger rescales. A real step in load (LEVEL_SHIFT_SAMPLES
 * samples in a row more than LEVEL_SHIFT_FRACTION away from the average, on the same side) restarts the average at
 * the mean of those samples, so the policy reaches the new level in one step instead of creeping towards it.
 */
export function ewma(prev: Smoothed | undefined, x: number, alpha: number): Smoothed & { shifted: boolean } {
  if (!prev) return { value: x, shifted: false };
  // a run of deviating samples is measured against the level before the run started
  const ref = prev.shiftDir !== undefined && prev.shiftBase !== undefined ? prev.shiftBase : prev.value;
  const base = Math.abs(ref);
  const dev = base === 0 ? (x === 0 ? 0 : Math.sign(x - ref)) : (x - ref) / base;
  const dir = Math.abs(dev) > LEVEL_SHIFT_FRACTION ? (Math.sign(dev) as 1 | -1) : undefined;
  const value = alpha * x + (1 - alpha) * prev.value;
  if (dir === undefined) return { value, shifted: false };
  const run =
    prev.shiftDir === dir ? { n: (prev.shiftN ?? 0) + 1, sum: (prev.shiftSum ?? 0) + x, base: ref } : { n: 1, sum: x, base: prev.value };
  if (run.n >= LEVEL_SHIFT_SAMPLES) return { value: run.sum / run.n, shifted: true };
  return { value, shiftDir: dir, shiftN: run.n, shiftSum: run.sum, shiftBase: run.base, shifted: false };
}

/** Formats a number for explanations: thousands separators, up to 3 significant decimals (no Intl: it is slow). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  const d = Number.isInteger(x) || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  let s = x.toFixed(d);
  if (d > 0) s = s.replace(/\.?0+$/, '');
  if (s === '-0') s = '0';
  const dot = s.indexOf('.');
  const int = dot < 0 ? s : s.slice(0, dot);
  const sep = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return dot < 0 ? sep : sep + s.slice(dot);
}

/**
 * Demand trend (seed 002, "predicted load drives allocation"): Holt's linear smoothing on top of the EWMA level. The
 * slope (per second) is itself an EWMA (β = the policy's α) of the level's change between decisions. A trend counts
 * only when the level rose at TREND_SAMPLES decisions in a row, at most TREND_MAX_GAP_SECONDS apart, and the forecast
 * gain over the horizon is at least TREND_MIN_FRACTION of the level: noise and single steps (the level-shift detector
 * handles those) do not count.
 */
export const TREND_SAMPLES = 3;
export const TREND_MAX_GAP_SECONDS = 300;
export const TREND_MIN_FRACTION = 0.01;
/** Lead time for new capacity on top of the restart (TaskManager instance boot and registration). */
export const CAPACITY_LEAD_SECONDS = 60;

export interface Trend {
  at: number;
  level: number;
  slope: number;
  rises: number;
  /** Decisions in a row at which the level fell (a receding load, for the scale-down delay). */
  falls?: number;
}

/** Next trend state; `reset` (a level shift, a gap, a first sample) restarts it at the current level with no slope. */
export function trendStep(prev: Trend | undefined, at: number, level: number, beta: number, reset: boolean): Trend {
  const dt = prev ? (at - prev.at) / 1000 : 0;
  if (!prev || reset || !(dt > 0) || dt > TREND_MAX_GAP_SECONDS) return { at, level, slope: 0, rises: 0, falls: 0 };
  const inst = (level - prev.level) / dt;
  return {
    at,
    level,
    slope: beta * inst + (1 - beta) * prev.slope,
    rises: level > prev.level ? prev.rises + 1 : 0,
    falls: level < prev.level ? (prev.falls ?? 0) + 1 : 0,
  };
}

/** The level fell at TREND_SAMPLES decisions or more in a row: the load is receding, not dipping. */
export function receding(t: Trend | undefined): boolean {
  return t !== undefined && (t.falls ?? 0) >= TREND_SAMPLES && t.slope < 0;
}

/** The demand forecast `horizon` seconds ahead, when the trend is clearly rising; undefined otherwise. */
export function risingForecast(t: Trend, horizonSeconds: number): number | undefined {
  if (t.rises < TREND_SAMPLES || !(t.slope > 0)) return undefined;
  const gain = t.slope * horizonSeconds;
  if (gain < TREND_MIN_FRACTION * Math.abs(t.level)) return undefined;
  return t.level + gain;
}
