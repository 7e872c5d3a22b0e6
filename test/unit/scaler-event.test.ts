import { parseScalerEvent, ScalerEventError } from '../../functions/scaler/event';
import { alarmEvent, scheduleEvent } from '../fixtures/events';

const problems = (input: unknown) => {
  try {
    parseScalerEvent(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ScalerEventError);
    return (e as ScalerEventError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ScalerEventError');
};

test('an alarm state change becomes an alarm trigger with the state-change time', () => {
  expect(parseScalerEvent(alarmEvent('FlinkElastic-orders-enrichment-lag-high'))).toEqual({
    kind: 'alarm',
    alarmName: 'FlinkElastic-orders-enrichment-lag-high',
    state: 'ALARM',
    stateChangedAt: Date.parse('2026-11-21T10:00:00.000Z'),
    stateReason: expect.stringContaining('Threshold Crossed'),
    eventId: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
  });
});

test('a schedule entry becomes a schedule trigger', () => {
  expect(parseScalerEvent(scheduleEvent('orders-enrichment', 4))).toEqual({
    kind: 'schedule', job: 'orders-enrichment', parallelism: 4, schedule: 'night', scheduledAt: Date.parse('2026-11-21T22:00:00Z'), reason: undefined,
  });
  expect(parseScalerEvent({ source: 'schedule', job: 'x', parallelism: 2 })).toMatchObject({ kind: 'schedule', scheduledAt: undefined });
});

test.each([
  ['no source', {}, 'source: must be "aws.cloudwatch"'],
  ['null', null, 'source: must be "aws.cloudwatch"'],
  ['an SNS alarm notification', { Records: [{ Sns: {} }] }, 'source: must be "aws.cloudwatch"'],
  ['wrong detail-type', { ...alarmEvent('a'), 'detail-type': 'EC2 Instance State-change Notification' }, 'detail-type: must be "CloudWatch Alarm State Change"'],
  ['no alarm name', (() => { const e = alarmEvent('a'); delete e.detail.alarmName; return e; })(), 'detail.alarmName: must be the alarm name'],
  ['unknown state', (() => { const e = alarmEvent('a'); e.detail.state.value = 'FIRING'; return e; })(), 'detail.state.value: must be one of: "OK", "ALARM", "INSUFFICIENT_DATA"'],
  ['bad state time', (() => { const e = alarmEvent('a'); e.detail.state.timestamp = 'yesterday'; return e; })(), 'detail.state.timestamp: must be the time of the state change'],
  ['parallelism 0', scheduleEvent('j', 0), 'parallelism: must be an integer from 1 to 32768'],
  ['parallelism "4"', scheduleEvent('j', '4' as any), 'parallelism: must be an integer from 1 to 32768'],
  ['no job', { source: 'schedule', parallelism: 2 }, 'job: must be a job name from the config'],
  ['an unknown field', scheduleEvent('j', 2, { force: true }), 'unknown field(s) "force"'],
])('%s is rejected, naming the field and what is allowed', (_name, input, expected) => {
  expect(problems(input).join('\n')).toContain(expected);
});

test('the error message lists every problem at once', () => {
  const msg = (() => {
    try {
      parseScalerEvent({ source: 'schedule', job: '', parallelism: -1 });
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  })();
  expect(msg).toMatch(/^scaler event is invalid \(2 problems\)/);
  expect(msg).toContain('job:');
  expect(msg).toContain('parallelism:');
});
