/**
 * AsgCapacityTarget on aws-sdk-client-mock: only what Auto Scaling on moto cannot show. The behaviour against a real
 * group (desired capacity, clamping, protection, which instances are terminated, NOT_FOUND) is in
 * targets-asg-moto.test.ts. Kept here, and why (test/README.md):
 * - the exact requests (HonorCooldown: false; ShouldDecrementDesiredCapacity) and "no write at all": moto ignores
 *   cooldowns and a state read cannot tell a no-op write from none;
 * - SetInstanceProtection in batches of at most 50 ids: moto 5.2.6 accepts any number (AWS refuses more than 50);
 * - instances in Pending or Terminating:Wait: moto starts every instance InService and terminates at once;
 * - DescribeInstances paging and secondary interfaces' private DNS names: moto answers in one page;
 * - API faults (ScalingActivityInProgress, AccessDenied, Throttling part-way through a release).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type Instance,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { parseJob } from '../../functions/core/config';
import { AsgCapacityTarget, CapacityTargetError, createCapacityTarget } from '../../functions/adapters/targets';
import { tm } from '../support/task-managers';

const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const NAME = 'flink-tm-asg';
const bounds = { minTaskManagers: 1, maxTaskManagers: 10 };

function instance(id: string, opts: Partial<Instance> = {}): Instance {
  return { InstanceId: id, LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, AvailabilityZone: 'eu-west-1a', ...opts };
}

function group(instances: Instance[], over: { desired?: number; min?: number; max?: number } = {}) {
  asg.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [NAME] }).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: NAME,
        DesiredCapacity: over.desired ?? instances.length,
        MinSize: over.min ?? 0,
        MaxSize: over.max ?? 20,
        Instances: instances,
        AvailabilityZones: ['eu-west-1a'],
        DefaultCooldown: 300,
        HealthCheckType: 'EC2',
        CreatedTime: new Date(0),
      } as any,
    ],
  });
}

function target(opts: Partial<ConstructorParameters<typeof AsgCapacityTarget>[0]> = {}) {
  return new AsgCapacityTarget({ autoScalingGroupName: NAME, bounds, client: new AutoScalingClient({}), ...opts });
}

/** Every write sent, in order, as [command name, input]. */
function writes() {
  return asg
    .calls()
    .map((c) => c.args[0] as any)
    .filter((c) => !(c instanceof DescribeAutoScalingGroupsCommand))
    .map((c) => [c.constructor.name, c.input]);
}

beforeEach(() => {
  asg.reset();
  ec2.reset();
});

describe('AsgCapacityTarget.describe', () => {
  test('maps instances to TaskManagers by resource id or private IP/DNS, and reports the rest', async () => {
    group([instance('i-0aaaaaaaaaaaaaaa1'), instance('i-0aaaaaaaaaaaaaaa2'), instance('i-0aaaaaaaaaaaaaaa3'), instance('i-0aaaaaaaaaaaaaaa4')]);
    const resolveAddresses = jest.fn(async (ids: string[]) => ({
      'i-0aaaaaaaaaaaaaaa2': ['10.0.3.17', 'ip-10-0-3-17.eu-west-1.compute.internal'],
      'i-0aaaaaaaaaaaaaaa3': ['10.0.3.18'],
      ...(ids.includes('i-0aaaaaaaaaaaaaaa4') ? { 'i-0aaaaaaaaaaaaaaa4': ['10.0.3.99'] } : {}),
    }));
    const d = await target({ resolveAddresses }).describe([
      tm('i-0aaaaaaaaaaaaaaa1', 'ip-10-0-3-16.eu-west-1.compute.internal', 4, 4), // taskmanager.resource-id = instance id
      tm('10.0.3.17:6122-4f1a2b', '10.0.3.17', 4, 0), // standalone resource id, IP host
      tm('tm-c', 'ip-10-0-3-18.eu-west-1.compute.internal', 4, 1), // private DNS host vs resolved IP
      tm('tm-elsewhere', '10.9.9.9', 4, 0),
    ]);
    expect(resolveAddresses).toHaveBeenCalledWith(['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2', 'i-0aaaaaaaaaaaaaaa3', 'i-0aaaaaaaaaaaaaaa4']);
    expect(d).toMatchObject({ kind: 'asg', name: NAME, desired: 4, min: 0, max: 20 });
    expect(d.members.map((m) => [m.id, m.taskManagerId, m.idle, m.busySlots])).toEqual([
      ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa1', false, 4],
      ['i-0aaaaaaaaaaaaaaa2', '10.0.3.17:6122-4f1a2b', true, 0],
      ['i-0aaaaaaaaaaaaaaa3', 'tm-c', false, 1],
      ['i-0aaaaaaaaaaaaaaa4', undefined, undefined, undefined],
    ]);
    expect(d.unmappedMembers).toEqual(['i-0aaaaaaaaaaaaaaa4']);
    expect(d.unmappedTaskManagers).toEqual(['tm-elsewhere']);
    expect(d.notes.join('\n')).toMatch(/i-0aaaaaaaaaaaaaaa4 \(10\.0\.3\.99\) matches no TaskManager/);
  });

  test('the factory maps by private IP / DNS from ec2:DescribeInstances (all pages, all interfaces)', async () => {
    group([instance('i-0ccccccccccccccc1'), instance('i-0ccccccccccccccc2')]);
    ec2
      .on(DescribeInstancesCommand, { InstanceIds: ['i-0ccccccccccccccc1', 'i-0ccccccccccccccc2'], NextToken: undefined })
      .resolves({
        Reservations: [{ Instances: [{ InstanceId: 'i-0ccccccccccccccc1', PrivateIpAddress: '10.0.1.5', PrivateDnsName: 'ip-10-0-1-5.ec2.internal' }] }],
        NextToken: 'p2',
      })
      .on(DescribeInstancesCommand, { InstanceIds: ['i-0ccccccccccccccc1', 'i-0ccccccccccccccc2'], NextToken: 'p2' })
      .resolves({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-0ccccccccccccccc2',
                PrivateIpAddress: '10.0.1.6',
                NetworkInterfaces: [{ PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.6' }, { PrivateIpAddress: '10.0.9.6', PrivateDnsName: 'ip-10-0-9-6.ec2.internal' }] }],
              },
            ],
          },
        ],
      });
    const job = parseJob({
      name: 'orders',
      flink: { url: 'http://127.0.0.1:8081' },
      mode: 'reactive',
      target: { kind: 'asg', autoScalingGroupName: NAME },
      slotsPerTaskManager: 2,
      bounds: { maxParallelism: 8, maxTaskManagers: 4 },
    });
    const t = createCapacityTarget(job, { autoScaling: new AutoScalingClient({}), ec2: new EC2Client({}) });
    const d = await t.describe([tm('a', 'ip-10-0-1-5.ec2.internal', 2, 2), tm('b', '10.0.9.6', 2, 0)]);
    expect(d.members.map((m) => [m.id, m.taskManagerId])).toEqual([
      ['i-0ccccccccccccccc1', 'a'],
      ['i-0ccccccccccccccc2', 'b'],
    ]);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(2);
  });

  test('two TaskManagers on one address are left unmapped, not guessed', async () => {
    group([instance('i-0bbbbbbbbbbbbbbb1')]);
    const d = await target({ resolveAddresses: async () => ({ 'i-0bbbbbbbbbbbbbbb1': ['10.0.0.5'] }) }).describe([
      tm('a', '10.0.0.5', 2, 0),
      tm('b', '10.0.0.5', 2, 2),
    ]);
    expect(d.members[0].taskManagerId).toBeUndefined();
    expect(d.unmappedTaskManagers).toEqual(['a', 'b']);
    expect(d.notes.join('\n')).toMatch(/matches 2 TaskManagers/);
  });
});

describe('AsgCapacityTarget.setDesired', () => {
  test('sets the desired capacity with exactly these parameters', async () => {
    group([instance('i-1'), instance('i-2')], { desired: 2 });
    asg.on(SetDesiredCapacityCommand).resolves({});
    const r = await target().setDesired(5);
    expect(writes()).toEqual([['SetDesiredCapacityCommand', { AutoScalingGroupName: NAME, DesiredCapacity: 5, HonorCooldown: false }]]);
    expect(r).toMatchObject({ previous: 2, desired: 5, changed: true, dryRun: false });
    expect(r.clampedBy).toBeUndefined();
  });

  test('already at target: no write at all', async () => {
    group([instance('i-1'), instance('i-2'), instance('i-3')], { desired: 3 });
    const r = await target().setDesired(3);
    expect(writes()).toEqual([]);
    expect(r).toMatchObject({ previous: 3, desired: 3, changed: false });
    expect(r.actions.join()).toMatch(/already 3/);
  });

  test("above the job's bounds: clamped to bounds.maxTaskManagers and says so", async () => {
    group([instance('i-1')], { desired: 1, max: 50 });
    asg.on(SetDesiredCapacityCommand).resolves({});
    const r = await target().setDesired(40);
    expect(writes()).toEqual([['SetDesiredCapacityCommand', { AutoScalingGroupName: NAME, DesiredCapacity: 10, HonorCooldown: false }]]);
    expect(r.clampedBy).toBe('requested 40 is above bounds.maxTaskManagers (10)');
  });

  test("above the group's MaxSize / below its MinSize: clamped to the group's own limits", async () => {
    group([instance('i-1')], { desired: 4, min: 3, max: 6 });
    asg.on(SetDesiredCapacityCommand).resolves({});
    expect((await target().setDesired(9)).clampedBy).toBe("requested 9 is above the target's maximum (6)");
    expect((await target().setDesired(1)).clampedBy).toBe("requested 1 is below the target's minimum (3)");
    expect(writes().map((w) => (w[1] as any).DesiredCapacity)).toEqual([6, 3]);
  });

  test('refuses to go below what running jobs need, and changes nothing', async () => {
    group([instance('i-1'), instance('i-2'), instance('i-3')], { desired: 3 });
    const err = await target().setDesired(1, { minRequired: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityTargetError);
    expect(err.code).toBe('BELOW_REQUIRED');
    expect(err.message).toMatch(/running jobs need at least 2/);
    expect(writes()).toEqual([]);
  });

  test('bad counts are rejected naming the field and the allowed range', async () => {
    group([instance('i-1')], { desired: 1 });
    for (const bad of [-1, 2.5, NaN]) {
      const err = await target().setDesired(bad).catch((e) => e);
      expect(err).toMatchObject({ code: 'INVALID_INPUT' });
      expect(err.message).toMatch(/count must be an integer from 0 to 100000/);
    }
    expect(writes()).toEqual([]);
  });

  test("job bounds that cannot meet the group's limits are an explicit error", async () => {
    group([instance('i-1')], { desired: 12, min: 12, max: 20 });
    const err = await target().setDesired(5).catch((e) => e);
    expect(err).toMatchObject({ code: 'CONFLICTING_BOUNDS' });
    expect(err.message).toMatch(/1\.\.10 TaskManagers.*12\.\.20/);
  });

  test('dry run: explains, writes nothing', async () => {
    group([instance('i-1')], { desired: 1 });
    const r = await target({ dryRun: true }).setDesired(4);
    expect(writes()).toEqual([]);
    expect(r).toMatchObject({ changed: false, dryRun: true, desired: 4 });
    expect(r.actions).toEqual(['dry run: would SetDesiredCapacity 1 → 4']);
  });

  test('API failures become typed errors naming the group, with retryability', async () => {
    group([instance('i-1')], { desired: 1 });
    asg.on(SetDesiredCapacityCommand).rejects(Object.assign(new Error('Scaling activity in progress'), { name: 'ScalingActivityInProgressFault', $metadata: { httpStatusCode: 400 } }));
    const err = await target().setDesired(3).catch((e) => e);
    expect(err).toMatchObject({ name: 'CapacityTargetError', code: 'API', retryable: true, operation: 'SetDesiredCapacity', target: `asg:${NAME}` });
    asg.on(SetDesiredCapacityCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const denied = await target().setDesired(3).catch((e) => e);
    expect(denied).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(denied.message).toMatch(/autoscaling:SetDesiredCapacity/);
  });
});

describe('AsgCapacityTarget.protectBusy', () => {
  test('protects busy instances in calls of at most 50 ids, unprotects idle ones, leaves unmapped ones alone', async () => {
    const busy = Array.from({ length: 120 }, (_, i) => `i-${(0x1000 + i).toString(16).padStart(8, '0')}`);
    group([
      ...busy.map((id) => instance(id)),
      instance('i-0000aaaa', { ProtectedFromScaleIn: true }), // idle, protected → unprotect
      instance('i-0000bbbb', { ProtectedFromScaleIn: true }), // busy, already protected → untouched
      instance('i-0000cccc', { ProtectedFromScaleIn: true }), // unmapped → untouched
      instance('i-0000dddd', { LifecycleState: 'Terminating:Wait' }), // busy but leaving → untouched
    ]);
    asg.on(SetInstanceProtectionCommand).resolves({});
    const tms = [...busy.map((id) => tm(id, `h-${id}`, 2, 1)), tm('i-0000aaaa', 'x', 2, 0), tm('i-0000bbbb', 'y', 2, 2), tm('i-0000dddd', 'z', 2, 2)];
    const r = await target().protectBusy(tms);
    expect(writes()).toEqual([
      ['SetInstanceProtectionCommand', { AutoScalingGroupName: NAME, InstanceIds: busy.slice(0, 50), ProtectedFromScaleIn: true }],
      ['SetInstanceProtectionCommand', { AutoScalingGroupName: NAME, InstanceIds: busy.slice(50, 100), ProtectedFromScaleIn: true }],
      ['SetInstanceProtectionCommand', { AutoScalingGroupName: NAME, InstanceIds: busy.slice(100), ProtectedFromScaleIn: true }],
      ['SetInstanceProtectionCommand', { AutoScalingGroupName: NAME, InstanceIds: ['i-0000aaaa'], ProtectedFromScaleIn: false }],
    ]);
    expect(r.untouched).toEqual(['i-0000cccc']);
    expect(r.protected).toHaveLength(120);
  });

  test('idempotent: nothing to change, no call', async () => {
    group([instance('i-0000aaaa', { ProtectedFromScaleIn: true }), instance('i-0000bbbb')]);
    await target().protectBusy([tm('i-0000aaaa', 'a', 2, 1), tm('i-0000bbbb', 'b', 2, 0)]);
    expect(writes()).toEqual([]);
  });
});

describe('AsgCapacityTarget.release', () => {
  const ids = ['i-000000a1', 'i-000000a2', 'i-000000a3', 'i-000000a4'];
  const tms = [tm(ids[0], 'h0', 4, 3), tm(ids[1], 'h1', 4, 0), tm(ids[2], 'h2', 4, 0), tm(ids[3], 'h3', 4, 4)];

  test('protects busy members first, then terminates exactly the named idle ones with decrement', async () => {
    group(ids.map((id) => instance(id)), { desired: 4 });
    asg.on(SetInstanceProtectionCommand).resolves({});
    asg.on(TerminateInstanceInAutoScalingGroupCommand).resolves({ Activity: {} as any });
    const r = await target().release([ids[1], ids[2]], tms);
    expect(writes()).toEqual([
      ['SetInstanceProtectionCommand', { AutoScalingGroupName: NAME, InstanceIds: [ids[0], ids[3]], ProtectedFromScaleIn: true }],
      ['TerminateInstanceInAutoScalingGroupCommand', { InstanceId: ids[1], ShouldDecrementDesiredCapacity: true }],
      ['TerminateInstanceInAutoScalingGroupCommand', { InstanceId: ids[2], ShouldDecrementDesiredCapacity: true }],
    ]);
    expect(r).toMatchObject({ released: [ids[1], ids[2]], skipped: [], previous: 4, desired: 2 });
  });

  test('a member that holds slots is never released, even when named', async () => {
    group(ids.map((id) => instance(id, { ProtectedFromScaleIn: true })), { desired: 4 });
    asg.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    asg.on(SetInstanceProtectionCommand).resolves({});
    const r = await target().release([ids[0], ids[3], ids[1]], tms);
    const terminated = asg.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((c) => c.args[0].input.InstanceId);
    expect(terminated).toEqual([ids[1]]);
    expect(r.released).toEqual([ids[1]]);
    expect(r.skipped).toEqual([
      { id: ids[0], code: 'busy', reason: `${ids[0]} runs TaskManager ${ids[0]}, which holds 3 slot(s)` },
      { id: ids[3], code: 'busy', reason: `${ids[3]} runs TaskManager ${ids[3]}, which holds 4 slot(s)` },
    ]);
    expect(r.desired).toBe(3);
  });

  test('unmapped, unknown, not-in-service and below-minimum members are skipped with reasons', async () => {
    group([instance(ids[0]), instance(ids[1]), instance(ids[2], { LifecycleState: 'Pending' }), instance('i-00000099')], { desired: 4, min: 2 });
    asg.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    asg.on(SetInstanceProtectionCommand).resolves({});
    const idleAll = [tm(ids[0], 'h0', 4, 0), tm(ids[1], 'h1', 4, 0), tm(ids[2], 'h2', 4, 0)];
    const r = await target().release([ids[0], ids[1], ids[2], 'i-00000099', 'i-0000ffff'], idleAll, { minRequired: 3 });
    expect(r.released).toEqual([ids[0]]);
    expect(r.skipped.map((s) => [s.id, s.code])).toEqual([
      [ids[1], 'below-minimum'],
      [ids[2], 'not-in-service'],
      ['i-00000099', 'unmapped'],
      ['i-0000ffff', 'not-found'],
    ]);
    expect(asg.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(1);
  });

  test('a failure part-way names the group and what was already released', async () => {
    group(ids.map((id) => instance(id)), { desired: 4 });
    asg.on(SetInstanceProtectionCommand).resolves({});
    asg
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: ids[1] })
      .resolves({})
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: ids[2] })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    const err = await target().release([ids[1], ids[2]], tms).catch((e) => e);
    expect(err).toMatchObject({ code: 'API', retryable: true, operation: 'TerminateInstanceInAutoScalingGroup' });
    expect(err.message).toContain(`already released: ${ids[1]}`);
  });

  test('dry run selects and explains but terminates nothing', async () => {
    group(ids.map((id) => instance(id)), { desired: 4 });
    const r = await target({ dryRun: true }).release([ids[1]], tms);
    expect(writes()).toEqual([]);
    expect(r).toMatchObject({ released: [], selected: [ids[1]], desired: 4, dryRun: true });
    expect(r.actions.join('\n')).toMatch(/would TerminateInstanceInAutoScalingGroup i-000000a2/);
  });
});
