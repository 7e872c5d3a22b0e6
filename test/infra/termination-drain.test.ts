/**
 * The deployed termination lifecycle hook: one hook per hooked Auto Scaling group, the EventBridge rules, the drain
 * state machine, the lifecycle Lambda's settings and its IAM. cdk-nag (AwsSolutions) runs on every build.
 */
import { parseConfig } from '../../functions/core/config';
import {
  LIFECYCLE_DETAIL_TYPE as ADAPTER_LIFECYCLE_DETAIL_TYPE,
  SPOT_WARNING_DETAIL_TYPE as ADAPTER_SPOT_DETAIL_TYPE,
  TERMINATING_TRANSITION,
} from '../../functions/adapters/targets/lifecycle-hook';
import { settingsFromEnv } from '../../functions/handlers/lifecycle-hook';
import {
  CHECK_RETRIES,
  CHECK_TIMEOUT_SECONDS,
  HEARTBEAT_MARGIN_SECONDS,
  heartbeatTimeoutFor,
  LIFECYCLE_DETAIL_TYPE,
  POLL_SECONDS,
  SPOT_WARNING_DETAIL_TYPE,
  TERMINATING,
} from '../../lib/constructs/termination-drain';
import { aslFromTemplate } from '../support/asl';
import { build, exampleDoc, fnByLogicalPrefix, statementsOf, type Built } from './helpers';

const ROLE = 'TerminationDrainFunctionServiceRole';
const GROUP_ARN = (g: string) => `arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/${g}`;

let b: Built;
let variant: Built;
beforeAll(() => {
  b = build();
  // Two jobs share one group (the longer drain wins), a dry-run job and a disabled job with their own groups, a
  // drain longer than a hook allows, and a Flink REST secret on an asg job.
  const doc = exampleDoc();
  const orders = doc.jobs[0];
  const fraud = doc.jobs[3];
  doc.jobs = [
    { ...orders, drainTimeoutSeconds: 300 },
    { ...fraud, name: 'fraud-a', target: { kind: 'asg', autoScalingGroupName: 'shared-tms' }, drainTimeoutSeconds: 120 },
    { ...fraud, name: 'fraud-b', target: { kind: 'asg', autoScalingGroupName: 'shared-tms' }, drainTimeoutSeconds: 900, flink: { ...fraud.flink, url: 'https://10.0.2.21:8081', auth: { type: 'basic', secretName: 'flink/fraud/rest' } } },
    { ...fraud, name: 'fraud-dry', dryRun: true, target: { kind: 'asg', autoScalingGroupName: 'dry-tms' } },
    { ...fraud, name: 'fraud-off', enabled: false, target: { kind: 'asg', autoScalingGroupName: 'off-tms' } },
    { ...fraud, name: 'fraud-long', target: { kind: 'asg', autoScalingGroupName: 'long-tms' }, drainTimeoutSeconds: 7200 },
    doc.jobs[1], // eks, with secrets the lifecycle function must not get
  ];
  variant = build(parseConfig(doc));
});

const hooks = (x: Built) => Object.values(x.template.findResources('AWS::AutoScaling::LifecycleHook')).map((h: any) => h.Properties);
const rules = (x: Built) => Object.values(x.template.findResources('AWS::Events::Rule')).map((r: any) => r.Properties) as any[];
const drainMachine = (x: Built) => {
  const sms = Object.entries(x.template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) => id.startsWith('TerminationDrain'));
  expect(sms).toHaveLength(1);
  return { id: sms[0][0], props: (sms[0][1] as any).Properties };
};

test('the construct and the handler agree on the event names', () => {
  expect([LIFECYCLE_DETAIL_TYPE, SPOT_WARNING_DETAIL_TYPE, TERMINATING]).toEqual([ADAPTER_LIFECYCLE_DETAIL_TYPE, ADAPTER_SPOT_DETAIL_TYPE, TERMINATING_TRANSITION]);
});

describe('lifecycle hooks', () => {
  test('example: one EC2_INSTANCE_TERMINATING hook per asg job\'s group, by name, heartbeat = drain + margin, ABANDON by default', () => {
    expect(hooks(b).sort((x, y) => x.AutoScalingGroupName.localeCompare(y.AutoScalingGroupName))).toEqual([
      expect.objectContaining({ AutoScalingGroupName: 'flink-taskmanagers-fraud', LifecycleHookName: 'FlinkElastic-drain-taskmanager', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300 + HEARTBEAT_MARGIN_SECONDS, DefaultResult: 'ABANDON' }),
      expect.objectContaining({ AutoScalingGroupName: 'flink-taskmanagers-orders', LifecycleHookName: 'FlinkElastic-drain-taskmanager', HeartbeatTimeout: 300 + HEARTBEAT_MARGIN_SECONDS, DefaultResult: 'ABANDON' }),
    ]);
    // No notification target: the events go to EventBridge (and need no role).
    for (const h of hooks(b)) expect(h).not.toHaveProperty('NotificationTargetARN');
    for (const h of hooks(b)) expect(h).not.toHaveProperty('RoleARN');
  });

  test('a shared group gets one hook sized for its most patient job; dry-run and disabled jobs get none; 7200 s is the cap', () => {
    const byGroup = Object.fromEntries(hooks(variant).map((h) => [h.AutoScalingGroupName, h]));
    expect(Object.keys(byGroup).sort()).toEqual(['flink-taskmanagers-orders', 'long-tms', 'shared-tms']);
    expect(byGroup['shared-tms'].HeartbeatTimeout).toBe(900 + HEARTBEAT_MARGIN_SECONDS);
    expect(JSON.parse(byGroup['shared-tms'].NotificationMetadata)).toEqual({ stack: 'FlinkElastic', jobs: ['fraud-a', 'fraud-b'], drainTimeoutSeconds: 900 });
    expect(byGroup['long-tms'].HeartbeatTimeout).toBe(7200);
  });

  test('heartbeatTimeoutFor stays within EC2 Auto Scaling\'s 30..7200 s', () => {
    expect(heartbeatTimeoutFor(10)).toBe(10 + HEARTBEAT_MARGIN_SECONDS);
    expect(heartbeatTimeoutFor(7000)).toBe(7200);
    // the margin covers the longest normal gap between two heartbeats: one wait plus a check and its retries
    expect(HEARTBEAT_MARGIN_SECONDS).toBeGreaterThan(POLL_SECONDS + (CHECK_RETRIES + 1) * (CHECK_TIMEOUT_SECONDS + 10) + 2 * (2 ** CHECK_RETRIES - 1));
  });

  test('no asg job (or only dry-run ones): no hook, no drain machine, no lifecycle function', () => {
    const doc = exampleDoc();
    doc.jobs = [doc.jobs[1], { ...doc.jobs[0], dryRun: true }];
    const { template } = build(parseConfig(doc));
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    expect(Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).filter((id) => id.startsWith('TerminationDrain'))).toEqual([]);
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('TerminationDrain'))).toEqual([]);
    expect(template.toJSON().Outputs).not.toHaveProperty('LifecycleHookName');
  });
});

describe('rules', () => {
  test('lifecycle actions of exactly these groups and this hook start the drain state machine', () => {
    const sm = drainMachine(b);
    const lifecycle = rules(b).filter((r) => r.EventPattern?.source?.[0] === 'aws.autoscaling');
    expect(lifecycle).toHaveLength(1);
    expect(lifecycle[0].EventPattern).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
      detail: {
        AutoScalingGroupName: ['flink-taskmanagers-fraud', 'flink-taskmanagers-orders'],
        LifecycleHookName: ['FlinkElastic-drain-taskmanager'],
        LifecycleTransition: ['autoscaling:EC2_INSTANCE_TERMINATING'],
      },
    });
    expect(lifecycle[0].Targets).toEqual([
      expect.objectContaining({ Arn: { Ref: sm.id }, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^TerminationDrainStateMachineEventsRole/), 'Arn'] } }),
    ]);
    // the events role may start this state machine and nothing else
    expect(statementsOf(b.template, 'TerminationDrainStateMachineEventsRole')).toEqual([expect.objectContaining({ Action: ['states:StartExecution'], Resource: [`{${sm.id}}`] })]);
  });

  test('Spot interruption warnings reach the lifecycle function directly', () => {
    const fn = fnByLogicalPrefix(b.template, 'TerminationDrainFunction');
    const spot = rules(b).filter((r) => r.EventPattern?.source?.[0] === 'aws.ec2');
    expect(spot).toEqual([
      expect.objectContaining({
        EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
        Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [fn.id, 'Arn'] } })],
      }),
    ]);
    b.template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] } });
  });

  test('the dry-run and disabled jobs\' groups are not in the pattern', () => {
    const names = rules(variant).filter((r) => r.EventPattern?.source?.[0] === 'aws.autoscaling').flatMap((r) => r.EventPattern.detail.AutoScalingGroupName);
    expect(names.sort()).toEqual(['flink-taskmanagers-orders', 'long-tms', 'shared-tms']);
  });
});

describe('drain state machine', () => {
  test('Check → Drained? → Done | WaitForDrain (SecondsPath $.nextCheckSeconds) → Check; failures notify and fail', () => {
    const sm = drainMachine(b);
    const [asl] = aslFromTemplate(b.template).filter((a) => a.StartAt === 'Check');
    expect(asl.States.Check).toMatchObject({ Type: 'Task', Next: 'Drained', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailure' }] });
    expect(asl.States.Check).not.toHaveProperty('Parameters'); // the whole state is the function's input
    expect(asl.States.Check.TimeoutSeconds).toBe(CHECK_TIMEOUT_SECONDS + 10); // what the heartbeat margin assumes
    expect(asl.States.Check.Retry[0]).toEqual({ ErrorEquals: ['LifecycleInputError'], MaxAttempts: 0 });
    expect(asl.States.Check.Retry[1]).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: CHECK_RETRIES });
    expect(asl.States.Drained).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Done' }], Default: 'WaitForDrain' });
    expect(asl.States.WaitForDrain).toEqual({ Type: 'Wait', SecondsPath: '$.nextCheckSeconds', Next: 'Check' });
    expect(asl.States.NotifyFailure).toMatchObject({ Type: 'Task', Resource: 'arn:aws:states:::sns:publish', Next: 'Failed' });
    expect(asl.States.Failed).toMatchObject({ Type: 'Fail', Error: 'DrainCheckFailed' });
    // Standard (drains outlast Express's 5 minutes), bounded, logged and traced
    expect(sm.props).toMatchObject({ StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true }, LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false } });
    expect(asl.TimeoutSeconds).toBe(300 + 900);
    const [long] = aslFromTemplate(variant.template).filter((a) => a.StartAt === 'Check');
    expect(long.TimeoutSeconds).toBe(7200 + 900);
  });

  test('its role may invoke the lifecycle function and publish to the topic, nothing else but logs and X-Ray', () => {
    const fn = fnByLogicalPrefix(b.template, 'TerminationDrainFunction');
    const st = statementsOf(b.template, 'TerminationDrainStateMachineRole');
    const invoke = st.filter((s) => s.Action.includes('lambda:InvokeFunction'));
    expect(invoke.flatMap((s) => s.Resource).sort()).toEqual([`{${fn.id}.Arn}`, `{${fn.id}.Arn}:*`]);
    expect(st.filter((s) => s.Action.includes('sns:Publish')).flatMap((s) => s.Resource)).toEqual([expect.stringMatching(/^\{Notifications/)]);
    const other = st.flatMap((s) => s.Action).filter((a) => !/^(lambda:InvokeFunction|sns:Publish|xray:|logs:)/.test(a));
    expect(other).toEqual([]);
  });
});

describe('lifecycle function', () => {
  test('Node.js 24 ARM64 in the VPC; checks once per invocation; its environment passes the handler\'s own validation', () => {
    const fn = fnByLogicalPrefix(b.template, 'TerminationDrainFunction').Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Timeout: CHECK_TIMEOUT_SECONDS });
    expect(fn.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'], SecurityGroupIds: ['sg-0a1b2c3d4e5f60733'] });
    const env = fn.Environment.Variables;
    expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'flink-elastic-lifecycle-hook', NOTIFICATION_TOPIC_ARN: { Ref: expect.stringMatching(/^Notifications/) }, FLINK_ELASTIC_CONFIG_SHA256: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(settingsFromEnv({ ...env, NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t' })).toEqual({
      onTimeout: 'ABANDON', pollSeconds: POLL_SECONDS, maxWaitSeconds: 0, topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
    });
  });

  test('IAM: complete/heartbeat on the hooked groups only; describe on "*" (no resource-level support); publish on the topic', () => {
    const st = statementsOf(b.template, ROLE);
    const hook = st.filter((s) => s.Action.some((a) => /Lifecycle/.test(a)));
    expect(hook).toEqual([expect.objectContaining({ Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'] })]);
    expect(hook[0].Resource.sort()).toEqual([GROUP_ARN('flink-taskmanagers-fraud'), GROUP_ARN('flink-taskmanagers-orders')]);
    const star = st.filter((s) => s.Resource.includes('*')).flatMap((s) => s.Action).sort();
    expect(star).toEqual(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(st.filter((s) => s.Action.includes('sns:Publish')).flatMap((s) => s.Resource)).toEqual([expect.stringMatching(/^\{Notifications/)]);
    // it never scales, terminates, reads the table or starts executions
    expect(st.flatMap((s) => s.Action).filter((a) => /^(autoscaling:(Set|Terminate|Update)|dynamodb:|states:|eks:|secretsmanager:)/.test(a))).toEqual([]);
  });

  test('IAM in the variant: hooked groups only (not the dry-run or disabled ones), secrets of asg jobs only', () => {
    const st = statementsOf(variant.template, ROLE);
    const hook = st.filter((s) => s.Action.includes('autoscaling:CompleteLifecycleAction'));
    expect(hook.flatMap((s) => s.Resource).sort()).toEqual(['flink-taskmanagers-orders', 'long-tms', 'shared-tms'].map(GROUP_ARN));
    const secrets = st.filter((s) => s.Action.includes('secretsmanager:GetSecretValue'));
    expect(secrets).toEqual([expect.objectContaining({ Action: ['secretsmanager:GetSecretValue'], Resource: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:flink/fraud/rest-??????'] })]);
  });

  test('cdk-nag: every acknowledgement on the lifecycle resources carries a reason', () => {
    expect(() => variant.app.synth()).not.toThrow();
    const acks = b.stack.terminationDrain!.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'));
    expect(acks.length).toBeGreaterThan(0);
    for (const m of acks) for (const [id, reason] of Object.entries(m.data as Record<string, string>)) expect({ id, reason }).toEqual({ id, reason: expect.stringMatching(/\w{3,}.*\s\w{3,}.*\s\w{3,}/) });
  });
});
