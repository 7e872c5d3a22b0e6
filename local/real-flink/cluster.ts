/**
 * A real Flink standalone cluster on this machine, without Flink's shell scripts: one JobManager JVM
 * (`StandaloneSessionClusterEntrypoint`, or `StandaloneApplicationClusterEntryPoint` for reactive mode) and one JVM per
 * TaskManager (`TaskManagerRunner`), REST on a free loopback port. TaskManager memory flags come from Flink's own
 * BashJavaUtils, as `taskmanager.sh` does. Everything (config, logs, checkpoints, savepoints, uploaded jars) lives in
 * one work folder, kept after a failure for its logs.
 *
 * Sizes default to what fits 1 JobManager + 4 TaskManagers on a 2-core, 24 GiB machine: JobManager 1 GiB, each
 * TaskManager 1.25 GiB, 2 slots.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlinkDistribution } from './distribution';
import { compareVersions } from './distribution';

export type SchedulerKind = 'default' | 'adaptive';

export interface ApplicationJob {
  /** The job jar, put on the JobManager's classpath. */
  jar: string;
  entryClass: string;
  args?: string[];
  /** Fixed job id (application mode), so a restarted JobManager finds the same job. */
  jobId?: string;
}

export interface ClusterOptions {
  dist: FlinkDistribution;
  /** TaskManagers started with the cluster (default 1). */
  taskManagers?: number;
  slotsPerTaskManager?: number;
  /** `adaptive` enables the adaptive scheduler (in-place rescale via /jobs/{id}/resource-requirements). */
  scheduler?: SchedulerKind;
  /** Reactive mode: an application cluster running this job with `scheduler-mode: reactive`. */
  reactive?: ApplicationJob;
  /** Work folder (default: a new folder under the OS temp dir). */
  workDir?: string;
  /** Extra Flink configuration, written to config.yaml after the defaults. */
  config?: Record<string, string | number | boolean>;
  jobManagerMemory?: string;
  taskManagerMemory?: string;
  java?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** How long to wait for the JobManager's REST API and for TaskManagers to register (default 90 s). */
  startTimeoutMs?: number;
}

interface Proc {
  id: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test runner or CLI that exits without stopping the cluster must not leave JVMs behind.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** What Flink's own config.yaml passes as `env.java.default-opts.all`: Flink reflects into the JDK on Java 17. */
export const JAVA17_OPENS = [
  '--add-exports=java.base/sun.net.util=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  ...['java.lang', 'java.net', 'java.io', 'java.nio', 'sun.nio.ch', 'java.lang.reflect', 'java.text', 'java.time', 'java.util', 'java.util.concurrent', 'java.util.concurrent.atomic', 'java.util.concurrent.locks'].map(
    (p) => `--add-opens=java.base/${p}=ALL-UNNAMED`,
  ),
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function yamlValue(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  return /^[A-Za-z0-9_./:-]+$/.test(v) && !/^(true|false|null|~|[0-9.]+)$/i.test(v) ? v : JSON.stringify(v);
}

export class FlinkCluster {
  readonly restUrl: string;
  readonly workDir: string;
  readonly confDir: string;
  readonly logDir: string;
  readonly checkpointDir: string;
  readonly savepointDir: string;
  readonly version: string;
  private jm?: Proc;
  private readonly tms = new Map<string, Proc>();
  private nextTm = 1;
  private tmJvmArgs: string[] = [];
  private tmDynamic: string[] = [];
  private readonly java: string;
  private readonly log: (line: string) => void;
  private stopped = false;

  private constructor(
    private readonly opts: ClusterOptions,
    readonly restPort: number,
    private readonly rpcPort: number,
    private readonly blobPort: number,
  ) {
    this.version = opts.dist.version;
    this.workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), `flink-${this.version}-`));
    this.confDir = join(this.workDir, 'conf');
    this.logDir = join(this.workDir, 'log');
    this.checkpointDir = join(this.workDir, 'checkpoints');
    this.savepointDir = join(this.workDir, 'savepoints');
    for (const d of [this.confDir, this.logDir, this.checkpointDir, this.savepointDir, join(this.workDir, 'upload')]) mkdirSync(d, { recursive: true });
    this.restUrl = `http://127.0.0.1:${restPort}`;
    this.java = opts.java ?? 'java';
    this.log = opts.log ?? (() => undefined);
  }

  /** Starts the JobManager and the initial TaskManagers; resolves once REST answers and they registered. */
  static async start(opts: ClusterOptions): Promise<FlinkCluster> {
    // Ports are picked free, then bound by the JVM a moment later: another process may take one in between. Such a
    // start is tried again on new ports (twice at most); any other failure is reported at once.
    for (let attempt = 1; ; attempt++) {
      const c = new FlinkCluster(opts, await freePort(), await freePort(), await freePort());
      try {
        c.writeConfig();
        c.computeTaskManagerParams();
        await c.startJobManager();
        await c.addTaskManagers(opts.taskManagers ?? 1);
        return c;
      } catch (e) {
        await c.stop();
        const portTaken = /Unable to open BLOB Server|Address already in use|BindException|Could not start (rest|RPC) endpoint/i.test((e as Error).message);
        if (portTaken && attempt < 3) {
          c.log(`a port was taken meanwhile (${(e as Error).message.split('\n')[0].slice(0, 160)}); starting again on other ports`);
          continue;
        }
        throw new Error(`${(e as Error).message} (logs: ${c.logDir})`, { cause: e });
      }
    }
  }

  get slotsPerTaskManager(): number {
    return this.opts.slotsPerTaskManager ?? 2;
  }

  private get isFlink2(): boolean {
    return compareVersions(this.version, '2.0.0') >= 0;
  }

  private writeConfig(): void {
    const uri = (p: string) => `file://${p}`;
    const cfg: Record<string, string | number | boolean> = {
      'jobmanager.rpc.address': '127.0.0.1',
      'jobmanager.rpc.port': this.rpcPort,
      'jobmanager.bind-host': '127.0.0.1',
      'taskmanager.bind-host': '127.0.0.1',
      'taskmanager.host': '127.0.0.1',
      'taskmanager.rpc.port': '0',
      'taskmanager.data.port': 0,
      'blob.server.port': this.blobPort,
      'rest.address': '127.0.0.1',
      'rest.bind-address': '127.0.0.1',
      'rest.port': this.restPort,
      'jobmanager.memory.process.size': this.opts.jobManagerMemory ?? '1024m',
      'taskmanager.memory.process.size': this.opts.taskManagerMemory ?? '1280m',
      'taskmanager.memory.managed.fraction': 0.1,
      'taskmanager.numberOfTaskSlots': this.slotsPerTaskManager,
      'web.submit.enable': true,
      'web.cancel.enable': true,
      'web.upload.dir': join(this.workDir, 'upload'),
      'io.tmp.dirs': join(this.workDir, 'tmp'),
      // Faster than the defaults so a test sees a killed TaskManager and fresh metrics within seconds.
      'heartbeat.interval': 2000,
      'heartbeat.timeout': 10000,
      'metrics.fetcher.update-interval': 2000,
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 3,
      'restart-strategy.fixed-delay.delay': '2 s',
      'execution.checkpointing.interval': '2 s',
      'state.backend.type': 'hashmap',
      ...(this.isFlink2
        ? { 'execution.checkpointing.dir': uri(this.checkpointDir), 'execution.checkpointing.savepoint-dir': uri(this.savepointDir) }
        : { 'state.checkpoints.dir': uri(this.checkpointDir), 'state.savepoints.dir': uri(this.savepointDir) }),
      ...(this.opts.scheduler === 'adaptive' || this.opts.reactive ? { 'jobmanager.scheduler': 'adaptive' } : {}),
      ...(this.opts.reactive ? { 'scheduler-mode': 'reactive' } : {}),
      ...this.opts.config,
    };
    mkdirSync(join(this.workDir, 'tmp'), { recursive: true });
    // Flink 1.19 introduced config.yaml (standard YAML); older releases read flink-conf.yaml (the same flat keys)
    const file = compareVersions(this.version, '1.19.0') >= 0 ? 'config.yaml' : 'flink-conf.yaml';
    // (the legacy parser takes values verbatim: no YAML quoting there)
    const value = file === 'config.yaml' ? yamlValue : (v: string | number | boolean) => String(v);
    writeFileSync(join(this.confDir, file), Object.entries(cfg).map(([k, v]) => `${k}: ${value(v)}`).join('\n') + '\n');
    writeFileSync(
      join(this.confDir, 'log4j.properties'),
      [
        'rootLogger.level = INFO',
        'rootLogger.appenderRef.file.ref = MainAppender',
        'appender.main.name = MainAppender',
        'appender.main.type = File',
        'appender.main.append = true',
        'appender.main.fileName = ${sys:log.file}',
        'appender.main.layout.type = PatternLayout',
        'appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n',
        'logger.pekko.name = org.apache.pekko',
        'logger.pekko.level = WARN',
        'logger.zookeeper.name = org.apache.zookeeper',
        'logger.zookeeper.level = WARN',
      ].join('\n') + '\n',
    );
  }

  /** The JVM flags and `-D` memory properties `taskmanager.sh` would compute (Flink's BashJavaUtils). */
  private computeTaskManagerParams(): void {
    const out = execFileSync(
      this.java,
      ['-cp', [this.opts.dist.bashJavaUtilsJar, ...this.opts.dist.classpath].join(':'), 'org.apache.flink.runtime.util.bash.BashJavaUtils', 'GET_TM_RESOURCE_PARAMS', '--configDir', this.confDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    );
    const lines = out.split('\n').filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:')).map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
    if (lines.length < 2) throw new Error(`BashJavaUtils GET_TM_RESOURCE_PARAMS gave no parameters:\n${out.slice(-2000)}`);
    this.tmJvmArgs = lines[0].split(/\s+/).filter(Boolean);
    this.tmDynamic = lines[1].split(/\s+/).filter(Boolean);
  }

  private spawnJvm(id: string, jvmArgs: string[], mainClass: string, args: string[], extraCp: string[] = []): Proc {
    const logFile = join(this.logDir, `${id}.log`);
    const out = createWriteStream(join(this.logDir, `${id}.out`), { flags: 'a' });
    const cp = [...this.opts.dist.classpath, ...extraCp].join(':');
    const child = spawn(
      this.java,
      [...JAVA17_OPENS, ...jvmArgs, `-Dlog.file=${logFile}`, `-Dlog4j.configurationFile=file:${join(this.confDir, 'log4j.properties')}`, '-cp', cp, mainClass, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.workDir, env: { ...process.env, FLINK_CONF_DIR: this.confDir } },
    );
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    track(child);
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    return { id, child, exited, logFile };
  }

  private async startJobManager(): Promise<void> {
    const jvm = ['-Xmx640m', '-Xms640m', '-XX:MaxMetaspaceSize=256m'];
    const r = this.opts.reactive;
    this.jm = r
      ? this.spawnJvm(
          'jobmanager',
          jvm,
          'org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint',
          // --jars (1.20 and 2.x alike): the job graph carries the jar as a user artifact, so TaskManagers load its
          // classes from the blob server. On the JobManager's classpath instead, the JobManager ran the main method
          // but every task failed with ClassNotFoundException (the TaskManagers never saw the jar).
          // --jars takes several values: it goes before a known option, or it would swallow the program arguments.
          ['--configDir', this.confDir, '--jars', r.jar, '--job-classname', r.entryClass, ...(r.jobId ? ['--job-id', r.jobId] : []), ...(r.args ?? [])],
        )
      : this.spawnJvm('jobmanager', jvm, 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint', ['--configDir', this.confDir]);
    this.log(`Flink ${this.version} JobManager starting (REST ${this.restUrl}, logs ${this.logDir})`);
    await this.waitFor('the JobManager REST API', async () => (await this.get('/overview')) !== undefined, this.jm);
  }

  private async get(path: string): Promise<any> {
    try {
      const r = await fetch(`${this.restUrl}${path}`, { signal: AbortSignal.timeout(3000) });
      return r.ok ? await r.json() : undefined;
    } catch {
      return undefined;
    }
  }

  private async waitFor(what: string, ok: () => Promise<boolean>, proc?: Proc): Promise<void> {
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 90_000);
    let exitCode: number | null | undefined;
    void proc?.exited.then((c) => (exitCode = c ?? -1));
    while (Date.now() < deadline) {
      if (await ok()) return;
      if (exitCode !== undefined) throw new Error(`waiting for ${what}: ${proc!.id} exited with code ${exitCode}; ${this.tail(proc!)}`);
      await sleep(250);
    }
    throw new Error(`waiting for ${what}: not ready after ${(this.opts.startTimeoutMs ?? 90_000) / 1000} s${proc ? `; ${this.tail(proc)}` : ''}`);
  }

  /** The last error lines of a process's log, for failure messages. */
  tail(proc: Proc | string, lines = 8): string {
    const p = typeof proc === 'string' ? (proc === 'jobmanager' ? this.jm : this.tms.get(proc)) : proc;
    if (!p) return '';
    const file = existsSync(p.logFile) ? p.logFile : join(this.logDir, `${p.id}.out`);
    if (!existsSync(file)) return 'no log';
    const text = readFileSync(file, 'utf8').split('\n');
    const errors = text.filter((l) => /ERROR|Exception|Caused by/.test(l));
    return (errors.length ? errors : text).slice(-lines).join('\n');
  }

  /** Ids of the TaskManager processes that are running (started and not exited). */
  taskManagerIds(): string[] {
    return [...this.tms.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.id);
  }

  /** The TaskManagers Flink has registered (ids). */
  async registeredTaskManagers(): Promise<string[]> {
    const r = await this.get('/taskmanagers');
    return Array.isArray(r?.taskmanagers) ? r.taskmanagers.map((t: { id: string }) => t.id) : [];
  }

  /** Starts `n` TaskManager JVMs (ids tm-1, tm-2, …) and waits until Flink registered each. */
  async addTaskManagers(n: number, opts: { wait?: boolean } = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const id = `tm-${this.nextTm++}`;
      const args = ['--configDir', this.confDir, ...this.tmDynamic, '-D', `taskmanager.resource-id=${id}`];
      this.tms.set(id, this.spawnJvm(id, this.tmJvmArgs, 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', args));
      ids.push(id);
    }
    if (ids.length && opts.wait !== false) {
      this.log(`starting TaskManager(s) ${ids.join(', ')}`);
      await this.waitFor(`TaskManager(s) ${ids.join(', ')} to register`, async () => {
        const reg = new Set(await this.registeredTaskManagers());
        for (const id of ids) {
          const p = this.tms.get(id)!;
          if (p.child.exitCode !== null) throw new Error(`TaskManager ${id} exited with code ${p.child.exitCode}; ${this.tail(p)}`);
        }
        return ids.every((id) => reg.has(id));
      });
    }
    return ids;
  }

  /**
   * Stops one TaskManager process: `graceful` (SIGTERM, Flink's shutdown hook deregisters it) or `kill` (SIGKILL, as a
   * crashed machine: Flink notices after the heartbeat timeout). Resolves when the process has exited.
   */
  async stopTaskManager(id: string, mode: 'graceful' | 'kill' = 'graceful'): Promise<void> {
    const p = this.tms.get(id);
    if (!p) throw new Error(`no TaskManager process ${id} (known: ${[...this.tms.keys()].join(', ') || 'none'})`);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    await p.exited;
    clearTimeout(timer);
    this.log(`TaskManager ${id} ${mode === 'kill' ? 'killed' : 'stopped'}`);
  }

  /** Kills the JobManager and starts it again on the same ports (no HA: a session cluster forgets its jobs). */
  async restartJobManager(mode: 'graceful' | 'kill' = 'kill'): Promise<void> {
    if (this.jm && this.jm.child.exitCode === null) {
      this.jm.child.kill(mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await this.jm.exited;
    }
    this.log('JobManager restarting');
    await this.startJobManager();
  }

  /** Waits until Flink has registered exactly the running TaskManager processes (after a restart, a kill, …). */
  async waitForRegistered(ids = this.taskManagerIds()): Promise<void> {
    await this.waitFor(`TaskManagers ${ids.join(', ')} to register`, async () => {
      const reg = new Set(await this.registeredTaskManagers());
      return ids.every((id) => reg.has(id)) && reg.size === ids.length;
    });
  }

  /** Stops every process (TaskManagers gracefully, then the JobManager). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.taskManagerIds().map((id) => this.stopTaskManager(id, 'graceful').catch(() => undefined)));
    if (this.jm && this.jm.child.exitCode === null && this.jm.child.signalCode === null) {
      this.jm.child.kill('SIGTERM');
      const t = setTimeout(() => this.jm?.child.kill('SIGKILL'), 15_000);
      await this.jm.exited;
      clearTimeout(t);
    }
  }
}
