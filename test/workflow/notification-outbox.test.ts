/**
 * The notification outbox (issue 17, docs/workflow.md "Notifications"): SNS unreachable for longer than every retry
 * of Notify, then reachable again. The synthesized state machine, the real step handlers, the Flink emulator, the
 * state store on dynalite, SNS on moto behind a loopback TCP gate (shut: connection refused / reset), and the real
 * scaler handler's re-evaluation tick, which sends what waits in the outbox.
 */
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { drainOutbox } from '../../functions/adapters/notification-outbox';
import { snsOutboxPublisher } from '../../functions/scaler/aws';
import { handleScalerEvent } from '../../functions/scaler/scaler';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { notifyOnce } from '../../functions/workflow/finish';
import type { Emulator } from '../../local/emulator';
import { MemoryStateStore } from '../../local/memory-state-store';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { memoryScalerDeps } from '../support/memory-scaler-store';
import { useMoto } from '../support/moto';
import { TcpGate } from '../support/tcp-gate';
import { TOPIC_ARN } from '../support/workflow-harness';
import { startWorld, type World } from '../support/workflow-world';

const moto = useMoto();
let dynamo: LocalDynamo;
let emu: Emulator | undefined;
let gate: TcpGate | undefined;

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.stop());
beforeEach(async () => {
  await new SNSClient(moto.config).send(new CreateTopicCommand({ Name: TOPIC_ARN.split(':').pop()! }));
});
afterEach(async () => {
  await emu?.close();
  await gate?.shut();
  emu = undefined;
});

let n = 0;
async function gatedWorld(): Promise<{ w: World; sns: SNSClient }> {
  gate = await TcpGate.open(moto.endpoint);
  const sns = new SNSClient({ ...moto.config, endpoint: gate.endpoint });
  const w = await startWorld({ dynamo, sns, name: `outbox-${++n}`, mode: 'savepoint', taskManagers: 2, parallelism: 4, onEmulator: (e) => (emu = e) });
  return { w, sns };
}

/** The scaler's 1-minute re-evaluation tick for the job, with the production outbox drain wired as the handler does. */
async function scalerTick(w: World, sns: SNSClient) {
  const logs: string[] = [];
  const log = { info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m) };
  const { deps } = memoryScalerDeps(w.h.config, w.h.deps.now, {
    alarmStates: async () => ({}), // no alarm in ALARM: the tick decides nothing, it only sends the outbox
    drainOutbox: (jobs) => drainOutbox(w.h.deps.store, snsOutboxPublisher(sns), jobs, w.h.deps.now(), log),
    log: { info: log.info, warn: log.warn, error: log.error },
  });
  const r = await handleScalerEvent({ source: 'reevaluate', job: w.name, time: new Date(w.h.deps.now()).toISOString() }, deps);
  return { r, logs };
}

const published = async (exec: string) => (await moto.server.published(TOPIC_ARN)).filter((m) => new RegExp(`Execution: +\\S+:${exec}$`, 'm').test(m.message));

test('SNS unreachable through every retry of Notify: the notification waits in the outbox, and the scaler tick after SNS is back sends it, once', async () => {
  const { w, sns } = await gatedWorld();
  const r = await w.h.run({ job: w.name, parallelism: 6 }, 'sns-down', async (state, invoke, event) => {
    if (state === 'Notify') await gate!.shut();
    return invoke(event);
  });
  // The rescale itself worked; SNS refused every attempt of Notify (the state machine's 5 retries), so the execution failed there.
  expect(r.status).toBe('FAILED');
  expect(r.invocations.filter((i) => i.state === 'Notify').length).toBeGreaterThanOrEqual(6);
  expect((await w.h.flink.job((await w.h.flink.findJobByName(w.name))!.id)).vertices.map((v) => v.parallelism)).toEqual([6, 6, 6]);
  expect(await published('sns-down')).toEqual([]);
  expect(await w.h.deps.store.listOutbox(w.name)).toEqual(['notify#sns-down']);

  // A tick while SNS is still down: not sent, still waiting.
  await w.h.elapse(61_000);
  const still = await scalerTick(w, sns);
  expect(still.r.outcome).toBe('ignored');
  expect(still.logs.some((l) => /notify#sns-down of job .* not published; kept in the outbox/.test(l))).toBe(true);
  expect(await w.h.deps.store.listOutbox(w.name)).toEqual(['notify#sns-down']);

  // SNS back: the next tick sends it; later ticks send nothing more.
  await gate!.reopen();
  await w.h.elapse(61_000);
  await scalerTick(w, sns);
  await scalerTick(w, sns);
  const sent = await published('sns-down');
  expect(sent).toHaveLength(1);
  expect(sent[0].subject).toMatch(new RegExp(`${w.name} rescaled 4 -> 6`));
  expect(sent[0].attributes).toMatchObject({ outcome: 'succeeded', job: w.name, dedupId: 'notify#sns-down' });
  expect(await w.h.deps.store.listOutbox(w.name)).toEqual([]);
});

test('the normal case: published at once, exactly one message, nothing left in the outbox; a tick sends nothing more', async () => {
  const { w, sns } = await gatedWorld();
  const r = await w.h.run({ job: w.name, parallelism: 6 }, 'sns-up');
  expect(r.status).toBe('SUCCEEDED');
  expect(await w.h.deps.store.listOutbox(w.name)).toEqual([]);
  await scalerTick(w, sns);
  const sent = await published('sns-up');
  expect(sent).toHaveLength(1);
  expect(sent[0].attributes).toMatchObject({ outcome: 'succeeded', dedupId: 'notify#sns-up' });
});

describe('the watchdog after a Notify that never got through (shared claim notify#<execution>)', () => {
  // notifyOnce as the workflow's Notify and the watchdog call it; the state store is the simulator's in-memory one
  // (it passes the same contract as the table), SNS is moto behind the gate.
  const depsFor = (store: MemoryStateStore, sns: SNSClient, now: () => number) => {
    const logs: string[] = [];
    const log = { info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(m), error: (m: string) => void logs.push(m), debug: () => undefined };
    return { deps: { store, sns, topicArn: TOPIC_ARN, now, log } as unknown as WorkflowDeps, logs };
  };
  const mine = async (subject: string) => (await moto.server.published(TOPIC_ARN)).filter((m) => m.subject === subject);

  test("its message takes the place of the workflow's unsent one: subscribers get what is true now, once", async () => {
    gate = await TcpGate.open(moto.endpoint);
    const sns = new SNSClient({ ...moto.config, endpoint: gate.endpoint, maxAttempts: 1 });
    const store = new MemoryStateStore();
    let t = Date.UTC(2026, 11, 8, 1, 0, 0);
    const { deps } = depsFor(store, sns, () => t);
    const old = { subject: `wd-${n} ACTION REQUIRED: stop-with-savepoint still pending`, message: 'old', attributes: { job: 'wd', outcome: 'failed-stop-pending' } };
    const now = { subject: `wd-${n} recovered: the job runs`, message: 'new', attributes: { job: 'wd', outcome: 'recovered' } };
    await gate.shut();
    await expect(notifyOnce(deps, 'wd', 'notify#exec-wd', old)).rejects.toThrow();
    expect(await store.listOutbox('wd')).toEqual(['notify#exec-wd']);
    await gate.reopen();
    t += 61_000;
    await notifyOnce(deps, 'wd', 'notify#exec-wd', now, { supersede: true });
    expect(await mine(old.subject)).toEqual([]);
    expect(await mine(now.subject)).toHaveLength(1);
    expect(await store.listOutbox('wd')).toEqual([]);
    // the outbox is empty: a later drain or retry sends nothing, and a second watchdog delivery sends nothing more
    await notifyOnce(deps, 'wd', 'notify#exec-wd', now, { supersede: true });
    expect(await mine(now.subject)).toHaveLength(1);
  });

  test('when the workflow did get its message out, the watchdog sends nothing (one message per execution)', async () => {
    gate = await TcpGate.open(moto.endpoint);
    const sns = new SNSClient({ ...moto.config, endpoint: gate.endpoint });
    const store = new MemoryStateStore();
    const { deps } = depsFor(store, sns, () => Date.UTC(2026, 11, 8, 1, 0, 0));
    const first = { subject: `wd2-${n} rescaled 2 -> 4`, message: 'a', attributes: { job: 'wd2', outcome: 'succeeded' } };
    await notifyOnce(deps, 'wd2', 'notify#exec-wd2', first);
    await notifyOnce(deps, 'wd2', 'notify#exec-wd2', { ...first, subject: `wd2-${n} other` }, { supersede: true });
    expect(await mine(first.subject)).toHaveLength(1);
    expect(await mine(`wd2-${n} other`)).toEqual([]);
  });
});
