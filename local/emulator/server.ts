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
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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

const json = (res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
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
  private record: boolean;
  url = '';

  constructor(model: FlinkModel, private readonly opts: ServerOptions = {}) {
    this.model = model;
    this.record = opts.record ?? false;
    this.defineRoutes();
  }

  async listen(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((e) => {
        json(res, 500, { errors: ['Internal server error.', `<Exception on server side:\n${(e as Error).stack}\n\nEnd of exception on server side>`] });
      });
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
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
      json(res, status, payload, headers);
    };

    const isControl = path.startsWith('/emulator/');
    if (!isControl && this.model.faults.unavailableCalls > 0) {
      this.model.faults.unavailableCalls--;
      return respond(503, { errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'] });
    }
    const candidates = this.routes.filter((r) => r.pattern.test(path) && (!r.available || r.available()));
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

  private on(method: string, path: string, handler: Handler, available?: () => boolean): void {
    const pattern = new RegExp(`^${path.replace(/\{[a-z]+\}/g, '([^/]+)')}$`);
    this.routes.push({ method, pattern, handler, available });
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
