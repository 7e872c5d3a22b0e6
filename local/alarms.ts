/**
 * A CloudWatch metric-alarm evaluator for the local simulator. It reads the alarm definitions from the synthesized
 * CloudFormation template (so the simulator runs the alarms `cdk deploy` would create) and evaluates them on
 * datapoints with CloudWatch's semantics:
 *
 * - Datapoints are aggregated per `Period` with the alarm's `Statistic` (Average, Sum, Minimum, Maximum, SampleCount).
 * - At each period boundary the last `EvaluationPeriods` periods form the evaluation range; the alarm goes to ALARM
 *   when at least `DatapointsToAlarm` of them breach (M out of N).
 * - Missing periods follow `TreatMissingData`: `breaching` counts them as breaching; `notBreaching` as within the
 *   threshold; `ignore` and `missing` leave them out. When the whole range is missing, `missing` goes to
 *   INSUFFICIENT_DATA, `ignore` keeps the current state.
 * - With some datapoints present but fewer than M breaching, the alarm is OK — unless, for `missing`/`ignore`,
 *   the missing periods could still make it M (then the state is kept, as CloudWatch does not decide on partial data).
 * - A state change is reported once (as EventBridge "CloudWatch Alarm State Change" would), never on a re-evaluation
 *   that stays in the same state.
 */

import type { MetricReader } from '../functions/adapters/metrics/cloudwatch';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type Comparison =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';
export type MissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';
export type Statistic = 'Average' | 'Sum' | 'Minimum' | 'Maximum' | 'SampleCount';

export interface AlarmDefinition {
  logicalId: string;
  alarmName: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: Statistic;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: Comparison;
  treatMissingData: MissingData;
}

export interface AlarmTransition {
  alarmName: string;
  /** Virtual time (ms) of the evaluation that changed the state. */
  time: number;
  from: AlarmState;
  to: AlarmState;
  /** The period values of the evaluation range, oldest first (undefined = missing). */
  values: (number | undefined)[];
  reason: string;
}

const STATISTICS: Statistic[] = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'];
const COMPARISONS: Comparison[] = ['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'];

/** Resolves the few intrinsics an alarm name may contain in a synthesized template ({Ref: AWS::StackName} etc.). */
function literal(v: unknown, stackName: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, any>;
    if (o.Ref === 'AWS::StackName') return stackName;
    if (typeof o.Ref === 'string') return o.Ref;
    if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map((x) => literal(x, stackName)).join(o['Fn::Join'][0]);
  }
  throw new Error(`unsupported value in alarm definition: ${JSON.stringify(v)}`);
}

/**
 * Every AWS::CloudWatch::Alarm of a synthesized template with a single metric (the kind flink-elastic creates).
 * Throws, naming the alarm and the property, on anything the evaluator cannot run.
 */
export function alarmsFromTemplate(template: { Resources?: Record<string, any> }, stackName = 'FlinkElastic'): AlarmDefinition[] {
  const out: AlarmDefinition[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources ?? {})) {
    if (res.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = res.Properties ?? {};
    const where = `alarm ${logicalId}`;
    if (!p.MetricName || p.Metrics) throw new Error(`${where}: only single-metric alarms are supported (no Metrics/metric math)`);
    const statistic = p.Statistic ?? (p.ExtendedStatistic ? undefined : 'Average');
    if (!STATISTICS.includes(statistic)) throw new Error(`${where}: Statistic must be one of ${STATISTICS.join(', ')} (got ${JSON.stringify(p.Statistic ?? p.ExtendedStatistic)})`);
    if (!COMPARISONS.includes(p.ComparisonOperator)) throw new Error(`${where}: ComparisonOperator must be one of ${COMPARISONS.join(', ')} (got ${JSON.stringify(p.ComparisonOperator)})`);
    const dims: Record<string, string> = {};
    for (const d of p.Dimensions ?? []) dims[d.Name] = literal(d.Value, stackName);
    out.push({
      logicalId,
      alarmName: p.AlarmName !== undefined ? literal(p.AlarmName, stackName) : logicalId,
      namespace: literal(p.Namespace, stackName),
      metricName: literal(p.MetricName, stackName),
      dimensions: dims,
      statistic,
      periodSeconds: Number(p.Period ?? 60),
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      threshold: Number(p.Threshold),
      comparison: p.ComparisonOperator,
      treatMissingData: (p.TreatMissingData ?? 'missing') as MissingData,
    });
  }
  return out;
}

export function metricKey(namespace: string, metricName: string, dimensions: Record<string, string>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
  return `${namespace}|${metricName}|${dims}`;
}

function aggregate(values: number[], statistic: Statistic): number {
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    case 'SampleCount':
      return values.length;
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

export function breaches(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * Evaluates one range of period values (oldest first; undefined = missing) against an alarm, given its current
 * state. Pure; the table tests exercise it directly.
 */
export function evaluateRange(alarm: Pick<AlarmDefinition, 'comparison' | 'threshold' | 'datapointsToAlarm' | 'treatMissingData'>, values: (number | undefined)[], current: AlarmState): AlarmState {
  const m = alarm.datapointsToAlarm;
  let breaching = 0;
  let missing = 0;
  for (const v of values) {
    if (v === undefined) {
      if (alarm.treatMissingData === 'breaching') breaching++;
      else if (alarm.treatMissingData !== 'notBreaching') missing++;
    } else if (breaches(v, alarm.comparison, alarm.threshold)) breaching++;
  }
  if (breaching >= m) return 'ALARM';
  if (missing === values.length) return alarm.treatMissingData === 'missing' ? 'INSUFFICIENT_DATA' : current;
  if (breaching + missing >= m && current === 'ALARM') return current; // missing periods could still breach: undecided
  return 'OK';
}

interface Series {
  /** period start (ms) → samples */
  periods: Map<number, number[]>;
}

/** Holds metric datapoints and alarm states; the simulator puts datapoints and calls `evaluate` as time advances. */
export class AlarmEvaluator {
  private readonly series = new Map<string, Series>();
  private readonly states = new Map<string, AlarmState>();
  private readonly lastEvaluated = new Map<string, number>();
  readonly transitions: AlarmTransition[] = [];

  /**
   * @param retainMs keep datapoints at least this long (default: only as long as an alarm can look back), so
   *   `query` can answer GetMetricData-style reads over a longer window.
   */
  constructor(
    readonly alarms: AlarmDefinition[],
    private readonly retainMs = 0,
  ) {
    for (const a of alarms) this.states.set(a.alarmName, 'INSUFFICIENT_DATA');
  }

  /** Every alarm's current state. */
  allStates(): Record<string, AlarmState> {
    return Object.fromEntries(this.states);
  }

  /**
   * What GetMetricData would answer for one metric: per-period aggregates with `statistic` over [from, to), periods
   * aligned to multiples of the period, newest first (periods without datapoints are left out).
   */
  query(namespace: string, metricName: string, dimensions: Record<string, string>, statistic: Statistic, periodSeconds: number, from: number, to: number): { t: number; value: number }[] {
    const s = this.series.get(metricKey(namespace, metricName, dimensions));
    if (!s) return [];
    const len = periodSeconds * 1000;
    const byPeriod = new Map<number, number[]>();
    for (const [t, vals] of s.periods) {
      if (t < from || t >= to) continue;
      const p = Math.floor(t / len) * len;
      const arr = byPeriod.get(p);
      if (arr) arr.push(...vals);
      else byPeriod.set(p, [...vals]);
    }
    return [...byPeriod.entries()].sort((a, b) => b[0] - a[0]).map(([t, vals]) => ({ t, value: aggregate(vals, statistic) }));
  }

  state(alarmName: string): AlarmState {
    const s = this.states.get(alarmName);
    if (!s) throw new Error(`unknown alarm "${alarmName}"; known: ${[...this.states.keys()].join(', ')}`);
    return s;
  }

  /** Records one datapoint of a metric at virtual time `time` (ms). */
  put(namespace: string, metricName: string, dimensions: Record<string, string>, time: number, value: number): void {
    if (!Number.isFinite(value)) return; // CloudWatch rejects NaN/Infinity
    const key = metricKey(namespace, metricName, dimensions);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { periods: new Map() }));
    // periods are kept per alarm period at evaluation; store raw samples at 1 s resolution buckets
    const bucket = Math.floor(time / 1000) * 1000;
    const arr = s.periods.get(bucket);
    if (arr) arr.push(value);
    else s.periods.set(bucket, [value]);
  }

  private periodValues(a: AlarmDefinition, end: number): (number | undefined)[] {
    const s = this.series.get(metricKey(a.namespace, a.metricName, a.dimensions));
    const len = a.periodSeconds * 1000;
    const out: (number | undefined)[] = [];
    for (let i = a.evaluationPeriods; i >= 1; i--) {
      const from = end - i * len;
      const samples: number[] = [];
      if (s) for (const [t, vals] of s.periods) if (t >= from && t < from + len) samples.push(...vals);
      out.push(samples.length ? aggregate(samples, a.statistic) : undefined);
    }
    return out;
  }

  /**
   * Evaluates every alarm whose period boundary has passed since its last evaluation, up to virtual time `now` (ms).
   * Returns the state changes, oldest first.
   */
  evaluate(now: number): AlarmTransition[] {
    const changes: AlarmTransition[] = [];
    for (const a of this.alarms) {
      const len = a.periodSeconds * 1000;
      const boundary = Math.floor(now / len) * len;
      const last = this.lastEvaluated.get(a.alarmName);
      if (last !== undefined && boundary <= last) continue;
      this.lastEvaluated.set(a.alarmName, boundary);
      const values = this.periodValues(a, boundary);
      const from = this.state(a.alarmName);
      const to = evaluateRange(a, values, from);
      if (to !== from) {
        this.states.set(a.alarmName, to);
        const shown = values.map((v) => (v === undefined ? '-' : Number(v.toFixed(2)))).join(', ');
        const t: AlarmTransition = {
          alarmName: a.alarmName,
          time: boundary,
          from,
          to,
          values,
          reason: `Threshold Crossed: ${values.filter((v) => v !== undefined).length} datapoint(s) [${shown}] over ${a.evaluationPeriods} period(s) of ${a.periodSeconds} s; ${a.datapointsToAlarm} needed ${a.comparison} ${a.threshold}`,
        };
        changes.push(t);
        this.transitions.push(t);
      }
    }
    // drop samples older than any alarm could look at
    const horizon = Math.max(this.retainMs, ...this.alarms.map((a) => a.periodSeconds * 1000 * (a.evaluationPeriods + 1)));
    for (const s of this.series.values()) for (const t of s.periods.keys()) if (t < now - horizon) s.periods.delete(t);
    return changes;
  }
}

/** The EventBridge "CloudWatch Alarm State Change" event CloudWatch sends for a transition (the fields the stack's rules and the scaler read). */
export function alarmChangeEvent(tr: AlarmTransition, where: { account: string; region: string }): Record<string, any> {
  const iso = new Date(tr.time).toISOString().replace('Z', '+0000');
  return {
    version: '0',
    id: `local-${tr.alarmName}-${tr.time}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: where.account,
    time: new Date(tr.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [`arn:aws:cloudwatch:${where.region}:${where.account}:alarm:${tr.alarmName}`],
    detail: { alarmName: tr.alarmName, state: { value: tr.to, reason: tr.reason, timestamp: iso }, previousState: { value: tr.from, timestamp: iso } },
  };
}

/** GetMetricData over the evaluator's datapoints: what the scaler's metric reader sees locally. */
export function evaluatorMetricReader(evaluator: AlarmEvaluator): MetricReader {
  return {
    read: async (queries, { now, lookbackSeconds }) =>
      Object.fromEntries(
        queries.map((q) => {
          const pts = evaluator.query(q.spec.namespace, q.spec.metricName, q.spec.dimensions, q.spec.statistic, q.periodSeconds, now - lookbackSeconds * 1000, now + 1);
          return [q.key, { value: pts[0]?.value, timestamp: pts[0]?.t, values: pts.map((p) => p.value) }];
        }),
      ),
  };
}
