/**
 * Reads the latest values of a job's CloudWatch metrics (lag, CPU, ...) with one GetMetricData call (paged).
 * The metric definitions come from functions/core/signals.ts, the same ones the alarms watch.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricSpec } from '../../core/signals';

export interface MetricQuery {
  /** Caller's key for the result; any string. */
  key: string;
  spec: MetricSpec;
  periodSeconds: number;
}

export interface MetricValue {
  /** Newest datapoint, undefined when CloudWatch has none in the window. */
  value?: number;
  /** Epoch ms of the newest datapoint. */
  timestamp?: number;
  /** All datapoints in the window, newest first. */
  values: number[];
}

export interface MetricReader {
  /** The datapoints of each query in [now - lookbackSeconds, now], newest first. */
  read(queries: MetricQuery[], opts: { now: number; lookbackSeconds: number }): Promise<Record<string, MetricValue>>;
}

export class MetricReadError extends Error {
  override readonly name = 'MetricReadError';
}

/** GetMetricData query ids: lower-case letter first, then letters, digits, underscores. */
const queryId = (i: number) => `m${i}`;

export class CloudWatchMetricReader implements MetricReader {
  constructor(private readonly client: CloudWatchClient = new CloudWatchClient({})) {}

  async read(queries: MetricQuery[], opts: { now: number; lookbackSeconds: number }): Promise<Record<string, MetricValue>> {
    const out: Record<string, MetricValue> = Object.fromEntries(queries.map((q) => [q.key, { values: [] }]));
    if (queries.length === 0) return out;
    if (queries.length > 500) throw new MetricReadError(`at most 500 metrics per GetMetricData call, got ${queries.length}`);
    const byId = new Map(queries.map((q, i) => [queryId(i), q]));
    const MetricDataQueries: MetricDataQuery[] = queries.map((q, i) => ({
      Id: queryId(i),
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: q.spec.namespace,
          MetricName: q.spec.metricName,
          Dimensions: Object.entries(q.spec.dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: q.periodSeconds,
        Stat: q.spec.statistic,
      },
    }));
    const points = new Map<string, { t: number; v: number }[]>();
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const res = await this.client.send(
        new GetMetricDataCommand({
          MetricDataQueries,
          StartTime: new Date(opts.now - opts.lookbackSeconds * 1000),
          EndTime: new Date(opts.now),
          ScanBy: 'TimestampDescending',
          NextToken,
        }),
      );
      for (const r of res.MetricDataResults ?? []) {
        const q = r.Id ? byId.get(r.Id) : undefined;
        if (!q) throw new MetricReadError(`GetMetricData returned an unknown query id ${JSON.stringify(r.Id)}`);
        const ts = r.Timestamps ?? [];
        const vs = r.Values ?? [];
        if (ts.length !== vs.length) {
          throw new MetricReadError(`GetMetricData ${q.spec.namespace}/${q.spec.metricName}: ${ts.length} timestamps but ${vs.length} values`);
        }
        const list = points.get(q.key) ?? [];
        vs.forEach((v, i) => {
          if (typeof v !== 'number' || !Number.isFinite(v)) {
            throw new MetricReadError(`GetMetricData ${q.spec.namespace}/${q.spec.metricName}: value ${JSON.stringify(v)} is not a finite number`);
          }
          list.push({ t: new Date(ts[i]).getTime(), v });
        });
        points.set(q.key, list);
      }
      NextToken = res.NextToken;
      if (++pages > 20) throw new MetricReadError('GetMetricData kept returning NextToken after 20 pages');
    } while (NextToken);
    for (const [key, list] of points) {
      list.sort((a, b) => b.t - a.t);
      out[key] = { value: list[0]?.v, timestamp: list[0]?.t, values: list.map((p) => p.v) };
    }
    return out;
  }
}
