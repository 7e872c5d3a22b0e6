/**
 * A loopback TCP forwarder in front of a server (moto, for instance) that can be shut — connections refused on its
 * port, open ones reset — and opened again on the same port: the server "unreachable", then reachable.
 *
 *   const gate = await TcpGate.open(moto.endpoint);
 *   const sns = new SNSClient({ ...moto.config, endpoint: gate.endpoint });
 *   await gate.shut();  ...  await gate.reopen();
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpGate {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly target: URL,
    private port: number,
  ) {}

  /** A gate on a free loopback port, open, forwarding to `targetUrl` (http://host:port). */
  static async open(targetUrl: string): Promise<TcpGate> {
    const g = new TcpGate(new URL(targetUrl), 0);
    await g.reopen();
    return g;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isOpen(): boolean {
    return this.server !== undefined;
  }

  async reopen(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = createConnection({ host: this.target.hostname, port: Number(this.target.port) });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Refuses new connections and resets the open ones (keep-alive sockets of an SDK client too). */
  async shut(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
