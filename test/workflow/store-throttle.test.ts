/**
 * Issue 17, defect 6: DynamoDB throttling must not turn a rescale that worked into "ACTION REQUIRED". The synthesized
 * state machine on aws-local-stepfunctions, the real step handlers, the Flink emulator, the store on dynalite; the
 * throttles are injected in front of the real store (dynalite has no throttling), SNS mocked.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { startWorld, throttleEveryStoreCall, throttleStore } from '../support/workflow-world';

const snsMock = mockClient(SNSClient);
let dynamo: LocalDynamo;
let emu: Emulator | undefined;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.stop());
beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const notifications = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);

async function setup(name: string) {
  const w = await startWorld({ dynamo, sns: new SNSClient({}), name, taskManagers: 4, parallelism: 4, onEmulator: (e) => (emu = e) });
  return { h: w.h, flinkJob: w.job };
}

test('a persistent throttle on the progress write after Resubmit: the rescale that worked is reported as done', async () => {
  const { h, flinkJob } = await setup('orders');
  const { count } = throttleStore(h, (m, args) => m === 'recordLockProgress' && (args[2] as Record<string, unknown>).phase === 'resubmitted');
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'throttled-breadcrumb');
  expect(count.recordLockProgress).toBeGreaterThanOrEqual(6); // retried in the step, then given up on (only a breadcrumb)
  expect(r.status).toBe('SUCCEEDED');
  expect(r.states).not.toContain('Rollback');
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(flinkJob.id);
  expect((await h.flink.job(live.id)).vertices.map((v) => v.parallelism)).toEqual([6, 6, 6]);
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].MessageAttributes?.outcome.StringValue).toBe('succeeded');
  expect(n[0].Subject).not.toMatch(/ACTION REQUIRED/);
});

test('throttle bursts on every store call are ridden out inside the steps: no step fails, no state-machine retry', async () => {
  const { h } = await setup('payments');
  // Every store call is throttled twice before it goes through.
  const { count } = throttleEveryStoreCall(h);
  const r = await h.run({ job: 'payments', parallelism: 6 }, 'throttle-bursts');
  expect(Object.values(count).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
  expect(r.status).toBe('SUCCEEDED');
  expect(r.retries).toBe(0);
  const live = (await h.flink.findJobByName('payments'))!;
  expect((await h.flink.job(live.id)).state).toBe('RUNNING');
  expect((await h.flink.job(live.id)).vertices.map((v) => v.parallelism)).toEqual([6, 6, 6]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(r.output.savepointStatus.location);
  expect(notifications().map((x) => x.MessageAttributes?.outcome.StringValue)).toEqual(['succeeded']);
});

test('a job RUNNING at the planned parallelism after a failed check is not reported at risk', async () => {
  const { h } = await setup('billing');
  let failed = false;
  const r = await h.run({ job: 'billing', parallelism: 6 }, 'check-fails', async (state, invoke, event) => {
    if (state === 'CheckRunning' && !failed) {
      failed = true;
      await h.world.sleep(90_000); // the new job comes up and checkpoints meanwhile
      throw Object.assign(new Error('Lambda died'), { name: 'Sandbox.Crashed' });
    }
    return invoke(event);
  });
  expect(r.status).toBe('FAILED');
  expect(r.finalState.recovery).toMatchObject({ outcome: 'kept-new', rescaled: true, parallelism: 6 });
  const live = (await h.flink.findJobByName('billing'))!;
  expect((await h.flink.job(live.id)).vertices.map((v) => v.parallelism)).toEqual([6, 6, 6]);
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].MessageAttributes?.outcome.StringValue).toBe('rescaled-cleanup-failed');
  expect(n[0].MessageAttributes?.actionRequired.StringValue).toBe('false');
  expect(n[0].Subject).toMatch(/billing rescaled 4 -> 6/);
  expect(n[0].Subject).not.toMatch(/ACTION REQUIRED/);
  // The history counts it as a rescale (the cooldown clock moved), with the job that runs.
  const [entry] = await h.deps.store.history('billing', 'rescale');
  expect(entry.detail).toMatchObject({ outcome: 'rescaled-cleanup-failed', after: { parallelism: 6, jobId: live.id } });
});
