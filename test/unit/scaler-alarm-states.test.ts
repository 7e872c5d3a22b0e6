/**
 * The deployed `alarmStates` port: CloudWatch DescribeAlarms on exactly one job's alarm names, against moto on loopback
 * (alarms created with PutMetricAlarm from the job's alarm specs, states set with SetAlarmState); and the production
 * scaler handler using it for re-evaluation ticks. Answers CloudWatch never gives (another job's names, an unknown
 * state, a NextToken: moto does not page DescribeAlarms) stay on aws-sdk-client-mock (test/README.md).
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricAlarmCommand, SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { findJob, parseConfig } from '../../functions/core/config';
import { alarmSpecs, type AlarmSpec } from '../../functions/core/signals';
import { resetBundledConfig } from '../../functions/handlers/shared/bundled-config';
import { cloudWatchAlarmStates } from '../../functions/scaler/aws';
import { exampleConfig, exampleDoc } from '../support/example-config';
import { useMoto } from '../support/moto';

const moto = useMoto();
const config = exampleConfig();
const job = findJob(config, 'orders-enrichment');
const specs = alarmSpecs('FlinkElastic', job);
const names = specs.map((s) => s.alarmName);

/** The alarm as the stack defines it, then moved to `state` (SetAlarmState, as CloudWatch's evaluation would). */
async function alarm(cw: CloudWatchClient, spec: AlarmSpec, state?: StateValue) {
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: spec.alarmName, AlarmDescription: spec.description, Namespace: spec.metric.namespace, MetricName: spec.metric.metricName,
      Dimensions: Object.entries(spec.metric.dimensions).map(([Name, Value]) => ({ Name, Value })), Statistic: spec.metric.statistic as never,
      Period: spec.periodSeconds, EvaluationPeriods: spec.evaluationPeriods, DatapointsToAlarm: spec.datapointsToAlarm, Threshold: spec.threshold,
      ComparisonOperator: spec.comparison, TreatMissingData: spec.treatMissingData,
    }),
  );
  if (state) await cw.send(new SetAlarmStateCommand({ AlarmName: spec.alarmName, StateValue: state, StateReason: 'test' }));
}

describe('against CloudWatch (moto)', () => {
  let cw: CloudWatchClient;
  beforeEach(() => {
    cw = new CloudWatchClient(moto.config);
  });

  test("the job's four metric alarms, states by alarm name; another job's alarms are not read", async () => {
    expect(names).toEqual(['FlinkElastic-orders-enrichment-lag-high', 'FlinkElastic-orders-enrichment-lag-low', 'FlinkElastic-orders-enrichment-cpu-high', 'FlinkElastic-orders-enrichment-cpu-low']);
    await alarm(cw, specs[0], 'ALARM');
    await alarm(cw, specs[1], 'OK');
    // a new alarm is INSUFFICIENT_DATA on CloudWatch; moto 5.2.6 starts every alarm at OK, so the state is set explicitly
    await alarm(cw, specs[2], 'INSUFFICIENT_DATA');
    await alarm(cw, specs[3], 'OK');
    const other = alarmSpecs('FlinkElastic', findJob(config, 'clickstream-sessions'));
    for (const s of other) await alarm(cw, s, 'ALARM');
    await expect(cloudWatchAlarmStates(cw, 'FlinkElastic')(job)).resolves.toEqual({
      'FlinkElastic-orders-enrichment-lag-high': 'ALARM',
      'FlinkElastic-orders-enrichment-lag-low': 'OK',
      'FlinkElastic-orders-enrichment-cpu-high': 'INSUFFICIENT_DATA',
      'FlinkElastic-orders-enrichment-cpu-low': 'OK',
    });
  });

  test('an alarm that does not exist (never created, or deleted by hand) is left out (never counts as in ALARM)', async () => {
    await alarm(cw, specs[0], 'OK');
    await alarm(cw, specs[3], 'ALARM');
    await expect(cloudWatchAlarmStates(cw, 'FlinkElastic')(job)).resolves.toEqual({
      'FlinkElastic-orders-enrichment-lag-high': 'OK',
      'FlinkElastic-orders-enrichment-cpu-low': 'ALARM',
    });
  });

  test('a job without a lag source has its two CPU alarms only; lag alarms of the same name are not its own', async () => {
    const doc = exampleDoc();
    delete doc.jobs[0].lag;
    const noLag = findJob(parseConfig(doc), 'orders-enrichment');
    for (const s of specs) await alarm(cw, s, 'ALARM');
    expect(Object.keys(await cloudWatchAlarmStates(cw, 'FlinkElastic')(noLag))).toEqual(['FlinkElastic-orders-enrichment-cpu-high', 'FlinkElastic-orders-enrichment-cpu-low']);
  });
});

describe('answers moto does not give: aws-sdk-client-mock on one client', () => {
  let client: CloudWatchClient;
  let cw: ReturnType<typeof mockClient>;
  beforeEach(() => {
    client = new CloudWatchClient({});
    cw = mockClient(client);
  });
  afterEach(() => cw.restore());

  test("one request on exactly the job's names, metric alarms only; other names in the answer are ignored; pages are followed", async () => {
    cw.on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'FlinkElastic-orders-enrichment-lag-high', StateValue: 'OK' }], NextToken: 'p2' })
      .resolvesOnce({ MetricAlarms: [{ AlarmName: 'FlinkElastic-other-lag-high', StateValue: 'ALARM' }, { AlarmName: 'FlinkElastic-orders-enrichment-cpu-low', StateValue: 'ALARM' }] });
    await expect(cloudWatchAlarmStates(client, 'FlinkElastic')(job)).resolves.toEqual({
      'FlinkElastic-orders-enrichment-lag-high': 'OK',
      'FlinkElastic-orders-enrichment-cpu-low': 'ALARM',
    });
    const inputs = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input as { AlarmNames?: string[]; AlarmTypes?: string[]; NextToken?: string });
    expect(inputs.map((i) => [i.AlarmNames, i.AlarmTypes, i.NextToken])).toEqual([[names, ['MetricAlarm'], undefined], [names, ['MetricAlarm'], 'p2']]);
  });

  test('a state CloudWatch never sends is an error naming the alarm and the allowed values', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'FlinkElastic-orders-enrichment-lag-high', StateValue: 'BROKEN' as never }] });
    await expect(cloudWatchAlarmStates(client, 'FlinkElastic')(job)).rejects.toThrow(
      'DescribeAlarms: MetricAlarms[FlinkElastic-orders-enrichment-lag-high].StateValue is "BROKEN"; expected one of OK, ALARM, INSUFFICIENT_DATA',
    );
  });
});

describe('production handler', () => {
  // The production handler builds its own clients: every client class is mocked here to prove which calls it makes.
  let cw: ReturnType<typeof mockClient>;
  let ddb: ReturnType<typeof mockClient>;
  const saved = { ...process.env };
  beforeAll(() => {
    cw = mockClient(CloudWatchClient);
    ddb = mockClient(DynamoDBClient);
    // Flink endpoints on a closed loopback port: a regression that reads Flink fails here instead of going anywhere.
    const doc = exampleDoc();
    for (const j of doc.jobs) Object.assign(j.flink, { url: 'http://127.0.0.1:1', allowInsecure: true }); // loopback: auth over http allowed
    process.env.FLINK_ELASTIC_CONFIG_JSON = JSON.stringify(doc);
    process.env.STATE_TABLE_NAME = 'flink-elastic-state';
    process.env.NOTIFICATION_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:flink-elastic';
    resetBundledConfig();
  });
  afterAll(() => {
    cw.restore();
    ddb.restore();
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
