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
  /**
   * Why `to` is what it is: follows the job-level target, set per vertex by the input (`vertexParallelism`), pinned
   * by config, or kept (fixed by the job's own code, or not named by a per-vertex request).
   */
  rule: 'job' | 'vertex' | 'pinned' | 'fixed';
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
  /** heartbeats: each TaskManager's last heartbeat when the drain first saw it (steps.ts releaseSafety). */
  drain?: CheckResult & { surplus?: number; idle?: string[]; busy?: string[]; timedOut?: boolean; heartbeats?: Record<string, number> };
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

/** Execution input: typed once, in the core (functions/core/rescale/input.ts). */
export type { RescaleInput } from '../core/rescale/input';

export interface ExecutionRef {
  id: string;
  name: string;
  startTime?: string;
}
