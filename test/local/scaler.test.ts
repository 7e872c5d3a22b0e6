/**
 * The scaler end to end: an alarm (or schedule) event in; the real FlinkRestClient over loopback against the Flink
 * emulator, the real policy, the DynamoDB state store on dynalite, the real ASG capacity target; CloudWatch, Step
 * Functions, Auto Scaling and SNS clients mocked (aws-sdk-client-mock). Out: the right capacity change or execution
 * start, recorded, notified.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parseConfig, type Config } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { CloudWatchMetricReader } from '../../functions/adapters/metrics/cloudwatch';
import { DynamoStateStore } from '../../functions/adapters/state/dynamo';
import { createCapacityTarget } from '../../functions/adapters/targets';
import { policyDecide } from '../../functions/handlers/scaler';
import { jobMetrics } from '../../functions/collector/publish';
import { decisionPublisher, sfnStarter, snsNotifier } from '../../functions/scaler/aws';
import { ScalerEventError } from '../../functions/scaler/event';
import type { ScalerDeps } from '../../functions/scaler/ports';
import { handleScalerEvent } from '../../functions/scaler/scaler';
import { Emulator, startEmulator } from '../../local/emulator';
import { alarmEvent, scheduleEvent } from '../fixtures/events';
import { startDynalite, type LocalDynamo } from '../support/dynalite';
import { exampleDoc } from '../support/example-config';

const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:FlinkElastic-rescale';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:FlinkElastic-Notifications';
const cw = mockClient(CloudWatchClient);
const sfn = mockClient(SFNClient);
const asg = mockClient(AutoScalingClient);
const sns = mockClient(SNSClient);

let emu: Emulator;
let ddb: LocalDynamo;
beforeAll(async () => {
  ddb = await startDynalite();
});
afterAll(async () => ddb.stop());
afterEach(async () => emu?.close());
beforeEach(() => {
  for (const m of [cw, sfn, asg, sns]) m.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${SM.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() }));
});

/** CloudWatch answers with these lag and CPU values (query m0 = lag, m1 = CPU, as the snapshot asks). */
function cloudWatchSays(lag: number | undefined, cpu: number | undefined, now: number) {
  const at = new Date(now - 60_000);
  cw.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'm0', Timestamps: lag === undefined ? [] : [at], Values: lag === undefined ? [] : [lag] },
      { Id: 'm1', Timestamps: cpu === undefined ? [] : [at], Values: cpu === undefined ? [] : [cpu] },
    ],
  });
}

function asgHas(desired: number) {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'flink-taskmanagers-orders', MinSize: 1, MaxSize: 16, DesiredCapacity: desired, DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a'], HealthCheckType: 'EC2', CreatedTime: new Date(0),
        Instances: Array.from({ length: desired }, (_, i) => ({
          InstanceId: `i-0000000000000000${i}`, AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false,
        })),
      },
    ],
  });
  asg.on(SetDesiredCapacityCommand).resolves({});
}

/** The example config's orders-enrichment job, pointed at the emulator, with per-test changes. */
function configFor(url: string, patch: (job: any) => void = () => {}): Config {
  const doc = exampleDoc();
  const job = doc.jobs[0];
  job.flink.url = url;
  patch(job);
  doc.jobs = [job];
  return parseConfig(doc);
}

let table = 0;
async function depsFor(config: Config, opts: { workflow?: boolean } = {}): Promise<ScalerDeps & { logs: { message: string; extra?: any }[] }> {
  const logs: { message: string; extra?: any }[] = [];
  const tableName = `state-${++table}`;
  await ddb.client.send(
    new (await import('@aws-sdk/client-dynamodb')).CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const log = (message: string, extra?: any) => logs.push({ message, extra });
  return {
    logs,
    config,
    now: () => emu.clock.now(),
    flink: async (job) => new FlinkRestClient({ baseUrl: job.flink.url, timeoutMs: 2000, version: job.flink.version }),
    metrics: new CloudWatchMetricReader(new CloudWatchClient({})),
    store: new DynamoStateStore({ tableName, client: ddb.client }),
    target: (job) => createCapacityTarget(job, { autoScaling: new AutoScalingClient({}), resolveAddresses: false }),
    decide: policyDecide,
    startExecution: opts.workflow === false ? undefined : sfnStarter(new SFNClient({}), SM),
    notify: snsNotifier(new SNSClient({}), TOPIC),
    publishDecision: decisionPublisher(jobMetrics('FlinkElastic/FlinkElastic')),
    log: { info: log, warn: log, error: log },
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/** A savepoint-mode job at parallelism 4 on 2 TaskManagers × 2 slots, input far above its capacity for 2 minutes. */
async function overloadedJob(extra: { scheduler?: 'default' | 'reactive' } = {}) {
  emu = await startEmulator({ version: '1.14', taskManagers: 2, slotsPerTaskManager: 2, ...extra });
  const job = emu.model.startJob({ name: 'Orders Enrichment', parallelism: 4, inputRate: 9000, program: { operatorCapacityPerSubtask: 1000, sourceName: 'Source: Kafka Orders' } });
  emu.clock.advance(120_000);
  return job;
}

/** The same overload in reactive mode: 2 TaskManagers in the group, CloudWatch reporting the lag and 95 % CPU; its deps. */
async function overloadedReactiveJob() {
  await overloadedJob({ scheduler: 'reactive' });
  asgHas(2);
  const deps = await depsFor(configFor(emu.url, (j) => { j.mode = 'reactive'; delete j.submit; delete j.savepoint; }));
  cloudWatchSays(600_000, 95, emu.clock.now());
  return deps;
}

test('lag-high alarm on an overloaded savepoint-mode job: one rescale execution, named from the trigger, recorded and notified', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(600_000, 95, emu.clock.now());
  const event = alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now() - 30_000) });

  const r = await handleScalerEvent(event, deps);

  expect(r.outcome).toBe('started');
  expect(r.decision).toMatchObject({ action: 'rescale', direction: 'up', currentParallelism: 4 });
  expect(r.decision!.targetParallelism).toBeGreaterThan(4);
  expect(r.decision!.targetParallelism).toBeLessThanOrEqual(32);
  expect(r.executionName).toMatch(/^orders-enrichment-up-[0-9a-f]{12}$/);
  expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  const call = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
  expect(call.stateMachineArn).toBe(SM);
  expect(call.name).toBe(r.executionName);
  expect(JSON.parse(call.input!)).toEqual({
    job: 'orders-enrichment', parallelism: r.decision!.targetParallelism, reason: r.decision!.reason, startedBy: expect.stringMatching(/^scaler: FlinkElastic-orders-enrichment-lag-high@/),
    respectCooldown: true, // a rescale finishing before this execution locks the job makes it refuse (CooldownActive)
  });
  // CloudWatch was asked for exactly the alarm metrics
  expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
    MetricDataQueries: [expect.objectContaining({ MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ Namespace: 'AWS/Kafka', MetricName: 'SumOffsetLag' }) }) }), expect.anything()],
  });
  // capacity is the workflow's job: the scaler did not touch the ASG
  expect(asg).not.toHaveReceivedCommand(SetDesiredCapacityCommand);
  // recorded, explained, notified
  const history = await deps.store.history('orders-enrichment', 'decision');
  expect(history).toHaveLength(1);
  expect(history[0].detail).toMatchObject({ action: 'rescale', outcome: 'in-progress', fromParallelism: 4, toParallelism: r.decision!.targetParallelism, executionName: r.executionName });
  expect(await deps.store.getPolicyState('orders-enrichment')).toMatchObject({ version: 1 });
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: TOPIC, Subject: expect.stringMatching(/^orders-enrichment: rescale 4 -> \d+$/), Message: expect.stringContaining('Why: ') });
  const line = deps.logs.find((l) => l.message === 'decision');
  expect(line?.extra).toMatchObject({ job: 'orders-enrichment', outcome: 'started', decision: { action: 'rescale', from: { parallelism: 4 }, reason: expect.any(String) } });
});

test('adaptive mode: the execution carries the policy\'s per-vertex plan (vertexParallelism, by vertex id), not one job-level parallelism', async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 2, slotsPerTaskManager: 2, scheduler: 'adaptive' });
  const job = emu.model.startJob({ name: 'Orders Enrichment', parallelism: 4, inputRate: 9000, program: { operatorCapacityPerSubtask: 1000, sourceName: 'Source: Kafka Orders' } });
  emu.clock.advance(120_000);
  const deps = await depsFor(configFor(emu.url, (j) => { j.mode = 'adaptive'; j.flink.version = '1.19'; delete j.submit; delete j.savepoint; }));
  cloudWatchSays(600_000, 95, emu.clock.now());
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now() - 30_000) }), deps);
  expect(r.outcome).toBe('started');
  expect(r.decision!.perVertex).toBeDefined();
  const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
  expect(input.parallelism).toBeUndefined();
  expect(input.vertexParallelism).toEqual(r.decision!.perVertex);
  const ids = (await new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 }).job(job.id)).vertices.map((v) => v.id);
  expect(Object.keys(input.vertexParallelism).every((k) => ids.includes(k))).toBe(true);
  expect(Math.max(...(Object.values(input.vertexParallelism) as number[]))).toBe(r.decision!.targetParallelism);
});

test('the same alarm delivered twice (one after the other, and concurrently) starts one execution', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(600_000, 95, emu.clock.now());
  const event = alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now() - 30_000) });
  const [a, b] = await Promise.all([handleScalerEvent(event, deps), handleScalerEvent({ ...event, id: 'another-delivery' }, deps)]);
  expect([a.outcome, b.outcome].sort()).toEqual(['skipped', 'started']);
  const c = await handleScalerEvent(event, deps);
  expect(c.outcome).toBe('duplicate');
  expect(c.executionName).toBe([a, b].find((x) => x.outcome === 'started')!.executionName);
  expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
});

test('a re-delivery after a lost answer: Step Functions says ExecutionAlreadyExists, which is success', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(600_000, 95, emu.clock.now());
  sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('started');
  expect(r.reason).toMatch(/already exists for this trigger/);
  expect(r.executionArn).toBe(`${SM.replace(':stateMachine:', ':execution:')}:${r.executionName}`);
});

test('dry run: decides, records and notifies, changes nothing', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url, (j) => (j.dryRun = true)));
  cloudWatchSays(600_000, 95, emu.clock.now());
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('dry-run');
  expect(r.reason).toMatch(/^dry run: would start rescale workflow execution orders-enrichment-up-/);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  expect(asg).not.toHaveReceivedAnyCommand();
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { Subject: expect.stringMatching(/^\[dry run\] orders-enrichment: would rescale 4 -> \d+$/) });
  expect((await deps.store.history('orders-enrichment', 'decision'))[0].detail).toMatchObject({ outcome: 'dry-run', dryRun: true });
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const running = (await api.jobs()).filter((j) => j.state === 'RUNNING');
  expect(running).toHaveLength(1);
  expect((await api.job(running[0].id)).vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
});

test('reactive mode: the decision is a TaskManager count, set on the Auto Scaling group directly', async () => {
  const deps = await overloadedReactiveJob();
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('capacity-changed');
  expect(r.decision).toMatchObject({ action: 'scale-out-capacity', currentTaskManagers: 2 });
  const tms = r.decision!.targetTaskManagers;
  expect(tms).toBeGreaterThan(2);
  expect(asg).toHaveReceivedCommandWith(SetDesiredCapacityCommand, { AutoScalingGroupName: 'flink-taskmanagers-orders', DesiredCapacity: tms });
  expect(r.capacity).toEqual({ previous: 2, desired: tms });
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
});

test('a capacity-only change holds the job\'s lock while it acts, and releases it afterwards', async () => {
  const deps = await overloadedReactiveJob();
  let holderDuringChange: string | undefined;
  asg.on(SetDesiredCapacityCommand).callsFake(async () => {
    holderDuringChange = (await deps.store.getLock('orders-enrichment'))?.owner;
    return {};
  });
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('capacity-changed');
  expect(holderDuringChange).toMatch(/^scaler:/);
  expect(await deps.store.getLock('orders-enrichment')).toBeUndefined();
});

test('a rescale that locks the job between the scaler\'s lock check and its capacity change: the scaler changes nothing', async () => {
  const deps = await overloadedReactiveJob();
  const store = deps.store as DynamoStateStore;
  const getLock = store.getLock.bind(store);
  let checks = 0;
  // The execution takes the lock right after the scaler looked (and saw it free).
  store.getLock = async (job: string) => {
    const seen = await getLock(job);
    if (++checks === 1) await store.acquireLock(job, 'arn:aws:states:us-east-1:123456789012:execution:rescale:manual', { now: emu.clock.now(), ttlSeconds: 3600, reason: 'manual rescale' });
    return seen;
  };
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('skipped');
  expect(r.reason).toMatch(/a rescale of orders-enrichment started meanwhile .*execution:rescale:manual.*one change per job at a time/);
  expect(asg).not.toHaveReceivedCommand(SetDesiredCapacityCommand);
  expect((await getLock('orders-enrichment'))?.owner).toMatch(/execution:rescale:manual$/); // untouched
});

test('a rescale that finished between the scaler\'s snapshot and its capacity change: the stale decision is dropped', async () => {
  const deps = await overloadedReactiveJob();
  const store = deps.store as DynamoStateStore;
  const acquire = store.acquireLock.bind(store);
  store.acquireLock = async (job, owner, opts) => {
    await store.setLastRescaleAt(job, emu.clock.now() + 1); // the workflow's Record step, just now
    return acquire(job, owner, opts);
  };
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('skipped');
  expect(r.reason).toMatch(/finished at .* after this decision's snapshot/);
  expect(asg).not.toHaveReceivedCommand(SetDesiredCapacityCommand);
  expect(await store.getLock('orders-enrichment')).toBeUndefined();
});

test('the capacity-only lock fences: it expires between decide and act, another scaler delivery takes it over and acts; the first acts on nothing and says why', async () => {
  const deps = await overloadedReactiveJob();
  const store = deps.store as DynamoStateStore;
  const lastRescaleAt = store.getLastRescaleAt.bind(store);
  const owners: string[] = [];
  asg.on(SetDesiredCapacityCommand).callsFake(async () => {
    owners.push((await store.getLock('orders-enrichment'))!.owner);
    return {};
  });
  let second: Awaited<ReturnType<typeof handleScalerEvent>> | undefined;
  // Read after the lock is taken and before the capacity change: the first invocation stalls there past the lock's
  // 120 s; meanwhile a later alarm's invocation takes the expired lock over and changes the capacity.
  store.getLastRescaleAt = async (job: string) => {
    if (!second && (await store.getLock(job))?.owner.startsWith('scaler:')) {
      emu.clock.advance(121_000);
      cloudWatchSays(600_000, 95, emu.clock.now());
      second = { outcome: 'skipped' } as never; // re-entry guard
      // (the policy may want one more sample after the jump in time: later alarms, a few seconds apart)
      for (let i = 0; i < 4 && second.outcome !== 'capacity-changed'; i++) {
        emu.clock.advance(15_000);
        cloudWatchSays(600_000, 95, emu.clock.now());
        second = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
      }
    }
    return lastRescaleAt(job);
  };
  const first = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now() - 1000) }), deps);
  expect(second!.outcome).toBe('capacity-changed');
  expect(first.outcome).toBe('skipped');
  expect(first.reason).toMatch(/lost the lock of orders-enrichment before acting: .*no longer holds the rescale lock.*it did not set the desired capacity/);
  expect(deps.logs.some((l) => /lost the lock of orders-enrichment before acting/.test(l.message))).toBe(true);
  expect(asg).toHaveReceivedCommandTimes(SetDesiredCapacityCommand, 1); // exactly one acted
  expect(owners).toHaveLength(1);
  expect(await store.getLock('orders-enrichment')).toBeUndefined();
});

test('schedule entry: rescale to the scheduled parallelism, through the workflow; a retry of the same run acts once', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(undefined, undefined, emu.clock.now());
  const r = await handleScalerEvent(scheduleEvent('orders-enrichment', 16, { scheduledTime: new Date(emu.clock.now()).toISOString() }), deps);
  expect(r).toMatchObject({ outcome: 'started', decision: { action: 'rescale', targetParallelism: 16, rule: 'schedule', limitedBy: [] } });
  const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
  expect(input).toMatchObject({ job: 'orders-enrichment', parallelism: 16, startedBy: expect.stringMatching(/^schedule: /) });
  expect(input).not.toHaveProperty('respectCooldown'); // a schedule happens at its time
  // a retry of the same scheduled run acts once
  expect((await handleScalerEvent(scheduleEvent('orders-enrichment', 16, { scheduledTime: new Date(emu.clock.now()).toISOString() }), deps)).outcome).toBe('duplicate');
  expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
});

test.each([
  ['above', 500],
  ['below', 1],
])("schedule entry %s the job's bounds (2..32): refused naming the field and the range; nothing started, changed or recorded", async (_where, parallelism) => {
  await overloadedJob();
  asgHas(2);
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(undefined, undefined, emu.clock.now());
  const event = scheduleEvent('orders-enrichment', parallelism, { scheduledTime: new Date(emu.clock.now()).toISOString() });
  const err = await handleScalerEvent(event, deps).catch((e) => e);
  expect(err).toBeInstanceOf(ScalerEventError);
  expect(err.message).toContain(`parallelism: must be from 2 to 32 (bounds.minParallelism to bounds.maxParallelism of job "orders-enrichment") (got ${parallelism})`);
  expect(deps.logs).toContainEqual({ message: 'rejected malformed event; nothing changed', extra: expect.objectContaining({ error: err.message }) });
  // no execution, no capacity change, no notification, no CloudWatch read
  for (const m of [cw, sfn, asg, sns]) expect(m).not.toHaveReceivedAnyCommand();
  // no state written: no history entry, no policy state
  expect(await deps.store.history('orders-enrichment', 'decision')).toEqual([]);
  expect(await deps.store.getPolicyState('orders-enrichment')).toBeUndefined();
  // and the job still runs as it did
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const running = (await api.jobs()).filter((j) => j.state === 'RUNNING');
  expect(running).toHaveLength(1);
  expect((await api.job(running[0].id)).vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
  // the same entry within the bounds is then acted on (the refusal recorded nothing that would make it a duplicate)
  const ok = await handleScalerEvent({ ...event, parallelism: 16 }, deps);
  expect(ok).toMatchObject({ outcome: 'started', decision: { targetParallelism: 16 } });
});

test('while a rescale holds the job\'s lock, the scaler starts nothing', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(600_000, 95, emu.clock.now());
  await (deps.store as DynamoStateStore).acquireLock('orders-enrichment', 'arn:aws:states:...:execution:x:earlier', { now: emu.clock.now(), ttlSeconds: 3600, reason: 'rescale 2 -> 4' });
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('skipped');
  expect(r.reason).toMatch(/in progress .*earlier.*one rescale per job at a time/);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
});

test('a lock kept after a failed execution (a person is on it): the scaler starts nothing and says why and until when', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url));
  cloudWatchSays(600_000, 95, emu.clock.now());
  await (deps.store as DynamoStateStore).acquireLock('orders-enrichment', 'arn:aws:states:...:execution:x:stuck', {
    now: emu.clock.now(), ttlSeconds: 3600, reason: 'rescale 2 -> 4', progress: { kept: 'stop-with-savepoint pending at 2026-01-01T00:00:00.000Z' },
  });
  const r = await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps);
  expect(r.outcome).toBe('skipped');
  expect(r.reason).toMatch(/the lock of orders-enrichment is kept after execution .*stuck ended \(stop-with-savepoint pending .*\): a person is restoring or watching the job; it expires at /);
  expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
});

test('malformed events are rejected with the field named; nothing is read, changed or recorded', async () => {
  emu = await startEmulator();
  const deps = await depsFor(configFor(emu.url));
  const bad = alarmEvent('FlinkElastic-orders-enrichment-lag-high');
  bad.detail.state.value = 'FIRING';
  await expect(handleScalerEvent(bad, deps)).rejects.toThrow(ScalerEventError);
  await expect(handleScalerEvent(bad, deps)).rejects.toThrow(/detail\.state\.value: must be one of: "OK", "ALARM", "INSUFFICIENT_DATA"/);
  await expect(handleScalerEvent({ source: 'schedule', job: 'orders-enrichment', parallelism: 0 }, deps)).rejects.toThrow(/parallelism: must be an integer from 1 to 32768/);
  await expect(handleScalerEvent(alarmEvent('SomeOtherStack-orders-enrichment-lag-high'), deps)).rejects.toThrow(/detail\.alarmName: is not an alarm of stack "FlinkElastic"/);
  await expect(handleScalerEvent(alarmEvent('FlinkElastic-nope-lag-high'), deps)).rejects.toThrow(/detail\.alarmName: no job named "nope"/);
  await expect(handleScalerEvent(scheduleEvent('nope', 2), deps)).rejects.toThrow(/job: no job named "nope"; configured jobs: orders-enrichment/);
  for (const m of [cw, sfn, asg, sns]) expect(m).not.toHaveReceivedAnyCommand();
  expect(await deps.store.history('orders-enrichment', 'decision')).toEqual([]);
});

test('an alarm going back to OK is ignored; no workflow attached means a clear failure, notified', async () => {
  await overloadedJob();
  const deps = await depsFor(configFor(emu.url), { workflow: false });
  expect((await handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { state: 'OK' }), deps)).outcome).toBe('ignored');
  cloudWatchSays(600_000, 95, emu.clock.now());
  await expect(handleScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high', { timestamp: iso(emu.clock.now()) }), deps)).rejects.toThrow(/no rescale workflow is attached/);
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { Subject: expect.stringMatching(/FAILED$/) });
  expect((await deps.store.history('orders-enrichment', 'decision'))[0].detail).toMatchObject({ outcome: 'failed' });
});
