/**
 * The emulator's HTTP face: node:http on 127.0.0.1, the JobManager's REST paths and wire format
 * (endpoints.md is the reference; § numbers in routes/). Paths may carry the "/v1" prefix (§1).
 *
 * Non-Flink control endpoints live under /emulator/ (advance the clock, add/kill TaskManagers, set input rates,
 * inject faults) so people and other processes can drive the model with curl; Flink has nothing like them.
 *
 * The routes themselves live in routes/*.ts, one file per group (cluster, task managers, jobs, metrics, savepoints
 * and checkpoints, jars, control); this file is the HTTP plumbing: parsing, faults, recording, dispatch.
 */
import { createServer, type IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HttpRequest, HttpResponse } from '../../functions/adapters/http';
import { HEX32 } from '../../functions/adapters/flink/wire';
import { EmuJob, FlinkModel, FlinkRestError } from './model';
import { clusterRoutes } from './routes/cluster';
import { controlRoutes, emulatorState } from './routes/control';
import { Handler, HttpError, RouteContext } from './routes/http';
import { jarRoutes } from './routes/jars';
import { jobRoutes } from './routes/jobs';
import { metricRoutes } from './routes/metrics';
import { savepointRoutes } from './routes/savepoints';
import { taskManagerRoutes } from './routes/taskmanagers';

export { javaDouble } from './routes/http';

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

  /** Registers the route groups, in this order (the first route whose path and method match answers). */
  private defineRoutes(): void {
    const ctx: RouteContext = {
      model: this.model,
      profile: this.model.profile,
      url: () => this.url,
      on: (method, path, handler, available) => this.on(method, path, handler, available),
      job: (id) => this.job(id),
    };
    for (const group of [clusterRoutes, taskManagerRoutes, jobRoutes, metricRoutes, savepointRoutes, jarRoutes, controlRoutes]) group(ctx);
  }

  /** A compact view of the model, for people (GET /emulator/state). */
  state(): unknown {
    return emulatorState(this.model);
  }
}
