/**
 * Bounded copies of untrusted values, for error messages and reports. An input may be nested thousands of levels
 * deep or megabytes long: `JSON.stringify` of it can overflow the stack or flood a log. These helpers never walk
 * deeper than a few levels, never copy more than a few entries per level, and cut long strings.
 */

const MAX_DEPTH = 3;
const MAX_ENTRIES = 10;
const MAX_STRING = 200;

/** A JSON-safe copy of `value` at most 3 levels deep, 10 entries per level, strings cut at 200 characters. */
export function boundedValue(value: unknown, depth = MAX_DEPTH): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} characters)` : value;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol') return `[${typeof value}]`;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (depth <= 0) return value.length === 0 ? [] : `[array of ${value.length}]`;
    const head = value.slice(0, MAX_ENTRIES).map((v) => boundedValue(v, depth - 1));
    return value.length > MAX_ENTRIES ? [...head, `… ${value.length - MAX_ENTRIES} more`] : head;
  }
  const keys = Object.keys(value);
  if (depth <= 0) return keys.length === 0 ? {} : `[object with ${keys.length} field${keys.length === 1 ? '' : 's'}]`;
  // Object.fromEntries defines own properties, so a key "__proto__" stays a plain key
  const entries: [string, unknown][] = keys.slice(0, MAX_ENTRIES).map((k) => [k, boundedValue((value as Record<string, unknown>)[k], depth - 1)]);
  if (keys.length > MAX_ENTRIES) entries.push(['…', `${keys.length - MAX_ENTRIES} more`]);
  return Object.fromEntries(entries);
}

/** `JSON.stringify` of a bounded copy, cut at `max` characters: safe on any input. */
export function preview(value: unknown, max = 80): string {
  if (value === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(boundedValue(value)) ?? String(value);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
