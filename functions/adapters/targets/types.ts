/**
 * Where TaskManager capacity lives: an EC2 Auto Scaling group, an EKS Deployment, or a FlinkDeployment of the
 * Flink Kubernetes Operator. One interface; three adapters (asg.ts, eks-deployment.ts, flink-deployment.ts).
 */
import type { TaskManagerInfo } from '../flink/types';

export type TargetKind = 'asg' | 'eks-deployment' | 'flink-deployment';

export interface TargetMember {
  /** Instance id (ASG) or pod name (EKS). */
  id: string;
  /** Lifecycle state as the target reports it (InService, Pending, Terminating:Wait, Running, ...). */
  state: string;
  /** Private IP / DNS names (ASG) or pod IP and name (EKS), used for mapping to Flink TaskManagers. */
  addresses: string[];
  /** The Flink TaskManager on this member, when it could be mapped. */
  taskManagerId?: string;
  /** True when the mapped TaskManager holds no slots (freeSlots == slotsNumber). Undefined when unmapped. */
  idle?: boolean;
  /** ASG scale-in protection / pod-deletion-cost marks this member as kept. */
  protected?: boolean;
}

export interface TargetDescription {
  kind: TargetKind;
  /** Human name: ASG name, namespace/deployment, namespace/flinkdeployment. */
  name: string;
  desired: number;
  /** The target's own limits (ASG MinSize/MaxSize; for Kubernetes 0 and +Infinity unless known). */
  min: number;
  max: number;
  members: TargetMember[];
  /** Members with no matching TaskManager, and TaskManagers with no matching member (reported, never guessed). */
  unmappedMembers: string[];
  unmappedTaskManagers: string[];
}

export interface SetDesiredResult {
  previous: number;
  desired: number;
  changed: boolean;
  /** Why the requested value was adjusted (clamped to the target's or the job's bounds). */
  clampedBy?: string;
}

export interface ReleaseResult {
  released: string[];
  desired: number;
}

export interface CapacityTarget {
  readonly kind: TargetKind;
  readonly name: string;
  /** Describe the target and map its members to the given Flink TaskManagers. */
  describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription>;
  /**
   * Set the desired member count, clamped to the target's own min/max and to the job's TM bounds. Setting the current
   * value is a no-op. `minRequired` refuses any value below what running jobs need.
   */
  setDesired(count: number, opts?: { minRequired?: number }): Promise<SetDesiredResult>;
  /**
   * Protect members whose TaskManagers hold slots so that nothing but `release` removes them
   * (ASG scale-in protection; EKS pod-deletion-cost). Idempotent.
   */
  protectBusy(description: TargetDescription): Promise<void>;
  /** Remove exactly these idle members and lower the desired count by exactly that many. */
  release(memberIds: string[], description: TargetDescription): Promise<ReleaseResult>;
}
