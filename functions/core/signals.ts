/**
 * The names that tie the pieces together: alarm names, the metrics each alarm watches, and the metrics the
 * collector and the scaler publish. The CDK stack (lib/), the scaler, the collector, the metric reader and the local
 * simulator all read them from here, so an alarm always maps back to exactly one job and one signal.
 *
 * Pure: no I/O, no clock.
 */
import { cpuSourceOf, type Config, type JobConfig } from './config';

export const SIGNALS = ['lag', 'cpu'] as const;
export type Signal = (typeof SIGNALS)[number];
export const DIRECTIONS = ['high', 'low'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Deterministic alarm name: `<stack>-<job>-<lag|cpu>-<high|low>`. */
export function alarmName(stackName: string, jobName: string, signal: Signal, direction: Direction): string {
  return `${stackName}-${jobName}-${signal}-${direction}`;
}

export interface AlarmRef {
  job: string;
  signal: Signal;
  direction: Direction;
}

/**
 * The job, signal and direction of an alarm of this stack, or undefined when the name is not one of ours.
 * Job names cannot end in `-lag-high` etc. ambiguously: the suffix is always the last two segments.
 */
export function parseAlarmName(stackName: string, name: string): AlarmRef | undefined {
  const prefix = `${stackName}-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^([a-z][a-z0-9-]{0,39})-(lag|cpu)-(high|low)$/.exec(name.slice(prefix.length));
  if (!m) return undefined;
  return { job: m[1], signal: m[2] as Signal, direction: m[3] as Direction };
}

/** Namespace of the metrics flink-elastic publishes (collector + scaler), one per stack. */
export function metricsNamespace(stackName: string): string {
  return `FlinkElastic/${stackName}`;
}

/** The only dimension of our own metrics. */
export const JOB_DIMENSION = 'Job';

/** Metrics the collector publishes per job (dimension Job), from the Flink REST API. */
export const COLLECTOR_METRICS = {
  /** Sum of the source vertices' numRecordsOutPerSecond (records/s entering the job). */
  inputRate: 'InputRecordsPerSecond',
  /** Highest busyTimeMsPerSecond of any subtask of any vertex (0..1000). */
  busyMax: 'BusyTimeMsPerSecondMax',
  /** Highest backPressuredTimeMsPerSecond of any subtask of any vertex (0..1000). */
  backPressureMax: 'BackPressuredTimeMsPerSecondMax',
  /** Sum of the sources' pendingRecords gauge (lag in records). */
  pendingRecords: 'PendingRecords',
  slotsTotal: 'SlotsTotal',
  slotsAvailable: 'SlotsAvailable',
  /** Highest vertex parallelism of the running job. */
  parallelism: 'Parallelism',
  taskManagers: 'TaskManagers',
  /** Average TaskManager JVM CPU load, percent (Status.JVM.CPU.Load × 100). */
  jvmCpu: 'TaskManagerCpuPercent',
  /** 1 when the job is RUNNING, else 0 (absent when the job was not found). */
  running: 'JobRunning',
} as const;

/** Metrics the scaler and the workflow publish per job (dimension Job). */
export const DECISION_METRICS = {
  /** One per decision that changes something (scale out / scale in), 0 for "no change". */
  scaleOut: 'ScaleOutDecisions',
  scaleIn: 'ScaleInDecisions',
  noChange: 'NoChangeDecisions',
  /** Desired parallelism of the last decision. */
  desiredParallelism: 'DesiredParallelism',
  /** Seconds from workflow start to the job running at its new parallelism (published by the workflow). */
  rescaleDuration: 'RescaleDurationSeconds',
} as const;

export type Statistic = 'Average' | 'Maximum' | 'Minimum' | 'Sum' | 'SampleCount';

/** One CloudWatch metric, as alarms, the dashboard and GetMetricData use it. */
export interface MetricSpec {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: Statistic;
  /** What the value measures, for thresholds and explanations. */
  unit: 'records' | 'seconds' | 'milliseconds' | 'percent';
  /** Human label for dashboards and explanations. */
  label: string;
}

/** The metric the lag alarms of a job watch, or undefined when the job has no lag source. */
export function lagMetric(stackName: string, job: JobConfig): MetricSpec | undefined {
  const src = job.lag?.source;
  if (!src) return undefined;
  switch (src.type) {
    case 'msk':
      return {
        namespace: 'AWS/Kafka',
        metricName: src.metric,
        dimensions: { 'Cluster Name': src.clusterName, 'Consumer Group': src.consumerGroup, Topic: src.topic },
        statistic: 'Maximum',
        unit: src.metric === 'EstimatedMaxTimeLag' ? 'seconds' : 'records',
        label: `MSK ${src.metric} (${src.consumerGroup} on ${src.topic})`,
      };
    case 'kinesis':
      return {
        namespace: 'AWS/Kinesis',
        metricName: 'GetRecords.IteratorAgeMilliseconds',
        dimensions: { StreamName: src.streamName },
        statistic: 'Maximum',
        unit: 'milliseconds',
        label: `Kinesis iterator age (${src.streamName})`,
      };
    case 'flink-pending-records':
      return {
        namespace: metricsNamespace(stackName),
        metricName: COLLECTOR_METRICS.pendingRecords,
        dimensions: { [JOB_DIMENSION]: job.name },
        statistic: 'Maximum',
        unit: 'records',
        label: 'Flink pendingRecords (sources)',
      };
    case 'cloudwatch':
      return {
        namespace: src.namespace,
        metricName: src.metricName,
        dimensions: { ...src.dimensions },
        statistic: src.statistic,
        unit: src.unit,
        label: `${src.namespace} ${src.metricName}`,
      };
  }
}

/**
 * The CPU metric of a job's TaskManagers.
 * - asg: `AWS/EC2` CPUUtilization by AutoScalingGroupName (needs no agent).
 * - container-insights: `ContainerInsights` pod_cpu_utilization by ClusterName, Namespace, PodName, where PodName is
 *   the workload name Container Insights derives from the pod's owner: the Deployment name for eks-deployment
 *   targets, `<name>-taskmanager` for FlinkDeployment targets.
 * - flink-jvm: the collector's TaskManagerCpuPercent (Flink's Status.JVM.CPU.Load).
 */
export function cpuMetric(stackName: string, job: JobConfig): MetricSpec {
  const source = cpuSourceOf(job);
  const t = job.target;
  if (source === 'asg' && t.kind === 'asg') {
    return {
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: { AutoScalingGroupName: t.autoScalingGroupName },
      statistic: 'Average',
      unit: 'percent',
      label: `EC2 CPU (${t.autoScalingGroupName})`,
    };
  }
  if (source === 'container-insights' && t.kind !== 'asg') {
    const podName = t.kind === 'eks-deployment' ? t.deploymentName : `${t.name}-taskmanager`;
    return {
      namespace: 'ContainerInsights',
      metricName: 'pod_cpu_utilization',
      dimensions: { ClusterName: t.clusterName, Namespace: t.namespace, PodName: podName },
      statistic: 'Average',
      unit: 'percent',
      label: `Pod CPU (${t.namespace}/${podName})`,
    };
  }
  return {
    namespace: metricsNamespace(stackName),
    metricName: COLLECTOR_METRICS.jvmCpu,
    dimensions: { [JOB_DIMENSION]: job.name },
    statistic: 'Average',
    unit: 'percent',
    label: 'TaskManager JVM CPU',
  };
}

/** Threshold, comparison and shape of one alarm. */
export interface AlarmSpec extends AlarmRef {
  alarmName: string;
  metric: MetricSpec;
  threshold: number;
  comparison: 'GreaterThanThreshold' | 'LessThanOrEqualToThreshold';
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  /**
   * Missing data never moves an alarm into ALARM: no lag figure is no reason to add capacity, and no CPU figure is
   * no reason to remove it (a stopped job or a broken agent must not trigger a scale-in).
   */
  treatMissingData: 'notBreaching';
  description: string;
}

/** Every alarm of one job (lag high/low when a lag source is configured, CPU high/low always). */
export function alarmSpecs(stackName: string, job: JobConfig): AlarmSpec[] {
  const out: AlarmSpec[] = [];
  const lag = lagMetric(stackName, job);
  if (job.lag && lag) {
    const a = job.lag.alarm;
    const shape = { periodSeconds: a.periodSeconds, evaluationPeriods: a.evaluationPeriods, datapointsToAlarm: a.datapointsToAlarm };
    const mofn = `${a.datapointsToAlarm} of ${a.evaluationPeriods} periods of ${a.periodSeconds}s`;
    out.push({
      job: job.name, signal: 'lag', direction: 'high', alarmName: alarmName(stackName, job.name, 'lag', 'high'), metric: lag,
      threshold: job.lag.highThreshold, comparison: 'GreaterThanThreshold', ...shape, treatMissingData: 'notBreaching',
      description: `${job.name}: ${lag.label} > ${job.lag.highThreshold} ${lag.unit} for ${mofn} -> scale-out candidate`,
    });
    out.push({
      job: job.name, signal: 'lag', direction: 'low', alarmName: alarmName(stackName, job.name, 'lag', 'low'), metric: lag,
      threshold: job.lag.lowThreshold, comparison: 'LessThanOrEqualToThreshold', ...shape, treatMissingData: 'notBreaching',
      description: `${job.name}: ${lag.label} <= ${job.lag.lowThreshold} ${lag.unit} for ${mofn} -> scale-in candidate`,
    });
  }
  const cpu = cpuMetric(stackName, job);
  const c = job.cpu.alarm;
  const shape = { periodSeconds: c.periodSeconds, evaluationPeriods: c.evaluationPeriods, datapointsToAlarm: c.datapointsToAlarm };
  const mofn = `${c.datapointsToAlarm} of ${c.evaluationPeriods} periods of ${c.periodSeconds}s`;
  out.push({
    job: job.name, signal: 'cpu', direction: 'high', alarmName: alarmName(stackName, job.name, 'cpu', 'high'), metric: cpu,
    threshold: job.cpu.highPercent, comparison: 'GreaterThanThreshold', ...shape, treatMissingData: 'notBreaching',
    description: `${job.name}: ${cpu.label} > ${job.cpu.highPercent}% for ${mofn} -> scale-out candidate`,
  });
  out.push({
    job: job.name, signal: 'cpu', direction: 'low', alarmName: alarmName(stackName, job.name, 'cpu', 'low'), metric: cpu,
    threshold: job.cpu.lowPercent, comparison: 'LessThanOrEqualToThreshold', ...shape, treatMissingData: 'notBreaching',
    description: `${job.name}: ${cpu.label} <= ${job.cpu.lowPercent}% for ${mofn} -> scale-in candidate`,
  });
  return out;
}

/** Every alarm of every enabled job of a config. */
export function allAlarmSpecs(config: Config): AlarmSpec[] {
  return config.jobs.filter((j) => j.enabled).flatMap((j) => alarmSpecs(config.deployment.stackName, j));
}

/** Secrets Manager secret names a job's Lambdas may read (Flink REST auth and CA bundle). */
export function secretNamesOf(job: JobConfig): string[] {
  return [job.flink.auth?.secretName, job.flink.caCertSecretName].filter((s): s is string => !!s);
}
