/** Helpers for EventBridge event patterns. */

/** Splits names into groups whose JSON length stays under `max` characters (EventBridge patterns: 2048 at most). */
export function chunkByLength(names: string[], max: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let len = 0;
  for (const n of names) {
    const add = n.length + 3;
    if (cur.length > 0 && len + add > max) {
      out.push(cur);
      cur = [];
      len = 0;
    }
    cur.push(n);
    len += add;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
