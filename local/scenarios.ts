/**
 * Load scenarios for the simulator and the benchmark: input rate (records/s) as a function of virtual time, per job,
 * plus the job's shape in the emulator (per-subtask capacity, starting parallelism, bounds). Noise comes from a
 * seeded PRNG, so the same scenario and seed give the same run.
 */
import { fit, peakRate } from './oracle';

export type RateFn = (tMs: number) => number;

export interface ScenarioJob {
  /** Job name (matches a job of the simulated config). */
  name: string;
  /** Records/s one subtask of the bottleneck operator can process at 100 % busy. */
  perSubtaskCapacity: number;
  initialParallelism: number;
  slotsPerTaskManager: number;
  minParallelism: number;
  maxParallelism: number;
  /** Flink maxParallelism (key groups). */
  jobMaxParallelism: number;
  maxTaskManagers: number;
  rate: RateFn;
  /** Virtual ms at which the load changes in a step (for "steps to converge after a step change"). */
  steps?: number[];
}

export interface Scenario {
  name: string;
  description: string;
  durationMs: number;
  /** Epoch ms at virtual time zero (default 2026-01-01T00:00:00Z, a Thursday): where time of day and weekday matter. */
  startEpochMs?: number;
  /** Long (days): not in the default bench matrix (`npm run bench`); name it in BENCH_SCENARIOS. */
  long?: boolean;
  jobs: ScenarioJob[];
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Multiplicative noise that is a pure function of (seed, time bucket): same inputs, same output, in any call order. */
function noise(seed: number, amplitude: number, bucketMs = 10_000): (t: number) => number {
  return (t) => {
    const r = prng((seed * 1_000_003) ^ Math.floor(t / bucketMs))();
    return 1 + amplitude * (2 * r - 1);
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2026-01-05T00:00:00Z. */
export const MONDAY_2026_01_05 = 1_767_571_200_000;

/** The utilization the starting parallelism is sized for: the policy's default target (config.ts `targetUtilization`). */
export const START_UTILIZATION = 0.7;

/**
 * A scenario job; unless given, it starts at the parallelism its first minute needs at the target utilization, so no
 * policy is charged for an overload it inherited.
 */
const job = (over: Partial<ScenarioJob> & Pick<ScenarioJob, 'name' | 'rate'>): ScenarioJob => {
  const j = { perSubtaskCapacity: 1000, slotsPerTaskManager: 2, minParallelism: 1, maxParallelism: 32, jobMaxParallelism: 128, maxTaskManagers: 16, ...over };
  return { ...j, initialParallelism: over.initialParallelism ?? fit(j, peakRate(j, 0, 60_000), START_UTILIZATION).parallelism };
};

/** The scenarios shipped with flink-elastic. `seed` drives their noise. */
export function scenarios(seed = 1): Record<string, Scenario> {
  const n = (amp: number, s = 0) => noise(seed + s, amp);
  const list: Scenario[] = [
    {
      name: 'step-spike',
      description: 'Steady 1,500 rec/s, then a step to 6,000 rec/s for 40 min, then back',
      durationMs: 90 * MIN,
      jobs: [
        job({
          name: 'orders',
          steps: [15 * MIN, 55 * MIN],
          rate: ((f) => (t: number) => (t >= 15 * MIN && t < 55 * MIN ? 6000 : 1500) * f(t))(n(0.03)),
        }),
      ],
    },
    {
      name: 'diurnal-day',
      description: 'A 24 h day: quiet night (800 rec/s), morning ramp, midday peak (9,000 rec/s), evening decline',
      durationMs: 24 * HOUR,
      jobs: [
        job({
          name: 'orders',
          initialParallelism: 2,
          rate: ((f) => (t: number) => {
            const h = (t / HOUR) % 24;
            const base = 800 + 8200 * Math.max(0, Math.sin((Math.PI * (h - 6)) / 16)) ** 2;
            return base * f(t);
          })(n(0.05)),
        }),
      ],
    },
    {
      name: 'flash-crowd',
      description: 'Steady 2,000 rec/s; a 12x burst for 10 min that decays over 20 min',
      durationMs: 90 * MIN,
      jobs: [
        job({
          name: 'orders',
          steps: [20 * MIN],
          rate: ((f) => (t: number) => {
            const s = 20 * MIN;
            if (t < s) return 2000 * f(t);
            if (t < s + 10 * MIN) return 24_000 * f(t);
            const decay = Math.exp(-(t - s - 10 * MIN) / (7 * MIN));
            return (2000 + 22_000 * decay) * f(t);
          })(n(0.03)),
        }),
      ],
    },
    {
      name: 'slow-ramp',
      description: 'Load doubles three times over 3 h, gradually (1,000 → 8,000 rec/s)',
      durationMs: 3 * HOUR,
      jobs: [job({ name: 'orders', rate: ((f) => (t: number) => 1000 * 2 ** ((3 * t) / (3 * HOUR)) * f(t))(n(0.02)) })],
    },
    {
      name: 'noisy',
      description: 'Noisy load (±25 % every 5 s) around 2,800 rec/s, the target utilization (70 %) of the starting capacity: must not flap',
      durationMs: 2 * HOUR,
      jobs: [job({ name: 'orders', initialParallelism: 4, rate: ((f) => (t: number) => 2800 * f(t))(noise(seed + 7, 0.25, 5_000)) })],
    },
    {
      name: 'weekday-peaks',
      description:
        'Five weekdays (Mon 2026-01-05 to Fri, UTC): 2,000 rec/s, a ramp at 08:50-09:00 to a 4x morning peak (8,000 rec/s ±4 % by day) until 11:00, down by 11:30; weekends flat',
      durationMs: 5 * DAY,
      startEpochMs: MONDAY_2026_01_05,
      long: true,
      jobs: [
        job({
          name: 'orders',
          rate: ((f, seed) => (t: number) => {
            const day = Math.floor(t / DAY);
            // Monday at t = 0: days 5 and 6 of each week are Saturday and Sunday
            const weekend = day % 7 >= 5;
            const h = (t - day * DAY) / HOUR;
            const peak = 8000 * (1 + 0.04 * (2 * prng(seed * 7919 + day)() - 1));
            let r = 2000;
            if (!weekend) {
              if (h >= 8 + 50 / 60 && h < 9) r = 2000 + (peak - 2000) * ((h - 8 - 50 / 60) * 6);
              else if (h >= 9 && h < 11) r = peak;
              else if (h >= 11 && h < 11.5) r = peak - (peak - 2000) * ((h - 11) * 2);
            }
            return r * f(t);
          })(n(0.03, 4), seed),
        }),
      ],
    },
    {
      name: 'multi-tenant',
      description: 'Three tenants with different bounds and peaks at different times of day',
      durationMs: 12 * HOUR,
      jobs: [
        job({ name: 'tenant-a', steps: [2 * HOUR, 5 * HOUR], maxParallelism: 16, maxTaskManagers: 8, rate: ((f) => (t: number) => (t > 2 * HOUR && t < 5 * HOUR ? 9000 : 1500) * f(t))(n(0.04, 1)) }),
        job({ name: 'tenant-b', steps: [6 * HOUR, 10 * HOUR], perSubtaskCapacity: 500, maxParallelism: 24, maxTaskManagers: 12, slotsPerTaskManager: 2, rate: ((f) => (t: number) => (t > 6 * HOUR && t < 10 * HOUR ? 7000 : 800) * f(t))(n(0.04, 2)) }),
        job({ name: 'tenant-c', minParallelism: 2, maxParallelism: 8, maxTaskManagers: 4, jobMaxParallelism: 256, rate: ((f) => (t: number) => (1500 + 1500 * Math.sin((2 * Math.PI * t) / (4 * HOUR)) ** 2) * f(t))(n(0.04, 3)) }),
      ],
    },
  ];
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

export const SCENARIO_NAMES = Object.keys(scenarios());
/** The scenarios `npm run bench` runs unless BENCH_SCENARIOS names others (the long ones take minutes each). */
export const BENCH_SCENARIO_NAMES = Object.values(scenarios()).filter((s) => !s.long).map((s) => s.name);

export class TraceError extends Error {}

/**
 * Parses a recorded trace: CSV with a header `time,records_per_second` (time in seconds from the start, or an ISO
 * timestamp), one row per sample. Returns a step-wise rate function and the trace duration.
 */
export function parseTrace(csv: string, file = 'trace'): { rate: RateFn; durationMs: number } {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length < 2) throw new TraceError(`${file}: needs a header "time,records_per_second" and at least one row`);
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('time');
  const ri = header.findIndex((h) => h === 'records_per_second' || h === 'rate');
  if (ti < 0 || ri < 0) throw new TraceError(`${file}: line 1: header must name columns "time" and "records_per_second" (got "${lines[0]}")`);
  const points: [number, number][] = [];
  let t0: number | undefined;
  lines.slice(1).forEach((line, i) => {
    const cols = line.split(',').map((c) => c.trim());
    const where = `${file}: line ${i + 2}`;
    const rawT = cols[ti];
    let t = Number(rawT);
    if (!Number.isFinite(t)) {
      const parsed = Date.parse(rawT ?? '');
      if (Number.isNaN(parsed)) throw new TraceError(`${where}: time must be seconds from the start or an ISO timestamp (got "${rawT}")`);
      t0 ??= parsed;
      t = (parsed - t0) / 1000;
    }
    const r = Number(cols[ri]);
    if (!Number.isFinite(r) || r < 0) throw new TraceError(`${where}: records_per_second must be a number ≥ 0 (got "${cols[ri]}")`);
    if (points.length && t * 1000 <= points[points.length - 1][0]) throw new TraceError(`${where}: time must increase (got ${rawT} after the previous row)`);
    points.push([t * 1000, r]);
  });
  const start = points[0][0];
  const shifted = points.map(([t, r]) => [t - start, r] as [number, number]);
  const durationMs = shifted[shifted.length - 1][0] + (shifted.length > 1 ? shifted[1][0] - shifted[0][0] : 60_000);
  const rate: RateFn = (t) => {
    let lo = 0;
    let hi = shifted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (shifted[mid][0] <= t) lo = mid;
      else hi = mid - 1;
    }
    return shifted[lo][1];
  };
  return { rate, durationMs };
}

/**
 * A synthetic recorded trace for long replays (`simulate --trace`, `npm run bench -- simspeed`): `days` days of a
 * diurnal shape (quiet nights, a midday peak) times a weekly one (weekends at 60 %), with seeded noise; one row per
 * `stepSeconds`. CSV `time,records_per_second`, time in seconds from the start. Same arguments, same text.
 */
export function diurnalWeeklyTrace(opts: { days?: number; seed?: number; stepSeconds?: number; peak?: number; base?: number } = {}): string {
  const days = opts.days ?? 30;
  const step = opts.stepSeconds ?? 60;
  const peak = opts.peak ?? 5200;
  const base = opts.base ?? 900;
  if (!(days > 0 && days <= 366)) throw new RangeError(`days must be > 0 and ≤ 366 (got ${days})`);
  if (!Number.isInteger(step) || step < 1 || step > 3600) throw new RangeError(`stepSeconds must be an integer from 1 to 3600 (got ${step})`);
  const rnd = prng(((opts.seed ?? 1) * 2_654_435_761) >>> 0);
  const rows = ['time,records_per_second'];
  const n = Math.round((days * 86_400) / step);
  for (let i = 0; i < n; i++) {
    const t = i * step;
    const h = (t / 3600) % 24;
    const day = Math.floor(t / 86_400) % 7;
    const weekly = day >= 5 ? 0.6 : 1;
    const diurnal = base + (peak - base) * Math.max(0, Math.sin((Math.PI * (h - 6)) / 16)) ** 2;
    rows.push(`${t},${Math.round(diurnal * weekly * (1 + 0.06 * (2 * rnd() - 1)))}`);
  }
  return rows.join('\n') + '\n';
}
