/**
 * What every capacity target shares: mapping members (instances, pods) to Flink TaskManagers without guessing,
 * clamping a desired count to the job's and the target's bounds, and choosing which requested members may be released.
 */
import type { TaskManagerInfo } from '../flink/types';
import {
  CapacityTargetError,
  type JobTaskManagerBounds,
  type ReleaseResult,
  type SkippedMember,
  type TargetDescription,
  type TargetKind,
  type TargetMember,
} from './types';

/** A member as the target reports it, before mapping. */
export interface RawMember {
  id: string;
  state: string;
  addresses: string[];
  protected?: boolean;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** EC2 private DNS (ip-10-0-3-17.eu-west-1.compute.internal) and pod DNS (10-0-3-17.ns.pod.cluster.local). */
const DASHED_IP = /^(?:ip-)?(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})(?:\.|$)/;
const INSTANCE_ID = /\bi-[0-9a-f]{8,17}\b/g;
/** Standalone TaskManager resource ids look like "10.0.3.17:6122-a1b2c3". */
const TM_ID_HOST = /^([^:\s]+):\d+-[0-9a-f]+$/i;

/**
 * Keys under which an address can be matched: `ip:` for IPv4 (also recovered from EC2/pod DNS names), `host:` for the
 * full lower-cased name and `name:` for its first label (pod name, StatefulSet pod DNS, short host names).
 */
export function addressKeys(address: string): string[] {
  const a = address.trim().toLowerCase().replace(/\.$/, '');
  if (!a) return [];
  const v4 = IPV4.exec(a);
  if (v4) return [`ip:${v4.slice(1, 5).map(Number).join('.')}`];
  const keys = [`host:${a}`];
  const dashed = DASHED_IP.exec(a);
  if (dashed) keys.push(`ip:${dashed.slice(1, 5).map(Number).join('.')}`);
  const label = a.split('.')[0];
  if (label && !/^\d+$/.test(label)) keys.push(`name:${label}`);
  return keys;
}

export function taskManagerKeys(tm: TaskManagerInfo): string[] {
  const keys = new Set<string>([`id:${tm.id}`]);
  for (const k of addressKeys(tm.host ?? '')) keys.add(k);
  const hostInId = TM_ID_HOST.exec(tm.id);
  if (hostInId) for (const k of addressKeys(hostInId[1])) keys.add(k);
  for (const m of tm.id.toLowerCase().match(INSTANCE_ID) ?? []) keys.add(`id:${m}`);
  return [...keys];
}

export function memberKeys(m: RawMember): string[] {
  const keys = new Set<string>([`id:${m.id}`]);
  for (const a of m.addresses) for (const k of addressKeys(a)) keys.add(k);
  return [...keys];
}

/** Slots the TaskManager holds, or undefined when its slot counts are unknown (missing or not counts). */
export function busySlotsOf(tm: TaskManagerInfo): number | undefined {
  const { slotsNumber: total, freeSlots: free } = tm;
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (!isCount(total) || !isCount(free) || free > total) return undefined;
  return total - free;
}

/**
 * True when the TaskManager holds no slots. False when it holds some, and also when its slot counts are unknown
 * (Flink sent none, or nonsense): a TaskManager is released only when it can be shown to be idle.
 */
export function isIdle(tm: TaskManagerInfo): boolean {
  return busySlotsOf(tm) === 0;
}

/**
 * Pairs members with TaskManagers. A pair is made only when the TaskManager matches exactly one member and that member
 * matches exactly one TaskManager; anything else is reported as unmapped with a note, never guessed.
 */
export function mapMembers(
  raw: RawMember[],
  taskManagers: TaskManagerInfo[],
): Pick<TargetDescription, 'members' | 'unmappedMembers' | 'unmappedTaskManagers' | 'notes'> {
  // Index member keys once: matching is linear in members + TaskManagers, not their product.
  const byKey = new Map<string, number[]>();
  raw.forEach((m, i) => {
    for (const k of memberKeys(m)) {
      const list = byKey.get(k);
      if (list) list.push(i);
      else byKey.set(k, [i]);
    }
  });
  const tmMatches = taskManagers.map((tm) => [...new Set(taskManagerKeys(tm).flatMap((k) => byKey.get(k) ?? []))].sort((a, b) => a - b));
  const memberMatches: number[][] = raw.map(() => []);
  tmMatches.forEach((is, j) => is.forEach((i) => memberMatches[i].push(j)));
  const notes: string[] = [];
  const members: TargetMember[] = raw.map((m, i) => {
    const out: TargetMember = { id: m.id, state: m.state, addresses: m.addresses };
    if (m.protected !== undefined) out.protected = m.protected;
    const js = memberMatches[i];
    if (js.length === 1 && tmMatches[js[0]].length === 1) {
      const tm = taskManagers[js[0]];
      out.taskManagerId = tm.id;
      const busy = busySlotsOf(tm);
      out.idle = busy === 0;
      if (busy !== undefined) out.busySlots = busy;
      else notes.push(`TaskManager ${tm.id} on ${m.id} reported no valid slot counts: treated as busy (unknown, never idle)`);
    } else if (js.length > 1) {
      notes.push(`member ${m.id} matches ${js.length} TaskManagers (${js.map((j) => taskManagers[j].id).join(', ')}): left unmapped`);
    } else if (js.length === 0) {
      notes.push(`member ${m.id} (${m.addresses.join(', ') || 'no known address'}) matches no TaskManager`);
    }
    return out;
  });
  const unmappedTaskManagers: string[] = [];
  taskManagers.forEach((tm, j) => {
    const is = tmMatches[j];
    if (is.length === 1 && memberMatches[is[0]].length === 1) return;
    unmappedTaskManagers.push(tm.id);
    if (is.length > 1) notes.push(`TaskManager ${tm.id} (${tm.host}) matches ${is.length} members (${is.map((i) => raw[i].id).join(', ')}): left unmapped`);
    else if (is.length === 0) notes.push(`TaskManager ${tm.id} (${tm.host}) matches no member of this target`);
  });
  return { members, unmappedMembers: members.filter((m) => m.taskManagerId === undefined).map((m) => m.id), unmappedTaskManagers, notes };
}

export interface DesiredPlan {
  desired: number;
  changed: boolean;
  clampedBy?: string;
}

/**
 * Clamps a requested count to the job's TM bounds and the target's own limits (the target's limits win: its API rejects
 * anything outside them), and refuses anything below `minRequired`.
 */
export function planDesired(
  who: { kind: TargetKind; name: string },
  args: { requested: number; current: number; targetMin: number; targetMax: number; bounds: JobTaskManagerBounds; minRequired?: number },
): DesiredPlan {
  const { requested, current, targetMin, targetMax, bounds, minRequired } = args;
  const fail = (code: 'INVALID_INPUT' | 'CONFLICTING_BOUNDS' | 'BELOW_REQUIRED', msg: string) =>
    new CapacityTargetError(who.kind, who.name, 'setDesired', code, msg);
  if (!Number.isInteger(requested) || requested < 0 || requested > 100_000) {
    throw fail('INVALID_INPUT', `count must be an integer from 0 to 100000 (got ${JSON.stringify(requested)})`);
  }
  if (minRequired !== undefined && (!Number.isInteger(minRequired) || minRequired < 0)) {
    throw fail('INVALID_INPUT', `minRequired must be an integer ≥ 0 (got ${JSON.stringify(minRequired)})`);
  }
  const lo = Math.max(bounds.minTaskManagers, targetMin);
  const hi = Math.min(bounds.maxTaskManagers, targetMax);
  if (lo > hi) {
    throw fail(
      'CONFLICTING_BOUNDS',
      `the job's bounds (${bounds.minTaskManagers}..${bounds.maxTaskManagers} TaskManagers) and the target's own limits (${targetMin}..${fmtMax(targetMax)}) do not overlap`,
    );
  }
  let desired = requested;
  let clampedBy: string | undefined;
  if (requested > hi) {
    desired = hi;
    clampedBy =
      hi === targetMax && targetMax < bounds.maxTaskManagers
        ? `requested ${requested} is above the target's maximum (${targetMax})`
        : `requested ${requested} is above bounds.maxTaskManagers (${bounds.maxTaskManagers})`;
  } else if (requested < lo) {
    desired = lo;
    clampedBy =
      lo === targetMin && targetMin > bounds.minTaskManagers
        ? `requested ${requested} is below the target's minimum (${targetMin})`
        : `requested ${requested} is below bounds.minTaskManagers (${bounds.minTaskManagers})`;
  }
  if (minRequired !== undefined && desired < minRequired) {
    throw fail('BELOW_REQUIRED', `refusing to set ${desired} TaskManagers: running jobs need at least ${minRequired}; nothing was changed`);
  }
  return { desired, changed: desired !== current, ...(clampedBy ? { clampedBy } : {}) };
}

function fmtMax(n: number): string {
  return Number.isFinite(n) ? String(n) : '∞';
}

/**
 * Chooses which of the requested members may be released: each must exist, be mapped to a TaskManager that holds no
 * slots, and be in service; and the count may not drop below the largest of the target's minimum, the job's
 * minTaskManagers and `minRequired`.
 */
export function planRelease(
  description: TargetDescription,
  requested: string[],
  args: { bounds: JobTaskManagerBounds; minRequired?: number; inService: (m: TargetMember) => boolean },
): { release: TargetMember[]; skipped: SkippedMember[]; floor: number } {
  const floor = Math.max(description.min, args.bounds.minTaskManagers, args.minRequired ?? 0);
  let room = Math.max(0, description.desired - floor);
  const release: TargetMember[] = [];
  const skipped: SkippedMember[] = [];
  const byId = new Map(description.members.map((m) => [m.id, m]));
  for (const id of [...new Set(requested)]) {
    const m = byId.get(id);
    if (!m) skipped.push({ id, code: 'not-found', reason: `${id} is not a member of ${description.name}` });
    else if (m.taskManagerId === undefined)
      skipped.push({ id, code: 'unmapped', reason: `${id} could not be mapped to a Flink TaskManager, so it cannot be shown to be idle` });
    else if (!m.idle)
      skipped.push({
        id,
        code: 'busy',
        reason: m.busySlots === undefined ? `${id} runs TaskManager ${m.taskManagerId}, whose slot counts are unknown, so it cannot be shown to be idle` : `${id} runs TaskManager ${m.taskManagerId}, which holds ${m.busySlots} slot(s)`,
      });
    else if (!args.inService(m)) skipped.push({ id, code: 'not-in-service', reason: `${id} is ${m.state}` });
    else if (room === 0)
      skipped.push({ id, code: 'below-minimum', reason: `releasing ${id} would leave fewer than ${floor} member(s) (desired ${description.desired})` });
    else {
      release.push(m);
      room--;
    }
  }
  return { release, skipped, floor };
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `release` for targets whose members are stopped one by one (the emulator's TaskManagers, local TaskManager
 * processes): plans with `planRelease` (every member re-checked against the fresh TaskManagers), stops exactly the
 * selected ones, lowers the desired count by exactly as many, and says what it did (or would do, in dry-run).
 */
export async function releaseByStopping(
  description: TargetDescription,
  requested: string[],
  args: { bounds: JobTaskManagerBounds; minRequired?: number; dryRun: boolean; stop: (id: string) => Promise<string> },
): Promise<ReleaseResult> {
  const plan = planRelease(description, requested, { bounds: args.bounds, minRequired: args.minRequired, inService: (m) => m.state === 'InService' });
  const selected = plan.release.map((m) => m.id);
  const actions: string[] = [];
  for (const id of selected) actions.push(args.dryRun ? `would stop TaskManager ${id} and lower desired by 1` : await args.stop(id));
  for (const sk of plan.skipped) actions.push(`skipped ${sk.id}: ${sk.reason}`);
  const d = description.desired;
  return { released: args.dryRun ? [] : selected, selected, skipped: plan.skipped, previous: d, desired: args.dryRun ? d : d - selected.length, dryRun: args.dryRun, actions };
}
