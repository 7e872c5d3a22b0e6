/**
 * The collector's work for one job: read Flink's own signals over REST and turn them into the per-job metrics that
 * alarms and dashboards use (names in functions/core/signals.ts).
 */
import type { JobConfig } from '../core/config';
import { COLLECTOR_METRICS } from '../core/signals';
import type { FlinkApi, VertexMetrics } from '../adapters/flink/types';

export type CollectedMetrics = Partial<Record<keyof typeof COLLECTOR_METRICS, number>>;

export interface CollectResult {
  job: string;
  /** Flink job id, when the job was found. */
  jobId?: string;
  metrics: CollectedMetrics;
  /** Signals Flink did not report (yet), for the log. */
  missing: string[];
}

const sum = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) : undefined;
};
const max = (xs: (number | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? Math.max(...v) : undefined;
};

/** Average TaskManager JVM CPU load in percent (Flink's Status.JVM.CPU.Load, 0..1), undefined when none reports it. */
export async function jvmCpuPercent(api: FlinkApi): Promise<number | undefined> {
  const tms = await api.taskManagers();
  const loads = await Promise.all(tms.map((tm) => api.taskManagerMetrics(tm.id, ['Status.JVM.CPU.Load']).then((m) => m['Status.JVM.CPU.Load'])));
  const ok = loads.filter((x): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0);
  return ok.length ? Math.min(100, (ok.reduce((a, b) => a + b, 0) / ok.length) * 100) : undefined;
}

/**
 * Reads one job's metrics. Cluster figures (TaskManagers, slots) are always published; job figures only when a
 * non-terminal job with the configured name runs (JobRunning says whether it is RUNNING).
 */
export async function collectJob(api: FlinkApi, job: JobConfig, opts: { jvmCpu?: (api: FlinkApi) => Promise<number | undefined> } = {}): Promise<CollectResult> {
  const flinkName = job.flink.jobName ?? job.name;
  const out: CollectResult = { job: job.name, metrics: {}, missing: [] };
  const [overview, summary] = await Promise.all([api.overview(), api.findJobByName(flinkName)]);
  out.metrics.taskManagers = overview.taskManagers;
  out.metrics.slotsTotal = overview.slotsTotal;
  out.metrics.slotsAvailable = overview.slotsAvailable;
  if (opts.jvmCpu) {
    const cpu = await opts.jvmCpu(api);
    if (cpu === undefined) out.missing.push('jvmCpu');
    else out.metrics.jvmCpu = cpu;
  }
  if (!summary) {
    out.missing.push(`job "${flinkName}" not found`);
    return out;
  }
  out.jobId = summary.id;
  out.metrics.running = summary.state === 'RUNNING' ? 1 : 0;
  if (summary.state !== 'RUNNING') return out;

  const details = await api.job(summary.id);
  out.metrics.parallelism = max(details.vertices.map((v) => v.parallelism));
  const vm: VertexMetrics[] = await Promise.all(details.vertices.map((v) => api.vertexMetrics(summary.id, v.id)));
  const sources = details.vertices.map((v, i) => ({ v, m: vm[i] })).filter(({ v }) => v.inputs.length === 0);
  // A source's "input" is what it reads from the external system: Flink counts it as the source's output.
  out.metrics.inputRate = sum(sources.map(({ m }) => m.numRecordsOutPerSecond ?? m.numRecordsInPerSecond));
  out.metrics.pendingRecords = sum(sources.map(({ m }) => m.pendingRecords));
  out.metrics.busyMax = max(vm.map((m) => m.busyTimeMsPerSecondMax));
  out.metrics.backPressureMax = max(vm.map((m) => m.backPressuredTimeMsPerSecondMax));
  for (const k of ['inputRate', 'pendingRecords', 'busyMax', 'backPressureMax'] as const) {
    if (out.metrics[k] === undefined) {
      delete out.metrics[k];
      out.missing.push(k);
    }
  }
  return out;
}
