/**
 * A loopback HTTP proxy in front of the Flink emulator that can change answers on their way to the client:
 * `tamper.fn` rewrites successful JSON bodies (JSON in, JSON out); `tamper.raw` rewrites any answer as text
 * (status, body, content type), for bodies that are not JSON at all (HTML pages, truncated JSON, nothing);
 * `tamper.transport` makes the answer hang (never sent) or breaks the connection half-way through the body.
 * Everything else on the wire is what a JobManager (the emulator) sends.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Tamper = (path: string, body: any, method: string) => any;
export interface Answer {
  status: number;
  text: string;
  contentType: string;
}
export type RawTamper = (req: { path: string; method: string }, answer: Answer) => Answer;
export type TransportTamper = (req: { path: string; method: string }) => 'hang' | 'reset' | undefined;

export interface TamperingProxy {
  url: string;
  tamper: { fn?: Tamper; raw?: RawTamper; transport?: TransportTamper };
  close(): Promise<void>;
}

export async function startTamperingProxy(target: string): Promise<TamperingProxy> {
  const tamper: TamperingProxy['tamper'] = {};
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(target + req.url, {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type'] ?? 'application/json') },
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      let answer: Answer = { status: upstream.status, text: await upstream.text(), contentType: 'application/json; charset=UTF-8' };
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const method = req.method ?? 'GET';
      if (tamper.fn && upstream.ok && answer.text) answer = { ...answer, text: JSON.stringify(tamper.fn(path, JSON.parse(answer.text), method)) };
      if (tamper.raw) answer = tamper.raw({ path, method }, answer);
      const transport = tamper.transport?.({ path, method });
      if (transport === 'hang') return; // the client's timeout must end it (close() drops the connection)
      if (transport === 'reset') {
        res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': String(Buffer.byteLength(answer.text) + 100) });
        res.write(answer.text.slice(0, Math.floor(answer.text.length / 2)));
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': answer.contentType });
      res.end(answer.text);
    })().catch((e: unknown) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`proxy: ${(e as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tamper,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
