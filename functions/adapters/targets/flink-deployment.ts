/**
 * FlinkDeployment target (Flink Kubernetes Operator, flink.apache.org/v1beta1).
 *
 * - describe: GET the FlinkDeployment (spec.taskManager.replicas, status.taskManager.labelSelector), list the
 *   TaskManager pods by that selector (default `app=<name>,component=taskmanager`), map pod name / IP ↔ TaskManager.
 * - setDesired: PATCH flinkdeployments/{name}/scale (merge patch `{spec: {replicas}}`; the CRD maps it to
 *   spec.taskManager.replicas). Operators without the scale subresource: merge patch spec.taskManager.replicas.
 * - setJobParallelism (only when the operator owns the job): one merge patch of spec.job.parallelism and
 *   spec.taskManager.replicas; the operator then upgrades the job according to its upgradeMode.
 * - protectBusy / release: pod-deletion-cost then scale (kube.ts). In standalone mode the operator's TaskManager
 *   Deployment honours the cost; in native mode Flink's ResourceManager releases idle TaskManagers itself.
 * - The operator's own autoscaler: when the FlinkDeployment has `job.autoscaler.enabled: true` in
 *   spec.flinkConfiguration, the operator rescales the job itself and the two would fight. Every change (setDesired,
 *   release, setJobParallelism) is then refused with CONFLICTING_AUTOSCALER before anything is written; reading
 *   (describe) still works. docs/operator.md.
 */
import { taskManagersFor, type JobConfig } from '../../core/config';
import { KubePodTarget, type KubeTargetOptions } from './kube';
import { namespacedPath } from './kube-client';
import { CapacityTargetError } from './types';

export const FLINK_GROUP = 'flink.apache.org';
export const FLINK_VERSION = 'v1beta1';
export const FLINK_PLURAL = 'flinkdeployments';

export interface FlinkDeploymentTargetOptions extends KubeTargetOptions {
  flinkDeploymentName: string;
  operatorOwnsJob: boolean;
  /** Slots per TaskManager and the job's bounds, for setJobParallelism. */
  job: Pick<JobConfig, 'slotsPerTaskManager' | 'bounds'>;
}

export interface SetJobParallelismResult {
  previous: { parallelism?: number; replicas?: number };
  parallelism: number;
  replicas: number;
  changed: boolean;
  dryRun: boolean;
  actions: string[];
}

interface FlinkDeploymentObject {
  metadata?: { name?: string; generation?: number };
  spec?: { mode?: string; job?: { parallelism?: number }; taskManager?: { replicas?: number }; flinkConfiguration?: Record<string, string | boolean> };
  status?: { lifecycleState?: string; taskManager?: { replicas?: number; labelSelector?: string }; jobStatus?: { state?: string } };
}

/**
 * The operator's autoscaler switch in spec.flinkConfiguration: `job.autoscaler.enabled` (operator 1.8+), and the
 * key of operator 1.4-1.7, `kubernetes.operator.job.autoscaler.enabled`.
 */
export const OPERATOR_AUTOSCALER_KEYS = ['job.autoscaler.enabled', 'kubernetes.operator.job.autoscaler.enabled'] as const;

/** The enabled autoscaler key of a FlinkDeployment's flinkConfiguration, if any (values are strings; YAML may give booleans). */
export function operatorAutoscalerKey(flinkConfiguration: Record<string, unknown> | undefined): string | undefined {
  return OPERATOR_AUTOSCALER_KEYS.find((k) => String(flinkConfiguration?.[k] ?? '').trim().toLowerCase() === 'true');
}

/** Lifecycle states in which the operator is busy with the deployment: no scale-in then. */
const UNSETTLED = ['UPGRADING', 'ROLLING_BACK', 'DELETING', 'CREATED'];

export class FlinkDeploymentTarget extends KubePodTarget {
  readonly kind = 'flink-deployment' as const;
  readonly name: string;
  /** Set by the last read when the operator's autoscaler is enabled on the FlinkDeployment: why changes are refused. */
  private autoscalerConflict?: string;

  constructor(private readonly fd: FlinkDeploymentTargetOptions) {
    super(fd);
    this.name = `${fd.namespace}/${fd.flinkDeploymentName}`;
  }

  private path(sub?: string): string {
    return namespacedPath(FLINK_GROUP, FLINK_VERSION, this.fd.namespace, FLINK_PLURAL, this.fd.flinkDeploymentName, sub);
  }

  async get(): Promise<FlinkDeploymentObject> {
    return this.call('get flinkdeployment', (kube) => kube.get<FlinkDeploymentObject>(this.path()));
  }

  protected async readScale() {
    const obj = await this.get();
    const slots = Number(obj.spec?.flinkConfiguration?.['taskmanager.numberOfTaskSlots'] ?? this.fd.job.slotsPerTaskManager);
    const fromParallelism = obj.spec?.job?.parallelism !== undefined ? Math.ceil(obj.spec.job.parallelism / Math.max(1, slots)) : undefined;
    const desired = obj.spec?.taskManager?.replicas ?? obj.status?.taskManager?.replicas ?? fromParallelism ?? 0;
    const selector = obj.status?.taskManager?.labelSelector || `app=${this.fd.flinkDeploymentName},component=taskmanager`;
    const state = obj.status?.lifecycleState;
    this.autoscalerConflict = this.conflictOf(obj);
    return {
      desired,
      selector,
      unsafe: this.autoscalerConflict ?? (state && UNSETTLED.includes(state) ? `FlinkDeployment ${this.name} is ${state}; scale-in waits until the operator has finished` : undefined),
    };
  }

  /** Why flink-elastic must not change this FlinkDeployment, when the operator's autoscaler is on. */
  private conflictOf(obj: FlinkDeploymentObject): string | undefined {
    const key = operatorAutoscalerKey(obj.spec?.flinkConfiguration);
    if (!key) return undefined;
    return `FlinkDeployment ${this.name} has ${key}: true, so the Flink Kubernetes Operator's autoscaler rescales it and the two would fight; nothing was changed. Set ${key}: false on the FlinkDeployment, or disable this job in flink-elastic (docs/operator.md)`;
  }

  private refuseIfAutoscaled(op: string, conflict: string | undefined): void {
    if (conflict) throw new CapacityTargetError(this.kind, this.name, op, 'CONFLICTING_AUTOSCALER', conflict);
  }

  protected async writeScale(replicas: number): Promise<void> {
    // readScale (always just before, in setDesired and release) saw the FlinkDeployment
    this.refuseIfAutoscaled('setDesired', this.autoscalerConflict);
    try {
      await this.call('patch flinkdeployment scale', (kube) => kube.mergePatch(this.path('scale'), { spec: { replicas } }));
    } catch (e) {
      // Operators before the scale subresource (FLINK-27685): patch spec.taskManager.replicas directly.
      if (!(e instanceof CapacityTargetError && e.code === 'NOT_FOUND')) throw e;
      await this.call('patch flinkdeployment', (kube) => kube.mergePatch(this.path(), { spec: { taskManager: { replicas } } }));
    }
  }

  /**
   * Operator-owned jobs: set spec.job.parallelism and, with it, spec.taskManager.replicas = ceil(p / slots) within the
   * job's TM bounds, in one merge patch. No-op when both already have those values.
   */
  async setJobParallelism(parallelism: number): Promise<SetJobParallelismResult> {
    const op = 'setJobParallelism';
    if (!this.fd.operatorOwnsJob) {
      throw new CapacityTargetError(this.kind, this.name, op, 'INVALID_INPUT', 'target.operatorOwnsJob is false: the job is resubmitted through the Flink REST API, not by the operator');
    }
    const { minParallelism, maxParallelism } = this.fd.job.bounds;
    if (!Number.isInteger(parallelism) || parallelism < minParallelism || parallelism > maxParallelism) {
      throw new CapacityTargetError(this.kind, this.name, op, 'INVALID_INPUT', `parallelism must be an integer from ${minParallelism} to ${maxParallelism} (bounds.minParallelism..bounds.maxParallelism), got ${JSON.stringify(parallelism)}`);
    }
    const replicas = taskManagersFor(this.fd.job, parallelism);
    if (replicas * this.fd.job.slotsPerTaskManager < parallelism) {
      throw new CapacityTargetError(this.kind, this.name, op, 'CONFLICTING_BOUNDS', `parallelism ${parallelism} needs ${Math.ceil(parallelism / this.fd.job.slotsPerTaskManager)} TaskManagers but bounds.maxTaskManagers is ${this.fd.job.bounds.maxTaskManagers}`);
    }
    const obj = await this.get();
    this.refuseIfAutoscaled(op, this.conflictOf(obj));
    const previous = { parallelism: obj.spec?.job?.parallelism, replicas: obj.spec?.taskManager?.replicas };
    const changed = previous.parallelism !== parallelism || previous.replicas !== replicas;
    const dryRun = !!this.fd.dryRun;
    const what = `spec.job.parallelism ${previous.parallelism ?? '(unset)'} → ${parallelism}, spec.taskManager.replicas ${previous.replicas ?? '(unset)'} → ${replicas}`;
    const actions: string[] = [];
    if (!changed) actions.push(`already parallelism ${parallelism} on ${replicas} TaskManagers; nothing to do`);
    else if (dryRun) actions.push(`dry run: would patch ${what}`);
    else {
      await this.call('patch flinkdeployment', (kube) => kube.mergePatch(this.path(), { spec: { job: { parallelism }, taskManager: { replicas } } }));
      actions.push(`patched ${what}; the operator upgrades the job`);
    }
    return { previous, parallelism, replicas, changed: changed && !dryRun, dryRun, actions };
  }

  protected rbacHint(operation: string): string {
    const ns = this.fd.namespace;
    const rn = `resourceNames [${this.fd.flinkDeploymentName}]`;
    if (operation.startsWith('patch pod')) return `"patch" on pods in namespace ${ns}`;
    if (operation === 'list pods') return `"list" on pods in namespace ${ns}`;
    if (operation.includes('scale')) return `"patch" on flinkdeployments/scale (apiGroup ${FLINK_GROUP}), ${rn}, in namespace ${ns}`;
    if (operation.startsWith('patch')) return `"patch" on flinkdeployments (apiGroup ${FLINK_GROUP}), ${rn}, in namespace ${ns}`;
    return `"get" on flinkdeployments (apiGroup ${FLINK_GROUP}), ${rn}, in namespace ${ns}`;
  }
}
