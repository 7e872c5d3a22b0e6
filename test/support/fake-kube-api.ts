/**
 * A loopback fake of the Kubernetes API server (HTTPS on 127.0.0.1 with the test CA in test/fixtures/kube-tls), just
 * big enough for the capacity targets: Deployments + their scale subresource, pods (list by label selector, patch),
 * FlinkDeployments (flink.apache.org/v1beta1) + their scale subresource.
 *
 * It behaves like the real server where our code could go wrong:
 * - every request needs `Authorization: Bearer k8s-aws-v1...` that verifies (sigv4-verify.ts) for the expected cluster;
 * - PATCH bodies are merge patches and must be sent as `application/merge-patch+json` (the client's default,
 *   json-patch, gets the real server's 400; other types 415);
 * - scaling a Deployment or FlinkDeployment down removes pods the way the ReplicaSet controller ranks them
 *   (unscheduled < Pending < Unknown < Running, not-ready < ready, then lower pod-deletion-cost first);
 * - RBAC denials (403) can be configured per verb + path.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { verifyEksToken } from './sigv4-verify';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'kube-tls');
export const TEST_CA_PEM = readFileSync(join(TLS_DIR, 'ca.crt'), 'utf8');

export interface FakePod {
  name: string;
  labels: Record<string, string>;
  ip?: string;
  phase?: 'Pending' | 'Running' | 'Unknown' | 'Succeeded' | 'Failed';
  ready?: boolean;
  nodeName?: string;
  annotations?: Record<string, string>;
  deleting?: boolean;
}

export interface FakeDeployment {
  replicas: number;
  matchLabels: Record<string, string>;
  /** Status differs from spec (rolling out) when set. */
  statusReplicas?: number;
  updatedReplicas?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: any;
  status: number;
}

export interface FakeKubeOptions {
  clusterName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Server clock for token expiry checks. */
  now?: () => number;
}

const NS_PATH = /^\/(api\/v1|apis\/apps\/v1|apis\/flink\.apache\.org\/v1beta1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;
const STATE_RANK: Record<string, number> = { Unscheduled: 0, Pending: 1, Unknown: 2, Running: 3 };

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** namespace → pod name → pod */
  readonly pods = new Map<string, Map<string, FakePod>>();
  readonly deployments = new Map<string, FakeDeployment>(); // "ns/name"
  readonly flinkDeployments = new Map<string, any>(); // "ns/name" → object
  /** FlinkDeployments served without a scale subresource (older operators). */
  noScaleSubresource = false;
  private denied: { method: string; path: RegExp }[] = [];
  /** When set, every request must be allowed by one of these RBAC rules (as in a Role), else 403. */
  rbac?: RbacRule[];
  private server?: Server;
  private seq = 0;

  constructor(private readonly opts: FakeKubeOptions) {}

  async start(): Promise<string> {
    this.server = createServer({ key: readFileSync(join(TLS_DIR, 'server.key')), cert: readFileSync(join(TLS_DIR, 'server.crt')) }, (req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), contentType: req.headers['content-type'], status: 0 };
        if (raw) rec.body = safeJson(raw);
        this.requests.push(rec);
        const send = (status: number, body: unknown) => {
          rec.status = status;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        try {
          const auth = req.headers.authorization ?? '';
          const bad = auth.startsWith('Bearer ')
            ? verifyEksToken(auth.slice(7), { ...this.opts, nowMs: (this.opts.now ?? Date.now)() })
            : 'no bearer token';
          if (bad) return send(401, status(401, 'Unauthorized', `Unauthorized: ${bad}`));
          if (this.denied.some((d) => d.method === rec.method && d.path.test(rec.path)) || (this.rbac && !rbacAllows(this.rbac, rec))) {
            return send(403, status(403, 'Forbidden', `forbidden: User "arn:aws:sts::123456789012:assumed-role/flink-elastic/scaler" cannot ${rec.method.toLowerCase()} ${rec.path}`));
          }
          if (rec.method === 'PATCH' && rec.contentType === 'application/json-patch+json' && !Array.isArray(rec.body)) {
            // What the real server says when a merge-patch body arrives under the client's default content type.
            return send(400, status(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'));
          }
          if (rec.method === 'PATCH' && rec.contentType !== 'application/merge-patch+json') {
            return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${rec.contentType})`));
          }
          const [code, body] = this.route(rec, url);
          send(code, body);
        } catch (e) {
          send(500, status(500, 'InternalError', (e as Error).message));
        }
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((ok) => this.server?.close(() => ok()) ?? ok());
  }

  deny(method: string, path: RegExp): void {
    this.denied.push({ method, path });
  }

  addPod(namespace: string, pod: FakePod): void {
    if (!this.pods.has(namespace)) this.pods.set(namespace, new Map());
    this.pods.get(namespace)!.set(pod.name, { phase: 'Running', ready: true, nodeName: 'node-1', annotations: {}, ...pod });
  }

  podNames(namespace: string): string[] {
    return [...(this.pods.get(namespace)?.values() ?? [])].map((p) => p.name);
  }

  /** Writes only (PATCH/POST/PUT/DELETE), as "VERB path content-type body". */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private route(rec: RecordedRequest, url: URL): [number, unknown] {
    const m = NS_PATH.exec(rec.path);
    if (!m) return [404, status(404, 'NotFound', `no route ${rec.path}`)];
    const [, group, ns, resource, name, sub] = m;
    const key = `${ns}/${name}`;
    if (group === 'api/v1' && resource === 'pods' && !name && rec.method === 'GET') {
      const sel = parseSelector(url.searchParams.get('labelSelector') ?? '');
      const items = [...(this.pods.get(ns)?.values() ?? [])].filter((p) => sel(p.labels)).map((p) => podJson(ns, p));
      return [200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items }];
    }
    if (group === 'api/v1' && resource === 'pods' && name && !sub && rec.method === 'PATCH') {
      const pod = this.pods.get(ns)?.get(name);
      if (!pod) return [404, status(404, 'NotFound', `pods "${name}" not found`)];
      const patched = mergePatch({ metadata: { annotations: pod.annotations ?? {}, labels: pod.labels } }, rec.body);
      pod.annotations = patched.metadata.annotations ?? {};
      return [200, podJson(ns, pod)];
    }
    if (group === 'apis/apps/v1' && resource === 'deployments' && name) {
      const d = this.deployments.get(key);
      if (!d) return [404, status(404, 'NotFound', `deployments.apps "${name}" not found`)];
      if (!sub && rec.method === 'GET') return [200, deploymentJson(ns, name, d)];
      if (sub === 'scale' && rec.method === 'GET') return [200, scaleJson(ns, name, d.replicas, selectorOf(d.matchLabels))];
      if (sub === 'scale' && rec.method === 'PATCH') {
        const replicas = mergePatch({ spec: { replicas: d.replicas } }, rec.body).spec.replicas;
        this.scalePods(ns, d.matchLabels, replicas);
        d.replicas = replicas;
        return [200, scaleJson(ns, name, replicas, selectorOf(d.matchLabels))];
      }
    }
    if (group === 'apis/flink.apache.org/v1beta1' && resource === 'flinkdeployments' && name) {
      const fd = this.flinkDeployments.get(key);
      if (!fd) return [404, status(404, 'NotFound', `flinkdeployments.flink.apache.org "${name}" not found`)];
      const labels = { app: name, component: 'taskmanager' };
      if (!sub && rec.method === 'GET') return [200, fd];
      if (!sub && rec.method === 'PATCH') {
        const next = mergePatch(fd, rec.body);
        const replicas = next.spec?.taskManager?.replicas;
        if (replicas !== undefined && replicas !== fd.spec?.taskManager?.replicas) this.scalePods(ns, labels, replicas);
        this.flinkDeployments.set(key, next);
        return [200, next];
      }
      if (sub === 'scale') {
        if (this.noScaleSubresource) return [404, status(404, 'NotFound', 'the server could not find the requested resource')];
        const current = fd.spec?.taskManager?.replicas ?? 0;
        const selector = fd.status?.taskManager?.labelSelector ?? selectorOf(labels);
        if (rec.method === 'GET') return [200, scaleJson(ns, name, current, selector)];
        if (rec.method === 'PATCH') {
          const replicas = mergePatch({ spec: { replicas: current } }, rec.body).spec.replicas;
          this.scalePods(ns, labels, replicas);
          this.flinkDeployments.set(key, mergePatch(fd, { spec: { taskManager: { replicas } } }));
          return [200, scaleJson(ns, name, replicas, selector)];
        }
      }
    }
    return [404, status(404, 'NotFound', `no route ${rec.method} ${rec.path}`)];
  }

  /** ReplicaSet-controller-like: add Pending pods, or remove pods in its deletion order. */
  private scalePods(ns: string, labels: Record<string, string>, replicas: number): void {
    const sel = parseSelector(selectorOf(labels));
    const live = [...(this.pods.get(ns)?.values() ?? [])].filter((p) => sel(p.labels) && !p.deleting);
    if (replicas > live.length) {
      for (let i = live.length; i < replicas; i++) this.addPod(ns, { name: `new-pod-${++this.seq}`, labels, phase: 'Pending', ready: false });
      return;
    }
    const rank = (p: FakePod) => [
      STATE_RANK[!p.nodeName ? 'Unscheduled' : (p.phase ?? 'Unknown')] ?? 0,
      p.ready ? 1 : 0,
      Number(p.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0),
    ];
    const order = live.sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
      return 0;
    });
    for (const p of order.slice(0, live.length - replicas)) this.pods.get(ns)!.delete(p.name);
  }
}

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Kubernetes RBAC semantics for the requests this fake serves: (apiGroup, resource[/subresource], name, verb). */
export function rbacAllows(rules: RbacRule[], rec: { method: string; path: string }): boolean {
  const m = NS_PATH.exec(rec.path);
  if (!m) return false;
  const [, groupPath, , resource, name, sub] = m;
  const apiGroup = groupPath === 'api/v1' ? '' : groupPath.split('/')[1];
  const res = sub ? `${resource}/${sub}` : resource;
  const verb = rec.method === 'GET' ? (name ? 'get' : 'list') : rec.method === 'PATCH' ? 'patch' : rec.method.toLowerCase();
  return rules.some(
    (r) =>
      r.apiGroups.includes(apiGroup) &&
      r.resources.includes(res) &&
      r.verbs.includes(verb) &&
      (!r.resourceNames || r.resourceNames.length === 0 || (name !== undefined && r.resourceNames.includes(name))),
  );
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Equality-based selectors only ("a=b,c=d"); anything else is a test bug. */
function parseSelector(s: string): (labels: Record<string, string>) => boolean {
  const terms = s
    .split(',')
    .filter(Boolean)
    .map((t) => {
      const m = /^([^=!\s]+)==?([^=\s]*)$/.exec(t.trim());
      if (!m) throw new Error(`fake API server: unsupported selector term "${t}"`);
      return [m[1], m[2]] as const;
    });
  return (labels) => terms.every(([k, v]) => labels[k] === v);
}

function podJson(ns: string, p: FakePod) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: ns,
      labels: p.labels,
      annotations: p.annotations ?? {},
      ...(p.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: { containers: [{ name: 'taskmanager', image: 'flink:1.20' }], ...(p.nodeName ? { nodeName: p.nodeName } : {}) },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }],
    },
  };
}

function deploymentJson(ns: string, name: string, d: FakeDeployment) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, generation: 3 },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: d.matchLabels },
      template: { metadata: { labels: d.matchLabels }, spec: { containers: [{ name: 'taskmanager', image: 'flink:1.20' }] } },
    },
    status: { observedGeneration: 3, replicas: d.statusReplicas ?? d.replicas, updatedReplicas: d.updatedReplicas ?? d.replicas, readyReplicas: d.replicas },
  };
}

function scaleJson(ns: string, name: string, replicas: number, selector: string) {
  return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace: ns }, spec: { replicas }, status: { replicas, selector } };
}
