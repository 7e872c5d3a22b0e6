/**
 * Contract: a JobManager answer that breaks Flink's REST spec (rest_v1_dispatcher.yml) in the fields flink-elastic
 * acts on (the job state, the vertices and their parallelism) is refused by FlinkRestClient with a FlinkApiError
 * naming the field and what is allowed, instead of being read as a job state or a parallelism it is not.
 *
 * The answers come from the Flink emulator through a loopback proxy (test/support/tampering-proxy.ts) that changes
 * one field of one response, so everything else on the wire is what a JobManager sends.
 */
import { FlinkApiError, FlinkRestClient } from '../../functions/adapters/flink/client';
import { JOB_STATES } from '../../functions/adapters/flink/wire';
import { handleScalerEvent } from '../../functions/scaler/scaler';
import { startEmulator, type Emulator } from '../../local/emulator';
import { memoryScalerDeps, reactiveOrdersConfig } from '../support/memory-scaler-store';
import { spec } from './flink-spec';
import { startTamperingProxy, type TamperingProxy } from '../support/tampering-proxy';

let emu: Emulator;
let proxy: TamperingProxy;
let jobId: string;
let api: FlinkRestClient;
beforeEach(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2 });
  jobId = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1000 }).id;
  emu.clock.advance(30_000);
  proxy = await startTamperingProxy(emu.url);
  api = new FlinkRestClient({ baseUrl: proxy.url, timeoutMs: 2000, retries: 2, retryDelayMs: 1, version: '1.19' });
});
afterEach(async () => {
  await proxy.close();
  await emu.close();
});

/** GET /jobs/{id} answered with `change` applied to the emulator's answer. */
const jobDetailsWith = (change: (d: any) => void) => {
  proxy.tamper.fn = (path, body) => {
    if (path === `/jobs/${jobId}`) change(body);
    return body;
  };
};

const STATES = JOB_STATES.join(', ');

test('the client knows exactly the job states of the spec (JobStatus enum)', () => {
  expect([...JOB_STATES].sort()).toEqual([...(spec.components.schemas.JobStatus.enum as string[])].sort());
});

test('an untouched answer passes through the proxy and reads as the job it is', async () => {
  const d = await api.job(jobId);
  expect(d).toMatchObject({ id: jobId, state: 'RUNNING' });
  expect(d.vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
  expect((await api.findJobByName('orders'))?.id).toBe(jobId);
});

describe('GET /jobs/{id}', () => {
  test.each([
    ['an unknown state', 'RUNNNING'],
    ['a lower-case state', 'running'],
    ['a number', 3],
    ['null', null],
  ])('%s as the job state is refused, naming the field and the allowed values', async (_what, state) => {
    jobDetailsWith((d) => (d.state = state));
    const err = await api.job(jobId).catch((e) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ call: 'job', jobId, retryable: false });
    expect(err.message).toContain(`response field state must be one of ${STATES}, got ${JSON.stringify(state)}`);
  });

  test('a missing state is refused', async () => {
    jobDetailsWith((d) => delete d.state);
    await expect(api.job(jobId)).rejects.toThrow(`response field state must be one of ${STATES}, got nothing`);
  });

  test.each([
    ['negative', -1],
    ['zero', 0],
    ['not an integer', 2.5],
    ['a string', '2'],
    ['above 32768', 40_000],
    ['null', null],
  ])('a vertex parallelism that is %s is refused, naming the vertex field and the allowed range', async (_what, p) => {
    jobDetailsWith((d) => (d.vertices[1].parallelism = p));
    const err = await api.job(jobId).catch((e) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ call: 'job', jobId, retryable: false });
    expect(err.message).toContain(`response field vertices[1].parallelism must be an integer from 1 to 32768, got ${JSON.stringify(p)}`);
  });

  test('a missing vertex parallelism is refused', async () => {
    jobDetailsWith((d) => delete d.vertices[2].parallelism);
    await expect(api.job(jobId)).rejects.toThrow('response field vertices[2].parallelism must be an integer from 1 to 32768, got nothing');
  });

  test('missing vertices are refused (not read as a job with no vertices)', async () => {
    jobDetailsWith((d) => delete d.vertices);
    await expect(api.job(jobId)).rejects.toThrow('response field vertices must be an array of job vertices, got nothing');
    jobDetailsWith((d) => (d.vertices = { 0: d.vertices[0] }));
    await expect(api.job(jobId)).rejects.toThrow(/response field vertices must be an array of job vertices, got \{"0":/);
  });

  test('a bad answer is not retried: asking again would give the same', async () => {
    let calls = 0;
    proxy.tamper.fn = (path, body) => {
      if (path === `/jobs/${jobId}`) {
        calls++;
        body.state = 'UNKNOWN';
      }
      return body;
    };
    await expect(api.job(jobId)).rejects.toThrow(FlinkApiError);
    expect(calls).toBe(1);
  });
});

describe('GET /jobs/overview', () => {
  test('an unknown job state in the overview is refused by jobs() and findJobByName(), naming the entry', async () => {
    proxy.tamper.fn = (path, body) => {
      if (path === '/jobs/overview') body.jobs[0].state = 'ZOMBIE';
      return body;
    };
    await expect(api.jobs()).rejects.toThrow(`response field jobs[0].state must be one of ${STATES}, got "ZOMBIE"`);
    await expect(api.findJobByName('orders')).rejects.toThrow(`response field jobs[0].state must be one of ${STATES}, got "ZOMBIE"`);
  });

  test('an overview without a jobs array is refused (not read as "no jobs")', async () => {
    proxy.tamper.fn = (path, body) => (path === '/jobs/overview' ? {} : body);
    await expect(api.jobs()).rejects.toThrow('response field jobs must be an array of job overviews, got nothing');
  });
});

test('the scaler given a bad JobManager answer fails with that error and decides, records and changes nothing', async () => {
  jobDetailsWith((d) => (d.vertices[1].parallelism = -4));
  const errors: string[] = [];
  const { deps, snapshots, store } = memoryScalerDeps(reactiveOrdersConfig(proxy.url), () => emu.clock.now(), {
    notify: async () => {
      throw new Error('no notification expected');
    },
    log: { info: () => {}, warn: () => {}, error: (m) => void errors.push(m) },
  });
  const tick = { source: 'reevaluate', job: 'orders', time: new Date(emu.clock.now()).toISOString(), requireAlarm: false };
  await expect(handleScalerEvent(tick, deps)).rejects.toThrow('response field vertices[1].parallelism must be an integer from 1 to 32768, got -4');
  expect(snapshots).toEqual([]);
  expect(store.entries).toEqual([]);
  expect(await store.getPolicyState('orders')).toBeUndefined();
  // the job itself is untouched: still running at parallelism 2
  expect(emu.model.jobs.find((j) => j.id === jobId)).toMatchObject({ state: 'RUNNING' });
  expect(emu.model.jobs.find((j) => j.id === jobId)!.vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
});

/**
 * Issue 17, defect 5: every answer the client reads is checked against its schema. A `null` body or a field that is
 * not what the spec says is a FlinkApiError naming the endpoint and the field, never a bare TypeError, and a
 * missing job id is never read as the id "undefined".
 */
describe('every endpoint the client reads: null bodies and wrong fields are FlinkApiErrors naming endpoint and field', () => {
  const cases: [string, string, (body: any) => any, (a: FlinkRestClient) => Promise<unknown>, RegExp][] = [
    ['overview: null body', '/overview', () => null, (a) => a.overview(), /GET \/overview: response body must be an object, got null/],
    ['overview: slots-total a string', '/overview', (b) => ({ ...b, 'slots-total': 'many' }), (a) => a.overview(), /GET \/overview: response field slots-total must be a non-negative integer, got "many"/],
    ['taskmanagers: null body', '/taskmanagers', () => null, (a) => a.taskManagers(), /GET \/taskmanagers: response body must be an object, got null/],
    ['taskmanagers: not an array', '/taskmanagers', () => ({ taskmanagers: { a: 1 } }), (a) => a.taskManagers(), /GET \/taskmanagers: response field taskmanagers must be an array of TaskManagers, got \{"a":1\}/],
    ['taskmanagers: an entry without id', '/taskmanagers', (b) => ({ taskmanagers: [{ ...b.taskmanagers[0], id: undefined }] }), (a) => a.taskManagers(), /response field taskmanagers\[0\]\.id must be a TaskManager id/],
    ['jobs overview: null body', '/jobs/overview', () => null, (a) => a.jobs(), /GET \/jobs\/overview: response body must be an object, got null/],
    ['jobs overview: a job without jid', '/jobs/overview', (b) => ({ jobs: b.jobs.map(({ jid: _jid, ...j }: any) => j) }), (a) => a.jobs(), /response field jobs\[0\]\.jid must be a job id \(32 lower-case hex characters\), got nothing/],
    ['job: null body', 'JOB', () => null, (a) => a.job(jobId), /GET \/jobs\/[0-9a-f]{32}: response body must be an object, got null/],
    ['job: plan nodes not an array', 'JOB', (b) => ({ ...b, plan: { nodes: { 0: 'x' } } }), (a) => a.job(jobId), /response field plan\.nodes must be an array of plan nodes/],
    ['job: plan node inputs not an array', 'JOB', (b) => ({ ...b, plan: { nodes: [{ id: 'x', inputs: 3 }] } }), (a) => a.job(jobId), /response field plan\.nodes\[0\]\.inputs must be an array of plan inputs, got 3/],
    ['job: no jid', 'JOB', (b) => ({ ...b, jid: undefined }), (a) => a.job(jobId), /response field jid must be a job id/],
    ['checkpoints: null body', 'CHECKPOINTS', () => null, (a) => a.checkpoints(jobId), /GET \/jobs\/[0-9a-f]{32}\/checkpoints: response body must be an object, got null/],
    ['checkpoints: counts missing', 'CHECKPOINTS', (b) => ({ ...b, counts: undefined }), (a) => a.checkpoints(jobId), /response field counts must be an object, got nothing/],
    ['jars: null body', '/jars', () => null, (a) => a.jars(), /GET \/jars: response body must be an object, got null/],
    ['jars: files not an array', '/jars', () => ({ files: 'none' }), (a) => a.jars(), /GET \/jars: response field files must be an array of jars, got "none"/],
    ['config: null body', '/config', () => null, (a) => new FlinkRestClient({ baseUrl: a.baseUrl, timeoutMs: 2000, retries: 0 }).version(), /GET \/config: response body must be an object, got null/],
    ['jobmanager config: not an array', '/jobmanager/config', () => ({}), (a) => a.jobManagerConfig(), /GET \/jobmanager\/config: response body must be an array of \{key, value\} entries/],
  ];
  test.each(cases)('%s', async (_what, where, change, call, message) => {
    const wanted = where === 'JOB' ? `/jobs/${jobId}` : where === 'CHECKPOINTS' ? `/jobs/${jobId}/checkpoints` : where;
    proxy.tamper.fn = (path, body) => (path === wanted ? change(body) : body);
    const err: any = await call(api).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ retryable: false, status: 200 });
    expect(err.message).toMatch(message);
  });

  test('a jar run answered without a job id is refused, not read as the job "undefined"', async () => {
    const jar = emu.model.jars[0] ?? emu.model.uploadJar('orders.jar', new Uint8Array([1]));
    proxy.tamper.fn = (path, body, method) => (method === 'POST' && path.endsWith('/run') ? {} : body);
    const err = await api.runJar(jar.id, { parallelism: 1, programArgs: ['--job-name', 'other'] }).catch((e) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err.message).toMatch(/POST \/jars\/.+\/run: response field jobid must be a job id \(32 lower-case hex characters\), got nothing/);
  });

  test('a savepoint trigger answered with null is refused, naming the field', async () => {
    proxy.tamper.fn = (path, body, method) => (method === 'POST' && path.endsWith('/savepoints') ? null : body);
    const err = await api.triggerSavepoint(jobId, { targetDirectory: 's3://b/sp', triggerId: 'a'.repeat(32) }).catch((e) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err.message).toMatch(/POST \/jobs\/[0-9a-f]{32}\/savepoints: response body must be an object, got null/);
  });
});
