/**
 * The lock fences (issue 17): a lock that expires mid-rescale, with another owner taking it, leaves exactly one
 * actor. The synthesized state machine on aws-local-stepfunctions, the real step handlers, the Flink emulator over
 * loopback, the simulated capacity target, the state store on dynalite; SNS mocked. Every mutating call on Flink
 * (savepoint, stop, cancel, run-jar, resource requirements, jar upload) and on the capacity target (setDesired,
 * release, protectBusy) is counted per execution (AsyncLocalStorage follows each execution's step invocations).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobConfigInput } from '../../functions/core/config';
import { SCALER_LOCK_OWNER_PREFIX } from '../../functions/core/rescale-timing';
import { LOCK_TTL_SECONDS } from '../../functions/workflow/validate';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { WorkflowHarness, type StateWrapper } from '../support/workflow-harness';

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

const FLINK_MUTATIONS = ['triggerSavepoint', 'stopWithSavepoint', 'cancel', 'runJar', 'putResourceRequirements', 'uploadJar'] as const;
const TARGET_MUTATIONS = ['setDesired', 'release', 'protectBusy'] as const;

async function setup(name: string, taskManagers: number, parallelism: number) {
  emu = await startEmulator({ version: '1.19', taskManagers, slotsPerTaskManager: 2, scheduler: 'default' });
  const sim = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000 });
  const job: JobConfigInput = {
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
  const flinkJob = emu.model.startJob({ name, parallelism, inputRate: 1000 });
  await h.elapse(40_000);

  // Count every mutating call, attributed to the execution whose step made it.
  const als = new AsyncLocalStorage<string>();
  const calls: Record<string, string[]> = {};
  const count = (obj: any, methods: readonly string[], kind: string) => {
    for (const m of methods) {
      const orig = obj[m]?.bind(obj);
      if (!orig) continue;
      obj[m] = (...args: unknown[]) => {
        const who = als.getStore() ?? 'outside';
        (calls[who] ??= []).push(`${kind}.${m}`);
        return orig(...args);
      };
    }
  };
  count(h.flink, FLINK_MUTATIONS, 'flink');
  count(sim, TARGET_MUTATIONS, 'target');
  /** Runs each step invocation of execution `name` in its attribution context, with an optional hook first. */
  const attributed =
    (name: string, before?: (state: string) => Promise<void>): StateWrapper =>
    async (state, invoke, event) => {
      await before?.(state);
      return als.run(name, () => invoke(event));
    };
  return { h, sim, flinkJob, calls, attributed };
}

test('a lock that expires before the first action: the second execution rescales, the first acts on nothing and says so', async () => {
  const { h, flinkJob, calls, attributed } = await setup('orders', 4, 4);
  let second: Promise<any> | undefined;
  let secondDone = false;
  // Execution "first" locks, then stalls before its first mutating step for longer than the lock's TTL (a frozen
  // Lambda); meanwhile "second" takes the expired lock over and runs its whole rescale.
  const first = h.start({ job: 'orders', parallelism: 6 }, 'first', attributed('first', async (state) => {
    if (state !== 'Validate' && state !== 'Lock' && !second) {
      await h.world.sleep((LOCK_TTL_SECONDS + 60) * 1000);
      second = h.start({ job: 'orders', parallelism: 8 }, 'second', attributed('second')).finally(() => (secondDone = true));
      while (!secondDone) await h.world.sleep(5_000); // (awaiting it here would hold the virtual clock)
    }
  }));
  const [a] = await h.drive(first);
  const b = await second!;

  expect(b.status).toBe('SUCCEEDED');
  expect(a.status).toBe('FAILED');
  // Exactly one acted: "second" made every mutating call, "first" none.
  expect(calls.first ?? []).toEqual([]);
  expect(calls.second).toEqual(expect.arrayContaining(['flink.triggerSavepoint', 'flink.cancel', 'flink.runJar']));
  expect(calls.outside ?? []).toEqual([]);
  // "first" found the lock gone at its fence, and did not "recover" (Abort would undo what it does not own).
  expect(a.finalState.error.Error).toBe('LockLost');
  expect(a.states).not.toContain('Abort');
  expect(a.states).not.toContain('Cancel');
  // The job runs once, rescaled by "second" from its own savepoint.
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(flinkJob.id);
  expect((await h.flink.job(live.id)).vertices.map((v) => v.parallelism)).toEqual([8, 8, 8]);
  expect(emu!.model.jobs.filter((j) => j.state === 'RUNNING')).toHaveLength(1);
  expect(emu!.model.savepoints.size).toBe(1);
  expect(await h.deps.store.getLock('orders')).toBeUndefined();
  // Two true notifications: "second" rescaled; "first" lost the lock and changed nothing.
  const n = notifications();
  expect(n).toHaveLength(2);
  const lost = n.find((x) => x.MessageAttributes?.outcome.StringValue === 'failed-lock-lost')!;
  expect(lost.Subject).toMatch(/rescale of orders stopped: the lock moved on/);
  expect(lost.Message).toContain('no longer holds the rescale lock of job "orders"');
  expect(lost.Message).toMatch(/did not (set the capacity|take a savepoint)/);
  expect(lost.MessageAttributes?.actionRequired.StringValue).toBe('false');
  expect(n.find((x) => x.MessageAttributes?.outcome.StringValue === 'succeeded')?.Subject).toMatch(/orders rescaled 4 -> 8/);
});

test('the lock lost after the cancel, held by another owner: no resubmit, no rollback; ACTION REQUIRED names the savepoint', async () => {
  const { h, calls, attributed } = await setup('payments', 4, 4);
  let rejected: any;
  const first = h.start({ job: 'payments', parallelism: 6 }, 'first', attributed('first', async (state) => {
    if (state === 'Resubmit' && rejected === undefined) {
      await h.world.sleep((LOCK_TTL_SECONDS + 60) * 1000);
      // A new rescale cannot start from a stopped job (Validate refuses it, changing nothing)...
      void h.start({ job: 'payments', parallelism: 8 }, 'second', attributed('second')).then((r) => (rejected = r));
      while (rejected === undefined) await h.world.sleep(1_000);
      // ...but another owner (here the scaler, for a capacity change) takes the expired lock and keeps it.
      await h.deps.store.acquireLock('payments', `${SCALER_LOCK_OWNER_PREFIX}manual`, { now: h.world.now(), ttlSeconds: 600 });
    }
  }));
  const [a] = await h.drive(first);
  expect(rejected.status).toBe('FAILED');
  expect(calls.second ?? []).toEqual([]);
  expect(a.status).toBe('FAILED');
  // "first" cancelled the job (after its savepoint), then acted on nothing: no resubmit, no rollback, no capacity.
  expect(calls.first).toEqual(['target.setDesired', 'flink.triggerSavepoint', 'flink.cancel']); // (EnsureCapacity: 4 TMs already hold 6 slots)
  expect(a.states).toContain('Rollback');
  expect(a.finalState.recoveryError.Error).toBe('LockLostAfterStop');
  expect((await h.deps.store.getLock('payments'))?.owner).toBe(`${SCALER_LOCK_OWNER_PREFIX}manual`); // not released by "first"
  const sp = a.finalState.savepointStatus.location as string;
  expect(sp).toMatch(/^s3:\/\/state\/savepoints\/payments\//);
  const n = notifications().find((x) => x.MessageAttributes?.outcome.StringValue === 'failed-lock-lost-job-stopped')!;
  expect(n.Subject).toMatch(/ACTION REQUIRED: payments was stopped, and the lock moved on/);
  expect(n.Message).toContain(`restore it from savepoint ${sp} at parallelism 4`);
  expect(n.MessageAttributes?.actionRequired.StringValue).toBe('true');
});

test('the lock lost after the cancel and free again: recovery takes it back and restores the job from its savepoint', async () => {
  const { h, calls, attributed } = await setup('billing', 4, 4);
  let stalled = false;
  const first = h.start({ job: 'billing', parallelism: 6 }, 'first', attributed('first', async (state) => {
    if (state === 'Resubmit' && !stalled) {
      stalled = true;
      await h.world.sleep((LOCK_TTL_SECONDS + 60) * 1000);
      // The scaler took the expired lock for a capacity change and let it go.
      const owner = `${SCALER_LOCK_OWNER_PREFIX}manual`;
      await h.deps.store.acquireLock('billing', owner, { now: h.world.now(), ttlSeconds: 60 });
      await h.deps.store.releaseLock('billing', owner);
    }
  }));
  const [a] = await h.drive(first);
  expect(a.status).toBe('FAILED');
  expect(a.finalState.error.Error).toBe('LockLost'); // Resubmit's fence
  expect(a.finalState.recovery.outcome).toBe('rolled-back');
  expect(a.finalState.recovery.actions.join('; ')).toMatch(/took the job's lock again/);
  expect(calls.first).toEqual(['target.setDesired', 'flink.triggerSavepoint', 'flink.cancel', 'flink.runJar']);
  const live = (await h.flink.findJobByName('billing'))!;
  expect((await h.flink.job(live.id)).vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(a.finalState.savepointStatus.location);
  expect(await h.deps.store.getLock('billing')).toBeUndefined();
  expect(notifications().map((x) => x.MessageAttributes?.outcome.StringValue)).toEqual(['failed-rolled-back']);
});

test('heartbeats keep the lock through the longest legitimate run (savepoint timeout, then ~17 min of stop-pending retries), though it outlasts the TTL', async () => {
  const { h } = await setup('ledger', 4, 4);
  emu!.model.timings.savepointBaseMs = 3_600_000; // the stop-with-savepoint never finishes in time
  const arn = h.executionArn('long');
  const gaps: string[] = [];
  let acquiredAt: number | undefined;
  const r = await h.run({ job: 'ledger', parallelism: 6, stopWithSavepoint: true }, 'long', async (state, invoke, event) => {
    const lock = await h.deps.store.getLock('ledger');
    if (lock?.owner === arn && lock.expiresAtMs < h.world.now()) gaps.push(`${state}: lock expired ${Math.round((h.world.now() - lock.expiresAtMs) / 1000)} s before it ran`);
    const out = await invoke(event);
    if (state === 'Lock') acquiredAt = h.world.now();
    return out;
  });
  expect(r.status).toBe('FAILED');
  expect(r.finalState.recoveryError.Error).toBe('StopPending');
  // The run (from Lock to Unlock) took longer than one TTL, and the lock never lapsed meanwhile.
  expect(r.finishedAt - acquiredAt!).toBeGreaterThan(LOCK_TTL_SECONDS * 1000);
  expect(gaps).toEqual([]);
  // Kept on purpose at the end (the stop may still end the job): held for an hour from the keep.
  const lock = await h.deps.store.getLock('ledger');
  expect(lock?.owner).toBe(arn);
  expect(lock!.expiresAtMs).toBeGreaterThanOrEqual(r.finishedAt + 3_500_000);
  await h.deps.store.releaseLock('ledger', arn);
});
