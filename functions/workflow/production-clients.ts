/**
 * Flink client and capacity target per job, for production: the Flink REST client gets its credentials and CA
 * bundle from Secrets Manager by the names in the config (never from the config itself).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { JobConfig } from '../core/config';
import { FlinkAuth, FlinkRestClient } from '../adapters/flink/client';
import type { FlinkApi } from '../adapters/flink/types';
import type { CapacityTarget } from '../adapters/targets/types';

let secrets: SecretsManagerClient | undefined;

async function secretString(name: string, tracer: Tracer): Promise<string> {
  secrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({}));
  const r = await secrets.send(new GetSecretValueCommand({ SecretId: name }));
  if (!r.SecretString) throw new Error(`secret "${name}" has no SecretString`);
  return r.SecretString;
}

/** Reads the job's REST credentials: basic {"username","password"} or bearer {"token"}. */
export async function flinkAuthFor(job: JobConfig, tracer: Tracer): Promise<FlinkAuth | undefined> {
  const auth = job.flink.auth;
  if (!auth) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(await secretString(auth.secretName, tracer)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`job "${job.name}": flink.auth.secretName "${auth.secretName}" must hold JSON (${(e as Error).message})`);
  }
  if (auth.type === 'basic') {
    if (typeof doc.username !== 'string' || typeof doc.password !== 'string') {
      throw new Error(`job "${job.name}": secret "${auth.secretName}" must hold {"username": "...", "password": "..."}`);
    }
    return { type: 'basic', username: doc.username, password: doc.password };
  }
  if (typeof doc.token !== 'string') throw new Error(`job "${job.name}": secret "${auth.secretName}" must hold {"token": "..."}`);
  return { type: 'bearer', token: doc.token };
}

export async function flinkClientFor(job: JobConfig, tracer: Tracer): Promise<FlinkApi> {
  return new FlinkRestClient({
    baseUrl: job.flink.url,
    timeoutMs: job.flink.requestTimeoutMs,
    version: job.flink.version,
    auth: await flinkAuthFor(job, tracer),
    caPem: job.flink.caCertSecretName ? await secretString(job.flink.caCertSecretName, tracer) : undefined,
    // One step retries a little itself; the state machine retries the step with longer backoff.
    retries: 2,
  });
}

export async function capacityTargetFor(job: JobConfig, _tracer: Tracer): Promise<CapacityTarget> {
  throw new Error(`no capacity target is wired for job "${job.name}" yet (pending merge of the targets branch: createCapacityTarget)`);
}
