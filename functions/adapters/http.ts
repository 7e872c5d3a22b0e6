/**
 * One HTTP(S) request over node:http / node:https: the transport of the Flink REST client and the Kubernetes client,
 * so that no HTTP library (axios, node-fetch, ...) goes into the Lambda bundles. Deliberately small:
 * - no redirects are followed (a 3xx is an answer like any other), no proxy is used;
 * - `timeoutMs` bounds the wait for the response headers (wall clock, connecting included) and every pause of the
 *   socket after that, as axios did; the error then has code ETIMEDOUT and says "timeout of <ms>ms exceeded";
 * - gzip / deflate / br answers are decompressed when `decompress` is set (the request then offers them);
 * - a transport failure rejects with Node's error (its `code`: ECONNREFUSED, ECONNRESET, a TLS code, ...); a Happy
 *   Eyeballs AggregateError gets the codes and messages of its parts.
 */
import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  timeoutMs?: number;
  /** For https: an agent carrying the CA to trust (and whether to verify). Default: Node's global agent. */
  agent?: HttpAgent | HttpsAgent;
  decompress?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A transport failure (no HTTP answer): `code` as Node names it. */
export type TransportError = Error & { code?: string };

const DECODERS: Record<string, () => NodeJS.ReadWriteStream> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

function transportError(e: unknown): TransportError {
  const err = e as TransportError & { errors?: (TransportError | undefined)[] };
  if (err?.message || !Array.isArray(err?.errors) || err.errors.length === 0) return err;
  // AggregateError (every address of a dual-stack name failed): empty message, the detail is in its parts
  const message = err.errors.map((x) => x?.message ?? '').filter(Boolean).join('; ') || err.name;
  return Object.assign(new Error(message, { cause: err }), { name: err.name, code: err.code ?? err.errors[0]?.code });
}

export function send(r: HttpRequest): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const https = r.url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (r.decompress) headers['Accept-Encoding'] = 'gzip, deflate, br';
    if (r.body !== undefined) headers['Content-Length'] = Buffer.byteLength(r.body);
    const user = r.url.username ? `${decodeURIComponent(r.url.username)}:${decodeURIComponent(r.url.password)}` : undefined;
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(untilHeaders);
      reject(transportError(e));
    };
    const req = (https ? httpsRequest : httpRequest)(
      {
        method: r.method,
        protocol: r.url.protocol,
        hostname: r.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: r.url.port || undefined,
        path: `${r.url.pathname}${r.url.search}`,
        headers,
        agent: r.agent,
        ...(user && !headers.Authorization && !headers.authorization ? { auth: user } : {}),
      },
      (res: IncomingMessage) => {
        clearTimeout(untilHeaders);
        const decoder = r.decompress ? DECODERS[String(res.headers['content-encoding'] ?? '').trim().toLowerCase()] : undefined;
        const stream: NodeJS.ReadableStream = decoder ? res.pipe(decoder()) : res;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', fail);
        res.on('error', fail);
        stream.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    const timedOut = () => {
      const e = Object.assign(new Error(`timeout of ${r.timeoutMs}ms exceeded`), { code: 'ETIMEDOUT' });
      fail(e);
      req.destroy(e);
    };
    const untilHeaders = r.timeoutMs ? setTimeout(timedOut, r.timeoutMs) : undefined;
    if (r.timeoutMs) req.setTimeout(r.timeoutMs, timedOut);
    req.on('error', fail);
    req.end(r.body);
  });
}
