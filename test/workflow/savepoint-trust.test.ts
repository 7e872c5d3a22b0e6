/**
 * What the workflow believes about a savepoint (issue 17, defects 2 and 4), through the synthesized state machine
 * against the Flink emulator, with the savepoint-status answer replaced as a broken JobManager or proxy would:
 *  - a "completed" savepoint whose location is not a URI under the job's savepoint.directory is not one: the job is
 *    not cancelled, it stays untouched;
 *  - while a stop-with-savepoint may still be pending, an unreadable status answer is not Flink's "unknown trigger":
 *    recovery does not conclude "untouched" and does not release the lock under a stop that may still happen.
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { FlinkApiError } from '../../functions/adapters/flink/client';
import type { FlinkApi, SavepointStatus } from '../../functions/adapters/flink/types';
import type { JobConfigInput } from '../../functions/core/config';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { useMoto } from '../support/moto';
import { TOPIC_ARN, WorkflowHarness } from '../support/workflow-harness';

// SNS on moto (loopback): notifications are read back from the topic (test/README.md)
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

let runs = 0;
/** A fresh execution name per run: the one-notification claim is per execution. */
const execName = (base: string) => `${base}-${++runs}`;
const notifications = () => moto.server.published(TOPIC_ARN);

/** The harness with its Flink client's savepointStatus replaced by `status` (the rest talks to the emulator). */
async function setup(status: (real: FlinkApi, jobId: string, triggerId: string) => Promise<SavepointStatus>) {
  emu = await startEmulator({ version: '1.19', taskManagers: 4, slotsPerTaskManager: 2 });
  const job: JobConfigInput = {
    name: 'orders',
    flink: { url: emu.url, version: '1.19', jobName: 'orders' },
    mode: 'savepoint',
    submit: { jarPath: 's3://artifacts/orders.jar' },
    savepoint: { directory: 's3://state/savepoints/orders', timeoutSeconds: 300 },
    target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
    drainTimeoutSeconds: 120,
  } as JobConfigInput;
  const h = new WorkflowHarness({ emulator: emu, dynamo, target: new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000 }), sns: new SNSClient(moto.config), jobs: [job] });
  const real = h.flink;
  const tampered: FlinkApi = Object.create(real);
  tampered.savepointStatus = (jobId, triggerId) => status(real, jobId, triggerId);
  (h.deps as unknown as { flink: () => FlinkApi }).flink = () => tampered;
  const started = emu.model.startJob({ name: 'orders', parallelism: 4, inputRate: 1000 });
  await h.elapse(40_000);
  return { h, emu: emu!, jobId: started.id };
}

describe('a completed savepoint whose location is not under savepoint.directory: no cancel, job untouched', () => {
  test.each([' ', 'NaN', '\u0000', 's3://someone-else/savepoints/orders/savepoint-1', 's3://state/savepoints/orders', 's3://state/savepoints/orders/../x/savepoint-1'])(
    'location %j',
    async (location) => {
      const { h, emu, jobId } = await setup(async (real, j, t) => {
        const s = await real.savepointStatus(j, t);
        return s.state === 'COMPLETED' ? { state: 'COMPLETED', location } : s;
      });
      const cancels: string[] = [];
      const r = await h.run({ job: 'orders', parallelism: 6 }, execName('bad-location'), async (state, invoke, event) => {
        if (state === 'Cancel') cancels.push(state);
        return invoke(event);
      });
      expect(r.status).toBe('FAILED');
      expect(r.states).not.toContain('Cancel');
      expect(cancels).toEqual([]);
      expect((await h.flink.job(jobId)).state).toBe('RUNNING');
      expect((await h.flink.job(jobId)).vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
      expect(emu.model.jobs).toHaveLength(1);
      expect(r.finalState.recovery.outcome).toBe('untouched');
      expect(await h.deps.store.getLock('orders')).toBeUndefined();
      const n = await notifications();
      expect(n).toHaveLength(1);
      expect(n[0].attributes.outcome).toBe('failed-untouched');
      expect(n[0].message).toMatch(/not a URI under the savepoint directory s3:\/\/state\/savepoints\/orders/);
    },
  );
});

describe('recovering a pending stop-with-savepoint', () => {
  /** What a proxy in front of the JobManager might send: a 200 that is not Flink's answer. */
  const htmlAnswer = (jobId: string) =>
    new FlinkApiError({ call: 'savepointStatus', jobId, status: 200, errors: ['GET /jobs/…/savepoints/…: response body must be an object, got "<html>login</html>"'], retryable: false });

  test('an unreadable status answer is not "unknown trigger": the stop counts as pending, the lock is kept, ACTION REQUIRED', async () => {
    let broken = false;
    const { h, emu, jobId } = await setup(async (real, j, t) => {
      if (broken) throw htmlAnswer(j);
      return real.savepointStatus(j, t);
    });
    emu.model.timings.savepointBaseMs = 3_600_000; // the stop is still under way when the poll gives up
    const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'unreadable-stop', async (state, invoke, event) => {
      if (state === 'Abort' || state === 'Rollback') broken = true;
      return invoke(event);
    });
    expect(r.status).toBe('FAILED');
    expect(r.finalState.recovery?.outcome).not.toBe('untouched');
    expect(r.finalState.recoveryError.Error).toBe('StopPending');
    expect((await h.flink.job(jobId)).state).toBe('RUNNING');
    expect(await h.deps.store.getLock('orders')).toBeDefined(); // kept: Flink may still stop the job
    const n = await notifications();
    expect(n).toHaveLength(1);
    expect(n[0].attributes.outcome).toBe('failed-stop-pending');
    await h.deps.store.releaseLock('orders', h.executionArn('unreadable-stop'));
  });

  test("Flink's own 404 for an unknown trigger still means the stop never happened: untouched, lock released", async () => {
    let forgotten = false;
    const { h, emu, jobId } = await setup(async (real, j, t) => {
      if (forgotten) return real.savepointStatus(j, 'f'.repeat(32)); // the emulator answers 404 "There is no savepoint operation …"
      return real.savepointStatus(j, t);
    });
    emu.model.timings.savepointBaseMs = 3_600_000;
    const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, execName('forgotten-stop'), async (state, invoke, event) => {
      if (state === 'Abort' || state === 'Rollback') forgotten = true;
      return invoke(event);
    });
    expect(r.status).toBe('FAILED');
    expect(r.finalState.recovery.outcome).toBe('untouched');
    expect((await h.flink.job(jobId)).state).toBe('RUNNING');
    expect(await h.deps.store.getLock('orders')).toBeUndefined();
  });
});
