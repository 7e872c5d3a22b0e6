/**
 * The simulator's compact series (local/series.ts) reads like the SeriesPoint[] it stands for: every read a caller,
 * the report or a test makes gives what a plain array of the same points gives, values exact.
 */
import type { SeriesPoint } from '../../local/report';
import { compactSeries } from '../../local/series';

const points: SeriesPoint[] = Array.from({ length: 9000 }, (_, i) => ({
  t: i * 5000 + 2_592_000_000,
  inputRate: 1500 * (1 + Math.sin(i) / 7),
  capacity: i % 3 === 0 ? 0 : 6000,
  lagRecords: i % 5 === 0 ? 0.1 + i / 3 : -0,
  backlogSeconds: i / 7,
  parallelism: 1 + (i % 12),
  taskManagers: 1 + (i % 6),
  ...(i % 11 === 0 ? {} : { cpuPercent: (i % 100) + 0.25 }),
}));

test('index, length, iteration, array methods, JSON and toEqual are those of the plain array', () => {
  const s = compactSeries();
  for (const p of points) s.push(p);
  expect(s.length).toBe(points.length);
  expect(Array.isArray(s)).toBe(true);
  expect(s[0]).toEqual(points[0]);
  expect(s[s.length - 1]).toEqual(points[points.length - 1]);
  expect(s[points.length]).toBeUndefined();
  expect(Object.is(s[5].lagRecords, points[5].lagRecords)).toBe(true);
  expect(Object.is(s[1].lagRecords, -0)).toBe(true);
  expect('cpuPercent' in s[0]).toBe(false);
  expect([...s]).toEqual(points);
  expect(s.filter((p) => p.capacity === 0).map((p) => p.t)).toEqual(points.filter((p) => p.capacity === 0).map((p) => p.t));
  expect(s.some((p) => p.cpuPercent !== undefined)).toBe(true);
  expect(s.slice(100, 103)).toEqual(points.slice(100, 103));
  expect(JSON.stringify(s)).toBe(JSON.stringify(points));
  expect(s).toEqual(points);
  const other = compactSeries();
  other.push(...points.slice(0, 10));
  expect(other).not.toEqual(points.slice(0, 11));
});

test('append-only: writing an index or the length is refused', () => {
  const s = compactSeries();
  s.push(points[0]);
  expect(() => {
    s[0] = points[1];
  }).toThrow(/append-only/);
  expect(() => {
    s.length = 0;
  }).toThrow(/append-only/);
  expect(s[0]).toEqual(points[0]);
});
