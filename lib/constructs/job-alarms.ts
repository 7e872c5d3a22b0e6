/**
 * The CloudWatch alarms of one job, built from `alarmSpecs` (functions/core/signals.ts), the same definitions the
 * scaler uses to map an alarm back to its job and signal and the local simulator evaluates.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { JobConfig } from '../../functions/core/config';
import { alarmSpecs, type AlarmSpec, type MetricSpec } from '../../functions/core/signals';

/**
 * The CloudWatch metric of a spec. With `withLabel` (dashboards) the label is shown; alarms go without, so the
 * template keeps the plain Namespace/MetricName/Dimensions form (a label turns it into a metric-math query).
 */
export function toCloudWatchMetric(m: MetricSpec, periodSeconds: number, withLabel = false): cw.Metric {
  return new cw.Metric({
    namespace: m.namespace,
    metricName: m.metricName,
    dimensionsMap: m.dimensions,
    statistic: m.statistic,
    period: Duration.seconds(periodSeconds),
    label: withLabel ? m.label : undefined,
  });
}

const COMPARISON: Record<AlarmSpec['comparison'], cw.ComparisonOperator> = {
  GreaterThanThreshold: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
  LessThanOrEqualToThreshold: cw.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

export interface JobAlarmsProps {
  stackName: string;
  job: JobConfig;
}

export class JobAlarms extends Construct {
  readonly alarms: { spec: AlarmSpec; alarm: cw.Alarm }[];

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    this.alarms = alarmSpecs(props.stackName, props.job).map((spec) => ({
      spec,
      alarm: new cw.Alarm(this, `${spec.signal}-${spec.direction}`, {
        alarmName: spec.alarmName,
        alarmDescription: spec.description,
        metric: toCloudWatchMetric(spec.metric, spec.periodSeconds),
        threshold: spec.threshold,
        comparisonOperator: COMPARISON[spec.comparison],
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        // No alarm actions: state changes reach the scaler through the EventBridge rule (ScalerTrigger).
      }),
    }));
  }
}
