import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { executionArnOf, sfnStarter, snsNotifier } from '../../functions/scaler/aws';
import { executionName, triggerId } from '../../functions/scaler/scaler';

const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
beforeEach(() => {
  sfn.reset();
  sns.reset();
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

test('other StartExecution errors propagate', async () => {
  sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
  await expect(sfnStarter(new SFNClient({}), SM)('n1', input)).rejects.toThrow('Rate exceeded');
});

test('SNS subject is ASCII and at most 99 characters', async () => {
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  await snsNotifier(new SNSClient({}), 'arn:aws:sns:us-east-1:123456789012:t')(`orders: rescale 4 → 8 ${'x'.repeat(200)}`, 'body ✓');
  const call = sns.commandCalls(PublishCommand)[0].args[0].input;
  expect(call.Subject).toMatch(/^orders: rescale 4 -> 8 x+$/);
  expect(call.Subject!.length).toBe(99);
  expect(call.Message).toBe('body ✓');
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
