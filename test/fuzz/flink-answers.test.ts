/**
 * Fuzz surface 5: Flink REST answers. The real FlinkRestClient reads the Flink emulator through a tampering loopback
 * proxy that changes the answer of the endpoint under test: structure-aware (fields dropped, wrong types, null,
 * huge numbers, NaN-like strings, values nested thousands deep, fields copied elsewhere) or as text (an HTML page,
 * JSON cut short, an empty body, another status). Every call settles in bounded time with a value or a
 * FlinkApiError; a refused 200 answer names the field (or the body) the change touched; an accepted answer reads as
 * sane values.
 */
import fc from 'fast-check';
import { FlinkApiError, FlinkRestClient } from '../../functions/adapters/flink/client';
import type { JobSummary, TaskManagerInfo } from '../../functions/adapters/flink/types';
import { HEX32, JOB_STATES } from '../../functions/adapters/flink/wire';
import { startEmulator, type Emulator } from '../../local/emulator';
import { applyMutations, Deep, fuzzParams, hostile, jsonText, mutationArb, namesMutatedField, surfaceCounts, within, type Mutation } from '../support/fuzz';
import { startTamperingProxy, type Answer, type TamperingProxy } from '../support/tampering-proxy';

const counts = surfaceCounts();

let emu: Emulator;
let proxy: TamperingProxy;
let api: FlinkRestClient;
let jobId: string;
let vertexId: string;
let tmId: string;
const triggerId = 'c0ffee00c0ffee00c0ffee00c0ffee00';

beforeAll(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2, scheduler: 'adaptive' });
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1000 });
  jobId = job.id;
  emu.clock.advance(30_000);
  const direct = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, version: '1.19' });
  await direct.triggerSavepoint(jobId, { targetDirectory: 'file:///tmp/sp', triggerId });
  emu.clock.advance(30_000);
  vertexId = (await direct.job(jobId)).vertices[0].id;
  tmId = (await direct.taskManagers())[0].id;
  proxy = await startTamperingProxy(emu.url);
  api = new FlinkRestClient({ baseUrl: proxy.url, timeoutMs: 1500, retries: 1, retryDelayMs: 1, version: '1.19' });
});
afterAll(async () => {
  await proxy.close();
  await emu.close();
});

// ------------------------------------------------------------------ what a sane answer reads as

const int = (x: unknown, min = 0, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(x) && (x as number) >= min && (x as number) <= max;
const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);
const text = (x: unknown) => typeof x === 'string';
const id = (x: unknown) => typeof x === 'string' && x.length > 0;
/** -1 ("not set") or a key-group count. */
const maxParallelism = (x: unknown) => x === -1 || int(x, 1, 32768);

function tmProblems(t: TaskManagerInfo): string[] {
  const bad: string[] = [];
  if (!id(t.id) || !text(t.host) || !text(t.path) || !finite(t.lastHeartbeat)) bad.push(`TaskManager ${t.id} fields`);
  const known = t.slotsNumber !== undefined || t.freeSlots !== undefined;
  if (known && !(int(t.slotsNumber) && int(t.freeSlots) && t.freeSlots! <= t.slotsNumber!)) bad.push(`TaskManager ${t.id} slots ${t.freeSlots} of ${t.slotsNumber}`);
  return bad;
}
const summaryProblems = (j: JobSummary) => (HEX32.test(j.id) && text(j.name) && JOB_STATES.includes(j.state) && finite(j.startTime) && finite(j.endTime) ? [] : [`job summary ${JSON.stringify(j)}`]);

interface Call {
  name: string;
  /** The path whose answers are changed. */
  path: () => string;
  run: (a: FlinkRestClient) => Promise<unknown>;
  /** What is wrong with an accepted answer (empty when sane). */
  sane: (v: any) => string[];
}

const calls: Call[] = [
  { name: 'overview', path: () => '/overview', run: (a) => a.overview(), sane: (o) => ([o.taskManagers, o.slotsTotal, o.slotsAvailable, o.jobsRunning].every((x) => int(x)) && o.slotsAvailable <= o.slotsTotal && text(o.flinkVersion) ? [] : [`overview ${JSON.stringify(o)}`]) },
  { name: 'taskManagers', path: () => '/taskmanagers', run: (a) => a.taskManagers(), sane: (ts: TaskManagerInfo[]) => ts.flatMap(tmProblems) },
  {
    name: 'taskManager', path: () => `/taskmanagers/${encodeURIComponent(tmId)}`, run: (a) => a.taskManager(tmId),
    sane: (t) => [...tmProblems(t), ...(t.allocatedSlots.every((s: { jobId: string }) => HEX32.test(s.jobId)) ? [] : ['allocated slots'])],
  },
  { name: 'jobs', path: () => '/jobs/overview', run: (a) => a.jobs(), sane: (js: JobSummary[]) => js.flatMap(summaryProblems) },
  { name: 'findJobByName', path: () => '/jobs/overview', run: (a) => a.findJobByName('orders'), sane: (j?: JobSummary) => (j ? [...summaryProblems(j), ...(j.name === 'orders' ? [] : ['the job asked for'])] : []) },
  {
    name: 'job', path: () => `/jobs/${jobId}`, run: (a) => a.job(jobId),
    sane: (d) => {
      const bad: string[] = [];
      if (d.id !== jobId || !JOB_STATES.includes(d.state) || !finite(d.startTime) || !finite(d.now) || !maxParallelism(d.maxParallelism)) bad.push(`job ${d.id} ${d.state} ${d.maxParallelism}`);
      if (d.vertices.length === 0) bad.push('a job without vertices');
      for (const v of d.vertices) {
        if (!(id(v.id) && int(v.parallelism, 1, 32768) && maxParallelism(v.maxParallelism))) bad.push(`vertex ${v.id} parallelism ${v.parallelism} of ${v.maxParallelism}`);
        if (!(Object.values(v.tasks).every(finite) && v.inputs.every(id))) bad.push(`vertex ${v.id} tasks / inputs`);
      }
      if (!Object.values(d.timestamps).every(finite)) bad.push('timestamps');
      return bad;
    },
  },
  {
    name: 'checkpoints', path: () => `/jobs/${jobId}/checkpoints`, run: (a) => a.checkpoints(jobId),
    sane: (c) => ([c.completed, c.inProgress, c.failed].every((x) => int(x)) && (!c.latestCompleted || finite(c.latestCompleted.id)) ? [] : [`checkpoints ${JSON.stringify(c)}`]),
  },
  { name: 'jars', path: () => '/jars', run: (a) => a.jars(), sane: (js) => js.flatMap((j: any) => (id(j.id) && text(j.name) && finite(j.uploaded) && j.entryClasses.every(text) ? [] : [`jar ${j.id}`])) },
  {
    name: 'version', path: () => '/config', run: () => new FlinkRestClient({ baseUrl: proxy.url, timeoutMs: 1500, retries: 1, retryDelayMs: 1 }).version(),
    sane: (v) => (int(v.major) && int(v.minor) && text(v.version) ? [] : [`version ${JSON.stringify(v)}`]),
  },
  {
    name: 'vertexMetrics', path: () => `/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics`, run: (a) => a.vertexMetrics(jobId, vertexId),
    sane: (m) => Object.entries(m).filter(([k, v]) => k !== 'vertexId' && !(finite(v) && (v as number) >= 0)).map(([k, v]) => `metric ${k} = ${v}`),
  },
  {
    name: 'subtaskPlacement', path: () => `/jobs/${jobId}/vertices/${vertexId}`, run: (a) => a.subtaskPlacement(jobId, [vertexId]),
    sane: (ps) => ps.flatMap((p: any) => (p.vertexId === vertexId && int(p.subtask) && typeof p.status === 'string' && (p.taskManagerId === undefined || id(p.taskManagerId)) && (p.host === undefined || id(p.host)) ? [] : [`placement ${JSON.stringify(p)}`])),
  },
  {
    name: 'savepointStatus', path: () => `/jobs/${jobId}/savepoints/${triggerId}`, run: (a) => a.savepointStatus(jobId, triggerId),
    sane: (s) => ((s.state === 'IN_PROGRESS') || (s.state === 'COMPLETED' && id(s.location)) || (s.state === 'FAILED' && id(s.failureCause)) ? [] : [`savepoint ${JSON.stringify(s)}`]),
  },
  { name: 'jobManagerConfig', path: () => '/jobmanager/config', run: (a) => a.jobManagerConfig(), sane: (c) => (Object.values(c).every(text) ? [] : ['config values are strings']) },
  {
    name: 'getResourceRequirements', path: () => `/jobs/${jobId}/resource-requirements`, run: (a) => a.getResourceRequirements(jobId),
    sane: (r) =>
      Object.entries(r)
        .filter(([, { parallelism: p }]: [string, any]) => !((p.lowerBound === -1 || int(p.lowerBound, 1, 32768)) && (p.upperBound === -1 || int(p.upperBound, 1, 32768)) && (p.lowerBound === -1 || p.upperBound === -1 || p.lowerBound <= p.upperBound)))
        .map(([v]) => `requirements of ${v}`),
  },
];

// ------------------------------------------------------------------ the changes

type Change =
  | { form: 'json'; mutations: Mutation[] }
  | { form: 'raw'; kind: 'html' | 'cut' | 'empty' | 'garbage' | 'status' | 'text/plain'; cut: number; status: number };

const change: fc.Arbitrary<Change> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ form: fc.constant('json' as const), mutations: fc.array(mutationArb(hostile), { minLength: 1, maxLength: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      form: fc.constant('raw' as const),
      kind: fc.constantFrom('html' as const, 'cut' as const, 'empty' as const, 'garbage' as const, 'status' as const, 'text/plain' as const),
      cut: fc.nat(),
      status: fc.constantFrom(200, 201, 202, 204, 301, 400, 404, 409, 429, 500, 502, 503),
    }),
  },
);

function rewrite(c: Change, a: Answer, touched: string[]): Answer {
  if (c.form === 'json') {
    const { doc, paths } = applyMutations(JSON.parse(a.text), c.mutations);
    touched.push(...paths);
    return { ...a, text: doc === undefined ? '' : jsonText(doc) };
  }
  switch (c.kind) {
    case 'html':
      return { ...a, text: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
    case 'cut':
      return { ...a, text: a.text.slice(0, c.cut % Math.max(1, a.text.length)) };
    case 'empty':
      return { ...a, text: '' };
    case 'garbage':
      return { ...a, text: '\u0000\ufffd{{[' + 'NaN'.repeat(c.cut % 50) };
    case 'text/plain':
      return { ...a, contentType: 'text/plain' };
    default:
      return { ...a, status: c.status };
  }
}

/** The fields a FlinkApiError says are wrong ('' for the body), from "response field X must" / "response body must". */
function fieldsNamed(message: string): string[] {
  return [...message.matchAll(/response (?:field (\S+)|body) must/g)].map((m) => m[1] ?? '');
}

test.each(calls.map((c) => [c.name, c] as const))('%s: through a tampering proxy, a sane value or a FlinkApiError naming the field, in bounded time', async (_name, call) => {
  await fc.assert(
    fc.asyncProperty(change, async (c) => {
      const count = counts.of(`Flink REST answers (${c.form === 'json' ? 'JSON changed' : 'text or status changed'})`);
      count.tried++;
      const touched: string[] = [];
      let tampered = false;
      const path = call.path();
      proxy.tamper.raw = (req, a) => {
        if (req.path !== path || req.method !== 'GET' || (c.form === 'json' && !(a.status === 200 && a.text))) return a;
        tampered = true;
        return rewrite(c, a, touched);
      };
      try {
        const out = await within(10_000, call.name, call.run(api)).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        expect(tampered).toBe(true);
        if (out.ok) {
          count.accepted++;
          expect(call.sane(out.value)).toEqual([]);
          return;
        }
        count.refused++;
        expect(out.error).toBeInstanceOf(FlinkApiError);
        const e = out.error as FlinkApiError;
        expect(e.message.length).toBeLessThan(3000);
        if (c.form === 'json') {
          // a 200 answer whose JSON was changed: refused for a field (or the body) the change touched
          const named = fieldsNamed(e.message);
          expect({ touched, message: e.message, named: named.length > 0 }).toEqual({ touched, message: e.message, named: true });
          const unnamed = named.filter((f) => !namesMutatedField(f, e.message, touched));
          expect({ touched, message: e.message, unnamed }).toEqual({ touched, message: e.message, unnamed: [] });
        }
      } finally {
        proxy.tamper.raw = undefined;
      }
    }),
    fuzzParams(45),
  );
});

test.each(calls.flatMap((c) => [[c.name, 'hang', c], [c.name, 'reset', c]] as const))('%s: a JobManager whose answer does not come (%s) fails the call in bounded time', async (_name, how, call) => {
  const c = counts.of('Flink REST answers (no answer, or the connection broken mid-body)');
  c.tried++;
  const path = call.path();
  proxy.tamper.transport = (req) => (req.path === path ? how : undefined);
  const quick = new FlinkRestClient({ baseUrl: proxy.url, timeoutMs: 200, retries: 1, retryDelayMs: 1, version: call.name === 'version' ? undefined : '1.19' });
  try {
    const run = call.name === 'version' ? quick.version() : call.run(quick);
    const err = await within(3000, call.name, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlinkApiError);
    expect(err).toMatchObject({ retryable: true, attempts: 2 });
    c.refused++;
  } finally {
    proxy.tamper.transport = undefined;
  }
});

test.each(calls.map((c) => [c.name, c] as const))('%s: the untouched answer passes through the proxy and is sane', async (_name, call) => {
  expect(call.sane(await call.run(api))).toEqual([]);
});

describe('found by fuzzing (kept as regression examples)', () => {
  const jobPath = () => `/jobs/${jobId}`;
  const refused: [string, () => string, (b: any) => any, (a: FlinkRestClient) => Promise<unknown>, RegExp][] = [
    ['a vertex maxParallelism that is a timestamp', jobPath, (b) => ((b.vertices[0].maxParallelism = 1767225660000), b), (a) => a.job(jobId), /response field vertices\[0\]\.maxParallelism must be -1 or an integer from 1 to 32768, got 1767225660000/],
    ['a job maxParallelism of 2.5', jobPath, (b) => ({ ...b, maxParallelism: 2.5 }), (a) => a.job(jobId), /response field maxParallelism must be -1 or an integer from 1 to 32768/],
    ['a job without vertices', jobPath, (b) => ({ ...b, vertices: [] }), (a) => a.job(jobId), /response field vertices must be a non-empty array of job vertices/],
    ['an empty flink-version', () => '/config', () => ({ 'flink-version': '' }), () => new FlinkRestClient({ baseUrl: proxy.url, timeoutMs: 1500, retries: 0 }).version(), /GET \/config: response field flink-version must be a Flink version such as "1.19.1", got ""/],
    ['more free slots than slots', () => '/overview', (b) => ({ ...b, 'slots-available': b['slots-total'] + 1 }), (a) => a.overview(), /response field slots-available must be at most slots-total/],
    ['a resource-requirements bound of 0', () => `/jobs/${jobId}/resource-requirements`, (b) => Object.fromEntries(Object.keys(b).map((v) => [v, { parallelism: { lowerBound: 0, upperBound: 2 } }])), (a) => a.getResourceRequirements(jobId), /response field [0-9a-f]{32}\.parallelism\.lowerBound must be -1 or an integer from 1 to 32768, got 0/],
    ['a lowerBound above the upperBound', () => `/jobs/${jobId}/resource-requirements`, (b) => Object.fromEntries(Object.keys(b).map((v) => [v, { parallelism: { lowerBound: 3, upperBound: 2 } }])), (a) => a.getResourceRequirements(jobId), /parallelism\.lowerBound must be bounds with lowerBound ≤ upperBound/],
    ['a configuration value nested 3,000 deep (RangeError before)', () => '/jobmanager/config', (b) => [...b, { key: 'deep', value: new Deep(3000, true) }], (a) => a.jobManagerConfig(), /response field \[\d+\]\.value must be a string \(or a number or boolean\)/],
  ];
  test.each(refused)('%s is a FlinkApiError naming the field', async (_what, path, change, call, message) => {
    proxy.tamper.raw = (req, a) => (req.path === path() && a.status === 200 ? { ...a, text: jsonText(change(JSON.parse(a.text))) } : a);
    try {
      const err = await call(api).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlinkApiError);
      expect((err as Error).message).toMatch(message);
    } finally {
      proxy.tamper.raw = undefined;
    }
  });

  test('negative metric values read as absent, like "NaN"', async () => {
    const path = `/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics`;
    proxy.tamper.raw = (req, a) => {
      if (req.path !== path || !a.text.includes('"sum"')) return a;
      return { ...a, text: JSON.stringify(JSON.parse(a.text).map((m: any) => ({ ...m, sum: -1, max: -1, avg: -1 }))) };
    };
    try {
      expect(await api.vertexMetrics(jobId, vertexId)).toEqual({ vertexId });
    } finally {
      proxy.tamper.raw = undefined;
    }
  });
});
