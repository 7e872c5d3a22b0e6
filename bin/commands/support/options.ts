/**
 * Option parsing shared by the commands: integers in a range, durations ("300s", "5m", "1h", "1h30m", "90"), job
 * names. Every error names the option and the allowed range; commander turns it into exit code 2.
 */
import { InvalidArgumentError } from 'commander';
import { JOB_NAME_PATTERN as JOB_NAME } from '../../../functions/core/config';

export const intIn = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max} (got "${v}")`);
  return n;
};

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds in a duration like "300", "300s", "5m", "1h", "1h30m", "1.5m", "500ms"; undefined when not a duration. */
export function durationSeconds(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) return undefined;
  return parts.reduce((a, p) => a + Number(p[1]) * UNIT_SECONDS[p[2]], 0);
}

const fmt = (s: number) => (s >= 3600 && s % 3600 === 0 ? `${s / 3600}h` : s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`);

/** A duration option, in seconds, within [min, max] seconds. */
export const durationIn = (name: string, minSeconds: number, maxSeconds: number) => (v: string) => {
  const s = durationSeconds(v);
  if (s === undefined) throw new InvalidArgumentError(`${name} must be a duration like 300s, 5m or 1h (got "${v}")`);
  if (s < minSeconds || s > maxSeconds) throw new InvalidArgumentError(`${name} must be from ${fmt(minSeconds)} to ${fmt(maxSeconds)} (got "${v}" = ${s} s)`);
  return s;
};

export const oneOf = (name: string, values: readonly string[]) => (v: string) => {
  if (!values.includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')} (got "${v}")`);
  return v;
};

export const jobName = (v: string) => {
  if (!JOB_NAME.test(v)) throw new InvalidArgumentError(`--job must be a job name from the config (lower-case letter first, then lower-case letters, digits or -, at most 40) (got "${v}")`);
  return v;
};

export const flinkUrl = (v: string) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`--flink-url must be an http(s) URL of a Flink JobManager's REST API, like http://127.0.0.1:8081 (got "${v}")`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`--flink-url must start with http:// or https:// (got "${v}")`);
  return v.replace(/\/$/, '');
};
