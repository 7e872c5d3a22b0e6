/**
 * AsgCapacityTarget against Auto Scaling on moto (loopback): a real group, and what the target does is read back
 * from the group (DesiredCapacity, ProtectedFromScaleIn, which instances remain), not from the calls it sent.
 * What moto cannot show stays on aws-sdk-client-mock in targets-asg.test.ts (test/README.md): the 50-id limit of
 * SetInstanceProtection (moto accepts any number, so batching is checked on the calls), instances in Pending or
 * Terminating:Wait (moto starts every instance InService and terminates at once), and API faults (throttling,
 * AccessDenied, ScalingActivityInProgress).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parseJob } from '../../functions/core/config';
import { AsgCapacityTarget, CapacityTargetError, createCapacityTarget } from '../../functions/adapters/targets';
import { useMoto } from '../support/moto';
import { createGroup, groupState } from '../support/moto-asg';
import { tm } from '../support/task-managers';

const moto = useMoto();
const NAME = 'flink-tm-asg';
const bounds = { minTaskManagers: 1, maxTaskManagers: 10 };
let asg: AutoScalingClient;
beforeEach(() => {
  asg = new AutoScalingClient(moto.config);
});
const target = (opts: Partial<ConstructorParameters<typeof AsgCapacityTarget>[0]> = {}) => new AsgCapacityTarget({ autoScalingGroupName: NAME, bounds, client: asg, ...opts });

test('describe: members by instance id, desired / min / max as the group has them', async () => {
  const ids = await createGroup(asg, NAME, { desired: 3, min: 1, max: 8 });
  const d = await target().describe([tm(ids[0], 'h0', 4, 4), tm(ids[1], 'h1', 4, 0), tm('tm-elsewhere', '10.9.9.9', 4, 0)]);
  expect(d).toMatchObject({ kind: 'asg', name: NAME, desired: 3, min: 1, max: 8 });
  expect(d.members.map((m) => [m.id, m.taskManagerId, m.idle]).sort()).toEqual([[ids[0], ids[0], false], [ids[1], ids[1], true], [ids[2], undefined, undefined]].sort());
  expect(d.unmappedMembers).toEqual([ids[2]]);
  expect(d.unmappedTaskManagers).toEqual(['tm-elsewhere']);
});

test("the factory maps by private IP from the instances' real ec2:DescribeInstances answer", async () => {
  const ids = await createGroup(asg, NAME, { desired: 2 });
  const ec2 = new EC2Client(moto.config);
  const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const ip = Object.fromEntries(res.Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i.PrivateIpAddress!]));
  expect(Object.keys(ip).sort()).toEqual(ids);
  const job = parseJob({ name: 'orders', flink: { url: 'http://127.0.0.1:8081' }, mode: 'reactive', target: { kind: 'asg', autoScalingGroupName: NAME }, slotsPerTaskManager: 2, bounds: { maxParallelism: 8, maxTaskManagers: 4 } });
  const d = await createCapacityTarget(job, { autoScaling: asg, ec2 }).describe([tm('a', ip[ids[0]], 2, 2), tm('b', ip[ids[1]], 2, 0)]);
  expect(Object.fromEntries(d.members.map((m) => [m.id, m.taskManagerId]))).toEqual({ [ids[0]]: 'a', [ids[1]]: 'b' });
});

test('a missing group is a NOT_FOUND error that names it', async () => {
  const err = await target().describe([]).catch((e) => e);
  expect(err).toBeInstanceOf(CapacityTargetError);
  expect(err).toMatchObject({ code: 'NOT_FOUND', target: `asg:${NAME}`, operation: 'DescribeAutoScalingGroups' });
});

describe('setDesired', () => {
  test('the group ends at the new desired capacity, clamped to the job bounds and the group limits', async () => {
    await createGroup(asg, NAME, { desired: 2, min: 2, max: 6 });
    expect(await target().setDesired(5)).toMatchObject({ previous: 2, desired: 5, changed: true });
    expect((await groupState(asg, NAME)).desired).toBe(5);
    expect((await target().setDesired(9)).clampedBy).toBe("requested 9 is above the target's maximum (6)");
    expect((await groupState(asg, NAME)).desired).toBe(6);
    expect((await target().setDesired(1)).clampedBy).toBe("requested 1 is below the target's minimum (2)");
    expect((await groupState(asg, NAME)).desired).toBe(2);
  });

  test('refused, dry run and bad counts leave the group as it was', async () => {
    await createGroup(asg, NAME, { desired: 3 });
    await expect(target().setDesired(1, { minRequired: 2 })).rejects.toMatchObject({ code: 'BELOW_REQUIRED' });
    await expect(target().setDesired(2.5)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await target({ dryRun: true }).setDesired(5)).toMatchObject({ changed: false, dryRun: true });
    expect((await groupState(asg, NAME)).desired).toBe(3);
  });
});

describe('protectBusy', () => {
  test('busy instances end protected, idle ones unprotected, unmapped ones as they were', async () => {
    const ids = await createGroup(asg, NAME, { desired: 4, protectedFromScaleIn: true });
    const r = await target().protectBusy([tm(ids[0], 'h0', 2, 1), tm(ids[1], 'h1', 2, 0), tm(ids[2], 'h2', 2, 2)]);
    expect((await groupState(asg, NAME)).instances).toEqual([[ids[0], true], [ids[1], false], [ids[2], true], [ids[3], true]]);
    expect(r.untouched).toEqual([ids[3]]);
    // and back: all idle → none protected but the unmapped one
    await target().protectBusy([tm(ids[0], 'h0', 2, 0), tm(ids[1], 'h1', 2, 0), tm(ids[2], 'h2', 2, 0)]);
    expect((await groupState(asg, NAME)).instances).toEqual([[ids[0], false], [ids[1], false], [ids[2], false], [ids[3], true]]);
  });
});

describe('release', () => {
  test('exactly the named idle instances leave the group, the desired capacity drops with them, busy ones end protected', async () => {
    const ids = await createGroup(asg, NAME, { desired: 4 });
    const tms = [tm(ids[0], 'h0', 4, 3), tm(ids[1], 'h1', 4, 0), tm(ids[2], 'h2', 4, 0), tm(ids[3], 'h3', 4, 4)];
    const r = await target().release([ids[1], ids[2]], tms);
    expect(r).toMatchObject({ released: [ids[1], ids[2]], skipped: [], previous: 4, desired: 2 });
    expect(await groupState(asg, NAME)).toEqual({ desired: 2, instances: [[ids[0], true], [ids[3], true]] });
  });

  test('a busy member is never released even when named; an unknown id is skipped; below the minimum stops', async () => {
    const ids = await createGroup(asg, NAME, { desired: 4 });
    const tms = [tm(ids[0], 'h0', 4, 3), tm(ids[1], 'h1', 4, 0), tm(ids[2], 'h2', 4, 0), tm(ids[3], 'h3', 4, 0)];
    const r = await target().release([ids[0], ids[1], ids[2], 'i-0000ffff'], tms, { minRequired: 3 });
    expect(r.released).toEqual([ids[1]]);
    expect(r.skipped.map((s) => [s.id, s.code])).toEqual([[ids[0], 'busy'], [ids[2], 'below-minimum'], ['i-0000ffff', 'not-found']]);
    const after = await groupState(asg, NAME);
    expect(after.desired).toBe(3);
    expect(after.instances.map(([id]) => id)).toEqual([ids[0], ids[2], ids[3]]);
  });

  test('dry run terminates nothing', async () => {
    const ids = await createGroup(asg, NAME, { desired: 2 });
    await target({ dryRun: true }).release([ids[1]], [tm(ids[0], 'h0', 4, 0), tm(ids[1], 'h1', 4, 0)]);
    expect(await groupState(asg, NAME)).toEqual({ desired: 2, instances: [[ids[0], false], [ids[1], false]] });
  });
});
