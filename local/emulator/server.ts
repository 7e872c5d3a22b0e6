/**
 * The emulator's HTTP face: node:http on 127.0.0.1, the JobManager's REST paths and wire format
 * (endpoints.md is the reference; § numbers below). Paths may carry the "/v1" prefix (§1).
 *
 * Non-Flink control endpoints live under /emulator/ (advance the clock, add/kill TaskManagers, set input rates,
 * inject faults) so people and other processes can drive the model with curl; Flink has nothing like them.
 */
import { createServer, type IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { JobStatus } from '../../functions/adapters/flink/types';
import type { HttpRequest, HttpResponse } from '../../functions/adapters/http';
import { HEX32, isTerminal, JOB_STATES } from '../../functions/adapters/flink/wire';
import { EmuJob, EmuTaskManager, FlinkModel, FlinkRestError, hex32 } from './model';

export interface RecordedExchange {
  method: string;
  /** Path as requested (with /v1 if the client used it), without the query. */
  path: string;
  query: Record<string, string>;
  contentType?: string;
  /** Parsed JSON request body, or undefined (none / multipart). */
  body?: unknown;
  status: number;
  /** Parsed JSON response body. */
  response: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface ServerOptions {
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Record every request/response (contract tests). Default false. */
  record?: boolean;
  /** Serve HTTPS with this PEM key and certificate (tests of the client's custom-CA option). */
  tls?: { key: string; cert: string };
}

interface RawRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | number>;
  text: string;
}

const jsonAnswer = (status: number, body: unknown, extraHeaders: Record<string, string> = {}): RawResponse => {
  const text = JSON.stringify(body);
  return { status, headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text), ...extraHeaders }, text };
};

/** Java's Double.toString for the values Flink's metric store keeps as strings (§7.1). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e7 || a < 1e-3)) {
    const [m, e] = x.toExponential().split('e');
    return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** Aggregated metrics are JSON numbers; Jackson writes NaN as the string "NaN" (WRITE_NAN_AS_STRINGS). */
const aggNumber = (x: number): number | string => (Number.isNaN(x) ? 'NaN' : x);

class HttpError extends FlinkRestError {}

function badFormat(className: string): FlinkRestError {
  return new FlinkRestError(400, [`Request did not match expected format ${className}.`]);
}

/** Validates a JSON body the way Flink's strict Jackson mapper does: known fields with the right types only. */
function readBody(
  raw: unknown,
  className: string,
  allowed: string[],
  types: Record<string, 'string' | 'boolean' | 'integer' | 'string[]' | 'record'>,
): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badFormat(className);
  const body = raw as Record<string, unknown>;
  for (const [k, v] of Object.entries(body)) {
    if (!allowed.includes(k)) throw badFormat(className);
    if (v === null) continue;
    const t = types[k];
    const ok =
      t === 'string'
        ? typeof v === 'string'
        : t === 'boolean'
          ? typeof v === 'boolean'
          : t === 'integer'
            ? typeof v === 'number' && Number.isInteger(v)
            : t === 'string[]'
              ? Array.isArray(v) && v.every((x) => typeof x === 'string')
              : t === 'record'
                ? typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string')
                : true;
    if (!ok) throw badFormat(className);
  }
  return body;
}

/** Tokenises the deprecated single-string programArgs (quotes respected), as JarHandlerUtils does. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

function parseMultipart(contentType: string, body: Buffer): { name: string; filename?: string; data: Buffer }[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return [];
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: { name: string; filename?: string; data: Buffer }[] = [];
  let pos = body.indexOf(boundary);
  while (pos !== -1) {
    const start = pos + boundary.length;
    if (body.slice(start, start + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    if (headerEnd === -1) break;
    const headers = body.slice(start, headerEnd).toString('utf8');
    const next = body.indexOf(boundary, headerEnd + 4);
    if (next === -1) break;
    const data = body.slice(headerEnd + 4, next - 2); // strip the CRLF before the boundary
    const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    parts.push({ name, filename, data });
    pos = next;
  }
  return parts;
}

type Handler = (ctx: {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  rawBody: Buffer;
  contentType: string;
}) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Present only when the profile has the endpoint (absent → 404 like Flink). */
  available?: () => boolean;
}

export class EmulatorServer {
  readonly model: FlinkModel;
  readonly exchanges: RecordedExchange[] = [];
  private server?: Server;
  private routes: Route[] = [];
  /** path → the routes whose pattern matches it (patterns are fixed; availability is asked per request). */
  private matching = new Map<string, Route[]>();
  private record: boolean;
  url = '';

  constructor(model: FlinkModel, private readonly opts: ServerOptions = {}) {
    this.model = model;
    this.record = opts.record ?? false;
    this.defineRoutes();
  }

  async listen(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const out = await this.answer({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(out.status, out.headers);
        res.end(out.text);
      })();
    };
    const server: Server = this.opts.tls ? createHttpsServer({ key: this.opts.tls.key, cert: this.opts.tls.cert }, handler) : createServer(handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * The server in process: answers one request exactly as over HTTP (same routes, faults, recording, JSON text and
   * headers), without a socket. The simulator's fast mode plugs it into the Flink REST client as its transport
   * (FlinkRestClientOptions.transport); everything above the transport (the client's checks, retries, schemas) runs.
   */
  readonly exchange = async (r: HttpRequest): Promise<HttpResponse> => {
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v : String(v);
    headers.host = r.url.host;
    const answering = this.answer({ method: r.method, url: `${r.url.pathname}${r.url.search}`, headers, body });
    // Only a slow-call fault takes real time here: then the client's timeout applies as over HTTP (send's ETIMEDOUT).
    const out =
      this.model.faults.slowCalls > 0 && r.timeoutMs
        ? await new Promise<RawResponse>((resolve, reject) => {
            const timer = setTimeout(() => reject(Object.assign(new Error(`timeout of ${r.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' })), r.timeoutMs);
            answering.then(
              (x) => {
                clearTimeout(timer);
                resolve(x);
              },
              (e) => {
                clearTimeout(timer);
                reject(e);
              },
            );
          })
        : await answering;
    const resHeaders: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(out.headers)) resHeaders[k.toLowerCase()] = String(v);
    return { status: out.status, headers: resHeaders, body: Buffer.from(out.text, 'utf8') };
  };

  /** One request → its answer (status, headers, JSON text); an exception in a route is Flink's 500. */
  private async answer(req: RawRequest): Promise<RawResponse> {
    try {
      return await this.handle(req);
    } catch (e) {
      return jsonAnswer(500, { errors: ['Internal server error.', `<Exception on server side:\n${(e as Error).stack}\n\nEnd of exception on server side>`] });
    }
  }

  private async handle(req: RawRequest): Promise<RawResponse> {
    const rawBody = req.body;
    const url = new URL(req.url, 'http://127.0.0.1');
    const method = req.method.toUpperCase();
    const contentType = String(req.headers['content-type'] ?? '');
    let path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/v1/')) path = path.slice(3);
    else if (path === '/v1') path = '/';
    let body: unknown;
    let bodyError = false;
    if (rawBody.length > 0 && !contentType.startsWith('multipart/')) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        bodyError = true;
      }
    }
    const respond = async (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (this.record) {
        this.exchanges.push({
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType: contentType || undefined,
          body,
          status,
          response: payload,
          headers: req.headers,
        });
      }
      const f = this.model.faults;
      if (!path.startsWith('/emulator') && f.slowCalls > 0 && (f.slowMatch?.(method, path) ?? true)) {
        f.slowCalls--;
        await new Promise((r) => setTimeout(r, f.slowMs));
      }
      return jsonAnswer(status, payload, headers);
    };

    const isControl = path.startsWith('/emulator/');
    if (!isControl && this.model.faults.unavailableCalls > 0) {
      this.model.faults.unavailableCalls--;
      return respond(503, { errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'] });
    }
    const candidates = this.routesFor(path).filter((r) => !r.available || r.available());
    const route = candidates.find((r) => r.method === method);
    if (!route) return respond(404, { errors: [`Not found: ${url.pathname}`] });
    if (bodyError) return respond(400, { errors: ['Request did not match expected format (malformed JSON).'] });
    const params = route.pattern.exec(path)!.slice(1).map((p) => decodeURIComponent(p));
    try {
      const out = await route.handler({ params, query: url.searchParams, body, rawBody, contentType });
      if (isControl) this.model.clock.runDue();
      return respond(out.status, out.body);
    } catch (e) {
      if (e instanceof FlinkRestError) return respond(e.status, { errors: e.errors });
      if (isControl) return respond(400, { errors: [(e as Error).message] });
      throw e;
    }
  }

  private routesFor(path: string): Route[] {
    let m = this.matching.get(path);
    if (!m) {
      if (this.matching.size >= 4096) this.matching.clear();
      this.matching.set(path, (m = this.routes.filter((r) => r.pattern.test(path))));
    }
    return m;
  }

  private on(method: string, path: string, handler: Handler, available?: () => boolean): void {
    const pattern = new RegExp(`^${path.replace(/\{[a-z]+\}/g, '([^/]+)')}$`);
    this.routes.push({ method, pattern, handler, available });
    this.matching.clear();
  }

  private job(id: string): EmuJob {
    if (!HEX32.test(id)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid JobID string '${id}'.`]);
    return this.model.requireJob(id);
  }

  private defineRoutes(): void {
    const m = this.model;
    const p = m.profile;

    // §3.2
    this.on('GET', '/config', () => ({
      status: 200,
      body: {
        'refresh-interval': 3000,
        'timezone-name': 'Coordinated Universal Time',
        'timezone-offset': 0,
        'flink-version': p.version,
        'flink-revision': `${p.commit} @ 2024-01-01T00:00:00+01:00`,
        features: { 'web-submit': true, 'web-cancel': true, ...(p.webRescaleFlag ? { 'web-rescale': false } : {}), 'web-history': false },
      },
    }));

    // §3.1: taskmanagers-blocked / slots-free-and-blocked are omitted when 0 (NON_DEFAULT).
    this.on('GET', '/overview', () => {
      const tms = m.taskManagers;
      const count = (states: JobStatus[]) => m.jobs.filter((j) => states.includes(j.state)).length;
      return {
        status: 200,
        body: {
          taskmanagers: tms.length,
          'slots-total': tms.reduce((a, t) => a + t.slots.length, 0),
          'slots-available': tms.reduce((a, t) => a + m.freeSlots(t), 0),
          'jobs-running': m.jobs.filter((j) => !isTerminal(j.state)).length,
          'jobs-finished': count(['FINISHED']),
          'jobs-cancelled': count(['CANCELED']),
          'jobs-failed': count(['FAILED']),
          'flink-version': p.version,
          'flink-commit': p.commit,
        },
      };
    });

    // §3.7
    this.on('GET', '/taskmanagers', () => ({ status: 200, body: { taskmanagers: m.taskManagers.map((t) => this.tmInfo(t)) } }));
    this.on('GET', '/taskmanagers/{id}', ({ params }) => {
      const t = m.requireTaskManager(params[0]);
      const allocated = t.slots
        .filter((s) => s.jobId !== null)
        .map((s) => ({ jobId: s.jobId, resource: this.slotResource(), ...(p.flink2Wire ? { assignedTasks: this.assignedTasks(t, s) } : {}) }));
      return {
        status: 200,
        body: {
          ...this.tmInfo(t),
          allocatedSlots: allocated,
          metrics: {
            heapUsed: 300_000_000,
            heapCommitted: 500_000_000,
            heapMax: 1_000_000_000,
            nonHeapUsed: 80_000_000,
            nonHeapCommitted: 90_000_000,
            nonHeapMax: -1,
            directCount: 10,
            directUsed: 10_000_000,
            directMax: 10_000_000,
            mappedCount: 0,
            mappedUsed: 0,
            mappedMax: 0,
            ...(p.flink2Wire ? {} : { memorySegmentsAvailable: 4096, memorySegmentsTotal: 4096 }),
            nettyShuffleMemorySegmentsAvailable: 4096,
            nettyShuffleMemorySegmentsUsed: 0,
            nettyShuffleMemorySegmentsTotal: 4096,
            nettyShuffleMemoryAvailable: 134_217_728,
            nettyShuffleMemoryUsed: 0,
            nettyShuffleMemoryTotal: 134_217_728,
            garbageCollectors: [{ name: 'G1_Young_Generation', count: 10, time: 120 }],
          },
        },
      };
    });
    this.on('GET', '/taskmanagers/{id}/metrics', ({ params, query }) => {
      const t = m.requireTaskManager(params[0]);
      const values: Record<string, string> = {
        'Status.JVM.CPU.Load': javaDouble(m.cpuLoad(t.id)),
        'Status.JVM.CPU.Time': String(Math.round((m.clock.now() - t.registeredAt) * 1e6 * m.cpuLoad(t.id))),
        'Status.JVM.Memory.Heap.Used': '300000000',
        'Status.JVM.Memory.Heap.Max': '1000000000',
      };
      const get = query.get('get');
      if (!get) return { status: 200, body: Object.keys(values).map((id) => ({ id })) };
      return { status: 200, body: get.split(',').filter((id) => id in values).map((id) => ({ id, value: values[id] })) };
    });

    // §3.3
    this.on('GET', '/jobs/overview', () => ({ status: 200, body: { jobs: m.jobs.map((j) => this.jobOverview(j)) } }));
    this.on('GET', '/jobs', () => ({ status: 200, body: { jobs: m.jobs.map((j) => ({ id: j.id, status: j.state })) } }));
    // §3.4
    this.on('GET', '/jobs/{id}', ({ params }) => ({ status: 200, body: this.jobDetails(this.job(params[0])) }));
    this.on('GET', '/jobs/{id}/status', ({ params }) => ({ status: 200, body: { status: this.job(params[0]).state } }), () => p.features.jobStatusEndpoint);

    // Vertex detail, job metrics and job config: seen on real 1.20.5 / 2.3.0 (test/flink/emulator-diff.test.ts).
    this.on('GET', '/jobs/{id}/vertices/{vid}', ({ params }) => ({ status: 200, body: this.vertexDetail(this.job(params[0]), params[1]) }));
    this.on('GET', '/jobs/{id}/metrics', ({ params, query }) => {
      const values = this.jobMetricValues(this.job(params[0]));
      const get = query.get('get');
      if (!get) return { status: 200, body: Object.keys(values).map((id) => ({ id })) };
      return { status: 200, body: get.split(',').filter((id) => id in values).map((id) => ({ id, value: values[id] })) };
    });
    this.on('GET', '/jobs/{id}/config', ({ params }) => {
      const j = this.job(params[0]);
      return {
        status: 200,
        body: {
          jid: j.id,
          name: j.name,
          'execution-config': {
            ...(p.flink2Wire ? {} : { 'execution-mode': 'PIPELINED' }),
            'restart-strategy': 'Cluster level default restart strategy',
            'job-parallelism': Math.max(...j.configured, 1),
            'object-reuse-mode': false,
            'user-config': {},
          },
        },
      };
    });

    // §5.1: PATCH /jobs/{id}?mode=cancel; mode=stop → 308.
    this.on('PATCH', '/jobs/{id}', ({ params, query }) => {
      const mode = (query.get('mode') ?? 'cancel').toLowerCase();
      if (mode === 'stop') {
        throw new HttpError(308, [
          'The termination mode "stop" has been removed. For an ungraceful shutdown, please use "cancel" instead. For a graceful shutdown, please use "jobs/:jobId/stop" instead.',
        ]);
      }
      if (mode !== 'cancel') throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${query.get('mode')}' for parameter mode.`]);
      const job = this.job(params[0]);
      m.cancel(job.id);
      return { status: 202, body: {} };
    });

    // §5.2 / §5.3
    this.on('POST', '/jobs/{id}/savepoints', ({ params, body }) => {
      const b = readBody(body, 'SavepointTriggerRequestBody', p.requestFields.savepoint, {
        'target-directory': 'string',
        'cancel-job': 'boolean',
        triggerId: 'string',
        formatType: 'string',
      });
      if (b.formatType != null && !['CANONICAL', 'NATIVE'].includes(b.formatType as string)) throw badFormat('SavepointTriggerRequestBody');
      if (b.triggerId != null && !HEX32.test(b.triggerId as string)) throw badFormat('SavepointTriggerRequestBody');
      const job = this.job(params[0]);
      const op = m.triggerSavepoint(job.id, {
        kind: 'savepoint',
        targetDirectory: (b['target-directory'] as string) ?? undefined,
        triggerId: (b.triggerId as string) ?? undefined,
        formatType: (b.formatType as string) ?? undefined,
        cancelJob: (b['cancel-job'] as boolean) ?? false,
      });
      return { status: 202, body: { 'request-id': op.triggerId } };
    });
    this.on('POST', '/jobs/{id}/stop', ({ params, body }) => {
      const b = readBody(body, 'StopWithSavepointRequestBody', p.requestFields.stop, {
        targetDirectory: 'string',
        drain: 'boolean',
        triggerId: 'string',
        formatType: 'string',
      });
      if (b.formatType != null && !['CANONICAL', 'NATIVE'].includes(b.formatType as string)) throw badFormat('StopWithSavepointRequestBody');
      if (b.triggerId != null && !HEX32.test(b.triggerId as string)) throw badFormat('StopWithSavepointRequestBody');
      const job = this.job(params[0]);
      const op = m.triggerSavepoint(job.id, {
        kind: 'stop',
        targetDirectory: (b.targetDirectory as string) ?? undefined,
        triggerId: (b.triggerId as string) ?? undefined,
        formatType: (b.formatType as string) ?? undefined,
        drain: (b.drain as boolean) ?? false,
      });
      return { status: 202, body: { 'request-id': op.triggerId } };
    });
    // §4: operation null while in progress; exactly one of location / failure-cause when completed; 404 unknown.
    this.on('GET', '/jobs/{id}/savepoints/{trigger}', ({ params }) => {
      const job = this.job(params[0]);
      const triggerId = params[1];
      if (!HEX32.test(triggerId)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid TriggerId string '${triggerId}'.`]);
      const op = m.savepointStatus(job.id, triggerId);
      if (!op) throw new HttpError(404, [`There is no savepoint operation with triggerId=${triggerId} for job ${job.id}.`]);
      if (op.completedAt === undefined) return { status: 200, body: { status: { id: 'IN_PROGRESS' }, operation: null } };
      const operation = op.location
        ? { location: op.location }
        : {
            'failure-cause': {
              class: op.failure!.className,
              'stack-trace': `${op.failure!.className}: ${op.failure!.message}\n\tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.triggerSavepoint(CheckpointCoordinator.java)\n`,
              'serialized-throwable': Buffer.from(`${op.failure!.className}: ${op.failure!.message}`).toString('base64'),
            },
          };
      return { status: 200, body: { status: { id: 'COMPLETED' }, operation } };
    });

    // §3.5
    this.on('GET', '/jobs/{id}/checkpoints', ({ params }) => ({ status: 200, body: this.checkpointStats(this.job(params[0])) }));

    // §7.1: bare arrays; plain values are strings, aggregated values numbers.
    this.on('GET', '/jobs/{id}/vertices/{vid}/metrics', ({ params, query }) => {
      const job = this.job(params[0]);
      const values = m.vertexMetricValues(job.id, params[1]);
      const flat: { id: string; value: string }[] = [];
      for (const [name, arr] of values) arr.forEach((x, i) => flat.push({ id: `${i}.${name}`, value: javaDouble(x) }));
      const get = query.get('get');
      if (!get) return { status: 200, body: flat.map((f) => ({ id: f.id })) };
      const want = new Set(get.split(','));
      return { status: 200, body: flat.filter((f) => want.has(f.id)) };
    });
    this.on('GET', '/jobs/{id}/vertices/{vid}/subtasks/metrics', ({ params, query }) => {
      const job = this.job(params[0]);
      const values = m.vertexMetricValues(job.id, params[1]);
      const get = query.get('get');
      if (!get) return { status: 200, body: [...values.keys()].map((id) => ({ id })) };
      const known = p.observedWire ? ['min', 'max', 'avg', 'sum', 'skew'] : ['min', 'max', 'avg', 'sum'];
      const aggs = (query.get('agg') ?? known.join(',')).split(',').map((a) => a.trim().toLowerCase());
      for (const a of aggs) {
        if (!known.includes(a)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${a}' for parameter agg.`]);
      }
      const subtasks = parseSubtasks(query.get('subtasks'));
      const out: Record<string, unknown>[] = [];
      for (const id of get.split(',')) {
        let arr = values.get(id);
        if (!arr) continue;
        if (subtasks) arr = arr.filter((_, i) => subtasks.has(i));
        if (arr.length === 0) continue;
        const sum = arr.reduce((a, x) => a + x, 0);
        const entry: Record<string, unknown> = { id };
        if (aggs.includes('min')) entry.min = aggNumber(Math.min(...arr));
        if (aggs.includes('max')) entry.max = aggNumber(Math.max(...arr));
        if (aggs.includes('avg')) entry.avg = aggNumber(sum / arr.length);
        if (aggs.includes('sum')) entry.sum = aggNumber(sum);
        // skew: how far the busiest subtask is above the average, % of the average (0 when the average is 0)
        if (aggs.includes('skew')) {
          const avg = sum / arr.length;
          entry.skew = aggNumber(avg === 0 ? 0 : Math.round(((Math.max(...arr) - avg) / avg) * 100));
        }
        out.push(entry);
      }
      return { status: 200, body: out };
    });

    // §6
    this.on('GET', '/jars', () => ({
      status: 200,
      body: {
        address: this.url,
        files: m.jars.map((j) => ({ id: j.id, name: j.name, uploaded: j.uploaded, entry: j.entryClasses.map((c) => ({ name: c, description: p.observedWire ? null : 'No description provided' })) })),
      },
    }));
    this.on('POST', '/jars/upload', ({ contentType, rawBody }) => {
      if (!contentType.toLowerCase().startsWith('multipart/form-data')) throw new HttpError(400, ['Exactly 1 file must be sent, received 0.']);
      const files = parseMultipart(contentType, rawBody).filter((x) => x.filename !== undefined);
      if (files.length !== 1) throw new HttpError(400, [`Exactly 1 file must be sent, received ${files.length}.`]);
      const f = files[0];
      if (!f.filename!.endsWith('.jar')) throw new HttpError(400, ['Only Jar files are allowed.']);
      const jar = m.uploadJar(f.filename!.split(/[\\/]/).pop()!, f.data);
      return { status: 200, body: { filename: `/tmp/flink-web-upload/${jar.id}`, status: 'success' } };
    });
    this.on('DELETE', '/jars/{id}', ({ params }) => {
      const i = m.jars.findIndex((j) => j.id === params[0]);
      if (i === -1) throw new HttpError(400, [`File ${params[0]} does not exist in /tmp/flink-web-upload.`]);
      m.jars.splice(i, 1);
      return { status: 200, body: {} };
    });
    this.on('POST', '/jars/{id}/run', ({ params, body, query }) => {
      const b = readBody(body, 'JarRunRequestBody', p.requestFields.jarRun, {
        entryClass: 'string',
        programArgs: 'string',
        programArgsList: 'string[]',
        parallelism: 'integer',
        jobId: 'string',
        savepointPath: 'string',
        allowNonRestoredState: 'boolean',
        restoreMode: 'string',
        flinkConfiguration: 'record',
      });
      if (b.restoreMode != null && !['CLAIM', 'NO_CLAIM', 'LEGACY'].includes(b.restoreMode as string)) throw badFormat('JarRunRequestBody');
      if (b.jobId != null && !HEX32.test(b.jobId as string)) throw badFormat('JarRunRequestBody');
      // The body wins; a query value is used only when the body field is null (§6.3).
      const q = (k: string) => query.get(k) ?? undefined;
      const qInt = (k: string) => {
        const v = q(k);
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${v}' for parameter ${k}.`]);
        return n;
      };
      const args =
        (b.programArgsList as string[] | undefined) ??
        (b.programArgs !== undefined && b.programArgs !== null ? tokenize(b.programArgs as string) : undefined) ??
        (q('programArg') !== undefined ? q('programArg')!.split(',') : q('program-args') !== undefined ? tokenize(q('program-args')!) : []);
      if (p.observedWire && !m.jars.some((j) => j.id === params[0])) {
        throw new HttpError(500, [
          'Internal server error.',
          `<Exception on server side:\njava.util.concurrent.CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file /tmp/flink-web-upload/${params[0]} does not exist\n\tat org.apache.flink.runtime.webmonitor.handlers.utils.JarHandlerUtils$JarHandlerContext.toPackagedProgram(JarHandlerUtils.java)\n\nEnd of exception on server side>`,
        ]);
      }
      const job = m.runJar(params[0], {
        entryClass: (b.entryClass as string) ?? q('entry-class'),
        programArgs: args,
        parallelism: (b.parallelism as number) ?? qInt('parallelism'),
        jobId: (b.jobId as string) ?? undefined,
        savepointPath: (b.savepointPath as string) ?? q('savepointPath'),
        allowNonRestoredState: (b.allowNonRestoredState as boolean) ?? (q('allowNonRestoredState') === 'true' ? true : undefined),
        restoreMode: (b.restoreMode as string) ?? undefined,
        flinkConfiguration: (b.flinkConfiguration as Record<string, string>) ?? undefined,
      });
      return { status: 200, body: { jobid: job.id, ...(p.flink2Wire ? { applicationId: job.id } : {}) } };
    });

    // §5.4 (Flink >= 1.18)
    this.on(
      'GET',
      '/jobs/{id}/resource-requirements',
      ({ params }) => ({ status: 200, body: m.getRequirements(this.job(params[0]).id) }),
      () => p.features.resourceRequirements,
    );
    this.on(
      'PUT',
      '/jobs/{id}/resource-requirements',
      ({ params, body }) => {
        const job = this.job(params[0]);
        if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) throw badFormat('JobResourceRequirementsBody');
        for (const v of Object.values((body ?? {}) as Record<string, unknown>)) {
          const ok =
            typeof v === 'object' &&
            v !== null &&
            Object.keys(v).every((k) => k === 'parallelism') &&
            typeof (v as { parallelism?: unknown }).parallelism === 'object' &&
            Object.keys((v as { parallelism: object }).parallelism ?? {}).every((k) => k === 'lowerBound' || k === 'upperBound');
          if (!ok) throw badFormat('JobResourceRequirementsBody');
        }
        m.putRequirements(job.id, body ?? {});
        return { status: 200, body: {} };
      },
      () => p.features.resourceRequirements,
    );

    // §5.5: the legacy rescaling endpoints are listed but disabled → 503.
    const rescaleDisabled = () => {
      throw new HttpError(503, ['Rescaling is temporarily disabled. See FLINK-12312.']);
    };
    this.on('PATCH', '/jobs/{id}/rescaling', rescaleDisabled);
    this.on('GET', '/jobs/{id}/rescaling/{trigger}', rescaleDisabled);

    // §3.6
    const clusterConfig = () => {
      const entries: Record<string, string> = {
        'jobmanager.rpc.address': 'localhost',
        'rest.port': this.url.split(':').pop() ?? '8081',
        'taskmanager.numberOfTaskSlots': String(m.slotsPerTaskManager),
        'parallelism.default': String(m.defaultParallelism),
        'heartbeat.timeout': String(m.timings.heartbeatTimeoutMs),
        'slot.idle.timeout': String(m.timings.slotIdleTimeoutMs),
        'jobmanager.scheduler': m.scheduler === 'default' ? 'default' : 'adaptive',
      };
      if (m.scheduler === 'reactive') entries['scheduler-mode'] = 'reactive';
      if (m.savepointDir) entries['state.savepoints.dir'] = m.savepointDir;
      return Object.entries(entries).map(([key, value]) => ({ key, value }));
    };
    this.on('GET', '/jobmanager/config', () => ({ status: 200, body: clusterConfig() }));
    this.on(
      'GET',
      '/jobs/{id}/jobmanager/config',
      ({ params }) => {
        const job = this.job(params[0]);
        const extra = Object.entries(job.flinkConfiguration ?? {}).map(([key, value]) => ({ key, value }));
        return { status: 200, body: [...clusterConfig().filter((e) => !(job.flinkConfiguration ?? {})[e.key]), ...extra] };
      },
      () => p.features.jobJobManagerConfig,
    );

    this.defineControlRoutes();
  }

  /** Non-Flink endpoints to drive the model from outside (documented in docs/emulator.md). */
  private defineControlRoutes(): void {
    const m = this.model;
    const num = (v: string | null, what: string) => {
      const n = Number(v);
      if (v === null || !Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number >= 0`);
      return n;
    };
    this.on('GET', '/emulator/state', () => ({ status: 200, body: this.state() }));
    this.on('POST', '/emulator/advance', ({ query }) => {
      m.clock.advance(num(query.get('ms'), 'ms'));
      return { status: 200, body: { now: m.clock.now(), elapsedMs: m.clock.elapsed() } };
    });
    this.on('POST', '/emulator/taskmanagers', ({ query }) => {
      const n = query.get('count') === null ? 1 : num(query.get('count'), 'count');
      const added = Array.from({ length: n }, () => m.addTaskManager().id);
      return { status: 200, body: { added } };
    });
    this.on('DELETE', '/emulator/taskmanagers/{id}', ({ params, query }) => {
      const mode = query.get('mode') ?? 'stop';
      if (mode === 'kill') m.killTaskManager(params[0]);
      else if (mode === 'stop') m.stopTaskManager(params[0]);
      else throw new Error('mode must be "stop" (graceful) or "kill" (heartbeat timeout)');
      return { status: 200, body: { id: params[0], mode } };
    });
    this.on('PUT', '/emulator/streams/{name}/rate', ({ params, query }) => {
      m.setInputRate(params[0], num(query.get('recordsPerSecond'), 'recordsPerSecond'));
      return { status: 200, body: { stream: params[0], recordsPerSecond: Number(query.get('recordsPerSecond')) } };
    });
    this.on('POST', '/emulator/faults', ({ query }) => {
      const f = m.faults;
      const n = query.get('count') === null ? 1 : num(query.get('count'), 'count');
      const kind = query.get('kind');
      if (kind === 'savepoint') f.failNextSavepoints(n);
      else if (kind === 'cancel') f.failNextCancels(n);
      else if (kind === 'run') f.failNextRuns(n);
      else if (kind === 'unavailable') f.unavailableFor(n);
      else if (kind === 'slow') f.slowResponses(num(query.get('ms'), 'ms'), n);
      else throw new Error('kind must be one of savepoint, cancel, run, unavailable, slow');
      return { status: 200, body: { kind, count: n } };
    });
  }

  /** A compact view of the model, for people (GET /emulator/state). */
  state(): unknown {
    const m = this.model;
    return {
      now: m.clock.now(),
      elapsedMs: m.clock.elapsed(),
      flinkVersion: m.profile.version,
      scheduler: m.scheduler,
      taskManagers: m.taskManagers.map((t) => ({ id: t.id, host: t.host, slots: t.slots.length, freeSlots: m.freeSlots(t), dead: t.dead, cpuLoad: m.cpuLoad(t.id) })),
      jobs: m.jobs.map((j) => ({
        id: j.id,
        name: j.name,
        state: j.state,
        parallelism: j.vertices.map((v) => v.parallelism),
        backlog: m.stream(j.stream).produced - j.app.offset,
        processed: j.app.count,
        offset: j.app.offset,
      })),
      streams: [...m.streams.values()].map((s) => ({ name: s.name, produced: s.produced })),
    };
  }

  private slotResource() {
    return { cpuCores: 1.0, taskHeapMemory: 256, taskOffHeapMemory: 0, managedMemory: 256, networkMemory: 64, extendedResources: {} };
  }

  private tmInfo(t: EmuTaskManager): Record<string, unknown> {
    const m = this.model;
    const n = t.slots.length;
    const free = m.freeSlots(t);
    const res = (k: number) => ({ cpuCores: k, taskHeapMemory: 256 * k, taskOffHeapMemory: 0, managedMemory: 256 * k, networkMemory: 64 * k, extendedResources: {} });
    return {
      id: t.id,
      path: `${m.profile.rpcScheme}://flink@${t.host}:6122/user/rpc/taskmanager_0`,
      dataPort: t.dataPort,
      jmxPort: -1,
      timeSinceLastHeartbeat: m.lastHeartbeat(t),
      slotsNumber: n,
      freeSlots: free,
      totalResource: res(n),
      freeResource: res(free),
      hardware: { cpuCores: t.cpuCores, physicalMemory: 8_589_934_592, freeMemory: 1_073_741_824, managedMemory: 268_435_456 * n },
      memoryConfiguration: {
        frameworkHeap: 134_217_728,
        taskHeap: 268_435_456 * n,
        frameworkOffHeap: 134_217_728,
        taskOffHeap: 0,
        networkMemory: 67_108_864 * n,
        managedMemory: 268_435_456 * n,
        jvmMetaspace: 268_435_456,
        jvmOverhead: 201_326_592,
        totalFlinkMemory: 1_073_741_824 * n,
        totalProcessMemory: 1_610_612_736 * n,
      },
      ...(m.profile.features.blocklist && !m.profile.observedWire ? { blocked: false } : {}),
      ...(m.profile.flink2Wire ? { assignedTasks: this.assignedTasks(t) } : {}),
    };
  }

  /** Tasks in a TaskManager's slots (slot sharing: one task of every vertex of the job per slot). */
  private assignedTasks(t: EmuTaskManager, slot?: (typeof t.slots)[number]): number {
    const tasksOf = (jobId: string | null) => (jobId ? (this.model.jobs.find((j) => j.id === jobId)?.vertices.length ?? 0) : 0);
    return slot ? tasksOf(slot.jobId) : t.slots.reduce((a, s) => a + tasksOf(s.jobId), 0);
  }

  private jobTasks(job: EmuJob): Record<string, number> {
    const counts = this.model.taskStateCounts(job);
    const lower: Record<string, number> = { total: job.vertices.reduce((a, v) => a + Math.max(v.parallelism, 1), 0) };
    for (const [k, v] of Object.entries(counts)) lower[k.toLowerCase()] = v;
    return lower;
  }

  private jobOverview(j: EmuJob): Record<string, unknown> {
    const now = this.model.clock.now();
    return {
      jid: j.id,
      name: j.name,
      'start-time': j.startTime,
      'end-time': j.endTime,
      duration: (j.endTime === -1 ? now : j.endTime) - j.startTime,
      state: j.state,
      'last-modification': j.lastModification,
      tasks: this.jobTasks(j),
      ...(this.model.profile.flink2Wire ? { jobType: 'STREAMING', schedulerType: this.schedulerType(), 'pending-operators': 0 } : {}),
    };
  }

  /** Flink 2.x's schedulerType (JobManagerOptions.SchedulerType). */
  private schedulerType(): string {
    return this.model.scheduler === 'default' ? 'Default' : 'Adaptive';
  }

  private jobDetails(j: EmuJob): Record<string, unknown> {
    const m = this.model;
    const now = m.clock.now();
    const timestamps: Record<string, number> = {};
    for (const s of JOB_STATES) {
      timestamps[s] = j.timestamps[s] ?? 0;
    }
    const vertexStatus = j.taskState;
    const vertices = j.vertices.map((v) => {
      const tasks: Record<string, number> = {};
      for (const s of ['CREATED', 'SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED', 'RECONCILING', 'INITIALIZING']) tasks[s] = 0;
      tasks[vertexStatus] = Math.max(v.parallelism, 1);
      return {
        id: v.id,
        ...(m.profile.observedWire ? { slotSharingGroupId: hex32(`${j.id}/slot-sharing-group`) } : {}),
        name: v.name,
        maxParallelism: v.maxParallelism,
        parallelism: v.parallelism,
        status: vertexStatus,
        'start-time': j.runningSince ?? -1,
        'end-time': isTerminal(j.state) ? j.endTime : -1,
        duration: j.runningSince ? (isTerminal(j.state) ? j.endTime : now) - j.runningSince : -1,
        tasks,
        metrics: {
          'read-bytes': Math.round(v.totals.recordsIn * 100),
          'read-bytes-complete': true,
          'write-bytes': Math.round(v.totals.recordsOut * 100),
          'write-bytes-complete': true,
          'read-records': Math.round(v.totals.recordsIn),
          'read-records-complete': true,
          'write-records': Math.round(v.totals.recordsOut),
          'write-records-complete': true,
          'accumulated-backpressured-time': Math.round(v.totals.backPressuredMs),
          'accumulated-idle-time': Math.round(v.totals.idleMs),
          'accumulated-busy-time': v.totals.busyMs,
        },
      };
    });
    const [src, keyed, sink] = j.vertices;
    const node = (v: typeof src, inputs: { id: string; strategy: string }[]) => ({
      id: v.id,
      parallelism: v.parallelism,
      operator: '',
      operator_strategy: '',
      description: v.name.replace(/ -> /g, '<br/>+- '),
      ...(inputs.length
        ? { inputs: inputs.map((x, num) => ({ num, id: x.id, ship_strategy: x.strategy, exchange: 'pipelined_bounded' })) }
        : {}),
      optimizer_properties: {},
    });
    return {
      jid: j.id,
      name: j.name,
      isStoppable: false,
      state: j.state,
      ...(m.profile.observedWire ? { 'job-type': 'STREAMING' } : {}),
      ...(m.profile.flink2Wire ? { 'application-id': j.id, schedulerType: this.schedulerType(), 'pending-operators': 0 } : {}),
      'start-time': j.startTime,
      'end-time': j.endTime,
      duration: (j.endTime === -1 ? now : j.endTime) - j.startTime,
      maxParallelism: j.program.maxParallelism,
      now,
      timestamps,
      vertices,
      'status-counts': m.taskStateCounts(j),
      plan: {
        jid: j.id,
        name: j.name,
        type: 'STREAMING',
        nodes: [node(src, []), node(keyed, [{ id: src.id, strategy: 'HASH' }]), node(sink, [{ id: keyed.id, strategy: 'REBALANCE' }])],
      },
    };
  }

  /** GET /jobs/{id}/vertices/{vid}: one entry per subtask (slot sharing: subtask i of every vertex in slot i). */
  private vertexDetail(j: EmuJob, vid: string): Record<string, unknown> {
    const m = this.model;
    const v = j.vertices.find((x) => x.id === vid);
    if (!v) throw new HttpError(404, [`No vertex with ID '${vid}' exists.`]);
    const now = m.clock.now();
    const n = Math.max(v.parallelism, 1);
    const running = j.runningSince ?? -1;
    const end = isTerminal(j.state) ? j.endTime : -1;
    const per = (x: number) => Math.round(x / n);
    const metrics = {
      'read-bytes': per(v.totals.recordsIn * 100),
      'read-bytes-complete': true,
      'write-bytes': per(v.totals.recordsOut * 100),
      'write-bytes-complete': true,
      'read-records': per(v.totals.recordsIn),
      'read-records-complete': true,
      'write-records': per(v.totals.recordsOut),
      'write-records-complete': true,
      'accumulated-backpressured-time': per(v.totals.backPressuredMs),
      'accumulated-idle-time': per(v.totals.idleMs),
      'accumulated-busy-time': per(v.totals.busyMs),
    };
    const statusDuration: Record<string, number> = {
      CREATED: 10,
      SCHEDULED: 10,
      DEPLOYING: m.timings.deployMs,
      INITIALIZING: m.timings.initMs,
      RUNNING: running === -1 ? 0 : (end === -1 ? now : end) - running,
    };
    const subtasks = Array.from({ length: n }, (_, i) => {
      const tm = j.slots[i]?.tm;
      const host = tm?.host ?? '(unassigned)';
      return {
        subtask: i,
        status: j.taskState,
        attempt: j.attempt,
        // `host` was removed in Flink 2.0 (the endpoint carries it)
        ...(m.profile.flink2Wire ? {} : { host }),
        endpoint: tm ? `${host}:${tm.dataPort}` : '(unassigned)',
        'start-time': running,
        'end-time': end,
        duration: running === -1 ? -1 : (end === -1 ? now : end) - running,
        metrics,
        'taskmanager-id': tm?.id ?? '(unassigned)',
        'status-duration': statusDuration,
        start_time: running,
      };
    });
    const stats = (x: number) => ({ min: x, max: x, avg: x, sum: x * n, median: x, p25: x, p75: x, p95: x });
    const numeric = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === 'number').map(([k, x]) => [k, stats(x as number)]));
    return {
      id: v.id,
      name: v.name,
      parallelism: v.parallelism,
      maxParallelism: v.maxParallelism,
      now,
      subtasks,
      aggregated: { metrics: numeric(metrics), 'status-duration': numeric(statusDuration) },
    };
  }

  /** Job-scope metrics (GET /jobs/{id}/metrics): plain values as strings, like every metric-store value. */
  private jobMetricValues(j: EmuJob): Record<string, string> {
    const now = this.model.clock.now();
    const completed = j.checkpoints.filter((c) => c.status === 'COMPLETED');
    const last = completed[completed.length - 1];
    const inState = (s: JobStatus) => (j.state === s && j.timestamps[s] ? now - j.timestamps[s]! : 0);
    const uptime = j.state === 'RUNNING' && j.runningSince ? now - j.runningSince : 0;
    return {
      uptime: String(uptime),
      downtime: '0',
      numRestarts: String(j.attempt),
      fullRestarts: String(j.attempt),
      runningTime: String(uptime),
      restartingTime: String(inState('RESTARTING')),
      cancellingTime: String(inState('CANCELLING')),
      failingTime: String(inState('FAILING')),
      initializingTime: String(inState('INITIALIZING')),
      createdTime: String(inState('CREATED')),
      deployingTime: '0',
      totalNumberOfCheckpoints: String(j.checkpoints.length),
      numberOfCompletedCheckpoints: String(completed.length),
      numberOfFailedCheckpoints: String(j.checkpoints.filter((c) => c.status === 'FAILED').length),
      numberOfInProgressCheckpoints: String(j.checkpoints.filter((c) => c.status === 'IN_PROGRESS').length),
      lastCompletedCheckpointId: String(last?.id ?? -1),
      lastCheckpointSize: String(last?.stateSize ?? -1),
      lastCheckpointFullSize: String(last?.stateSize ?? -1),
      lastCheckpointDuration: String(last ? last.ackAt! - last.triggeredAt : -1),
      lastCheckpointProcessedData: String(last ? 0 : -1),
      lastCheckpointPersistedData: String(last ? 0 : -1),
      lastCheckpointExternalPath: last?.externalPath ?? 'n/a',
      lastCheckpointRestoreTimestamp: String(j.restoredFrom?.at ?? -1),
      ...(this.model.profile.flink2Wire
        ? { numRescales: '0', lastCheckpointMetadataSize: String(last ? 4096 : -1), lastCheckpointCompletedTimestamp: String(last?.ackAt ?? -1) }
        : {}),
    };
  }

  private checkpointStats(j: EmuJob): Record<string, unknown> {
    if (j.checkpointIntervalMs === null && !j.checkpoints.some((c) => c.isSavepoint)) {
      throw new HttpError(404, ['Checkpointing has not been enabled.']);
    }
    const stat = (c: (typeof j.checkpoints)[number]) => {
      const base: Record<string, unknown> = {
        className: c.status === 'COMPLETED' ? 'completed' : c.status === 'FAILED' ? 'failed' : 'in_progress',
        id: c.id,
        status: c.status,
        is_savepoint: c.isSavepoint,
        savepointFormat: c.isSavepoint ? 'CANONICAL' : null,
        trigger_timestamp: c.triggeredAt,
        latest_ack_timestamp: c.ackAt ?? -1,
        state_size: c.stateSize,
        checkpointed_size: c.stateSize,
        end_to_end_duration: (c.ackAt ?? this.model.clock.now()) - c.triggeredAt,
        alignment_buffered: 0,
        processed_data: 0,
        persisted_data: 0,
        num_subtasks: c.numSubtasks,
        num_acknowledged_subtasks: c.status === 'COMPLETED' ? c.numSubtasks : 0,
        checkpoint_type: c.isSavepoint ? 'SAVEPOINT' : 'CHECKPOINT',
        tasks: {},
      };
      if (base.savepointFormat === null && !this.model.profile.observedWire) delete base.savepointFormat;
      if (c.status === 'COMPLETED') Object.assign(base, { external_path: c.externalPath, discarded: false });
      if (c.status === 'FAILED') Object.assign(base, { failure_timestamp: c.ackAt ?? c.triggeredAt, failure_message: c.failureMessage ?? 'Checkpoint was aborted.' });
      return base;
    };
    const completed = j.checkpoints.filter((c) => c.status === 'COMPLETED');
    const latestOf = (f: (c: (typeof j.checkpoints)[number]) => boolean) => {
      const c = [...j.checkpoints].reverse().find(f);
      return c ? stat(c) : null;
    };
    const sizes = completed.map((c) => c.stateSize);
    const durations = completed.map((c) => c.ackAt! - c.triggeredAt);
    const summary = (xs: number[]) => {
      if (xs.length === 0) return { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
      const sorted = [...xs].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      return {
        min: sorted[0],
        max: sorted[sorted.length - 1],
        avg: Math.round(xs.reduce((a, x) => a + x, 0) / xs.length),
        p50: q(0.5),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
      };
    };
    const zero = summary([]);
    const r = j.restoredFrom;
    return {
      counts: {
        restored: r ? 1 : 0,
        total: j.checkpoints.length,
        in_progress: j.checkpoints.filter((c) => c.status === 'IN_PROGRESS').length,
        completed: completed.length,
        failed: j.checkpoints.filter((c) => c.status === 'FAILED').length,
      },
      summary: {
        checkpointed_size: summary(sizes),
        state_size: summary(sizes),
        end_to_end_duration: summary(durations),
        alignment_buffered: zero,
        processed_data: zero,
        persisted_data: zero,
      },
      latest: {
        completed: latestOf((c) => c.status === 'COMPLETED' && !c.isSavepoint),
        savepoint: latestOf((c) => c.status === 'COMPLETED' && c.isSavepoint),
        failed: latestOf((c) => c.status === 'FAILED'),
        restored: r ? { id: r.id, restore_timestamp: r.at, is_savepoint: r.isSavepoint, external_path: r.path } : null,
      },
      history: [...j.checkpoints].reverse().slice(0, 10).map(stat),
    };
  }
}

function parseSubtasks(s: string | null): Set<number> | undefined {
  if (!s) return undefined;
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${part}' for parameter subtasks.`]);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}
