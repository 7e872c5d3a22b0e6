/**
 * Produce and consume rates from Flink in the scaler's snapshot: consume = what the sources emit
 * (numRecordsOutPerSecond), produce = consume + the growth of the backlog between two decisions of the same Flink
 * job (each decision's history entry carries the sample). The scaler runs against the Flink emulator over loopback;
 * the store is an in-memory ScalerStore; the policy is a stub that records the snapshots it is given.
 */
import { handleScalerEvent } from '../../functions/scaler/scaler';
import { produceRate, type RateSample } from '../../functions/scaler/snapshot';
import { startEmulator, type Emulator } from '../../local/emulator';
import { memoryScalerDeps, reactiveOrdersConfig } from '../support/memory-scaler-store';

let emu: Emulator;
beforeEach(async () => {
  // 2 subtasks of 1,000 rec/s each: capacity 2,000 rec/s
  emu = await startEmulator({ taskManagers: 2, slotsPerTaskManager: 2 });
});
afterEach(() => emu.close());


function deps() {
  const warnings: string[] = [];
  const { deps: d, snapshots, store } = memoryScalerDeps(reactiveOrdersConfig(emu.url), () => emu.clock.now(), {
    log: { info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
  });
  return { d, snapshots, store, warnings };
}

const tick = () => ({ source: 'reevaluate', job: 'orders', time: new Date(emu.clock.now()).toISOString(), requireAlarm: false });

test('caught up: consume rate = what the source reads, produce rate = consume rate (nothing waits)', async () => {
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1200 });
  emu.clock.advance(30_000);
  const { d, snapshots, store } = deps();
  await handleScalerEvent(tick(), d);
  expect(snapshots[0].signals.consumeRate).toBeCloseTo(1200, 6);
  expect(snapshots[0].signals.produceRate).toBeCloseTo(1200, 6);
  // the decision's history entry carries the sample the next read compares with
  expect(store.entries[0].detail.sample).toMatchObject({ at: emu.clock.now(), consumeRate: expect.closeTo(1200, 6), backlogRecords: 0 });
});

test('saturated: the first read has no produce rate (says why); one minute later produce = consume + backlog growth', async () => {
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 3000 });
  emu.clock.advance(30_000);
  const { d, snapshots, warnings } = deps();
  await handleScalerEvent(tick(), d);
  // the job reads its capacity, 2 × 1,000 rec/s; 1,000 rec/s more arrive than it reads, so the backlog grows
  expect(snapshots[0].signals.consumeRate).toBeCloseTo(2000, 6);
  expect(snapshots[0].signals.produceRate).toBeUndefined();
  expect(warnings.join('\n')).toMatch(/produceRate unknown: a backlog of \d+ records and no earlier sample/);
  emu.clock.advance(60_000);
  await handleScalerEvent(tick(), d);
  // produce = consume 2,000 + (backlog grown by 1,000 × 60 records) ÷ 60 s = 3,000 rec/s
  expect(snapshots[1].signals.consumeRate).toBeCloseTo(2000, 6);
  expect(snapshots[1].signals.produceRate).toBeCloseTo(3000, 3);
  // the input falls to 500 rec/s: the backlog drains at 2,000 − 500 = 1,500 rec/s, produce is seen as 500
  emu.model.setInputRate('orders', 500);
  emu.clock.advance(60_000);
  await handleScalerEvent(tick(), d);
  expect(snapshots[2].signals.produceRate).toBeCloseTo(500, 3);
});

test('decisions seconds apart (a tick every 5 s): produce is measured against the newest sample at least 10 s old', async () => {
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 3000 });
  emu.clock.advance(30_000);
  const { d, snapshots } = deps();
  for (let i = 0; i < 3; i++) {
    await handleScalerEvent(tick(), d);
    emu.clock.advance(5_000);
  }
  expect(snapshots[1].signals.produceRate).toBeUndefined(); // only a 5 s old sample: too close to compare
  expect(snapshots[2].signals.produceRate).toBeCloseTo(3000, 3); // the first one, 10 s old
});

test('record counters beat a lagging meter: produce = (records read + backlog growth) ÷ Δt', () => {
  const now = 1_000_000_000;
  // Flink's 60 s meter still says 100 rec/s a few seconds after a step to 600; the sources read 450 rec/s since the
  // last sample (counter +4,500 in 10 s) while the backlog grew by 1,500: 600 rec/s arrive.
  const prev: RateSample = { at: now - 10_000, flinkJobId: 'a', consumeRate: 100, backlogRecords: 500, recordsOut: 20_000 };
  const cur: RateSample = { at: now, flinkJobId: 'a', consumeRate: 100, backlogRecords: 2000, recordsOut: 24_500 };
  expect(produceRate(cur, prev)).toEqual({ rate: 600, why: 'records read + backlog growth over 10 s (counters)' });
  // without counters on both: the meter and the growth, as before (an underestimate here)
  expect(produceRate(cur, { ...prev, recordsOut: undefined }).rate).toBeCloseTo(250, 6);
  // a counter that went backwards (a subtask restarted): not used
  expect(produceRate({ ...cur, recordsOut: 100 }, prev).rate).toBeCloseTo(250, 6);
});

test('samples are not compared across a restart, nor when too old: produce stays unknown while a backlog waits', async () => {
  const s = (at: number, flinkJobId: string, consumeRate: number, backlogRecords: number): RateSample => ({ at, flinkJobId, consumeRate, backlogRecords });
  const now = 1_000_000_000;
  expect(produceRate(s(now, 'b', 2000, 90_000), s(now - 60_000, 'a', 2000, 30_000))).toEqual({ why: expect.stringContaining('the job restarted since the last sample') });
  expect(produceRate(s(now, 'a', 2000, 90_000), s(now - 3_600_000, 'a', 2000, 30_000))).toEqual({ why: expect.stringContaining('the last sample is 3600 s old (usable: 10–600 s)') });
  expect(produceRate(s(now, 'a', 2000, 90_000), s(now - 2000, 'a', 2000, 89_000)).rate).toBeUndefined();
  // within 10 s … 10 min of the same job: the current consume rate plus the growth; never negative
  expect(produceRate(s(now, 'a', 2000, 90_000), s(now - 60_000, 'a', 1000, 30_000)).rate).toBeCloseTo(2000 + 1000, 6);
  expect(produceRate(s(now, 'a', 100, 5000), s(now - 10_000, 'a', 100, 50_000)).rate).toBe(0);
  // the input stepped down while caught up: produce is what is read now, not a mean with the earlier level
  expect(produceRate(s(now, 'a', 1500, 0), s(now - 60_000, 'a', 6000, 0)).rate).toBe(1500);
  // caught up (under 1 s of consumption waiting) with no usable sample: produce = consume
  expect(produceRate(s(now, 'b', 2000, 1500), s(now - 60_000, 'a', 2000, 0)).rate).toBe(2000);
});

test('a rescale recorded while the snapshot was read (after its time) counts as just now, so the policy sees the cooldown', async () => {
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1200 });
  emu.clock.advance(30_000);
  const { d, snapshots, store } = deps();
  store.getLastRescaleAt = async () => emu.clock.now() + 5_000;
  await handleScalerEvent(tick(), d);
  expect(snapshots[0].history.lastRescaleAt).toBe(snapshots[0].now);
});
