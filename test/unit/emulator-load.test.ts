/**
 * The emulator's load model: backlog grows and drains as the arithmetic says, busy time tracks utilisation,
 * backpressure sits upstream of the bottleneck, CPU follows busy time, and no record is ever lost.
 */
import fc from 'fast-check';
import { FlinkModel, rateAt, stepJobLoad, VirtualClock } from '../../local/emulator';

function runningJob(opts: { rate: number; parallelism: number; capacity: number; tms?: number; slots?: number }) {
  const m = new FlinkModel({ taskManagers: opts.tms ?? 4, slotsPerTaskManager: opts.slots ?? 2 });
  const job = m.startJob({ name: 'load', parallelism: opts.parallelism, inputRate: opts.rate, program: { operatorCapacityPerSubtask: opts.capacity, checkpointIntervalMs: null } });
  m.clock.advanceUntil(() => job.state === 'RUNNING', 10_000, 100);
  return { m, job };
}

const metric = (m: FlinkModel, jobId: string, vertex: number, id: string) => m.vertexMetricValues(jobId, m.requireJob(jobId).vertices[vertex].id).get(id)!;

test('input above capacity: the backlog grows by (input - capacity) per second, exactly', () => {
  const { m, job } = runningJob({ rate: 3000, parallelism: 2, capacity: 1000 });
  const lag0 = m.backlog(job.id);
  m.clock.advance(100_000);
  expect(m.backlog(job.id) - lag0).toBeCloseTo((3000 - 2000) * 100, 3);
  // The bottleneck is saturated; its upstream source is backpressured for the rest of each second.
  expect(metric(m, job.id, 1, 'busyTimeMsPerSecond')).toEqual([1000, 1000]);
  expect(metric(m, job.id, 1, 'numRecordsInPerSecond')).toEqual([1000, 1000]);
  const srcBusy = metric(m, job.id, 0, 'busyTimeMsPerSecond')[0];
  expect(srcBusy).toBeCloseTo((2000 / 2 / 20_000) * 1000, 6);
  expect(metric(m, job.id, 0, 'backPressuredTimeMsPerSecond')[0]).toBeCloseTo(1000 - srcBusy, 6);
  expect(metric(m, job.id, 0, 'numRecordsInPerSecond')).toEqual([0, 0]); // sources have no network input (§7.2)
  const pending = metric(m, job.id, 0, 'Source__Kafka_Source.pendingRecords');
  expect(pending.reduce((a, x) => a + x, 0)).toBeCloseTo(m.backlog(job.id), 6);
});

test('input below capacity: an existing backlog drains at (capacity - input) per second, then stays at zero', () => {
  const { m, job } = runningJob({ rate: 3000, parallelism: 2, capacity: 1000 });
  m.clock.advance(60_000);
  const lag = m.backlog(job.id);
  m.setInputRate('load', 1200);
  m.clock.advance(10_000);
  expect(lag - m.backlog(job.id)).toBeCloseTo((2000 - 1200) * 10, 3);
  const drainSeconds = m.backlog(job.id) / 800;
  m.clock.advance(Math.ceil(drainSeconds) * 1000 + 2000);
  expect(m.backlog(job.id)).toBeCloseTo(0, 6);
  // Caught up: throughput = input, the keyed operator is 60% busy, nobody is backpressured.
  expect(metric(m, job.id, 1, 'busyTimeMsPerSecond')).toEqual([600, 600]);
  expect(metric(m, job.id, 1, 'idleTimeMsPerSecond')).toEqual([400, 400]);
  expect(metric(m, job.id, 0, 'backPressuredTimeMsPerSecond')).toEqual([0, 0]);
});

test('busy time tracks utilisation across input rates; CPU of the TaskManagers follows busy time', () => {
  // 1 TaskManager, 2 slots = 2 cores, job at p 2 (one source, keyed and sink subtask per slot), keyed capacity
  // 1,000 rec/s per subtask, source and sink 20,000. Per slot at input r: keyed busy = r/2/1000 (1 core per busy
  // second), source and sink busy = r/2/20,000 each (0.5 core per busy second); TM CPU = 2 % + Σ ÷ 2 cores:
  //   r =   200: 0.02 + (2 × 0.1   + 2 × 2 × 0.005  × 0.5) ÷ 2 = 0.02 + 0.1   + 0.005  = 0.125
  //   r =   500: 0.02 + (2 × 0.25  + 2 × 2 × 0.0125 × 0.5) ÷ 2 = 0.02 + 0.25  + 0.0125 = 0.2825
  //   r = 1,000: 0.02 + (2 × 0.5   + 2 × 2 × 0.025  × 0.5) ÷ 2 = 0.02 + 0.5   + 0.025  = 0.545
  //   r = 1,500: 0.02 + (2 × 0.75  + 2 × 2 × 0.0375 × 0.5) ÷ 2 = 0.02 + 0.75  + 0.0375 = 0.8075
  const { m, job } = runningJob({ rate: 0, parallelism: 2, capacity: 1000, tms: 1, slots: 2 });
  const cpu: number[] = [];
  for (const rate of [200, 500, 1000, 1500]) {
    m.setInputRate('load', rate);
    m.clock.advance(5000);
    const busy = metric(m, job.id, 1, 'busyTimeMsPerSecond')[0];
    expect(busy).toBeCloseTo((Math.min(rate, 2000) / 2000) * 1000, 6);
    cpu.push(m.cpuLoad(m.taskManagers[0].id));
  }
  expect(cpu[0]).toBeCloseTo(0.125, 6);
  expect(cpu[1]).toBeCloseTo(0.2825, 6);
  expect(cpu[2]).toBeCloseTo(0.545, 6);
  expect(cpu[3]).toBeCloseTo(0.8075, 6);
});

test('CPU as a real TaskManager shows it: a job saturated on its keyed operator reads >= 90 %, an idle job <= 10 %', () => {
  // Saturated: input 5,000 rec/s > capacity 2 × 1,000. Keyed busy 1.0 → 1 core per slot, plus source and sink at
  // 1,000/20,000 = 5 % busy × 0.5 core each: 0.02 + (2 × 1 + 2 × 2 × 0.05 × 0.5) ÷ 2 = 1.07 → capped at 1.
  const sat = runningJob({ rate: 5000, parallelism: 2, capacity: 1000, tms: 1, slots: 2 });
  sat.m.clock.advance(30_000);
  const saturated = sat.m.cpuLoad(sat.m.taskManagers[0].id);
  expect(saturated).toBeGreaterThanOrEqual(0.9);
  expect(saturated).toBeLessThanOrEqual(1);
  // MSF's rule and the CPU-high alarm (75 %) can see it: with 2 slots on each of 2 TaskManagers, both read >= 90 %.
  const two = runningJob({ rate: 9000, parallelism: 4, capacity: 1000, tms: 2, slots: 2 });
  two.m.clock.advance(30_000);
  for (const tm of two.m.taskManagers) expect(two.m.cpuLoad(tm.id)).toBeGreaterThanOrEqual(0.9);
  // Idle: nothing arrives, every subtask idle: the JVM baseline only (2 %).
  const idle = runningJob({ rate: 0, parallelism: 2, capacity: 1000, tms: 1, slots: 2 });
  idle.m.clock.advance(30_000);
  expect(idle.m.cpuLoad(idle.m.taskManagers[0].id)).toBeLessThanOrEqual(0.1);
  expect(idle.m.cpuLoad(idle.m.taskManagers[0].id)).toBeCloseTo(0.02, 6);
});

test('downtime only grows the backlog; records produced = consumed offset + backlog at all times (random traces)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1000, max: 30_000 })), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 4 }),
      (segments, parallelism) => {
        const { m, job } = runningJob({ rate: 0, parallelism, capacity: 700 });
        for (const [rate, ms] of segments) {
          m.setInputRate('load', rate);
          m.clock.advance(ms);
          const lag = m.backlog(job.id);
          expect(lag).toBeGreaterThanOrEqual(-1e-6);
          expect(job.app.offset + lag).toBeCloseTo(m.stream('load').produced, 4);
        }
        const lag = m.backlog(job.id);
        m.cancel(job.id);
        m.clock.advance(11_000);
        expect(job.state).toBe('CANCELED');
        expect(m.backlog(job.id) - lag).toBeCloseTo(segments[segments.length - 1][0] * 11, 3);
      },
    ),
    { numRuns: 25 },
  );
});

test('stepJobLoad: the slowest vertex sets throughput; sinks emit nothing', () => {
  const r = stepJobLoad(
    [
      { parallelism: 1, capacityPerSubtask: 10_000 },
      { parallelism: 3, capacityPerSubtask: 1000 },
      { parallelism: 1, capacityPerSubtask: 2000 },
    ],
    1e9,
    1000,
  );
  expect(r.processed).toBe(2000); // the sink (1 x 2000) is the bottleneck
  expect(r.samples[2]).toMatchObject({ busyMsPerSecond: 1000, outPerSubtask: 0, backPressuredMsPerSecond: 0 });
  expect(r.samples[1].backPressuredMsPerSecond).toBeCloseTo(1000 - (2000 / 3000) * 1000, 6);
  expect(stepJobLoad([{ parallelism: 2, capacityPerSubtask: 10 }], 5, 1000).processed).toBe(5); // cannot process what is not there
});

test('input traces: step, linear and periodic; invalid traces are refused where they are given', () => {
  const trace = { points: [[0, 100], [60_000, 700]] as [number, number][] };
  expect(rateAt(trace, 30_000)).toBe(100);
  expect(rateAt({ ...trace, interpolate: 'linear' }, 30_000)).toBe(400);
  expect(rateAt({ ...trace, periodMs: 120_000 }, 190_000)).toBe(700);
  expect(rateAt((t) => t / 1000, 5000)).toBe(5);
  const m = new FlinkModel({ clock: new VirtualClock() });
  expect(() => m.setInputRate('x', { points: [[10, 1], [5, 2]] })).toThrow('points must be sorted by time');
  expect(() => m.setInputRate('x', -1)).toThrow('rate must be a finite number >= 0');
  m.setInputRate('x', () => -5);
  expect(() => m.clock.advance(1000)).toThrow('input rate must be a finite number >= 0');
});

test('virtual clock: deterministic, ordered timers, no re-entrant advance', () => {
  const c = new VirtualClock({ startEpochMs: 0, tickMs: 1000 });
  const seen: string[] = [];
  c.schedule(1500, () => seen.push(`a@${c.now()}`));
  c.schedule(1500, () => seen.push(`b@${c.now()}`));
  c.schedule(200, () => seen.push(`c@${c.now()}`));
  const steps: number[] = [];
  c.onTick((dt) => steps.push(dt));
  c.advance(3000);
  expect(seen).toEqual(['c@200', 'a@1500', 'b@1500']);
  expect(steps).toEqual([200, 1000, 300, 1000, 500]); // at most tickMs, stopping exactly at every timer
  c.schedule(0, () => c.advance(1));
  expect(() => c.advance(10)).toThrow('re-entrantly');
  expect(() => c.advance(-1)).toThrow('finite ms >= 0');
});
