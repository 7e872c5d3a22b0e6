/**
 * The lifecycle-hook handler (drain a TaskManager before its instance terminates) against the Flink emulator.
 * Auto Scaling stays on aws-sdk-client-mock here, not moto (test/README.md): moto 5.2.6 does not implement
 * CompleteLifecycleAction or RecordLifecycleActionHeartbeat (it answers them with an HTML 404 page), and it never
 * puts an instance in Terminating:Wait (it terminates at once, hooks or not), so the group answers are given too.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig, type Config } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { startEmulator, type Emulator } from '../../local/emulator';
import { LifecycleInputError, parseLifecycleInput } from '../../functions/adapters/targets/lifecycle-hook';
import { makeLifecycleHookHandler, settingsFromEnv, type LifecycleHookSettings } from '../../functions/handlers/lifecycle-hook';

const asg = mockClient(AutoScalingClient);
const GROUP = 'flink-tm-asg';
const HOOK = 'drain-taskmanager';
const TOKEN = 'a1b2c3d4-0000-4000-8000-123456789abc';
const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0123456789abcdef1';
const T0 = Date.parse('2025-06-01T10:00:00Z');

function event(over: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: new Date(T0).toISOString(),
    region: 'eu-west-1',
    resources: [`arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:x:autoScalingGroupName/${GROUP}`],
    detail: {
      LifecycleActionToken: TOKEN,
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      EC2InstanceId: I1,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      Origin: 'AutoScalingGroup',
      Destination: 'EC2',
      ...over,
    },
  };
}

function config(over: { drainTimeoutSeconds?: number; dryRun?: boolean; group?: string } = {}): Config {
  return parseConfig({
    jobs: [
      {
        name: 'orders',
        dryRun: over.dryRun ?? false,
        flink: { url: 'http://127.0.0.1:8081' },
        mode: 'reactive',
        target: { kind: 'asg', autoScalingGroupName: over.group ?? GROUP },
        slotsPerTaskManager: 4,
        bounds: { maxParallelism: 16, maxTaskManagers: 4 },
        drainTimeoutSeconds: over.drainTimeoutSeconds ?? 60,
      },
    ],
  });
}

function group(instances: { id: string; state?: string }[] = [{ id: I1, state: 'Terminating:Wait' }, { id: I2 }]) {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: GROUP,
        DesiredCapacity: 1,
        MinSize: 0,
        MaxSize: 4,
        Instances: instances.map((i) => ({ InstanceId: i.id, LifecycleState: i.state ?? 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, AvailabilityZone: 'a' })) as any,
      } as any,
    ],
  });
}

interface Harness {
  handler: ReturnType<typeof makeLifecycleHookHandler>;
  published: { subject: string; message: string }[];
  clock: { now: number };
  emu: Emulator;
}

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/**
 * The real FlinkRestClient against the emulator. Its TaskManagers use the instance id as resource id (I1, I2) unless
 * `tms` says otherwise; virtual time moves for both the handler and the emulator.
 */
async function harness(opts: {
  tms?: { id?: string; host: string }[];
  busyOnFirst?: number;
  flinkUrl?: string;
  settings?: Partial<LifecycleHookSettings>;
  config?: Config;
}): Promise<Harness> {
  emu = await startEmulator({ taskManagers: 0, slotsPerTaskManager: 4 });
  const e = emu;
  for (const t of opts.tms ?? [{ id: I1, host: '10.0.0.1' }, { id: I2, host: '10.0.0.2' }]) e.model.addTaskManager(t);
  if (opts.busyOnFirst) {
    e.model.startJob({ name: 'orders', parallelism: opts.busyOnFirst }); // packs onto the first TaskManager
    e.clock.advance(5_000);
  }
  const clock = { now: T0 + 5_000 };
  const published: Harness['published'] = [];
  const client = new FlinkRestClient({ baseUrl: opts.flinkUrl ?? e.url, timeoutMs: 2000, retries: 0, retryDelayMs: 1 });
  const handler = makeLifecycleHookHandler({
    config: () => opts.config ?? config(),
    settings: { onTimeout: 'ABANDON', pollSeconds: 15, maxWaitSeconds: 600, ...opts.settings },
    autoScaling: new AutoScalingClient({}),
    flinkFor: () => client,
    publish: async (subject, message) => void published.push({ subject, message }),
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
      e.clock.advance(ms);
    },
  });
  return { handler, published, clock, emu: e };
}

const ref = { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: I1, LifecycleActionToken: TOKEN };
const completes = () => asg.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input);
const heartbeats = () => asg.commandCalls(RecordLifecycleActionHeartbeatCommand).length;

beforeEach(() => {
  asg.reset();
  asg.on(CompleteLifecycleActionCommand).resolves({});
  asg.on(RecordLifecycleActionHeartbeatCommand).resolves({});
  group();
});

describe('parseLifecycleInput', () => {
  test('reads the EventBridge lifecycle event, with the event time as the start of the drain', () => {
    expect(parseLifecycleInput(event())).toEqual({
      kind: 'lifecycle-action',
      action: { autoScalingGroupName: GROUP, lifecycleHookName: HOOK, instanceId: I1, lifecycleActionToken: TOKEN, startedAt: T0 },
    });
  });

  test.each([
    [{ LifecycleActionToken: undefined }, 'detail.LifecycleActionToken must be a non-empty string'],
    [{ EC2InstanceId: 'web-1' }, 'detail.EC2InstanceId must be an EC2 instance id (i-...)'],
    [{ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }, 'detail.LifecycleTransition must be "autoscaling:EC2_INSTANCE_TERMINATING"'],
  ])('bad event %j is rejected naming the field', (over, msg) => {
    expect(() => parseLifecycleInput(event(over))).toThrow(LifecycleInputError);
    expect(() => parseLifecycleInput(event(over))).toThrow(msg);
  });

  test('unknown event types and missing times are rejected', () => {
    expect(() => parseLifecycleInput({ ...event(), 'detail-type': 'EC2 Instance Launch Successful' })).toThrow(/detail-type must be/);
    expect(() => parseLifecycleInput({ ...event(), time: 'yesterday' })).toThrow(/time must be an ISO-8601 time/);
  });

  test('Spot interruption warnings are recognised', () => {
    const spot = { 'detail-type': 'EC2 Spot Instance Interruption Warning', source: 'aws.ec2', time: new Date(T0).toISOString(), detail: { 'instance-id': I1, 'instance-action': 'terminate' } };
    expect(parseLifecycleInput(spot)).toEqual({ kind: 'spot-interruption', instanceId: I1, instanceAction: 'terminate', at: T0 });
  });
});

describe('lifecycle hook handler', () => {
  test('TaskManager holds no slots: CONTINUE at once, no heartbeat, no notification', async () => {
    const h = await harness({});
    const r = await h.handler(event());
    expect(r).toMatchObject({ done: true, outcome: 'drained', completedWith: 'CONTINUE', notify: false, taskManagerId: I1 });
    expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'CONTINUE' }]);
    expect(heartbeats()).toBe(0);
    expect(h.published).toEqual([]);
  });

  test('busy TaskManager: heartbeats while it drains, then CONTINUE', async () => {
    const h = await harness({ busyOnFirst: 3 });
    const job = h.emu.model.findJob('orders')!;
    h.emu.clock.schedule(20_000, () => h.emu.model.cancel(job.id)); // the job leaves the TaskManager after ~20 s
    const r = await h.handler(event());
    expect(r).toMatchObject({ done: true, outcome: 'drained', completedWith: 'CONTINUE', taskManagerId: I1 });
    expect(heartbeats()).toBe(2); // at 5 s and 20 s; idle at the 35 s check
    expect(asg.commandCalls(RecordLifecycleActionHeartbeatCommand)[0].args[0].input).toEqual(ref);
    expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'CONTINUE' }]);
    expect(h.clock.now - T0).toBe(5_000 + 2 * 15_000); // two 15 s polls of virtual time
  });

  test('drain timeout reached: explicit outcome, completed with the configured result, notified', async () => {
    const h = await harness({ busyOnFirst: 3 });
    const r = await h.handler(event());
    expect(r).toMatchObject({ done: true, outcome: 'drain-timeout', completedWith: 'ABANDON', notify: true, busySlots: 3, taskManagerId: I1 });
    expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'ABANDON' }]);
    expect(heartbeats()).toBe(4); // at 5, 20, 35, 50 s; the 65 s check is past the 60 s drain timeout
    expect(h.published).toHaveLength(1);
    expect(h.published[0].subject).toBe(`flink-elastic: drain-timeout ${I1}`);
    expect(h.published[0].message).toMatch(/Drain timeout \(60s\) reached for i-0123456789abcdef0 in flink-tm-asg: TaskManager i-0123456789abcdef0 still holds 3 slot\(s\); completed with ABANDON/);

    asg.resetHistory();
    await h.emu.close();
    const cont = await harness({ busyOnFirst: 3, settings: { onTimeout: 'CONTINUE' } });
    expect(await cont.handler(event())).toMatchObject({ outcome: 'drain-timeout', completedWith: 'CONTINUE' });
    expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'CONTINUE' }]);
  });

  test('invocation budget spent: returns {done:false} that the next invocation continues from', async () => {
    const h = await harness({ busyOnFirst: 1, settings: { maxWaitSeconds: 20 }, config: config({ drainTimeoutSeconds: 300 }) });
    const first = await h.handler(event());
    expect(first).toMatchObject({ done: false, nextCheckSeconds: 15, action: { instanceId: I1, startedAt: T0 } });
    expect(completes()).toEqual([]);
    const second = await h.handler(first);
    expect(second.done).toBe(false);
    expect(heartbeats()).toBe(4);
    // Remaining Lambda time also bounds the loop (10 s safety margin).
    asg.resetHistory();
    const r = await h.handler(event(), { getRemainingTimeInMillis: () => 12_000 });
    expect(r.done).toBe(false);
    expect(heartbeats()).toBe(1);
  });

  test('the action is gone (Spot reclaim, completed elsewhere): reported and notified, no error', async () => {
    asg.on(RecordLifecycleActionHeartbeatCommand).rejects(Object.assign(new Error(`No active Lifecycle Action found with instance ID ${I1}`), { name: 'ValidationError' }));
    const h = await harness({ busyOnFirst: 2 });
    const r = await h.handler(event());
    expect(r).toMatchObject({ done: true, outcome: 'action-gone', notify: true });
    expect(h.published[0].message).toMatch(/no longer exists/);
  });

  test('an instance that cannot be mapped while unmapped TaskManagers hold slots is treated as busy', async () => {
    const h = await harness({ tms: [{ host: '10.9.9.9' }, { id: I2, host: '10.0.0.2' }], busyOnFirst: 2, settings: { maxWaitSeconds: 0 } });
    const r = await h.handler(event());
    expect(r).toMatchObject({ done: false });
    expect(completes()).toEqual([]);
    expect((r as any).reason).toMatch(/could not be mapped .* treating it as busy/);
  });

  test('an unmapped instance completes when no unmapped TaskManager holds slots (nothing can be lost)', async () => {
    const h = await harness({ tms: [{ id: I2, host: '10.0.0.2' }, { host: '10.9.9.9' }], busyOnFirst: 4 });
    expect(await h.handler(event())).toMatchObject({ outcome: 'drained', completedWith: 'CONTINUE' });
  });

  test('Flink unreachable: keeps waiting, then times out explicitly', async () => {
    const closed = await startEmulator();
    const deadUrl = closed.url;
    await closed.close(); // nothing listens there any more
    const h = await harness({ flinkUrl: deadUrl });
    const r = await h.handler(event());
    expect(r).toMatchObject({ outcome: 'drain-timeout', completedWith: 'ABANDON', notify: true });
    expect((r as any).message).toContain("Flink REST (the job's flink.url) unreachable");
    expect((r as any).message).not.toContain(deadUrl.replace(/^https?:\/\//, ''));
  });

  test('Spot interruption warning: reported with the TaskManager it hits, nothing changed', async () => {
    group([{ id: I1 }, { id: I2 }]);
    const h = await harness({ busyOnFirst: 3 });
    const r = await h.handler({ 'detail-type': 'EC2 Spot Instance Interruption Warning', source: 'aws.ec2', time: new Date(T0).toISOString(), detail: { 'instance-id': I1, 'instance-action': 'terminate' } });
    expect(r).toMatchObject({ done: true, outcome: 'spot-interruption', notify: true, autoScalingGroupName: GROUP, taskManagerId: I1, busySlots: 3 });
    expect(completes()).toEqual([]);
    expect(heartbeats()).toBe(0);
    expect(h.published[0].message).toMatch(/will be terminated in about 2 minutes \(not fought\)/);
  });

  test('a group no job uses: left alone, notified', async () => {
    const h = await harness({ config: config({ group: 'another-asg' }) });
    const r = await h.handler(event());
    expect(r).toMatchObject({ outcome: 'not-managed', notify: true });
    expect(completes()).toEqual([]);
  });

  test('dry-run job: decides and explains, never heartbeats or completes', async () => {
    const h = await harness({ config: config({ dryRun: true }) });
    const r = await h.handler(event());
    expect(r).toMatchObject({ outcome: 'drained' });
    expect((r as any).message).toMatch(/^dry run: would complete with CONTINUE/);
    expect(completes()).toEqual([]);
    expect(heartbeats()).toBe(0);
  });

  test('API errors are typed and name the group', async () => {
    asg.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const h = await harness({});
    await expect(h.handler(event())).rejects.toMatchObject({ name: 'CapacityTargetError', code: 'API', retryable: true, target: `asg:${GROUP}`, operation: 'CompleteLifecycleAction' });
  });
});

test('settingsFromEnv validates each variable, naming it and the allowed values', () => {
  expect(settingsFromEnv({})).toEqual({ onTimeout: 'ABANDON', pollSeconds: 15, maxWaitSeconds: 600, topicArn: undefined });
  expect(() => settingsFromEnv({ LIFECYCLE_ON_DRAIN_TIMEOUT: 'RETRY' })).toThrow('LIFECYCLE_ON_DRAIN_TIMEOUT must be "ABANDON" or "CONTINUE" (got "RETRY")');
  expect(() => settingsFromEnv({ LIFECYCLE_POLL_SECONDS: '0' })).toThrow('LIFECYCLE_POLL_SECONDS must be an integer from 1 to 300 (got "0")');
  expect(() => settingsFromEnv({ LIFECYCLE_MAX_WAIT_SECONDS: '900' })).toThrow('LIFECYCLE_MAX_WAIT_SECONDS must be an integer from 0 to 840');
});

