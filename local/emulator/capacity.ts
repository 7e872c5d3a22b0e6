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
import { CapacityTargetError } from '../../functions/adapters/targets/types';
import type { CapacityTarget, ProtectResult, ReleaseOptions, ReleaseResult, SetDesiredOptions, SetDesiredResult, SkippedMember, TargetDescription, TargetMember } from '../../functions/adapters/targets/types';
import { FlinkModel, hex32 } from './model';

export interface SimulatedCapacityOptions {
  name?: string;
  /** The target's own limits (ASG MinSize / MaxSize). Default 0 and 100. */
  min?: number;
  max?: number;
  /** Virtual ms from launch until the member's TaskManager registers. Default 20 000. */
  bootDelayMs?: number;
  /** Slots of TaskManagers started by this target. Default: the model's slotsPerTaskManager. */
  slotsPerTaskManager?: number;
}

interface Member {
  id: string;
  host: string;
  state: 'Pending' | 'InService' | 'Terminating';
  protected: boolean;
  tmId?: string;
}

export class SimulatedCapacityTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly bootDelayMs: number;
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
    this.min = opts.min ?? 0;
    this.max = opts.max ?? 100;
    this.bootDelayMs = opts.bootDelayMs ?? 20_000;
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
    return `i-${hex32(`${this.name}/member/${this.seq++}`).slice(0, 17)}`;
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

  get desiredCount(): number {
    return this.desired;
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const live = this.live();
    const byHost = new Map(taskManagers.map((t) => [t.host, t]));
    const members: TargetMember[] = live.map((m) => {
      const tm = byHost.get(m.host);
      return {
        id: m.id,
        state: m.state,
        addresses: [m.host],
        ...(tm ? { taskManagerId: tm.id, idle: tm.freeSlots === tm.slotsNumber, busySlots: tm.slotsNumber - tm.freeSlots } : {}),
        protected: m.protected,
      };
    });
    const hosts = new Set(live.map((m) => m.host));
    return {
      kind: this.kind,
      name: this.name,
      desired: this.desired,
      min: this.min,
      max: this.max,
      members,
      unmappedMembers: members.filter((m) => !m.taskManagerId).map((m) => m.id),
      unmappedTaskManagers: taskManagers.filter((t) => !hosts.has(t.host)).map((t) => t.id),
      notes: members.filter((m) => !m.taskManagerId).map((m) => `member ${m.id} (${m.state}) has no registered TaskManager yet`),
    };
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    if (!Number.isInteger(count) || count < 0) {
      throw new CapacityTargetError(this.kind, this.name, 'setDesired', 'INVALID_INPUT', `count must be an integer >= 0, got ${count}`);
    }
    const previous = this.desired;
    let desired = count;
    let clampedBy: string | undefined;
    if (desired > this.max) {
      desired = this.max;
      clampedBy = `target max ${this.max}`;
    }
    if (desired < this.min) {
      desired = this.min;
      clampedBy = `target min ${this.min}`;
    }
    if (opts.minRequired !== undefined && desired < opts.minRequired) {
      throw new CapacityTargetError(this.kind, this.name, 'setDesired', 'BELOW_REQUIRED', `${desired} is below the ${opts.minRequired} TaskManager(s) running jobs need; nothing was changed`);
    }
    this.desired = desired;
    const actions: string[] = [];
    if (desired !== previous) {
      const line = `desired ${previous} → ${desired}${clampedBy ? ` (clamped: ${clampedBy})` : ''}`;
      this.log(line);
      actions.push(line);
    }
    this.converge();
    return { previous, desired, changed: desired !== previous, ...(clampedBy ? { clampedBy } : {}), dryRun: false, actions };
  }

  /** Launch or terminate members until the live count matches desired (never terminating busy or protected ones). */
  private converge(): void {
    const live = this.live();
    for (let i = live.length; i < this.desired; i++) this.launch();
    let surplus = live.length - this.desired;
    if (surplus <= 0) return;
    const removable = [
      ...live.filter((m) => m.state === 'Pending' && !m.protected).reverse(),
      ...live.filter((m) => m.state === 'InService' && !m.protected && this.isIdle(m)),
    ];
    for (const m of removable) {
      if (surplus-- <= 0) break;
      this.terminate(m, 'scale-in');
    }
  }

  private isIdle(m: Member): boolean {
    const tm = m.tmId ? this.model.taskManagers.find((t) => t.id === m.tmId) : undefined;
    return !tm || this.model.isIdle(tm);
  }

  private launch(): void {
    const id = this.nextId();
    const n = this.seq;
    const host = `10.1.${Math.floor(n / 250)}.${10 + (n % 250)}`;
    const m: Member = { id, host, state: 'Pending', protected: false };
    this.members.push(m);
    this.log(`member ${id} launched (${host}); TaskManager registers in ${this.bootDelayMs} ms`);
    this.model.clock.schedule(this.bootDelayMs, () => {
      if (m.state !== 'Pending') return;
      const tm = this.model.addTaskManager({ host, slots: this.slots });
      m.tmId = tm.id;
      m.state = 'InService';
      this.log(`member ${id} in service with TaskManager ${tm.id}`);
    });
  }

  private terminate(m: Member, why: string): void {
    m.state = 'Terminating';
    if (m.tmId && this.model.taskManagers.some((t) => t.id === m.tmId)) this.model.stopTaskManager(m.tmId);
    this.log(`member ${m.id} terminated (${why})`);
  }

  async protectBusy(taskManagers: TaskManagerInfo[]): Promise<ProtectResult> {
    const d = await this.describe(taskManagers);
    const result: ProtectResult = { protected: [], unprotected: [], untouched: [], dryRun: false, actions: [] };
    for (const dm of d.members) {
      const m = this.members.find((x) => x.id === dm.id);
      if (!m) continue;
      if (dm.idle === undefined) result.untouched.push(m.id);
      else if (!dm.idle && !m.protected) {
        m.protected = true;
        result.protected.push(m.id);
        result.actions.push(`member ${m.id} protected from scale-in (its TaskManager holds slots)`);
      } else if (dm.idle && m.protected) {
        m.protected = false;
        result.unprotected.push(m.id);
        result.actions.push(`member ${m.id} unprotected (its TaskManager is idle)`);
      }
    }
    for (const a of result.actions) this.log(a);
    return result;
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[], opts: ReleaseOptions = {}): Promise<ReleaseResult> {
    if (new Set(memberIds).size !== memberIds.length) {
      throw new CapacityTargetError(this.kind, this.name, 'release', 'INVALID_INPUT', 'member ids must be unique');
    }
    const d = await this.describe(taskManagers);
    const previous = this.desired;
    const skipped: SkippedMember[] = [];
    const chosen: Member[] = [];
    let remaining = d.members.length;
    for (const id of memberIds) {
      const dm = d.members.find((x) => x.id === id);
      const m = this.members.find((x) => x.id === id);
      if (!dm || !m) skipped.push({ id, code: 'not-found', reason: `${id} is not a live member of ${this.name}` });
      else if (dm.state !== 'InService') skipped.push({ id, code: 'not-in-service', reason: `${id} is ${dm.state}` });
      else if (dm.idle === undefined) skipped.push({ id, code: 'unmapped', reason: `${id} has no TaskManager registered in Flink; not removed blindly` });
      else if (!dm.idle || !this.isIdle(m)) skipped.push({ id, code: 'busy', reason: `${id}'s TaskManager ${dm.taskManagerId} holds ${dm.busySlots} slot(s)` });
      else if (opts.minRequired !== undefined && remaining - 1 < opts.minRequired) skipped.push({ id, code: 'below-minimum', reason: `removing ${id} would leave fewer than ${opts.minRequired} member(s)` });
      else {
        chosen.push(m);
        remaining--;
      }
    }
    const actions: string[] = [];
    for (const m of chosen) {
      this.terminate(m, 'released');
      actions.push(`terminated ${m.id} (TaskManager ${m.tmId}) and decremented desired`);
    }
    this.desired = Math.max(0, this.desired - chosen.length);
    const ids = chosen.map((m) => m.id);
    return { released: ids, selected: ids, skipped, previous, desired: this.desired, dryRun: false, actions };
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
