/**
 * Client against emulator over loopback HTTP: adaptive in-place rescale (Flink >= 1.18), reactive mode, and the
 * default scheduler's slot rules. Virtual time only; no sleeps.
 */
import { FlinkApiError, FlinkRestClient } from '../../functions/adapters/flink/client';
import type { ResourceRequirements } from '../../functions/adapters/flink/types';
import { Emulator, startEmulator } from '../../local/emulator';

let emu: Emulator;
afterEach(async () => emu?.close());

const clientFor = (e: Emulator) => new FlinkRestClient({ baseUrl: e.url, timeoutMs: 2000, retryDelayMs: 1 });

async function until(e: Emulator, cond: () => Promise<boolean> | boolean, maxMs = 300_000, stepMs = 500): Promise<number> {
  const start = e.clock.now();
  while (!(await cond())) {
    if (e.clock.now() - start > maxMs) throw new Error(`condition not met within ${maxMs} virtual ms`);
    e.clock.advance(stepMs);
  }
  return e.clock.now() - start;
}

const bounds = (ids: string[], lo: number, hi: number): ResourceRequirements =>
  Object.fromEntries(ids.map((id) => [id, { parallelism: { lowerBound: lo, upperBound: hi } }]));

describe('adaptive scheduler: in-place rescale through resource requirements', () => {
  test('1.18: PUT returns at once, the job restarts at the new parallelism from its latest checkpoint, nothing is lost', async () => {
    emu = await startEmulator({ version: '1.18', scheduler: 'adaptive', taskManagers: 3, slotsPerTaskManager: 2 });
    const m = emu.model;
    const job = m.startJob({ name: 'clicks', parallelism: 2, inputRate: 2500, program: { checkpointIntervalMs: 10_000 } });
    const api = clientFor(emu);
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING');
    emu.clock.advance(60_000);
    const details = await api.job(job.id);
    const ids = details.vertices.map((v) => v.id);
    expect(await api.getResourceRequirements(job.id)).toEqual(bounds(ids, 1, 2));
    const countBefore = m.requireJob(job.id).app.count;

    await api.putResourceRequirements(job.id, bounds(ids, 1, 4));
    // A second update while the first is being persisted is refused with 409 (endpoints.md §5.4).
    const conflict = await api.putResourceRequirements(job.id, bounds(ids, 1, 5)).catch((e) => e);
    expect(conflict).toMatchObject({ name: 'FlinkApiError', status: 409, retryable: false });
    expect((await api.job(job.id)).vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]); // asynchronous

    const states = new Set<string>();
    const took = await until(emu, async () => {
      const d = await api.job(job.id);
      states.add(d.state);
      return d.state === 'RUNNING' && d.vertices.every((v) => v.parallelism === 4);
    });
    expect(states).toEqual(new Set(['RUNNING', 'RESTARTING', 'CREATED']));
    expect(took).toBeLessThan(10_000); // 1.18 has no scaling-interval cooldown
    expect(await api.getResourceRequirements(job.id)).toEqual(bounds(ids, 1, 4));
    const j = m.requireJob(job.id);
    expect(j.id).toBe(job.id); // in place: same job id, no savepoint
    expect(m.savepoints.size).toBe(0);
    expect((await api.checkpoints(job.id)).restored).toEqual(expect.objectContaining({ isSavepoint: false }));
    expect(j.app.count).toBeGreaterThanOrEqual(countBefore - 2500 * 10); // rolled back at most one checkpoint interval
    expect(j.app.offset + m.backlog(job.id)).toBeCloseTo(m.stream('clicks').produced, 6);
  });

  test('scale-down: freed slots stay allocated until slot.idle.timeout, then the surplus TaskManager is idle', async () => {
    emu = await startEmulator({ version: '1.19', scheduler: 'adaptive', taskManagers: 2, slotsPerTaskManager: 2, timings: { slotIdleTimeoutMs: 20_000 } });
    const job = emu.model.startJob({ name: 'clicks', parallelism: 4, inputRate: 100 });
    const api = clientFor(emu);
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING');
    expect((await api.taskManagers()).map((t) => t.freeSlots)).toEqual([0, 0]);
    const ids = (await api.job(job.id)).vertices.map((v) => v.id);
    emu.clock.advance(1000);
    await api.putResourceRequirements(job.id, bounds(ids, 1, 2));
    // 1.19: jobmanager.adaptive-scheduler.scaling-interval.min (30 s since the last rescale) delays the rescale.
    const took = await until(emu, async () => (await api.job(job.id)).vertices.every((v) => v.parallelism === 2));
    expect(took).toBeGreaterThanOrEqual(25_000);
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING');
    // Running at 2, but the two freed slots are still held (not free) until the idle timeout.
    expect((await api.taskManagers()).map((t) => t.freeSlots)).toEqual([0, 0]);
    const idleAfter = await until(emu, async () => (await api.taskManagers()).some((t) => t.freeSlots === t.slotsNumber));
    expect(idleAfter).toBeGreaterThanOrEqual(15_000);
    expect(idleAfter).toBeLessThanOrEqual(21_000);
    const tms = await api.taskManagers();
    expect(tms.map((t) => t.freeSlots)).toEqual([0, 2]); // packed onto the first TaskManager; the second is idle
    expect((await api.taskManager(tms[1].id)).allocatedSlots).toEqual([]);
  });

  test('invalid requirements are refused with 400 naming the problem; nothing changes', async () => {
    emu = await startEmulator({ version: '1.19', scheduler: 'adaptive', taskManagers: 2 });
    const job = emu.model.startJob({ name: 'clicks', parallelism: 2 });
    const api = clientFor(emu);
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING');
    const ids = (await api.job(job.id)).vertices.map((v) => v.id);
    const tooHigh = await api.putResourceRequirements(job.id, bounds(ids, 1, 129)).catch((e) => e);
    expect(tooHigh).toBeInstanceOf(FlinkApiError);
    expect(tooHigh.status).toBe(400);
    expect(tooHigh.message).toContain('exceeds its maximum parallelism 128');
    const missing = await api.putResourceRequirements(job.id, bounds(ids.slice(0, 2), 1, 2)).catch((e) => e);
    expect(missing.message).toContain(`missing job vertex [${ids[2]}]`);
    // Checked by the client before sending: lower > upper.
    const inverted = await api.putResourceRequirements(job.id, bounds(ids, 3, 2)).catch((e) => e);
    expect(inverted).toMatchObject({ status: undefined, retryable: false });
    expect(inverted.message).toContain('lowerBound <= upperBound');
    emu.clock.advance(60_000);
    expect((await api.job(job.id)).vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
  });

  test('default scheduler: resource requirements are unsupported (5xx, not retried), and 1.14 is refused before sending', async () => {
    emu = await startEmulator({ version: '1.19', scheduler: 'default', record: true });
    const job = emu.model.startJob({ name: 'clicks', parallelism: 1 });
    const api = clientFor(emu);
    const err = await api.getResourceRequirements(job.id).catch((e) => e);
    expect(err).toMatchObject({ status: 500, retryable: false, attempts: 1 });
    expect(err.message).toContain('does not support changing the parallelism');
    await emu.close();

    emu = await startEmulator({ version: '1.14', scheduler: 'adaptive', record: true });
    const old = emu.model.startJob({ name: 'clicks', parallelism: 1 });
    const api14 = clientFor(emu);
    const before = emu.server.exchanges.length;
    const refused = await api14.putResourceRequirements(old.id, bounds(old.vertices.map((v) => v.id), 1, 2)).catch((e) => e);
    expect(refused.message).toMatch(/needs Flink >= 1.18; the cluster runs 1.14.6. Nothing was sent/);
    expect(emu.server.exchanges.slice(before).map((x) => x.path)).toEqual(['/config']); // only version detection
  });
});

describe('reactive mode: parallelism follows the slots', () => {
  test('TaskManagers joining scale the job up; a graceful stop scales it down at once; a kill only after the heartbeat timeout', async () => {
    emu = await startEmulator({ version: '1.19', scheduler: 'reactive', taskManagers: 1, slotsPerTaskManager: 2, timings: { heartbeatTimeoutMs: 50_000 } });
    const m = emu.model;
    const job = m.startJob({ name: 'events', parallelism: 1, inputRate: 1500, program: { checkpointIntervalMs: 5000 } });
    const api = clientFor(emu);
    const par = async () => (await api.job(job.id)).vertices[1].parallelism;
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING');
    expect(await par()).toBe(2); // all slots, not the configured 1

    m.addTaskManager();
    m.addTaskManager();
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING' && (await par()) === 6);
    const reactivePut = await api.putResourceRequirements(job.id, bounds(job.vertices.map((v) => v.id), 1, 2)).catch((e) => e);
    expect(reactivePut.message).toContain('Cannot change the parallelism of a job running in reactive mode');

    const tms = await api.taskManagers();
    m.stopTaskManager(tms[2].id);
    expect((await api.taskManagers()).length).toBe(2); // deregistered at once
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING' && (await par()) === 4, 10_000);

    emu.clock.advance(10_000);
    const lagBefore = m.backlog(job.id);
    m.killTaskManager(tms[1].id);
    emu.clock.advance(40_000);
    // Still registered and the job is stuck: no progress, the backlog grows by the input.
    expect((await api.taskManagers()).length).toBe(2);
    expect(m.backlog(job.id)).toBeGreaterThan(lagBefore + 1500 * 39);
    const detected = await until(emu, async () => (await api.taskManagers()).length === 1, 20_000);
    expect(detected).toBeLessThanOrEqual(10_500);
    await until(emu, async () => (await api.job(job.id)).state === 'RUNNING' && (await par()) === 2, 20_000);
    const j = m.requireJob(job.id);
    expect(j.app.offset + m.backlog(job.id)).toBeCloseTo(m.stream('events').produced, 6);
  });
});

describe('default scheduler: slots and max parallelism', () => {
  test('parallelism above free slots waits (CREATED) until TaskManagers register, like Flink; above maxParallelism is refused', async () => {
    emu = await startEmulator({ version: '1.19', taskManagers: 1, slotsPerTaskManager: 2 });
    const m = emu.model;
    const api = clientFor(emu);
    const { jarId } = await api.uploadJar('wide.jar', Buffer.from(JSON.stringify({ entryClass: 'com.example.Wide', jobName: 'wide', maxParallelism: 128 })));
    const tooWide = await api.runJar(jarId, { parallelism: 129 }).catch((e) => e);
    expect(tooWide).toMatchObject({ status: 400, retryable: false });
    expect(tooWide.message).toContain('Could not execute application.');
    expect(tooWide.message).toContain('larger than its max parallelism (128)');
    expect(m.jobs).toHaveLength(0);

    const { jobId } = await api.runJar(jarId, { parallelism: 4 });
    emu.clock.advance(30_000);
    expect((await api.job(jobId)).state).toBe('CREATED');
    m.addTaskManager();
    await until(emu, async () => (await api.job(jobId)).state === 'RUNNING', 10_000);
    expect((await api.overview()).slotsAvailable).toBe(0);
  });
});
