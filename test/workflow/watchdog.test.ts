/**
 * The watchdog: rescale executions that end ABORTED / TIMED_OUT / FAILED without reaching their own Catch.
 * Executions run the synthesized state machine (aws-local-stepfunctions) against the Flink emulator over loopback and
 * the state store on dynalite; the execution is stopped from outside at a chosen state (as StopExecution does), then
 * the status-change event goes through the synthesized EventBridge rule (pattern + InputTransformer) to the real step
 * handler. Every scenario asserts the job's final state, the savepoint used, the lock, and the notification.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobConfigInput } from '../../functions/core/config';
import { startEmulator, SimulatedCapacityTarget, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { IN_FLIGHT_GRACE_SECONDS } from '../../functions/workflow/watchdog';
import { WorkflowHarness, type StateWrapper } from '../support/workflow-harness';
import { abortAt } from '../support/workflow-world';

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

let jobCounter = 0;
/** One job name per test: the state store (dynalite) is shared by the file's tests. */
async function setup(name = `orders-${++jobCounter}`) {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2, scheduler: 'default' });
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
  const flinkJob = emu.model.startJob({ name, parallelism: 4, inputRate: 1000 });
  await h.elapse(40_000);
  return { h, sim, job: flinkJob, emu: emu!, name };
}

/**
 * Stops the execution when it is about to run `state`, as StopExecution does, while that state's Lambda invocation
 * is already under way: StopExecution does not stop it, so it still acts, `delayMs` later.
 */
const abortLeavingInFlight =
  (h: WorkflowHarness, state: string, delayMs: number): StateWrapper =>
  (name, invoke, event, abort) => {
    if (name !== state) return invoke(event);
    abort();
    void h.world.track(async () => {
      await h.world.sleep(delayMs);
      await invoke(event).catch(() => undefined);
    });
    return new Promise(() => {});
  };

const parallelismOf = async (h: WorkflowHarness, jobId: string) => (await h.flink.job(jobId)).vertices.map((v) => v.parallelism);

test('aborted before the cancel: the job is untouched, the capacity added for it given back, the lock released, one notification', async () => {
  const { h, sim, job, emu, name } = await setup();
  const input = { job: name, parallelism: 8, reason: 'lag', startedBy: 'scaler' };
  const r = await h.run(input, 'abort-early', abortAt('PollSavepoint'));
  expect(r.status).toBe('ABORTED');
  expect(r.states).not.toContain('Abort');
  expect(sim.desiredCount).toBe(4); // EnsureCapacity ran
  expect((await h.deps.store.getLock(name))?.owner).toBe(h.executionArn('abort-early')); // nothing released it
  expect(notifications()).toHaveLength(0);

  // Delivered at once: a step invocation may still be running, so the watchdog first waits out the in-flight grace.
  const stoppedAt = h.world.now();
  const d = await h.deliver(h.statusChangeEvent('abort-early', 'ABORTED', input));
  expect(d.error).toBeUndefined();
  expect(d.result.at - stoppedAt).toBeGreaterThanOrEqual(IN_FLIGHT_GRACE_SECONDS * 1000);
  expect(d.result).toMatchObject({ action: 'recovered', outcome: 'failed-untouched', job: name });
  // The original job keeps running at its old parallelism; nothing was cancelled or submitted.
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  expect(await parallelismOf(h, job.id)).toEqual([4, 4, 4]);
  expect((await h.flink.jobs()).filter((j) => j.state === 'RUNNING')).toHaveLength(1);
  expect(emu.model.savepoints.size).toBeLessThanOrEqual(1);
  expect(sim.desiredCount).toBe(2); // the idle members added for this rescale were released
  expect(await h.deps.store.getLock(name)).toBeUndefined();
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].Subject).toMatch(new RegExp(`rescale of ${name} ended ABORTED; job untouched at parallelism 4`));
  expect(n[0].Message).toMatch(/ended ABORTED without running its own recovery; the watchdog/);
  expect(n[0].Message).toMatch(/Phases: +.*total (?!0\.0 s)\d+\.\d s/); // from the start of the rescale to the watchdog's record
  expect(n[0].MessageAttributes?.outcome.StringValue).toBe('failed-untouched');
  const [hist] = await h.deps.store.history(name, 'rescale');
  expect(hist.detail).toMatchObject({ outcome: 'failed-untouched', before: { parallelism: 4 }, after: { parallelism: 4, jobId: job.id } });
  expect(await h.deps.store.getLastRescaleAt(name)).toBeUndefined();
});

test('aborted after the cancel: the job is resubmitted from the same savepoint at the old parallelism; duplicate deliveries act once', async () => {
  const { h, job, emu, name } = await setup();
  const input = { job: name, parallelism: 2 };
  const r = await h.run(input, 'abort-late', abortAt('Resubmit'));
  expect(r.status).toBe('ABORTED');
  expect((await h.flink.job(job.id)).state).toBe('CANCELED'); // the job is down: only its savepoint is left
  const sp = (await h.deps.store.getLock(name))!.progress.savepointPath as string;
  expect(sp).toMatch(new RegExp(`^s3://state/savepoints/${name}/`));

  const event = h.statusChangeEvent('abort-late', 'ABORTED', input);
  await h.elapse(IN_FLIGHT_GRACE_SECONDS * 1000);
  const first = await h.deliver(event);
  expect(first.result).toMatchObject({ action: 'recovered', outcome: 'failed-rolled-back', savepointPath: sp });
  const live = (await h.flink.jobs()).filter((j) => j.state === 'RUNNING');
  expect(live).toHaveLength(1);
  expect(live[0].id).not.toBe(job.id);
  expect(await parallelismOf(h, live[0].id)).toEqual([4, 4, 4]); // old parallelism, not the requested 2
  expect((await h.flink.checkpoints(live[0].id)).restored).toMatchObject({ externalPath: sp, isSavepoint: true });
  expect(emu.model.savepoints.size).toBe(1);
  expect(await h.deps.store.getLock(name)).toBeUndefined();

  // EventBridge delivers at least once: the same event again changes nothing and sends nothing.
  const again = await h.deliver(event);
  expect(again.result).toMatchObject({ action: 'ignored' });
  expect((await h.flink.jobs()).filter((j) => j.state === 'RUNNING').map((j) => j.id)).toEqual([live[0].id]);
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].Subject).toMatch(new RegExp(`rescale of ${name} ended ABORTED; rolled back to parallelism 4`));
  expect(n[0].Message).toContain(`restored from savepoint ${sp} at its old parallelism 4`);
  expect(await h.deps.store.history(name, 'rescale')).toHaveLength(1);
});

test('two deliveries at once: one recovers, the other waits for it and then finds nothing to do', async () => {
  const { h, job, name } = await setup();
  const input = { job: name, parallelism: 8 };
  await h.run(input, 'abort-twice', abortAt('CheckRunning'));
  const event = h.statusChangeEvent('abort-twice', 'TIMED_OUT', input);
  await h.elapse(IN_FLIGHT_GRACE_SECONDS * 1000);
  const [a, b] = await Promise.all([h.deliver(event), h.deliver(event)]);
  const results = [a, b];
  expect(results.filter((x) => x.result?.action === 'recovered')).toHaveLength(1);
  const other = results.find((x) => x.result?.action !== 'recovered')!;
  expect(other.error).toBeUndefined(); // it waited in place rather than using up one of Lambda's retries
  expect(other.result).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/another delivery handled it/) });
  expect((await h.deliver(event)).result).toMatchObject({ action: 'ignored' });
  // By the end of the in-flight grace the resubmitted job runs at the new parallelism and has checkpointed: kept.
  const live = (await h.flink.jobs()).filter((j) => j.state === 'RUNNING');
  expect(live).toHaveLength(1);
  expect(live[0].id).not.toBe(job.id);
  expect(await parallelismOf(h, live[0].id)).toEqual([8, 8, 8]);
  expect(notifications()).toHaveLength(1);
  expect(notifications()[0].Subject).toMatch(new RegExp(`${name} rescaled 4 -> 8; the execution ended TIMED_OUT before it finished`));
  expect(await h.deps.store.getLock(name)).toBeUndefined();
});

test('not ours: another state machine, a status that needs nothing, an execution that no longer holds the lock, and a bad event', async () => {
  const { h, job, name } = await setup();
  const input = { job: name, parallelism: 8 };
  await h.run(input, 'holder', abortAt('PollSavepoint'));
  const lockBefore = await h.deps.store.getLock(name);

  // The rule does not even match another state machine's event; delivered anyway, the step ignores it.
  const foreign = h.statusChangeEvent('holder', 'ABORTED', input, {
    stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:someone-else',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:someone-else:holder',
  });
  expect(await h.deliver(foreign)).toEqual({ matched: false });
  expect(await h.handler({ step: 'watchdog', state: foreign.detail, execution: { id: foreign.detail.executionArn, name: 'holder' } })).toMatchObject({
    action: 'ignored',
    reason: expect.stringMatching(/another state machine/),
  });
  expect(await h.deliver(h.statusChangeEvent('holder', 'SUCCEEDED', input))).toEqual({ matched: false });

  // A later execution that failed on the lock (LockHeld) ends FAILED through its own path: it holds no lock.
  const busy = await h.run(input, 'second');
  expect(busy.status).toBe('FAILED');
  const snsBefore = notifications().length;
  expect((await h.deliver(h.statusChangeEvent('second', 'FAILED', input, { error: 'RescaleFailed' }))).result).toMatchObject({ action: 'ignored' });
  expect(notifications()).toHaveLength(snsBefore);
  expect(await h.deps.store.getLock(name)).toEqual(lockBefore);
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');

  // A malformed event is rejected naming the field; nothing changes.
  const bad = await h.deliver(h.statusChangeEvent('holder', 'ABORTED', input, { executionArn: 'not-an-arn' }));
  expect(bad.error).toMatchObject({ name: 'InvalidInput', message: expect.stringMatching(/detail\.executionArn: must be a Step Functions execution ARN/) });
  expect(await h.deps.store.getLock(name)).toEqual(lockBefore);
});

test('a FAILED execution that ran its own recovery and notification is not handled twice (even if its Unlock failed)', async () => {
  const { h, job, emu, name } = await setup();
  emu.model.faults.failNextSavepoints(1);
  const input = { job: name, parallelism: 8 };
  // UnlockAfterFailure fails: the lock stays behind although Abort, RecordFailure and NotifyFailure ran.
  const r = await h.run(input, 'own-path', (state, invoke, event) => (state === 'UnlockAfterFailure' ? Promise.reject(new Error('DynamoDB unavailable')) : invoke(event)));
  expect(r.status).toBe('FAILED');
  expect(r.error?.name).toBe('RescaleFailed');
  expect(notifications()).toHaveLength(1);
  expect((await h.deps.store.getLock(name))?.owner).toBe(h.executionArn('own-path'));

  const d = await h.deliver(h.statusChangeEvent('own-path', 'FAILED', input, { error: 'RescaleFailed', cause: 'The rescale did not complete' }));
  expect(d.result).toMatchObject({ action: 'released' });
  expect(await h.deps.store.getLock(name)).toBeUndefined();
  expect(notifications()).toHaveLength(1);
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
});

test('cannot restore the job (resubmission keeps failing): ACTION REQUIRED names the savepoint; the lock is kept until it expires', async () => {
  const { h, job, emu, name } = await setup();
  const input = { job: name, parallelism: 8 };
  await h.run(input, 'stuck', abortAt('Resubmit'));
  emu.model.faults.failNextRuns(1000);
  const sp = (await h.deps.store.getLock(name))!.progress.savepointPath as string;
  const event = h.statusChangeEvent('stuck', 'ABORTED', input);
  await h.elapse(IN_FLIGHT_GRACE_SECONDS * 1000);
  const d = await h.deliver(event);
  expect(d.result).toMatchObject({ action: 'action-required', outcome: 'failed-rollback-failed', savepointPath: sp });
  expect((await h.flink.job(job.id)).state).toBe('CANCELED');
  const lock = await h.deps.store.getLock(name);
  expect(lock?.owner).toBe(h.executionArn('stuck'));
  expect(lock?.progress.watchdog).toMatch(/failed-rollback-failed/);
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].Subject).toMatch(new RegExp(`^flink-elastic: ACTION REQUIRED: ${name} is not running; restore it from savepoint`));
  expect(n[0].Message).toContain(`Restore the job from savepoint ${sp} at parallelism 4`);
  expect(n[0].Message).toContain(`lock is kept until ${new Date(lock!.expiresAtMs).toISOString()}`);
  expect(n[0].MessageAttributes?.actionRequired.StringValue).toBe('true');
  // Delivered again: nothing more is tried or sent.
  expect((await h.deliver(event)).result).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/already handled/) });
  expect(notifications()).toHaveLength(1);
});

test('a step still running after the stop (in flight): the watchdog waits it out, then acts on what it did; one job runs', async () => {
  const { h, job, name } = await setup();
  const input = { job: name, parallelism: 8 };
  // The Resubmit invocation under way when the execution is stopped submits the new job 20 s later.
  const r = await h.run(input, 'in-flight', abortLeavingInFlight(h, 'Resubmit', 20_000));
  expect(r.status).toBe('ABORTED');
  expect((await h.flink.job(job.id)).state).toBe('CANCELED');
  const event = h.statusChangeEvent('in-flight', 'ABORTED', input);

  // Delivered at once, before the in-flight Resubmit has acted: the watchdog waits out the grace first; by then the
  // in-flight step has submitted the job at the new parallelism, and it has checkpointed.
  const d = await h.deliver(event);
  expect(d.error).toBeUndefined();
  const running = (await h.flink.jobs()).filter((j) => j.state === 'RUNNING');
  expect(running).toHaveLength(1); // not the in-flight job *and* a rollback job
  expect(running[0].id).not.toBe(job.id);
  expect(await parallelismOf(h, running[0].id)).toEqual([8, 8, 8]);
  expect(d.result).toMatchObject({ action: 'recovered', outcome: 'rescaled-cleanup-failed', job: name });
  expect(await h.deps.store.getLock(name)).toBeUndefined();
  expect(notifications()).toHaveLength(1);
  expect(notifications()[0].Subject).toMatch(new RegExp(`${name} rescaled 4 -> 8; the execution ended ABORTED before it finished`));
});

test('a rescale that completed but could not release its lock ends FAILED (UnlockFailed), not SUCCEEDED; the watchdog releases the lock', async () => {
  const { h, name } = await setup();
  const input = { job: name, parallelism: 6 };
  const r = await h.run(input, 'unlock-fails', (state, invoke, event) => (state === 'Unlock' ? Promise.reject(new Error('DynamoDB unavailable')) : invoke(event)));
  expect(r.status).toBe('FAILED');
  expect(r.error?.name).toBe('UnlockFailed');
  expect(r.states.slice(-3)).toEqual(['Notify', 'LockReleased', 'UnlockFailed']);
  const live = (await h.flink.findJobByName(name))!;
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect(notifications()).toHaveLength(1);
  expect(notifications()[0].Subject).toMatch(new RegExp(`${name} rescaled 4 -> 6`));
  expect((await h.deps.store.getLock(name))?.owner).toBe(h.executionArn('unlock-fails')); // left behind

  const d = await h.deliver(h.statusChangeEvent('unlock-fails', 'FAILED', input, { error: 'UnlockFailed', cause: 'releasing the lock failed' }));
  expect(d.result).toMatchObject({ action: 'released', reason: expect.stringMatching(/the rescale completed and was notified/) });
  expect(await h.deps.store.getLock(name)).toBeUndefined();
  expect(notifications()).toHaveLength(1);
});

test('stopped while its Lock step was still running: the lock taken after the stop is found and released', async () => {
  const { h, job, name } = await setup();
  const input = { job: name, parallelism: 8 };
  // A cold start: the lock is written 15 s after the execution was stopped.
  const r = await h.run(input, 'lock-in-flight', abortLeavingInFlight(h, 'Lock', 15_000));
  expect(r.status).toBe('ABORTED');
  expect(await h.deps.store.getLock(name)).toBeUndefined(); // not yet
  const d = await h.deliver(h.statusChangeEvent('lock-in-flight', 'ABORTED', input, { stopDate: null }));
  expect(d.error).toBeUndefined();
  expect(d.result).toMatchObject({ action: 'recovered', outcome: 'failed-untouched', job: name });
  expect(await h.deps.store.getLock(name)).toBeUndefined(); // not left behind to block every later rescale
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  expect(notifications()).toHaveLength(1);
});

test('the ACTION REQUIRED notification survives an SNS failure: the retry of the delivery sends it, then marks the lock', async () => {
  const { h, emu, name } = await setup();
  const input = { job: name, parallelism: 8 };
  await h.run(input, 'stuck-sns', abortAt('Resubmit'));
  emu.model.faults.failNextRuns(1000);
  snsMock.reset();
  snsMock
    .on(PublishCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
    .resolves({ MessageId: 'msg-2' });
  const d = await h.deliverAsync(h.statusChangeEvent('stuck-sns', 'ABORTED', input));
  expect(d.errors.map((e) => e.name)).toEqual(['Transient']); // the SDK's throttling error, as the step handler reports it
  expect(d.attempts).toBe(2);
  expect(d.result).toMatchObject({ action: 'action-required', outcome: 'failed-rollback-failed' });
  const n = notifications();
  expect(n).toHaveLength(2); // the throttled publish and the one that went out
  expect(n[1].Subject).toMatch(new RegExp(`ACTION REQUIRED: ${name} is not running`));
  expect((await h.deps.store.getLock(name))?.progress.watchdog).toMatch(/failed-rollback-failed/);
});

test('aborted while a stop-with-savepoint is pending: deliveries come back (Lambda retries) until Flink has stopped the job, which is then restored from that savepoint', async () => {
  const { h, job, emu, name } = await setup();
  emu.model.timings.savepointBaseMs = 400_000;
  const input = { job: name, parallelism: 8, stopWithSavepoint: true };
  const r = await h.run(input, 'abort-stop', abortAt('PollSavepoint'));
  expect(r.status).toBe('ABORTED');
  const d = await h.deliverAsync(h.statusChangeEvent('abort-stop', 'ABORTED', input));
  expect(d.errors.map((e) => e.message)).toEqual(d.errors.map(() => expect.stringMatching(/still in progress; .*Lambda retries it/)));
  expect(d.errors.length).toBeGreaterThanOrEqual(1);
  expect(d.result).toMatchObject({ action: 'recovered', outcome: 'failed-rolled-back' });
  expect((await h.flink.job(job.id)).state).toBe('FINISHED');
  const sp = [...emu.model.savepoints.keys()][0];
  const live = (await h.flink.jobs()).filter((j) => j.state === 'RUNNING');
  expect(live).toHaveLength(1);
  expect(await parallelismOf(h, live[0].id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live[0].id)).restored).toMatchObject({ externalPath: sp, isSavepoint: true });
  expect(await h.deps.store.getLock(name)).toBeUndefined();
  expect(notifications()).toHaveLength(1);
  expect(notifications()[0].Message).toContain(sp);
});

test('Flink unreachable through every delivery: ACTION REQUIRED says the job may still run and to check before restoring; the lock is kept', async () => {
  const { h, job, emu, name } = await setup();
  const input = { job: name, parallelism: 8 };
  await h.run(input, 'flink-down', abortAt('Cancel')); // savepoint recorded, job untouched
  await emu.server.close(); // connection refused on every call from now on
  const d = await h.deliverAsync(h.statusChangeEvent('flink-down', 'ABORTED', input));
  expect(d.attempts).toBe(3); // the first two do not conclude while Lambda has retries left
  expect(d.errors.map((e) => e.message)).toEqual([expect.stringMatching(/delivery 1 of 3/), expect.stringMatching(/delivery 2 of 3/)]);
  expect(d.result).toMatchObject({ action: 'action-required', outcome: 'failed-recovery-incomplete' });
  expect(emu.model.jobs.find((j) => j.id === job.id)?.state).toBe('RUNNING'); // it was never down
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].Subject).toMatch(new RegExp(`ACTION REQUIRED: ${name}: recovery incomplete; check the job`));
  expect(n[0].Message).toContain('If one of them is RUNNING, nothing is lost: leave it.');
  expect((await h.deps.store.getLock(name))?.progress).toMatchObject({ watchdog: expect.stringMatching(/failed-recovery-incomplete/), watchdogAttempts: 3 });
});
