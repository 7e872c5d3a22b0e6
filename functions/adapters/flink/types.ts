/**
 * What flink-elastic needs from a Flink JobManager, in the project's own terms (camelCase, numbers parsed).
 * The implementation is `FlinkRestClient` (client.ts, over node:http(s)); the local emulator serves the same REST API.
 * Wire-format details (kebab-case fields, bare metric arrays, async operation shapes) stay inside client.ts.
 */

export type JobStatus =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING';

export interface FlinkVersionInfo {
  /** Full version string as Flink reports it, e.g. "1.19.1". */
  version: string;
  major: number;
  minor: number;
  /** Feature flags derived from the version (see shared reference endpoints.md §8). */
  features: {
    formatType: boolean; // savepoint/stop formatType, >= 1.15
    triggerId: boolean; // caller-chosen savepoint/stop triggerId, >= 1.15 (older clusters pick their own id)
    restoreMode: boolean; // jar run restoreMode, >= 1.15
    flinkConfiguration: boolean; // jar run flinkConfiguration, >= 1.16
    parallelismOverrides: boolean; // pipeline.jobvertex-parallelism-overrides honoured in a jar run (FLINK-30213), 1.17 to 1.x; not 2.x (seen on 2.3.0)
    resourceRequirements: boolean; // GET/PUT /jobs/{id}/resource-requirements, >= 1.18
    jobJobManagerConfig: boolean; // GET /jobs/{id}/jobmanager/config, >= 1.16
    blocklist: boolean; // TaskManagerInfo.blocked, /overview taskmanagers-blocked (FLIP-224), >= 1.16
    jobStatusEndpoint: boolean; // GET /jobs/{id}/status, >= 1.16
    programArgs: boolean; // programArgs / programArgsList, < 2.0 (2.x keeps programArgsList only)
    claimMode: boolean; // 2.x
  };
}

export interface ClusterOverview {
  taskManagers: number;
  slotsTotal: number;
  slotsAvailable: number;
  jobsRunning: number;
  flinkVersion: string;
}

export interface TaskManagerInfo {
  id: string;
  /** RPC address as Flink reports it, e.g. "akka.tcp://flink@10.0.3.17:6122/user/rpc/taskmanager_0". */
  path: string;
  /** Host part of `path` (IP or DNS name), used to map TMs to ASG instances / pods. */
  host: string;
  /**
   * Slots of the TaskManager and how many are free. Absent when Flink did not report valid counts (missing,
   * negative, fractional, more free than total): unknown, which never reads as idle or releasable.
   */
  slotsNumber?: number;
  freeSlots?: number;
  /** Epoch ms of the last heartbeat. */
  lastHeartbeat: number;
  blocked?: boolean;
}

export interface TaskManagerDetails extends TaskManagerInfo {
  allocatedSlots: { jobId: string }[];
}

export interface JobSummary {
  id: string;
  name: string;
  state: JobStatus;
  startTime: number;
  endTime: number; // -1 while not globally terminal
}

export interface JobVertex {
  id: string;
  name: string;
  parallelism: number;
  maxParallelism: number;
  /** Execution state of the vertex (RUNNING, DEPLOYING, ...). */
  status: string;
  /** Task counts by execution state (upper-case keys). */
  tasks: Record<string, number>;
  /** True when at least one input edge is a hash (keyBy) exchange. From the job plan. */
  keyedInput: boolean;
  /** Ids of upstream vertices, from the job plan. */
  inputs: string[];
}

export interface JobDetails {
  id: string;
  name: string;
  state: JobStatus;
  startTime: number;
  /** Job-level max parallelism as reported (may be -1 when unset on old versions). */
  maxParallelism: number;
  /** When the job entered each state (epoch ms), upper-case state keys. */
  timestamps: Partial<Record<JobStatus, number>>;
  vertices: JobVertex[];
  /** Server clock (epoch ms) at the time of the response. */
  now: number;
}

/** Where one subtask of a job runs, as Flink reports it (GET /jobs/{id}/vertices/{vid}). */
export interface SubtaskPlacement {
  vertexId: string;
  subtask: number;
  /** Execution state (RUNNING, DEPLOYING, ...), upper case. */
  status: string;
  /** The TaskManager's resource id; absent when Flink did not say or the subtask is not assigned. */
  taskManagerId?: string;
  /** Host of the TaskManager (from `host`, or `endpoint` without its port); absent when not assigned. */
  host?: string;
}

/** Aggregated over all subtasks of one vertex. Absent fields mean Flink did not report them (yet). */
export interface VertexMetrics {
  vertexId: string;
  /** Sum over subtasks, records/s. */
  numRecordsInPerSecond?: number;
  /** Sum over subtasks, records/s. */
  numRecordsOutPerSecond?: number;
  /**
   * Sum over subtasks of the records emitted since each subtask started (a counter). Its change between two reads is
   * the exact rate over that interval; Flink's ...PerSecond meters average over the last 60 s, so after a step they lag.
   */
  numRecordsOut?: number;
  /** Max and average over subtasks, ms/s (0..1000). NaN from Flink becomes undefined. */
  busyTimeMsPerSecondMax?: number;
  busyTimeMsPerSecondAvg?: number;
  backPressuredTimeMsPerSecondMax?: number;
  backPressuredTimeMsPerSecondAvg?: number;
  /** Sum of the source operator's pendingRecords gauge (lag in records), sources only. */
  pendingRecords?: number;
}

export interface CheckpointSummary {
  /** Checkpointing disabled for the job (Flink answers 404 "Checkpointing has not been enabled."). */
  enabled: boolean;
  completed: number;
  inProgress: number;
  failed: number;
  latestCompleted?: { id: number; externalPath?: string; completedAt?: number; stateSize?: number };
  restored?: { id: number; externalPath?: string; isSavepoint: boolean };
}

export type SavepointStatus =
  | { state: 'IN_PROGRESS' }
  | { state: 'COMPLETED'; location: string }
  | { state: 'FAILED'; failureCause: string };

export interface SavepointRequest {
  targetDirectory: string;
  /** Caller-chosen id (32 hex chars): re-sending the same id never takes a second savepoint. */
  triggerId: string;
  formatType?: 'CANONICAL' | 'NATIVE';
}

export interface StopWithSavepointRequest extends SavepointRequest {
  drain?: boolean;
}

export interface RunJarRequest {
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  programArgs?: string[];
  entryClass?: string;
  flinkConfiguration?: Record<string, string>;
  jobId?: string;
  /** Flink >= 1.15 only (CLAIM | NO_CLAIM | LEGACY); older clusters always behave like LEGACY. */
  restoreMode?: 'CLAIM' | 'NO_CLAIM' | 'LEGACY';
  /** Per-vertex parallelism by vertex id (Flink >= 1.17, sent as pipeline.jobvertex-parallelism-overrides). */
  vertexParallelism?: Record<string, number>;
}

export interface JarInfo {
  id: string;
  name: string;
  uploaded: number;
  entryClasses: string[];
}

/** PUT/GET /jobs/{id}/resource-requirements body: per vertex id, parallelism bounds. */
export type ResourceRequirements = Record<string, { parallelism: { lowerBound: number; upperBound: number } }>;

export interface FlinkApi {
  /** Base URL, for messages. */
  readonly baseUrl: string;
  version(): Promise<FlinkVersionInfo>;
  overview(): Promise<ClusterOverview>;
  taskManagers(): Promise<TaskManagerInfo[]>;
  taskManager(id: string): Promise<TaskManagerDetails>;
  jobs(): Promise<JobSummary[]>;
  job(jobId: string): Promise<JobDetails>;
  /** The newest non-terminal job with this name, or undefined. */
  findJobByName(name: string): Promise<JobSummary | undefined>;
  checkpoints(jobId: string): Promise<CheckpointSummary>;
  vertexMetrics(jobId: string, vertexId: string): Promise<VertexMetrics>;
  /** Where each subtask of the given vertices runs (one GET /jobs/{id}/vertices/{vid} per vertex). */
  subtaskPlacement(jobId: string, vertexIds: string[]): Promise<SubtaskPlacement[]>;
  triggerSavepoint(jobId: string, req: SavepointRequest): Promise<{ triggerId: string }>;
  stopWithSavepoint(jobId: string, req: StopWithSavepointRequest): Promise<{ triggerId: string }>;
  savepointStatus(jobId: string, triggerId: string): Promise<SavepointStatus>;
  cancel(jobId: string): Promise<void>;
  jars(): Promise<JarInfo[]>;
  uploadJar(fileName: string, content: Uint8Array): Promise<{ jarId: string }>;
  runJar(jarId: string, req: RunJarRequest): Promise<{ jobId: string }>;
  getResourceRequirements(jobId: string): Promise<ResourceRequirements>;
  putResourceRequirements(jobId: string, req: ResourceRequirements): Promise<void>;
  /** GET /jobs/{id}/jobmanager/config (>= 1.16) or /jobmanager/config, as a key → value map. */
  jobManagerConfig(jobId?: string): Promise<Record<string, string>>;
  /**
   * GET /taskmanagers/{id}/metrics?get=... (e.g. "Status.JVM.CPU.Load", a 0..1 fraction). Metrics Flink does not
   * report are absent; "NaN" becomes undefined.
   */
  taskManagerMetrics(taskManagerId: string, names: string[]): Promise<Record<string, number | undefined>>;
}
