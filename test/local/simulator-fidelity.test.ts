/**
 * The simulator's fast mode (the default: MemoryStateStore, the Flink REST client answered in process by the emulator's
 * server) against its full-fidelity mode (DynamoStateStore on dynalite over HTTP, the REST client over loopback HTTP):
 * the same scenario gives the same run, figure for figure: every decision (time, action, reason, trigger, targets),
 * alarm transition, rescale, series point and summary, and the same Step Functions and Lambda counts. Only the wall
 * clock differs. Speed figures are in the benchmark (npm run bench -- simspeed), not here.
 */
import { prng, type Scenario } from '../../local/scenarios';
import { simulate, type SimulationResult } from '../../local/simulator';

const MIN = 60_000;

/** What must not depend on the mode: everything but the mode's name, the wall clock and the emulators' URLs (config). */
function figures(r: SimulationResult) {
  const { wall: _wall, config: _config, fidelity: _fidelity, ...rest } = r;
  return rest;
}

/** A step up at 3 min and down at 13 min, then a noisy plateau: scale-ups, a scale-down, its cooldowns. */
const stepThenNoise: Scenario = {
  name: 'fidelity-step',
  description: 'test: step up, step down, noise',
  durationMs: 40 * MIN,
  jobs: [
    {
      name: 'orders',
      perSubtaskCapacity: 1000,
      initialParallelism: 2,
      slotsPerTaskManager: 2,
      minParallelism: 1,
      maxParallelism: 16,
      jobMaxParallelism: 128,
      maxTaskManagers: 8,
      steps: [3 * MIN, 13 * MIN],
      rate: (t) => (t >= 3 * MIN && t < 13 * MIN ? 6000 : 1500) * (1 + 0.2 * (prng(17 + Math.floor(t / 5_000))() - 0.5)),
    },
  ],
};

describe('fast and full-fidelity simulations give the same run', () => {
  test.each([
    ['step-spike (the npm start scenario), flink-elastic', { scenario: 'step-spike' as const }],
    ['a step then noise, msf-cpu woken every minute', { scenario: stepThenNoise, policy: 'msf-cpu' }],
  ])(
    '%s',
    async (_name, opts) => {
      const full = await simulate({ ...opts, fidelity: 'full' });
      const fast = await simulate({ ...opts, fidelity: 'fast' });
      expect([full.fidelity, fast.fidelity]).toEqual(['full', 'fast']);
      // the run did something worth comparing
      expect(full.totals.rescales).toBeGreaterThan(0);
      expect(full.runs[0].decisions.length).toBeGreaterThan(0);
      expect(fast.runs[0].decisions).toEqual(full.runs[0].decisions);
      expect(fast.executions).toEqual(full.executions);
      expect(fast.jobs).toEqual(full.jobs);
      expect(fast.totals).toEqual(full.totals);
      expect(figures(fast)).toEqual(figures(full));
    },
    120_000,
  );

  test('an unknown fidelity is refused, naming the field and the allowed values', async () => {
    await expect(simulate({ fidelity: 'turbo' as never })).rejects.toThrow(/fidelity.*must be one of: fast, full/s);
  });
});
