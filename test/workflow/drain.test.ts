/**
 * `drain --task-manager ID` (input {"taskManagers": "-1", "drainTaskManager": ID}): exactly the named TaskManager is
 * drained and released, never another one in its place, and the drain timeout bounds the wait. The synthesized
 * state machine with the real step handlers, against the emulator (which places tasks on TaskManagers in
 * registration order, as the one a drain names is often the busiest).
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { JobConfigInput } from '../../functions/core/config';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { useMoto } from '../support/moto';
import { TOPIC_ARN, WorkflowHarness } from '../support/workflow-harness';

// SNS on moto (loopback): the notification is read back from the topic it was published to (test/README.md)
const moto = useMoto();
let dynamo: LocalDynamo;
let emu: Emulator | undefined;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.stop());
beforeEach(async () => {
  const { TopicArn } = await new SNSClient(moto.config).send(new CreateTopicCommand({ Name: TOPIC_ARN.split(':').pop()! }));
  expect(TopicArn).toBe(TOPIC_ARN);
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function setup(o: { taskManagers: number; parallelism: number; otherJob?: boolean; drainTimeoutSeconds?: number }) {
  emu = await startEmulator({ version: '1.19', taskManagers: o.taskManagers, slotsPerTaskManager: 2 });
  // another job of the session cluster, on the first TaskManager (slots are filled in registration order)
  if (o.otherJob) emu.model.startJob({ name: 'other', parallelism: 1, inputRate: 10 });
  const target = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 5_000 });
  const job: JobConfigInput = {
    name: 'orders',
    flink: { url: emu.url, version: '1.19' },
    submit: { jarPath: 's3://artifacts/orders.jar' },
    savepoint: { directory: 's3://state/savepoints/orders', timeoutSeconds: 300 },
    target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4 },
    drainTimeoutSeconds: o.drainTimeoutSeconds ?? 30,
  } as JobConfigInput;
  const h = new WorkflowHarness({ emulator: emu, dynamo, target, sns: new SNSClient(moto.config), jobs: [job] });
  emu.model.startJob({ name: 'orders', parallelism: o.parallelism, inputRate: 1000 });
  await h.elapse(40_000);
  const members = (await target.describe(await h.flink.taskManagers())).members;
  return { h, emu: emu!, target, members };
}

const ordersJob = (e: Emulator) => e.model.findJob('orders')!;

test('the named TaskManager is the one released, though the job filled it first', async () => {
  const { h, emu, target, members } = await setup({ taskManagers: 2, parallelism: 4 });
  // the first-registered TaskManager: the resubmitted job would land on it again
  const named = members[0];
  expect(named.idle).toBe(false);

  const r = await h.run({ job: 'orders', taskManagers: '-1', drainTaskManager: named.taskManagerId }, 'drain-first');

  expect(r.status).toBe('SUCCEEDED');
  expect(r.finalState.record.outcome).toBe('succeeded');
  expect(r.finalState.release.released).toEqual([named.id]);
  expect(emu.model.taskManagers.map((t) => t.id)).toEqual([members[1].taskManagerId]);
  expect(target.desiredCount).toBe(1);
  expect(ordersJob(emu).vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
  expect(ordersJob(emu).state).toBe('RUNNING');
  const sent = await moto.server.published(TOPIC_ARN);
  expect(sent).toHaveLength(1);
  expect(sent[0].message).toContain(`Released:   ${named.id}`);
}, 60_000);

test('the capacity member id works as well as the Flink TaskManager id', async () => {
  const { h, emu, members } = await setup({ taskManagers: 3, parallelism: 6 });
  const r = await h.run({ job: 'orders', taskManagers: '-1', drainTaskManager: members[1].id }, 'drain-member');
  expect(r.finalState.release.released).toEqual([members[1].id]);
  expect(emu.model.taskManagers.map((t) => t.id)).toEqual([members[0].taskManagerId, members[2].taskManagerId]);
}, 60_000);

test('a named TaskManager that stays busy (another job on it) is kept, no other one is released, and the drain timeout bounds the wait', async () => {
  const { h, emu, members } = await setup({ taskManagers: 3, parallelism: 4, otherJob: true, drainTimeoutSeconds: 30 });
  const named = members[0];

  const r = await h.run({ job: 'orders', taskManagers: '-1', drainTaskManager: named.id }, 'drain-busy');

  expect(r.status).toBe('SUCCEEDED');
  const s = r.finalState;
  expect(s.record.outcome).toBe('succeeded-drain-timeout');
  expect(s.release.released).toEqual([]);
  // (the other job's slot, and one the resubmitted job took beside it: where tasks land is Flink's choice)
  expect(s.release.skipped).toEqual([`${named.id}: still holds 2 slot(s) at the drain timeout (30 s); kept, and no other TaskManager released in its place`]);
  expect(emu.model.taskManagers).toHaveLength(3);
  // the wait for the drain: from the first CheckDrained to its last, within the 30 s timeout (not 30 s + a Wait + an inline poll)
  expect(s.drain.timedOut).toBe(true);
  expect(s.drain.at - s.drain.since).toBeGreaterThanOrEqual(30_000);
  expect(s.drain.at - s.drain.since).toBeLessThanOrEqual(31_000);
  expect(s.release.at - s.running.at).toBeLessThanOrEqual(32_000);
}, 60_000);

test('a resubmission that fails after the drained TaskManager was released gets the capacity back and rolls back', async () => {
  const { h, emu, target, members } = await setup({ taskManagers: 2, parallelism: 4 });
  emu.model.faults.failNextRuns(1);

  const r = await h.run({ job: 'orders', taskManagers: '-1', drainTaskManager: members[0].id }, 'drain-fail');

  expect(r.status).toBe('FAILED');
  expect(r.finalState.recovery.outcome).toBe('rolled-back');
  expect(r.finalState.recovery.actions.join('\n')).toContain(`restored the capacity to 2 member(s) for the old parallelism (${members[0].id} was released for the drain)`);
  expect(target.desiredCount).toBe(2);
  await h.elapse(30_000); // the replacement boots (5 s) and the rollback job gets its slots
  expect(ordersJob(emu).state).toBe('RUNNING');
  expect(ordersJob(emu).vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
}, 60_000);
