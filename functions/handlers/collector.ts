/**
 * Collector Lambda (EventBridge schedule, every deployment.collectorIntervalMinutes): for every enabled job, reads
 * Flink REST metrics and publishes them as CloudWatch metrics (EMF, namespace FlinkElastic/<stack>, dimension Job).
 * One job failing does not stop the others; the invocation fails only when every job failed.
 */
import type { Context } from 'aws-lambda';
import { cpuSourceOf } from '../core/config';
import { metricsNamespace } from '../core/signals';
import { flinkClientFor } from '../adapters/flink-connect';
import { SecretsManagerSource } from '../adapters/secrets';
import { collectJob, jvmCpuPercent, type CollectResult } from '../collector/collect';
import { jobMetrics, publishCollected } from '../collector/publish';
import { bundledConfig } from './shared/bundled-config';
import { logger } from './shared/powertools';

const secrets = new SecretsManagerSource();

export interface CollectorSummary {
  published: { job: string; metrics: number; missing: string[] }[];
  failed: { job: string; error: string }[];
}

export async function collectAll(deps: { secrets: typeof secrets; publish?: (r: CollectResult) => number } = { secrets }): Promise<CollectorSummary> {
  const config = bundledConfig();
  const metrics = jobMetrics(metricsNamespace(config.deployment.stackName));
  const publish = deps.publish ?? ((r: CollectResult) => publishCollected(metrics, r));
  const summary: CollectorSummary = { published: [], failed: [] };
  await Promise.all(
    config.jobs
      .filter((j) => j.enabled)
      .map(async (job) => {
        try {
          const api = await flinkClientFor(job, deps.secrets);
          const r = await collectJob(api, job, cpuSourceOf(job) === 'flink-jvm' ? { jvmCpu: jvmCpuPercent } : {});
          summary.published.push({ job: job.name, metrics: publish(r), missing: r.missing });
        } catch (e) {
          summary.failed.push({ job: job.name, error: (e as Error).message });
          logger.error('collecting failed', { job: job.name, error: (e as Error).message });
        }
      }),
  );
  return summary;
}

export const handler = async (_event: unknown, context?: Context): Promise<CollectorSummary> => {
  if (context) logger.addContext(context);
  const summary = await collectAll();
  logger.info('collected', { ...summary });
  if (summary.published.length === 0 && summary.failed.length > 0) {
    throw new Error(`collecting failed for every job: ${summary.failed.map((f) => `${f.job}: ${f.error}`).join('; ')}`);
  }
  return summary;
};
