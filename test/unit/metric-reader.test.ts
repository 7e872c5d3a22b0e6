import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchMetricReader, MetricReadError } from '../../functions/adapters/metrics/cloudwatch';
import { cpuMetric, lagMetric } from '../../functions/core/signals';
import { exampleConfig } from '../support/example-config';

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const job = exampleConfig().jobs[0];
const lag = lagMetric('FlinkElastic', job)!;
const cpu = cpuMetric('FlinkElastic', job);
const now = Date.parse('2026-11-21T10:00:00Z');
const t = (minAgo: number) => new Date(now - minAgo * 60_000);

test('queries the alarm metrics (namespace, dims, stat, period) and returns the newest value first', async () => {
  cw.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'm0', Timestamps: [t(1), t(3), t(2)], Values: [70000, 50000, 60000], StatusCode: 'Complete' },
      { Id: 'm1', Timestamps: [], Values: [], StatusCode: 'Complete' },
    ],
  });
  const r = await new CloudWatchMetricReader(new CloudWatchClient({})).read(
    [{ key: 'lag', spec: lag, periodSeconds: 60 }, { key: 'cpu', spec: cpu, periodSeconds: 60 }],
    { now, lookbackSeconds: 600 },
  );
  expect(r).toEqual({ lag: { value: 70000, timestamp: t(1).getTime(), values: [70000, 60000, 50000] }, cpu: { values: [] } });
  expect(cw).toHaveReceivedCommandWith(GetMetricDataCommand, {
    StartTime: new Date(now - 600_000),
    EndTime: new Date(now),
    MetricDataQueries: [
      {
        Id: 'm0', ReturnData: true,
        MetricStat: {
          Metric: { Namespace: 'AWS/Kafka', MetricName: 'SumOffsetLag', Dimensions: [{ Name: 'Cluster Name', Value: 'orders-msk' }, { Name: 'Consumer Group', Value: 'orders-enrichment' }, { Name: 'Topic', Value: 'orders' }] },
          Period: 60, Stat: 'Maximum',
        },
      },
      { Id: 'm1', ReturnData: true, MetricStat: { Metric: { Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'flink-taskmanagers-orders' }] }, Period: 60, Stat: 'Average' } },
    ],
  });
});

test('follows NextToken across pages', async () => {
  cw.on(GetMetricDataCommand)
    .resolvesOnce({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(1)], Values: [5] }], NextToken: 'p2' })
    .resolvesOnce({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(2)], Values: [4] }] });
  const r = await new CloudWatchMetricReader(new CloudWatchClient({})).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 600 });
  expect(r.lag.values).toEqual([5, 4]);
  expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
  expect(cw.commandCalls(GetMetricDataCommand)[1].args[0].input.NextToken).toBe('p2');
});

test('a malformed response is a clear error, not a number', async () => {
  cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(1), t(2)], Values: [1] }] });
  await expect(new CloudWatchMetricReader(new CloudWatchClient({})).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 60 })).rejects.toThrow(
    new MetricReadError('GetMetricData AWS/Kafka/SumOffsetLag: 2 timestamps but 1 values'),
  );
  cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'zz', Timestamps: [], Values: [] }] });
  await expect(new CloudWatchMetricReader(new CloudWatchClient({})).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 60 })).rejects.toThrow(/unknown query id "zz"/);
});
