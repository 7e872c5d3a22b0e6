/**
 * A real Flink cluster running the project's test job (flink-test-job/): what the real-Flink tier, the head-to-head
 * bench and `flink-elastic run --local --real-flink` start. The job's producer rate is a file this harness rewrites
 * (the job re-reads it every second); its verdict (records checked, lost, counted twice, per key across restores) is
 * read from the files its verdict vertex writes on every completed checkpoint.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FlinkCluster, type ClusterOptions } from './cluster';
import { ensureFlink, type FlinkDistribution } from './distribution';

const REPO = resolve(__dirname, '..', '..');
export const TEST_JOB_DIR = join(REPO, 'flink-test-job');
export const TEST_JOB_ENTRY_CLASS = 'dev.flinkelastic.testjob.LoadJob';
/** The Flink job name the test job runs under (LoadJob: env.execute). */
export const TEST_JOB_FLINK_NAME = 'flink-elastic-test-job';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The test job's jar for a Flink version, built with Maven when missing or older than its sources. */
export function buildTestJob(flinkVersion: string, log: (l: string) => void = () => undefined): string {
  const jar = join(TEST_JOB_DIR, 'target', `flink-test-job-flink${flinkVersion}.jar`);
  const sources = Math.max(newestMtime(join(TEST_JOB_DIR, 'src', 'main')), statSync(join(TEST_JOB_DIR, 'pom.xml')).mtimeMs);
  if (existsSync(jar) && statSync(jar).mtimeMs >= sources) return jar;
  log(`building the test job for Flink ${flinkVersion} (mvn package)`);
  try {
    execFileSync('mvn', ['-q', '-B', 'package', '-DskipTests', `-Dflink.version=${flinkVersion}`], { cwd: TEST_JOB_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  } catch (e) {
    const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(`mvn package -Dflink.version=${flinkVersion} failed: ${(err.stdout?.toString() ?? '').slice(-1500)}${(err.stderr?.toString() ?? '').slice(-1500) || err.message}`);
  }
  if (!existsSync(jar)) throw new Error(`mvn package did not produce ${jar}`);
  return jar;
}

export interface Verdict {
  /** Records checked by the verdict vertex, as of the newest checkpoint every subtask reported. */
  checked: number;
  lost: number;
  duplicated: number;
  checkpointId: number;
  subtasks: number;
}

export interface RealFlinkJobOptions {
  /** A pinned version or prefix (default: the lock file's default); FLINK_HOME wins. */
  version?: string;
  dist?: FlinkDistribution;
  taskManagers?: number;
  slotsPerTaskManager?: number;
  scheduler?: 'default' | 'adaptive';
  /** Reactive mode: an application cluster runs the job, at the parallelism the slots allow. */
  reactive?: boolean;
  /** Initial parallelism (session cluster). */
  parallelism?: number;
  /** Producer rate, records/s (all splits together). */
  rate?: number;
  /** Busy-spin per record in the work vertex, µs. */
  costUs?: number;
  splits?: number;
  checkpointIntervalMs?: number;
  maxParallelism?: number;
  workDir?: string;
  clusterConfig?: ClusterOptions['config'];
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes a file atomically (the job must never read half a number). */
function writeNumber(file: string, n: number): void {
  writeFileSync(`${file}.tmp`, `${n}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The test job's program arguments (README of flink-test-job/). */
function programArgs(opts: RealFlinkJobOptions, dirs: { rateFile: string; costFile: string; verdictDir: string }): string[] {
  return [
    '--rate-file', dirs.rateFile,
    '--rate', String(opts.rate ?? 1000),
    '--cost-file', dirs.costFile,
    '--cost-us', String(opts.costUs ?? 250),
    '--splits', String(opts.splits ?? 8),
    '--verdict-dir', dirs.verdictDir,
    '--checkpoint-interval-ms', String(opts.checkpointIntervalMs ?? 2000),
    '--max-parallelism', String(opts.maxParallelism ?? 128),
  ];
}

export class RealFlinkJob {
  readonly rateFile: string;
  readonly costFile: string;
  readonly verdictDir: string;
  readonly programArgs: string[];
  jarId?: string;

  private constructor(
    readonly cluster: FlinkCluster,
    readonly jar: string,
    readonly opts: RealFlinkJobOptions,
    dirs: { rateFile: string; costFile: string; verdictDir: string },
  ) {
    this.rateFile = dirs.rateFile;
    this.costFile = dirs.costFile;
    this.verdictDir = dirs.verdictDir;
    this.programArgs = programArgs(opts, dirs);
  }

  static async start(opts: RealFlinkJobOptions = {}): Promise<RealFlinkJob> {
    const log = opts.log ?? (() => undefined);
    const dist = opts.dist ?? (await ensureFlink(opts.version, { log }));
    const jar = buildTestJob(dist.version, log);
    const work = opts.workDir ?? join(REPO, '.cache', 'real-flink-runs', `${dist.version}-${Date.now().toString(36)}`);
    mkdirSync(work, { recursive: true });
    const dirs = { rateFile: join(work, 'rate'), costFile: join(work, 'cost-us'), verdictDir: join(work, 'verdict') };
    mkdirSync(dirs.verdictDir, { recursive: true });
    writeNumber(dirs.rateFile, opts.rate ?? 1000);
    writeNumber(dirs.costFile, opts.costUs ?? 250);
    const cluster = await FlinkCluster.start({
      dist,
      workDir: join(work, 'cluster'),
      taskManagers: opts.taskManagers ?? 1,
      slotsPerTaskManager: opts.slotsPerTaskManager ?? 2,
      scheduler: opts.scheduler ?? 'default',
      ...(opts.reactive ? { reactive: { jar, entryClass: TEST_JOB_ENTRY_CLASS, args: programArgs(opts, dirs) } } : {}),
      config: opts.clusterConfig,
      log,
    });
    const job = new RealFlinkJob(cluster, jar, opts, dirs);
    try {
      if (!opts.reactive) {
        job.jarId = await job.upload();
        await job.submit(opts.parallelism ?? 1);
      }
      await job.waitRunning();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return job;
  }

  get version(): string {
    return this.cluster.version;
  }

  get jarName(): string {
    return basename(this.jar);
  }

  /** POST /jars/upload (multipart `jarfile`), as a user or the workflow would. */
  async upload(): Promise<string> {
    const form = new FormData();
    form.append('jarfile', new Blob([readFileSync(this.jar)], { type: 'application/x-java-archive' }), this.jarName);
    const r = await fetch(`${this.cluster.restUrl}/jars/upload`, { method: 'POST', body: form });
    const body = (await r.json()) as { filename?: string; status?: string; errors?: string[] };
    if (!r.ok || body.status !== 'success' || !body.filename) throw new Error(`jar upload failed (${r.status}): ${JSON.stringify(body)}`);
    return basename(body.filename);
  }

  /** POST /jars/{id}/run at a parallelism, optionally from a savepoint. */
  async submit(parallelism: number, savepointPath?: string): Promise<string> {
    if (!this.jarId) this.jarId = await this.upload();
    const r = await fetch(`${this.cluster.restUrl}/jars/${encodeURIComponent(this.jarId)}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entryClass: TEST_JOB_ENTRY_CLASS, programArgsList: this.programArgs, parallelism, ...(savepointPath ? { savepointPath } : {}) }),
    });
    const body = (await r.json()) as { jobid?: string; errors?: string[] };
    if (!r.ok || !body.jobid) throw new Error(`jar run failed (${r.status}): ${JSON.stringify(body).slice(0, 2000)}`);
    return body.jobid;
  }

  async get(path: string): Promise<any> {
    const r = await fetch(`${this.cluster.restUrl}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
    return r.json();
  }

  /** The test job's newest non-terminal job (id, state), if any. */
  async currentJob(): Promise<{ id: string; state: string } | undefined> {
    const r = await this.get('/jobs/overview');
    const mine = (r.jobs as { jid: string; name: string; state: string; 'start-time': number }[])
      .filter((j) => j.name === TEST_JOB_FLINK_NAME && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state))
      .sort((a, b) => b['start-time'] - a['start-time']);
    return mine[0] ? { id: mine[0].jid, state: mine[0].state } : undefined;
  }

  /** Waits until the job is RUNNING with every task running (not just scheduled). */
  async waitRunning(timeoutMs = 120_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no job';
    while (Date.now() < deadline) {
      const j = await this.currentJob().catch(() => undefined);
      if (j) {
        last = j.state;
        if (j.state === 'RUNNING') {
          const d = await this.get(`/jobs/${j.id}`).catch(() => undefined);
          const tasks = d?.vertices as { status: string }[] | undefined;
          if (tasks?.length && tasks.every((v) => v.status === 'RUNNING')) return j.id;
          last = `RUNNING, tasks ${tasks?.map((v) => v.status).join('/')}`;
        }
      }
      await sleep(500);
    }
    throw new Error(`the test job is not running after ${timeoutMs / 1000} s (last: ${last}); logs: ${this.cluster.logDir}`);
  }

  /** Highest vertex parallelism of the running job. */
  async parallelism(): Promise<number> {
    const j = await this.currentJob();
    if (!j) return 0;
    const d = await this.get(`/jobs/${j.id}`);
    return Math.max(...(d.vertices as { parallelism: number }[]).map((v) => v.parallelism));
  }

  setRate(recordsPerSecond: number): void {
    writeNumber(this.rateFile, recordsPerSecond);
  }

  setCost(microsPerRecord: number): void {
    writeNumber(this.costFile, microsPerRecord);
  }

  /**
   * The verdict as of the newest checkpoint that every subtask of the current job reported (the files of one
   * checkpoint id form a consistent cut). Waits up to `timeoutMs` for such a cut.
   */
  async verdict(timeoutMs = 30_000): Promise<Verdict> {
    const deadline = Date.now() + timeoutMs;
    let why = '';
    while (Date.now() < deadline) {
      const job = await this.currentJob().catch(() => undefined);
      const files = readdirSync(this.verdictDir).filter((f) => /^subtask-\d+\.json$/.test(f));
      const parsed = files
        .map((f) => {
          try {
            return JSON.parse(readFileSync(join(this.verdictDir, f), 'utf8')) as { jobId: string; subtask: number; parallelism: number; checkpointId: number; checked: number; lost: number; duplicated: number };
          } catch {
            return undefined;
          }
        })
        .filter((x): x is NonNullable<typeof x> => !!x && (!job || x.jobId === job.id));
      const p = parsed[0]?.parallelism ?? 0;
      if (p > 0 && parsed.length === p && new Set(parsed.map((x) => x.checkpointId)).size === 1) {
        return {
          checked: parsed.reduce((a, x) => a + x.checked, 0),
          lost: parsed.reduce((a, x) => a + x.lost, 0),
          duplicated: parsed.reduce((a, x) => a + x.duplicated, 0),
          checkpointId: parsed[0].checkpointId,
          subtasks: p,
        };
      }
      why = `${parsed.length} of ${p || '?'} subtask file(s) for job ${job?.id ?? '(none running)'}, checkpoints ${[...new Set(parsed.map((x) => x.checkpointId))].join(', ') || '-'}`;
      await sleep(500);
    }
    throw new Error(`no consistent verdict in ${this.verdictDir} after ${timeoutMs / 1000} s: ${why}`);
  }

  /** A flink-elastic config document for this job (savepoint mode unless told otherwise), to merge overrides into. */
  configDoc(over: { name?: string; mode?: 'savepoint' | 'adaptive' | 'reactive'; bounds?: Record<string, number>; job?: Record<string, unknown>; deployment?: Record<string, unknown> } = {}): Record<string, any> {
    const mode = over.mode ?? (this.opts.reactive ? 'reactive' : this.opts.scheduler === 'adaptive' ? 'adaptive' : 'savepoint');
    return {
      deployment: { stackName: 'RealFlink', ...over.deployment },
      jobs: [
        {
          name: over.name ?? 'load',
          flink: { url: this.cluster.restUrl, version: this.version.split('.').slice(0, 2).join('.'), jobName: TEST_JOB_FLINK_NAME, requestTimeoutMs: 10_000 },
          mode,
          ...(mode === 'savepoint' ? { submit: { jarPath: this.jar, entryClass: TEST_JOB_ENTRY_CLASS, programArgs: this.programArgs } } : {}),
          savepoint: { directory: `file://${this.cluster.savepointDir}`, timeoutSeconds: 120 },
          target: { kind: 'asg', autoScalingGroupName: 'local-taskmanagers' },
          slotsPerTaskManager: this.cluster.slotsPerTaskManager,
          bounds: { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4, ...over.bounds },
          lag: { source: { type: 'flink-pending-records' }, highThreshold: 20_000, lowThreshold: 500 },
          drainTimeoutSeconds: 60,
          cooldownSeconds: 0,
          ...over.job,
        },
      ],
    };
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
  }
}
