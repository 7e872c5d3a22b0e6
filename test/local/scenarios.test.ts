import { BENCH_SCENARIO_NAMES, diurnalWeeklyTrace, parseTrace, prng, scenarios, SCENARIO_NAMES, TraceError } from '../../local/scenarios';

test('ships the six scenarios the README promises', () => {
  expect([...SCENARIO_NAMES].sort()).toEqual(['diurnal-day', 'flash-crowd', 'multi-tenant', 'noisy', 'slow-ramp', 'step-spike', 'weekday-peaks']);
  expect(scenarios()['multi-tenant'].jobs.map((j) => j.name)).toEqual(['tenant-a', 'tenant-b', 'tenant-c']);
});

test('same seed, same load; another seed, other noise', () => {
  const a = scenarios(42).noisy.jobs[0].rate;
  const b = scenarios(42).noisy.jobs[0].rate;
  const c = scenarios(43).noisy.jobs[0].rate;
  const ts = Array.from({ length: 50 }, (_, i) => i * 7_000);
  expect(ts.map(a)).toEqual(ts.map(b));
  expect(ts.map(a)).not.toEqual(ts.map(c));
  // noise stays within ±25 % of 2,800 rec/s
  for (const t of ts) expect(Math.abs(a(t) - 2800)).toBeLessThanOrEqual(0.25 * 2800 + 1e-9);
});

test('step spike steps from 1,500 to 6,000 rec/s at minute 15 and back at minute 55 (±3 % noise)', () => {
  const r = scenarios(1)['step-spike'].jobs[0].rate;
  expect(r(14 * 60_000)).toBeGreaterThan(1455);
  expect(r(14 * 60_000)).toBeLessThan(1545);
  expect(r(16 * 60_000)).toBeGreaterThan(5820);
  expect(r(56 * 60_000)).toBeLessThan(1545);
});

test('prng is deterministic and uniform enough', () => {
  const r = prng(7);
  const xs = Array.from({ length: 10_000 }, r);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  expect(mean).toBeGreaterThan(0.48);
  expect(mean).toBeLessThan(0.52);
  expect(prng(7)()).toBe(xs[0]);
});

test('a trace replays step-wise from seconds or ISO timestamps', () => {
  const { rate, durationMs } = parseTrace('time,records_per_second\n0,100\n60,250\n120,50\n');
  expect([rate(0), rate(59_999), rate(60_000), rate(119_000), rate(500_000)]).toEqual([100, 100, 250, 250, 50]);
  expect(durationMs).toBe(180_000);
  const iso = parseTrace('time,records_per_second\n2026-01-01T00:00:00Z,10\n2026-01-01T00:01:00Z,20\n');
  expect([iso.rate(0), iso.rate(60_000)]).toEqual([10, 20]);
});

test.each([
  ['', /needs a header/],
  ['t,r\n0,1\n', /line 1: header must name columns "time" and "records_per_second"/],
  ['time,records_per_second\nabc,1\n', /line 2: time must be seconds from the start or an ISO timestamp \(got "abc"\)/],
  ['time,records_per_second\n0,-5\n', /line 2: records_per_second must be a number ≥ 0 \(got "-5"\)/],
  ['time,records_per_second\n0,1\n0,2\n', /line 3: time must increase/],
])('a bad trace is rejected with the line and the rule: %j', (csv, msg) => {
  expect(() => parseTrace(csv, 'load.csv')).toThrow(TraceError);
  expect(() => parseTrace(csv, 'load.csv')).toThrow(msg);
});

describe('diurnalWeeklyTrace: the 30-day trace of the simspeed benchmark', () => {
  test('30 days, one row a minute, parseable, the same for the same seed; weekends and nights are quieter', () => {
    const csv = diurnalWeeklyTrace();
    expect(csv).toBe(diurnalWeeklyTrace({ days: 30, seed: 1 }));
    expect(diurnalWeeklyTrace({ seed: 2 })).not.toBe(csv);
    const { rate, durationMs } = parseTrace(csv, 'month.csv');
    expect(durationMs).toBe(30 * 86_400_000);
    const H = 3_600_000;
    const D = 24 * H;
    expect(rate(2 * D + 14 * H)).toBeGreaterThan(3 * rate(2 * D + 3 * H)); // Wednesday 14:00 vs 03:00
    expect(rate(5 * D + 14 * H)).toBeLessThan(0.75 * rate(2 * D + 14 * H)); // Saturday vs Wednesday afternoon
  });

  test('bad lengths and steps are refused naming the field and the range', () => {
    expect(() => diurnalWeeklyTrace({ days: 0 })).toThrow(/days must be > 0 and ≤ 366 \(got 0\)/);
    expect(() => diurnalWeeklyTrace({ stepSeconds: 0.5 })).toThrow(/stepSeconds must be an integer from 1 to 3600 \(got 0.5\)/);
  });
});

test('weekday-peaks: starts on a Monday; 2,000 rec/s, the ramp 08:50-09:00 to the 4x peak until 11:00, down by 11:30; weekends flat; long (not in the default bench)', () => {
  const sc = scenarios(1)['weekday-peaks'];
  expect(new Date(sc.startEpochMs!).toISOString()).toBe('2026-01-05T00:00:00.000Z');
  expect(new Date(sc.startEpochMs!).getUTCDay()).toBe(1);
  expect(sc.long).toBe(true);
  expect(BENCH_SCENARIO_NAMES).not.toContain('weekday-peaks');
  const r = sc.jobs[0].rate;
  const at = (d: number, h: number) => (d * 24 + h) * 3_600_000;
  for (const d of [0, 1, 2, 3, 4]) {
    expect(r(at(d, 8.5))).toBeGreaterThan(2000 * 0.96);
    expect(r(at(d, 8.5))).toBeLessThan(2000 * 1.04);
    expect(r(at(d, 10))).toBeGreaterThan(8000 * 0.96 * 0.96);
    expect(r(at(d, 10))).toBeLessThan(8000 * 1.04 * 1.04);
    expect(r(at(d, 12))).toBeLessThan(2000 * 1.04);
  }
  // Saturday and Sunday of the week (days 5, 6) stay flat
  expect(r(at(5, 10))).toBeLessThan(2000 * 1.04);
  expect(r(at(6, 10))).toBeLessThan(2000 * 1.04);
});
