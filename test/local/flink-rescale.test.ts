/**
 * FlinkRestClient against the emulator over real HTTP on 127.0.0.1: the rescale paths the workflow relies on.
 */
import { FlinkApiError, FlinkRestClient, savepointTriggerId } from '../../functions/adapters/flink/client';
import type { FlinkApi, SavepointStatus } from '../../functions/adapters/flink/types';
import { Emulator, startEmulator } from '../../local/emulator';

let emu: Emulator;
afterEach(async () => emu?.close());

const client = (e: Emulator, extra: Partial<ConstructorParameters<typeof FlinkRestClient>[0]> = {}) =>
  new FlinkRestClient({ baseUrl: e.url, timeoutMs: 2000, retryDelayMs: 1, ...extra });

async function waitSavepoint(api: FlinkApi, e: Emulator, jobId: string, triggerId: string): Promise<SavepointStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await api.savepointStatus(jobId, triggerId);
    if (s.state !== 'IN_PROGRESS') return s;
    e.clock.advance(500);
  }
  throw new Error('savepoint did not finish');
}

async function waitState(api: FlinkApi, e: Emulator, jobId: string, state: string, maxMs = 120_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 500) {
    if ((await api.job(jobId)).state === state) return;
    e.clock.advance(500);
  }
  throw new Error(`job ${jobId} did not reach ${state}; it is ${(await api.job(jobId)).state}`);
}

test('savepoint → cancel → resubmit at a new parallelism restores the job with its state and loses no record', async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 3, slotsPerTaskManager: 2 });
  const m = emu.model;
  const started = m.startJob({ name: 'orders', parallelism: 2, inputRate: 3000, program: { operatorCapacityPerSubtask: 1000 } });
  const api = client(emu);
  await waitState(api, emu, started.id, 'RUNNING');
  emu.clock.advance(60_000); // capacity 2000/s < 3000/s input: backlog builds
  const before = await api.job(started.id);
  expect(before.vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
  const keyed = before.vertices.find((v) => v.keyedInput)!;
  expect(keyed.inputs).toEqual([before.vertices[0].id]);
  const lagBefore = (await api.vertexMetrics(started.id, before.vertices[0].id)).pendingRecords!;
  expect(lagBefore).toBeGreaterThan(50_000);

  const triggerId = savepointTriggerId(`exec-1/${started.id}`);
  const t = await api.triggerSavepoint(started.id, { targetDirectory: 's3://bucket/savepoints/orders', triggerId });
  expect(t.triggerId).toBe(triggerId);
  // A retried step re-sends the same id: the same operation, not a second savepoint.
  expect((await api.triggerSavepoint(started.id, { targetDirectory: 's3://bucket/savepoints/orders', triggerId })).triggerId).toBe(triggerId);
  const done = await waitSavepoint(api, emu, started.id, triggerId);
  expect(done.state).toBe('COMPLETED');
  const location = (done as { location: string }).location;
  expect(location).toMatch(/^s3:\/\/bucket\/savepoints\/orders\/savepoint-/);
  expect(m.savepoints.size).toBe(1);
  const countAtSavepoint = m.savepoints.get(location)!.snapshot.app.count;

  await api.cancel(started.id);
  await waitState(api, emu, started.id, 'CANCELED');
  emu.clock.advance(20_000); // downtime: records keep arriving

  const jar = (await api.jars())[0];
  const { jobId } = await api.runJar(jar.id, { parallelism: 4, savepointPath: location });
  await waitState(api, emu, jobId, 'RUNNING');
  const after = await api.job(jobId);
  expect(after.vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
  expect((await api.checkpoints(jobId)).restored).toEqual(expect.objectContaining({ isSavepoint: true, externalPath: location }));
  // The keyed state continued from the savepoint: the counter picked up where the savepoint left it.
  const resumed = m.requireJob(jobId);
  expect(resumed.app.count).toBeGreaterThanOrEqual(countAtSavepoint);
  // Records are never lost: everything produced is either consumed (offset) or waiting (backlog).
  const produced = m.stream('orders').produced;
  expect(resumed.app.offset + m.backlog(jobId)).toBeCloseTo(produced, 6);
  expect(resumed.app.count).toBeCloseTo(resumed.app.offset, 6); // exactly-once: state counts every consumed record once
  // With 4000/s capacity against 3000/s input the backlog now drains.
  const lag1 = m.backlog(jobId);
  emu.clock.advance(30_000);
  expect(m.backlog(jobId)).toBeLessThan(lag1 - 25_000);
  expect((await api.findJobByName('orders'))?.id).toBe(jobId);
});

// A failed savepoint (the job keeps running, the client reports FAILED with Flink's cause) is covered in
// flink-faults-versions.test.ts, and what the workflow then does in test/workflow/rescale-workflow.test.ts.
test('polling an unknown savepoint trigger: a 404 FlinkApiError naming the call, the job and Flink\'s message, not retried', async () => {
  emu = await startEmulator({ version: '1.19', record: true });
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 100 });
  const api = client(emu);
  await waitState(api, emu, job.id, 'RUNNING');
  const err = await api.savepointStatus(job.id, 'f'.repeat(32)).catch((e) => e);
  expect(err).toBeInstanceOf(FlinkApiError);
  expect(err).toMatchObject({ call: 'savepointStatus', jobId: job.id, status: 404, retryable: false, attempts: 1 });
  expect(err.message).toContain(`There is no savepoint operation with triggerId=${'f'.repeat(32)}`);
  expect(emu.server.exchanges.filter((x) => x.path.includes('/savepoints/'))).toHaveLength(1);
  expect((await api.job(job.id)).state).toBe('RUNNING');
});
