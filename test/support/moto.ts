/**
 * moto in server mode on loopback, for the adapter tests that talk to AWS APIs moto implements (test/README.md).
 *
 *   const moto = useMoto();                       // one server per test file, reset before every test
 *   const asg = new AutoScalingClient(moto.config);
 *
 * The pinned moto is installed by scripts/moto-server.sh (into .cache/moto/venv, once, reused); the server is
 * scripts/moto/serve.py on 127.0.0.1 and a free port. It stops when the test file ends (stdin closes), and also if
 * the jest worker dies. `POST /moto-api/reset` before every test wipes every service, so tests are order-independent.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
/** moto's default account: the ARNs it returns carry it. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';
/** A first install downloads from PyPI; later runs reuse the venv (about 0.1 s). */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;

export interface MotoClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** moto answers at once; one attempt keeps an unexpected error from hiding behind SDK retries. */
  maxAttempts: number;
}

export class MotoServer {
  private constructor(
    readonly endpoint: string,
    private readonly child: ChildProcess,
  ) {}

  /** What an AWS SDK v3 client needs to talk to this server: `new SNSClient(moto.config)`. */
  get config(): MotoClientConfig {
    return { endpoint: this.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };
  }

  static async start(): Promise<MotoServer> {
    const python = await installMoto();
    const child = spawn(python, [path.join(ROOT, 'scripts/moto/serve.py')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => fail(`no port within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const fail = (why: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`moto server (scripts/moto/serve.py) did not start: ${why}\n${err.slice(-4000)}`));
      };
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^PORT (\d+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (e) => fail(e.message));
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    });
    child.removeAllListeners('exit');
    const server = new MotoServer(`http://127.0.0.1:${port}`, child);
    await server.reset(); // also proves it answers HTTP
    return server;
  }

  /** Wipes every service's state (moto's own API). */
  async reset(): Promise<void> {
    const res = await fetch(`${this.endpoint}/moto-api/reset`, { method: 'POST' });
    if (!res.ok) throw new Error(`moto reset: HTTP ${res.status}`);
  }

  /** moto's view of its models (GET /moto-api/data.json): what the real API gives no way to read back. */
  async modelData(): Promise<Record<string, Record<string, Array<Record<string, unknown>>>>> {
    const res = await fetch(`${this.endpoint}/moto-api/data.json`);
    if (!res.ok) throw new Error(`moto data.json: HTTP ${res.status}`);
    return (await res.json()) as Record<string, Record<string, Array<Record<string, unknown>>>>;
  }

  /**
   * What SNS delivered to `topicArn`, oldest first, read from moto's model (sent_notifications: the real API has no
   * way to read a published message back without a subscriber).
   */
  async published(topicArn: string): Promise<Array<{ subject: string | null; message: string; attributes: Record<string, string> }>> {
    const topics = (await this.modelData()).sns?.Topic ?? [];
    const topic = topics.find((t) => t.arn === topicArn);
    if (!topic) throw new Error(`moto has no SNS topic ${topicArn}`);
    // moto 5.2.6 keeps (id, message, subject, {name: {Type, Value}}, group id); this internal format may change with moto
    return (topic.sent_notifications as Array<[string, string, string | null, Record<string, { Value: string }> | null]>).map(([, message, subject, attrs]) => ({
      subject,
      message,
      attributes: Object.fromEntries(Object.entries(attrs ?? {}).map(([k, v]) => [k, v.Value])),
    }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end(); // serve.py stops when its stdin closes
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Runs scripts/moto-server.sh (installs the pinned moto once; flock'd across jest workers); resolves to its python. */
export function installMoto(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(ROOT, 'scripts/moto-server.sh')], { cwd: ROOT, timeout: INSTALL_TIMEOUT_MS }, (e, stdout, stderr) => {
      if (e) return reject(new Error(`scripts/moto-server.sh failed: ${e.message}\n${stderr}`));
      resolve(stdout.trim().split('\n').pop()!);
    });
  });
}

/**
 * One moto server for the calling test file: started in beforeAll, reset before each test, stopped in afterAll.
 * The returned handle's `config` / `endpoint` are usable from beforeEach and tests on.
 */
export function useMoto(): { readonly config: MotoClientConfig; readonly endpoint: string; readonly server: MotoServer } {
  let server: MotoServer | undefined;
  beforeAll(async () => {
    server = await MotoServer.start();
  }, INSTALL_TIMEOUT_MS + START_TIMEOUT_MS);
  beforeEach(async () => {
    await server?.reset();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const get = () => {
    if (!server) throw new Error('moto is not running (useMoto() must be called at the top of the test file)');
    return server;
  };
  return {
    get config() {
      return get().config;
    },
    get endpoint() {
      return get().endpoint;
    },
    get server() {
      return get();
    },
  };
}
