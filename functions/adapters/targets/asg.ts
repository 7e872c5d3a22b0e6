/**
 * EC2 Auto Scaling group target. TaskManagers run one per instance.
 *
 * - describe: DescribeAutoScalingGroups; instances are mapped to TaskManagers by instance id (when the TM's
 *   `taskmanager.resource-id` is the instance id) or by private IP / DNS (when a `resolveAddresses` function is given,
 *   e.g. one backed by ec2:DescribeInstances).
 * - setDesired: SetDesiredCapacity (HonorCooldown false), clamped, a no-op when already there.
 * - protectBusy: SetInstanceProtection (≤ 50 ids per call) on instances whose TM holds slots, lifted from idle ones.
 * - release: busy members protected first (so no AZ rebalance picks them), then TerminateInstanceInAutoScalingGroup with
 *   ShouldDecrementDesiredCapacity=true for each named idle instance, and nothing else.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { TaskManagerInfo } from '../flink/types';
import { chunk, mapMembers, planDesired, planRelease, type RawMember } from './common';
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
  type TargetMember,
} from './types';

/** Instance id → its private IPs / DNS names. Backed by ec2:DescribeInstances in production. */
export type ResolveAddresses = (instanceIds: string[]) => Promise<Record<string, string[]>>;

/** DescribeInstances accepts many ids per call; we ask for at most this many at a time. */
export const DESCRIBE_INSTANCES_BATCH = 100;

/**
 * ResolveAddresses backed by ec2:DescribeInstances: each instance's private IPs (all network interfaces) and private
 * DNS name, which is what Flink reports as the TaskManager host on EC2.
 */
export function ec2AddressResolver(ec2?: EC2Client): ResolveAddresses {
  // @aws-sdk/client-ec2 is ~175 ms of module load on its own (more than a handler's whole cold-start budget), so it
  // is required on the first DescribeInstances, not when a bundle that may call it loads.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const sdk = () => require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
  /* eslint-enable @typescript-eslint/no-require-imports */
  let client = ec2;
  return async (instanceIds) => {
    const { DescribeInstancesCommand, EC2Client: Client } = sdk();
    client ??= new Client({});
    const out: Record<string, string[]> = {};
    for (const ids of chunk(instanceIds, DESCRIBE_INSTANCES_BATCH)) {
      let NextToken: string | undefined;
      do {
        const page = await client.send(new DescribeInstancesCommand({ InstanceIds: ids, NextToken }));
        for (const inst of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          if (!inst.InstanceId) continue;
          const addrs = new Set<string>();
          if (inst.PrivateIpAddress) addrs.add(inst.PrivateIpAddress);
          if (inst.PrivateDnsName) addrs.add(inst.PrivateDnsName);
          for (const ni of inst.NetworkInterfaces ?? []) {
            for (const pa of ni.PrivateIpAddresses ?? []) {
              if (pa.PrivateIpAddress) addrs.add(pa.PrivateIpAddress);
              if (pa.PrivateDnsName) addrs.add(pa.PrivateDnsName);
            }
          }
          out[inst.InstanceId] = [...addrs];
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return out;
  };
}

export interface AsgTargetOptions {
  autoScalingGroupName: string;
  bounds: JobTaskManagerBounds;
  client?: AutoScalingClient;
  /**
   * Maps instance ids to addresses (`ec2AddressResolver()` in production). Without it, only TaskManagers whose resource
   * id contains the instance id are mapped.
   */
  resolveAddresses?: ResolveAddresses;
  /** Read, plan and explain, but make no change. */
  dryRun?: boolean;
}

/** SetInstanceProtection accepts at most 50 instance ids per call. */
export const MAX_PROTECTION_IDS_PER_CALL = 50;

const TERMINATING = /^(Terminating|Terminated|Detaching|Detached|Warmed:Terminat)/;

export class AsgCapacityTarget implements CapacityTarget {
  readonly kind = 'asg' as const;
  readonly name: string;
  private readonly client: AutoScalingClient;

  constructor(private readonly opts: AsgTargetOptions) {
    this.name = opts.autoScalingGroupName;
    this.client = opts.client ?? new AutoScalingClient({});
  }

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    const out = await this.call('DescribeAutoScalingGroups', () =>
      this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.name] })),
    );
    const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === this.name);
    if (!group) {
      throw new CapacityTargetError(this.kind, this.name, 'DescribeAutoScalingGroups', 'NOT_FOUND', 'no Auto Scaling group with this name in this account and region');
    }
    const instances = group.Instances ?? [];
    const ids = instances.map((i) => i.InstanceId!).filter(Boolean);
    let addresses: Record<string, string[]> = {};
    // Addresses only matter for mapping; without TaskManagers to map (setDesired) skip the EC2 call.
    if (this.opts.resolveAddresses && ids.length > 0 && taskManagers.length > 0) {
      const resolve = this.opts.resolveAddresses;
      addresses = await this.call('resolveAddresses', () => resolve(ids));
    }
    const raw: RawMember[] = instances.map((i) => ({
      id: i.InstanceId!,
      state: i.LifecycleState ?? 'Unknown',
      addresses: addresses[i.InstanceId!] ?? [],
      protected: i.ProtectedFromScaleIn ?? false,
    }));
    return {
      kind: this.kind,
      name: this.name,
      desired: group.DesiredCapacity ?? 0,
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      ...mapMembers(raw, taskManagers),
    };
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    const d = await this.describe([]);
    const plan = planDesired(this, { requested: count, current: d.desired, targetMin: d.min, targetMax: d.max, bounds: this.opts.bounds, minRequired: opts.minRequired });
    const dryRun = !!this.opts.dryRun;
    const actions: string[] = [];
    if (plan.clampedBy) actions.push(`clamped to ${plan.desired}: ${plan.clampedBy}`);
    if (!plan.changed) {
      actions.push(`desired capacity is already ${d.desired}; nothing to do`);
    } else if (dryRun) {
      actions.push(`dry run: would SetDesiredCapacity ${d.desired} → ${plan.desired}`);
    } else {
      await this.call('SetDesiredCapacity', () =>
        this.client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.name, DesiredCapacity: plan.desired, HonorCooldown: false })),
      );
      actions.push(`SetDesiredCapacity ${d.desired} → ${plan.desired}`);
    }
    return { previous: d.desired, desired: plan.desired, changed: plan.changed && !dryRun, clampedBy: plan.clampedBy, dryRun, actions };
  }

  async protectBusy(taskManagers: TaskManagerInfo[]): Promise<ProtectResult> {
    return this.applyProtection(await this.describe(taskManagers));
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[], opts: ReleaseOptions = {}): Promise<ReleaseResult> {
    const d = await this.describe(taskManagers);
    const plan = planRelease(d, memberIds, { bounds: this.opts.bounds, minRequired: opts.minRequired, inService: (m) => m.state === 'InService' });
    const dryRun = !!this.opts.dryRun;
    const actions: string[] = plan.skipped.map((s) => `skipped ${s.id}: ${s.reason}`);
    if (plan.release.length === 0) {
      actions.push('no member released');
      return { released: [], selected: [], skipped: plan.skipped, previous: d.desired, desired: d.desired, dryRun, actions };
    }
    // Lowering the desired capacity can make the group rebalance across AZs: keep every busy member protected first.
    const prot = await this.applyProtection(d, new Set(plan.release.map((m) => m.id)));
    actions.push(...prot.actions);
    const released: string[] = [];
    for (const m of plan.release) {
      if (dryRun) {
        actions.push(`dry run: would TerminateInstanceInAutoScalingGroup ${m.id} (TaskManager ${m.taskManagerId}, idle) with decrement`);
        continue;
      }
      await this.call(
        'TerminateInstanceInAutoScalingGroup',
        () => this.client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: m.id, ShouldDecrementDesiredCapacity: true })),
        released.length > 0 ? ` (already released: ${released.join(', ')})` : '',
      );
      released.push(m.id);
      actions.push(`TerminateInstanceInAutoScalingGroup ${m.id} (TaskManager ${m.taskManagerId}, idle) with decrement`);
    }
    const selected = plan.release.map((m) => m.id);
    return { released, selected, skipped: plan.skipped, previous: d.desired, desired: d.desired - released.length, dryRun, actions };
  }

  /** Protects busy in-service members, unprotects idle ones (except those about to be released); unmapped untouched. */
  private async applyProtection(d: TargetDescription, releasing = new Set<string>()): Promise<ProtectResult> {
    const live = (m: TargetMember) => !TERMINATING.test(m.state);
    const toProtect = d.members.filter((m) => live(m) && m.taskManagerId !== undefined && !m.idle && !m.protected).map((m) => m.id);
    const toUnprotect = d.members
      .filter((m) => live(m) && m.taskManagerId !== undefined && m.idle && m.protected && !releasing.has(m.id))
      .map((m) => m.id);
    const untouched = d.members.filter((m) => m.taskManagerId === undefined).map((m) => m.id);
    const dryRun = !!this.opts.dryRun;
    const actions: string[] = [];
    for (const [ids, on] of [
      [toProtect, true],
      [toUnprotect, false],
    ] as const) {
      for (const part of chunk(ids, MAX_PROTECTION_IDS_PER_CALL)) {
        const what = `${on ? 'protect' : 'unprotect'} ${part.join(', ')} ${on ? '(TaskManager holds slots)' : '(TaskManager idle)'}`;
        if (dryRun) {
          actions.push(`dry run: would ${what}`);
          continue;
        }
        await this.call('SetInstanceProtection', () =>
          this.client.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: this.name, InstanceIds: part, ProtectedFromScaleIn: on })),
        );
        actions.push(`SetInstanceProtection: ${what}`);
      }
    }
    if (untouched.length > 0) actions.push(`left unmapped members as they are: ${untouched.join(', ')}`);
    return { protected: toProtect, unprotected: toUnprotect, untouched, dryRun, actions };
  }

  private async call<T>(operation: string, fn: () => Promise<T>, context = ''): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asgError(this.name, operation, e, context);
    }
  }
}

/** Turns an AWS SDK error into a CapacityTargetError that names the group and says whether a retry may help. */
export function asgError(group: string, operation: string, e: unknown, context = ''): CapacityTargetError {
  if (e instanceof CapacityTargetError) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const detail = `${name}: ${err.message ?? String(e)}${context}`;
  if (/AccessDenied|UnauthorizedOperation/i.test(name) || status === 403) {
    return new CapacityTargetError('asg', group, operation, 'FORBIDDEN', `${detail}; the role needs autoscaling:${operation} on this group (see docs/capacity-targets.md)`, false, { cause: e });
  }
  if (/ValidationError/.test(name) && /not found/i.test(err.message ?? '')) {
    return new CapacityTargetError('asg', group, operation, 'NOT_FOUND', detail, false, { cause: e });
  }
  const retryable = /Throttl|ResourceContention|ScalingActivityInProgress|ServiceUnavailable|RequestLimitExceeded/i.test(name) || (status ?? 0) >= 500;
  return new CapacityTargetError('asg', group, operation, 'API', detail, retryable, { cause: e });
}
