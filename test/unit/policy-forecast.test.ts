/**
 * Rule 10, the seasonal forecast: a per-job profile of the demand per time-of-day bucket and day type (weekday /
 * weekend), updated by an EWMA from one day to the next (seed 002), raises the target rate ahead of a recurring peak.
 * Synthetic histories; worked numbers with α = 0.5, 15-minute buckets, lead 600 s, minDays 3.
 */
import { ForecastSchema, type JobConfig } from '../../functions/core/config';
import {
  decide,
  dayTypeOf,
  dayNumber,
  describeForecast,
  forecastAhead,
  observeForecast as observe,
  parseSnapshot,
  ForecastProfileSchema,
  type ForecastProfile,
} from '../../functions/core/policy';
import { chain, job } from './helpers/policy-fixtures';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2026-0105T00:00Z */
const MON = Date.UTC(2026, 0, 5);
const at = (day: number, h: number, m = 0) => MON + day * DAY + h * HOUR + m * MIN;
const settings = (o: Record<string, unknown> = {}) => ForecastSchema.parse({ enabled: true, ...o });

/** One sample a minute over the given days (0 = Monday), rate(day, hour) records/s. */
function history(days: number[], rate: (day: number, h: number) => number, s = settings()): ForecastProfile {
  let p: ForecastProfile | undefined;
  for (const d of days) for (let t = at(d, 0); t < at(d + 1, 0); t += MIN) p = observe(p, t, rate(d, (t - at(d, 0)) / HOUR), s);
  // one sample on the next day folds the last bucket
  return observe(p, at(days[days.length - 1] + 1, 0) + 30_000, 0, s);
}
const peakAt9 = (peak: (d: number) => number) => (d: number, h: number) => (h >= 9 && h < 11 ? peak(d) : 2000);

describe('the profile', () => {
  test('days and day types by arithmetic: 2026-01-05 is a Monday (weekday), 2026-01-10 a Saturday, 01-11 a Sunday', () => {
    expect(dayTypeOf(dayNumber(MON, 0))).toBe('weekday');
    expect(dayTypeOf(dayNumber(at(4, 23, 59), 0))).toBe('weekday');
    expect(dayTypeOf(dayNumber(at(5, 0), 0))).toBe('weekend');
    expect(dayTypeOf(dayNumber(at(6, 12), 0))).toBe('weekend');
    // UTC+2: Friday 23:00 UTC is already Saturday
    expect(dayTypeOf(dayNumber(at(4, 23), 120))).toBe('weekend');
  });

  test('a bucket\'s day value is its highest sample; the EWMA goes 1,000 → 0.5 × 2,000 + 0.5 × 1,000 = 1,500 → 0.5 × 3,000 + 0.5 × 1,500 = 2,250', () => {
    const p = history([0, 1, 2], peakAt9((d) => 1000 * (d + 1)));
    const b = p.buckets['weekday:36']; // 09:00 / 15 min = bucket 36
    expect(b.v).toEqual([1000, 2000, 3000]);
    expect(b.e).toBeCloseTo(2250, 6);
    expect(b.d).toEqual([0, 1, 2].map((d) => dayNumber(at(d, 0), 0)));
    // the quiet buckets: 2,000 every day
    expect(p.buckets['weekday:10']).toMatchObject({ e: 2000, v: [2000, 2000, 2000] });
    // the day's max within a bucket: a single high minute counts
    let q = observe(undefined, at(0, 9, 1), 100, settings());
    q = observe(q, at(0, 9, 2), 900, settings());
    q = observe(q, at(0, 9, 3), 300, settings());
    q = observe(q, at(0, 9, 16), 0, settings());
    expect(q.buckets['weekday:36']).toMatchObject({ v: [900] });
  });

  test('bounded: 7 days of history per bucket, 192 buckets at 15 minutes (about 19 KB as JSON), valid against its schema', () => {
    const p = history([0, 1, 2, 3, 4, 7, 8, 9, 10, 5, 6, 12, 13].sort((a, b) => a - b), peakAt9(() => 8000));
    expect(Object.keys(p.buckets)).toHaveLength(192);
    expect(Math.max(...Object.values(p.buckets).map((b) => b.v.length))).toBe(7);
    expect(JSON.stringify(p).length).toBeLessThan(24_000);
    expect(ForecastProfileSchema.safeParse(JSON.parse(JSON.stringify(p))).success).toBe(true);
  });

  test('a sample not after the newest is ignored; another bucket width restarts the profile', () => {
    const p = history([0], () => 1000);
    expect(observe(p, p.open!.at - 1, 9999, settings())).toEqual(p);
    const q = observe(p, at(1, 1), 500, settings({ bucketMinutes: 30 }));
    expect(q).toMatchObject({ bucketMinutes: 30, buckets: {} });
  });
});

describe('forecastAhead', () => {
  const s = settings();

  test('inactive below minDays: two weekdays of history say nothing (why: fewer than minDays 3)', () => {
    const p = history([0, 1], peakAt9(() => 8000));
    const r = forecastAhead(p, at(2, 8, 55), s);
    expect(r.view).toBeUndefined();
    expect(r.why).toBe('weekday 08:45 holds 2 day(s) of history, fewer than policy.forecast.minDays 3');
    // with minDays 2 it forecasts
    expect(forecastAhead(p, at(2, 8, 55), settings({ minDays: 2 })).view).toMatchObject({ rate: 8000, time: '09:00', days: 2, seen: 2 });
  });

  test('the lead window: at 08:45 the 09:00 bucket is not yet in the next 600 s, at 08:51 it is', () => {
    const p = history([0, 1, 2], peakAt9(() => 8000));
    expect(forecastAhead(p, at(3, 8, 45), s).view).toMatchObject({ rate: 2000, time: '08:45' });
    expect(forecastAhead(p, at(3, 8, 51), s).view).toMatchObject({ rate: 8000, time: '09:00', dayType: 'weekday', days: 3, seen: 3, at: at(3, 9) });
    // after the peak the floor goes: at 11:05 the buckets ahead hold 2,000
    expect(forecastAhead(p, at(3, 11, 5), s).view).toMatchObject({ rate: 2000 });
  });

  test('weekday vs weekend: a Saturday does not use the weekdays\' peaks; the weekends have their own history', () => {
    const p = history([0, 1, 2, 3, 4], peakAt9(() => 8000));
    expect(forecastAhead(p, at(5, 8, 55), s)).toEqual({ why: 'weekend 08:45 holds 0 day(s) of history, fewer than policy.forecast.minDays 3' });
    // three weekend days with a 5,000 rec/s peak at 09:00 (Sat, Sun, the next Sat): a weekend forecast of its own
    const w = history([0, 1, 2, 3, 4, 5, 6, 12], (d, h) => (dayTypeOf(dayNumber(at(d, 0), 0)) === 'weekend' ? (h >= 9 && h < 11 ? 5000 : 1000) : peakAt9(() => 8000)(d, h)));
    expect(forecastAhead(w, at(13, 8, 55), s).view).toMatchObject({ rate: 5000, dayType: 'weekend', days: 3 });
    expect(forecastAhead(w, at(14, 8, 55), s).view).toMatchObject({ rate: 8000, dayType: 'weekday', days: 5 });
  });

  test('confidence: a peak seen on 5 of the last 7 weekdays forecasts its EWMA, 7,531 (values ≥ 80 % of it: 5)', () => {
    // weekday values at 09:00: 2,000, 8,000, 8,000, 2,000, 8,000, 8,000, 8,000 → EWMA 2,000 → 5,000 → 6,500 → 4,250 → 6,125 → 7,062.5 → 7,531.25
    const days = [0, 1, 2, 3, 4, 7, 8];
    const p = history(days, (d, h) => (h >= 9 && h < 11 && d !== 0 && d !== 3 ? 8000 : 2000));
    const v = forecastAhead(p, at(9, 8, 55), s).view!;
    expect(v).toMatchObject({ time: '09:00', days: 7, seen: 5 });
    expect(v.rate).toBeCloseTo(7531.25, 6);
    expect(describeForecast(v)).toBe('forecast: 7,531 rec/s at 09:00, seen 5 of the last 7 weekdays');
  });

  test('a one-off burst is no recurring peak: 8,000 yesterday only (EWMA 5,000; seen 1 of 3) forecasts nothing', () => {
    const p = history([0, 1, 2], (d, h) => (d === 2 && h >= 9 && h < 11 ? 8000 : 2000));
    expect(p.buckets['weekday:36'].e).toBe(5000);
    const r = forecastAhead(p, at(3, 8, 55), s);
    // the 08:45 bucket (2,000 every day) is in the window too; the 09:00 one is left out
    expect(r.view).toMatchObject({ rate: 2000, time: '08:45' });
    expect(forecastAhead(p, at(3, 9, 5), settings({ leadSeconds: 60 }))).toEqual({ why: 'the level at 09:00 was seen on only 1 of the last 3 days (needs most of them)' });
  });
});

describe('decide with the forecast (rule 10)', () => {
  // Work at p = 4, 500 rec/s per subtask; demand now 1,000 rec/s (busy 500 ms/s); the profile: 4,000 rec/s at 09:00
  // on Mon, Tue, Wed. Thursday 08:55: the 09:00 bucket is within the next 600 s.
  const profile = history([0, 1, 2], peakAt9(() => 4000));
  const fjob = (o: Parameters<typeof job>[0] = {}): JobConfig => job({ ...o, policy: { forecast: { enabled: true }, ...o.policy } });
  const snap = (now: number, p = 4, rate = 1000, extra: Record<string, unknown> = { forecast: profile }) =>
    chain({ p, inputRate: rate, busy: (rate / p / 500) * 1000, produceRate: rate, pendingRecords: 0, now, extra: JSON.parse(JSON.stringify(extra)) });

  test('before the peak: up 4 → 12 for 4,000 ÷ 0.7 = 5,714 rec/s ÷ 500 = 11.4 subtasks, explained', () => {
    const d = decide(snap(at(3, 8, 55)), fjob()).decision;
    expect(d).toMatchObject({ action: 'rescale', direction: 'up', targetParallelism: 12, rule: 'rate' });
    expect(d.reason).toContain('(forecast: 4,000 rec/s at 09:00, seen 3 of the last 3 weekdays)');
    expect(d.figures).toMatchObject({ 'forecast.rate': 4000, 'forecast.seenDays': 3, 'forecast.days': 3, 'Source.seasonalTarget': 4000, 'Work.targetRate': 4000 });
    expect(d.steps.join('\n')).toMatch(/Source: target rate 1,000 → 4,000 rec\/s, the forecast/);
  });

  test('no effect when disabled: the same snapshot (profile and all) decides as if there were none', () => {
    const off = decide(snap(at(3, 8, 55)), job()).decision;
    const none = decide(snap(at(3, 8, 55), 4, 1000, {}), job()).decision;
    expect(off).toEqual(none);
    expect(off.action).toBe('none');
    expect(off.steps.join('\n')).not.toMatch(/forecast/);
  });

  test('bounded by the same limits: max parallelism 8, scaleUpMaxFactor 1.5 (→ 6), the cooldown', () => {
    expect(decide(snap(at(3, 8, 55)), fjob({ bounds: { maxParallelism: 8 } })).decision).toMatchObject({ targetParallelism: 8, limitedBy: expect.arrayContaining(['bounds']) });
    expect(decide(snap(at(3, 8, 55)), fjob({ policy: { scaleUpMaxFactor: 1.5 } })).decision).toMatchObject({ targetParallelism: 6, limitedBy: ['scale-up-max-factor'] });
    const cooling = snap(at(3, 8, 55), 4, 1000, { forecast: profile, history: { lastRescaleAt: at(3, 8, 54) } });
    expect(decide(cooling, fjob({ cooldownSeconds: 300 })).decision).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
  });

  test('inactive below minDays and for a job with schedules (they win)', () => {
    const young = history([0, 1], peakAt9(() => 4000));
    const d = decide(snap(at(2, 8, 55), 4, 1000, { forecast: young }), fjob()).decision;
    expect(d.action).toBe('none');
    expect(d.steps.join('\n')).toContain('forecast: none for the next 600 s (weekday 08:45 holds 2 day(s) of history, fewer than policy.forecast.minDays 3)');
    const scheduled = fjob({ schedules: [{ name: 'morning', cron: 'cron(50 8 ? * MON-FRI *)', parallelism: 12 }] });
    const s = decide(snap(at(3, 8, 55)), scheduled).decision;
    expect(s.action).toBe('none');
    expect(s.steps.join('\n')).toContain('forecast: not used, the job has 1 schedule(s), which win');
  });

  test('it holds no capacity it does not justify: within the peak window p 12 stays, after it the scale-down goes ahead', () => {
    // at p 12 with the demand back at 1,000 rec/s: 10:50 still has the peak's buckets ahead, 11:05 has none
    expect(decide(snap(at(3, 10, 50), 12), fjob()).decision).toMatchObject({ action: 'none' });
    // (to 6, not 3: the buckets ahead hold the usual 2,000 rec/s, above the 1,000 now: 2,000 ÷ 0.7 ÷ 500 = 5.7 subtasks)
    expect(decide(snap(at(3, 11, 5), 12), fjob()).decision).toMatchObject({ action: 'rescale', direction: 'down', targetParallelism: 6 });
    // the same readings without a profile: a scale-down at 10:50 too
    expect(decide(snap(at(3, 10, 50), 12, 1000, {}), fjob()).decision).toMatchObject({ action: 'rescale', direction: 'down' });
  });

  test('the snapshot refuses a malformed profile, naming the field', () => {
    expect(() => parseSnapshot({ ...snap(at(3, 8, 55)), forecast: { ...profile, buckets: { 'monday:3': { e: 1, d: [], v: [] } } } })).toThrow(/forecast\.buckets/);
  });
});
