/**
 * Injected faults give the typed error or the retry they should; version differences are detected, not assumed.
 * Client against emulator over loopback HTTP.
 */
import { FlinkApiError, FlinkRestClient, savepointTriggerId } from '../../functions/adapters/flink/client';
import { Emulator, startEmulator } from '../../local/emulator';
import { isRetryable } from '../../functions/workflow/errors';

let emu: Emulator;
afterEach(async () => emu?.close());

function clientFor(e: Emulator, extra: Partial<ConstructorParameters<typeof FlinkRestClient>[0]> = {}) {
  const delays: number[] = [];
  const api = new FlinkRestClient({
    baseUrl: e.url,
    timeoutMs: 2000,
    retries: 3,
    retryDelayMs: 100,
    sleep: async (ms) => void delays.push(ms),
    ...extra,
  });
  return { api, delays };
}

async function running(e: Emulator, name = 'orders', parallelism = 2) {
  const job = e.model.startJob({ name, parallelism, inputRate: 500 });
  e.clock.advance(5000);
  expect(job.state).toBe('RUNNING');
  return job;
}

test('REST 503 for N calls: retried with exponential backoff; more than the retry budget → retryable FlinkApiError', async () => {
  emu = await startEmulator({ record: true });
  const { api, delays } = clientFor(emu);
  emu.model.faults.unavailableFor(2);
  expect((await api.overview()).taskManagers).toBe(2);
  expect(delays).toEqual([100, 200]);

  emu.model.faults.unavailableFor(10);
  const err = await api.overview().catch((e) => e);
  expect(err).toBeInstanceOf(FlinkApiError);
  expect(err).toMatchObject({ call: 'overview', status: 503, retryable: true, attempts: 4 });
  expect(err.message).toContain('ongoing leader election');
  expect(emu.model.faults.unavailableCalls).toBe(6); // exactly 4 attempts reached the server
});

test('4xx is never retried', async () => {
  emu = await startEmulator({ record: true });
  const { api, delays } = clientFor(emu);
  const err = await api.job('0'.repeat(32)).catch((e) => e);
  expect(err).toMatchObject({ call: 'job', jobId: '0'.repeat(32), status: 404, retryable: false, attempts: 1 });
  expect(delays).toEqual([]);
  expect(emu.server.exchanges.filter((x) => x.path.startsWith('/jobs/'))).toHaveLength(1);
});

test('slow responses: each attempt times out and is retried; a later fast answer succeeds', async () => {
  emu = await startEmulator();
  const { api, delays } = clientFor(emu, { timeoutMs: 60 });
  emu.model.faults.slowResponses(300, 2);
  const tms = await api.taskManagers();
  expect(tms).toHaveLength(2);
  expect(delays).toHaveLength(2);

  emu.model.faults.slowResponses(300, 5);
  const err = await api.taskManagers().catch((e) => e);
  expect(err).toMatchObject({ call: 'taskManagers', status: undefined, retryable: true, attempts: 4 });
  expect(err.code).toMatch(/ETIMEDOUT|ECONNABORTED/);
});

test('savepoint fails: the client reports FAILED with Flink\'s failure cause; the job keeps running', async () => {
  emu = await startEmulator({ savepointDir: 's3://b/sp' });
  const job = await running(emu);
  const { api } = clientFor(emu);
  emu.model.faults.failNextSavepoints(1, 'java.io.IOException: Access Denied (Service: S3)');
  const { triggerId } = await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: savepointTriggerId('sp-fail') });
  emu.clock.advance(5000);
  const s = await api.savepointStatus(job.id, triggerId);
  expect(s).toEqual({ state: 'FAILED', failureCause: expect.stringContaining('Access Denied') });
  expect((await api.job(job.id)).state).toBe('RUNNING');
  expect(emu.model.savepoints.size).toBe(0);
});

test('cancel fails: 5xx retried (cancel is idempotent); persistent failure → FlinkApiError and the job is untouched', async () => {
  emu = await startEmulator();
  const job = await running(emu);
  const { api } = clientFor(emu);
  emu.model.faults.failNextCancels(1);
  await api.cancel(job.id);
  emu.clock.advance(2000);
  expect(job.state).toBe('CANCELED');

  const job2 = await running(emu, 'second');
  emu.model.faults.failNextCancels(4);
  const err = await api.cancel(job2.id).catch((e) => e);
  expect(err).toMatchObject({ call: 'cancel', jobId: job2.id, status: 500, retryable: true, attempts: 4 });
  expect(err.message).toContain('Job cancellation failed');
  expect(job2.state).toBe('RUNNING');
});

test('run fails: 400 with Flink\'s message, not retried, no job started', async () => {
  emu = await startEmulator({ record: true });
  const { api } = clientFor(emu);
  const { jarId } = await api.uploadJar('orders.jar', Buffer.from('x'));
  emu.model.faults.failNextRuns(1);
  const err = await api.runJar(jarId, { parallelism: 2 }).catch((e) => e);
  expect(err).toMatchObject({ call: 'runJar', status: 400, retryable: false, attempts: 1 });
  expect(err.errors).toEqual(['Could not execute application.', expect.stringContaining('injected fault (run fails)')]);
  expect(emu.model.jobs).toHaveLength(0);
  // A run that would be a second submission after a lost response is not retried on 5xx either.
  emu.model.faults.unavailableFor(1);
  const e503 = await api.runJar(jarId, { parallelism: 2 }).catch((e) => e);
  expect(e503).toMatchObject({ status: 503, attempts: 1 });
  expect(emu.model.jobs).toHaveLength(0);
});

test('an entry class the jar lacks: HTTP 500 as real Flink answers it, but permanent — not retryable, so the workflow rolls back at once', async () => {
  emu = await startEmulator({ record: true });
  const { api } = clientFor(emu);
  const { jarId } = await api.uploadJar('orders.jar', Buffer.from('x'));
  const err = await api.runJar(jarId, { parallelism: 2, entryClass: 'com.example.NoSuchJob' }).catch((e) => e);
  expect(err).toBeInstanceOf(FlinkApiError);
  expect(err).toMatchObject({ call: 'runJar', status: 500, retryable: false, attempts: 1 });
  expect(err.message).toContain("entry point class 'com.example.NoSuchJob' was not found");
  expect(isRetryable(err)).toBe(false);
  expect(emu.model.jobs).toHaveLength(0);
  // a server error that may heal stays retryable
  emu.model.faults.unavailableFor(10);
  const e503 = await api.overview().catch((e) => e);
  expect(e503).toMatchObject({ status: 503, retryable: true });
  expect(isRetryable(e503)).toBe(true);
});

test('restore from a savepoint path that does not exist: the job fails during initialization with the cause', async () => {
  emu = await startEmulator();
  const { api } = clientFor(emu);
  const { jarId } = await api.uploadJar('orders.jar', Buffer.from('x'));
  const { jobId } = await api.runJar(jarId, { parallelism: 1, savepointPath: 's3://b/sp/savepoint-nope' });
  emu.clock.advance(2000);
  expect((await api.job(jobId)).state).toBe('FAILED');
  expect(emu.model.requireJob(jobId).failure?.message).toContain("Cannot find checkpoint or savepoint file/directory 's3://b/sp/savepoint-nope'");
});

test('a TaskManager dies: the job stalls until the heartbeat timeout, then restarts from its last checkpoint', async () => {
  emu = await startEmulator({ taskManagers: 3, slotsPerTaskManager: 1, timings: { heartbeatTimeoutMs: 30_000 } });
  const m = emu.model;
  const job = m.startJob({ name: 'orders', parallelism: 2, inputRate: 1000, program: { checkpointIntervalMs: 10_000 } });
  const { api } = clientFor(emu);
  emu.clock.advance(25_000);
  const victim = job.slots[0].tm.id;
  const lag0 = m.backlog(job.id);
  m.killTaskManager(victim);
  emu.clock.advance(29_000);
  expect((await api.job(job.id)).state).toBe('RUNNING'); // not noticed yet
  expect(m.backlog(job.id)).toBeCloseTo(lag0 + 29_000, -2); // no progress: the backlog grows by the input
  const sp = await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: savepointTriggerId('during-stall') });
  emu.clock.advance(2000);
  expect(await api.savepointStatus(job.id, sp.triggerId)).toEqual({ state: 'FAILED', failureCause: expect.any(String) });
  expect((await api.taskManagers()).map((t) => t.id)).not.toContain(victim);
  for (let i = 0; i < 20 && (await api.job(job.id)).state !== 'RUNNING'; i++) emu.clock.advance(1000);
  expect((await api.job(job.id)).state).toBe('RUNNING'); // on the spare TaskManager
  expect(m.requireJob(job.id).restoredFrom).toEqual(expect.objectContaining({ isSavepoint: false }));
  emu.clock.advance(60_000);
  expect(m.requireJob(job.id).app.offset + m.backlog(job.id)).toBeCloseTo(m.stream('orders').produced, 6);
});

describe('version differences', () => {
  test('1.14: no triggerId/formatType on the wire, the server-chosen id is returned, the POST is not retried on 5xx', async () => {
    emu = await startEmulator({ version: '1.14', record: true, savepointDir: 's3://b/sp' });
    const job = await running(emu);
    const { api } = clientFor(emu);
    expect((await api.version()).features).toMatchObject({ triggerId: false, formatType: false, resourceRequirements: false, programArgs: true });
    const mine = savepointTriggerId('exec-14');
    const t = await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: mine, formatType: 'CANONICAL' });
    expect(t.triggerId).not.toBe(mine);
    expect(t.triggerId).toMatch(/^[0-9a-f]{32}$/);
    const post = emu.server.exchanges.find((x) => x.method === 'POST' && x.path.endsWith('/savepoints'))!;
    expect(post.body).toEqual({ 'target-directory': 's3://b/sp', 'cancel-job': false });
    const native = await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: mine, formatType: 'NATIVE' }).catch((e) => e);
    expect(native.message).toContain('formatType NATIVE needs Flink >= 1.15');
    emu.model.faults.unavailableFor(1);
    const e = await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: mine }).catch((x) => x);
    expect(e).toMatchObject({ status: 503, attempts: 1 });
    const jar = emu.model.jars[0];
    const conf = await api.runJar(jar.id, { flinkConfiguration: { a: 'b' } }).catch((x) => x);
    expect(conf.message).toContain('flinkConfiguration needs Flink >= 1.16');
    const tms = await api.taskManagers();
    expect(tms[0].path).toMatch(/^akka\.tcp:\/\/flink@10\.0\.1\.10:6122\//);
    expect(tms[0].host).toBe('10.0.1.10');
    expect(tms[0].blocked).toBeUndefined();
  });

  test('1.19: the caller\'s triggerId makes savepoint retries idempotent even when the first response was lost', async () => {
    emu = await startEmulator({ version: '1.19', record: true, savepointDir: 's3://b/sp' });
    const job = await running(emu);
    const { api } = clientFor(emu);
    const id = savepointTriggerId('exec-19');
    await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: id });
    // The response was "lost": the workflow retries the whole step with the same id.
    await api.triggerSavepoint(job.id, { targetDirectory: 's3://b/sp', triggerId: id });
    emu.clock.advance(5000);
    expect(await api.savepointStatus(job.id, id)).toEqual({ state: 'COMPLETED', location: expect.stringMatching(/^s3:\/\/b\/sp\/savepoint-/) });
    expect(emu.model.savepoints.size).toBe(1);
    expect(emu.model.requireJob(job.id).checkpoints.filter((c) => c.isSavepoint)).toHaveLength(1);
    // Results expire after rest.async.store-duration (5 min): then 404.
    emu.clock.advance(301_000);
    expect(await api.savepointStatus(job.id, id).catch((e) => e.status)).toBe(404);
    const tms = await api.taskManagers();
    expect(tms[0].path).toMatch(/^pekko\.tcp:/);
    expect(tms[0].blocked).toBe(false);
  });

  test('version is detected once from /config and cached; a configured version skips detection', async () => {
    emu = await startEmulator({ version: '1.18', record: true });
    const { api } = clientFor(emu);
    const [a, b] = await Promise.all([api.version(), api.version()]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ version: '1.18.1', major: 1, minor: 18, features: { resourceRequirements: true, formatType: true } });
    await api.version();
    expect(emu.server.exchanges.filter((x) => x.path === '/config')).toHaveLength(1);
    const { api: fixed } = clientFor(emu, { version: '1.14' });
    expect((await fixed.version()).features.triggerId).toBe(false);
    expect(emu.server.exchanges.filter((x) => x.path === '/config')).toHaveLength(1);
  });

  test('basic and bearer credentials are sent as Authorization headers', async () => {
    emu = await startEmulator({ record: true });
    await clientFor(emu, { auth: { type: 'basic', username: 'ops', password: 's3cret' } }).api.overview();
    await clientFor(emu, { auth: { type: 'bearer', token: 'tok-123' } }).api.overview();
    expect(emu.server.exchanges.map((x) => x.headers.authorization)).toEqual([`Basic ${Buffer.from('ops:s3cret').toString('base64')}`, 'Bearer tok-123']);
  });
});

test('a fixed jobId makes a resubmission idempotent: a second run with the same id is refused, one job runs', async () => {
  emu = await startEmulator();
  const { api } = clientFor(emu);
  const { jarId } = await api.uploadJar('orders.jar', Buffer.from('x'));
  const jobId = 'c0ffee'.padEnd(32, '0');
  expect(await api.runJar(jarId, { parallelism: 1, jobId })).toEqual({ jobId });
  const again = await api.runJar(jarId, { parallelism: 1, jobId }).catch((e) => e);
  expect(again).toMatchObject({ status: 400, retryable: false });
  expect(again.message).toContain('DuplicateJobSubmissionException');
  expect(emu.model.jobs).toHaveLength(1);
  // Same trigger id on two different jobs: two operations (Flink keys them per job).
  const other = await api.runJar(jarId, { parallelism: 1 });
  emu.clock.advance(5000);
  const t = savepointTriggerId('shared');
  await api.triggerSavepoint(jobId, { targetDirectory: 's3://b/a', triggerId: t });
  await api.triggerSavepoint(other.jobId, { targetDirectory: 's3://b/b', triggerId: t });
  emu.clock.advance(5000);
  const a = await api.savepointStatus(jobId, t);
  const b = await api.savepointStatus(other.jobId, t);
  expect([a, b].map((s) => (s as { location: string }).location.slice(0, 8))).toEqual(['s3://b/a', 's3://b/b']);
});

test('HTTPS with a private CA: trusted with caPem; without it a non-retryable certificate error', async () => {
  const dir = `${__dirname}/../fixtures/tls`;
  const { readFileSync } = await import('node:fs');
  const cert = readFileSync(`${dir}/localhost-cert.pem`, 'utf8');
  emu = await startEmulator({ tls: { key: readFileSync(`${dir}/localhost-key.pem`, 'utf8'), cert } });
  expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
  const trusted = clientFor(emu, { caPem: cert }).api;
  expect((await trusted.overview()).taskManagers).toBe(2);
  const { api: untrusted, delays } = clientFor(emu);
  const err = await untrusted.overview().catch((e) => e);
  expect(err).toMatchObject({ name: 'FlinkApiError', status: undefined, retryable: false, attempts: 1 });
  expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  expect(delays).toEqual([]);
});

test.each([
  ['1.14', 400],
  ['1.19', 202],
] as const)('Flink %s answers a savepoint request carrying formatType with %d (unknown fields are refused)', async (version, status) => {
  emu = await startEmulator({ version });
  const job = await running(emu);
  const res = await fetch(`${emu.url}/jobs/${job.id}/savepoints`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ 'target-directory': 's3://b/sp', formatType: 'CANONICAL' }),
  });
  expect(res.status).toBe(status);
  if (status === 400) expect(await res.json()).toEqual({ errors: ['Request did not match expected format SavepointTriggerRequestBody.'] });
});
