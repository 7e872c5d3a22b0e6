/**
 * The scaler's capacity-only scale-in (surplus TaskManagers after the scale-down delay, outside reactive mode) releases
 * only members Flink runs none of the job's subtasks on, whatever their slot counts say: a slot report that lags must
 * not release the TaskManager the job runs on (issue 17, as the workflow's drain). The scaler runs against the Flink
 * emulator over loopback with the emulator's own capacity target; the policy is a stub that decides the scale-in.
 */
import { parseConfig } from '../../functions/core/config';
import { handleScalerEvent } from '../../functions/scaler/scaler';
import { startEmulator, type Emulator } from '../../local/emulator';
import { EmulatorControlTarget } from '../../local/emulator-target';
import { memoryScalerDeps } from '../support/memory-scaler-store';

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator({ taskManagers: 2, slotsPerTaskManager: 2 });
});
afterEach(() => emu.close());

const config = (url: string) =>
  parseConfig({
    jobs: [
      {
        name: 'orders',
        flink: { url, version: '1.19' },
        mode: 'adaptive',
        target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
        slotsPerTaskManager: 2,
        bounds: { maxParallelism: 8, maxTaskManagers: 4 },
        lag: { source: { type: 'flink-pending-records' }, highThreshold: 10_000 },
        cpu: { source: 'flink-jvm' },
      },
    ],
  });

const scaleIn = {
  decision: { action: 'scale-in-capacity' as const, direction: 'down' as const, currentParallelism: 2, targetParallelism: 2, currentTaskManagers: 2, targetTaskManagers: 1, rule: 'capacity', reason: 'test: parallelism 2 needs only 1 × 2 slots', steps: [], limitedBy: [], missing: [] },
  state: {},
};

test('the TaskManager the job runs on reads idle (its slot report lags) while the other holds another job: nothing is released', async () => {
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 500 });
  emu.clock.advance(30_000);
  const hosting = new Set(job.slots.map((s) => s.tm.id));
  expect(hosting.size).toBe(1); // both subtasks share one TaskManager's two slots
  emu.model.startJob({ name: 'other', parallelism: 1, inputRate: 10 }); // on the other TaskManager: it reads busy
  emu.clock.advance(10_000);
  const [runsOrders] = [...hosting];
  const real = emu.model.freeSlots.bind(emu.model);
  emu.model.freeSlots = (t) => (t.id === runsOrders ? t.slots.length : real(t)); // the lagging report
  const cfg = config(emu.url);
  const { deps } = memoryScalerDeps(cfg, () => emu.clock.now(), {
    decide: (() => scaleIn) as never,
    target: () => new EmulatorControlTarget({ baseUrl: emu.url, bounds: { min: 0, max: 4 } as never }),
  });
  const r = await handleScalerEvent({ source: 'reevaluate', job: 'orders', time: new Date(emu.clock.now()).toISOString(), requireAlarm: false }, deps);
  expect(r.outcome).toBe('capacity-unchanged');
  expect(r.reason).toMatch(/no idle TaskManager to release/);
  expect(emu.model.taskManagers.map((t) => t.id)).toContain(runsOrders);
  expect(emu.model.jobs.find((j) => j.id === job.id)!.state).toBe('RUNNING');
});

test('a TaskManager that is really idle is released; the one the job runs on stays', async () => {
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 500 });
  emu.clock.advance(30_000);
  const runsOrders = job.slots[0].tm.id;
  const { deps } = memoryScalerDeps(config(emu.url), () => emu.clock.now(), {
    decide: (() => scaleIn) as never,
    target: () => new EmulatorControlTarget({ baseUrl: emu.url, bounds: { min: 0, max: 4 } as never }),
  });
  const r = await handleScalerEvent({ source: 'reevaluate', job: 'orders', time: new Date(emu.clock.now()).toISOString(), requireAlarm: false }, deps);
  expect(r.outcome).toBe('capacity-changed');
  expect(r.capacity?.released).toHaveLength(1);
  emu.clock.advance(5_000);
  expect(emu.model.taskManagers.map((t) => t.id)).toEqual([runsOrders]);
});
