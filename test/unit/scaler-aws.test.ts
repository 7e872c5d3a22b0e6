import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { executionArnOf, sfnStarter, snsNotifier } from '../../functions/scaler/aws';
import { executionName, triggerId } from '../../functions/scaler/scaler';
import { useMoto } from '../support/moto';

// StartExecution stays on aws-sdk-client-mock: the workflow itself runs on aws-local-stepfunctions (test/workflow), and
// the starter's contract (ExecutionAlreadyExists is success, throttling propagates) needs faults a local service
// does not produce on demand. SNS Publish runs against moto (test/README.md).
const sfn = mockClient(SFNClient);
const moto = useMoto();
beforeEach(() => {
  sfn.reset();
});
const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:FlinkElasticRescale';
const input = { job: 'orders-enrichment', parallelism: 8, reason: 'lag', startedBy: 'scaler: t' };

test('StartExecution with the given name and input', async () => {
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${executionArnOf(SM, 'n1')}`, startDate: new Date() });
  await expect(sfnStarter(new SFNClient({}), SM)('n1', input)).resolves.toEqual({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:FlinkElasticRescale:n1', alreadyExisted: false });
  expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: SM, name: 'n1', input: JSON.stringify(input) });
});

test('ExecutionAlreadyExists is success: the trigger already started its execution', async () => {
  sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
  await expect(sfnStarter(new SFNClient({}), SM)('n1', input)).resolves.toEqual({ executionArn: executionArnOf(SM, 'n1'), alreadyExisted: true });
});

test('a client factory (the deployed scaler: the SFN client is made on first use) is called once, on the first start', async () => {
  sfn.on(StartExecutionCommand).resolves({ executionArn: executionArnOf(SM, 'n1'), startDate: new Date() });
  let made = 0;
  const start = sfnStarter(() => (made++, new SFNClient({})), SM);
  expect(made).toBe(0);
  await start('n1', input);
  await start('n2', input);
  expect(made).toBe(1);
  expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
});

test('other StartExecution errors propagate', async () => {
  sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  await expect(sfnStarter(new SFNClient({}), SM)('n1', input)).rejects.toThrow('Rate exceeded');
});

test('SNS: the message arrives on the topic with an ASCII subject of at most 99 characters (moto)', async () => {
  const sns = new SNSClient(moto.config);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'flink-elastic' }));
  await snsNotifier(sns, TopicArn!)(`orders: rescale 4 → 8 ${'x'.repeat(200)}`, 'body ✓');
  const sent = await moto.server.published(TopicArn!);
  expect(sent).toHaveLength(1);
  expect(sent[0].subject).toMatch(/^orders: rescale 4 -> 8 x+$/);
  expect(sent[0].subject!.length).toBe(99);
  expect(sent[0].message).toBe('body ✓');
});

test('SNS: publishing to a topic that does not exist is an error, not a silent success (moto)', async () => {
  await expect(snsNotifier(new SNSClient(moto.config), 'arn:aws:sns:us-east-1:123456789012:missing')('s', 'm')).rejects.toThrow(/not exist|NotFound/i);
});

describe('execution names', () => {
  const alarm = { kind: 'alarm' as const, alarmName: 'FlinkElastic-orders-enrichment-lag-high', state: 'ALARM' as const, stateChangedAt: Date.parse('2026-11-21T10:00:00Z'), eventId: 'e1' };
  test('the same alarm state change gives the same name, whatever the event id or decided parallelism', () => {
    const a = executionName('orders-enrichment', { direction: 'up' }, triggerId(alarm, 1));
    const b = executionName('orders-enrichment', { direction: 'up' }, triggerId({ ...alarm, eventId: 'e2' }, 999_999));
    expect(a).toBe(b);
    expect(a).toMatch(/^orders-enrichment-up-[0-9a-f]{12}$/);
  });
  test('a new state change of the same alarm gives a new name', () => {
    const a = executionName('j', { direction: 'up' }, triggerId(alarm, 1));
    const b = executionName('j', { direction: 'up' }, triggerId({ ...alarm, stateChangedAt: alarm.stateChangedAt + 60_000 }, 1));
    expect(a).not.toBe(b);
  });
  test('names stay within Step Functions limits for the longest job names', () => {
    const n = executionName('a'.repeat(40), { direction: 'down' }, 'x');
    expect(n.length).toBeLessThanOrEqual(80);
    expect(n).toMatch(/^[A-Za-z0-9_-]+$/);
  });
  test('schedule retries share the scheduled time; without one, the minute', () => {
    const s = { kind: 'schedule' as const, job: 'j', parallelism: 4, schedule: 'night', scheduledAt: Date.parse('2026-11-21T22:00:00Z') };
    expect(triggerId(s, 1)).toBe(triggerId(s, 2_000_000));
    const manual = { kind: 'schedule' as const, job: 'j', parallelism: 4 };
    expect(triggerId(manual, Date.parse('2026-11-21T22:00:10Z'))).toBe(triggerId(manual, Date.parse('2026-11-21T22:00:50Z')));
    expect(triggerId(manual, Date.parse('2026-11-21T22:00:10Z'))).not.toBe(triggerId(manual, Date.parse('2026-11-21T22:01:10Z')));
  });
});
