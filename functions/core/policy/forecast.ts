/**
 * Rule 10, the seasonal forecast: the job's own daily and weekly shape, learned from the demand samples the scaler
 * takes, so that capacity is raised before a recurring peak instead of after it.
 *
 * The profile: per day type (weekday Mon-Fri, weekend Sat-Sun) and time-of-day bucket (`bucketMinutes`), the day's
 * value of the bucket (the highest demand sample in it that day), the last FORECAST_HISTORY_DAYS such values, and
 * their EWMA from one day to the next (seed 002: s = α·x + (1 − α)·s_prev, α = `policy.forecast.alpha`). Bounded: at
 * most 2 × 1440 ÷ bucketMinutes buckets of FORECAST_HISTORY_DAYS values each (15-min buckets: 192 × 7).
 *
 * The forecast for the next `leadSeconds`: the highest EWMA over the buckets that start before now + lead and end
 * after now, among the buckets that (a) hold at least `minDays` days of history of their day type, and (b) saw that
 * level on most of them ("seen N of the last M weekdays": N days whose value was ≥ FORECAST_SEEN_FRACTION × the
 * EWMA, N > M ÷ 2), so a one-off burst yesterday does not become tomorrow's floor.
 *
 * Pure: no clock (time is passed in), no I/O; day numbers and weekdays by arithmetic on epoch milliseconds.
 */
import * as z from 'zod';
import { int, num, strict, type JobConfig } from '../config';
import { fmt } from './math';

export const DAY_MS = 86_400_000;
/** Days of history kept per bucket (and the largest `minDays`). */
export const FORECAST_HISTORY_DAYS = 7;
/** A day "saw" the forecast level when its value in the bucket was at least this fraction of it. */
export const FORECAST_SEEN_FRACTION = 0.8;

export type DayType = 'weekday' | 'weekend';
export type ForecastSettings = JobConfig['policy']['forecast'];

const rate = num(0, Number.MAX_SAFE_INTEGER, 'a rate in records/s');
const dayNo = int(0, 100_000, 'a day number (days since 1970-01-01)');

export const ProfileBucketSchema = strict({
  e: rate.describe('EWMA over days of the bucket value (records/s)'),
  d: z.array(dayNo, { error: 'must be an array of day numbers' }).max(FORECAST_HISTORY_DAYS).describe('Days of the values, oldest first'),
  v: z.array(rate, { error: 'must be an array of rates' }).max(FORECAST_HISTORY_DAYS).describe('The bucket value of each of those days: the highest demand sample in it (records/s)'),
});
export type ProfileBucket = z.infer<typeof ProfileBucketSchema>;

export const ForecastProfileSchema = strict({
  version: z.literal(1, { error: 'must be 1' }),
  bucketMinutes: int(1, 1440).describe('Width of a bucket, minutes (the profile restarts when the config changes it)'),
  utcOffsetMinutes: int(-720, 840).describe('Offset of the profile time of day from UTC, minutes'),
  buckets: z
    .record(z.string().regex(/^(weekday|weekend):\d{1,4}$/, { error: 'keys must be "weekday:<bucket>" or "weekend:<bucket>"' }), ProfileBucketSchema)
    .refine((b) => Object.keys(b).length <= 2 * 1440, { error: 'must have at most 2880 buckets' })
    .default({})
    .describe('Per "<day type>:<bucket index>": the history of that time of day'),
  open: strict({
    day: dayNo,
    bucket: int(0, 1439),
    max: rate.describe('Highest sample so far in the bucket being filled'),
    at: int(946_684_800_000, 4_102_444_800_000, 'epoch milliseconds').describe('Time of the newest sample'),
  })
    .optional()
    .describe('The bucket being filled now; folded into `buckets` once a sample falls into another one'),
});
export type ForecastProfile = z.infer<typeof ForecastProfileSchema>;

/** Day number (days since 1970-01-01) of a time, in the profile's offset. */
export function dayNumber(at: number, utcOffsetMinutes: number): number {
  return Math.floor((at + utcOffsetMinutes * 60_000) / DAY_MS);
}

/** 1970-01-01 was a Thursday: day 0 → weekday index 4 (0 = Sunday). */
export function dayTypeOf(day: number): DayType {
  const wd = (((day + 4) % 7) + 7) % 7;
  return wd === 0 || wd === 6 ? 'weekend' : 'weekday';
}

export function bucketOf(at: number, s: Pick<ForecastSettings, 'bucketMinutes' | 'utcOffsetMinutes'>): { day: number; bucket: number } {
  const local = at + s.utcOffsetMinutes * 60_000;
  const day = Math.floor(local / DAY_MS);
  return { day, bucket: Math.floor((local - day * DAY_MS) / (s.bucketMinutes * 60_000)) };
}

export function emptyProfile(s: Pick<ForecastSettings, 'bucketMinutes' | 'utcOffsetMinutes'>): ForecastProfile {
  return { version: 1, bucketMinutes: s.bucketMinutes, utcOffsetMinutes: s.utcOffsetMinutes, buckets: {} };
}

/** Adds one day's value of a bucket to its history and its EWMA (a second value for the same day keeps the higher). */
function fold(p: ForecastProfile, day: number, bucket: number, value: number, alpha: number): void {
  const key = `${dayTypeOf(day)}:${bucket}`;
  const b = p.buckets[key];
  if (!b) {
    p.buckets[key] = { e: value, d: [day], v: [value] };
    return;
  }
  const last = b.d.length - 1;
  if (last >= 0 && b.d[last] === day) {
    // the same day again (samples out of order): the day's value is its highest; the EWMA is redone from the history
    b.v[last] = Math.max(b.v[last], value);
    b.e = b.v.reduce((e, x, i) => (i === 0 ? x : alpha * x + (1 - alpha) * e), 0);
    return;
  }
  if (last >= 0 && day < b.d[last]) return; // older than what the bucket holds: ignored
  const d = [...b.d, day].slice(-FORECAST_HISTORY_DAYS);
  const v = [...b.v, value].slice(-FORECAST_HISTORY_DAYS);
  p.buckets[key] = { e: alpha * value + (1 - alpha) * b.e, d, v };
}

/**
 * The profile after one demand sample (records/s at `at`). A profile made with another bucket width or offset
 * restarts; a sample not after the newest one is ignored. Returns a new profile (the input is not changed).
 */
export function observe(profile: ForecastProfile | undefined, at: number, rate: number, s: ForecastSettings): ForecastProfile {
  const same = profile && profile.bucketMinutes === s.bucketMinutes && profile.utcOffsetMinutes === s.utcOffsetMinutes;
  const p: ForecastProfile = same ? { ...profile, buckets: { ...profile.buckets } } : emptyProfile(s);
  if (!(rate >= 0) || !Number.isFinite(rate)) return p;
  const { day, bucket } = bucketOf(at, s);
  const o = p.open;
  if (o && at <= o.at) return p;
  if (o && (o.day !== day || o.bucket !== bucket)) {
    fold(p, o.day, o.bucket, o.max, s.alpha);
    delete p.open;
  }
  p.open = p.open ? { ...p.open, max: Math.max(p.open.max, rate), at } : { day, bucket, max: rate, at };
  return p;
}

/** What the forecast says for the next lead window, or why it says nothing. */
export interface ForecastView {
  /** The forecast demand (records/s): the bucket's EWMA. */
  rate: number;
  /** Start of the bucket (epoch ms). */
  at: number;
  /** "09:30", in the profile's offset. */
  time: string;
  dayType: DayType;
  /** Days of history of the bucket (M) and on how many the level was seen (N). */
  days: number;
  seen: number;
}

export interface ForecastResult {
  view?: ForecastView;
  /** Why there is no forecast (for the decision's steps). */
  why?: string;
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** Days of a bucket's history on which its value reached FORECAST_SEEN_FRACTION of `level`. */
export function seenDays(b: ProfileBucket, level: number): number {
  return b.v.filter((x) => x >= FORECAST_SEEN_FRACTION * level).length;
}

/**
 * The highest recurring demand the profile expects in [now, now + leadSeconds]: over the buckets that overlap it, each
 * with at least `minDays` days of history of its day type and its level seen on most of them.
 */
export function forecastAhead(profile: ForecastProfile | undefined, now: number, s: ForecastSettings): ForecastResult {
  if (!profile || Object.keys(profile.buckets).length === 0) return { why: 'no history yet' };
  if (profile.bucketMinutes !== s.bucketMinutes || profile.utcOffsetMinutes !== s.utcOffsetMinutes) return { why: 'the profile was made with another bucket width or offset; it restarts' };
  const width = s.bucketMinutes * 60_000;
  const off = s.utcOffsetMinutes * 60_000;
  const end = now + s.leadSeconds * 1000;
  let best: ForecastView | undefined;
  let fewest: { days: number; key: string } | undefined;
  let unseen: { seen: number; days: number; time: string } | undefined;
  // bucket starts (in local time) from the one holding now to the last one starting before the window ends
  for (let start = Math.floor((now + off) / width) * width; start < end + off; start += width) {
    const day = Math.floor(start / DAY_MS);
    const bucket = Math.round((start - day * DAY_MS) / width);
    const type = dayTypeOf(day);
    const b = profile.buckets[`${type}:${bucket}`];
    const time = hhmm(bucket * s.bucketMinutes);
    if (!b || b.v.length < s.minDays) {
      const n = b?.v.length ?? 0;
      if (!fewest || n < fewest.days) fewest = { days: n, key: `${type} ${time}` };
      continue;
    }
    const seen = seenDays(b, b.e);
    if (seen * 2 <= b.v.length) {
      unseen ??= { seen, days: b.v.length, time };
      continue;
    }
    if (!best || b.e > best.rate) best = { rate: b.e, at: start - off, time, dayType: type, days: b.v.length, seen };
  }
  if (best) return { view: best };
  if (unseen) return { why: `the level at ${unseen.time} was seen on only ${unseen.seen} of the last ${unseen.days} days (needs most of them)` };
  return { why: `${fewest ? `${fewest.key} holds ${fewest.days} day(s) of history` : 'no bucket in the window'}, fewer than policy.forecast.minDays ${s.minDays}` };
}

/** "forecast: 14,200 rec/s at 09:30, seen 5 of the last 7 weekdays" */
export function describeForecast(v: ForecastView): string {
  return `forecast: ${fmt(v.rate)} rec/s at ${v.time}, seen ${v.seen} of the last ${v.days} ${v.dayType}${v.days === 1 ? '' : 's'}`;
}
