/**
 * Issue 17, defect 6: DynamoDB throttling must not turn a rescale that worked into "ACTION REQUIRED". The synthesized
 * state machine on aws-local-stepfunctions, the real step handlers, the Flink emulator, the store on dynalite; the
 * throttles are injected in front of the real store (dynalite has no throttling), SNS mocked.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobConfigInput } from '../../functions/core/config';
import type { StateStore } from '../../functions/adapters/state/types';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { WorkflowHarness } from '../support/workflow-harness';

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
const throttle = () => Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), { name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });

async function setup(name: string) {
  emu = await startEmulator({ version: '1.19', taskManagers: 4, slotsPerTaskManager: 2, scheduler: 'default' });
  const sim = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000 });
  const job = {
    name,
    flink: { url: emu.url, version: '1.19', jobName: name },
    mode: 'savepoint',
    submit: { jarPath: `s3://artifacts/${name}.jar` },
    savepoint: { directory: `s3://state/savepoints/${name}`, timeoutSeconds: 300 },
    target: { kind: 'asg', autoScalingGroupName: `${name}-tms` },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
    drainTimeoutSeconds: 120,
  } as JobConfigInput;
  const h = new WorkflowHarness({ emulator: emu, dynamo, target: sim, sns: new SNSClient({}), jobs: [job] });
  const flinkJob = emu.model.startJob({ name, parallelism: 4, inputRate: 1000 });
  await h.elapse(40_000);
  return { h, flinkJob };
}

/** Puts `fail(method, args)` in front of the real store: when it returns true, the call is throttled (not applied). */
function throttled(h: WorkflowHarness, fail: (method: string, args: unknown[]) => boolean): { count: Record<string, number> } {
  const real = h.deps.store;
  const count: Record<string, number> = {};
  h.deps.store = new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        if (fail(String(prop), args)) {
          count[String(prop)] = (count[String(prop)] ?? 0) + 1;
          throw throttle();
        }
        return v.apply(target, args);
      };
    },
  }) as StateStore;
  return { count };
}

test('a persistent throttle on the progress write after Resubmit: the rescale that worked is reported as done', async () => {
  const { h, flinkJob } = await setup('orders');
  const { count } = throttled(h, (m, args) => m === 'recordLockProgress' && (args[2] as Record<string, unknown>).phase === 'resubmitted');
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
  const seen = new Map<string, number>();
  const { count } = throttled(h, (m, args) => {
    const key = `${m}:${JSON.stringify(args)}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n <= 2;
  });
  const r = await h.run({ job: 'payments', parallelism: 6 }, 'throttle-bursts');
  expect(Object.values(count).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
  expect(r.status).toBe('SUCCEEDED');
  expect(r.retries).toBe(0);
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
