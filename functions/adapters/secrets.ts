/**
 * Flink REST credentials and CA bundles from Secrets Manager, by the names in the config. Values are cached per
 * Lambda container for a few minutes and never logged: errors name the secret and the field, never the content.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { JobConfig } from '../core/config';

export type FlinkCredentials = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export class SecretError extends Error {
  override readonly name = 'SecretError';
}

export interface SecretSource {
  /** The secret's SecretString. */
  get(name: string): Promise<string>;
}

export class SecretsManagerSource implements SecretSource {
  private readonly cache = new Map<string, { value: string; until: number }>();
  constructor(
    private readonly client: SecretsManagerClient = new SecretsManagerClient({}),
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(name: string): Promise<string> {
    const hit = this.cache.get(name);
    if (hit && hit.until > this.now()) return hit.value;
    let value: string | undefined;
    try {
      value = (await this.client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    } catch (e) {
      throw new SecretError(`cannot read secret "${name}": ${(e as { name?: string }).name ?? 'Error'}: ${(e as Error).message}`);
    }
    if (value === undefined) throw new SecretError(`secret "${name}" has no SecretString (binary secrets are not supported)`);
    this.cache.set(name, { value, until: this.now() + this.ttlMs });
    return value;
  }
}

const nonEmptyString = (v: unknown) => typeof v === 'string' && v.length > 0;

/** The job's REST credentials, or undefined when it has none. */
export async function flinkCredentials(job: JobConfig, secrets: SecretSource): Promise<FlinkCredentials | undefined> {
  const auth = job.flink.auth;
  if (!auth) return undefined;
  const text = await secrets.get(auth.secretName);
  let doc: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    throw new SecretError(`secret "${auth.secretName}" (jobs.${job.name}.flink.auth) must be a JSON object ${auth.type === 'basic' ? '{"username": "...", "password": "..."}' : '{"token": "..."}'}`);
  }
  if (auth.type === 'basic') {
    if (!nonEmptyString(doc.username) || !nonEmptyString(doc.password)) {
      throw new SecretError(`secret "${auth.secretName}" must have non-empty string fields "username" and "password" (has: ${Object.keys(doc).join(', ') || 'none'})`);
    }
    return { type: 'basic', username: doc.username as string, password: doc.password as string };
  }
  if (!nonEmptyString(doc.token)) throw new SecretError(`secret "${auth.secretName}" must have a non-empty string field "token" (has: ${Object.keys(doc).join(', ') || 'none'})`);
  return { type: 'bearer', token: doc.token as string };
}

/** The job's PEM CA bundle, or undefined. */
export async function flinkCaPem(job: JobConfig, secrets: SecretSource): Promise<string | undefined> {
  const name = job.flink.caCertSecretName;
  if (!name) return undefined;
  const pem = await secrets.get(name);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new SecretError(`secret "${name}" (caCertSecretName) must hold a PEM certificate bundle`);
  return pem;
}
