/**
 * The data that flows through the rescale state machine. `Validate` turns the execution input into a `Plan`;
 * every later step reads `state.plan` (and earlier results) and returns its own result, which the state
 * machine stores under the path named in lib/constructs/rescale-workflow.ts (ResultPath = `$.<key>`).
 */
import type { JobMode } from '../core/config';

export type Direction = 'out' | 'in' | 'none';
export type Route = 'lock' | 'dry-run' | 'no-change';

export interface VertexPlan {
  id: string;
  name: string;
  from: number;
  to: number;
  maxParallelism: number;
  /** Why `to` is what it is: follows the job, pinned by config, or fixed by the job's own code. */
  rule: 'job' | 'pinned' | 'fixed';
}

export interface Plan {
  job: string;
  /** Lock owner and idempotency root: the Step Functions execution ARN. */
  owner: string;
  executionName: string;
  mode: JobMode;
  stopWithSavepoint: boolean;
  direction: Direction;
  route: Route;
  dryRun: boolean;
  respectCooldown: boolean;
  reason: string;
  startedBy: string;
  /** Epoch ms when Validate ran. */
  startedAt: number;
  flinkUrl: string;
  flinkVersion: string;
  flinkJobName: string;
  from: { jobId: string; parallelism: number; taskManagers: number; slotsTotal: number; slotsAvailable: number };
  to: { parallelism: number; taskManagers: number; slotsNeeded: number };
  vertices: VertexPlan[];
  /** Slots held by other jobs on the same cluster (session clusters), kept when sizing capacity. */
  otherJobsSlots: number;
  /** 32-hex ids derived from the execution: re-sending a step never takes a second savepoint or submits twice. */
  savepointTriggerId: string;
  newJobId: string;
  rollbackJobId: string;
  savepointDirectory?: string;
  formatType?: 'CANONICAL' | 'NATIVE';
  jarId?: string;
  /** Bounds of each wait, seconds. */
  timeouts: { slots: number; savepoint: number; running: number; parallelism: number; drain: number };
  /** Lock expiry after each heartbeat: the longest legitimate gap between two heartbeats (validate.ts explains). */
  lockTtlSeconds: number;
  /** One line, e.g. "parallelism 4 -> 8, TaskManagers 2 -> 4 (savepoint mode)". */
  summary: string;
  /** The capacity member to release first on scale-in (input drainTaskManager, resolved to the member id). */
  drainMember?: string;
}

/** Result of one poll of a bounded wait loop. */
export interface CheckResult {
  done: boolean;
  /** Number of Check task runs so far in this loop (the state machine passes the previous result back in). */
  attempts: number;
  /** Epoch ms of the first check of this loop. */
  since: number;
  /** Epoch ms of this result. */
  at: number;
  detail: string;
}

export interface CaughtError {
  Error?: string;
  Cause?: string;
  /** (Watchdog) the last recovery attempt failed in a way that may clear (Flink unreachable, a stop still pending). */
  retryable?: boolean;
}

/** What recovery (Abort or Rollback) found and did. */
export interface Recovery {
  outcome: 'untouched' | 'rolled-back' | 'kept-new' | 'rollback-failed' | 'job-down';
  /** (kept-new) The kept job runs every task at the planned parallelism: the job is rescaled, nothing is at risk. */
  rescaled?: boolean;
  /** Where the job runs now (if it runs). */
  jobId?: string;
  parallelism?: number;
  savepointPath?: string;
  actions: string[];
  /** When the job could not be restored automatically: the exact steps for a person. */
  manualAction?: string;
  at: number;
}

export interface WorkflowState {
  plan: Plan;
  /**
   * token: the lock's fencing token as Lock took it. Every mutating step renews the lock on owner and this token just
   * before it acts (steps.ts `fence`); undefined only for a lock written before tokens existed.
   */
  lock?: { acquired: boolean; at: number; tookOverFrom?: string; token?: string };
  capacity?: { previous: number; desired: number; changed: boolean; clampedBy?: string; at: number };
  slots?: CheckResult & { slotsTotal?: number; slotsAvailable?: number };
  savepoint?: { triggerId: string; at: number; stop: boolean };
  savepointStatus?: CheckResult & { location?: string };
  cancel?: { jobId: string; at: number; finalState: string };
  /** released: the named member of a drain, released between the cancel and the resubmit (savepoint mode). */
  resubmit?: { jobId: string; parallelism: number; savepointPath: string; at: number; released?: string[] };
  running?: CheckResult & { jobId?: string; checkpointed?: boolean };
  requirements?: { at: number; previous: Record<string, { lowerBound: number; upperBound: number }> };
  shrink?: { previous: number; desired: number; at: number };
  inPlace?: CheckResult;
  drain?: CheckResult & { surplus?: number; idle?: string[]; busy?: string[]; timedOut?: boolean };
  release?: { released: string[]; skipped?: string[]; desired: number; wanted: number; at: number };
  record?: { at: number; outcome: string };
  /** keptUntil: the lock was kept on purpose (failed-stop-pending) until then. */
  unlock?: { released: boolean; heldBy?: string; keptUntil?: number; at: number };
  error?: CaughtError;
  recovery?: Recovery;
  recoveryError?: CaughtError;
  notify?: { messageId?: string; subject: string; at: number };
  /** Set by the watchdog: the execution ended (ABORTED / TIMED_OUT / FAILED) without running its own recovery. */
  ended?: { status: 'ABORTED' | 'TIMED_OUT' | 'FAILED'; at: number; lockKeptUntil?: number };
}

/** Execution input (manual executions need only job + parallelism). Validated by `parseRescaleInput` (validate.ts). */
export interface RescaleInput {
  job: string;
  parallelism?: number;
  /** Relative change: "+2", "-1", "x1.5" (multiplier). Exactly one of parallelism / change. */
  change?: string;
  mode?: JobMode;
  stopWithSavepoint?: boolean;
  reason?: string;
  dryRun?: boolean;
  /** Who started it: "scaler", "schedule:<name>", "alice@example.com", ... */
  startedBy?: string;
  /**
   * Refuse to act within the job's cooldown after the last rescale. The scaler sets it on the executions its policy
   * starts (the policy decided outside the cooldown; a rescale that finishes before this one locks makes it refuse);
   * schedules and people usually don't.
   */
  respectCooldown?: boolean;
  /**
   * TaskManager-count request (the seed's scaleOutTaskManagers / scaleInTaskManagers): an absolute count (4) or a
   * change of the capacity target's desired count ("+2", "-1"). Capacity follows parallelism, so it becomes
   * parallelism = TaskManagers × slotsPerTaskManager − slots used by other jobs. Exactly one of parallelism /
   * change / taskManagers.
   */
  taskManagers?: number | string;
  /** Overrides the job's drainTimeoutSeconds for this execution (10..7200). */
  drainTimeoutSeconds?: number;
  /**
   * With taskManagers "-1": the TaskManager (Flink id) or capacity member (instance id / pod name) to remove
   * (the seed's gracefulShutdownTaskManager). Exactly it is released, never another one: in savepoint mode between
   * the cancel and the resubmit (the job holds no slots then); otherwise once it holds no slots, within the drain
   * timeout — if it still holds slots then, it is kept and the result says why.
   */
  drainTaskManager?: string;
}

export interface ExecutionRef {
  id: string;
  name: string;
  startTime?: string;
}
