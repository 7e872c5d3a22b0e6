/**
 * The capacity target of a real Flink cluster on this machine (local/real-flink/cluster.ts): one member per
 * TaskManager process (member id = the TaskManager's resource id, so the mapping to Flink is exact). Behind the same
 * `CapacityTarget` interface as the Auto Scaling group, EKS Deployment and FlinkDeployment targets, with their
 * mapping, clamping and release rules (functions/adapters/targets/common.ts):
 *
 * - `setDesired` up starts TaskManager JVMs and returns once Flink registered them (like an ASG whose instances boot);
 *   down stops idle TaskManagers only (holding no slots per Flink's own answer), newest first, never a busy one —
 *   as an ASG honouring scale-in protection does (`unprotected`: busy ones too, idle first — reactive mode);
 * - `release` stops exactly the named members, each re-checked against the fresh TaskManagers first: a member whose
 *   TaskManager holds slots, or whose slot counts are unknown, is skipped with its reason.
 */
import type { FlinkApi, TaskManagerInfo } from '../../functions/adapters/flink/types';
import { isIdle, mapMembers, planDesired, releaseByStopping } from '../../functions/adapters/targets/common';
import {
  CapacityTargetError,
  type CapacityTarget,
  type JobTaskManagerBounds,
  type ProtectResult,
  type ReleaseOptions,
  type ReleaseResult,
  type SetDesiredOptions,
  type SetDesiredResult,
  type TargetDescription,
} from '../../functions/adapters/targets/types';
import type { FlinkCluster } from './cluster';

export interface ProcessTargetOptions {
  cluster: Pick<FlinkCluster, 'taskManagerIds' | 'addTaskManagers' | 'stopTaskManager' | 'restUrl'>;
  /** Fresh TaskManagers as Flink reports them (scale-down picks idle ones from these). */
  flink: Pick<FlinkApi, 'taskManagers'>;
  bounds: JobTaskManagerBounds;
  /** The most TaskManager processes this machine should run (default 6). */
  max?: number;
  /**
   * Scale-in (`setDesired` down) may stop TaskManagers that hold slots, idle ones first: an Auto Scaling group whose
   * members carry no scale-in protection. Reactive mode needs this: the job holds every slot, the workflow only lowers
   * the desired count, and Flink restarts the job on the slots left. Default false (never stop a busy one).
   */
  unprotected?: boolean;
  dryRun?: boolean;
  name?: string;
}

export class LocalProcessTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  readonly name: string;

  constructor(private readonly opts: ProcessTargetOptions) {
    this.name = opts.name ?? `TaskManager processes of ${opts.cluster.restUrl}`;
  }

  private get max(): number {
    return this.opts.max ?? 6;
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const raw = this.opts.cluster.taskManagerIds().map((id) => ({ id, state: 'InService', addresses: [id], protected: false }));
    return { kind: this.kind, name: this.name, desired: raw.length, min: 0, max: this.max, ...mapMembers(raw, taskManagers) };
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    const running = this.opts.cluster.taskManagerIds();
    const previous = running.length;
    const plan = planDesired(this, { requested: count, current: previous, targetMin: 0, targetMax: this.max, bounds: this.opts.bounds, minRequired: opts.minRequired });
    const dry = this.opts.dryRun ?? false;
    const actions: string[] = [];
    let desired = plan.desired;
    if (plan.changed && plan.desired > previous) {
      const n = plan.desired - previous;
      if (dry) actions.push(`would start ${n} TaskManager process(es)`);
      else {
        const ids = await this.opts.cluster.addTaskManagers(n).catch((e) => {
          throw new CapacityTargetError(this.kind, this.name, 'setDesired', 'API', (e as Error).message, true, { cause: e });
        });
        actions.push(`started TaskManager process(es) ${ids.join(', ')} (registered with Flink)`);
      }
    } else if (plan.changed) {
      const tms = await this.opts.flink.taskManagers();
      const idle = new Set(tms.filter(isIdle).map((t) => t.id));
      const newestFirst = [...running].reverse();
      const candidates = this.opts.unprotected ? [...newestFirst.filter((id) => idle.has(id)), ...newestFirst.filter((id) => !idle.has(id))] : newestFirst.filter((id) => idle.has(id));
      const stop = candidates.slice(0, previous - plan.desired);
      for (const id of stop) {
        const what = idle.has(id) ? 'idle TaskManager' : 'TaskManager (holding slots; no scale-in protection)';
        if (dry) actions.push(`would stop ${what} ${id}`);
        else {
          await this.opts.cluster.stopTaskManager(id, 'graceful');
          actions.push(`stopped ${what} ${id} (SIGTERM, process exited)`);
        }
      }
      const kept = previous - plan.desired - stop.length;
      if (kept > 0) {
        actions.push(`${kept} TaskManager(s) above the desired count kept: they hold slots (or Flink does not report them idle)`);
        desired = previous - stop.length;
      }
    }
    return { previous, desired: dry ? previous : desired, changed: plan.changed && !dry, ...(plan.clampedBy ? { clampedBy: plan.clampedBy } : {}), dryRun: dry, actions };
  }

  async protectBusy(): Promise<ProtectResult> {
    // Nothing to mark: this target never stops a TaskManager that holds slots.
    return { protected: [], unprotected: [], untouched: [], dryRun: this.opts.dryRun ?? false, actions: [] };
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[], opts: ReleaseOptions = {}): Promise<ReleaseResult> {
    return releaseByStopping(await this.describe(taskManagers), memberIds, {
      bounds: this.opts.bounds,
      minRequired: opts.minRequired,
      dryRun: this.opts.dryRun ?? false,
      stop: async (id) => {
        await this.opts.cluster.stopTaskManager(id, 'graceful');
        return `stopped TaskManager ${id} (released; process exited)`;
      },
    });
  }

}
