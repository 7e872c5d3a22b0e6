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
import type { CapacityTarget, ReleaseResult, SetDesiredResult, TargetDescription, TargetMember } from '../../functions/adapters/targets/types';
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
        ...(tm ? { taskManagerId: tm.id, idle: tm.freeSlots === tm.slotsNumber } : {}),
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
    };
  }

  async setDesired(count: number, opts: { minRequired?: number } = {}): Promise<SetDesiredResult> {
    if (!Number.isInteger(count) || count < 0) throw new Error(`setDesired: count must be an integer >= 0, got ${count}`);
    const previous = this.desired;
    let desired = count;
    let clampedBy: string | undefined;
    if (opts.minRequired !== undefined && desired < opts.minRequired) {
      desired = opts.minRequired;
      clampedBy = `running jobs need at least ${opts.minRequired} TaskManager(s)`;
    }
    if (desired > this.max) {
      desired = this.max;
      clampedBy = `target max ${this.max}`;
    }
    if (desired < this.min) {
      desired = this.min;
      clampedBy = `target min ${this.min}`;
    }
    this.desired = desired;
    if (desired !== previous) this.log(`desired ${previous} → ${desired}${clampedBy ? ` (clamped: ${clampedBy})` : ''}`);
    this.converge();
    return { previous, desired, changed: desired !== previous, ...(clampedBy ? { clampedBy } : {}) };
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

  async protectBusy(description: TargetDescription): Promise<void> {
    for (const d of description.members) {
      if (d.idle === false) {
        const m = this.members.find((x) => x.id === d.id);
        if (m && !m.protected) {
          m.protected = true;
          this.log(`member ${m.id} protected from scale-in (its TaskManager holds slots)`);
        }
      }
    }
  }

  async release(memberIds: string[], _description: TargetDescription): Promise<ReleaseResult> {
    const live = this.live();
    const chosen = memberIds.map((id) => {
      const m = live.find((x) => x.id === id);
      if (!m) throw new Error(`release: ${id} is not a live member of ${this.name}; members: ${live.map((x) => x.id).join(', ') || 'none'}`);
      if (!this.isIdle(m)) throw new Error(`release: member ${id} is busy (its TaskManager ${m.tmId} holds slots); nothing was released`);
      return m;
    });
    if (new Set(memberIds).size !== memberIds.length) throw new Error('release: member ids must be unique');
    for (const m of chosen) this.terminate(m, 'released');
    this.desired = Math.max(0, this.desired - chosen.length);
    return { released: chosen.map((m) => m.id), desired: this.desired };
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
