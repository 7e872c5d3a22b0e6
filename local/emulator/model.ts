/**
 * The emulated Flink cluster: TaskManagers with slots, jobs (source → keyed operator → sink), savepoints and
 * checkpoints, schedulers (default, adaptive, reactive), and the load model. Time is the VirtualClock's.
 *
 * The model speaks in Flink's terms but not in its wire format: server.ts turns it into REST responses.
 * Errors a REST call must see are thrown as `FlinkRestError(status, errors[])`.
 */
import { createHash } from 'node:crypto';
import type { JobStatus, ResourceRequirements } from '../../functions/adapters/flink/types';
import { isTerminal, metricOperatorName } from '../../functions/adapters/flink/wire';
import { VirtualClock } from './clock';
import { checkRateSpec, rateAt, RateSpec, stepJobLoad, VertexSample } from './load';
import { profileFor, VersionProfile } from './profiles';

export class FlinkRestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors[0] ?? `HTTP ${status}`);
    this.name = 'FlinkRestError';
  }
}

export type SchedulerKind = 'default' | 'adaptive' | 'reactive';

export interface Timings {
  /** INITIALIZING → CREATED. */
  initMs: number;
  /** Slots allocated → RUNNING (tasks DEPLOYING meanwhile). */
  deployMs: number;
  /** CANCELLING → CANCELED. */
  cancelMs: number;
  /** RESTARTING → CREATED (fixed-delay restart strategy). */
  restartDelayMs: number;
  /** heartbeat.timeout: a killed TaskManager stays registered this long (seed 003; Flink default 50 s). */
  heartbeatTimeoutMs: number;
  /** heartbeat.interval, for lastHeartbeat timestamps. */
  heartbeatIntervalMs: number;
  /** slot.idle.timeout: slots a running job no longer uses are returned after this (Flink default 50 s). */
  slotIdleTimeoutMs: number;
  /** slot.request.timeout: a job waiting for slots fails (or restarts) after this. */
  slotRequestTimeoutMs: number;
  /** jobmanager.adaptive-scheduler.resource-wait-timeout. */
  resourceWaitTimeoutMs: number;
  /** jobmanager.adaptive-scheduler.resource-stabilization-timeout (reactive: 0). */
  resourceStabilizationMs: number;
  /** jobmanager.adaptive-scheduler.scaling-interval.min (1.19 default 30 s; 0 before). */
  scalingIntervalMinMs: number;
  /** Fixed part of a savepoint's duration; plus stateBytes / savepointBytesPerSecond. */
  savepointBaseMs: number;
  savepointBytesPerSecond: number;
  checkpointBaseMs: number;
  checkpointBytesPerSecond: number;
  /** rest.async.store-duration: completed async results answer for this long, then 404. */
  asyncStoreMs: number;
  /** A resource-requirements PUT is "in progress" (409 for another) this long. */
  requirementsUpdateMs: number;
}

export function defaultTimings(profile: VersionProfile): Timings {
  return {
    initMs: 500,
    deployMs: 2000,
    cancelMs: 1000,
    restartDelayMs: 1000,
    heartbeatTimeoutMs: 50_000,
    heartbeatIntervalMs: 10_000,
    slotIdleTimeoutMs: 50_000,
    slotRequestTimeoutMs: 300_000,
    resourceWaitTimeoutMs: 300_000,
    resourceStabilizationMs: 10_000,
    scalingIntervalMinMs: profile.scalingIntervalMinMs,
    savepointBaseMs: 1000,
    savepointBytesPerSecond: 100_000_000,
    checkpointBaseMs: 200,
    checkpointBytesPerSecond: 200_000_000,
    asyncStoreMs: 300_000,
    requirementsUpdateMs: 200,
  };
}

/** What a jar's main class builds: a source → keyed operator → sink job. */
export interface ProgramSpec {
  entryClass: string;
  /** Job name (Flink shows it in /jobs/overview). `--job-name X` in the program args overrides it. */
  jobName: string;
  /** Stream (topic) the source reads; defaults to the job name. `--stream X` overrides it. */
  stream?: string;
  /** Job-level max parallelism (key groups). Default 128. */
  maxParallelism?: number;
  /** Vertex names; operator metric scopes derive from the operator names (endpoints.md §7.1). */
  sourceName?: string;
  operatorName?: string;
  sinkName?: string;
  /** Records/s one subtask handles. The keyed operator is normally the bottleneck. */
  sourceCapacityPerSubtask?: number;
  operatorCapacityPerSubtask?: number;
  sinkCapacityPerSubtask?: number;
  /** Keyed state: bytes at start and growth per processed record (bounded by maxStateBytes). */
  initialStateBytes?: number;
  stateBytesPerRecord?: number;
  maxStateBytes?: number;
  /** execution.checkpointing.interval; null disables checkpointing. Default 30 s. */
  checkpointIntervalMs?: number | null;
  /** Where a source without restored state starts: "latest" (backlog 0) or "earliest" (the whole stream). */
  startFrom?: 'latest' | 'earliest';
  /** A legacy SourceFunction: its busyTimeMsPerSecond is NaN (endpoints.md §7.2). */
  legacySource?: boolean;
  /**
   * Parallelism fixed in the job's code (`setParallelism` on an operator), by vertex name: the run request's
   * parallelism applies to the other vertices. Default none.
   */
  vertexParallelism?: Record<string, number>;
}

export const DEFAULT_ENTRY_CLASS = 'com.example.flink.StreamingJob';

/** TaskManager CPU with nothing to do (JVM, heartbeats, metrics), as a fraction of the TaskManager. */
export const JVM_BASELINE_LOAD = 0.02;
/** Cores a busy keyed-operator subtask uses: its thread is CPU-bound, so a saturated one uses a full core. */
export const KEYED_CPU_PER_BUSY_SECOND = 1;
/** Cores a busy source or sink subtask uses: about half of its busy time is spent in network I/O. */
export const SOURCE_SINK_CPU_PER_BUSY_SECOND = 0.5;

interface Program extends Required<Omit<ProgramSpec, 'stream'>> {
  stream?: string;
}

function completeProgram(p: ProgramSpec): Program {
  if (!p.entryClass) throw new Error('program: entryClass is required');
  if (!p.jobName) throw new Error('program: jobName is required');
  const mp = p.maxParallelism ?? 128;
  if (!Number.isInteger(mp) || mp < 1 || mp > 32768) throw new Error(`program ${p.entryClass}: maxParallelism must be an integer from 1 to 32768, got ${mp}`);
  const prog: Program = {
    entryClass: p.entryClass,
    jobName: p.jobName,
    stream: p.stream,
    maxParallelism: mp,
    sourceName: p.sourceName ?? 'Source: Kafka Source -> Map',
    operatorName: p.operatorName ?? 'KeyedProcess',
    sinkName: p.sinkName ?? 'Sink: Kafka Sink',
    sourceCapacityPerSubtask: p.sourceCapacityPerSubtask ?? 20_000,
    operatorCapacityPerSubtask: p.operatorCapacityPerSubtask ?? 1000,
    sinkCapacityPerSubtask: p.sinkCapacityPerSubtask ?? 20_000,
    initialStateBytes: p.initialStateBytes ?? 50_000_000,
    stateBytesPerRecord: p.stateBytesPerRecord ?? 0,
    maxStateBytes: p.maxStateBytes ?? 10_000_000_000,
    checkpointIntervalMs: p.checkpointIntervalMs === undefined ? 30_000 : p.checkpointIntervalMs,
    startFrom: p.startFrom ?? 'latest',
    legacySource: p.legacySource ?? false,
    vertexParallelism: { ...(p.vertexParallelism ?? {}) },
  };
  for (const k of ['sourceCapacityPerSubtask', 'operatorCapacityPerSubtask', 'sinkCapacityPerSubtask'] as const) {
    if (!(prog[k] > 0) || !Number.isFinite(prog[k])) throw new Error(`program ${p.entryClass}: ${k} must be a number > 0`);
  }
  return prog;
}

export interface SlotState {
  jobId: string | null;
  /** Set while a job holds the slot without using it; released at that time (slot.idle.timeout). */
  idleReleaseAt?: number;
}

export interface EmuTaskManager {
  id: string;
  host: string;
  dataPort: number;
  slots: SlotState[];
  registeredAt: number;
  /** Killed (SIGKILL / instance lost): still registered until the heartbeat timeout, tasks on it stuck. */
  dead: boolean;
  diedAt?: number;
  cpuCores: number;
}

interface SlotRef {
  tm: EmuTaskManager;
  index: number;
}

export interface AppState {
  /** Records consumed from the stream (the source offset in the job's state). */
  offset: number;
  /** Keyed state: records aggregated so far (a counter that must survive every rescale). */
  count: number;
  stateBytes: number;
}

export interface Snapshot {
  app: AppState;
  entryClass: string;
  maxParallelismByVertex: Record<string, number>;
}

export interface CheckpointRecord {
  id: number;
  isSavepoint: boolean;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  triggeredAt: number;
  ackAt?: number;
  externalPath?: string;
  stateSize: number;
  failureMessage?: string;
  numSubtasks: number;
  snapshot: Snapshot;
}

export interface EmuVertex {
  id: string;
  name: string;
  kind: 'source' | 'keyed' | 'sink';
  operatorNames: string[];
  maxParallelism: number;
  parallelism: number;
  capacityPerSubtask: number;
  /**
   * CPU cost share of one subtask: cores its thread uses per second of busy time (a CPU-bound operator's busy thread
   * uses a full core; sources and sinks spend part of their busy time waiting on the network). TaskManager CPU =
   * (JVM baseline + Σ over the subtasks in its slots of busy fraction × cpuPerBusySecond) ÷ cores, capped at 1.
   */
  cpuPerBusySecond: number;
  sample?: VertexSample;
  totals: { recordsIn: number; recordsOut: number; busyMs: number; backPressuredMs: number; idleMs: number };
}

export interface EmuJob {
  id: string;
  name: string;
  program: Program;
  jarId: string;
  scheduler: SchedulerKind;
  state: JobStatus;
  /** Task-level execution state shown per vertex. */
  taskState: string;
  timestamps: Partial<Record<JobStatus, number>>;
  startTime: number;
  endTime: number;
  lastModification: number;
  vertices: EmuVertex[];
  /** Configured parallelism per vertex (default scheduler: what it needs; adaptive: the default upper bound). */
  configured: number[];
  /** Adaptive scheduler: bounds set by PUT resource-requirements, by vertex id. */
  requirements?: ResourceRequirements;
  requirementsUpdateUntil?: number;
  stream: string;
  app: AppState;
  /** What a restart without a newer checkpoint restores: the savepoint it started from, or its initial state. */
  restoreBase: Snapshot;
  restoredFrom?: { path: string; isSavepoint: boolean; at: number; id: number };
  slots: SlotRef[];
  attempt: number;
  checkpoints: CheckpointRecord[];
  nextCheckpointId: number;
  checkpointIntervalMs: number | null;
  failure?: { className: string; message: string };
  lastRescaleAt: number;
  runningSince?: number;
  /** Metrics of the current attempt exist after its first load step. */
  metricsReady: boolean;
  timers: { cancel(): void }[];
  waitTimer?: { cancel(): void };
  rescaleTimer?: { cancel(): void };
  submitSeq: number;
  restoreMode?: string;
  flinkConfiguration?: Record<string, string>;
}

export interface Jar {
  id: string;
  name: string;
  uploaded: number;
  entryClasses: string[];
  size: number;
}

export interface AsyncOperation {
  triggerId: string;
  jobId: string;
  kind: 'savepoint' | 'stop';
  createdAt: number;
  completedAt?: number;
  location?: string;
  failure?: { className: string; message: string };
  drain?: boolean;
}

export interface SavepointRecord {
  path: string;
  jobId: string;
  completedAt: number;
  snapshot: Snapshot;
  formatType: string;
}

export interface Stream {
  name: string;
  produced: number;
  rate: RateSpec;
}

export interface ModelOptions {
  /** Version profile: "1.14", "1.18" or "1.19" (default). */
  version?: string;
  /** jobmanager.scheduler / scheduler-mode for every job: default | adaptive | reactive. Default "default". */
  scheduler?: SchedulerKind;
  /** TaskManagers registered at start. Default 2. */
  taskManagers?: number;
  /** taskmanager.numberOfTaskSlots. Default 2. */
  slotsPerTaskManager?: number;
  /** state.savepoints.dir; when unset, a savepoint request must name a directory (400 otherwise). */
  savepointDir?: string;
  /** parallelism.default. Default 1. */
  defaultParallelism?: number;
  /** Slot placement: "pack" fills TaskManagers in registration order (default); "spread" = cluster.evenly-spread-out-slots. */
  slotAllocation?: 'pack' | 'spread';
  timings?: Partial<Timings>;
  clock?: VirtualClock;
  /** Extra programs (entry classes) every uploaded jar may run, besides the default one. */
  programs?: ProgramSpec[];
  /** Seed of the deterministic ids. */
  seed?: string;
}

export function hex32(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

/** Fault injection: each counter is consumed by the next matching operation. */
export class Faults {
  savepointFailures = 0;
  savepointFailureMessage = 'java.io.IOException: Failed to create savepoint directory (injected fault)';
  cancelFailures = 0;
  runFailures = 0;
  /** Next N REST calls answer 503 (leader election). */
  unavailableCalls = 0;
  /** Next N REST responses (of those `slowMatch` selects, default all) are delayed by this many real milliseconds. */
  slowCalls = 0;
  slowMs = 0;
  slowMatch?: (method: string, path: string) => boolean;

  failNextSavepoints(n = 1, message?: string): void {
    this.savepointFailures += n;
    if (message) this.savepointFailureMessage = message;
  }
  failNextCancels(n = 1): void {
    this.cancelFailures += n;
  }
  failNextRuns(n = 1): void {
    this.runFailures += n;
  }
  unavailableFor(calls: number): void {
    this.unavailableCalls += calls;
  }
  /**
   * The next `calls` responses come `ms` real milliseconds late (the request is applied at once: a client that gives
   * up waiting does not undo it). `match` (method, path without /v1) picks which requests count; default all.
   */
  slowResponses(ms: number, calls: number, match?: (method: string, path: string) => boolean): void {
    this.slowMs = ms;
    this.slowCalls += calls;
    this.slowMatch = match;
  }
}

const TASK_STATES = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED', 'RECONCILING', 'INITIALIZING'];

export class FlinkModel {
  readonly clock: VirtualClock;
  readonly profile: VersionProfile;
  readonly timings: Timings;
  readonly scheduler: SchedulerKind;
  readonly slotsPerTaskManager: number;
  readonly savepointDir?: string;
  readonly defaultParallelism: number;
  readonly slotAllocation: 'pack' | 'spread';
  readonly faults = new Faults();
  readonly taskManagers: EmuTaskManager[] = [];
  readonly jobs: EmuJob[] = [];
  readonly jars: Jar[] = [];
  readonly streams = new Map<string, Stream>();
  /** Async savepoint/stop operations by `${jobId}/${triggerId}` (Flink keys them per job). */
  readonly operations = new Map<string, AsyncOperation>();
  readonly savepoints = new Map<string, SavepointRecord>();
  private readonly programs = new Map<string, Program>();
  private readonly jarPrograms = new Map<string, string[]>();
  private readonly seed: string;
  private idCounter = 0;
  private tmCounter = 0;
  private submitCounter = 0;
  /** Human-readable event log (what happened when), for tests and the CLI. */
  readonly events: { at: number; message: string }[] = [];

  constructor(opts: ModelOptions = {}) {
    this.profile = profileFor(opts.version ?? '1.19');
    this.clock = opts.clock ?? new VirtualClock();
    this.timings = { ...defaultTimings(this.profile), ...(opts.timings ?? {}) };
    for (const [k, v] of Object.entries(this.timings)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`timings.${k} must be a number >= 0, got ${v}`);
    }
    this.scheduler = opts.scheduler ?? 'default';
    if (!['default', 'adaptive', 'reactive'].includes(this.scheduler)) {
      throw new Error(`scheduler must be one of default, adaptive, reactive; got "${this.scheduler}"`);
    }
    this.slotsPerTaskManager = opts.slotsPerTaskManager ?? 2;
    if (!Number.isInteger(this.slotsPerTaskManager) || this.slotsPerTaskManager < 1 || this.slotsPerTaskManager > 256) {
      throw new Error(`slotsPerTaskManager must be an integer from 1 to 256, got ${this.slotsPerTaskManager}`);
    }
    this.savepointDir = opts.savepointDir;
    this.defaultParallelism = opts.defaultParallelism ?? 1;
    this.slotAllocation = opts.slotAllocation ?? 'pack';
    this.seed = opts.seed ?? 'flink-emulator';
    this.defineProgram({ entryClass: DEFAULT_ENTRY_CLASS, jobName: 'demo' });
    for (const p of opts.programs ?? []) this.defineProgram(p);
    const n = opts.taskManagers ?? 2;
    if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new Error(`taskManagers must be an integer from 0 to 10000, got ${n}`);
    for (let i = 0; i < n; i++) this.addTaskManager();
    this.clock.onTick((dt, now) => this.step(dt, now));
  }

  // ---------------------------------------------------------------- ids, events

  private nextId(kind: string): string {
    return hex32(`${this.seed}/${kind}/${this.idCounter++}`);
  }

  private log(message: string): void {
    this.events.push({ at: this.clock.now(), message });
  }

  // ---------------------------------------------------------------- streams (the world outside Flink)

  /** Sets the input rate of a stream (records/s; constant, function of elapsed virtual ms, or a trace). */
  setInputRate(stream: string, rate: RateSpec): void {
    checkRateSpec(rate, `input rate of stream "${stream}"`);
    const s = this.stream(stream);
    s.rate = rate;
  }

  stream(name: string): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = { name, produced: 0, rate: 0 };
      this.streams.set(name, s);
    }
    return s;
  }

  /** Records waiting in the stream for this job (produced - consumed offset). */
  backlog(jobId: string): number {
    const job = this.requireJob(jobId);
    return this.stream(job.stream).produced - job.app.offset;
  }

  // ---------------------------------------------------------------- task managers

  /** Registers a TaskManager now (boot delays belong to the capacity target). */
  addTaskManager(opts: { host?: string; slots?: number; id?: string } = {}): EmuTaskManager {
    const n = this.tmCounter++;
    const host = opts.host ?? `10.0.${1 + Math.floor(n / 250)}.${10 + (n % 250)}`;
    const port = 40000 + n;
    const id = opts.id ?? `${host}:${port}-${hex32(`${this.seed}/tm/${n}`).slice(0, 6)}`;
    if (this.taskManagers.some((t) => t.id === id)) throw new Error(`a TaskManager with id ${id} is already registered`);
    const slots = opts.slots ?? this.slotsPerTaskManager;
    const tm: EmuTaskManager = {
      id,
      host,
      dataPort: 6121,
      slots: Array.from({ length: slots }, () => ({ jobId: null })),
      registeredAt: this.clock.now(),
      dead: false,
      cpuCores: slots,
    };
    this.taskManagers.push(tm);
    this.log(`TaskManager ${id} registered (${slots} slots)`);
    this.slotsChanged();
    return tm;
  }

  requireTaskManager(id: string): EmuTaskManager {
    const tm = this.taskManagers.find((t) => t.id === id);
    if (!tm) throw new FlinkRestError(404, [`Could not find TaskExecutor ${id}.`]);
    return tm;
  }

  /** Graceful stop (SIGTERM): deregisters at once; tasks in its slots fail and their jobs restart. */
  stopTaskManager(id: string): void {
    const tm = this.requireTaskManager(id);
    this.removeTaskManager(tm, 'stopped');
  }

  /**
   * Kill (SIGKILL, instance lost): the TaskManager stays registered until heartbeat.timeout; jobs with tasks on it
   * make no progress meanwhile; then it is removed and those jobs restart.
   */
  killTaskManager(id: string): void {
    const tm = this.requireTaskManager(id);
    if (tm.dead) return;
    tm.dead = true;
    tm.diedAt = this.clock.now();
    this.log(`TaskManager ${id} killed; heartbeat timeout in ${this.timings.heartbeatTimeoutMs} ms`);
    this.clock.schedule(this.timings.heartbeatTimeoutMs, () => {
      if (this.taskManagers.includes(tm)) this.removeTaskManager(tm, `heartbeat of TaskManager with id ${id} timed out`);
    });
  }

  private removeTaskManager(tm: EmuTaskManager, reason: string): void {
    this.taskManagers.splice(this.taskManagers.indexOf(tm), 1);
    this.log(`TaskManager ${tm.id} left: ${reason}`);
    const affected = this.jobs.filter((j) => j.slots.some((s) => s.tm === tm));
    for (const job of affected) {
      job.slots = job.slots.filter((s) => s.tm !== tm);
      if (job.state === 'RUNNING' || job.state === 'CREATED') {
        this.restart(job, `org.apache.flink.runtime.jobmaster.JobMasterException: TaskManager with id ${tm.id} is no longer reachable (${reason}).`);
      }
    }
    this.slotsChanged();
  }

  isIdle(tm: EmuTaskManager): boolean {
    return tm.slots.every((s) => s.jobId === null);
  }

  freeSlots(tm: EmuTaskManager): number {
    return tm.slots.filter((s) => s.jobId === null).length;
  }

  /**
   * CPU load of a TaskManager (0..1, like Status.JVM.CPU.Load), as a real TaskManager shows it: every subtask runs in
   * its own thread, and a busy thread uses a core. With slot sharing, slot i holds subtask i of every vertex, so
   *   load = min(1, JVM_BASELINE_LOAD + Σ over its subtasks (busy/1000 × cpuPerBusySecond) ÷ cores)
   * with one core per slot (cpuCores = slots). A job saturated on its keyed operator drives its slots to ~100 %
   * (1 core for the keyed subtask alone); an idle job shows the JVM baseline (2 %).
   */
  cpuLoad(tmId: string): number {
    const tm = this.requireTaskManager(tmId);
    if (tm.dead) return 0;
    let busyCores = 0;
    for (const job of this.jobs) {
      if (job.state !== 'RUNNING') continue;
      job.slots.forEach((ref, i) => {
        if (ref.tm !== tm) return;
        for (const v of job.vertices) {
          if (i < v.parallelism && v.sample) busyCores += (v.sample.busyMsPerSecond / 1000) * v.cpuPerBusySecond;
        }
      });
    }
    return Math.min(1, JVM_BASELINE_LOAD + busyCores / tm.cpuCores);
  }

  lastHeartbeat(tm: EmuTaskManager): number {
    const now = tm.dead ? tm.diedAt! : this.clock.now();
    const i = this.timings.heartbeatIntervalMs;
    return Math.max(tm.registeredAt, i > 0 ? Math.floor(now / i) * i : now);
  }

  // ---------------------------------------------------------------- jars and programs

  defineProgram(spec: ProgramSpec): void {
    this.programs.set(spec.entryClass, completeProgram(spec));
  }

  program(entryClass: string): ProgramSpec | undefined {
    return this.programs.get(entryClass);
  }

  /**
   * Stores an uploaded jar as `<uuid>_<name>` (endpoints.md §6.2). A jar whose content is a JSON ProgramSpec (or
   * an array of them) defines those programs; any other content runs the default program.
   */
  uploadJar(fileName: string, content: Uint8Array = new Uint8Array(), opts: { id?: string } = {}): Jar {
    let entryClasses = [DEFAULT_ENTRY_CLASS];
    const text = Buffer.from(content).toString('utf8').trim();
    if (text.startsWith('{') || text.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        const specs = (Array.isArray(parsed) ? parsed : [parsed]) as ProgramSpec[];
        for (const s of specs) this.defineProgram(s);
        entryClasses = specs.map((s) => s.entryClass);
      }
    }
    const uuid = this.nextId('jar');
    // `opts.id`: a jar that is already on the cluster under a known id (a config's submit.jarId), not an upload.
    const id = opts.id ?? `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20, 32)}_${fileName}`;
    if (this.jars.some((j) => j.id === id)) throw new Error(`uploadJar: a jar with id ${id} already exists`);
    const jar: Jar = { id, name: fileName, uploaded: this.clock.now(), entryClasses, size: content.length };
    this.jars.push(jar);
    this.jarPrograms.set(id, entryClasses);
    this.log(`jar ${id} uploaded (${entryClasses.join(', ')})`);
    return jar;
  }

  // ---------------------------------------------------------------- jobs

  requireJob(jobId: string): EmuJob {
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job) throw new FlinkRestError(404, [`Job ${jobId} not found`]);
    return job;
  }

  findJob(name: string): EmuJob | undefined {
    return [...this.jobs].reverse().find((j) => j.name === name && !isTerminal(j.state));
  }

  /** POST /jars/{id}/run. Validation that Flink does in the client/handler throws; restore problems fail the job. */
  runJar(
    jarId: string,
    req: {
      entryClass?: string;
      programArgs?: string[];
      parallelism?: number;
      jobId?: string;
      savepointPath?: string;
      allowNonRestoredState?: boolean;
      restoreMode?: string;
      flinkConfiguration?: Record<string, string>;
    },
  ): EmuJob {
    const jar = this.jars.find((j) => j.id === jarId);
    if (!jar) throw new FlinkRestError(400, [`Jar file /tmp/flink-web-upload/${jarId} does not exist`]);
    const couldNot = (cause: string) => new FlinkRestError(400, ['Could not execute application.', cause]);
    if (this.faults.runFailures > 0) {
      this.faults.runFailures--;
      throw couldNot('org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: injected fault (run fails)');
    }
    const entryClass = req.entryClass ?? jar.entryClasses[0];
    const prog = this.jarPrograms.get(jarId)!.includes(entryClass) ? this.programs.get(entryClass) : undefined;
    // Real Flink builds the program before running it and answers a class the jar lacks with HTTP 500 (seen on
    // 1.20.5 and 2.3.0: test/flink/faults.test.ts), not with the 400 of a main method that failed.
    if (!prog) {
      throw new FlinkRestError(500, [
        'Internal server error.',
        `org.apache.flink.client.program.ProgramInvocationException: The program's entry point class '${entryClass}' was not found in the jar file.`,
      ]);
    }
    const args = parseArgs(req.programArgs ?? []);
    const name = args['job-name'] ?? prog.jobName;
    const stream = args.stream ?? prog.stream ?? name;
    const parallelism = req.parallelism ?? this.defaultParallelism;
    if (!Number.isInteger(parallelism) || parallelism < 1) throw couldNot(`java.lang.IllegalArgumentException: The parallelism of an operator must be at least 1.`);
    const overrides = this.vertexOverrides(req.flinkConfiguration);
    const vertexDefs = [
      // w: CPU cost share (cores per busy second): the keyed operator is CPU-bound, source and sink half I/O
      { kind: 'source' as const, name: prog.sourceName, cap: prog.sourceCapacityPerSubtask, w: SOURCE_SINK_CPU_PER_BUSY_SECOND },
      { kind: 'keyed' as const, name: prog.operatorName, cap: prog.operatorCapacityPerSubtask, w: KEYED_CPU_PER_BUSY_SECOND },
      { kind: 'sink' as const, name: prog.sinkName, cap: prog.sinkCapacityPerSubtask, w: SOURCE_SINK_CPU_PER_BUSY_SECOND },
    ];
    const vertices: EmuVertex[] = vertexDefs.map((d) => ({
      id: hex32(`${prog.entryClass}/${name}/${d.kind}`),
      name: d.name,
      kind: d.kind,
      operatorNames: d.name.split(' -> '),
      maxParallelism: prog.maxParallelism,
      parallelism: 0,
      capacityPerSubtask: d.cap,
      cpuPerBusySecond: d.w,
      totals: { recordsIn: 0, recordsOut: 0, busyMs: 0, backPressuredMs: 0, idleMs: 0 },
    }));
    const configured = vertices.map((v) => overrides[v.id] ?? prog.vertexParallelism[v.name] ?? parallelism);
    vertices.forEach((v, i) => (v.parallelism = configured[i]));
    vertices.forEach((v, i) => {
      if (configured[i] > v.maxParallelism) {
        throw couldNot(
          `java.lang.IllegalArgumentException: The parallelism (${configured[i]}) of vertex ${v.name} is larger than its max parallelism (${v.maxParallelism}).`,
        );
      }
    });
    const jobId = req.jobId ?? this.nextId('job');
    // Flink remembers finished jobs (JobResultStore): any id it has seen is a duplicate.
    if (this.jobs.some((j) => j.id === jobId)) {
      throw couldNot(`org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted. JobID: ${jobId}`);
    }
    const now = this.clock.now();
    const s = this.stream(stream);
    const fresh: Snapshot = {
      app: { offset: prog.startFrom === 'earliest' ? 0 : s.produced, count: 0, stateBytes: prog.initialStateBytes },
      entryClass: prog.entryClass,
      maxParallelismByVertex: Object.fromEntries(vertices.map((v) => [v.id, v.maxParallelism])),
    };
    const job: EmuJob = {
      id: jobId,
      name,
      program: prog,
      jarId,
      scheduler: this.scheduler,
      state: 'INITIALIZING',
      taskState: 'INITIALIZING',
      timestamps: { INITIALIZING: now },
      startTime: now,
      endTime: -1,
      lastModification: now,
      vertices,
      configured,
      stream,
      app: { ...fresh.app },
      restoreBase: fresh,
      slots: [],
      attempt: 0,
      checkpoints: [],
      nextCheckpointId: 1,
      checkpointIntervalMs: prog.checkpointIntervalMs,
      lastRescaleAt: now,
      metricsReady: false,
      timers: [],
      submitSeq: this.submitCounter++,
      restoreMode: req.restoreMode,
      flinkConfiguration: req.flinkConfiguration,
    };
    this.jobs.push(job);
    this.log(`job ${name} (${jobId}) submitted at parallelism ${parallelism}${req.savepointPath ? ` from ${req.savepointPath}` : ''}`);
    let restoreError: string | undefined;
    if (req.savepointPath) {
      const sp = this.savepoints.get(req.savepointPath.replace(/\/+$/, ''));
      if (!sp) {
        restoreError = `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${req.savepointPath}' on file system 'file'.`;
      } else if (sp.snapshot.entryClass !== prog.entryClass && !req.allowNonRestoredState) {
        restoreError = `java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint ${req.savepointPath}. Cannot map checkpoint/savepoint state for operator ${Object.keys(sp.snapshot.maxParallelismByVertex)[0]} to the new program, because the operator is not available in the new program. If you want to allow to skip this, you can set the --allowNonRestoredState option on the CLI.`;
      } else if (sp.snapshot.entryClass === prog.entryClass) {
        const changed = vertices.find((v) => sp.snapshot.maxParallelismByVertex[v.id] !== undefined && sp.snapshot.maxParallelismByVertex[v.id] !== v.maxParallelism);
        if (changed) {
          restoreError = `java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint ${req.savepointPath}. The max parallelism changed from ${sp.snapshot.maxParallelismByVertex[changed.id]} to ${changed.maxParallelism} for vertex ${changed.name}; restoring keyed state needs the same max parallelism.`;
        } else {
          job.restoreBase = { ...sp.snapshot, app: { ...sp.snapshot.app } };
          job.app = { ...sp.snapshot.app };
          job.restoredFrom = { path: sp.path, isSavepoint: true, at: now, id: 0 };
        }
      }
    }
    this.after(job, this.timings.initMs, () => {
      if (restoreError) return this.fail(job, 'org.apache.flink.runtime.client.JobInitializationException', `Could not start the JobMaster. ${restoreError}`);
      this.setState(job, 'CREATED');
      job.taskState = 'SCHEDULED';
      this.trySchedule(job);
    });
    return job;
  }

  private vertexOverrides(conf?: Record<string, string>): Record<string, number> {
    const raw = conf?.['pipeline.jobvertex-parallelism-overrides'];
    if (!raw || !this.profile.vertexParallelismOverrides) return {};
    const out: Record<string, number> = {};
    for (const part of raw.split(',')) {
      const [id, p] = part.split(':').map((x) => x.trim());
      const n = Number(p);
      if (!id || !Number.isInteger(n) || n < 1) {
        throw new FlinkRestError(400, ['Could not execute application.', `java.lang.IllegalArgumentException: Could not parse pipeline.jobvertex-parallelism-overrides entry "${part}".`]);
      }
      out[id] = n;
    }
    return out;
  }

  private after(job: EmuJob, ms: number, fn: () => void): void {
    const attempt = job.attempt;
    const t = this.clock.schedule(ms, () => {
      job.timers = job.timers.filter((x) => x !== t);
      if (job.attempt === attempt && !isTerminal(job.state)) fn();
    });
    job.timers.push(t);
  }

  private clearTimers(job: EmuJob): void {
    for (const t of job.timers) t.cancel();
    job.timers = [];
    job.waitTimer?.cancel();
    job.waitTimer = undefined;
    job.rescaleTimer?.cancel();
    job.rescaleTimer = undefined;
  }

  private setState(job: EmuJob, state: JobStatus): void {
    job.state = state;
    const now = this.clock.now();
    job.timestamps[state] = now;
    job.lastModification = now;
    if (isTerminal(state)) {
      job.endTime = now;
      job.taskState = state === 'FINISHED' ? 'FINISHED' : state === 'CANCELED' ? 'CANCELED' : 'FAILED';
    }
    if (state !== 'RUNNING') {
      job.runningSince = undefined;
      job.metricsReady = false;
      for (const v of job.vertices) v.sample = undefined;
    }
    this.log(`job ${job.name} (${job.id}) → ${state}`);
  }

  private fail(job: EmuJob, className: string, message: string): void {
    this.clearTimers(job);
    job.failure = { className, message };
    this.releaseAll(job);
    this.failInProgressOps(job, 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending.');
    this.setState(job, 'FAILED');
    this.slotsChanged();
  }

  /** Bounds [lower, upper] per vertex for adaptive / reactive scheduling. */
  private bounds(job: EmuJob): { lo: number; hi: number }[] {
    return job.vertices.map((v, i) => {
      if (job.scheduler === 'reactive') return { lo: 1, hi: v.maxParallelism };
      const r = job.requirements?.[v.id]?.parallelism;
      if (r) {
        return { lo: r.lowerBound === -1 ? 1 : r.lowerBound, hi: r.upperBound === -1 ? v.maxParallelism : r.upperBound };
      }
      return { lo: 1, hi: job.configured[i] };
    });
  }

  private totalFree(): number {
    return this.taskManagers.filter((t) => !t.dead).reduce((a, t) => a + this.freeSlots(t), 0);
  }

  /** Slots this job holds but leaves idle (they count as usable when it re-plans). */
  private heldIdle(job: EmuJob): SlotRef[] {
    const refs: SlotRef[] = [];
    for (const tm of this.taskManagers) {
      if (tm.dead) continue;
      tm.slots.forEach((s, index) => {
        if (s.jobId === job.id && !job.slots.some((r) => r.tm === tm && r.index === index)) refs.push({ tm, index });
      });
    }
    return refs;
  }

  /** Decide the parallelism a waiting job can start with now; undefined = keep waiting. */
  private plan(job: EmuJob, allowPartial: boolean): number[] | undefined {
    const usable = this.totalFree() + job.slots.length + this.heldIdle(job).length;
    if (job.scheduler === 'default') {
      const need = Math.max(...job.configured);
      return usable >= need ? [...job.configured] : undefined;
    }
    const b = this.bounds(job);
    const want = Math.max(...b.map((x) => x.hi));
    const min = Math.max(...b.map((x) => x.lo));
    if (usable >= want) return b.map((x) => x.hi);
    if (usable >= min && (allowPartial || job.scheduler === 'reactive')) return b.map((x) => Math.max(x.lo, Math.min(x.hi, usable)));
    return undefined;
  }

  private trySchedule(job: EmuJob): void {
    if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
    const p = this.plan(job, false);
    if (p) return this.deploy(job, p);
    if (job.waitTimer) return;
    if (job.scheduler === 'adaptive') {
      // Sufficient-but-not-desired resources: wait resource-stabilization-timeout, then run with what is there.
      const stab = this.clock.schedule(this.timings.resourceStabilizationMs, () => {
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const partial = this.plan(job, true);
        if (partial) {
          job.waitTimer?.cancel();
          job.waitTimer = undefined;
          this.deploy(job, partial);
        }
      });
      job.timers.push(stab);
      job.waitTimer = this.clock.schedule(this.timings.resourceWaitTimeoutMs, () => {
        job.waitTimer = undefined;
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const partial = this.plan(job, true);
        if (partial) return this.deploy(job, partial);
        this.fail(job, 'org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException', 'Could not acquire the minimum required resources.');
      });
    } else if (job.scheduler === 'default') {
      job.waitTimer = this.clock.schedule(this.timings.slotRequestTimeoutMs, () => {
        job.waitTimer = undefined;
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const msg = `Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout`;
        if (job.checkpointIntervalMs !== null) {
          // With checkpointing the default restart strategy is fixed-delay with unlimited attempts: try again.
          this.restart(job, `org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: ${msg}`);
        } else {
          this.fail(job, 'org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException', msg);
        }
      });
    }
    // reactive waits for resources forever (resource-wait-timeout -1).
  }

  private pickSlots(job: EmuJob, n: number): SlotRef[] {
    const chosen: SlotRef[] = [...job.slots];
    for (const r of this.heldIdle(job)) if (chosen.length < n) chosen.push(r);
    const live = this.taskManagers.filter((t) => !t.dead);
    if (this.slotAllocation === 'spread') {
      while (chosen.length < n) {
        const tm = live.filter((t) => this.freeSlots(t) > 0 && !t.slots.every((_, i) => chosen.some((c) => c.tm === t && c.index === i)));
        const cand = tm
          .map((t) => ({ t, free: t.slots.filter((s, i) => s.jobId === null && !chosen.some((c) => c.tm === t && c.index === i)).length }))
          .filter((x) => x.free > 0)
          .sort((a, b) => b.free - a.free)[0];
        if (!cand) break;
        const index = cand.t.slots.findIndex((s, i) => s.jobId === null && !chosen.some((c) => c.tm === cand.t && c.index === i));
        chosen.push({ tm: cand.t, index });
      }
    } else {
      // Pack: fill the TaskManagers that already hold slots of this job, then in registration order.
      const order = [...live].sort((a, b) => Number(chosen.some((c) => c.tm === b)) - Number(chosen.some((c) => c.tm === a)));
      for (const tm of order) {
        tm.slots.forEach((s, index) => {
          if (chosen.length < n && s.jobId === null) chosen.push({ tm, index });
        });
      }
    }
    return chosen.slice(0, n);
  }

  private deploy(job: EmuJob, parallelism: number[]): void {
    job.waitTimer?.cancel();
    job.waitTimer = undefined;
    const need = Math.max(...parallelism);
    const previouslyHeld = [...job.slots, ...this.heldIdle(job)];
    const slots = this.pickSlots(job, need);
    for (const r of slots) r.tm.slots[r.index] = { jobId: job.id };
    // Slots it held but no longer needs stay allocated until slot.idle.timeout.
    for (const r of previouslyHeld) {
      if (!slots.some((s) => s.tm === r.tm && s.index === r.index)) this.holdIdle(job, r);
    }
    job.slots = slots;
    job.vertices.forEach((v, i) => (v.parallelism = parallelism[i]));
    job.taskState = 'DEPLOYING';
    this.log(`job ${job.name} deploying at parallelism ${parallelism.join('/')} on ${need} slot(s)`);
    this.after(job, this.timings.deployMs, () => {
      if (job.state !== 'CREATED') return;
      this.setState(job, 'RUNNING');
      job.taskState = 'RUNNING';
      job.runningSince = this.clock.now();
      this.scheduleCheckpoint(job);
      this.maybeScaleUp(job);
    });
  }

  private holdIdle(job: EmuJob, r: SlotRef): void {
    const releaseAt = this.clock.now() + this.timings.slotIdleTimeoutMs;
    r.tm.slots[r.index] = { jobId: job.id, idleReleaseAt: releaseAt };
    this.clock.schedule(this.timings.slotIdleTimeoutMs, () => {
      const s = r.tm.slots[r.index];
      if (s && s.jobId === job.id && s.idleReleaseAt === releaseAt) {
        r.tm.slots[r.index] = { jobId: null };
        this.log(`slot ${r.index} of TaskManager ${r.tm.id} released by job ${job.name} (slot.idle.timeout)`);
        this.slotsChanged();
      }
    });
  }

  private releaseAll(job: EmuJob): void {
    for (const tm of this.taskManagers) {
      tm.slots.forEach((s, i) => {
        if (s.jobId === job.id) tm.slots[i] = { jobId: null };
      });
    }
    job.slots = [];
  }

  /** Restart (failover or rescale): RESTARTING → CREATED after the restart delay, restoring the latest checkpoint. */
  private restart(job: EmuJob, cause: string): void {
    this.clearTimers(job);
    this.failInProgressOps(job, 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending.');
    for (const c of job.checkpoints) if (c.status === 'IN_PROGRESS') c.status = 'FAILED';
    job.attempt++;
    // Slots stay with the job (its slot pool) while it restarts; they are reused or released when it re-plans.
    for (const r of job.slots) if (this.taskManagers.includes(r.tm)) r.tm.slots[r.index] = { jobId: job.id };
    job.slots = [];
    this.setState(job, 'RESTARTING');
    job.taskState = 'CANCELING';
    this.log(`job ${job.name} restarting: ${cause}`);
    const latest = [...job.checkpoints].reverse().find((c) => c.status === 'COMPLETED' && !c.isSavepoint) ??
      [...job.checkpoints].reverse().find((c) => c.status === 'COMPLETED');
    const restoreFrom = latest && (!job.restoredFrom || latest.ackAt! >= job.restoredFrom.at) ? latest : undefined;
    if (restoreFrom) {
      job.app = { ...restoreFrom.snapshot.app };
      job.restoredFrom = { path: restoreFrom.externalPath ?? `<checkpoint ${restoreFrom.id}>`, isSavepoint: restoreFrom.isSavepoint, at: this.clock.now(), id: restoreFrom.id };
    } else {
      job.app = { ...job.restoreBase.app };
    }
    this.after(job, this.timings.restartDelayMs, () => {
      this.setState(job, 'CREATED');
      job.taskState = 'SCHEDULED';
      job.lastRescaleAt = this.clock.now();
      this.trySchedule(job);
    });
  }

  /** Re-plan after slots appeared or vanished: waiting jobs first (in submission order), then scale-ups. */
  slotsChanged(): void {
    const jobs = [...this.jobs].sort((a, b) => a.submitSeq - b.submitSeq);
    for (const j of jobs) if (j.state === 'CREATED' && j.taskState !== 'DEPLOYING') this.trySchedule(j);
    for (const j of jobs) if (j.state === 'RUNNING') this.maybeScaleUp(j);
  }

  /** Adaptive / reactive: more slots than in use and the bounds allow more → rescale (after stabilization). */
  private maybeScaleUp(job: EmuJob): void {
    if (job.scheduler === 'default' || job.state !== 'RUNNING' || job.rescaleTimer) return;
    const target = this.desiredNow(job);
    if (!target || target.every((p, i) => p === job.vertices[i].parallelism)) return;
    // Desired resources available → rescale at once; only sufficient ones → wait resource-stabilization-timeout.
    const partial = this.bounds(job).some((b, i) => target[i] < b.hi);
    const stabilization = job.scheduler === 'reactive' || !partial ? 0 : this.timings.resourceStabilizationMs;
    const cooldown = Math.max(0, job.lastRescaleAt + this.timings.scalingIntervalMinMs - this.clock.now());
    const delay = Math.max(stabilization, job.scheduler === 'reactive' ? 0 : cooldown);
    const attempt = job.attempt;
    job.rescaleTimer = this.clock.schedule(delay, () => {
      job.rescaleTimer = undefined;
      if (job.attempt !== attempt || job.state !== 'RUNNING') return;
      const t = this.desiredNow(job);
      if (!t || t.every((p, i) => p === job.vertices[i].parallelism)) return;
      this.restart(job, `rescaling from ${job.vertices.map((v) => v.parallelism).join('/')} to ${t.join('/')}`);
    });
  }

  /** Parallelism an adaptive/reactive job could run with now (bounds ∩ usable slots); undefined if below bounds. */
  private desiredNow(job: EmuJob): number[] | undefined {
    const usable = this.totalFree() + job.slots.filter((s) => !s.tm.dead).length + this.heldIdle(job).length;
    const b = this.bounds(job);
    if (usable < Math.max(...b.map((x) => x.lo))) return undefined;
    return b.map((x) => Math.max(x.lo, Math.min(x.hi, usable)));
  }

  /** PATCH /jobs/{id}?mode=cancel. */
  cancel(jobId: string): void {
    const job = this.requireJob(jobId);
    if (this.faults.cancelFailures > 0) {
      this.faults.cancelFailures--;
      throw new FlinkRestError(500, [`Job cancellation failed: java.util.concurrent.TimeoutException: injected fault (cancel fails) for job ${jobId}`]);
    }
    if (isTerminal(job.state) || job.state === 'CANCELLING') {
      if (this.profile.cancelTerminalConflict && (job.state === 'FINISHED' || job.state === 'FAILED')) {
        throw new FlinkRestError(409, [`Job cancellation failed: Job ${jobId} has already reached the terminal state ${job.state}.`]);
      }
      return;
    }
    this.clearTimers(job);
    this.failInProgressOps(job, 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending.');
    this.setState(job, 'CANCELLING');
    job.taskState = 'CANCELING';
    this.after(job, this.timings.cancelMs, () => {
      this.releaseAll(job);
      this.setState(job, 'CANCELED');
      this.slotsChanged();
    });
  }

  // ---------------------------------------------------------------- savepoints and checkpoints

  /** POST /jobs/{id}/savepoints and /stop. Same triggerId for the same job → the same operation (idempotent). */
  triggerSavepoint(
    jobId: string,
    req: { kind: 'savepoint' | 'stop'; targetDirectory?: string; triggerId?: string; formatType?: string; cancelJob?: boolean; drain?: boolean },
  ): AsyncOperation {
    const job = this.requireJob(jobId);
    if (req.triggerId) {
      const existing = this.operations.get(`${jobId}/${req.triggerId}`);
      if (existing) return existing;
    }
    const dir = req.targetDirectory ?? this.savepointDir;
    if (!dir) {
      const field = req.kind === 'stop' ? 'targetDirectory' : 'target-directory';
      throw new FlinkRestError(400, [`Config key [state.savepoints.dir] is not set. Property [${field}] must be provided.`]);
    }
    const triggerId = req.triggerId ?? this.nextId('trigger');
    const op: AsyncOperation = { triggerId, jobId, kind: req.kind, createdAt: this.clock.now(), drain: req.drain };
    this.operations.set(`${jobId}/${triggerId}`, op);
    const finishFail = (message: string) => {
      const i = message.indexOf(': ');
      op.failure = { className: message.slice(0, i), message: message.slice(i + 2) };
      op.completedAt = this.clock.now();
      this.log(`savepoint ${triggerId} of job ${job.name} failed: ${message}`);
    };
    if (job.state !== 'RUNNING' || this.isStuck(job)) {
      finishFail(
        `org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint triggering task ${job.vertices[0].name} (1/${job.vertices[0].parallelism || 1}) of job ${jobId} is not being executed at the moment. Aborting checkpoint. Failure reason: Not all required tasks are currently running.`,
      );
      return op;
    }
    const injected = this.faults.savepointFailures > 0;
    if (injected) this.faults.savepointFailures--;
    const snapshot = this.snapshot(job);
    const duration = this.timings.savepointBaseMs + (snapshot.app.stateBytes / this.timings.savepointBytesPerSecond) * 1000;
    const cp = this.startCheckpoint(job, snapshot, true);
    this.log(`savepoint ${triggerId} of job ${job.name} triggered (${Math.round(duration)} ms)`);
    const attempt = job.attempt;
    (op as AsyncOperation & { cp?: CheckpointRecord }).cp = cp;
    this.clock.schedule(duration, () => {
      if (op.completedAt !== undefined) return;
      if (job.attempt !== attempt || job.state !== 'RUNNING') {
        cp.status = 'FAILED';
        return finishFail('org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending.');
      }
      if (this.isStuck(job)) {
        cp.status = 'FAILED';
        return finishFail('org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing.');
      }
      if (injected) {
        cp.status = 'FAILED';
        cp.failureMessage = this.faults.savepointFailureMessage;
        return finishFail(`org.apache.flink.runtime.checkpoint.CheckpointException: ${this.faults.savepointFailureMessage}`);
      }
      const path = `${dir.replace(/\/+$/, '')}/savepoint-${jobId.slice(0, 6)}-${hex32(`${triggerId}/path`).slice(0, 12)}`;
      cp.status = 'COMPLETED';
      cp.ackAt = this.clock.now();
      cp.externalPath = path;
      this.savepoints.set(path, { path, jobId, completedAt: this.clock.now(), snapshot, formatType: req.formatType ?? 'CANONICAL' });
      op.location = path;
      op.completedAt = this.clock.now();
      this.log(`savepoint ${triggerId} of job ${job.name} completed: ${path}`);
      if (req.kind === 'stop') {
        this.clearTimers(job);
        this.releaseAll(job);
        this.setState(job, 'FINISHED');
        this.slotsChanged();
      } else if (req.cancelJob) {
        this.cancel(jobId);
      }
    });
    return op;
  }

  /** GET /jobs/{id}/savepoints/{triggerId}: 404 for unknown or expired ids (endpoints.md §4). */
  savepointStatus(jobId: string, triggerId: string): AsyncOperation | undefined {
    const op = this.operations.get(`${jobId}/${triggerId}`);
    if (!op) return undefined;
    if (op.completedAt !== undefined && this.clock.now() - op.completedAt > this.timings.asyncStoreMs) return undefined;
    return op;
  }

  private failInProgressOps(job: EmuJob, message: string): void {
    for (const op of this.operations.values()) {
      if (op.jobId === job.id && op.completedAt === undefined) {
        const i = message.indexOf(': ');
        op.failure = { className: message.slice(0, i), message: message.slice(i + 2) };
        op.completedAt = this.clock.now();
        const cp = (op as AsyncOperation & { cp?: CheckpointRecord }).cp;
        if (cp) cp.status = 'FAILED';
      }
    }
  }

  /** A new in-progress checkpoint or savepoint of the job's current state, recorded in its history. */
  private startCheckpoint(job: EmuJob, snapshot: Snapshot, isSavepoint: boolean): CheckpointRecord {
    const cp: CheckpointRecord = {
      id: job.nextCheckpointId++,
      isSavepoint,
      status: 'IN_PROGRESS',
      triggeredAt: this.clock.now(),
      stateSize: snapshot.app.stateBytes,
      numSubtasks: job.vertices.reduce((a, v) => a + v.parallelism, 0),
      snapshot,
    };
    job.checkpoints.push(cp);
    return cp;
  }

  private snapshot(job: EmuJob): Snapshot {
    return {
      app: { ...job.app },
      entryClass: job.program.entryClass,
      maxParallelismByVertex: Object.fromEntries(job.vertices.map((v) => [v.id, v.maxParallelism])),
    };
  }

  private scheduleCheckpoint(job: EmuJob): void {
    const interval = job.checkpointIntervalMs;
    if (interval === null || interval <= 0) return;
    this.after(job, interval, () => {
      if (job.state !== 'RUNNING') return;
      this.scheduleCheckpoint(job);
      if (this.isStuck(job) || job.checkpoints.some((c) => c.status === 'IN_PROGRESS' && !c.isSavepoint)) return;
      const snapshot = this.snapshot(job);
      const cp = this.startCheckpoint(job, snapshot, false);
      const duration = this.timings.checkpointBaseMs + (snapshot.app.stateBytes / this.timings.checkpointBytesPerSecond) * 1000;
      this.after(job, duration, () => {
        if (cp.status !== 'IN_PROGRESS') return;
        if (job.state !== 'RUNNING' || this.isStuck(job)) {
          cp.status = 'FAILED';
          cp.failureMessage = 'Checkpoint expired before completing.';
          return;
        }
        cp.status = 'COMPLETED';
        cp.ackAt = this.clock.now();
        cp.externalPath = `file:/tmp/flink-checkpoints/${job.id}/chk-${cp.id}`;
      });
      if (job.checkpoints.length > 50) job.checkpoints.splice(0, job.checkpoints.length - 50);
    });
  }

  // ---------------------------------------------------------------- adaptive scheduler: resource requirements

  getRequirements(jobId: string): ResourceRequirements {
    const job = this.requireJob(jobId);
    this.requireAdaptive(job, 'requestJobResourceRequirements');
    const out: ResourceRequirements = {};
    job.vertices.forEach((v, i) => {
      const r = job.requirements?.[v.id];
      out[v.id] = { parallelism: r ? { ...r.parallelism } : { lowerBound: 1, upperBound: job.scheduler === 'reactive' ? v.maxParallelism : job.configured[i] } };
    });
    return out;
  }

  private requireAdaptive(job: EmuJob, method: string): void {
    if (job.scheduler === 'default') {
      throw new FlinkRestError(500, [
        'Internal server error.',
        `<Exception on server side:\njava.lang.UnsupportedOperationException: The DefaultScheduler does not support changing the parallelism without a job restart. This feature is currently only expected to work with the AdaptiveScheduler.\n\tat org.apache.flink.runtime.scheduler.SchedulerNG.${method}(SchedulerNG.java)\n\nEnd of exception on server side>`,
      ]);
    }
  }

  /** PUT /jobs/{id}/resource-requirements (endpoints.md §5.4): validate, 200 at once, rescale asynchronously. */
  putRequirements(jobId: string, body: unknown): void {
    const job = this.requireJob(jobId);
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) {
      throw new FlinkRestError(400, ['Request body does not specify resource requirements.']);
    }
    if (job.scheduler === 'reactive') throw new FlinkRestError(400, ['Cannot change the parallelism of a job running in reactive mode.']);
    this.requireAdaptive(job, 'updateJobResourceRequirements');
    const req = body as Record<string, { parallelism?: { lowerBound?: unknown; upperBound?: unknown } }>;
    const errors: string[] = [];
    for (const id of Object.keys(req)) if (!job.vertices.some((v) => v.id === id)) errors.push(`Job vertex [${id}] was not found in the JobGraph.`);
    for (const v of job.vertices) {
      const r = req[v.id];
      if (!r) {
        errors.push(`The request is incomplete, missing job vertex [${v.id}] resource requirements.`);
        continue;
      }
      const lo = r.parallelism?.lowerBound;
      const hi = r.parallelism?.upperBound;
      if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isInteger(lo) || !Number.isInteger(hi)) {
        errors.push(`The parallelism of job vertex [${v.id}] needs integer lowerBound and upperBound.`);
        continue;
      }
      const l = lo === -1 ? 1 : lo;
      const h = hi === -1 ? v.maxParallelism : hi;
      if (l < 1) errors.push(`The lower bound of job vertex [${v.id}] must be greater than zero.`);
      if (h < 1) errors.push(`The upper bound of job vertex [${v.id}] must be greater than zero.`);
      if (l > h) errors.push(`The lower bound ${l} of job vertex [${v.id}] must be less than or equal to the upper bound ${h}.`);
      if (h > v.maxParallelism) {
        errors.push(`The newly requested parallelism ${h} for the job vertex ${v.id} exceeds its maximum parallelism ${v.maxParallelism}.`);
      }
    }
    if (errors.length) throw new FlinkRestError(400, [errors.join('\n')]);
    const now = this.clock.now();
    if (job.requirementsUpdateUntil !== undefined && now < job.requirementsUpdateUntil) {
      throw new FlinkRestError(409, [`Another update to the job [${jobId}] resource requirements is in progress.`]);
    }
    job.requirementsUpdateUntil = now + this.timings.requirementsUpdateMs;
    job.requirements = Object.fromEntries(
      job.vertices.map((v) => [v.id, { parallelism: { lowerBound: Number(req[v.id].parallelism!.lowerBound), upperBound: Number(req[v.id].parallelism!.upperBound) } }]),
    );
    this.log(`job ${job.name} resource requirements updated: ${job.vertices.map((v) => `${v.name} ${JSON.stringify(job.requirements![v.id].parallelism)}`).join(', ')}`);
    this.clock.schedule(this.timings.requirementsUpdateMs, () => {
      if (job.state === 'RUNNING') {
        job.rescaleTimer?.cancel();
        job.rescaleTimer = undefined;
        this.maybeScaleUp(job);
      } else if (job.state === 'CREATED') this.trySchedule(job);
    });
  }

  // ---------------------------------------------------------------- the load model

  /** A running job whose slots include a killed-but-undetected TaskManager makes no progress. */
  isStuck(job: EmuJob): boolean {
    return job.slots.some((s) => s.tm.dead);
  }

  private step(dtMs: number, now: number): void {
    const elapsed = now - this.clock.startEpochMs;
    for (const s of this.streams.values()) s.produced += rateAt(s.rate, elapsed - dtMs / 2) * (dtMs / 1000);
    for (const job of this.jobs) {
      if (job.state !== 'RUNNING') continue;
      const s = this.stream(job.stream);
      if (this.isStuck(job)) {
        for (const v of job.vertices) {
          v.sample = { inPerSubtask: 0, outPerSubtask: 0, busyMsPerSecond: 0, backPressuredMsPerSecond: 0, idleMsPerSecond: 1000 };
        }
        job.metricsReady = true;
        continue;
      }
      const r = stepJobLoad(
        job.vertices.map((v) => ({ parallelism: v.parallelism, capacityPerSubtask: v.capacityPerSubtask })),
        s.produced - job.app.offset,
        dtMs,
      );
      job.app.offset += r.processed;
      job.app.count += r.processed;
      job.app.stateBytes = Math.min(job.program.maxStateBytes, job.app.stateBytes + r.processed * job.program.stateBytesPerRecord);
      job.vertices.forEach((v, i) => {
        const smp = r.samples[i];
        v.sample = smp;
        const secs = dtMs / 1000;
        v.totals.recordsIn += smp.inPerSubtask * v.parallelism * secs;
        v.totals.recordsOut += smp.outPerSubtask * v.parallelism * secs;
        v.totals.busyMs += smp.busyMsPerSecond * secs * v.parallelism;
        v.totals.backPressuredMs += smp.backPressuredMsPerSecond * secs * v.parallelism;
        v.totals.idleMs += smp.idleMsPerSecond * secs * v.parallelism;
      });
      job.metricsReady = true;
    }
  }

  // ---------------------------------------------------------------- metrics as Flink names them

  /**
   * Per-subtask metric values of a vertex by Flink's id without the subtask prefix (task metrics "busyTimeMsPerSecond",
   * operator metrics "<Operator_Name>.pendingRecords"). Empty until the job's first load step (a fresh job has none).
   */
  vertexMetricValues(jobId: string, vertexId: string): Map<string, number[]> {
    const job = this.requireJob(jobId);
    const v = job.vertices.find((x) => x.id === vertexId);
    if (!v) throw new FlinkRestError(404, [`No vertex with ID '${vertexId}' exists.`]);
    const out = new Map<string, number[]>();
    if (!job.metricsReady || !v.sample) return out;
    const p = v.parallelism;
    const each = (x: number) => Array.from({ length: p }, () => x);
    const smp = v.sample;
    const busy = v.kind === 'source' && job.program.legacySource ? NaN : smp.busyMsPerSecond;
    out.set('numRecordsInPerSecond', each(smp.inPerSubtask));
    out.set('numRecordsOutPerSecond', each(smp.outPerSubtask));
    out.set('numRecordsIn', each(v.totals.recordsIn / p));
    out.set('numRecordsOut', each(v.totals.recordsOut / p));
    out.set('busyTimeMsPerSecond', each(busy));
    out.set('backPressuredTimeMsPerSecond', each(smp.backPressuredMsPerSecond));
    out.set('idleTimeMsPerSecond', each(smp.idleMsPerSecond));
    const ops = v.operatorNames.map(metricOperatorName);
    if (v.kind === 'source') {
      const backlog = this.stream(job.stream).produced - job.app.offset;
      out.set(`${ops[0]}.pendingRecords`, each(backlog / p));
      out.set(`${ops[0]}.numRecordsOutPerSecond`, each(smp.outPerSubtask));
    }
    for (const op of ops) out.set(`${op}.numRecordsInPerSecond`, each(v.kind === 'source' ? 0 : smp.inPerSubtask));
    return out;
  }

  taskStateCounts(job: EmuJob): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
    for (const v of job.vertices) counts[job.taskState] = (counts[job.taskState] ?? 0) + Math.max(v.parallelism, 1);
    return counts;
  }

  // ---------------------------------------------------------------- convenience for tests and tools

  /** Uploads a jar for the default program (or the given one) and runs it; returns the job. */
  startJob(opts: { name?: string; parallelism?: number; program?: Partial<ProgramSpec>; inputRate?: RateSpec } = {}): EmuJob {
    const name = opts.name ?? 'demo';
    const entryClass = opts.program?.entryClass ?? `com.example.flink.${name.replace(/[^A-Za-z0-9]/g, '')}Job`;
    const spec: ProgramSpec = { jobName: name, ...opts.program, entryClass };
    const jar = this.uploadJar(`${name}.jar`, Buffer.from(JSON.stringify(spec)));
    if (opts.inputRate !== undefined) this.setInputRate(spec.stream ?? name, opts.inputRate);
    return this.runJar(jar.id, { parallelism: opts.parallelism });
  }
}

function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) continue;
    if (m[2] !== undefined) out[m[1]] = m[2];
    else if (i + 1 < args.length) out[m[1]] = args[++i];
  }
  return out;
}
