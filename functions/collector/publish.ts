/**
 * Publishes collected metrics as CloudWatch embedded metric format (EMF) log lines with Powertools Metrics: one
 * line per job, dimension `Job` only (Powertools' default `service` dimension is cleared, so the metrics match the
 * alarms and dashboards exactly: CloudWatch matches the full dimension set).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { COLLECTOR_METRICS, JOB_DIMENSION } from '../core/signals';
import type { CollectResult } from './collect';

const UNITS: Record<keyof typeof COLLECTOR_METRICS, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  inputRate: MetricUnit.CountPerSecond,
  busyMax: MetricUnit.Milliseconds,
  backPressureMax: MetricUnit.Milliseconds,
  pendingRecords: MetricUnit.Count,
  slotsTotal: MetricUnit.Count,
  slotsAvailable: MetricUnit.Count,
  parallelism: MetricUnit.Count,
  taskManagers: MetricUnit.Count,
  jvmCpu: MetricUnit.Percent,
  running: MetricUnit.Count,
};

/** A Metrics instance for per-job metrics: our namespace, no default dimensions. */
export function jobMetrics(namespace: string): Metrics {
  const m = new Metrics({ namespace });
  m.clearDefaultDimensions();
  return m;
}

/** Writes one EMF line with every collected metric of the job. Returns the number of metrics published. */
export function publishCollected(metrics: Metrics, r: CollectResult): number {
  const entries = Object.entries(r.metrics) as [keyof typeof COLLECTOR_METRICS, number][];
  if (entries.length === 0) return 0;
  metrics.addDimension(JOB_DIMENSION, r.job);
  for (const [k, v] of entries) metrics.addMetric(COLLECTOR_METRICS[k], UNITS[k], v);
  metrics.publishStoredMetrics();
  return entries.length;
}
