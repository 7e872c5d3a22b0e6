/**
 * Capacity targets of `flink-elastic … --local`:
 *
 * - `EmulatorControlTarget`: the TaskManagers of a Flink emulator running anywhere on loopback (e.g. in another
 *   terminal: `flink-elastic emulator`), driven through its control endpoints. One member per TaskManager (member id =
 *   TaskManager id); raising the desired count registers TaskManagers (`POST /emulator/taskmanagers`), lowering it
 *   stops idle ones gracefully (`DELETE /emulator/taskmanagers/<id>?mode=stop`), never a busy one; `release` stops
 *   exactly the named idle members. Shares the mapping / clamping / release rules of the real targets
 *   (functions/adapters/targets/common.ts).
 * - `ObservedOnlyTarget`: a cluster whose capacity flink-elastic may not change from here (`--target none`): it
 *   describes the TaskManagers Flink reports, accepts "no change", and refuses any change with a clear error,
 *   changing nothing. Rescales within the registered slots still work.
 */
import axios, { type AxiosInstance } from 'axios';
import type { FlinkApi, TaskManagerInfo } from '../functions/adapters/flink/types';
import { isIdle, mapMembers, planDesired, releaseByStopping } from '../functions/adapters/targets/common';
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
} from '../functions/adapters/targets/types';

interface EmuTm {
  id: string;
  host: string;
  slots: number;
  freeSlots: number;
  dead: boolean;
}

/** True when `baseUrl` is a flink-elastic emulator (it answers GET /emulator/state). */
export async function isEmulator(baseUrl: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const r = await axios.get(`${baseUrl.replace(/\/$/, '')}/emulator/state`, { timeout: timeoutMs, validateStatus: () => true, proxy: false });
    return r.status === 200 && Array.isArray(r.data?.taskManagers);
  } catch {
    return false;
  }
}

export class EmulatorControlTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  readonly name: string;
  private readonly http: AxiosInstance;

  constructor(private readonly opts: { baseUrl: string; bounds: JobTaskManagerBounds; dryRun?: boolean; name?: string; max?: number }) {
    this.name = opts.name ?? `emulator ${opts.baseUrl}`;
    this.http = axios.create({ baseURL: opts.baseUrl.replace(/\/$/, ''), timeout: 5000, proxy: false });
  }

  private async live(): Promise<EmuTm[]> {
    const r = await this.http.get('/emulator/state').catch((e) => {
      throw new CapacityTargetError(this.kind, this.name, 'describe', 'API', `GET /emulator/state: ${(e as Error).message}`, true);
    });
    return (r.data.taskManagers as EmuTm[]).filter((t) => !t.dead);
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const live = await this.live();
    const raw = live.map((t) => ({ id: t.id, state: 'InService', addresses: [t.host], protected: false }));
    return { kind: this.kind, name: this.name, desired: live.length, min: 0, max: this.opts.max ?? 1000, ...mapMembers(raw, taskManagers) };
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    const live = await this.live();
    const previous = live.length;
    const plan = planDesired(this, {
      requested: count,
      current: previous,
      targetMin: 0,
      targetMax: this.opts.max ?? 1000,
      bounds: this.opts.bounds,
      minRequired: opts.minRequired,
    });
    const dry = this.opts.dryRun ?? false;
    const actions: string[] = [];
    let desired = plan.desired;
    if (plan.changed && plan.desired > previous) {
      const n = plan.desired - previous;
      if (dry) actions.push(`would register ${n} TaskManager(s)`);
      else {
        const r = await this.http.post(`/emulator/taskmanagers?count=${n}`);
        actions.push(`registered ${n} TaskManager(s): ${(r.data.added as string[]).join(', ')}`);
      }
    } else if (plan.changed) {
      // Like an ASG honouring scale-in protection: only idle TaskManagers are stopped, newest first.
      const idle = live.filter((t) => t.freeSlots === t.slots).reverse();
      const stop = idle.slice(0, previous - plan.desired);
      for (const t of stop) {
        if (dry) actions.push(`would stop idle TaskManager ${t.id}`);
        else {
          await this.http.delete(`/emulator/taskmanagers/${encodeURIComponent(t.id)}?mode=stop`);
          actions.push(`stopped idle TaskManager ${t.id} gracefully`);
        }
      }
      const kept = previous - plan.desired - stop.length;
      if (kept > 0) {
        actions.push(`${kept} TaskManager(s) above the desired count kept: they hold slots`);
        desired = previous - stop.length;
      }
    }
    return {
      previous,
      desired: dry ? previous : desired,
      changed: plan.changed && !dry,
      ...(plan.clampedBy ? { clampedBy: plan.clampedBy } : {}),
      dryRun: dry,
      actions,
    };
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
        await this.http.delete(`/emulator/taskmanagers/${encodeURIComponent(id)}?mode=stop`);
        return `stopped TaskManager ${id} gracefully (released)`;
      },
    });
  }

}

export class ObservedOnlyTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  readonly name: string;

  constructor(private readonly flink: Pick<FlinkApi, 'taskManagers' | 'baseUrl'>) {
    this.name = `TaskManagers of ${flink.baseUrl} (no capacity target)`;
  }

  private refuse(op: string): CapacityTargetError {
    return new CapacityTargetError(
      this.kind,
      this.name,
      op,
      'INVALID_INPUT',
      'capacity changes are not available in --local mode with --target none: start or stop TaskManagers yourself, or use --target config (the job\'s configured target) or an emulator URL; nothing was changed',
    );
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const raw = taskManagers.map((t) => ({ id: t.id, state: 'InService', addresses: [t.host], protected: false }));
    return { kind: this.kind, name: this.name, desired: taskManagers.length, min: taskManagers.length, max: taskManagers.length, ...mapMembers(raw, taskManagers) };
  }

  /** The current count is "no change"; anything else is refused. */
  async setDesired(count: number): Promise<SetDesiredResult> {
    const current = (await this.flink.taskManagers()).length;
    if (count !== current) throw this.refuse('setDesired');
    return { previous: count, desired: count, changed: false, dryRun: false, actions: [] };
  }

  async protectBusy(): Promise<ProtectResult> {
    return { protected: [], unprotected: [], untouched: [], dryRun: false, actions: [] };
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[]): Promise<ReleaseResult> {
    const idle = new Set(taskManagers.filter(isIdle).map((t) => t.id));
    return {
      released: [],
      selected: [],
      skipped: memberIds.map((id) => ({
        id,
        code: 'unsafe' as const,
        reason: `${idle.has(id) ? 'idle, but ' : ''}no capacity target in --local mode with --target none: stop this TaskManager yourself`,
      })),
      previous: taskManagers.length,
      desired: taskManagers.length,
      dryRun: false,
      actions: [],
    };
  }
}
