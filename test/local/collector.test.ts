/**
 * The collector end to end: the real FlinkRestClient over loopback HTTP against the Flink emulator, the config
 * as the stack bundles it, the metrics it would publish as EMF.
 */
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { collectJob, jvmCpuPercent } from '../../functions/collector/collect';
import type { CollectResult } from '../../functions/collector/collect';
import { collectAll } from '../../functions/handlers/collector';
import { resetBundledConfig } from '../../functions/handlers/shared/bundled-config';
import { Emulator, startEmulator } from '../../local/emulator';
import { exampleConfig, exampleDoc } from '../support/example-config';

let emu: Emulator;
afterEach(async () => {
  await emu?.close();
  delete process.env.FLINK_ELASTIC_CONFIG_JSON;
  resetBundledConfig();
});

const noSecrets = { get: async (n: string) => { throw new Error(`unexpected secret ${n}`); } };

test('a running job: input rate, pending records, busy/backpressure, slots, parallelism, TaskManagers', async () => {
  emu = await startEmulator({ version: '1.14', taskManagers: 3, slotsPerTaskManager: 2 });
  const job = emu.model.startJob({ name: 'Orders Enrichment', parallelism: 3, inputRate: 4000, program: { operatorCapacityPerSubtask: 1000 } });
  emu.clock.advance(60_000);
  const cfgJob = { ...exampleConfig().jobs[0], flink: { ...exampleConfig().jobs[0].flink, url: emu.url } };
  const r = await collectJob(new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 }), cfgJob);
  expect(r.jobId).toBe(job.id);
  expect(r.missing).toEqual([]);
  expect(r.metrics).toMatchObject({ taskManagers: 3, slotsTotal: 6, slotsAvailable: 3, parallelism: 3, running: 1, busyMax: 1000 });
  expect(r.metrics.inputRate).toBeCloseTo(3000, 0); // what the sources read: 3 subtasks × 1000/s downstream capacity
  expect(r.metrics.pendingRecords).toBeCloseTo(emu.model.backlog(job.id), 0);
  expect(r.metrics.pendingRecords).toBeGreaterThan(50_000); // 1000/s short for 60 s
  expect(r.metrics.backPressureMax).toBeGreaterThan(900);
});

test('no such job: cluster figures only, and says so', async () => {
  emu = await startEmulator({ taskManagers: 2, slotsPerTaskManager: 2 });
  const cfgJob = { ...exampleConfig().jobs[0], flink: { ...exampleConfig().jobs[0].flink, url: emu.url } };
  const r = await collectJob(new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 }), cfgJob);
  expect(r).toEqual({ job: 'orders-enrichment', metrics: { taskManagers: 2, slotsTotal: 4, slotsAvailable: 4 }, missing: ['job "Orders Enrichment" not found'] });
});

test('JVM CPU: average of the TaskManagers\' Status.JVM.CPU.Load, in percent', async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'billing', parallelism: 4, inputRate: 100_000 });
  emu.clock.advance(30_000);
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const cpu = await jvmCpuPercent(api);
  const expected = ((emu.model.cpuLoad((await api.taskManagers())[0].id) + emu.model.cpuLoad((await api.taskManagers())[1].id)) / 2) * 100;
  expect(cpu).toBeCloseTo(expected, 3);
  expect(cpu).toBeGreaterThan(50);
});

test('collectAll: every enabled job from the bundled config; an unreachable JobManager fails that job only', async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'fraud-scoring', parallelism: 2, inputRate: 500 });
  emu.clock.advance(30_000);
  const doc = exampleDoc();
  doc.jobs = [
    { ...doc.jobs[3], flink: { url: emu.url, version: '1.19' } },
    { ...doc.jobs[0], flink: { url: 'http://127.0.0.1:9', version: '1.14', requestTimeoutMs: 500 } },
    { ...doc.jobs[3], name: 'paused', enabled: false, flink: { url: 'http://127.0.0.1:9' } },
  ];
  process.env.FLINK_ELASTIC_CONFIG_JSON = JSON.stringify(doc);
  const published: CollectResult[] = [];
  const s = await collectAll({ secrets: noSecrets as any, publish: (r) => (published.push(r), Object.keys(r.metrics).length) });
  expect(s.published.map((p) => p.job)).toEqual(['fraud-scoring']);
  expect(s.failed).toEqual([{ job: 'orders-enrichment', error: expect.stringMatching(/127\.0\.0\.1:9|ECONNREFUSED|connect/i) }]);
  expect(published[0].metrics).toMatchObject({ parallelism: 2, running: 1, taskManagers: 2 });
});
