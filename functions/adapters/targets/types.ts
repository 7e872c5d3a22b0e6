/**
 * Where TaskManager capacity lives: an EC2 Auto Scaling group, an EKS Deployment, or a FlinkDeployment of the
 * Flink Kubernetes Operator. One interface; three adapters (asg.ts, eks-deployment.ts, flink-deployment.ts), built by
 * `createCapacityTarget` (index.ts).
 *
 * Every mutating call re-reads the target and re-maps its members to the TaskManagers the caller passes in, so a
 * decision is never made on a stale picture; every result says what was done and why (`actions`).
 */
import type { TaskManagerInfo } from '../flink/types';

export type TargetKind = 'asg' | 'eks-deployment' | 'flink-deployment';

export interface TargetMember {
  /** Instance id (ASG) or pod name (EKS Deployment, FlinkDeployment). */
  id: string;
  /** Lifecycle state as the target reports it (InService, Pending, Terminating:Wait, Running, Terminating, ...). */
  state: string;
  /** Private IP / DNS names (ASG) or pod IP and name (Kubernetes), used for mapping to Flink TaskManagers. */
  addresses: string[];
  /** The Flink TaskManager on this member, when it could be mapped unambiguously. */
  taskManagerId?: string;
  /**
   * True when the mapped TaskManager holds no slots (freeSlots == slotsNumber); false when it holds some or its slot
   * counts are unknown (then busySlots is undefined). Undefined when unmapped.
   */
  idle?: boolean;
  /** Slots in use on the mapped TaskManager (slotsNumber - freeSlots). Undefined when unmapped or unknown. */
  busySlots?: number;
  /** ASG scale-in protection / a high pod-deletion-cost marks this member as kept. */
  protected?: boolean;
}

export interface TargetDescription {
  kind: TargetKind;
  /** Human name: ASG name, namespace/deployment, namespace/flinkdeployment. */
  name: string;
  desired: number;
  /** The target's own limits (ASG MinSize/MaxSize; for Kubernetes 0 and +Infinity). */
  min: number;
  max: number;
  members: TargetMember[];
  /** Members with no matching TaskManager, and TaskManagers with no matching member (reported, never guessed). */
  unmappedMembers: string[];
  unmappedTaskManagers: string[];
  /** Why something is unmapped or ambiguous, one line each. */
  notes: string[];
}

export interface SetDesiredOptions {
  /** Refuse (throw `CapacityTargetError` BELOW_REQUIRED, nothing changed) below this: what running jobs need. */
  minRequired?: number;
}

export interface SetDesiredResult {
  previous: number;
  desired: number;
  changed: boolean;
  /** Why the requested value was adjusted (clamped to the target's or the job's bounds). */
  clampedBy?: string;
  /** True when nothing was changed because the target runs in dry-run mode. */
  dryRun: boolean;
  /** What was done (or, in dry-run, would be done), one line each. */
  actions: string[];
}

export interface ProtectResult {
  /** Members newly protected (busy) and newly unprotected (idle). Members already right are not touched. */
  protected: string[];
  unprotected: string[];
  /** Unmapped members are left exactly as they are. */
  untouched: string[];
  dryRun: boolean;
  actions: string[];
}

export interface ReleaseOptions {
  /** Never go below this many members (what running jobs need); extra requested members are skipped. */
  minRequired?: number;
}

export interface SkippedMember {
  id: string;
  /** not-found | unmapped | busy | not-in-service | below-minimum | unsafe (see `reason`). */
  code: 'not-found' | 'unmapped' | 'busy' | 'not-in-service' | 'below-minimum' | 'unsafe';
  reason: string;
}

export interface ReleaseResult {
  /** Exactly the members that were removed; the desired count went down by exactly `released.length`. */
  released: string[];
  /** The members chosen for release (equal to `released` unless in dry-run mode, where nothing is removed). */
  selected: string[];
  /** Requested members that were not removed, each with the reason. A busy member is always skipped. */
  skipped: SkippedMember[];
  previous: number;
  desired: number;
  dryRun: boolean;
  actions: string[];
}

export interface CapacityTarget {
  readonly kind: TargetKind;
  /** Human name used in messages and errors: ASG name, namespace/deployment, namespace/flinkdeployment. */
  readonly name: string;
  /** Describe the target and map its members to the given Flink TaskManagers. */
  describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription>;
  /**
   * Set the desired member count, clamped to the target's own min/max and to the job's TM bounds. Setting the current
   * value is a no-op (no API write). Throws `CapacityTargetError` BELOW_REQUIRED, changing nothing, when the result
   * would be below `opts.minRequired`.
   */
  setDesired(count: number, opts?: SetDesiredOptions): Promise<SetDesiredResult>;
  /**
   * Protect members whose TaskManagers hold slots so that only `release` removes members (ASG scale-in protection;
   * Kubernetes pod-deletion-cost), and lift the protection from idle members. Unmapped members are left alone.
   * Idempotent.
   */
  protectBusy(taskManagers: TaskManagerInfo[]): Promise<ProtectResult>;
  /**
   * Remove exactly these members, and lower the desired count by exactly as many as were removed. Each member is
   * re-checked against the given (fresh) TaskManagers first: a member that is unmapped, busy or not in service is
   * skipped with a reason, never removed.
   */
  release(memberIds: string[], taskManagers: TaskManagerInfo[], opts?: ReleaseOptions): Promise<ReleaseResult>;
}

/** Job TaskManager bounds every target clamps to (from `JobConfig.bounds`). */
export interface JobTaskManagerBounds {
  minTaskManagers: number;
  maxTaskManagers: number;
}

export type CapacityTargetErrorCode =
  /** The target (ASG, Deployment, FlinkDeployment, cluster) does not exist. */
  | 'NOT_FOUND'
  /** Credentials rejected (401) or missing permission / RBAC (403). */
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  /** A caller passed a value outside the allowed range; nothing was changed. */
  | 'INVALID_INPUT'
  /** The job's bounds and the target's own limits do not overlap. */
  | 'CONFLICTING_BOUNDS'
  /** The change would leave fewer members than running jobs need; nothing was changed. */
  | 'BELOW_REQUIRED'
  /** Another autoscaler owns the target (a FlinkDeployment with job.autoscaler.enabled: true); nothing was changed. */
  | 'CONFLICTING_AUTOSCALER'
  /** Any other API failure (throttling, conflicts, 5xx, network). `retryable` says whether trying again may help. */
  | 'API';

/** Every failure of a capacity target: names the target, the operation and what to do. */
export class CapacityTargetError extends Error {
  readonly target: string;
  constructor(
    readonly kind: TargetKind,
    readonly targetName: string,
    readonly operation: string,
    readonly code: CapacityTargetErrorCode,
    detail: string,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(`${kind} "${targetName}": ${operation} failed (${code}): ${detail}`, options);
    this.name = 'CapacityTargetError';
    this.target = `${kind}:${targetName}`;
  }
}
