/** A Flink REST client for a configured job: its URL, timeout, version and, from Secrets Manager, auth and CA. */
import type { JobConfig } from '../core/config';
import { FlinkRestClient } from './flink/client';
import { flinkCaPem, flinkCredentials, type SecretSource } from './secrets';

export async function flinkClientFor(job: JobConfig, secrets: SecretSource): Promise<FlinkRestClient> {
  const [auth, caPem] = await Promise.all([flinkCredentials(job, secrets), flinkCaPem(job, secrets)]);
  return new FlinkRestClient({
    baseUrl: job.flink.url,
    timeoutMs: job.flink.requestTimeoutMs,
    auth,
    caPem,
    version: job.flink.version,
    retries: 2,
  });
}
