/**
 * The real head-to-head's arithmetic (bench/real.bench.ts): the traces it plays, the oracle floor it prints beside
 * each policy, the starting parallelism, and a goal line that says when flink-elastic loses.
 */
import { SCENARIOS, SUBTASK_CAPACITY, TARGET_UTILIZATION, durationOf, figures, goalLine, needed, oracle, rateFn, startParallelism, type RealScenario, type ScenarioResult } from '../../bench/real.bench';

const flat = (rate: number, untilS: number): RealScenario => ({ name: 'flat', phases: [{ untilS, rate }] });

test('a ramp moves linearly from its rate to its toRate over the phase; steps hold', () => {
  const sc: RealScenario = { name: 'r', phases: [{ untilS: 60, rate: 100 }, { untilS: 160, rate: 100, toRate: 600 }, { untilS: 200, rate: 600 }] };
  const r = rateFn(sc);
  expect([0, 59, 60, 110, 159, 160, 199, 500].map(r)).toEqual([100, 100, 100, 350, 595, 600, 600, 600]);
});

test('noise is seeded: the same scenario yields the same trace, within ±amplitude of the base rate, changing every everyS', () => {
  const sc = SCENARIOS.find((s) => s.noise)!;
  const a = rateFn(sc);
  const b = rateFn(sc);
  const xs = Array.from({ length: durationOf(sc) }, (_, s) => a(s));
  expect(xs).toEqual(Array.from({ length: durationOf(sc) }, (_, s) => b(s)));
  const base = sc.phases[0].rate;
  for (const x of xs) expect(Math.abs(x / base - 1)).toBeLessThanOrEqual(sc.noise!.amplitude + 0.01);
  expect(new Set(xs).size).toBeGreaterThan(5);
  expect(a(0)).toBe(a(sc.noise!.everyS - 1));
});

test('needed: the fewest subtasks whose capacity covers the rate at the utilization', () => {
  expect(needed(SUBTASK_CAPACITY, 1).parallelism).toBe(1);
  expect(needed(SUBTASK_CAPACITY + 1, 1).parallelism).toBe(2);
  expect(needed(SUBTASK_CAPACITY * TARGET_UTILIZATION, TARGET_UTILIZATION).parallelism).toBe(1);
  expect(needed(SUBTASK_CAPACITY, TARGET_UTILIZATION).parallelism).toBe(2);
});

test('the oracle holds, each minute, what that minute’s peak needs: a flat trace costs its TaskManagers × hours, a step charges the whole minute it falls in', () => {
  expect(oracle(flat(SUBTASK_CAPACITY * 1.5, 3600)).at100).toEqual({ tmHours: 2, slotHours: 2 });
  const step: RealScenario = { name: 's', phases: [{ untilS: 90, rate: 100 }, { untilS: 180, rate: SUBTASK_CAPACITY * 1.5 }] };
  // minute 1: 1 TM; minute 2 (60–120 s) holds the step's peak: 2; the last minute: 2
  expect(oracle(step).at100.tmHours).toBeCloseTo((60 * 1 + 60 * 2 + 60 * 2) / 3600, 4);
  // the target utilization never needs less than 100 %
  for (const sc of SCENARIOS) expect(oracle(sc).atTarget.tmHours).toBeGreaterThanOrEqual(oracle(sc).at100.tmHours);
});

test('each scenario starts at the parallelism its first minute needs', () => {
  expect(startParallelism(flat(100, 600))).toBe(1);
  expect(startParallelism(flat(SUBTASK_CAPACITY, 600))).toBe(2);
  for (const sc of SCENARIOS) expect(startParallelism(sc)).toBeGreaterThanOrEqual(1);
});

function run(policy: string, slo: number, tmHours: number) {
  const samples = [
    { t: 0, rate: 100, pending: 0, parallelism: 1, taskManagers: 1 },
    { t: 3600, rate: 100, pending: slo > 0 ? 100_000 : 0, parallelism: 1, taskManagers: 1 },
  ];
  return { ...figures(flat(100, 3600), policy, {}, samples, 3600, { lost: 0, duplicated: 0, checked: 1 }), sloViolationSeconds: slo, tmHours };
}

test('figures: backlog over the SLO counts as violation seconds; TaskManagers × time as TM-hours', () => {
  const f = figures(flat(100, 20), 'p', {}, [
    { t: 0, rate: 100, pending: 0, parallelism: 1, taskManagers: 1 },
    { t: 10, rate: 100, pending: 5000, parallelism: 1, taskManagers: 1 }, // 50 s of backlog
    { t: 20, rate: 100, pending: 0, parallelism: 2, taskManagers: 2 },
  ], 20, null);
  expect(f.sloViolationSeconds).toBe(10);
  expect(f.tmHours).toBeCloseTo(30 / 3600, 4);
  expect(f.rescales).toBe(1);
  expect(f.maxBacklogSeconds).toBe(50);
  expect(f.lost).toBeNull();
});

test('the goal line says where flink-elastic loses to a peer, and whether each goal is met', () => {
  const res = (runs: ReturnType<typeof run>[]): ScenarioResult => ({ scenario: flat(100, 3600), measuredAt: 'x', startParallelism: 1, oracle: { at100: { tmHours: 1, slotHours: 1 }, atTarget: { tmHours: 1, slotHours: 1 } }, runs });
  const won = goalLine(res([run('flink-operator autoscaler 1.10.0', 100, 2), run('flink-elastic (adaptive)', 10, 1.05)]));
  expect(won).toMatch(/0\.10 \(goal ≤ 0\.2\) met/);
  expect(won).toMatch(/TM-h ÷ oracle's at 70 %: 1\.05 \(goal ≤ 1\.1\) met/);
  expect(won).not.toMatch(/LOSES/);
  const lost = goalLine(res([run('flink-operator autoscaler 1.10.0', 5, 1.2), run('flink-elastic (adaptive)', 30, 1.5)]));
  expect(lost).toMatch(/6\.00 \(goal ≤ 0\.2\) MISSED/);
  expect(lost).toMatch(/1\.50 \(goal ≤ 1\.1\) MISSED/);
  expect(lost).toMatch(/LOSES to flink-operator autoscaler 1\.10\.0 on fewer SLO-violation seconds \(5 vs 30\) and fewer TM-hours/);
  expect(goalLine(res([run('flink-elastic (adaptive)', 0, 1)]))).toMatch(/needs flink-elastic and at least one peer/);
});
