/**
 * JSON as the CLI prints it: every non-integer number rounded to 6 significant digits (never fewer than its integer
 * digits), so figures read `0.4` and `1578.95`, not `0.39999999999999997` and `1578.9473684210527`. Integers (counts,
 * epoch milliseconds, byte sizes) are printed exactly. Only for output: state files keep full precision.
 */
export const SIGNIFICANT_DIGITS = 6;

export function tidyNumber(n: number): number {
  if (!Number.isFinite(n) || Number.isInteger(n)) return n;
  const intDigits = Math.floor(Math.log10(Math.abs(n))) + 1;
  return Number(n.toPrecision(Math.min(100, Math.max(SIGNIFICANT_DIGITS, intDigits))));
}

/** JSON.stringify(value, null, 2) with tidied numbers. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? tidyNumber(v) : v), 2);
}
