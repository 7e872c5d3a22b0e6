/**
 * Vertex metrics as the client reports them: aggregated over subtasks, NaN → absent, source lag from the
 * operator-scoped pendingRecords gauge (endpoints.md §7), read over HTTP from the emulator.
 */
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { Emulator, startEmulator } from '../../local/emulator';

let emu: Emulator;
afterEach(async () => emu?.close());

test('sums rates, gives max/avg busy and backpressure, and the source lag from <Operator>.pendingRecords', async () => {
  emu = await startEmulator({ taskManagers: 3, slotsPerTaskManager: 2 });
  const m = emu.model;
  const job = m.startJob({
    name: 'orders',
    parallelism: 3,
    inputRate: 4000,
    program: { sourceName: 'Source: Kafka, orders.v1 -> Filter', operatorCapacityPerSubtask: 1000 },
  });
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  // Before the first load step a fresh job has no metrics: every field is absent.
  expect(await api.vertexMetrics(job.id, job.vertices[1].id)).toEqual({ vertexId: job.vertices[1].id });
  emu.clock.advance(30_000);
  const [src, keyed, sink] = (await api.job(job.id)).vertices;
  const s = await api.vertexMetrics(job.id, src.id);
  // "Source: Kafka, orders.v1" → Source__Kafka__orders_v1 (space . : , become _), §7.1.
  expect(m.vertexMetricValues(job.id, src.id).has('Source__Kafka__orders_v1.pendingRecords')).toBe(true);
  expect(s.pendingRecords).toBeCloseTo(m.backlog(job.id), 3);
  expect(s.numRecordsInPerSecond).toBe(0);
  expect(s.numRecordsOutPerSecond).toBeCloseTo(3000, 6);
  expect(s.backPressuredTimeMsPerSecondMax).toBeGreaterThan(900);
  const k = await api.vertexMetrics(job.id, keyed.id);
  expect(k).toEqual({
    vertexId: keyed.id,
    numRecordsInPerSecond: 3000,
    numRecordsOutPerSecond: 3000,
    busyTimeMsPerSecondMax: 1000,
    busyTimeMsPerSecondAvg: 1000,
    backPressuredTimeMsPerSecondMax: 0,
    backPressuredTimeMsPerSecondAvg: 0,
    numRecordsOut: expect.any(Number),
  });
  // the counter: its change over an interval is the rate × the interval (what the scaler's produce rate reads)
  emu.clock.advance(10_000);
  expect((await api.vertexMetrics(job.id, keyed.id)).numRecordsOut! - k.numRecordsOut!).toBeCloseTo(3000 * 10, 0);
  expect((await api.vertexMetrics(job.id, sink.id)).pendingRecords).toBeUndefined();
});

test('"NaN" busy time (legacy source) becomes undefined; other fields stay', async () => {
  emu = await startEmulator();
  const job = emu.model.startJob({ name: 'legacy', parallelism: 1, inputRate: 10, program: { legacySource: true } });
  emu.clock.advance(10_000);
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const raw = await fetch(`${emu.url}/jobs/${job.id}/vertices/${job.vertices[0].id}/subtasks/metrics?get=busyTimeMsPerSecond`).then((r) => r.json());
  expect(raw).toEqual([{ id: 'busyTimeMsPerSecond', min: 'NaN', max: 'NaN', avg: 'NaN', sum: 'NaN' }]);
  const s = await api.vertexMetrics(job.id, job.vertices[0].id);
  expect(s.busyTimeMsPerSecondMax).toBeUndefined();
  expect(s.busyTimeMsPerSecondAvg).toBeUndefined();
  expect(s.numRecordsOutPerSecond).toBeCloseTo(10, 6);
  expect(s.pendingRecords).toBeCloseTo(0, 6);
});

test('TaskManager CPU load through /taskmanagers/{id}/metrics; unknown vertex is a 404 FlinkApiError', async () => {
  emu = await startEmulator({ taskManagers: 2, slotsPerTaskManager: 2 });
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 5000 });
  emu.clock.advance(10_000);
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const [busy, idle] = await api.taskManagers();
  const cpuBusy = await api.taskManagerMetrics(busy.id, ['Status.JVM.CPU.Load', 'No.Such.Metric']);
  const cpuIdle = await api.taskManagerMetrics(idle.id, ['Status.JVM.CPU.Load']);
  expect(cpuBusy['Status.JVM.CPU.Load']).toBeGreaterThan(0.5);
  expect(cpuBusy).not.toHaveProperty('No.Such.Metric');
  expect(cpuIdle['Status.JVM.CPU.Load']).toBeCloseTo(0.02, 6);
  const err = await api.vertexMetrics(job.id, 'e'.repeat(32)).catch((e) => e);
  expect(err).toMatchObject({ name: 'FlinkApiError', status: 404, call: 'vertexMetrics', jobId: job.id });
});
