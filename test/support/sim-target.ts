/**
 * The emulator's SimulatedCapacityTarget behind the current CapacityTarget interface (protectBusy/release take the
 * fresh TaskManagers). Temporary glue while local/emulator/capacity.ts still implements the earlier signatures.
 */
import type { TaskManagerInfo } from '../../functions/adapters/flink/types';
import type { CapacityTarget, ProtectResult, ReleaseResult, SetDesiredOptions, SetDesiredResult, TargetDescription } from '../../functions/adapters/targets/types';
import { SimulatedCapacityTarget } from '../../local/emulator';

export class SimTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  constructor(readonly sim: SimulatedCapacityTarget) {}
  get name(): string {
    return this.sim.name;
  }
  async describe(tms: TaskManagerInfo[]): Promise<TargetDescription> {
    return { notes: [], ...((await this.sim.describe(tms)) as any) };
  }
  async setDesired(count: number, opts?: SetDesiredOptions): Promise<SetDesiredResult> {
    const r = await (this.sim as any).setDesired(count, opts);
    return { dryRun: false, actions: [], ...r };
  }
  async protectBusy(tms: TaskManagerInfo[]): Promise<ProtectResult> {
    await (this.sim as any).protectBusy(await this.sim.describe(tms));
    return { protected: [], unprotected: [], untouched: [], dryRun: false, actions: [] };
  }
  async release(ids: string[], tms: TaskManagerInfo[]): Promise<ReleaseResult> {
    const previous = this.sim.desiredCount;
    const r = await (this.sim as any).release(ids, await this.sim.describe(tms));
    return { selected: r.released, skipped: [], previous, dryRun: false, actions: [], ...r };
  }
}
