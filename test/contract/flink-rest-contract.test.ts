/**
 * Contract: every request FlinkRestClient sends and every response the emulator returns, for every endpoint the
 * project uses, validates against Flink's own REST spec (rest_v1_dispatcher.yml). The documented wire-format
 * differences are handled in flink-spec.ts, each citing endpoints.md; here they are only used, never widened.
 */
import { FlinkRestClient, savepointTriggerId } from '../../functions/adapters/flink/client';
import { Emulator, RecordedExchange, startEmulator } from '../../local/emulator';
import {
  allOperations,
  describeErrors,
  findOperation,
  parameterSchemas,
  requestSchema,
  responseSchema,
  toJsonSchema,
  validator,
} from './flink-spec';

/** The operations the project uses (endpoints.md §2). Each must be exercised and valid for every version having it. */
const USED = [
  'getClusterOverview',
  'getDashboardConfiguration',
  'getJobsOverview',
  'getJobIdsWithStatusesOverview',
  'getJobDetails',
  'getJobStatusInfo',
  'cancelJob',
  'triggerSavepoint',
  'getSavepointStatus',
  'triggerStopWithSavepoint',
  'getCheckpointingStatistics',
  'getJobVertexMetrics',
  'getAggregatedSubtaskMetrics',
  'getTaskManagers',
  'getTaskManagerDetails',
  'getTaskManagerMetrics',
  'getJarList',
  'uploadJar',
  'submitJobFromJar',
  'getJobResourceRequirements',
  'updateJobResourceRequirements',
  'getJobManagerJobConfiguration',
  'getClusterConfigurationInfo',
  'rescaleJob',
] as const;
/** Absent before 1.16 / 1.18 (endpoints.md §2, §8): a 1.14 cluster answers 404. */
const NEWER: Record<string, string> = {
  getJobStatusInfo: '1.16',
  getJobManagerJobConfiguration: '1.16',
  getJobResourceRequirements: '1.18',
  updateJobResourceRequirements: '1.18',
};

async function drive(version: '1.14' | '1.18' | '1.19', scheduler: 'default' | 'adaptive'): Promise<{ emu: Emulator; exchanges: RecordedExchange[] }> {
  const emu = await startEmulator({ version, scheduler, record: true, taskManagers: 3, slotsPerTaskManager: 2, savepointDir: 's3://b/default-sp' });
  const m = emu.model;
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retryDelayMs: 1 });
  const tick = (ms = 5000) => emu.clock.advance(ms);
  m.setInputRate('orders', 2500);

  await api.version();
  const { jarId } = await api.uploadJar('orders.jar', Buffer.from('PK\u0003\u0004 not really a jar'));
  expect((await api.jars()).map((j) => j.id)).toContain(jarId);
  const { jobId } = await api.runJar(jarId, {
    parallelism: 2,
    programArgs: ['--job-name', 'orders'],
    allowNonRestoredState: false,
    ...(version !== '1.14' ? { restoreMode: 'NO_CLAIM' as const, flinkConfiguration: { 'execution.checkpointing.interval': '30s' } } : {}),
  });
  tick(10_000);
  await api.overview();
  const tms = await api.taskManagers();
  await api.taskManager(tms[0].id);
  await api.taskManagerMetrics(tms[0].id, ['Status.JVM.CPU.Load']);
  await api.jobs();
  await api.findJobByName('orders');
  const details = await api.job(jobId);
  tick(40_000);
  await api.checkpoints(jobId);
  for (const v of details.vertices) await api.vertexMetrics(jobId, v.id);
  await api.subtaskPlacement(jobId, details.vertices.map((v) => v.id));
  await api.jobManagerConfig();
  await api.jobManagerConfig(jobId);
  if (version !== '1.14' && scheduler === 'adaptive') {
    const req = await api.getResourceRequirements(jobId);
    for (const id of Object.keys(req)) req[id] = { parallelism: { lowerBound: 1, upperBound: 3 } };
    await api.putResourceRequirements(jobId, req);
    tick(40_000);
  }

  // Raw calls the client does not make but the emulator serves (validated the same way).
  const raw = (path: string, init?: RequestInit) => fetch(emu.url + path, init).then((r) => r.text());
  await raw('/jobs');
  await raw(`/jobs/${jobId}/status`);
  await raw(`/v1/jobs/${jobId}/vertices/${details.vertices[1].id}/metrics`);
  await raw(`/jobs/${jobId}/vertices/${details.vertices[1].id}/metrics?get=0.busyTimeMsPerSecond,1.numRecordsInPerSecond`);
  await raw(`/jobs/${jobId}/vertices/${details.vertices[0].id}/subtasks/metrics?get=busyTimeMsPerSecond&agg=max&subtasks=0-1`);
  await raw(`/jobs/${jobId}/rescaling?parallelism=3`, { method: 'PATCH' });
  await raw(`/jobs/${jobId}?mode=stop`, { method: 'PATCH' });
  // Endpoints newer than 1.14 (404 there); on a default-scheduler cluster resource-requirements is a 5xx (§5.4).
  await raw(`/jobs/${jobId}/jobmanager/config`);
  await raw(`/jobs/${jobId}/resource-requirements`);

  const t1 = savepointTriggerId(`contract/${version}/1`);
  const s1 = await api.triggerSavepoint(jobId, { targetDirectory: 's3://b/sp', triggerId: t1, formatType: 'CANONICAL' });
  await api.savepointStatus(jobId, s1.triggerId); // IN_PROGRESS: operation null
  tick(5000);
  const done = await api.savepointStatus(jobId, s1.triggerId);
  expect(done.state).toBe('COMPLETED');
  m.faults.failNextSavepoints(1);
  const s2 = await api.triggerSavepoint(jobId, { targetDirectory: 's3://b/sp', triggerId: savepointTriggerId(`contract/${version}/2`) });
  tick(5000);
  expect((await api.savepointStatus(jobId, s2.triggerId)).state).toBe('FAILED');
  await api.savepointStatus(jobId, 'f'.repeat(32)).catch(() => undefined); // 404
  await api.cancel(jobId);
  tick(5000);

  const { jobId: second } = await api.runJar(jarId, { parallelism: 3, savepointPath: (done as { location: string }).location, programArgs: ['--job-name', 'orders'] });
  tick(10_000);
  await api.checkpoints(second);
  const stop = await api.stopWithSavepoint(second, { targetDirectory: 's3://b/sp', triggerId: savepointTriggerId(`contract/${version}/3`), drain: false });
  tick(5000);
  await api.savepointStatus(second, stop.triggerId);
  expect((await api.job(second)).state).toBe('FINISHED');
  await api.runJar(jarId, { parallelism: 200 }).catch(() => undefined); // 400: above maxParallelism
  await raw(`/jobs/${second}/savepoints`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"cancel-job":false,"bogus":1}' }); // 400
  return { emu, exchanges: emu.server.exchanges };
}

// The client names itself (User-Agent flink-elastic); the deliberately invalid raw requests go through fetch.
const fromClient = (x: RecordedExchange) => String(x.headers['user-agent'] ?? '') === 'flink-elastic';

function checkExchange(x: RecordedExchange, version: string): string[] {
  const problems: string[] = [];
  const where = `${version} ${x.method} ${x.path}${Object.keys(x.query).length ? '?' + new URLSearchParams(x.query) : ''} → ${x.status}`;
  const op = findOperation(x.method, x.path);
  if (!op) return [`${where}: no such operation in the spec`];
  // Parameters (path and query).
  for (const p of parameterSchemas(op)) {
    const value = p.in === 'path' ? op.params[p.name] : x.query[p.name];
    if (value === undefined) {
      if (p.required) problems.push(`${where}: missing ${p.in} parameter ${p.name}`);
      continue;
    }
    let values: unknown[] = [value];
    if (p.name === 'mode') values = [value.toUpperCase()]; // endpoints.md §5.1: mode is case-insensitive ("cancel").
    if (p.name === 'agg') values = value.split(',').map((a) => a.toUpperCase()); // endpoints.md §7.1: agg=min,max,avg,sum.
    if (p.schema.type === 'integer') values = values.map(Number);
    if (p.schema.type === 'boolean') values = values.map((v) => v === 'true' ? true : v === 'false' ? false : v);
    const v = validator(`param:${op.operationId}:${p.name}`, p.schema);
    for (const val of values) if (!v(val)) problems.push(`${where}: ${p.in} parameter ${p.name}=${String(val)}: ${describeErrors(v)}`);
  }
  for (const name of Object.keys(x.query)) {
    if (!parameterSchemas(op).some((p) => p.name === name)) problems.push(`${where}: query parameter "${name}" is not in the spec`);
  }
  // Request body.
  if (op.operationId === 'uploadJar') {
    // endpoints.md §6.2: the wire is multipart/form-data with one file part "jarfile" (the spec shows a raw body).
    if (!String(x.contentType).startsWith('multipart/form-data')) problems.push(`${where}: upload must be multipart/form-data, got ${x.contentType}`);
  } else if (x.body !== undefined) {
    const rs = requestSchema(op);
    if (!rs) problems.push(`${where}: the spec defines no JSON body for ${op.operationId}`);
    else {
      const v = validator(`req:${op.operationId}`, rs);
      if (!v(x.body)) {
        // The client must never send an invalid body; a deliberately invalid raw one must get Flink's 400 (§1).
        if (fromClient(x)) problems.push(`${where}: client sent ${JSON.stringify(x.body)}: ${describeErrors(v)}`);
        else if (x.status !== 400) problems.push(`${where}: invalid body ${JSON.stringify(x.body)} was not answered with 400`);
      }
    }
  }
  // Response body.
  const schema = responseSchema(op, x.status);
  if (!schema) problems.push(`${where}: status ${x.status} is not a documented response of ${op.operationId}`);
  else {
    const v = validator(`res:${op.operationId}:${x.status >= 300 ? 'error' : x.status}`, schema);
    if (!v(x.response)) problems.push(`${where}: response ${JSON.stringify(x.response).slice(0, 400)}: ${describeErrors(v)}`);
  }
  return problems;
}

describe.each([
  ['1.14', 'default'],
  ['1.18', 'adaptive'],
  ['1.19', 'adaptive'],
  ['1.19', 'default'],
] as const)('Flink %s (%s scheduler)', (version, scheduler) => {
  let emu: Emulator;
  let exchanges: RecordedExchange[];
  beforeAll(async () => {
    ({ emu, exchanges } = await drive(version, scheduler));
  });
  afterAll(async () => emu?.close());

  test('every request and response validates against rest_v1_dispatcher.yml', () => {
    const problems = exchanges.flatMap((x) => checkExchange(x, version));
    expect(problems).toEqual([]);
    // (the client's own requests are told apart from the raw ones: an invalid body from the client is a problem)
    expect(exchanges.filter(fromClient).length).toBeGreaterThan(exchanges.filter((x) => !fromClient(x)).length);
  });

  test('every endpoint the project uses was exercised (or answers 404 where this version lacks it)', () => {
    const seen = new Map<string, number[]>();
    for (const x of exchanges) {
      const op = findOperation(x.method, x.path);
      if (op) seen.set(op.operationId, [...(seen.get(op.operationId) ?? []), x.status]);
    }
    for (const id of USED) {
      if (id === 'updateJobResourceRequirements' && scheduler !== 'adaptive') continue;
      expect({ id, statuses: seen.get(id) ?? [] }).toEqual({ id, statuses: expect.arrayContaining([expect.any(Number)]) });
      const since = NEWER[id];
      if (since && version === '1.14' && id !== 'updateJobResourceRequirements') {
        expect({ id, statuses: seen.get(id) }).toEqual({ id, statuses: expect.arrayContaining([404]) });
      }
    }
    // The documented quirks really were on the wire (so the overrides above are not dead letters).
    const statusBodies = exchanges.filter((x) => findOperation(x.method, x.path)?.operationId === 'getSavepointStatus').map((x) => x.response);
    expect(statusBodies).toContainEqual({ status: { id: 'IN_PROGRESS' }, operation: null });
    const metricBodies = exchanges.filter((x) => findOperation(x.method, x.path)?.operationId === 'getAggregatedSubtaskMetrics').map((x) => x.response);
    expect(metricBodies.some((b) => Array.isArray(b) && b.length > 0)).toBe(true);
    expect(exchanges.some((x) => findOperation(x.method, x.path)?.operationId === 'rescaleJob' && x.status === 503)).toBe(true);
    expect(exchanges.some((x) => findOperation(x.method, x.path)?.operationId === 'cancelJob' && x.status === 308)).toBe(true);
  });

  test('the client never sends a field this version does not know (endpoints.md §8)', () => {
    const bodies = exchanges.filter((x) => x.body && typeof x.body === 'object').map((x) => Object.keys(x.body as object));
    const sent = new Set(bodies.flat());
    if (version === '1.14') {
      for (const f of ['formatType', 'triggerId', 'restoreMode', 'flinkConfiguration', 'claimMode']) expect(sent.has(f)).toBe(false);
    } else {
      expect(sent.has('triggerId')).toBe(true);
      expect(sent.has('restoreMode')).toBe(true);
      expect(sent.has('claimMode')).toBe(false);
    }
    expect(sent.has('programArgs')).toBe(false); // programArgsList only: programArgs is gone in 2.x (§6.3)
    // Every 4xx the client caused was one the test provoked on purpose (above max parallelism, unknown trigger).
    const clientErrors = exchanges.filter((x) => x.status >= 400 && x.status < 500 && fromClient(x));
    for (const x of clientErrors) expect(JSON.stringify(x.response)).toMatch(/max parallelism|no savepoint operation|Not found/);
  });
});

test('strict mode really rejects unknown fields and wrong types (the validator can fail)', () => {
  const op = allOperations().find((o) => o.operationId === 'triggerSavepoint')!;
  const v = validator('req:triggerSavepoint', requestSchema(op)!);
  expect(v({ 'target-directory': 's3://x', triggerId: 'a'.repeat(32) })).toBe(true);
  expect(v({ 'target-directory': 's3://x', claimMode: 'CLAIM' })).toBe(false);
  expect(v({ triggerId: 'not-hex' })).toBe(false);
  const details = toJsonSchema({ $ref: '#/components/schemas/JobDetailsInfo' }, true);
  const dv = validator('test:details', details);
  expect(dv({ jid: 'a'.repeat(32), state: 'RUNNING', vertices: [] })).toBe(true);
  expect(dv({ jid: 'a'.repeat(32), state: 'RUNNNING' })).toBe(false);
  expect(dv({ jid: 'a'.repeat(32), startTime: 1 })).toBe(false);
});
