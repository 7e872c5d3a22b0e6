/**
 * FlinkRestClient: the implementation of FlinkApi (types.ts) against a Flink JobManager's REST API, over node:http(s)
 * (../http.ts: no HTTP library in the Lambda bundles).
 *
 * - Version detection from GET /config (cached); never sends a field the detected version does not know
 *   (endpoints.md §1, §8) and refuses, before sending, a request that needs a newer Flink.
 * - Every call has a timeout; connection errors, timeouts and 5xx are retried with exponential backoff, 4xx never.
 * - Failures are `FlinkApiError`s naming the call, the job, the HTTP status and what Flink said.
 * - Wire-format quirks (kebab-case fields, bare metric arrays, async operation shapes) stay in this file.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import type * as z from 'zod';
import type {
  CheckpointSummary,
  ClusterOverview,
  FlinkApi,
  FlinkVersionInfo,
  JarInfo,
  JobDetails,
  JobStatus,
  JobSummary,
  JobVertex,
  ResourceRequirements,
  RunJarRequest,
  SavepointRequest,
  SavepointStatus,
  StopWithSavepointRequest,
  TaskManagerDetails,
  TaskManagerInfo,
  SubtaskPlacement,
  VertexMetrics,
} from './types';
import { HEX32, isJobStatus, isTerminal, JOB_STATES, versionInfo } from './wire';
import * as R from './responses';
import { preview } from '../../core/preview';
import { send, type HttpRequest, type HttpResponse, type TransportError } from '../http';

export type FlinkAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export interface FlinkRestClientOptions {
  /** JobManager REST base URL, e.g. "http://10.0.1.10:8081" (a path prefix such as a proxy route is kept). */
  baseUrl: string;
  /** Timeout of one HTTP attempt, ms. */
  timeoutMs: number;
  /** Resolved credentials (looking them up in Secrets Manager is the caller's job). */
  auth?: FlinkAuth;
  /** PEM CA bundle for HTTPS endpoints with a private CA. */
  caPem?: string;
  /** Retries after the first attempt on connection errors, timeouts and 5xx. Default 3. */
  retries?: number;
  /** First backoff delay, ms; doubles per retry (capped at 10 s). Default 250. */
  retryDelayMs?: number;
  /** Skip detection: the cluster's Flink version ("1.14", "1.19.1", ...). */
  version?: string;
  /** Replaceable sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Replaceable transport (default: one HTTP(S) request, ../http `send`). The simulator's fast mode answers in
   * process from the emulator's server (local/emulator/server.ts `exchange`); everything above it is unchanged.
   */
  transport?: (r: HttpRequest) => Promise<HttpResponse>;
}

/**
 * 5xx answers that asking again cannot change: Flink reports a program that is not in the jar (or a jar without a
 * main class) and an operation the scheduler does not support as HTTP 500 with the Java exception in `errors`.
 */
const PERMANENT_5XX =
  /UnsupportedOperationException|does not support changing the parallelism|entry point class '[^']*' was not found|ClassNotFoundException|Neither a 'Main-Class', nor a 'program-class' entry was found/;

/** A failed Flink REST call. `retryable` says whether trying again later may help. */
export class FlinkApiError extends Error {
  readonly call: string;
  readonly jobId?: string;
  /** HTTP status, or undefined when no response arrived (connection error, timeout). */
  readonly status?: number;
  /** Flink's `{"errors": [...]}` (first line of each), or the transport error. */
  readonly errors: string[];
  readonly retryable: boolean;
  /** Node error code for transport failures (ECONNREFUSED, ETIMEDOUT, a TLS code, ...). */
  readonly code?: string;
  readonly attempts: number;

  constructor(p: { call: string; jobId?: string; status?: number; errors: string[]; retryable: boolean; code?: string; attempts?: number; baseUrl?: string }) {
    const what = p.status !== undefined ? `HTTP ${p.status}` : (p.code ?? 'no response');
    // the JobManager's address never goes into a message (they reach logs and notifications): "<flink.url>" stands for it
    const errors = p.baseUrl ? p.errors.map((e) => redactAddress(e, p.baseUrl!)) : p.errors;
    const said = errors.length ? `: ${errors.join(' | ')}` : '';
    super(`Flink ${p.call}${p.jobId ? ` (job ${p.jobId})` : ''} failed: ${what}${said}`);
    this.name = 'FlinkApiError';
    this.call = p.call;
    this.jobId = p.jobId;
    this.status = p.status;
    this.errors = errors;
    this.retryable = p.retryable;
    this.code = p.code;
    this.attempts = p.attempts ?? 1;
  }
}

/** `text` with the base URL, its host:port and its host replaced by "<flink.url>" (transport errors name the address). */
export function redactAddress(text: string, baseUrl: string): string {
  let host: string;
  let hostPort: string;
  try {
    const u = new URL(baseUrl);
    host = u.hostname;
    hostPort = u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return text.split(baseUrl).join('<flink.url>');
  }
  return [baseUrl, hostPort, host].filter((x) => x.length > 0).reduce((t, x) => t.split(x).join('<flink.url>'), text).replace(/(<flink\.url>)(:\d+)+/g, '$1');
}

/**
 * Deterministic 32-hex savepoint trigger id for a seed (e.g. the workflow execution id + job id): a retried step
 * re-sends the same id, and Flink answers with the operation it already has instead of taking a second savepoint.
 */
export function savepointTriggerId(seed: string): string {
  if (typeof seed !== 'string' || seed.length === 0) throw new Error('savepointTriggerId: seed must be a non-empty string');
  return createHash('sha256').update(`flink-elastic/savepoint/${seed}`).digest('hex').slice(0, 32);
}

/** Short form of a Flink error line: the first line, without a "<Exception on server side:" wrapper. */
function firstLines(errors: unknown): string[] {
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is string => typeof e === 'string')
    .map((e) => {
      const lines = e.replace(/^<Exception on server side:\s*/, '').split('\n');
      return lines.filter((l) => l.trim() && !/^\s+at /.test(l)).slice(0, 2).join(' ').trim();
    })
    .filter((e) => e.length > 0);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined; // "NaN" → undefined
  }
  return undefined;
}

const USER_AGENT = 'flink-elastic';

/** `?a=1&b=x,y` from the defined params (encoded as before: `:`, `$` and `,` kept, space as `+`), or ''. */
function queryString(params: CallOptions['params']): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%20/g, '+');
  const parts = Object.entries(params ?? {})
    .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== null)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface CallOptions {
  call: string;
  jobId?: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  params?: Record<string, string | number | undefined>;
  data?: unknown;
  headers?: Record<string, string>;
  /** Retry on 5xx / timeouts (default true). Transport errors before a connection is made always retry. */
  retry5xx?: boolean;
  /** Statuses that are answers, not errors. */
  accept?: number[];
}

export class FlinkRestClient implements FlinkApi {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly agent?: HttpsAgent;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly transport: (r: HttpRequest) => Promise<HttpResponse>;
  private versionPromise?: Promise<FlinkVersionInfo>;

  constructor(opts: FlinkRestClientOptions) {
    if (!opts || typeof opts.baseUrl !== 'string' || !/^https?:\/\/[^\s/]+/.test(opts.baseUrl)) {
      throw new Error(`FlinkRestClient: baseUrl must be an http(s) URL such as "http://10.0.1.10:8081", got ${JSON.stringify(opts?.baseUrl)}`);
    }
    if (!(opts.timeoutMs >= 1 && opts.timeoutMs <= 600_000)) throw new Error(`FlinkRestClient: timeoutMs must be from 1 to 600000, got ${opts.timeoutMs}`);
    const retries = opts.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) throw new Error(`FlinkRestClient: retries must be an integer from 0 to 10, got ${retries}`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.retries = retries;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.transport = opts.transport ?? send;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    if (opts.auth?.type === 'basic') headers.Authorization = `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`;
    else if (opts.auth?.type === 'bearer') headers.Authorization = `Bearer ${opts.auth.token}`;
    this.headers = headers;
    this.timeoutMs = opts.timeoutMs;
    // no redirects followed, no proxy (send() does neither); a private CA only for this client's connections
    this.agent = opts.caPem ? new HttpsAgent({ ca: opts.caPem, keepAlive: false }) : undefined;
    if (opts.version) {
      // Kept as given: a configured "1.20" is reported as "1.20", never as a patch release the cluster may not run.
      this.versionPromise = Promise.resolve(versionInfo(opts.version));
    }
  }

  // ------------------------------------------------------------------ transport

  private async request<T>(o: CallOptions): Promise<{ status: number; data: T }> {
    const accept = o.accept ?? [];
    let attempt = 0;
    for (;;) {
      attempt++;
      let failure: FlinkApiError;
      try {
        const res = await this.exchange(o);
        if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) return { status: res.status, data: res.data as T };
        const errors = firstLines((res.data as { errors?: unknown } | undefined)?.errors);
        if (errors.length === 0 && typeof res.data === 'string' && res.data.trim()) errors.push(res.data.trim().slice(0, 300));
        const permanent = errors.some((e) => PERMANENT_5XX.test(e));
        const retryable = res.status >= 500 && !permanent && o.retry5xx !== false;
        failure = new FlinkApiError({ call: o.call, jobId: o.jobId, status: res.status, errors, retryable: res.status >= 500 && !permanent, attempts: attempt, baseUrl: this.baseUrl });
        if (!retryable || attempt > this.retries) throw failure;
      } catch (e) {
        if (e instanceof FlinkApiError) throw e;
        const ax = e as TransportError;
        const code = ax.code ?? 'ERR_UNKNOWN';
        // A refused connection never reached Flink: always safe to retry. Timeouts/resets may have: only if allowed.
        const neverSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
        // A certificate Flink's TLS endpoint cannot be verified with (wrong CA, wrong name) will not heal by itself.
        const tlsProblem = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/i.test(code);
        const retryable = !tlsProblem && (neverSent || o.retry5xx !== false);
        failure = new FlinkApiError({ call: o.call, jobId: o.jobId, errors: [ax.message], retryable: !tlsProblem, code, attempts: attempt, baseUrl: this.baseUrl });
        if (!retryable || attempt > this.retries) throw failure;
      }
      await this.sleep(Math.min(10_000, this.retryDelayMs * 2 ** (attempt - 1)));
    }
  }

  /** One HTTP exchange: JSON (or multipart) body out; the answer's JSON, else its text ('' when empty). */
  private async exchange(o: CallOptions): Promise<{ status: number; data: unknown }> {
    const headers: Record<string, string> = { ...this.headers, ...o.headers };
    let body: Buffer | undefined;
    if (o.data instanceof FormData) {
      const encoded = new Response(o.data); // multipart/form-data with a generated boundary
      headers['Content-Type'] = encoded.headers.get('content-type')!;
      body = Buffer.from(await encoded.arrayBuffer());
    } else if (o.data !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = Buffer.from(JSON.stringify(o.data));
    }
    const res = await this.transport({ method: o.method, url: new URL(this.baseUrl + o.path + queryString(o.params)), headers, body, timeoutMs: this.timeoutMs, agent: this.agent, decompress: true });
    const text = res.body.toString('utf8').replace(/^\uFEFF/, '');
    return { status: res.status, data: text ? parseJsonOr(text) : text };
  }

  /**
   * Checks an answer against its schema (responses.ts) before any field is read. A bad answer is a FlinkApiError
   * naming the endpoint and the field; it is not retried (asking again gives the same).
   */
  private read<S extends z.ZodType>(call: string, endpoint: string, schema: S, res: { status: number; data: unknown }, jobId?: string): z.infer<S> {
    const r = schema.safeParse(res.data);
    if (r.success) return r.data;
    throw new FlinkApiError({ call, jobId, status: res.status, errors: R.responseProblems(endpoint, r.error, res.data), retryable: false, baseUrl: this.baseUrl });
  }

  /** GET `path`, checked against `schema`. */
  private async getChecked<S extends z.ZodType>(call: string, path: string, schema: S, params?: CallOptions['params'], jobId?: string): Promise<z.infer<S>> {
    const res = await this.request<unknown>({ call, method: 'GET', path, params, jobId });
    return this.read(call, `GET ${path}`, schema, res, jobId);
  }

  private jobPath(jobId: string, call: string, suffix = ''): string {
    if (typeof jobId !== 'string' || !HEX32.test(jobId)) {
      throw new FlinkApiError({ call, jobId: String(jobId), errors: [`jobId must be 32 lower-case hex characters, got ${JSON.stringify(jobId)}`], retryable: false });
    }
    return `/jobs/${jobId}${suffix}`;
  }

  private unsupported(call: string, what: string, needs: string, v: FlinkVersionInfo, jobId?: string): FlinkApiError {
    return new FlinkApiError({ call, jobId, errors: [`${what} needs Flink ${needs}; the cluster runs ${v.version}. Nothing was sent.`], retryable: false, baseUrl: this.baseUrl });
  }

  // ------------------------------------------------------------------ cluster

  version(): Promise<FlinkVersionInfo> {
    if (!this.versionPromise) {
      const p = this.getChecked('version (GET /config)', '/config', R.ConfigResponse).then((c) => {
        const v = c['flink-version'];
        try {
          return versionInfo(v);
        } catch {
          // named like every bad answer (it read "failed: no response: not a Flink version" before; found by fuzzing)
          throw new FlinkApiError({
            call: 'version (GET /config)',
            status: 200,
            errors: [`GET /config: response field flink-version must be a Flink version such as "1.19.1", got ${preview(v)}`],
            retryable: false,
            baseUrl: this.baseUrl,
          });
        }
      });
      this.versionPromise = p;
      p.catch(() => {
        if (this.versionPromise === p) this.versionPromise = undefined; // do not cache a failure
      });
    }
    return this.versionPromise;
  }

  async overview(): Promise<ClusterOverview> {
    const o = await this.getChecked('overview', '/overview', R.OverviewResponse);
    return {
      taskManagers: o.taskmanagers,
      slotsTotal: o['slots-total'],
      slotsAvailable: o['slots-available'],
      jobsRunning: o['jobs-running'] ?? 0,
      flinkVersion: o['flink-version'] ?? '',
    };
  }

  /**
   * One TaskManager. Slot counts Flink did not send, or sent as something other than counts (negative, fractional,
   * more free than total), are left out: unknown, which never reads as idle (targets/common.ts isIdle).
   */
  private tmInfo(t: z.infer<typeof R.TaskManagersResponse>['taskmanagers'][number]): TaskManagerInfo {
    const path = t.path ?? '';
    const host = /@([^:/]+)(?::\d+)?\//.exec(path)?.[1] ?? /^([^:]+):\d+-/.exec(t.id)?.[1] ?? '';
    const slotCount = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
    const total = slotCount(t.slotsNumber);
    const free = slotCount(t.freeSlots);
    const known = total !== undefined && free !== undefined && free <= total;
    return {
      id: t.id,
      path,
      host,
      ...(known ? { slotsNumber: total, freeSlots: free } : {}),
      lastHeartbeat: t.timeSinceLastHeartbeat ?? 0,
      ...(t.blocked !== undefined ? { blocked: t.blocked } : {}),
    };
  }

  async taskManagers(): Promise<TaskManagerInfo[]> {
    const r = await this.getChecked('taskManagers', '/taskmanagers', R.TaskManagersResponse);
    return r.taskmanagers.map((t) => this.tmInfo(t));
  }

  async taskManager(id: string): Promise<TaskManagerDetails> {
    const t = await this.getChecked('taskManager', `/taskmanagers/${encodeURIComponent(id)}`, R.TaskManagerResponse);
    return { ...this.tmInfo(t), allocatedSlots: (t.allocatedSlots ?? []).map((s) => ({ jobId: s.jobId })) };
  }

  async taskManagerMetrics(taskManagerId: string, names: string[]): Promise<Record<string, number | undefined>> {
    if (names.length === 0) return {};
    const r = await this.getChecked('taskManagerMetrics', `/taskmanagers/${encodeURIComponent(taskManagerId)}/metrics`, R.MetricsResponse, { get: names.join(',') });
    const out: Record<string, number | undefined> = {};
    for (const m of r) if (names.includes(m.id)) out[m.id] = num(m.value);
    return out;
  }

  async jobManagerConfig(jobId?: string): Promise<Record<string, string>> {
    let path = '/jobmanager/config';
    if (jobId !== undefined) {
      const v = await this.version();
      if (v.features.jobJobManagerConfig) path = this.jobPath(jobId, 'jobManagerConfig', '/jobmanager/config');
    }
    const r = await this.getChecked('jobManagerConfig', path, R.ConfigEntriesResponse, undefined, jobId);
    return Object.fromEntries(r.map((e) => [e.key, String(e.value)]));
  }

  // ------------------------------------------------------------------ jobs

  /** A response Flink would not send: the field, what is allowed, what came. Not retried (asking again gives the same). */
  private badResponse(call: string, jobId: string | undefined, field: string, allowed: string, got: unknown): FlinkApiError {
    return new FlinkApiError({ call, jobId, errors: [`response field ${field} must be ${allowed}, got ${got === undefined ? 'nothing' : preview(got)}`], retryable: false, baseUrl: this.baseUrl });
  }

  /** The job state, one of Flink's JobStatus values (anything else would be misread as "not running" or worse). */
  private jobState(call: string, jobId: string | undefined, field: string, v: unknown): JobStatus {
    if (!isJobStatus(v)) throw this.badResponse(call, jobId, field, `one of ${JOB_STATES.join(', ')}`, v);
    return v;
  }

  async jobs(): Promise<JobSummary[]> {
    const r = await this.getChecked('jobs', '/jobs/overview', R.JobsOverviewResponse);
    return r.jobs.map((j, i) => ({
      id: j.jid,
      name: j.name,
      state: this.jobState('jobs', undefined, `jobs[${i}].state`, j.state),
      startTime: j['start-time'] ?? 0,
      endTime: j['end-time'] ?? -1,
    }));
  }

  async findJobByName(name: string): Promise<JobSummary | undefined> {
    const live = (await this.jobs()).filter((j) => j.name === name && !isTerminal(j.state));
    return live.sort((a, b) => b.startTime - a.startTime)[0];
  }

  async job(jobId: string): Promise<JobDetails> {
    const path = this.jobPath(jobId, 'job');
    const d = await this.getChecked('job', path, R.JobDetailsResponse, undefined, jobId);
    const state = this.jobState('job', jobId, 'state', d.state);
    if (d.jid !== jobId) throw this.badResponse('job', jobId, 'jid', `the job id asked for (${jobId})`, d.jid);
    const nodes = new Map((d.plan?.nodes ?? []).map((n) => [n.id, n]));
    const vertices: JobVertex[] = d.vertices.map((v) => {
      const inputs = nodes.get(v.id)?.inputs ?? [];
      const tasks: Record<string, number> = {};
      for (const [k, n] of Object.entries(v.tasks ?? {})) tasks[k.toUpperCase()] = num(n) ?? 0;
      return {
        id: v.id,
        name: v.name ?? '',
        parallelism: v.parallelism,
        maxParallelism: v.maxParallelism ?? -1,
        status: v.status ?? '',
        tasks,
        keyedInput: inputs.some((i) => (i.ship_strategy ?? '').toUpperCase() === 'HASH'),
        inputs: inputs.map((i) => i.id),
      };
    });
    const timestamps: Partial<Record<JobStatus, number>> = {};
    for (const [k, v] of Object.entries(d.timestamps ?? {})) {
      const n = num(v);
      if (n !== undefined && n > 0) timestamps[k.toUpperCase() as JobStatus] = n;
    }
    return {
      id: d.jid,
      name: d.name,
      state,
      startTime: d['start-time'] ?? 0,
      maxParallelism: d.maxParallelism ?? -1,
      timestamps,
      vertices,
      now: d.now ?? 0,
    };
  }

  async checkpoints(jobId: string): Promise<CheckpointSummary> {
    const r = await this.request<unknown>({ call: 'checkpoints', jobId, method: 'GET', path: this.jobPath(jobId, 'checkpoints', '/checkpoints'), accept: [404] });
    if (r.status === 404) {
      const errors = firstLines((r.data as { errors?: unknown })?.errors);
      if (errors.some((e) => /Checkpointing has not been enabled/i.test(e))) return { enabled: false, completed: 0, inProgress: 0, failed: 0 };
      throw new FlinkApiError({ call: 'checkpoints', jobId, status: 404, errors, retryable: false, baseUrl: this.baseUrl });
    }
    const d = this.read('checkpoints', `GET /jobs/${jobId}/checkpoints`, R.CheckpointsResponse, r, jobId);
    const latest = d.latest?.completed;
    const restored = d.latest?.restored;
    return {
      enabled: true,
      completed: d.counts.completed,
      inProgress: d.counts.in_progress,
      failed: d.counts.failed,
      ...(latest
        ? {
            latestCompleted: {
              id: latest.id,
              externalPath: latest.external_path ?? undefined,
              completedAt: latest.latest_ack_timestamp,
              stateSize: latest.state_size,
            },
          }
        : {}),
      ...(restored ? { restored: { id: restored.id, externalPath: restored.external_path ?? undefined, isSavepoint: restored.is_savepoint === true } } : {}),
    };
  }

  /**
   * Aggregated subtask metrics of one vertex (endpoints.md §7): one call lists the ids the vertex has (to find the
   * operator-scoped `<Operator>.pendingRecords` of a source), one fetches them aggregated. Missing or "NaN" →
   * absent. Rates are summed over subtasks; busy/backpressure give max and avg.
   */
  async vertexMetrics(jobId: string, vertexId: string): Promise<VertexMetrics> {
    const path = `${this.jobPath(jobId, 'vertexMetrics')}/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics`;
    const available = await this.getChecked('vertexMetrics', path, R.MetricsResponse, undefined, jobId);
    const ids = new Set(available.map((m) => m.id));
    const task = ['numRecordsInPerSecond', 'numRecordsOutPerSecond', 'numRecordsOut', 'busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond'].filter((m) => ids.has(m));
    const pending = [...ids].filter((id) => id.endsWith('.pendingRecords'));
    const out: VertexMetrics = { vertexId };
    const want = [...task, ...pending];
    if (want.length === 0) return out;
    const rows = await this.getChecked('vertexMetrics', path, R.AggregatedMetricsResponse, { get: want.join(','), agg: 'max,avg,sum' }, jobId);
    const by = new Map(rows.map((r) => [r.id, r]));
    // rates, times and counts are never negative: a negative one is read as absent, like "NaN" (found by fuzzing)
    const nonNegative = (v: unknown) => {
      const n = num(v);
      return n !== undefined && n >= 0 ? n : undefined;
    };
    const sum = (id: string) => nonNegative(by.get(id)?.sum);
    const set = <K extends keyof VertexMetrics>(k: K, v: VertexMetrics[K] | undefined) => {
      if (v !== undefined) out[k] = v;
    };
    set('numRecordsInPerSecond', sum('numRecordsInPerSecond'));
    set('numRecordsOutPerSecond', sum('numRecordsOutPerSecond'));
    set('numRecordsOut', sum('numRecordsOut'));
    set('busyTimeMsPerSecondMax', nonNegative(by.get('busyTimeMsPerSecond')?.max));
    set('busyTimeMsPerSecondAvg', nonNegative(by.get('busyTimeMsPerSecond')?.avg));
    set('backPressuredTimeMsPerSecondMax', nonNegative(by.get('backPressuredTimeMsPerSecond')?.max));
    set('backPressuredTimeMsPerSecondAvg', nonNegative(by.get('backPressuredTimeMsPerSecond')?.avg));
    const pend = pending.map(sum).filter((x): x is number => x !== undefined);
    if (pend.length) out.pendingRecords = pend.reduce((a, x) => a + x, 0);
    return out;
  }

  async subtaskPlacement(jobId: string, vertexIds: string[]): Promise<SubtaskPlacement[]> {
    const out: SubtaskPlacement[] = [];
    const unassigned = (v: string | undefined) => (v === undefined || v === '' || v === '(unassigned)' ? undefined : v);
    for (const vid of vertexIds) {
      const path = `${this.jobPath(jobId, 'subtaskPlacement')}/vertices/${encodeURIComponent(vid)}`;
      const r = await this.getChecked('subtaskPlacement', path, R.VertexDetailsResponse, undefined, jobId);
      r.subtasks.forEach((t, i) => {
        const tm = unassigned(t['taskmanager-id']);
        const host = unassigned(t.host) ?? unassigned(t.endpoint)?.replace(/:\d+$/, '');
        out.push({ vertexId: vid, subtask: t.subtask ?? i, status: (t.status ?? '').toUpperCase(), ...(tm ? { taskManagerId: tm } : {}), ...(host ? { host } : {}) });
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ savepoints, stop, cancel

  private async savepointBody(call: string, jobId: string, req: SavepointRequest, dirField: 'target-directory' | 'targetDirectory') {
    if (!req || typeof req.targetDirectory !== 'string' || req.targetDirectory.length === 0) {
      throw new FlinkApiError({ call, jobId, errors: ['targetDirectory must be a non-empty string (a savepoint directory URI)'], retryable: false });
    }
    if (typeof req.triggerId !== 'string' || !HEX32.test(req.triggerId)) {
      throw new FlinkApiError({ call, jobId, errors: [`triggerId must be 32 lower-case hex characters (use savepointTriggerId(seed)), got ${JSON.stringify(req.triggerId)}`], retryable: false });
    }
    const v = await this.version();
    const body: Record<string, unknown> = { [dirField]: req.targetDirectory };
    if (v.features.triggerId) body.triggerId = req.triggerId;
    if (req.formatType !== undefined) {
      if (req.formatType !== 'CANONICAL' && req.formatType !== 'NATIVE') {
        throw new FlinkApiError({ call, jobId, errors: [`formatType must be "CANONICAL" or "NATIVE", got ${JSON.stringify(req.formatType)}`], retryable: false });
      }
      if (v.features.formatType) body.formatType = req.formatType;
      else if (req.formatType === 'NATIVE') throw this.unsupported(call, 'formatType NATIVE', '>= 1.15', v, jobId);
      // CANONICAL is the only format before 1.15: leaving the field out asks for exactly that.
    }
    return { body, v };
  }

  /**
   * POST /jobs/{id}/savepoints. Flink >= 1.15 receives the caller's triggerId, so a retry (ours or the caller's)
   * never takes a second savepoint. Flink 1.14 knows no triggerId: the server picks the id (returned here), and the
   * POST is retried only when the connection was refused (the request never arrived).
   */
  async triggerSavepoint(jobId: string, req: SavepointRequest): Promise<{ triggerId: string }> {
    const path = this.jobPath(jobId, 'triggerSavepoint', '/savepoints');
    const { body, v } = await this.savepointBody('triggerSavepoint', jobId, req, 'target-directory');
    body['cancel-job'] = false;
    const r = await this.request<unknown>({ call: 'triggerSavepoint', jobId, method: 'POST', path, data: body, retry5xx: v.features.triggerId });
    return { triggerId: this.read('triggerSavepoint', `POST ${path}`, R.TriggerResponse, r, jobId)['request-id'] };
  }

  /** POST /jobs/{id}/stop (note camelCase targetDirectory). drain defaults to false (suspend, for rescaling). */
  async stopWithSavepoint(jobId: string, req: StopWithSavepointRequest): Promise<{ triggerId: string }> {
    const path = this.jobPath(jobId, 'stopWithSavepoint', '/stop');
    const { body, v } = await this.savepointBody('stopWithSavepoint', jobId, req, 'targetDirectory');
    body.drain = req.drain ?? false;
    const r = await this.request<unknown>({ call: 'stopWithSavepoint', jobId, method: 'POST', path, data: body, retry5xx: v.features.triggerId });
    return { triggerId: this.read('stopWithSavepoint', `POST ${path}`, R.TriggerResponse, r, jobId)['request-id'] };
  }

  /** GET /jobs/{id}/savepoints/{triggerId}: COMPLETED covers success (location) and failure (failure-cause). */
  async savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus> {
    const path = `${this.jobPath(jobId, 'savepointStatus')}/savepoints/${encodeURIComponent(triggerId)}`;
    const d = await this.getChecked('savepointStatus', path, R.SavepointStatusResponse, undefined, jobId);
    if (d.status.id === 'IN_PROGRESS') return { state: 'IN_PROGRESS' };
    const op = d.operation ?? {};
    // Whether the location is one a job can be restored from is the caller's check (it knows the directory).
    if (typeof op.location === 'string' && op.location) return { state: 'COMPLETED', location: op.location };
    const cause = op['failure-cause'] ?? {};
    const firstTrace = typeof cause['stack-trace'] === 'string' ? cause['stack-trace'].split('\n')[0] : '';
    const cls = typeof cause.class === 'string' ? cause.class : '';
    const failureCause = firstTrace || cls || 'savepoint failed without a reported cause';
    return { state: 'FAILED', failureCause };
  }

  /** PATCH /jobs/{id}?mode=cancel (202; the job reaches CANCELED asynchronously). */
  async cancel(jobId: string): Promise<void> {
    await this.request({ call: 'cancel', jobId, method: 'PATCH', path: this.jobPath(jobId, 'cancel'), params: { mode: 'cancel' } });
  }

  // ------------------------------------------------------------------ jars

  async jars(): Promise<JarInfo[]> {
    const r = await this.getChecked('jars', '/jars', R.JarsResponse);
    return r.files.map((f) => ({ id: f.id, name: f.name, uploaded: f.uploaded ?? 0, entryClasses: (f.entry ?? []).map((e) => e.name) }));
  }

  /** POST /jars/upload, multipart with one part named "jarfile" (endpoints.md §6.2); jarId = last path segment. */
  async uploadJar(fileName: string, content: Uint8Array): Promise<{ jarId: string }> {
    if (typeof fileName !== 'string' || !fileName.endsWith('.jar') || /[\\/]/.test(fileName)) {
      throw new FlinkApiError({ call: 'uploadJar', errors: [`fileName must be a bare file name ending in .jar, got ${JSON.stringify(fileName)}`], retryable: false });
    }
    const form = new FormData();
    form.append('jarfile', new Blob([content], { type: 'application/x-java-archive' }), fileName);
    // An upload may arrive even if the response is lost; a retry would store a second copy, so 5xx is not retried.
    const r = await this.request<unknown>({ call: 'uploadJar', method: 'POST', path: '/jars/upload', data: form, retry5xx: false });
    const f = this.read('uploadJar', 'POST /jars/upload', R.UploadResponse, r).filename;
    return { jarId: f.split(/[\\/]/).pop()! };
  }

  /**
   * POST /jars/{id}/run. Program arguments go as programArgsList; restoreMode (>= 1.15), flinkConfiguration
   * (>= 1.16) and per-vertex parallelism (>= 1.17, via pipeline.jobvertex-parallelism-overrides) are refused before
   * sending to an older cluster. Not retried on 5xx (a lost response may still have started the job): callers
   * find the job by name or pass a fixed jobId.
   */
  async runJar(jarId: string, req: RunJarRequest): Promise<{ jobId: string }> {
    const call = 'runJar';
    if (typeof jarId !== 'string' || !jarId || /[\\/]/.test(jarId)) {
      throw new FlinkApiError({ call, errors: [`jarId must be an id from GET /jars, got ${JSON.stringify(jarId)}`], retryable: false });
    }
    const bad = (msg: string) => new FlinkApiError({ call, errors: [msg], retryable: false });
    if (req.parallelism !== undefined && (!Number.isInteger(req.parallelism) || req.parallelism < 1 || req.parallelism > 32768)) {
      throw bad(`parallelism must be an integer from 1 to 32768, got ${req.parallelism}`);
    }
    if (req.jobId !== undefined && !HEX32.test(req.jobId)) throw bad(`jobId must be 32 lower-case hex characters, got ${JSON.stringify(req.jobId)}`);
    if (req.restoreMode !== undefined && !['CLAIM', 'NO_CLAIM', 'LEGACY'].includes(req.restoreMode)) {
      throw bad(`restoreMode must be one of CLAIM, NO_CLAIM, LEGACY, got ${JSON.stringify(req.restoreMode)}`);
    }
    const v = await this.version();
    const body: Record<string, unknown> = {};
    if (req.entryClass !== undefined) body.entryClass = req.entryClass;
    if (req.programArgs !== undefined && req.programArgs.length > 0) body.programArgsList = req.programArgs;
    if (req.parallelism !== undefined) body.parallelism = req.parallelism;
    if (req.jobId !== undefined) body.jobId = req.jobId;
    if (req.savepointPath !== undefined) body.savepointPath = req.savepointPath;
    if (req.allowNonRestoredState !== undefined) body.allowNonRestoredState = req.allowNonRestoredState;
    if (req.restoreMode !== undefined) {
      if (v.features.restoreMode) body.restoreMode = req.restoreMode;
      else if (req.restoreMode !== 'LEGACY') throw this.unsupported(call, `restoreMode ${req.restoreMode}`, '>= 1.15', v);
      // LEGACY is how every restore works before 1.15: leaving the field out asks for exactly that.
    }
    const conf: Record<string, string> = { ...(req.flinkConfiguration ?? {}) };
    if (req.vertexParallelism && Object.keys(req.vertexParallelism).length > 0) {
      if (!(v.major > 1 || v.minor >= 17)) throw this.unsupported(call, 'per-vertex parallelism (pipeline.jobvertex-parallelism-overrides)', '>= 1.17', v);
      for (const [id, p] of Object.entries(req.vertexParallelism)) {
        if (!HEX32.test(id)) throw bad(`vertexParallelism keys must be vertex ids (32 hex), got ${JSON.stringify(id)}`);
        if (!Number.isInteger(p) || p < 1 || p > 32768) throw bad(`vertexParallelism.${id} must be an integer from 1 to 32768, got ${p}`);
      }
      conf['pipeline.jobvertex-parallelism-overrides'] = Object.entries(req.vertexParallelism).map(([id, p]) => `${id}:${p}`).join(',');
    }
    if (Object.keys(conf).length > 0) {
      if (!v.features.flinkConfiguration) throw this.unsupported(call, 'flinkConfiguration', '>= 1.16', v);
      body.flinkConfiguration = conf;
    }
    const runPath = `/jars/${encodeURIComponent(jarId)}/run`;
    const r = await this.request<unknown>({ call, method: 'POST', path: runPath, data: body, retry5xx: false });
    return { jobId: this.read(call, `POST ${runPath}`, R.RunResponse, r).jobid };
  }

  // ------------------------------------------------------------------ adaptive scheduler (>= 1.18)

  async getResourceRequirements(jobId: string): Promise<ResourceRequirements> {
    const path = this.jobPath(jobId, 'getResourceRequirements', '/resource-requirements');
    const v = await this.version();
    if (!v.features.resourceRequirements) throw this.unsupported('getResourceRequirements', 'GET resource-requirements', '>= 1.18', v, jobId);
    const d = await this.getChecked('getResourceRequirements', path, R.ResourceRequirementsResponse, undefined, jobId);
    const out: ResourceRequirements = {};
    for (const [id, r] of Object.entries(d)) out[id] = { parallelism: { lowerBound: r.parallelism.lowerBound, upperBound: r.parallelism.upperBound } };
    return out;
  }

  /** PUT /jobs/{id}/resource-requirements: every vertex, bounds ≥ 1 (or -1 = default), lower ≤ upper. */
  async putResourceRequirements(jobId: string, req: ResourceRequirements): Promise<void> {
    const call = 'putResourceRequirements';
    const path = this.jobPath(jobId, call, '/resource-requirements');
    const entries = Object.entries(req ?? {});
    if (entries.length === 0) throw new FlinkApiError({ call, jobId, errors: ['requirements must name at least one vertex'], retryable: false });
    for (const [id, r] of entries) {
      const lo = r?.parallelism?.lowerBound;
      const hi = r?.parallelism?.upperBound;
      const ok = (x: unknown) => Number.isInteger(x) && ((x as number) >= 1 || x === -1);
      if (!HEX32.test(id) || !ok(lo) || !ok(hi) || (lo !== -1 && hi !== -1 && (lo as number) > (hi as number))) {
        throw new FlinkApiError({ call, jobId, errors: [`requirements.${id}.parallelism must be {lowerBound, upperBound}: integers >= 1 (or -1), lowerBound <= upperBound; got ${JSON.stringify(r?.parallelism)}`], retryable: false });
      }
    }
    const v = await this.version();
    if (!v.features.resourceRequirements) throw this.unsupported(call, 'PUT resource-requirements', '>= 1.18', v, jobId);
    const body = Object.fromEntries(entries.map(([id, r]) => [id, { parallelism: { lowerBound: r.parallelism.lowerBound, upperBound: r.parallelism.upperBound } }]));
    // Idempotent (same body, same result): safe to retry on 5xx. 409 (another update in progress) is surfaced.
    await this.request({ call, jobId, method: 'PUT', path, data: body });
  }
}
