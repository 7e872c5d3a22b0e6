/**
 * One CloudWatch dashboard per job, named `<stack>-<job>`: is capacity keeping up with input, what did the scaler
 * decide and why, how long did rescales take.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { JobConfig } from '../../functions/core/config';
import {
  COLLECTOR_METRICS,
  cpuMetric,
  DECISION_METRICS,
  JOB_DIMENSION,
  lagMetric,
  metricsNamespace,
  type Statistic,
} from '../../functions/core/signals';
import { toCloudWatchMetric } from './job-alarms';

export interface JobDashboardProps {
  stackName: string;
  job: JobConfig;
  alarms: cw.IAlarm[];
  /** The scaler's log group: the dashboard shows its decision log lines for this job. */
  scalerLogGroup?: logs.ILogGroup;
}

export function dashboardName(stackName: string, jobName: string): string {
  return `${stackName}-${jobName}`;
}

export class JobDashboard extends Construct {
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: JobDashboardProps) {
    super(scope, id);
    const { stackName, job } = props;
    const ns = metricsNamespace(stackName);
    const own = (metricName: string, statistic: Statistic, label: string) =>
      new cw.Metric({ namespace: ns, metricName, dimensionsMap: { [JOB_DIMENSION]: job.name }, statistic, period: Duration.minutes(1), label });

    const lag = lagMetric(stackName, job);
    const cpu = cpuMetric(stackName, job);
    const thresholds = (high: number, low: number): cw.HorizontalAnnotation[] => [
      { value: high, label: 'high (scale-out)', color: '#d62728' },
      { value: low, label: 'low (scale-in)', color: '#2ca02c' },
    ];

    const widgets: cw.IWidget[][] = [
      [
        new cw.TextWidget({
          width: 24,
          height: 2,
          markdown:
            `# ${job.name}\nmode **${job.mode}**${job.dryRun ? ' · **dry run** (decisions only)' : ''} · parallelism ${job.bounds.minParallelism}–${job.bounds.maxParallelism}` +
            ` · TaskManagers ${job.bounds.minTaskManagers}–${job.bounds.maxTaskManagers} × ${job.slotsPerTaskManager} slots · target \`${targetName(job)}\``,
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Input rate vs capacity',
          width: 12,
          left: [own(COLLECTOR_METRICS.inputRate, 'Average', 'input records/s')],
          right: [own(COLLECTOR_METRICS.slotsTotal, 'Maximum', 'slots'), own(COLLECTOR_METRICS.parallelism, 'Maximum', 'parallelism')],
          leftYAxis: { label: 'records/s', min: 0, showUnits: false },
          rightYAxis: { label: 'slots / parallelism', min: 0, showUnits: false },
        }),
        new cw.GraphWidget({
          title: lag ? `Lag: ${lag.label}` : 'Lag (no lag source configured)',
          width: 12,
          left: lag ? [toCloudWatchMetric(lag, job.lag!.alarm.periodSeconds, true)] : [own(COLLECTOR_METRICS.pendingRecords, 'Maximum', 'pendingRecords')],
          leftAnnotations: job.lag ? thresholds(job.lag.highThreshold, job.lag.lowThreshold) : [],
          leftYAxis: { label: lag?.unit ?? 'records', min: 0, showUnits: false },
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Parallelism and TaskManagers',
          width: 12,
          left: [
            own(COLLECTOR_METRICS.parallelism, 'Maximum', 'parallelism (running)'),
            own(DECISION_METRICS.desiredParallelism, 'Maximum', 'parallelism (decided)'),
          ],
          right: [own(COLLECTOR_METRICS.taskManagers, 'Maximum', 'TaskManagers'), own(COLLECTOR_METRICS.slotsAvailable, 'Minimum', 'free slots')],
          leftAnnotations: [
            { value: job.bounds.maxParallelism, label: 'max parallelism', color: '#7f7f7f' },
            { value: job.bounds.minParallelism, label: 'min parallelism', color: '#7f7f7f' },
          ],
          leftYAxis: { min: 0, showUnits: false },
          rightYAxis: { min: 0, showUnits: false },
        }),
        new cw.GraphWidget({
          title: `CPU: ${cpu.label}`,
          width: 12,
          left: [toCloudWatchMetric(cpu, job.cpu.alarm.periodSeconds, true)],
          leftAnnotations: thresholds(job.cpu.highPercent, job.cpu.lowPercent),
          leftYAxis: { label: '%', min: 0, max: 100, showUnits: false },
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Busy and backpressure (max subtask, ms/s)',
          width: 12,
          left: [own(COLLECTOR_METRICS.busyMax, 'Maximum', 'busy'), own(COLLECTOR_METRICS.backPressureMax, 'Maximum', 'backpressured')],
          leftYAxis: { min: 0, max: 1000, showUnits: false },
        }),
        new cw.GraphWidget({
          title: 'Scaling decisions',
          width: 12,
          stacked: true,
          left: [
            own(DECISION_METRICS.scaleOut, 'Sum', 'scale out'),
            own(DECISION_METRICS.scaleIn, 'Sum', 'scale in'),
            own(DECISION_METRICS.noChange, 'Sum', 'no change'),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
      ],
      [
        new cw.GraphWidget({
          title: 'Rescale duration (s)',
          width: 12,
          left: [own(DECISION_METRICS.rescaleDuration, 'Maximum', 'rescale duration')],
          leftYAxis: { min: 0, showUnits: false },
        }),
        new cw.AlarmStatusWidget({ title: 'Alarms', width: 12, height: 6, alarms: props.alarms }),
      ],
    ];
    if (props.scalerLogGroup) {
      widgets.push([
        new cw.LogQueryWidget({
          title: 'Decisions and their reasons (scaler log)',
          width: 24,
          height: 8,
          logGroupNames: [props.scalerLogGroup.logGroupName],
          view: cw.LogQueryVisualizationType.TABLE,
          queryLines: [
            'fields @timestamp, decision.action as action, decision.from.parallelism as from, decision.to.parallelism as to, trigger, dryRun, outcome, decision.reason as reason',
            `filter message = "decision" and job = "${job.name}"`,
            'sort @timestamp desc',
            'limit 50',
          ],
        }),
      ]);
    }

    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: dashboardName(stackName, job.name),
      defaultInterval: Duration.hours(6),
      widgets,
    });
  }
}

function targetName(job: JobConfig): string {
  const t = job.target;
  return t.kind === 'asg' ? `asg ${t.autoScalingGroupName}` : t.kind === 'eks-deployment' ? `${t.clusterName}/${t.namespace}/${t.deploymentName}` : `${t.clusterName}/${t.namespace}/flinkdeployment ${t.name}`;
}
