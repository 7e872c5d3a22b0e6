/** The benches' oracle floor (local/oracle.ts) and the scenarios' starting parallelism that uses it. */
import { fit, oracleFloor, peakRate } from '../../local/oracle';
import { scenarios } from '../../local/scenarios';

const shape = { perSubtaskCapacity: 1000, slotsPerTaskManager: 2, minParallelism: 1, maxParallelism: 8 };

test('fit: the fewest subtasks covering the rate at the utilization, within bounds, and their TaskManagers', () => {
  expect(fit(shape, 1000, 1)).toEqual({ parallelism: 1, taskManagers: 1 });
  expect(fit(shape, 1001, 1)).toEqual({ parallelism: 2, taskManagers: 1 });
  expect(fit(shape, 2100, 0.7)).toEqual({ parallelism: 3, taskManagers: 2 });
  expect(fit(shape, 0, 0.7)).toEqual({ parallelism: 1, taskManagers: 1 });
  expect(fit(shape, 1e9, 0.7)).toEqual({ parallelism: 8, taskManagers: 4 }); // capped at the bounds
  expect(fit({ ...shape, minParallelism: 4 }, 10, 1).parallelism).toBe(4);
});

test('the oracle holds each minute what its peak needs, and sums the jobs', () => {
  const flat = { ...shape, rate: () => 3000 };
  expect(oracleFloor([flat], 3_600_000, 1)).toEqual({ taskManagerHours: 2, slotHours: 3 });
  // a one-second spike costs its whole minute, and only that minute
  const spike = { ...shape, rate: (t: number) => (t >= 90_000 && t < 91_000 ? 8000 : 1000) };
  expect(oracleFloor([spike], 3 * 60_000, 1).taskManagerHours).toBeCloseTo((60_000 * 1 + 60_000 * 4 + 60_000 * 1) / 3_600_000, 4);
  expect(oracleFloor([flat, flat], 3_600_000, 1).taskManagerHours).toBe(4);
  expect(peakRate(spike, 0, 180_000)).toBe(8000);
});

test('every shipped scenario starts at the parallelism its first minute needs at the 70 % target (or the one it states)', () => {
  for (const sc of Object.values(scenarios(1))) {
    for (const j of sc.jobs) {
      const need = fit(j, peakRate(j, 0, 60_000), 0.7).parallelism;
      // noisy states its own start: the mean load at exactly the target (its noise peaks above it)
      if (sc.name === 'noisy') expect(j.initialParallelism).toBe(4);
      else expect(j.initialParallelism).toBeGreaterThanOrEqual(need);
    }
  }
});
