/**
 * The few Kubernetes API calls the two Kubernetes targets make (get, list by label selector, merge patch), over
 * node:https (../http.ts) with the cluster's CA and a bearer token: @kubernetes/client-node weighed ~1.5 MB in the
 * scaler and workflow bundles for these. `KubeConfig` keeps the shape of that library's object for what we read.
 */
import { Agent as HttpsAgent } from 'node:https';
import { send } from '../http';

export interface KubeCluster {
  name: string;
  /** API server URL, e.g. https://ABC.gr7.eu-west-1.eks.amazonaws.com */
  server: string;
  /** Base64 PEM of the cluster CA (as eks:DescribeCluster returns it). */
  caData?: string;
  skipTLSVerify: boolean;
}

export interface KubeUser {
  name: string;
  token?: string;
}

/** One cluster and one user: where to connect and with which bearer token. */
export class KubeConfig {
  constructor(
    private readonly cluster: KubeCluster,
    private readonly user: KubeUser,
  ) {}

  getCurrentCluster(): KubeCluster {
    return this.cluster;
  }

  getCurrentUser(): KubeUser {
    return this.user;
  }
}

/** An answer other than 2xx: `code` is the HTTP status, `body` the response text (a Status object, usually). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
    this.name = 'KubeApiError';
  }
}

export interface V1LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface V1LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: V1LabelSelectorRequirement[];
}

export interface V1Pod {
  metadata?: { name?: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[]; conditions?: { type: string; status: string }[] };
}

export interface V1Deployment {
  metadata?: { generation?: number };
  spec?: { replicas?: number; selector?: V1LabelSelector };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number };
}

/** Path of a namespaced object: core group ("" → /api/v1) or a named group (/apis/<group>/<version>). */
export function namespacedPath(group: string, version: string, namespace: string, plural: string, name?: string, sub?: string): string {
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return [base, 'namespaces', namespace, plural, name, sub]
    .filter((x): x is string => x !== undefined)
    .map((x, i) => (i === 0 ? x : encodeURIComponent(x)))
    .join('/');
}

export class KubeClient {
  private readonly server: URL;
  private readonly agent: HttpsAgent;
  private readonly token?: string;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    this.server = new URL(cluster.server);
    this.token = kc.getCurrentUser().token;
    this.agent = new HttpsAgent({
      ...(cluster.caData ? { ca: Buffer.from(cluster.caData, 'base64') } : {}),
      rejectUnauthorized: !cluster.skipTLSVerify,
    });
  }

  get<T>(path: string, query?: Record<string, string>): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  /** RFC 7386 JSON merge patch (`application/merge-patch+json`). */
  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, undefined, body);
  }

  private async request<T>(method: string, path: string, query?: Record<string, string>, body?: unknown): Promise<T> {
    const url = new URL(this.server.href.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'flink-elastic' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/merge-patch+json';
    const res = await send({ method, url, headers, body: body === undefined ? undefined : JSON.stringify(body), agent: this.agent });
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status >= 300) throw new KubeApiError(res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
