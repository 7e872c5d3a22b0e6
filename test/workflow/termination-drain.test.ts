/**
 * The drain state machine exactly as CDK synthesizes it (lib/constructs/termination-drain.ts), run by
 * aws-local-stepfunctions: every Check invokes the real lifecycle handler (makeLifecycleHookHandler, with the
 * settings the stack gives the function) against the Flink emulator over loopback via FlinkRestClient; Auto Scaling
 * under aws-sdk-client-mock (moto 5.2.6 implements neither CompleteLifecycleAction nor RecordLifecycleActionHeartbeat,
 * nor Terminating:Wait; test/README.md). Time is virtual: Wait states sleep on a VirtualClock that the emulator follows.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { StateMachine } from 'aws-local-stepfunctions';
import { parseConfig, type Config } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { makeLifecycleHookHandler, settingsFromEnv } from '../../functions/handlers/lifecycle-hook';
import { CHECK_RETRIES, TerminationDrain } from '../../lib/constructs/termination-drain';
import { startEmulator, type Emulator } from '../../local/emulator';
import { VirtualClock, virtualizeWaits } from '../../local/virtual-time';
import { aslFromTemplate } from '../support/asl';

const GROUP = 'orders-tms';
const HOOK = 'WorkflowTest-drain-taskmanager';
const TOKEN = 'c0ffee00-0000-4000-8000-123456789abc';
const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0123456789abcdef1';
const SLEEP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:VirtualWait';
const DRAIN_SECONDS = 120;

const asg = mockClient(AutoScalingClient);

function config(url: string, stackName = 'WorkflowTest'): Config {
  return parseConfig({
    deployment: { stackName },
    jobs: [
      {
        name: 'orders',
        flink: { url, version: '1.19' },
        mode: 'reactive',
        target: { kind: 'asg', autoScalingGroupName: GROUP },
        slotsPerTaskManager: 4,
        bounds: { maxParallelism: 16, maxTaskManagers: 4 },
        drainTimeoutSeconds: DRAIN_SECONDS,
      },
    ],
  });
}

let asl: any;
let fnEnv: Record<string, string>;
beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'WorkflowTest');
  const topic = new sns.Topic(stack, 'Notifications', { enforceSSL: true });
  new TerminationDrain(stack, 'TerminationDrain', { config: config('http://127.0.0.1:8081'), topic });
  const template = Template.fromStack(stack);
  const found = aslFromTemplate(template);
  expect(found).toHaveLength(1);
  asl = found[0];
  const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('TerminationDrainFunction'))![1] as any;
  fnEnv = { ...fn.Properties.Environment.Variables, NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:notifications' };
});

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

beforeEach(() => {
  asg.reset();
  asg.on(CompleteLifecycleActionCommand).resolves({});
  asg.on(RecordLifecycleActionHeartbeatCommand).resolves({});
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: GROUP,
        DesiredCapacity: 1,
        MinSize: 0,
        MaxSize: 4,
        Instances: [
          { InstanceId: I1, LifecycleState: 'Terminating:Wait', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, AvailabilityZone: 'a' },
          { InstanceId: I2, LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, AvailabilityZone: 'a' },
        ],
      } as any,
    ],
  });
});

const ref = { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: I1, LifecycleActionToken: TOKEN };
const completes = () => asg.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input);
const heartbeats = () => asg.commandCalls(RecordLifecycleActionHeartbeatCommand).length;

function lifecycleEvent(at: number, over: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { LifecycleActionToken: TOKEN, AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, EC2InstanceId: I1, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', ...over },
  };
}

interface Run {
  status: 'SUCCEEDED' | 'FAILED';
  output?: any;
  error?: { name: string; message: string };
  states: string[];
  checks: number;
  failureMessages: any[];
  published: { subject: string; message: string }[];
  world: VirtualClock;
  startedAt: number;
  finishedAt: number;
}

/**
 * Two TaskManagers (I1, I2) on the emulator; `busy` slots of a job packed onto I1. `freeAfterMs`: the job is
 * cancelled after that long (its slots are freed). Runs the synthesized machine on `input(now)` to the end.
 */
async function run(opts: { busy?: number; freeAfterMs?: number; input?: (now: number) => unknown }): Promise<Run> {
  emu = await startEmulator({ taskManagers: 0, slotsPerTaskManager: 4 });
  const e = emu;
  e.model.addTaskManager({ id: I1, host: '10.0.0.1' });
  e.model.addTaskManager({ id: I2, host: '10.0.0.2' });
  if (opts.busy) {
    const job = e.model.startJob({ name: 'orders', parallelism: opts.busy });
    e.clock.advance(5_000);
    if (opts.freeAfterMs !== undefined) e.clock.schedule(opts.freeAfterMs, () => e.model.cancel(job.id));
  }
  const world = new VirtualClock(e.clock.now());
  const published: Run['published'] = [];
  const client = new FlinkRestClient({ baseUrl: e.url, timeoutMs: 2000, retries: 0, retryDelayMs: 1 });
  const handler = makeLifecycleHookHandler({
    config: () => config(e.url),
    settings: settingsFromEnv(fnEnv),
    autoScaling: new AutoScalingClient({}),
    flinkFor: () => client,
    publish: async (subject, message) => void published.push({ subject, message }),
    now: () => world.now(),
    // With the stack's settings each invocation checks once; the handler must never sleep in Lambda.
    sleep: async () => {
      throw new Error('the lifecycle handler slept inside Lambda');
    },
  });

  const virtual = virtualizeWaits(asl, SLEEP_ARN).asl;
  let checks = 0;
  const failureMessages: any[] = [];
  const sm = new StateMachine(virtual, { validationOptions: { checkArn: false } });
  const startedAt = world.now();
  const states: string[] = [];
  const execution = world.track(async () => {
    const exec = sm.run(opts.input ? (opts.input(startedAt) as any) : lifecycleEvent(startedAt), {
      overrides: {
        taskResourceLocalHandlers: {
          Check: async (input: unknown) => {
            checks++;
            return (await handler(input, { getRemainingTimeInMillis: () => 60_000 })) as any;
          },
          WaitForDrain: async (i) => {
            await world.sleep((i as { seconds: number }).seconds * 1000);
            return {};
          },
          NotifyFailure: async (i) => {
            failureMessages.push(i);
            return {};
          },
        },
        retryIntervalOverrides: { Check: 0 },
      },
    });
    const collect = (async () => {
      for await (const ev of exec.eventLogs) if (ev.type === 'StateEntered') states.push(ev.state.name);
    })();
    try {
      const output = await exec.result;
      await collect;
      return { status: 'SUCCEEDED' as const, output };
    } catch (err) {
      await collect.catch(() => undefined);
      const cause = (err as { cause?: { name?: string; message?: string } }).cause;
      return { status: 'FAILED' as const, error: { name: cause?.name ?? (err as Error).name, message: cause?.message ?? (err as Error).message } };
    }
  });
  // Drive virtual time (the emulator follows) until the execution ends; bounded by the state machine's own timeout.
  let finished = false;
  void execution.finally(() => (finished = true));
  const limit = startedAt + asl.TimeoutSeconds * 1000;
  while (!finished) {
    await world.settle();
    if (finished) break;
    const next = world.nextWake();
    if (next === undefined) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    if (next > limit) throw new Error('the drain execution outlived its TimeoutSeconds');
    await world.advanceTo(next, (now) => {
      const d = now - e.clock.now();
      if (d > 0) e.clock.advance(d);
    });
  }
  return { ...(await execution), states, checks, failureMessages, published, world, startedAt, finishedAt: world.now() };
}

test('a busy TaskManager: the machine checks every 15 s (one check per invocation, heartbeating), then CONTINUE once it is idle', async () => {
  const r = await run({ busy: 3, freeAfterMs: 50_000 });
  expect(r.status).toBe('SUCCEEDED');
  expect(r.output).toMatchObject({ done: true, outcome: 'drained', completedWith: 'CONTINUE', taskManagerId: I1, instanceId: I1 });
  // checks at 0, 15, 30, 45 s (busy: heartbeat each), idle at 60 s (the job left at ~50 s)
  expect(r.checks).toBe(5);
  expect(heartbeats()).toBe(4);
  expect(asg.commandCalls(RecordLifecycleActionHeartbeatCommand)[0].args[0].input).toEqual(ref);
  expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'CONTINUE' }]);
  expect(r.finishedAt - r.startedAt).toBe(4 * 15_000);
  expect(r.states).toEqual([...Array(4).fill(['Check', 'Drained', 'WaitForDrain']).flat(), 'Check', 'Drained', 'Done']);
  expect(r.published).toEqual([]); // a clean drain is not notified
});

test('never drains: completes with ABANDON once the drain timeout has passed, notified; the execution ends there', async () => {
  const r = await run({ busy: 4 });
  expect(r.status).toBe('SUCCEEDED');
  expect(r.output).toMatchObject({ done: true, outcome: 'drain-timeout', completedWith: 'ABANDON', busySlots: 4, notify: true });
  expect(completes()).toEqual([{ ...ref, LifecycleActionResult: 'ABANDON' }]);
  // 120 s drain timeout: heartbeats at 0, 15, ..., 105 s; the check at 120 s is at the deadline
  expect(heartbeats()).toBe(8);
  expect(r.finishedAt - r.startedAt).toBe(DRAIN_SECONDS * 1000);
  expect(r.published).toHaveLength(1);
  expect(r.published[0].message).toMatch(/Drain timeout \(120s\) reached for i-0123456789abcdef0 in orders-tms: TaskManager i-0123456789abcdef0 still holds 4 slot\(s\); completed with ABANDON/);
});

test('an idle TaskManager: one check, CONTINUE at once', async () => {
  const r = await run({});
  expect(r.output).toMatchObject({ outcome: 'drained', completedWith: 'CONTINUE' });
  expect(r.states).toEqual(['Check', 'Drained', 'Done']);
  expect(heartbeats()).toBe(0);
});

test('a check that keeps failing is retried, then notified with the error and the action, and the execution fails', async () => {
  asg.on(CompleteLifecycleActionCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
  const r = await run({});
  expect(r.status).toBe('FAILED');
  expect(r.error?.name).toBe('DrainCheckFailed');
  expect(r.checks).toBe(1 + CHECK_RETRIES);
  expect(r.failureMessages).toHaveLength(1);
  const { Message, Subject } = r.failureMessages[0];
  expect(Subject).toBe('flink-elastic: termination drain check failed');
  expect(Message).toMatch(/^The drain check of a terminating TaskManager instance failed after retries; .* times out after its HeartbeatTimeout and then applies DefaultResult ABANDON\. State with the error: \{/);
  // (asserted as text: aws-local-stepfunctions 3.0.0's States.JsonToString leaves quotes inside strings unescaped)
  expect(Message).toContain('"error":{"Error":"CapacityTargetError"');
  expect(Message).toContain('CompleteLifecycleAction failed (FORBIDDEN)');
  expect(Message).toContain(`"EC2InstanceId":"${I1}"`);
  expect(Message).toContain(`"LifecycleActionToken":"${TOKEN}"`);
});

test('a malformed event is not retried: notified at once, naming the field', async () => {
  const r = await run({ input: (now) => lifecycleEvent(now, { EC2InstanceId: 'web-1' }) });
  expect(r.status).toBe('FAILED');
  expect(r.checks).toBe(1);
  const { Message } = r.failureMessages[0];
  expect(Message).toContain('"error":{"Error":"LifecycleInputError"');
  expect(Message).toContain('detail.EC2InstanceId must be an EC2 instance id');
  expect(completes()).toEqual([]);
  expect(heartbeats()).toBe(0);
});
