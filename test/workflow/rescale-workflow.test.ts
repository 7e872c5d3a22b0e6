/**
 * The synthesized rescale state machine, run by aws-local-stepfunctions, with the real step handlers against the
 * Flink emulator over loopback, a simulated capacity target, the state store on dynalite, and SNS mocked.
 * Every scenario asserts the job's final state, the savepoint used, that the lock is released, and the notification.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobConfigInput } from '../../functions/core/config';
import type { EmulatorServer, Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import type { WorkflowHarness, RunResult } from '../support/workflow-harness';
import { deliveredTwice, jobManagerDown, startWorld, type WorldOptions } from '../support/workflow-world';

const snsMock = mockClient(SNSClient);
let dynamo: LocalDynamo;
let emu: Emulator | undefined;
const extraServers: EmulatorServer[] = [];

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
  for (const s of extraServers.splice(0)) await s.close();
  emu = undefined;
});

const notifications = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);

type SetupOptions = Omit<WorldOptions, 'dynamo' | 'sns' | 'onEmulator'>;

async function setup(o: SetupOptions) {
  return startWorld({ ...o, dynamo, sns: new SNSClient({}), onEmulator: (e) => (emu = e) });
}

async function parallelismOf(h: WorkflowHarness, jobId: string): Promise<number[]> {
  return (await h.flink.job(jobId)).vertices.map((v) => v.parallelism);
}

async function expectUnlocked(h: WorkflowHarness, job: string) {
  expect(await h.deps.store.getLock(job)).toBeUndefined();
}

function expectOneNotification(match: { subject: RegExp; body?: RegExp[]; outcome: string }) {
  const n = notifications();
  expect(n).toHaveLength(1);
  expect(n[0].Subject).toMatch(match.subject);
  expect(n[0].Subject!.length).toBeLessThan(100);
  for (const b of match.body ?? []) expect(n[0].Message).toMatch(b);
  expect(n[0].MessageAttributes?.outcome.StringValue).toBe(match.outcome);
  return n[0];
}

const savepointOf = (r: RunResult): string | undefined => (r.output ?? r.finalState)?.savepointStatus?.location;

test('scale-out (savepoint mode): capacity first, wait for the new slots, savepoint, cancel, resubmit at the new parallelism', async () => {
  const { h, sim, job, emu } = await setup({ taskManagers: 2, parallelism: 4 });
  const r = await h.run({ job: 'orders', parallelism: 8, reason: 'lag 42 s > 10 s', startedBy: 'scaler' }, 'scale-out');
  expect(r.status).toBe('SUCCEEDED');
  // Capacity came first and the workflow waited for the TaskManagers to register before touching the job.
  expect(r.states.indexOf('EnsureCapacity')).toBeLessThan(r.states.indexOf('Savepoint'));
  expect(r.states).toContain('WaitForSlots');
  expect(sim.desiredCount).toBe(4);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([8, 8, 8]);
  expect((await h.flink.job(job.id)).state).toBe('CANCELED');
  // The new job restored from exactly the savepoint this execution took (and only one was taken).
  const sp = savepointOf(r)!;
  expect(emu.model.savepoints.size).toBe(1);
  expect((await h.flink.checkpoints(live.id)).restored).toMatchObject({ externalPath: sp, isSavepoint: true });
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 4 -> 8 \(savepoint\)/, body: [new RegExp(`Savepoint: +${sp}`), /Started by: scaler/, /Reason: +lag 42 s/], outcome: 'succeeded' });
  const [hist] = await h.deps.store.history('orders', 'rescale');
  expect(hist.detail).toMatchObject({ outcome: 'succeeded', before: { parallelism: 4, taskManagers: 2 }, after: { parallelism: 8, taskManagers: 4 }, savepointPath: sp, startedBy: 'scaler' });
  expect(Object.keys(hist.detail.phases as object)).toEqual(expect.arrayContaining(['capacityMs', 'savepointMs', 'restartMs', 'totalMs']));
  expect(hist.detail.restartSeconds).toBe((hist.detail.phases as { restartMs: number }).restartMs / 1000); // read by the scaler's policy
  expect(await h.deps.store.getLastRescaleAt('orders')).toBe(r.finishedAt);
  // the dashboard's rescale-duration widget gets one datapoint: the whole rescale, in seconds
  expect(h.metrics).toEqual([{ job: 'orders', name: 'RescaleDurationSeconds', value: (hist.detail.phases as { totalMs: number }).totalMs / 1000, unit: 'Seconds' }]);
});

test('scale-in with drain: parallelism first, then exactly the surplus TaskManagers that hold no slots are released', async () => {
  const { h, sim, job, emu } = await setup({ taskManagers: 4, parallelism: 8 });
  const tmsBefore = await h.flink.taskManagers();
  const r = await h.run({ job: 'orders', parallelism: 4 }, 'scale-in');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.states.indexOf('CheckRunning')).toBeLessThan(r.states.indexOf('CheckDrained'));
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect(sim.desiredCount).toBe(2);
  // The released members were idle; every TaskManager the job uses is still there.
  const released: string[] = r.output.release.released;
  expect(released).toHaveLength(2);
  const tmsAfter = await h.flink.taskManagers();
  expect(tmsAfter).toHaveLength(2);
  expect(tmsAfter.every((t) => t.freeSlots === 0)).toBe(true);
  expect(tmsBefore.length - tmsAfter.length).toBe(2);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  expect(emu.model.savepoints.size).toBe(1);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 8 -> 4/, body: [/Released: +i-/], outcome: 'succeeded' });
});

test('adaptive mode: in place via resource requirements, same job, no savepoint', async () => {
  const { h, sim, job, emu } = await setup({ mode: 'adaptive', name: 'clicks', taskManagers: 2, parallelism: 2 });
  const r = await h.run({ job: 'clicks', parallelism: 4 }, 'adaptive');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.states).toContain('PutRequirements');
  expect(r.states).not.toContain('Savepoint');
  expect((await h.flink.findJobByName('clicks'))!.id).toBe(job.id);
  expect(await parallelismOf(h, job.id)).toEqual([4, 4, 4]);
  const req = await h.flink.getResourceRequirements(job.id);
  expect(Object.values(req).map((v) => v.parallelism)).toEqual([{ lowerBound: 4, upperBound: 4 }, { lowerBound: 4, upperBound: 4 }, { lowerBound: 4, upperBound: 4 }]);
  expect(emu.model.savepoints.size).toBe(0);
  expect(sim.desiredCount).toBe(2);
  await expectUnlocked(h, 'clicks');
  expectOneNotification({ subject: /clicks rescaled 2 -> 4 \(adaptive\)/, outcome: 'succeeded' });
});

test('reactive mode: capacity only; the job takes the new slots by itself', async () => {
  const { h, sim, job, emu } = await setup({ mode: 'reactive', name: 'billing', taskManagers: 2 });
  expect(await parallelismOf(h, job.id)).toEqual([4, 4, 4]);
  const r = await h.run({ job: 'billing', parallelism: 8 }, 'reactive');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.states).toEqual(expect.arrayContaining(['EnsureCapacity', 'CheckSlots', 'CheckParallelism']));
  expect(r.states).not.toContain('PutRequirements');
  expect(sim.desiredCount).toBe(4);
  expect((await h.flink.findJobByName('billing'))!.id).toBe(job.id);
  expect(await parallelismOf(h, job.id)).toEqual([8, 8, 8]);
  expect(emu.model.savepoints.size).toBe(0);
  await expectUnlocked(h, 'billing');
  expectOneNotification({ subject: /billing rescaled 4 -> 8 \(reactive\)/, outcome: 'succeeded' });
});

test('manual execution: {"job","parallelism"} is enough; bad input is rejected naming the field and range; dry run changes nothing', async () => {
  const { h, job, emu } = await setup({ taskManagers: 2, parallelism: 2 });
  const bad = await h.run({ job: 'orders', parallelism: 40 }, 'manual-bad');
  expect(bad.status).toBe('FAILED');
  let n = expectOneNotification({ subject: /rescale of orders rejected: InvalidInput/, body: [/parallelism: must give a parallelism from 1 to 16/, /got 40/], outcome: 'rejected' });
  expect(bad.states).not.toContain('Lock');
  snsMock.resetHistory();

  const unknown = await h.run({ job: 'orders', parallelism: 3, colour: 'blue' }, 'manual-unknown-field');
  expect(unknown.status).toBe('FAILED');
  expectOneNotification({ subject: /rejected/, body: [/unknown field\(s\) "colour"; allowed: job, parallelism, change/], outcome: 'rejected' });
  snsMock.resetHistory();

  const dry = await h.run({ job: 'orders', change: 'x2', dryRun: true }, 'manual-dry');
  expect(dry.status).toBe('SUCCEEDED');
  expectOneNotification({ subject: /orders dry run: would rescale 2 -> 4/, body: [/nothing was changed/], outcome: 'dry-run' });
  expect((await h.deps.store.history('orders', 'decision'))[0].detail).toMatchObject({ outcome: 'dry-run' });
  expect(emu.model.savepoints.size).toBe(0);
  snsMock.resetHistory();

  const r = await h.run({ job: 'orders', parallelism: 4 }, 'manual');
  expect(r.status).toBe('SUCCEEDED');
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  await expectUnlocked(h, 'orders');
  n = expectOneNotification({ subject: /orders rescaled 2 -> 4/, body: [/Started by: manual/, /Reason: +manual execution/], outcome: 'succeeded' });
  expect(n.Message).toContain('Execution:  arn:aws:states:us-east-1:123456789012:execution:WorkflowTest-rescale:manual');
});

test('savepoint fails: the job is untouched, the capacity added for it is given back, the lock released', async () => {
  const { h, sim, job, emu } = await setup({ taskManagers: 2, parallelism: 4 });
  emu.model.faults.failNextSavepoints(1);
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'savepoint-fails');
  expect(r.status).toBe('FAILED');
  expect(r.states).toContain('Abort');
  expect(r.states).not.toContain('Cancel');
  expect((await h.flink.findJobByName('orders'))!.id).toBe(job.id);
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  expect(await parallelismOf(h, job.id)).toEqual([4, 4, 4]);
  expect(emu.model.savepoints.size).toBe(0);
  expect(sim.desiredCount).toBe(2); // the two members launched for the rescale were idle and released
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /rescale of orders failed; job untouched at parallelism 4/, body: [/SavepointFailed/, /injected fault/, /Nothing is at risk/], outcome: 'failed-untouched' });
});

test('cancel fails: after retries the job is found still running at its old parallelism and left as it is', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.faults.failNextCancels(1000);
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'cancel-fails');
  expect(r.status).toBe('FAILED');
  expect(r.retries).toBeGreaterThanOrEqual(5); // Transient (HTTP 500) retried with backoff before giving up
  expect(r.states).toContain('Rollback');
  expect((await h.flink.findJobByName('orders'))!.id).toBe(job.id);
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  expect(await parallelismOf(h, job.id)).toEqual([4, 4, 4]);
  expect(emu.model.jobs).toHaveLength(1); // nothing was resubmitted
  await expectUnlocked(h, 'orders');
  expect(savepointOf(r)).toMatch(/^s3:\/\/state\/savepoints\/orders\//); // taken, but never needed
  expectOneNotification({ subject: /failed; job untouched at parallelism 4/, body: [/Job cancellation failed/, new RegExp(`Savepoint: +${savepointOf(r)}`)], outcome: 'failed-untouched' });
});

test('resubmit fails: rollback restores the old parallelism from the same savepoint', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.faults.failNextRuns(1);
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'resubmit-fails');
  expect(r.status).toBe('FAILED');
  expect(r.states).toEqual(expect.arrayContaining(['Cancel', 'Resubmit', 'Rollback']));
  const sp = savepointOf(r)!;
  expect(r.finalState.recovery).toMatchObject({ outcome: 'rolled-back', savepointPath: sp, parallelism: 4 });
  const hist = (await h.deps.store.history('orders', 'rescale')).find((e) => e.id === 'resubmit-fails')!;
  expect(hist.detail).toMatchObject({ outcome: 'failed-rolled-back', savepointPath: sp, after: { parallelism: 4 } });
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect((await h.flink.job(job.id)).state).toBe('CANCELED');
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored).toMatchObject({ externalPath: sp, isSavepoint: true });
  expect(emu.model.savepoints.size).toBe(1);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /failed; rolled back to parallelism 4/, body: [new RegExp(`restored from savepoint ${sp}`), /Could not execute application/], outcome: 'failed-rolled-back' });
});

test('resubmit and rollback both fail: ACTION REQUIRED names the savepoint path that restores the job', async () => {
  const { h, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.faults.failNextRuns(1000);
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'rollback-fails');
  expect(r.status).toBe('FAILED');
  expect(await h.flink.findJobByName('orders')).toBeUndefined();
  const sp = [...emu.model.savepoints.keys()][0];
  expect(sp).toMatch(/^s3:\/\/state\/savepoints\/orders\//);
  await expectUnlocked(h, 'orders');
  const n = expectOneNotification({ subject: /ACTION REQUIRED: orders is not running; restore it from savepoint/, outcome: 'failed-rollback-failed' });
  expect(n.Message).toContain(`Restore the job from savepoint ${sp} at parallelism 4`);
  expect(n.MessageAttributes?.actionRequired.StringValue).toBe('true');
});

test('JobManager unreachable mid-way (after the cancel): retries ride it out and the rescale completes', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  const down = jobManagerDown(emu, 'Resubmit');
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'jm-unreachable', down.wrap);
  extraServers.push(...down.servers);
  expect(r.status).toBe('SUCCEEDED');
  expect(r.retries).toBeGreaterThanOrEqual(2);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  expect(emu.model.jobs.filter((j) => j.state === 'RUNNING')).toHaveLength(1); // submitted once despite the retries
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 4 -> 6/, outcome: 'succeeded' });
});

test('JobManager restarted after the cancel (no HA: it forgot the cancelled job): Resubmit goes on from the recorded savepoint', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'jm-forgot-jobs', async (state, invoke, event) => {
    // what a restarted session cluster without HA answers: the cancelled job is unknown (404), not CANCELED
    if (state === 'Resubmit') emu.model.jobs.splice(0, emu.model.jobs.length, ...emu.model.jobs.filter((j) => j.id !== job.id));
    return invoke(event);
  });
  expect(r.status).toBe('SUCCEEDED');
  const live = (await h.flink.findJobByName('orders'))!;
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  expectOneNotification({ subject: /orders rescaled 4 -> 6/, outcome: 'succeeded' });
});

test('drain timeout: surplus TaskManagers still hold slots, so they are kept and the notification says so', async () => {
  const { h, sim, emu } = await setup({ taskManagers: 4, parallelism: 8, slotAllocation: 'spread' });
  const r = await h.run({ job: 'orders', parallelism: 4 }, 'drain-timeout');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.output.drain).toMatchObject({ timedOut: true, surplus: 2 });
  expect(r.output.drain.at - r.output.drain.since).toBeGreaterThanOrEqual(120_000);
  expect(r.output.drain.at - r.output.drain.since).toBeLessThan(180_000);
  const live = (await h.flink.findJobByName('orders'))!;
  expect((await h.flink.job(live.id)).state).toBe('RUNNING');
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  expect(sim.desiredCount).toBe(4); // nothing busy was removed
  expect((await h.flink.taskManagers()).every((t) => t.freeSlots! < t.slotsNumber!)).toBe(true);
  expect(emu.model.savepoints.size).toBe(1);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 8 -> 4; 2 TaskManager\(s\) kept \(drain timeout\)/, body: [/drain timeout \(120 s\)/, /raise drainTimeoutSeconds/], outcome: 'succeeded-drain-timeout' });
});

test('two executions for one job at once: one rescales, the other fails fast naming the holder and changes nothing', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  const [a, b] = await h.drive(h.start({ job: 'orders', parallelism: 6 }, 'first'), h.start({ job: 'orders', parallelism: 8 }, 'second'));
  const results = [a, b];
  const winner = results.find((x) => x.status === 'SUCCEEDED')!;
  const loser = results.find((x) => x.status === 'FAILED')!;
  expect(winner).toBeDefined();
  expect(loser).toBeDefined();
  expect(loser.states).not.toContain('Savepoint');
  expect(loser.finishedAt - loser.startedAt).toBeLessThan(5_000); // fails fast
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  const p = winner === a ? 6 : 8;
  expect(await parallelismOf(h, live.id)).toEqual([p, p, p]);
  expect(emu.model.savepoints.size).toBe(1);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(winner));
  await expectUnlocked(h, 'orders');
  const n = notifications();
  expect(n).toHaveLength(2);
  const busy = n.find((x) => x.MessageAttributes?.outcome.StringValue === 'busy')!;
  expect(busy.Subject).toMatch(/rescale of orders skipped: another rescale is running/);
  expect(busy.Message).toContain(`locked by arn:aws:states:us-east-1:123456789012:execution:WorkflowTest-rescale:${winner === a ? 'first' : 'second'}`);
});

test('a task delivered twice acts once: one savepoint, one submission, one release, one history record, one notification', async () => {
  const { h, sim, job, emu } = await setup({ taskManagers: 4, parallelism: 8 });
  const twice = new Set(['Lock', 'Savepoint', 'PollSavepoint', 'Cancel', 'Resubmit', 'CheckRunning', 'CheckDrained', 'ReleaseIdle', 'Record', 'Unlock', 'Notify']);
  const r = await h.run({ job: 'orders', parallelism: 4 }, 'twice', deliveredTwice(twice));
  expect(r.status).toBe('SUCCEEDED');
  expect(emu.model.savepoints.size).toBe(1);
  expect(emu.model.jobs).toHaveLength(2); // the original and exactly one resubmission
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  expect(sim.desiredCount).toBe(2);
  expect((await h.deps.store.history('orders', 'rescale')).filter((e) => e.id === 'twice')).toHaveLength(1);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 8 -> 4/, outcome: 'succeeded' });
});

test('Flink 1.14 (the cluster picks savepoint trigger ids): a Savepoint task delivered twice still takes one savepoint', async () => {
  const { h, job, emu } = await setup({ version: '1.14', taskManagers: 4, parallelism: 4 });
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'flink-114', async (state, invoke, event) => {
    if (state !== 'Savepoint') return invoke(event);
    await invoke(event);
    return invoke(event);
  });
  expect(r.status).toBe('SUCCEEDED');
  expect(emu.model.savepoints.size).toBe(1);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 4 -> 6 \(savepoint\)/, body: [/Flink 1\.14/], outcome: 'succeeded' });
});

test('a cancel that outlasts every retry: recovery waits for the job to stop, then restores it from the savepoint', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.timings.cancelMs = 200_000; // CANCELLING for longer than Cancel's inline polls and retries (~180 s)
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'slow-cancel');
  expect(r.status).toBe('FAILED');
  expect(r.retries).toBeGreaterThanOrEqual(5);
  expect(r.finalState.recovery.outcome).toBe('rolled-back');
  expect(r.finalState.recovery.actions[0]).toMatch(/waited for the cancelled Flink job .* to stop \(CANCELED\)/);
  expect((await h.flink.job(job.id)).state).toBe('CANCELED');
  const live = (await h.flink.findJobByName('orders'))!;
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /rolled back to parallelism 4/, outcome: 'failed-rolled-back' });
});

test('stop-with-savepoint option: the job is stopped by Flink with the savepoint (no cancel call) and resubmitted from it', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'stop-with-savepoint');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.output.savepoint.stop).toBe(true);
  expect((await h.flink.job(job.id)).state).toBe('FINISHED');
  expect([...emu.model.operations.values()].map((o) => o.kind)).toEqual(['stop']);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 4 -> 6 \(stop-with-savepoint\)/, outcome: 'succeeded' });
});

test('stop-with-savepoint slower than the savepoint timeout: recovery waits for it and, as Flink then stops the job, restores it from that savepoint', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.timings.savepointBaseMs = 330_000; // PollSavepoint gives up at 300 s (savepoint.timeoutSeconds); Flink finishes at 330 s
  const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'slow-stop');
  expect(r.status).toBe('FAILED');
  expect(r.states).toContain('Abort');
  expect(r.states).not.toContain('Cancel');
  expect(r.finalState.recovery.outcome).toBe('rolled-back');
  expect((await h.flink.job(job.id)).state).toBe('FINISHED'); // Flink stopped it when the savepoint completed
  const savepoints = [...emu.model.savepoints.keys()];
  expect(savepoints).toHaveLength(1);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).not.toBe(job.id);
  expect((await h.flink.job(live.id)).state).toBe('RUNNING');
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored).toMatchObject({ externalPath: savepoints[0], isSavepoint: true });
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /failed; rolled back to parallelism 4/, body: [new RegExp(`restored from savepoint ${savepoints[0]}`)], outcome: 'failed-rolled-back' });
});

test('stop-with-savepoint that fails: the job keeps running untouched, and nothing is resubmitted', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.faults.failNextSavepoints(1);
  const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'stop-fails');
  expect(r.status).toBe('FAILED');
  expect(r.finalState.recovery.outcome).toBe('untouched');
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  expect(emu.model.jobs).toHaveLength(1);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /failed; job untouched at parallelism 4/, outcome: 'failed-untouched' });
});

test('reactive scale-in whose job does not settle: the capacity shrunk for it is given back (also when the shrink was delivered twice)', async () => {
  const { h, sim, job } = await setup({ mode: 'reactive', name: 'billing', taskManagers: 4 });
  expect(await parallelismOf(h, job.id)).toEqual([8, 8, 8]);
  const r = await h.run({ job: 'billing', parallelism: 4 }, 'reactive-in-fails', async (state, invoke, event) => {
    if (state === 'ShrinkCapacity') {
      await invoke(event); // delivered twice: the second call sees its own change, and must not take it for "before"
      return invoke(event);
    }
    if (state !== 'CheckParallelism') return invoke(event);
    throw Object.assign(new Error('resubmitted Flink job ended FAILED (injected)'), { name: 'JobFailed' });
  });
  expect(r.status).toBe('FAILED');
  expect(r.states).toEqual(expect.arrayContaining(['ShrinkCapacity', 'Abort']));
  expect(r.finalState.recovery).toMatchObject({ outcome: 'untouched', actions: [expect.stringMatching(/restored the capacity to 4 member\(s\)/)] });
  expect(sim.desiredCount).toBe(4);
  await h.elapse(120_000); // the TaskManagers come back and the reactive job takes their slots again
  expect(await parallelismOf(h, job.id)).toEqual([8, 8, 8]);
  await expectUnlocked(h, 'billing');
  expectOneNotification({ subject: /failed; job untouched/, outcome: 'failed-untouched' });
});

test('a plan gone stale before the lock (another rescale finished in between): nothing is changed, and the notification says why', async () => {
  const { h, sim, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  let other: string | undefined;
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'stale', async (state, invoke, event) => {
    if (state === 'Lock' && !other) {
      // Between this execution's Validate and its Lock, another rescale replaced the job (now at parallelism 6).
      emu.model.cancel(job.id);
      other = emu.model.startJob({ name: 'orders', parallelism: 6, inputRate: 1000 }).id;
      await h.world.sleep(40_000);
    }
    return invoke(event);
  });
  expect(r.status).toBe('FAILED');
  expect(r.states).not.toContain('EnsureCapacity');
  expect(r.states).not.toContain('Savepoint');
  expect(r.finalState.error.Cause).toMatch(/the job changed since this execution planned its rescale \(Flink job [0-9a-f]+ is CANCELED, not RUNNING\)/);
  const live = (await h.flink.findJobByName('orders'))!;
  expect(live.id).toBe(other);
  expect(await parallelismOf(h, live.id)).toEqual([6, 6, 6]);
  expect(emu.model.savepoints.size).toBe(0);
  expect(sim.desiredCount).toBe(4);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /rescale of orders failed/, body: [/changed since this execution planned/], outcome: 'failed-untouched' });
});

test('SNS throttles the first publish: Notify is retried and the message is sent (a failed publish does not use up the one-message claim)', async () => {
  const { h } = await setup({ taskManagers: 4, parallelism: 4 });
  snsMock.reset();
  snsMock
    .on(PublishCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))
    .resolves({ MessageId: 'msg-2' });
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'sns-throttled');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.retries).toBeGreaterThanOrEqual(1);
  expect(r.output.notify.messageId).toBe('msg-2');
  const calls = notifications();
  expect(calls).toHaveLength(2); // the throttled attempt and the retry
  expect(calls[1].Subject).toMatch(/orders rescaled 4 -> 6/);
});

test('stop-with-savepoint that takes 10 minutes: recovery keeps waiting for it (StopPending, retried 30 s apart) and restores the stopped job', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.timings.savepointBaseMs = 600_000;
  const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'slower-stop');
  expect(r.status).toBe('FAILED');
  expect(r.finalState.recovery.outcome).toBe('rolled-back');
  expect(r.retries).toBeGreaterThanOrEqual(5);
  expect((await h.flink.job(job.id)).state).toBe('FINISHED');
  const live = (await h.flink.findJobByName('orders'))!;
  expect(await parallelismOf(h, live.id)).toEqual([4, 4, 4]);
  expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe([...emu.model.savepoints.keys()][0]);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /failed; rolled back to parallelism 4/, outcome: 'failed-rolled-back' });
});

test('stop-with-savepoint still pending after recovery stops waiting: ACTION REQUIRED says what to watch and how to restore', async () => {
  const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
  emu.model.timings.savepointBaseMs = 3_600_000;
  const r = await h.run({ job: 'orders', parallelism: 6, stopWithSavepoint: true }, 'stuck-stop');
  expect(r.status).toBe('FAILED');
  expect(r.finalState.recoveryError.Error).toBe('StopPending');
  expect((await h.flink.job(job.id)).state).toBe('RUNNING'); // still; nothing was resubmitted next to it
  expect(emu.model.jobs).toHaveLength(1);
  const trigger = r.finalState.savepoint.triggerId;
  const n = expectOneNotification({
    subject: /ACTION REQUIRED: orders stop-with-savepoint still pending; watch it/,
    body: [new RegExp(`/jobs/${job.id}/savepoints/${trigger}`), /restore it from that savepoint at parallelism 4/, /If it fails, the job keeps running/],
    outcome: 'failed-stop-pending',
  });
  expect(n.MessageAttributes?.actionRequired.StringValue).toBe('true');
  // The lock is kept (marked) so that no other rescale starts on top of the pending stop; the message says until when.
  const lock = await h.deps.store.getLock('orders');
  expect(lock).toMatchObject({ owner: h.executionArn('stuck-stop'), progress: expect.objectContaining({ kept: expect.stringMatching(/^stop-with-savepoint pending/) }) });
  expect(n.Message).toContain(`lock is kept until ${new Date(lock!.expiresAtMs).toISOString()}`);
  // The watchdog, told the execution FAILED (RescaleFailed), leaves a lock kept on purpose alone.
  const d = await h.deliver(h.statusChangeEvent('stuck-stop', 'FAILED', {}, { error: 'RescaleFailed' }));
  expect(d.result).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/kept the lock on purpose/) });
  await h.deps.store.releaseLock('orders', h.executionArn('stuck-stop')); // (the next tests use the same job)
});

test('capacity changed between Validate and Lock (e.g. by hand): the plan is stale, nothing is changed', async () => {
  const { h, sim, job } = await setup({ taskManagers: 4, parallelism: 4 });
  let raised = false;
  const r = await h.run({ job: 'orders', parallelism: 8 }, 'stale-capacity', async (state, invoke, event) => {
    if (state === 'Lock' && !raised) {
      raised = true;
      await sim.setDesired(6);
    }
    return invoke(event);
  });
  expect(r.status).toBe('FAILED');
  expect(r.states).not.toContain('EnsureCapacity');
  expect(r.finalState.error.Cause).toMatch(/now wants 6 members, the plan started from 4/);
  expect(sim.desiredCount).toBe(6); // left as it was set
  expect((await h.flink.job(job.id)).state).toBe('RUNNING');
  await expectUnlocked(h, 'orders');
});

test('the scaler holds the lock for a capacity change when a rescale starts: the Lock step waits for it (retried) instead of failing as busy', async () => {
  const { h } = await setup({ taskManagers: 4, parallelism: 4 });
  await h.deps.store.acquireLock('orders', 'scaler:orders-capacity-1', { now: h.world.now(), ttlSeconds: 120, reason: 'capacity change by the scaler' });
  void h.world.track(async () => {
    await h.world.sleep(5_000);
    await h.deps.store.releaseLock('orders', 'scaler:orders-capacity-1');
  });
  const r = await h.run({ job: 'orders', parallelism: 6 }, 'after-scaler');
  expect(r.status).toBe('SUCCEEDED');
  expect(r.invocations.filter((i) => i.state === 'Lock').length).toBeGreaterThanOrEqual(2);
  await expectUnlocked(h, 'orders');
  expectOneNotification({ subject: /orders rescaled 4 -> 6/, outcome: 'succeeded' });
});

test('a dry run takes no lock, so a failing Unlock on its route does not fail it', async () => {
  const { h } = await setup({ taskManagers: 2, parallelism: 2 });
  const r = await h.run({ job: 'orders', parallelism: 4, dryRun: true }, 'dry-unlock', (state, invoke, event) => (state === 'Unlock' ? Promise.reject(new Error('DynamoDB unavailable')) : invoke(event)));
  expect(r.status).toBe('SUCCEEDED');
  expect(r.states).toContain('LockReleased');
  expect(r.states).not.toContain('UnlockFailed');
  expectOneNotification({ subject: /orders dry run: would rescale 2 -> 4/, outcome: 'dry-run' });
});

describe('per-vertex targets (vertexParallelism: what the policy plans in adaptive mode, or a person asks)', () => {
  const vertexIds = async (h: WorkflowHarness, jobId: string) => (await h.flink.job(jobId)).vertices.map((v) => v.id);

  test('adaptive: only the named vertices move, in place; the widest vertex stays, so no TaskManager changes', async () => {
    const { h, sim, job, emu } = await setup({ mode: 'adaptive', name: 'clicks', taskManagers: 2, parallelism: 4 });
    const [source, , sink] = await vertexIds(h, job.id);
    const sinkName = (await h.flink.job(job.id)).vertices[2].name;
    const r = await h.run({ job: 'clicks', vertexParallelism: { [source]: 1, [sinkName]: 2 }, startedBy: 'scaler' }, 'per-vertex-adaptive');
    expect(r.status).toBe('SUCCEEDED');
    expect(r.states).toContain('PutRequirements');
    expect((await h.flink.findJobByName('clicks'))!.id).toBe(job.id);
    expect(await parallelismOf(h, job.id)).toEqual([1, 4, 2]);
    const req = await h.flink.getResourceRequirements(job.id);
    expect(req[source].parallelism).toEqual({ lowerBound: 1, upperBound: 1 });
    expect(req[sink].parallelism).toEqual({ lowerBound: 2, upperBound: 2 });
    expect(sim.desiredCount).toBe(2);
    expect(emu.model.savepoints.size).toBe(0);
    expect(r.output?.plan.vertices.map((v: { rule: string }) => v.rule)).toEqual(['vertex', 'fixed', 'vertex']);
    await expectUnlocked(h, 'clicks');
    expectOneNotification({ subject: /clicks rescaled 4 -> 4 \(adaptive\)/, outcome: 'succeeded' });
  });

  test('savepoint: the resubmission carries pipeline.jobvertex-parallelism-overrides; a failed rescale after it restores every vertex as it was', async () => {
    const { h, job, emu } = await setup({ taskManagers: 4, parallelism: 4 });
    const [, middle] = await vertexIds(h, job.id);
    const r = await h.run({ job: 'orders', parallelism: 2, vertexParallelism: { [middle]: 6 } }, 'per-vertex-savepoint');
    expect(r.status).toBe('SUCCEEDED');
    const live = (await h.flink.findJobByName('orders'))!;
    expect(live.id).not.toBe(job.id);
    expect(await parallelismOf(h, live.id)).toEqual([2, 6, 2]);
    expect((await h.flink.checkpoints(live.id)).restored?.externalPath).toBe(savepointOf(r));
    expect(emu.model.jobs.find((j) => j.id === live.id)?.flinkConfiguration?.['pipeline.jobvertex-parallelism-overrides']).toMatch(new RegExp(`${middle}:6`));
    expectOneNotification({ subject: /orders rescaled 4 -> 6 \(savepoint\)/, outcome: 'succeeded' });
    snsMock.resetHistory();

    // The next rescale fails at the resubmission: the rollback resubmits [2, 6, 2], not a uniform 6.
    emu.model.faults.failNextRuns(1);
    const f = await h.run({ job: 'orders', parallelism: 8 }, 'per-vertex-rollback');
    expect(f.status).toBe('FAILED');
    expect(f.finalState.recovery).toMatchObject({ outcome: 'rolled-back', parallelism: 6 });
    const back = (await h.flink.findJobByName('orders'))!;
    expect(back.id).not.toBe(live.id);
    expect(await parallelismOf(h, back.id)).toEqual([2, 6, 2]);
    expect((await h.flink.checkpoints(back.id)).restored?.externalPath).toBe(savepointOf(f));
    await expectUnlocked(h, 'orders');
    expectOneNotification({ subject: /failed; rolled back to parallelism 6/, outcome: 'failed-rolled-back' });
  });

  test('refused, naming the field and what is allowed, with nothing changed: unknown vertex, above its maximum, pinned, reactive mode, Flink < 1.17 in savepoint mode', async () => {
    const { h, job, emu } = await setup({ mode: 'adaptive', name: 'clicks', taskManagers: 2, parallelism: 2, extra: { policy: { pinnedVertices: { 'Sink: Kafka Sink': 2 } } } as Partial<JobConfigInput> });
    const [source] = await vertexIds(h, job.id);
    const cases: [Record<string, number>, RegExp][] = [
      [{ nosuch: 2 }, /vertexParallelism\.nosuch: no vertex with this id or name in Flink job .*; its vertices: /],
      [{ [source]: 17 }, new RegExp(`vertexParallelism\\.${source}: must be from 1 to 16 .*got 17`)],
      [{ 'Sink: Kafka Sink': 3 }, /vertexParallelism\.Sink: Kafka Sink: vertex "Sink: Kafka Sink" is pinned at 2/],
    ];
    for (const [vp, message] of cases) {
      snsMock.resetHistory();
      const r = await h.run({ job: 'clicks', vertexParallelism: vp }, `bad-${Object.keys(vp)[0]}`);
      expect(r.status).toBe('FAILED');
      expect(r.states).not.toContain('Lock');
      expectOneNotification({ subject: /rescale of clicks rejected: InvalidInput/, body: [message], outcome: 'rejected' });
    }
    snsMock.resetHistory();
    const reactive = await h.run({ job: 'clicks', mode: 'reactive', vertexParallelism: { [source]: 1 } }, 'bad-reactive');
    expectOneNotification({ subject: /rejected/, body: [/vertexParallelism: not available in mode "reactive"/], outcome: 'rejected' });
    expect(reactive.states).not.toContain('Lock');
    expect(await parallelismOf(h, job.id)).toEqual([2, 2, 2]);
    expect(emu.model.savepoints.size).toBe(0);
  });

  test('Flink 1.14 in savepoint mode: per-vertex targets are refused (no pipeline.jobvertex-parallelism-overrides before 1.17)', async () => {
    const { h, job } = await setup({ taskManagers: 2, parallelism: 2, version: '1.14' });
    const [source] = await vertexIds(h, job.id);
    const r = await h.run({ job: 'orders', vertexParallelism: { [source]: 1 } }, 'bad-old-flink');
    expect(r.status).toBe('FAILED');
    expectOneNotification({ subject: /rejected/, body: [/vertexParallelism: in mode "savepoint" needs Flink 1\.17 to 1\.20/], outcome: 'rejected' });
    expect(await parallelismOf(h, job.id)).toEqual([2, 2, 2]);
  });
});
