/**
 * The CloudWatch metric reader against moto on loopback: datapoints are put with PutMetricData and read back with the
 * reader's real GetMetricData query, so the namespace, dimensions, statistic and period must match what was stored.
 * Paging and malformed answers (which moto never returns) stay on aws-sdk-client-mock (test/README.md).
 */
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudWatchMetricReader, MetricReadError } from '../../functions/adapters/metrics/cloudwatch';
import { cpuMetric, lagMetric, type MetricSpec } from '../../functions/core/signals';
import { exampleConfig } from '../support/example-config';
import { useMoto } from '../support/moto';

const moto = useMoto();
const job = exampleConfig().jobs[0];
const lag = lagMetric('FlinkElastic', job)!;
const cpu = cpuMetric('FlinkElastic', job);
const now = Date.parse('2026-11-21T10:00:00Z');
const t = (minAgo: number) => new Date(now - minAgo * 60_000);
const dims = (spec: MetricSpec): Dimension[] => Object.entries(spec.dimensions).map(([Name, Value]) => ({ Name, Value }));

async function put(cw: CloudWatchClient, spec: MetricSpec, points: Array<[Date, number]>, dimensions = dims(spec)) {
  await cw.send(new PutMetricDataCommand({ Namespace: spec.namespace, MetricData: points.map(([Timestamp, Value]) => ({ MetricName: spec.metricName, Dimensions: dimensions, Timestamp, Value })) }));
}

describe('against CloudWatch (moto)', () => {
  let cw: CloudWatchClient;
  beforeEach(() => {
    cw = new CloudWatchClient(moto.config);
  });

  test("reads the alarm metrics by namespace and dimensions with the spec's statistic; newest value first", async () => {
    expect(lag).toMatchObject({ namespace: 'AWS/Kafka', metricName: 'SumOffsetLag', statistic: 'Maximum' });
    // two points in the 10:57 minute: Maximum must pick 70000, not the later-written 65000
    await put(cw, lag, [[t(3), 50000], [t(2), 60000], [new Date(t(3).getTime() + 10_000), 45000], [t(1), 70000], [new Date(t(1).getTime() + 20_000), 65000]]);
    // same metric name and namespace, another consumer group: must not be read
    await put(cw, lag, [[t(1), 999999]], dims(lag).map((d) => (d.Name === 'Consumer Group' ? { ...d, Value: 'someone-else' } : d)));
    // outside the 10-minute window
    await put(cw, lag, [[t(30), 123]]);
    const r = await new CloudWatchMetricReader(cw).read([{ key: 'lag', spec: lag, periodSeconds: 60 }, { key: 'cpu', spec: cpu, periodSeconds: 60 }], { now, lookbackSeconds: 600 });
    expect(r).toEqual({ lag: { value: 70000, timestamp: t(1).getTime(), values: [70000, 60000, 50000] }, cpu: { values: [] } });
  });

  test('Average over the period for CPU', async () => {
    expect(cpu).toMatchObject({ namespace: 'AWS/EC2', metricName: 'CPUUtilization', statistic: 'Average' });
    await put(cw, cpu, [[t(2), 40], [new Date(t(2).getTime() + 30_000), 60], [t(1), 90]]);
    const r = await new CloudWatchMetricReader(cw).read([{ key: 'cpu', spec: cpu, periodSeconds: 60 }], { now, lookbackSeconds: 300 });
    expect(r.cpu).toEqual({ value: 90, timestamp: t(1).getTime(), values: [90, 50] });
  });
});

describe("answers moto does not give (paging, malformed): aws-sdk-client-mock on one client", () => {
  let client: CloudWatchClient;
  let cw: ReturnType<typeof mockClient>;
  beforeEach(() => {
    client = new CloudWatchClient({});
    cw = mockClient(client);
  });
  afterEach(() => cw.restore());

  test('follows NextToken across pages', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(1)], Values: [5] }], NextToken: 'p2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(2)], Values: [4] }] });
    const r = await new CloudWatchMetricReader(client).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 600 });
    expect(r.lag.values).toEqual([5, 4]);
    expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(cw.commandCalls(GetMetricDataCommand)[1].args[0].input).toMatchObject({ NextToken: 'p2' });
  });

  test('a malformed response is a clear error, not a number', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', Timestamps: [t(1), t(2)], Values: [1] }] });
    await expect(new CloudWatchMetricReader(client).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 60 })).rejects.toThrow(
      new MetricReadError('GetMetricData AWS/Kafka/SumOffsetLag: 2 timestamps but 1 values'),
    );
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'zz', Timestamps: [], Values: [] }] });
    await expect(new CloudWatchMetricReader(client).read([{ key: 'lag', spec: lag, periodSeconds: 60 }], { now, lookbackSeconds: 60 })).rejects.toThrow(/unknown query id "zz"/);
  });
});
