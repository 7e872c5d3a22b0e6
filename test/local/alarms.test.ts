import { AlarmDefinition, AlarmEvaluator, alarmsFromTemplate, evaluateRange } from '../../local/alarms';

const alarm = (over: Partial<AlarmDefinition> = {}): AlarmDefinition => ({
  logicalId: 'LagHigh',
  alarmName: 'FlinkElastic-orders-lag-high',
  namespace: 'AWS/Kafka',
  metricName: 'SumOffsetLag',
  dimensions: { 'Cluster Name': 'msk', 'Consumer Group': 'g', Topic: 't' },
  statistic: 'Maximum',
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  threshold: 100,
  comparison: 'GreaterThanThreshold',
  treatMissingData: 'missing',
  ...over,
});

// M of N with missing data. X = breaching (200), 0 = within (50), - = missing.
const v = (s: string) => s.split(' ').map((c) => (c === 'X' ? 200 : c === '0' ? 50 : undefined));
describe.each([
  // range,     missing,             ignore,              breaching, notBreaching   (2 of 3, current state OK)
  ['0 0 0', 'OK', 'OK', 'OK', 'OK'],
  ['0 X X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
  ['X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
  ['0 0 X', 'OK', 'OK', 'OK', 'OK'],
  ['- - -', 'INSUFFICIENT_DATA', 'OK', 'ALARM', 'OK'],
  ['- X -', 'OK', 'OK', 'ALARM', 'OK'],
  ['- - X', 'OK', 'OK', 'ALARM', 'OK'],
  ['0 - -', 'OK', 'OK', 'ALARM', 'OK'],
] as const)('2-of-3 alarm, range [%s] from OK', (range, missing, ignore, breaching, notBreaching) => {
  test.each([
    ['missing', missing],
    ['ignore', ignore],
    ['breaching', breaching],
    ['notBreaching', notBreaching],
  ] as const)('TreatMissingData=%s → %s', (treat, expected) => {
    expect(evaluateRange(alarm({ treatMissingData: treat }), v(range), 'OK')).toBe(expected);
  });
});

test('from ALARM, partial data that could still breach keeps the alarm (missing/ignore); full data decides', () => {
  expect(evaluateRange(alarm({ treatMissingData: 'missing' }), v('- X -'), 'ALARM')).toBe('ALARM');
  expect(evaluateRange(alarm({ treatMissingData: 'ignore' }), v('- - -'), 'ALARM')).toBe('ALARM');
  expect(evaluateRange(alarm({ treatMissingData: 'missing' }), v('0 0 X'), 'ALARM')).toBe('OK');
});

test('comparison operators: at the threshold only the OrEqual forms breach', () => {
  const at = [100, 100, 100];
  expect(evaluateRange(alarm({ comparison: 'GreaterThanThreshold' }), at, 'OK')).toBe('OK');
  expect(evaluateRange(alarm({ comparison: 'GreaterThanOrEqualToThreshold' }), at, 'OK')).toBe('ALARM');
  expect(evaluateRange(alarm({ comparison: 'LessThanThreshold' }), at, 'OK')).toBe('OK');
  expect(evaluateRange(alarm({ comparison: 'LessThanOrEqualToThreshold' }), at, 'OK')).toBe('ALARM');
});

test('evaluator aggregates per period with the statistic and reports each state change once', () => {
  const a = alarm({ statistic: 'Average', treatMissingData: 'notBreaching' });
  const ev = new AlarmEvaluator([a]);
  const put = (t: number, value: number) => ev.put(a.namespace, a.metricName, a.dimensions, t, value);
  // minute 0: avg of 50 and 250 = 150 (breach); minute 1: 90 (ok); minute 2: 300 (breach)
  put(10_000, 50);
  put(20_000, 250);
  put(70_000, 90);
  put(130_000, 300);
  expect(ev.evaluate(60_000).map((t) => t.to)).toEqual(['OK']); // [-, -, 150]: 1 breaching of 2 needed
  expect(ev.evaluate(120_000)).toEqual([]); // [-, 150, 90]: still OK, no repeated event
  const [t] = ev.evaluate(180_000); // [150, 90, 300]: 2 of 3 → ALARM
  expect(t).toMatchObject({ from: 'OK', to: 'ALARM', time: 180_000, values: [150, 90, 300] });
  expect(ev.evaluate(180_500)).toEqual([]); // same boundary: not evaluated again
  expect(ev.state(a.alarmName)).toBe('ALARM');
  // datapoints for another dimension set do not count
  ev.put(a.namespace, a.metricName, { Topic: 'other' }, 200_000, 1e9);
  expect(ev.evaluate(240_000).map((x) => x.to)).toEqual(['OK']); // [90, 300, -] with notBreaching: 1 of 3
});

test('reads single-metric alarms from a synthesized template, resolving the stack name', () => {
  const template = {
    Resources: {
      LagHigh: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-orders-lag-high']] },
          Namespace: 'AWS/Kafka',
          MetricName: 'SumOffsetLag',
          Dimensions: [{ Name: 'Topic', Value: 'orders' }],
          Statistic: 'Maximum',
          Period: 60,
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          Threshold: 50000,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        },
      },
      Other: { Type: 'AWS::SNS::Topic', Properties: {} },
    },
  };
  expect(alarmsFromTemplate(template, 'Prod')).toEqual([
    expect.objectContaining({ alarmName: 'Prod-orders-lag-high', dimensions: { Topic: 'orders' }, datapointsToAlarm: 2, threshold: 50000, treatMissingData: 'notBreaching' }),
  ]);
  const bad = { Resources: { X: { Type: 'AWS::CloudWatch::Alarm', Properties: { ...template.Resources.LagHigh.Properties, ComparisonOperator: 'Between' } } } };
  expect(() => alarmsFromTemplate(bad)).toThrow(/alarm X: ComparisonOperator must be one of/);
});

test('query answers like GetMetricData: per-period aggregates with the statistic, newest first, empty periods left out', () => {
  const a = alarm({ statistic: 'Maximum' });
  const ev = new AlarmEvaluator([a], 30 * 60_000);
  const put = (t: number, value: number) => ev.put(a.namespace, a.metricName, a.dimensions, t, value);
  put(0, 10);
  put(30_000, 40);
  put(60_000, 5);
  put(180_000, 7);
  expect(ev.query(a.namespace, a.metricName, a.dimensions, 'Maximum', 60, 0, 240_000)).toEqual([
    { t: 180_000, value: 7 },
    { t: 60_000, value: 5 },
    { t: 0, value: 40 },
  ]);
  expect(ev.query(a.namespace, a.metricName, a.dimensions, 'Average', 120, 0, 240_000)).toEqual([
    { t: 120_000, value: 7 },
    { t: 0, value: 55 / 3 },
  ]);
  expect(ev.query(a.namespace, a.metricName, { other: 'x' }, 'Maximum', 60, 0, 240_000)).toEqual([]);
  // retained beyond the alarm's own look-back (3 periods) because retainMs is 30 min
  ev.evaluate(20 * 60_000);
  expect(ev.query(a.namespace, a.metricName, a.dimensions, 'Maximum', 60, 0, 240_000)).toHaveLength(3);
  expect(ev.allStates()).toEqual({ 'FlinkElastic-orders-lag-high': expect.any(String) });
});
