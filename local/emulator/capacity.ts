/**
 * SimulatedCapacityTarget: the "Auto Scaling group" of the local world, over the emulator model.
 *
 * Members are instances (`i-…`), each running one TaskManager whose host is the member's address. Raising the
 * desired count starts members that register their TaskManager after a boot delay (virtual time). Lowering it
 * behaves like an ASG with scale-in protection honoured: members are terminated (graceful TaskManager stop) only
 * when they are unprotected and idle, booting ones first; busy members are never removed. `release` removes exactly
 * the named idle members and lowers the desired count by exactly that many.
 */
import type { TaskManagerInfo } from '../../functions/adapters/flink/types';
import { mapMembers, planDesired, planRelease } from '../../functions/adapters/targets/common';
import type {
  CapacityTarget,
  TargetKind,
  JobTaskManagerBounds,
  ProtectResult,
  ReleaseOptions,
  ReleaseResult,
  SetDesiredOptions,
  SetDesiredResult,
  TargetDescription,
} from '../../functions/adapters/targets/types';
import { FlinkModel, hex32 } from './model';

export interface SimulatedCapacityOptions {
  name?: string;
  /**
   * What it stands for (default "asg"): members are instances `i-…` of an Auto Scaling group, or pods
   * `<name>-<hash>` of an EKS Deployment / the TaskManagers of a FlinkDeployment. Same rules either way.
   */
  kind?: TargetKind;
  /** The target's own limits (ASG MinSize / MaxSize). Default 0 and 100. */
  min?: number;
  max?: number;
  /** Virtual ms from launch until the member's TaskManager registers. Default 20 000. */
  bootDelayMs?: number;
  /** Slots of TaskManagers started by this target. Default: the model's slotsPerTaskManager. */
  slotsPerTaskManager?: number;
  /** The job's TaskManager bounds every call clamps to. Default 0..10000 (the config's range). */
  bounds?: JobTaskManagerBounds;
  /** Decide and report, change nothing. */
  dryRun?: boolean;
  /**
   * Lowering the desired count also terminates busy members that are not protected (newest first), as an Auto Scaling
   * group or a Deployment does: what reactive mode's scale-in relies on. Default false: busy members are never removed.
   */
  terminateBusy?: boolean;
}

interface Member {
  id: string;
  host: string;
  state: 'Pending' | 'InService' | 'Terminating';
  protected: boolean;
  tmId?: string;
}

export class SimulatedCapacityTarget implements CapacityTarget {
  readonly kind: TargetKind;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly bootDelayMs: number;
  readonly bounds: JobTaskManagerBounds;
  readonly dryRun: boolean;
  readonly terminateBusy: boolean;
  private desired: number;
  private readonly members: Member[] = [];
  private seq = 0;
  private readonly slots?: number;
  /** What happened, for tests and explanations. */
  readonly activity: { at: number; message: string }[] = [];

  constructor(
    private readonly model: FlinkModel,
    opts: SimulatedCapacityOptions = {},
  ) {
    this.name = opts.name ?? 'local-taskmanagers';
    this.kind = opts.kind ?? 'asg';
    this.min = opts.min ?? 0;
    this.max = opts.max ?? 100;
    this.bootDelayMs = opts.bootDelayMs ?? 20_000;
    this.bounds = opts.bounds ?? { minTaskManagers: 0, maxTaskManagers: 10_000 };
    this.dryRun = opts.dryRun ?? false;
    this.terminateBusy = opts.terminateBusy ?? false;
    if (!Number.isInteger(this.min) || !Number.isInteger(this.max) || this.min < 0 || this.max < this.min) {
      throw new Error(`SimulatedCapacityTarget: min/max must be integers with 0 <= min <= max, got ${this.min}/${this.max}`);
    }
    if (!(this.bootDelayMs >= 0)) throw new Error(`SimulatedCapacityTarget: bootDelayMs must be >= 0, got ${this.bootDelayMs}`);
    this.slots = opts.slotsPerTaskManager;
    // Adopt the TaskManagers already running: one member each.
    for (const tm of model.taskManagers) {
      this.members.push({ id: this.nextId(), host: tm.host, state: 'InService', protected: false, tmId: tm.id });
    }
    this.desired = this.members.length;
    // Like an ASG, replace members whose TaskManager was lost (health check) without being asked.
    model.clock.onTick(() => {
      if (this.reconcile() && this.members.filter((m) => m.state !== 'Terminating').length < this.desired) this.converge();
    });
  }

  private nextId(): string {
    const h = hex32(`${this.name}/member/${this.seq++}`);
    if (this.kind === 'asg') return `i-${h.slice(0, 17)}`;
    // pod names: <deployment>-<replicaset hash>-<5 chars>, lower-case (the target's name is "<namespace>/<name>")
    return `${this.name.split('/').pop()}-${this.kind === 'flink-deployment' ? 'taskmanager-1' : h.slice(17, 27)}-${h.slice(27, 32)}`;
  }

  private log(message: string): void {
    this.activity.push({ at: this.model.clock.now(), message });
  }

  /** Members currently alive (not terminated), in launch order. */
  private live(): Member[] {
    this.reconcile();
    return this.members.filter((m) => m.state !== 'Terminating');
  }

  /** A member whose TaskManager vanished from Flink (killed and timed out, stopped) is replaced like an ASG would. */
  private reconcile(): boolean {
    let changed = false;
    for (const m of this.members) {
      if (m.state === 'InService' && m.tmId && !this.model.taskManagers.some((t) => t.id === m.tmId)) {
        m.state = 'Terminating';
        changed = true;
        this.log(`member ${m.id} lost its TaskManager ${m.tmId}: unhealthy, terminated`);
      }
    }
    return changed;
  }

  /** How many members `describe` lists (alive, after the same health reconcile), without mapping them to TaskManagers. */
  liveCount(): number {
    return this.live().length;
  }

  get desiredCount(): number {
    return this.desired;
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const raw = this.live().map((m) => ({ id: m.id, state: m.state, addresses: [m.host], protected: m.protected }));
    return { kind: this.kind, name: this.name, desired: this.desired, min: this.min, max: this.max, ...mapMembers(raw, taskManagers) };
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    const previous = this.desired;
    const plan = planDesired(this, {
      requested: count,
      current: previous,
      targetMin: this.min,
      targetMax: this.max,
      bounds: this.bounds,
      minRequired: opts.minRequired,
    });
    const actions: string[] = [];
    if (plan.changed) {
      actions.push(`${this.dryRun ? 'would set' : 'set'} desired ${previous} → ${plan.desired}${plan.clampedBy ? ` (${plan.clampedBy})` : ''}`);
      if (!this.dryRun) {
        this.desired = plan.desired;
        this.log(actions[0]);
        actions.push(...this.converge());
      }
    }
    return { previous, desired: plan.desired, changed: plan.changed, ...(plan.clampedBy ? { clampedBy: plan.clampedBy } : {}), dryRun: this.dryRun, actions };
  }

  /** Launch or terminate members until the live count matches desired (never terminating busy or protected ones). */
  private converge(): string[] {
    const actions: string[] = [];
    const live = this.live();
    for (let i = live.length; i < this.desired; i++) actions.push(this.launch());
    let surplus = live.length - this.desired;
    if (surplus <= 0) return actions;
    const removable = [
      ...live.filter((m) => m.state === 'Pending' && !m.protected).reverse(),
      ...live.filter((m) => m.state === 'InService' && !m.protected && this.isIdle(m)),
      ...(this.terminateBusy ? live.filter((m) => m.state === 'InService' && !m.protected && !this.isIdle(m)).reverse() : []),
    ];
    for (const m of removable) {
      if (surplus-- <= 0) break;
      actions.push(this.terminate(m, 'scale-in'));
    }
    if (surplus > 0) actions.push(`${surplus} member(s) above desired kept: they are busy or protected`);
    return actions;
  }

  private isIdle(m: Member): boolean {
    const tm = m.tmId ? this.model.taskManagers.find((t) => t.id === m.tmId) : undefined;
    return !tm || this.model.isIdle(tm);
  }

  private launch(): string {
    const id = this.nextId();
    const n = this.seq;
    const host = `10.1.${Math.floor(n / 250)}.${10 + (n % 250)}`;
    const m: Member = { id, host, state: 'Pending', protected: false };
    this.members.push(m);
    const action = `launched member ${id} (${host}); its TaskManager registers in ${this.bootDelayMs} ms`;
    this.log(action);
    this.model.clock.schedule(this.bootDelayMs, () => {
      if (m.state !== 'Pending') return;
      const tm = this.model.addTaskManager({ host, slots: this.slots });
      m.tmId = tm.id;
      m.state = 'InService';
      this.log(`member ${id} in service with TaskManager ${tm.id}`);
    });
    return action;
  }

  private terminate(m: Member, why: string): string {
    m.state = 'Terminating';
    if (m.tmId && this.model.taskManagers.some((t) => t.id === m.tmId)) this.model.stopTaskManager(m.tmId);
    const action = `terminated member ${m.id} (${why}); its TaskManager stopped gracefully`;
    this.log(action);
    return action;
  }

  async protectBusy(taskManagers: TaskManagerInfo[]): Promise<ProtectResult> {
    const d = await this.describe(taskManagers);
    const out: ProtectResult = { protected: [], unprotected: [], untouched: [], dryRun: this.dryRun, actions: [] };
    for (const dm of d.members) {
      const m = this.members.find((x) => x.id === dm.id)!;
      if (dm.taskManagerId === undefined) out.untouched.push(dm.id);
      else if (dm.idle === false && !m.protected) {
        out.protected.push(m.id);
        out.actions.push(`${this.dryRun ? 'would protect' : 'protected'} ${m.id} from scale-in (TaskManager ${dm.taskManagerId} holds ${dm.busySlots} slot(s))`);
        if (!this.dryRun) m.protected = true;
      } else if (dm.idle === true && m.protected) {
        out.unprotected.push(m.id);
        out.actions.push(`${this.dryRun ? 'would lift' : 'lifted'} scale-in protection of ${m.id} (TaskManager ${dm.taskManagerId} is idle)`);
        if (!this.dryRun) m.protected = false;
      }
    }
    for (const a of out.actions) this.log(a);
    return out;
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[], opts: ReleaseOptions = {}): Promise<ReleaseResult> {
    const d = await this.describe(taskManagers);
    const plan = planRelease(d, memberIds, { bounds: this.bounds, minRequired: opts.minRequired, inService: (m) => m.state === 'InService' });
    const previous = this.desired;
    const actions: string[] = [];
    const selected = plan.release.map((m) => m.id);
    for (const id of selected) {
      if (this.dryRun) actions.push(`would terminate member ${id} and lower desired by 1`);
      else actions.push(this.terminate(this.members.find((x) => x.id === id)!, 'released'));
    }
    if (!this.dryRun) this.desired = Math.max(0, this.desired - selected.length);
    for (const sk of plan.skipped) actions.push(`skipped ${sk.id}: ${sk.reason}`);
    return {
      released: this.dryRun ? [] : selected,
      selected,
      skipped: plan.skipped,
      previous,
      desired: this.desired,
      dryRun: this.dryRun,
      actions,
    };
  }

  /** Fault injection: the instance dies (its TaskManager is lost after the heartbeat timeout). */
  killMember(id: string): void {
    const m = this.members.find((x) => x.id === id && x.state !== 'Terminating');
    if (!m) throw new Error(`killMember: no live member ${id}`);
    if (m.tmId) this.model.killTaskManager(m.tmId);
    else m.state = 'Terminating';
    this.log(`member ${id} died`);
  }
}
