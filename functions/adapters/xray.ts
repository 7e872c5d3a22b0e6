/**
 * AWS SDK calls as X-Ray subsegments, without the X-Ray SDK.
 *
 * Each function runs with Lambda active tracing, so Lambda itself records the invocation's segment. What the
 * Powertools Tracer added on top was one subsegment per AWS SDK call (DynamoDB PutItem, SNS Publish, ...) and the
 * trace header on the outgoing request; it did so through aws-xray-sdk-core, which was ~120 KB of every bundle
 * (with cls-hooked and semver) and a third of the module load. This adapter keeps exactly that: an SDK middleware
 * that times each call (retries included) and sends the subsegment to the X-Ray daemon over UDP, in the daemon's
 * documented wire format (`{"format":"json","version":1}\n` + the segment document), with `X-Amzn-Trace-Id`
 * (Root, Parent = the subsegment, Sampled) set on the request so a downstream service joins the trace.
 *
 * Nothing is sent when the invocation is not sampled (`_X_AMZN_TRACE_ID` without `Sampled=1`), outside Lambda (no
 * trace header), or with `POWERTOOLS_TRACE_ENABLED=false` (the Powertools switch, kept for users who set it).
 * The trace header is read per call from `_X_AMZN_TRACE_ID`, which the Node.js runtime sets per invocation.
 * Documented in docs/deploy.md ("Lambda bundles").
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/** The parts of `_X_AMZN_TRACE_ID` a subsegment needs. */
export interface TraceHeader {
  root: string;
  parent: string;
  sampled: boolean;
}

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1` → its parts; undefined without Root/Parent. */
export function parseTraceHeader(value: string | undefined): TraceHeader | undefined {
  if (!value) return undefined;
  const parts = new Map<string, string>();
  for (const kv of value.split(';')) {
    const i = kv.indexOf('=');
    if (i > 0) parts.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
  }
  const root = parts.get('Root');
  const parent = parts.get('Parent');
  if (!root || !parent) return undefined;
  return { root, parent, sampled: parts.get('Sampled') === '1' };
}

/** The daemon's UDP address from `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or `tcp:h:p udp:h:p`); 127.0.0.1:2000 by default. */
export function daemonAddress(value: string | undefined): { host: string; port: number } {
  const udp = (value ?? '').split(/\s+/).find((p) => p.startsWith('udp:'))?.slice(4) ?? (value ?? '').split(/\s+/).find((p) => !p.includes('tcp:'));
  const m = /^(.+):(\d{1,5})$/.exec(udp ?? '');
  return m ? { host: m[1], port: Number(m[2]) } : { host: '127.0.0.1', port: 2000 };
}

/** Where segment documents go: the UDP daemon in production, a list in tests. */
export interface SegmentSink {
  send(document: Record<string, unknown>): void;
}

/** Sends each document as one datagram to the X-Ray daemon; the socket is made on first use and never holds the event loop. */
export function udpSink(address: { host: string; port: number }): SegmentSink {
  let socket: Socket | undefined;
  return {
    send(document) {
      if (!socket) {
        socket = createSocket('udp4');
        socket.unref();
        socket.on('error', () => {}); // tracing never fails a call
      }
      const message = Buffer.from(`{"format":"json","version":1}\n${JSON.stringify(document)}`);
      socket.send(message, address.port, address.host, () => {});
    },
  };
}

/** The one method the handlers use (the Powertools Tracer's name for it, so wiring reads the same). */
export interface SdkTracer {
  captureAWSv3Client<C>(client: C): C;
}

interface MiddlewareClient {
  middlewareStack: { add(mw: unknown, options: Record<string, unknown>): void };
  config: { region?: unknown };
}

interface CallContext {
  clientName?: string;
  commandName?: string;
  [SUBSEGMENT]?: string;
}
const SUBSEGMENT = Symbol('flinkElasticXRaySubsegment');

export interface XRayOptions {
  env?: NodeJS.ProcessEnv;
  sink?: SegmentSink;
  now?: () => number;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

async function regionOf(client: MiddlewareClient): Promise<string | undefined> {
  const r = client.config.region;
  try {
    const v = typeof r === 'function' ? await (r as () => Promise<string>)() : r;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An SdkTracer whose clients report each call as an X-Ray subsegment (see the file header). */
export function xrayTracer(options: XRayOptions = {}): SdkTracer {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  let sink = options.sink;
  const active = (): TraceHeader | undefined => {
    if (env.POWERTOOLS_TRACE_ENABLED === 'false') return undefined;
    const h = parseTraceHeader(env._X_AMZN_TRACE_ID);
    return h?.sampled ? h : undefined;
  };
  return {
    captureAWSv3Client<C>(client: C): C {
      const c = client as unknown as MiddlewareClient;
      if (!c?.middlewareStack?.add) return client;
      c.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: CallContext) => async (args: unknown) => {
          const trace = active();
          if (!trace) return next(args);
          const id = randomBytes(8).toString('hex');
          context[SUBSEGMENT] = id;
          const start = now();
          const doc: Record<string, unknown> = {
            id,
            trace_id: trace.root,
            parent_id: trace.parent,
            type: 'subsegment',
            namespace: 'aws',
            name: (context.clientName ?? 'AWS').replace(/Client$/, ''),
            start_time: seconds(start),
          };
          const aws: Record<string, unknown> = { operation: (context.commandName ?? '').replace(/Command$/, '') };
          const finish = async (meta: { httpStatusCode?: number; requestId?: string; attempts?: number } | undefined, error?: { name?: string; message?: string }) => {
            aws.region = await regionOf(c);
            if (meta?.requestId) aws.request_id = meta.requestId;
            if (meta?.attempts && meta.attempts > 1) aws.retries = meta.attempts - 1;
            const status = meta?.httpStatusCode;
            if (status) doc.http = { response: { status } };
            if (error) {
              if (status === 429 || /Throttl/.test(error.name ?? '')) doc.throttle = true;
              if (status !== undefined && status >= 500) doc.fault = true;
              else doc.error = true;
              doc.cause = { exceptions: [{ id: randomBytes(8).toString('hex'), type: error.name ?? 'Error', message: String(error.message ?? '').slice(0, 500) }] };
            }
            doc.aws = aws;
            doc.end_time = seconds(now());
            try {
              sink ??= udpSink(daemonAddress(env.AWS_XRAY_DAEMON_ADDRESS));
              sink.send(doc);
            } catch {
              // tracing never fails a call
            }
          };
          try {
            const out = (await next(args)) as { output?: { $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } } };
            await finish(out?.output?.$metadata);
            return out;
          } catch (e) {
            const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } };
            await finish(err?.$metadata, err);
            throw e;
          }
        },
        { step: 'initialize', name: 'flinkElasticXRaySubsegment', override: true },
      );
      c.middlewareStack.add(
        (next: (args: { request?: { headers?: Record<string, string> } }) => Promise<unknown>, context: CallContext) => async (args: { request?: { headers?: Record<string, string> } }) => {
          const trace = active();
          const id = context[SUBSEGMENT];
          if (trace && id && args.request?.headers) args.request.headers['X-Amzn-Trace-Id'] = `Root=${trace.root};Parent=${id};Sampled=1`;
          return next(args);
        },
        { step: 'build', name: 'flinkElasticXRayHeader', override: true },
      );
      return client;
    },
  };
}
