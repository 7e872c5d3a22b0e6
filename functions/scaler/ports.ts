/**
 * What the scaler needs from the rest of the system, as narrow ports. The real implementations (FlinkRestClient,
 * CloudWatchMetricReader, DynamoStateStore, createCapacityTarget, the policy's `decide`, SFN and SNS clients) are
 * wired in functions/handlers/scaler.ts; tests wire the Flink emulator, dynalite and mocked AWS clients.
 */
import type { Config, JobConfig } from '../core/config';
import type { RescaleInput } from '../core/rescale/input';
import type { FlinkApi, TaskManagerInfo } from '../adapters/flink/types';
import type { MetricReader } from '../adapters/metrics/cloudwatch';

/** The policy's decision, as far as the scaler acts on it (functions/core/policy `Decision`). */
export interface ScalerDecision {
  policy?: string;
  action: 'none' | 'scale-out-capacity' | 'rescale' | 'scale-in-capacity';
  direction?: 'up' | 'down';
  currentParallelism: number;
  targetParallelism: number;
  perVertex?: Record<string, number>;
  currentTaskManagers: number;
  targetTaskManagers: number;
  rule: string;
  reason: string;
  steps: string[];
  limitedBy: string[];
  missing: string[];
  figures?: Record<string, number>;
}

/** `decide(snapshot, job, state)` with the snapshot and state validated by the policy's own schemas. */
export type DecideFn = (snapshot: unknown, job: JobConfig, state: unknown) => { decision: ScalerDecision; state: unknown };

export interface ScalerHistoryEntry {
  kind: 'decision' | 'rescale';
  job: string;
  at: number;
  id: string;
  detail: Record<string, unknown>;
}

/** The subset of the StateStore (functions/adapters/state) the scaler uses. */
export interface ScalerStore {
  getLock(job: string): Promise<{ owner: string; expiresAtMs: number; reason?: string; progress?: Record<string, unknown> } | undefined>;
  /** Capacity-only changes hold the job's lock while they act (throws `LockHeld` when someone else holds it). */
  acquireLock(job: string, owner: string, opts: { now: number; ttlSeconds: number; reason?: string }): Promise<{ acquired: boolean; lock?: { token?: string } }>;
  /**
   * Fence: renews the lock only if `owner` still holds it with this `token` (a conditional write); throws `LockLost`
   * when it expired and another owner took it (or it was deleted). Called just before every capacity action.
   */
  renewLock(job: string, owner: string, token: string | undefined, opts: { now: number; ttlSeconds: number }): Promise<unknown>;
  releaseLock(job: string, owner: string): Promise<unknown>;
  getLastRescaleAt(job: string): Promise<number | undefined>;
  getPolicyState(job: string): Promise<{ state: unknown; version: number } | undefined>;
  /** Throws when the stored version is no longer `expectedVersion` (a concurrent decision). */
  putPolicyState(job: string, state: unknown, expectedVersion: number, now: number): Promise<number>;
  /** The job's seasonal demand profile (policy.forecast), undefined when none is stored. */
  getForecastProfile(job: string): Promise<unknown>;
  putForecastProfile(job: string, profile: unknown, now: number): Promise<void>;
  appendHistory(entry: ScalerHistoryEntry): Promise<void>;
  history(job: string, kind: 'decision' | 'rescale', opts?: { limit?: number }): Promise<ScalerHistoryEntry[]>;
}

/** The subset of CapacityTarget (functions/adapters/targets) the scaler uses. */
export interface ScalerTarget {
  readonly kind: string;
  readonly name: string;
  describe(taskManagers: TaskManagerInfo[]): Promise<{ desired: number; members: { id: string; idle?: boolean; taskManagerId?: string; state: string }[] }>;
  setDesired(count: number, opts?: { minRequired?: number }): Promise<{ previous: number; desired: number; changed: boolean; clampedBy?: string; actions?: string[] }>;
  release(memberIds: string[], taskManagers: TaskManagerInfo[], opts?: { minRequired?: number }): Promise<{ released: string[]; previous: number; desired: number; actions?: string[] }>;
}

export interface StartExecutionResult {
  executionArn: string;
  /** True when an execution with this name already existed (a duplicate delivery): nothing new was started. */
  alreadyExisted: boolean;
}

export interface ScalerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface ScalerDeps {
  config: Config;
  now(): number;
  flink(job: JobConfig): Promise<FlinkApi>;
  metrics: MetricReader;
  store: ScalerStore;
  target(job: JobConfig): ScalerTarget;
  decide: DecideFn;
  /** Undefined when no rescale workflow is attached to the stack. */
  startExecution?: (name: string, input: RescaleInput) => Promise<StartExecutionResult>;
  notify(subject: string, message: string): Promise<void>;
  /**
   * Sends the notifications waiting in the outbox of these jobs (adapters/notification-outbox.ts: a rescale's
   * notification whose every publish failed). Called at the start of every invocation for its job; never throws.
   * Undefined: no outbox (local tools).
   */
  drainOutbox?: (jobs: string[]) => Promise<{ sent: string[]; failed: string[] }>;
  /**
   * The current state of each of the job's alarms (alarm name → state), for re-evaluation ticks: the scaler decides
   * on a `{source: "reevaluate"}` tick only while one of them is in ALARM (CloudWatch DescribeAlarms when deployed,
   * the alarm evaluator in the simulator). Undefined: re-evaluate every tick.
   */
  alarmStates?: (job: JobConfig) => Promise<Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>>;
  /** Publishes the decision metrics (Powertools Metrics, dimension Job). */
  publishDecision(job: string, decision: ScalerDecision): void;
  log: ScalerLog;
}

/** Input of the rescale workflow's execution: the core's contract (functions/core/rescale/input.ts). */
export type { RescaleInput };
