/**
 * The Flink Kubernetes Operator's autoscaler as a peer (peers/flink-autoscaler-driver/: our thin glue over the
 * operator's flink-autoscaler 1.10.0 library): builds its shaded jar with Maven (as harness.ts builds the test job),
 * starts it against a real Flink cluster's REST address, and parses the JSON lines it prints (one per decision).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = resolve(__dirname, '..', '..');
export const DRIVER_DIR = join(REPO, 'peers', 'flink-autoscaler-driver');
export const DRIVER_JAR = join(DRIVER_DIR, 'target', 'flink-autoscaler-driver.jar');
export const AUTOSCALER_VERSION = '1.10.0';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The driver's shaded jar, built with `mvn -q -B package` when missing or older than its sources. */
export function buildOperatorPeer(log: (l: string) => void = () => undefined): string {
  const sources = Math.max(newestMtime(join(DRIVER_DIR, 'src')), statSync(join(DRIVER_DIR, 'pom.xml')).mtimeMs);
  if (existsSync(DRIVER_JAR) && statSync(DRIVER_JAR).mtimeMs >= sources) return DRIVER_JAR;
  log(`building the operator peer (flink-autoscaler ${AUTOSCALER_VERSION}, mvn package)`);
  try {
    execFileSync('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: DRIVER_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`mvn package in ${DRIVER_DIR} failed: ${(err.stdout?.toString() ?? '').slice(-1500)}${(err.stderr?.toString() ?? '').slice(-1500) || err.message}`);
  }
  if (!existsSync(DRIVER_JAR)) throw new Error(`mvn package did not produce ${DRIVER_JAR}`);
  return DRIVER_JAR;
}

/** One line the driver printed (peers/flink-autoscaler-driver/README.md, "Output"). */
export type PeerLine =
  | { type: 'started'; at: number; time: string; rest: string; intervalMs: number; autoscalerVersion: string; options: Record<string, string> }
  | { type: 'decision'; at: number; time: string; jobId: string; vertices: Record<string, { name: string; from: number; to: number }>; maxParallelism: number }
  | { type: 'event'; at: number; time: string; jobId: string | null; level: string; reason: string; message: string }
  | { type: 'error'; at: number; time: string; message: string; jobId?: string }
  | { type: 'stopped'; at: number; time: string };

export interface OperatorPeerOptions {
  restUrl: string;
  /** Watch one job id (default: every RUNNING job). */
  jobId?: string;
  /** The control loop's interval, seconds (the standalone's default is 10). */
  intervalSeconds?: number;
  /** flink-autoscaler options (`job.autoscaler.*`), passed as -Dkey=value; the rest stay the library's defaults. */
  options?: Record<string, string | number | boolean>;
  /** Where the driver's stderr (its logs) goes. */
  logFile: string;
  java?: string;
  onLine?: (l: PeerLine) => void;
}

export class OperatorPeer {
  readonly lines: PeerLine[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, opts: OperatorPeerOptions) {
    this.exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      let l: PeerLine;
      try {
        l = JSON.parse(raw) as PeerLine;
      } catch {
        return; // not one of ours
      }
      this.lines.push(l);
      opts.onLine?.(l);
    });
  }

  /** Starts the driver (building it first if needed) and resolves once it printed its `started` line. */
  static async start(opts: OperatorPeerOptions): Promise<OperatorPeer> {
    const jar = buildOperatorPeer();
    mkdirSync(dirname(opts.logFile), { recursive: true });
    const args = ['-jar', jar, '--rest', opts.restUrl, '--interval-s', String(opts.intervalSeconds ?? 10)];
    if (opts.jobId) args.push('--job', opts.jobId);
    for (const [k, v] of Object.entries(opts.options ?? {})) args.push(`-D${k}=${v}`);
    const child = spawn(opts.java ?? 'java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.pipe(createWriteStream(opts.logFile));
    process.once('exit', () => child.kill('SIGKILL'));
    const peer = new OperatorPeer(child, opts);
    const deadline = Date.now() + 60_000;
    while (!peer.lines.some((l) => l.type === 'started')) {
      if (child.exitCode !== null) throw new Error(`the operator peer exited (${child.exitCode}) before starting; log: ${opts.logFile}`);
      if (Date.now() > deadline) throw new Error(`the operator peer did not start within 60 s; log: ${opts.logFile}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return peer;
  }

  get decisions(): Extract<PeerLine, { type: 'decision' }>[] {
    return this.lines.filter((l): l is Extract<PeerLine, { type: 'decision' }> => l.type === 'decision');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
  }
}
