/**
 * Flink client and capacity target per job, for production. Filled in once the `flink` and `targets` branches
 * land (FlinkRestClient, createCapacityTarget); until then the workflow Lambda refuses to run.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { JobConfig } from '../core/config';
import type { FlinkApi } from '../adapters/flink/types';
import type { CapacityTarget } from '../adapters/targets/types';

export async function flinkClientFor(job: JobConfig, _tracer: Tracer): Promise<FlinkApi> {
  throw new Error(`no Flink REST client is wired for job "${job.name}" yet (pending merge of the flink branch)`);
}

export async function capacityTargetFor(job: JobConfig, _tracer: Tracer): Promise<CapacityTarget> {
  throw new Error(`no capacity target is wired for job "${job.name}" yet (pending merge of the targets branch)`);
}
