/**
 * The deployed `alarmStates` port: CloudWatch DescribeAlarms on exactly one job's alarm names (aws-sdk-client-mock),
 * and the production scaler handler using it for re-evaluation ticks.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { findJob, parseConfig } from '../../functions/core/config';
import { alarmSpecs } from '../../functions/core/signals';
import { resetBundledConfig } from '../../functions/handlers/shared/bundled-config';
import { cloudWatchAlarmStates } from '../../functions/scaler/aws';
import { exampleConfig, exampleDoc } from '../support/example-config';

const cw = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBClient);
beforeEach(() => {
  cw.reset();
  ddb.reset();
});

const config = exampleConfig();
const job = findJob(config, 'orders-enrichment');
const names = alarmSpecs('FlinkElastic', job).map((s) => s.alarmName);

test('one DescribeAlarms on exactly the job\'s four metric alarms; states by alarm name', async () => {
  cw.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: 'FlinkElastic-orders-enrichment-lag-high', StateValue: 'ALARM' },
      { AlarmName: 'FlinkElastic-orders-enrichment-lag-low', StateValue: 'OK' },
      { AlarmName: 'FlinkElastic-orders-enrichment-cpu-high', StateValue: 'INSUFFICIENT_DATA' },
      { AlarmName: 'FlinkElastic-orders-enrichment-cpu-low', StateValue: 'OK' },
    ],
  });
  await expect(cloudWatchAlarmStates(new CloudWatchClient({}), 'FlinkElastic')(job)).resolves.toEqual({
    'FlinkElastic-orders-enrichment-lag-high': 'ALARM',
    'FlinkElastic-orders-enrichment-lag-low': 'OK',
    'FlinkElastic-orders-enrichment-cpu-high': 'INSUFFICIENT_DATA',
    'FlinkElastic-orders-enrichment-cpu-low': 'OK',
  });
  expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
  const input = cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input;
  expect(input.AlarmNames).toEqual(names);
  expect(names).toHaveLength(4);
  expect(input.AlarmTypes).toEqual(['MetricAlarm']);
});

test('a job without a lag source asks for its two CPU alarms only', async () => {
  const doc = exampleDoc();
  delete doc.jobs[0].lag;
  const noLag = findJob(parseConfig(doc), 'orders-enrichment');
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  await cloudWatchAlarmStates(new CloudWatchClient({}), 'FlinkElastic')(noLag);
  expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames).toEqual(['FlinkElastic-orders-enrichment-cpu-high', 'FlinkElastic-orders-enrichment-cpu-low']);
});

test('an alarm CloudWatch does not know is left out (never counts as in ALARM); names of other jobs are ignored; pages are followed', async () => {
  cw.on(DescribeAlarmsCommand)
    .resolvesOnce({ MetricAlarms: [{ AlarmName: 'FlinkElastic-orders-enrichment-lag-high', StateValue: 'OK' }], NextToken: 'p2' })
    .resolvesOnce({ MetricAlarms: [{ AlarmName: 'FlinkElastic-other-lag-high', StateValue: 'ALARM' }, { AlarmName: 'FlinkElastic-orders-enrichment-cpu-low', StateValue: 'ALARM' }] });
  await expect(cloudWatchAlarmStates(new CloudWatchClient({}), 'FlinkElastic')(job)).resolves.toEqual({
    'FlinkElastic-orders-enrichment-lag-high': 'OK',
    'FlinkElastic-orders-enrichment-cpu-low': 'ALARM',
  });
  expect(cw.commandCalls(DescribeAlarmsCommand)[1].args[0].input.NextToken).toBe('p2');
});

test('a state CloudWatch never sends is an error naming the alarm and the allowed values', async () => {
  cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'FlinkElastic-orders-enrichment-lag-high', StateValue: 'BROKEN' as never }] });
  await expect(cloudWatchAlarmStates(new CloudWatchClient({}), 'FlinkElastic')(job)).rejects.toThrow(
    'DescribeAlarms: MetricAlarms[FlinkElastic-orders-enrichment-lag-high].StateValue is "BROKEN"; expected one of OK, ALARM, INSUFFICIENT_DATA',
  );
});

describe('production handler', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // Flink endpoints on a closed loopback port: a regression that reads Flink fails here instead of going anywhere.
    const doc = exampleDoc();
    for (const j of doc.jobs) Object.assign(j.flink, { url: 'http://127.0.0.1:1', allowInsecure: true }); // loopback: auth over http allowed
    process.env.FLINK_ELASTIC_CONFIG_JSON = JSON.stringify(doc);
    process.env.STATE_TABLE_NAME = 'flink-elastic-state';
    process.env.NOTIFICATION_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:flink-elastic';
    resetBundledConfig();
  });
  afterAll(() => {
    process.env = saved;
    resetBundledConfig();
  });

  test('a re-evaluation tick while none of the job\'s alarms is in ALARM returns after one DescribeAlarms: no Flink, metric or table read', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: names.map((n) => ({ AlarmName: n, StateValue: n.endsWith('-high') ? 'OK' : 'INSUFFICIENT_DATA' })) });
    const { handler } = await import('../../functions/handlers/scaler');
    const r = await handler({ source: 'reevaluate', job: 'orders-enrichment', time: '2026-03-01T10:15:00Z' });
    expect(r).toMatchObject({ job: 'orders-enrichment', outcome: 'ignored', reason: 'no alarm of job orders-enrichment is in ALARM; nothing to re-evaluate' });
    expect(cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames)).toEqual([names]);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 0);
    expect(ddb.calls()).toHaveLength(0);
  });
});
