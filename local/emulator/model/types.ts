/**
 * The emulated cluster's vocabulary: errors a REST call must see, timings, programs, TaskManagers, jobs, checkpoints,
 * savepoints and streams. Plain data; the behaviour lives in the other files of this folder (index.ts is the facade).
 */
import { createHash } from 'node:crypto';
import type { JobStatus, ResourceRequirements } from '../../../functions/adapters/flink/types';
import type { RateSpec, VertexSample } from '../load';
import type { VersionProfile } from '../profiles';
import type { VirtualClock } from '../clock';

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

/** A ProgramSpec with every default filled in (programs.ts completes it). */
export interface Program extends Required<Omit<ProgramSpec, 'stream'>> {
  stream?: string;
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

export interface SlotRef {
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

