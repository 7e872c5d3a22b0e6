/**
 * The fault matrix (docs/workflow.md "Fault matrix", issue 17): each fault in each mode where no other suite covers
 * it. The synthesized state machine on aws-local-stepfunctions, the real step handlers, the Flink emulator over
 * loopback with its own fault injection (503s, late answers, TaskManagers killed, the server closed), the simulated
 * capacity target, the state store on dynalite, SNS on moto (every notification is read back from the topic).
 *
 * Every test ends the same way: the job RUNNING (untouched, rescaled, or restored from the recorded savepoint), every
 * task RUNNING at the parallelism the notification names, and exactly one notification per execution, whose outcome
 * and subject say what happened.
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { LOCK_TTL_SECONDS } from '../../functions/workflow/validate';
import { EmulatorServer, type Emulator } from '../../local/emulator';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { useMoto } from '../support/moto';
import { TOPIC_ARN, type RunResult, type StateWrapper } from '../support/workflow-harness';
import { abortAt, deliveredTwice, jobManagerDown, startWorld, throttleEveryStoreCall, type Mode, type World, type WorldOptions } from '../support/workflow-world';

const moto = useMoto();
let dynamo: LocalDynamo;
let emu: Emulator | undefined;
const servers: EmulatorServer[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.stop());
beforeEach(async () => {
  await new SNSClient(moto.config).send(new CreateTopicCommand({ Name: TOPIC_ARN.split(':').pop()! }));
});
afterEach(async () => {
  await emu?.close();
  for (const s of servers.splice(0)) await s.close();
  emu = undefined;
});

const MODES: Mode[] = ['savepoint', 'adaptive', 'reactive'];
/** Flink client timeout in the slow-JobManager tests (real ms); a "slow" answer comes later than this. */
const TIMEOUT_MS = 1000;

let jobCounter = 0;
/**
 * The usual starting point per mode: 2 TaskManagers (2 slots each), the job at parallelism 4, rescaled to 6 (one
 * TaskManager more: capacity first, then the rescale). One job name per test (the state store is shared).
 */
async function world(mode: Mode, o: Partial<WorldOptions> = {}): Promise<World> {
  return startWorld({
    dynamo,
    sns: new SNSClient(moto.config),
    name: `${mode}-${++jobCounter}`,
    mode,
    taskManagers: 2,
    parallelism: 4,
    onEmulator: (e) => (emu = e),
    ...o,
  });
}

/** Fails the next `n` SNS publishes of the harness's client as SNS throttling does (nothing is published). */
function snsFailsNext(w: World, n: number): { failed: () => number } {
  let failed = 0;
  w.h.deps.sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PublishCommand' && failed < n) {
        failed++;
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectedSnsFailure' },
  );
  return { failed: () => failed };
}

/**
 * The end every cell asserts: exactly one Flink job of the name RUNNING, every task RUNNING at `parallelism`; in
 * savepoint mode a replaced job restored from the savepoint this execution recorded (its history), or, after a
 * failover (`failedOver`), the job this execution submitted, restarted by Flink from its own checkpoint. Returns its id.
 */
async function expectRunning(w: World, parallelism: number, exec?: string, failedOver = false): Promise<string> {
  const running = w.emu.model.jobs.filter((j) => j.name === w.name && j.state === 'RUNNING');
  expect(running).toHaveLength(1);
  const d = await w.h.flink.job(running[0].id);
  expect(d.state).toBe('RUNNING');
  expect(d.vertices.map((v) => [v.parallelism, v.tasks.RUNNING ?? 0])).toEqual(d.vertices.map(() => [parallelism, parallelism]));
  if (w.mode !== 'savepoint') expect(d.id).toBe(w.job.id); // in place: never resubmitted
  else if (d.id !== w.job.id) {
    const hist = (await w.h.deps.store.history(w.name, 'rescale')).find((e) => !exec || e.id === exec)!;
    const sp = hist.detail.savepointPath;
    expect(sp).toMatch(new RegExp(`^s3://state/savepoints/${w.name}/`));
    const restored = (await w.h.flink.checkpoints(d.id)).restored;
    if (failedOver) {
      expect(d.id).toBe((hist.detail.after as { jobId: string }).jobId);
      expect(restored).toMatchObject({ isSavepoint: false });
    } else expect(restored).toMatchObject({ externalPath: sp, isSavepoint: true });
  }
  return d.id;
}

/** Exactly one notification per execution named (by the Execution line of its body), with that outcome and subject. */
async function expectNotified(want: Record<string, { outcome: string; subject: RegExp }>): Promise<void> {
  const sent = await moto.server.published(TOPIC_ARN);
  const byExec = sent.map((n) => ({ exec: /Execution: +\S+:([^:\s]+)$/m.exec(n.message)?.[1], outcome: n.attributes.outcome, subject: n.subject }));
  expect(byExec.map((n) => n.exec).sort()).toEqual(Object.keys(want).sort());
  for (const n of byExec) {
    expect(n.outcome).toBe(want[n.exec!].outcome);
    expect(n.subject).toMatch(want[n.exec!].subject);
  }
}

const rescaled = (w: World, from: number, to: number) => ({ outcome: 'succeeded', subject: new RegExp(`${w.name} rescaled ${from} -> ${to}( \\(${w.mode}\\))?$`) });
const untouched = (w: World, p: number) => ({ outcome: 'failed-untouched', subject: new RegExp(`rescale of ${w.name} failed; job untouched at parallelism ${p}`) });

/** Runs the usual rescale (4 -> 6) with `wrap`, expects it SUCCEEDED, rescaled, and notified once. */
async function rescalesDespite(w: World, exec: string, wrap?: StateWrapper): Promise<RunResult> {
  const r = await w.h.run({ job: w.name, parallelism: 6 }, exec, wrap);
  expect(r.error).toBeUndefined();
  expect(r.status).toBe('SUCCEEDED');
  await expectRunning(w, 6, exec);
  expect(w.sim.desiredCount).toBe(3);
  expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
  await expectNotified({ [exec]: rescaled(w, 4, 6) });
  return r;
}

/** The Task states of a mode's route for the usual scale-out that call Flink (a 503 or a late answer hits them). */
const FLINK_STATES: Record<Mode, string[]> = {
  savepoint: ['Validate', 'Lock', 'CheckSlots', 'Savepoint', 'PollSavepoint', 'Cancel', 'Resubmit', 'CheckRunning'],
  adaptive: ['Validate', 'Lock', 'CheckSlots', 'PutRequirements', 'CheckParallelism'],
  reactive: ['Validate', 'Lock', 'CheckSlots', 'CheckParallelism'],
};

// ---------------------------------------------------------------------------------------------------------------

test('savepoint timeout (savepoint mode): the savepoint outlasts savepoint.timeoutSeconds → Abort; the job untouched, the added TaskManager given back', async () => {
  const w = await world('savepoint');
  w.emu.model.timings.savepointBaseMs = 330_000; // PollSavepoint gives up at 300 s
  const r = await w.h.run({ job: w.name, parallelism: 6 }, 'sp-timeout');
  expect(r.status).toBe('FAILED');
  expect(r.states).toContain('Abort');
  expect(r.states).not.toContain('Cancel');
  expect(r.finalState.error.Error).toBe('WaitTimedOut');
  expect(w.sim.desiredCount).toBe(2);
  expect(await expectRunning(w, 4)).toBe(w.job.id);
  expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
  await expectNotified({ 'sp-timeout': untouched(w, 4) });
});

describe.each(['adaptive', 'reactive'] as Mode[])('%s mode', (mode) => {
  test('JobManager unreachable mid-rescale (connection refused after the capacity change, for three step invocations): the retries ride it out', async () => {
    const w = await world(mode);
    const down = jobManagerDown(w.emu, mode === 'adaptive' ? 'PutRequirements' : 'CheckParallelism');
    const r = await rescalesDespite(w, 'jm-down', down.wrap);
    servers.push(...down.servers);
    expect(down.wentDown()).toBe(true);
    expect(r.retries).toBeGreaterThanOrEqual(2);
  });

  test('execution stopped from the console mid-rescale (after the capacity change, while the job rescales in place): the watchdog finds it rescaled, keeps it, and says so', async () => {
    const w = await world(mode);
    const input = { job: w.name, parallelism: 6 };
    const r = await w.h.run(input, 'stopped', abortAt('CheckParallelism'));
    expect(r.status).toBe('ABORTED');
    expect(w.sim.desiredCount).toBe(3); // EnsureCapacity ran
    expect((await w.h.deps.store.getLock(w.name))?.owner).toBe(w.h.executionArn('stopped')); // nothing released it
    const d = await w.h.deliver(w.h.statusChangeEvent('stopped', 'ABORTED', input));
    expect(d.error).toBeUndefined();
    expect(d.result).toMatchObject({ action: 'recovered', outcome: 'rescaled-cleanup-failed', job: w.name });
    expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
    await expectRunning(w, 6);
    expect(w.sim.desiredCount).toBe(3);
    await expectNotified({ stopped: { outcome: 'rescaled-cleanup-failed', subject: new RegExp(`${w.name} rescaled 4 -> 6; the execution ended ABORTED before it finished`) } });
  });

  test('execution stopped from the console before the capacity change: the watchdog finds the job untouched and releases the lock', async () => {
    const w = await world(mode);
    const input = { job: w.name, parallelism: 6 };
    const r = await w.h.run(input, 'stopped-early', abortAt('EnsureCapacity'));
    expect(r.status).toBe('ABORTED');
    const d = await w.h.deliver(w.h.statusChangeEvent('stopped-early', 'ABORTED', input));
    expect(d.result).toMatchObject({ action: 'recovered', outcome: 'failed-untouched', job: w.name });
    expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
    expect(await expectRunning(w, 4)).toBe(w.job.id);
    expect(w.sim.desiredCount).toBe(2);
    await expectNotified({ 'stopped-early': { outcome: 'failed-untouched', subject: new RegExp(`rescale of ${w.name} ended ABORTED; job untouched at parallelism 4`) } });
  });

  test('lock expiry: the first execution stalls past the lock TTL before acting, a second takes the lock over and rescales; the first acts on nothing', async () => {
    const w = await world(mode);
    let second: Promise<RunResult> | undefined;
    let secondDone = false;
    const first = w.h.start({ job: w.name, parallelism: 6 }, 'first', async (state, invoke, event) => {
      if (state !== 'Validate' && state !== 'Lock' && !second) {
        await w.h.world.sleep((LOCK_TTL_SECONDS + 60) * 1000);
        second = w.h.start({ job: w.name, parallelism: 8 }, 'second').finally(() => (secondDone = true));
        while (!secondDone) await w.h.world.sleep(5_000); // (awaiting it here would hold the virtual clock)
      }
      return invoke(event);
    });
    const [a] = await w.h.drive(first);
    const b = await second!;
    expect(b.status).toBe('SUCCEEDED');
    expect(a.status).toBe('FAILED');
    expect(a.finalState.error.Error).toBe('LockLost');
    expect(a.states).not.toContain('Abort');
    expect(w.sim.desiredCount).toBe(4); // set by "second" only
    await expectRunning(w, 8);
    expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
    await expectNotified({
      first: { outcome: 'failed-lock-lost', subject: new RegExp(`rescale of ${w.name} stopped: the lock moved on`) },
      second: rescaled(w, 4, 8),
    });
  });

  test('DynamoDB throttling: every state-store call throttled twice before it goes through; the steps ride it out', async () => {
    const w = await world(mode);
    const { count } = throttleEveryStoreCall(w.h);
    const r = await rescalesDespite(w, 'throttled');
    expect(Object.values(count).reduce((x, y) => x + y, 0)).toBeGreaterThan(20);
    expect(r.retries).toBe(0);
  });
});

describe.each(MODES)('%s mode', (mode) => {
  test('503s that flap at the workflow level: the first invocation of every step that calls Flink meets a 503 burst longer than the client retries', async () => {
    const w = await world(mode);
    const flapped = new Set<string>();
    const r = await rescalesDespite(w, 'flapping', (state, invoke, event) => {
      if (FLINK_STATES[mode].includes(state) && !flapped.has(state)) {
        flapped.add(state);
        w.emu.model.faults.unavailableFor(3); // the client's 3 attempts of the step's first Flink call
      }
      return invoke(event);
    });
    expect([...flapped].sort()).toEqual([...FLINK_STATES[mode]].sort());
    expect(r.retries).toBeGreaterThanOrEqual(FLINK_STATES[mode].length);
    expect(w.emu.model.faults.unavailableCalls).toBe(0);
    if (mode === 'savepoint') {
      expect(w.emu.model.savepoints.size).toBe(1);
      expect(w.emu.model.jobs).toHaveLength(2); // the original and one resubmission
    }
  });

  test('concurrent manual and alarm executions: one rescales, the other is refused as busy and changes nothing', async () => {
    const w = await world(mode);
    const [manual, alarm] = await w.h.drive(
      w.h.start({ job: w.name, parallelism: 6, startedBy: 'alice@example.com' }, 'manual'),
      w.h.start({ job: w.name, parallelism: 8, startedBy: `scaler: alarm ${w.name}-lag`, reason: 'lag 42 s > 10 s', respectCooldown: true }, 'alarm'),
    );
    const winner = manual.status === 'SUCCEEDED' ? 'manual' : 'alarm';
    const loser = winner === 'manual' ? alarm : manual;
    expect([manual.status, alarm.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    expect(loser.states).not.toContain('EnsureCapacity');
    const p = winner === 'manual' ? 6 : 8;
    await expectRunning(w, p, winner);
    expect(w.sim.desiredCount).toBe(p / 2);
    if (mode === 'savepoint') expect(w.emu.model.savepoints.size).toBe(1);
    expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
    await expectNotified({
      [winner]: rescaled(w, 4, p),
      [winner === 'manual' ? 'alarm' : 'manual']: { outcome: 'busy', subject: new RegExp(`rescale of ${w.name} skipped: another rescale is running`) },
    });
  });

  test('Lambda retry of each task: every task of a scale-out and of the scale-in back is delivered twice; each acts once', async () => {
    // (reactive scale-in needs the capacity target to remove busy members, as an Auto Scaling group does)
    const w = await world(mode, { capacity: { terminateBusy: mode === 'reactive' } });
    await rescalesDespite(w, 'twice-out', deliveredTwice());
    const r = await w.h.run({ job: w.name, parallelism: 4 }, 'twice-in', deliveredTwice());
    expect(r.status).toBe('SUCCEEDED');
    expect(r.states).toEqual(expect.arrayContaining(mode === 'reactive' ? ['ShrinkCapacity', 'CheckParallelism'] : ['CheckDrained', 'ReleaseIdle']));
    await w.h.elapse(60_000);
    await expectRunning(w, 4, 'twice-in');
    expect(w.sim.desiredCount).toBe(2);
    expect((await w.h.deps.store.history(w.name, 'rescale')).map((e) => e.id).sort()).toEqual(['twice-in', 'twice-out']);
    if (mode === 'savepoint') {
      expect(w.emu.model.savepoints.size).toBe(2);
      expect(w.emu.model.jobs).toHaveLength(3); // one resubmission per rescale
    }
    await expectNotified({ 'twice-out': rescaled(w, 4, 6), 'twice-in': rescaled(w, 6, 4) });
  });

  test('Lambda retry of each task on the failure route: the new TaskManager never registers (slots timeout → Abort), every task delivered twice; the job untouched, the unregistered member named', async () => {
    const w = await world(mode, { capacity: { bootDelayMs: 10 * 3600_000 } });
    const r = await w.h.run({ job: w.name, parallelism: 6 }, 'twice-abort', deliveredTwice());
    expect(r.status).toBe('FAILED');
    expect(r.states).toEqual(expect.arrayContaining(['Abort', 'RecordFailure', 'UnlockAfterFailure', 'NotifyFailure']));
    expect(r.finalState.error.Error).toBe('WaitTimedOut');
    // The member that never registered a TaskManager is kept (it cannot be shown to be idle), and the notification says
    // so rather than that it holds slots.
    expect(w.sim.desiredCount).toBe(3);
    expect(r.finalState.recovery.actions).toEqual([expect.stringMatching(/^kept 1 added member\(s\) whose TaskManager never registered with Flink \(i-\w+\): not known to be idle/)]);
    expect(await expectRunning(w, 4)).toBe(w.job.id);
    if (mode === 'savepoint') expect(w.emu.model.savepoints.size).toBe(0);
    expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
    expect((await w.h.deps.store.history(w.name, 'rescale')).filter((e) => e.id === 'twice-abort')).toHaveLength(1);
    await expectNotified({ 'twice-abort': untouched(w, 4) });
    expect((await moto.server.published(TOPIC_ARN))[0].message).toMatch(/never registered with Flink/);
  });

  test('SNS failure: the first two publishes are throttled; Notify is retried and exactly one message reaches the topic', async () => {
    const w = await world(mode);
    const sns = snsFailsNext(w, 2);
    const r = await rescalesDespite(w, 'sns-fails');
    expect(sns.failed()).toBe(2);
    expect(r.invocations.filter((i) => i.state === 'Notify')).toHaveLength(3);
  });
});

/** Answers the next request of `method` whose path matches `path`, in the emulator, later than the client waits. */
const answerLate = (w: World, method: string, path: RegExp) => w.emu.model.faults.slowResponses(TIMEOUT_MS + 300, 1, (m, p) => m === method && path.test(p));

/** Runs `fault` just before the first invocation of each named state. */
const before =
  (faults: Record<string, () => void>): StateWrapper =>
  (state, invoke, event) => {
    const f = faults[state];
    delete faults[state];
    f?.();
    return invoke(event);
  };

describe('slow JobManager (answers later than the client waits; what it was asked is done all the same)', () => {
  test('savepoint mode: the savepoint trigger and the resubmission are answered late; one savepoint, one submission', async () => {
    const w = await world('savepoint', { flinkTimeoutMs: TIMEOUT_MS });
    await rescalesDespite(
      w,
      'slow',
      before({ Savepoint: () => answerLate(w, 'POST', /\/savepoints$/), Resubmit: () => answerLate(w, 'POST', /\/jars\/[^/]+\/run$/) }),
    );
    expect(w.emu.model.faults.slowCalls).toBe(0);
    expect(w.emu.model.savepoints.size).toBe(1);
    expect(w.emu.model.jobs).toHaveLength(2);
  });

  test('adaptive mode: the resource-requirements PUT is answered late (applied); the retries do not meet Flink\'s 409 "update in progress" as a failure', async () => {
    const w = await world('adaptive', { flinkTimeoutMs: TIMEOUT_MS });
    await rescalesDespite(w, 'slow', before({ PutRequirements: () => answerLate(w, 'PUT', /\/resource-requirements$/) }));
    expect(w.emu.model.faults.slowCalls).toBe(0);
  });

  test('reactive mode: the reads of the slot check are answered late, three times over (one whole client call)', async () => {
    const w = await world('reactive', { flinkTimeoutMs: TIMEOUT_MS });
    const r = await rescalesDespite(w, 'slow', before({ CheckSlots: () => w.emu.model.faults.slowResponses(TIMEOUT_MS + 300, 3, (m) => m === 'GET') }));
    expect(w.emu.model.faults.slowCalls).toBe(0);
    expect(r.retries).toBeGreaterThanOrEqual(1);
  });
});

test('savepoint mode, Lambda retry of each task on the rollback route: the resubmission fails, every task delivered twice; restored once from the same savepoint', async () => {
  const w = await world('savepoint', { taskManagers: 4 });
  w.emu.model.faults.failNextRuns(1);
  const r = await w.h.run({ job: w.name, parallelism: 6 }, 'twice-rollback', deliveredTwice());
  expect(r.status).toBe('FAILED');
  expect(r.states).toEqual(expect.arrayContaining(['Cancel', 'Resubmit', 'Rollback', 'RecordFailure', 'UnlockAfterFailure', 'NotifyFailure']));
  expect(r.finalState.recovery).toMatchObject({ outcome: 'rolled-back', parallelism: 4 });
  expect(w.emu.model.savepoints.size).toBe(1);
  expect(w.emu.model.jobs).toHaveLength(2); // the original (cancelled) and one rollback job
  await expectRunning(w, 4, 'twice-rollback');
  expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
  await expectNotified({ 'twice-rollback': { outcome: 'failed-rolled-back', subject: new RegExp(`rescale of ${w.name} failed; rolled back to parallelism 4`) } });
});

test('adaptive mode, JobManager unreachable right after it applied the PUT (its answer lost): Abort restores the requirements it recorded; the job is back at its old parallelism', async () => {
  const w = await world('adaptive', { flinkTimeoutMs: TIMEOUT_MS });
  const port = Number(new URL(w.emu.url).port);
  let closed = false;
  const r = await w.h.run({ job: w.name, parallelism: 6 }, 'put-then-down', async (state, invoke, event) => {
    if (state === 'PutRequirements' && !closed) {
      answerLate(w, 'PUT', /\/resource-requirements$/);
      closed = true;
      return invoke(event).finally(() => w.emu.server.close()); // gone for every retry of the step
    }
    if (state === 'Abort' && closed && servers.length === 0) {
      const s = new EmulatorServer(w.emu.model, { port });
      await s.listen();
      servers.push(s);
    }
    return invoke(event);
  });
  expect(r.status).toBe('FAILED');
  expect(r.states).toContain('Abort');
  expect(r.finalState.recovery.actions).toEqual(['restored the previous resource requirements', 'kept 1 added member(s) that hold slots']);
  await w.h.elapse(60_000);
  expect(await expectRunning(w, 4)).toBe(w.job.id);
  expect(w.sim.desiredCount).toBe(3); // the job held the added TaskManager's slots when Abort looked (named in the notification)
  await expectNotified({ 'put-then-down': untouched(w, 4) });
});

describe.each(['savepoint', 'adaptive'] as Mode[])('%s mode, scale-in 4 -> 2', (mode) => {
  test('TaskManager dies mid-drain: the TaskManager that runs the job is killed (SIGKILL) at the first drain check; nothing is released while it is still listed (no heartbeat since), the job fails over onto the drained one, which is kept; only the replacement is released', async () => {
    const w = await world(mode);
    let killed: string | undefined;
    let survivor: string | undefined;
    const r = await w.h.run({ job: w.name, parallelism: 2 }, 'tm-dies', before({
      CheckDrained: () => {
        if (killed) return;
        killed = w.emu.model.taskManagers.find((t) => !w.emu.model.isIdle(t))!.id;
        survivor = w.emu.model.taskManagers.find((t) => t.id !== killed)!.id;
        w.emu.model.killTaskManager(killed);
      },
    }));
    expect(killed).toBeDefined();
    expect(r.status).toBe('SUCCEEDED');
    // The dead TaskManager stays listed (busy) until Flink's heartbeat timeout. The old code saw the other one idle and
    // released it at once: the job then had no TaskManager until a replacement booted (issue 17, gap 1). Now a
    // release waits for a heartbeat from every TaskManager that runs the job's tasks.
    const killedAt = w.emu.model.events.find((e) => e.message.startsWith(`TaskManager ${killed} killed`))!.at;
    const timedOutAt = w.emu.model.events.find((e) => e.message.includes(`heartbeat of TaskManager with id ${killed} timed out`))?.at;
    expect(timedOutAt).toBeGreaterThanOrEqual(killedAt + 50_000);
    expect(w.emu.model.events.filter((e) => e.message.startsWith(`TaskManager ${survivor} left`))).toEqual([]);
    expect(w.emu.model.taskManagers.map((t) => t.id)).toContain(survivor);
    expect(r.output.release.released).toHaveLength(1);
    const releasedTm = w.emu.model.events.find((e) => /^TaskManager \S+ left: stopped/.test(e.message));
    expect(releasedTm!.at).toBeGreaterThan(timedOutAt!);
    expect(releasedTm!.message).not.toContain(survivor);
    await w.h.elapse(60_000);
    expect(w.emu.model.taskManagers.map((t) => t.id)).toEqual([survivor]);
    const running = w.emu.model.jobs.find((j) => j.name === w.name && j.state === 'RUNNING')!;
    expect(new Set(running.slots.map((s) => s.tm.id))).toEqual(new Set([survivor]));
    await expectRunning(w, 2, 'tm-dies', true);
    expect(w.sim.desiredCount).toBe(1);
    await expectNotified({ 'tm-dies': rescaled(w, 4, 2) });
  });
});

test('adaptive mode, scale-in 4 -> 2 with a slot report that lags (the TaskManager running the job reads idle while the other still holds slots): the TaskManager that runs tasks is never released; the other is, once it is idle', async () => {
  const w = await world('adaptive');
  let hosting: string | undefined;
  const r = await w.h.run({ job: w.name, parallelism: 2 }, 'lagging-slots', before({
    CheckDrained: () => {
      const m = w.emu.model;
      hosting = m.jobs.find((j) => j.id === w.job.id)!.slots[0].tm.id;
      const real = m.freeSlots.bind(m);
      // what Flink reports for the TaskManager that runs the job lags: all its slots free
      m.freeSlots = (t) => (t.id === hosting ? t.slots.length : real(t));
    },
  }));
  expect(r.status).toBe('SUCCEEDED');
  const job = w.emu.model.jobs.find((j) => j.id === w.job.id)!;
  expect(new Set(job.slots.map((s) => s.tm.id))).toEqual(new Set([hosting]));
  // The old code released it at the first drain check (it read idle; the other still held the adaptive scheduler's slots).
  expect(w.emu.model.events.filter((e) => e.message.startsWith(`TaskManager ${hosting} left`))).toEqual([]);
  expect(r.output.release.released).toHaveLength(1);
  expect(w.emu.model.taskManagers.map((t) => t.id)).toEqual([hosting]);
  expect(await expectRunning(w, 2)).toBe(w.job.id);
  expect(w.sim.desiredCount).toBe(1);
  await expectNotified({ 'lagging-slots': rescaled(w, 4, 2) });
});

test('adaptive mode, drain timeout: while the in-place scale-in 8 -> 4 drains, another job of the session cluster takes a freed slot; that TaskManager is kept, the idle one released, and the notification says so', async () => {
  const w = await world('adaptive', { taskManagers: 4, parallelism: 8 });
  const r = await w.h.run({ job: w.name, parallelism: 4 }, 'drain-timeout', before({ CheckDrained: () => void w.emu.model.startJob({ name: 'other', parallelism: 1, inputRate: 10 }) }));
  expect(r.status).toBe('SUCCEEDED');
  expect(r.output.drain).toMatchObject({ timedOut: true, surplus: 2 });
  expect(r.output.release.released).toHaveLength(1);
  await expectRunning(w, 4);
  expect(w.sim.desiredCount).toBe(3);
  expect(await w.h.deps.store.getLock(w.name)).toBeUndefined();
  await expectNotified({ 'drain-timeout': { outcome: 'succeeded-drain-timeout', subject: new RegExp(`${w.name} rescaled 8 -> 4; 1 TaskManager\\(s\\) kept \\(drain timeout\\)`) } });
});
