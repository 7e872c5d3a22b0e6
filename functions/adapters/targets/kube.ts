/**
 * What the two Kubernetes targets (EKS Deployment, FlinkDeployment) share: TaskManager pods found by label selector,
 * mapped to TaskManagers by pod name (TM resource id in native mode) or pod IP, kept or released through
 * `controller.kubernetes.io/pod-deletion-cost`, and a scale written through the `scale` subresource.
 *
 * How the ReplicaSet controller picks pods on scale-down (kube-controller-manager, pod-deletion-cost ≥ 1.22):
 * unscheduled < Pending < Unknown < Running, then not-ready < ready, then LOWER pod-deletion-cost first. So releasing
 * exactly the named idle pods = mark them with the lowest cost, make sure no other pod would rank before them
 * (pending / not-ready pods, leftover low costs), then lower the replica count by exactly that many.
 */
import { KubeApiError, KubeClient, namespacedPath, type KubeConfig, type V1LabelSelector, type V1Pod } from './kube-client';
import type { TaskManagerInfo } from '../flink/types';
import { mapMembers, planDesired, planRelease, type RawMember } from './common';
import {
  CapacityTargetError,
  type CapacityTarget,
  type JobTaskManagerBounds,
  type ProtectResult,
  type ReleaseOptions,
  type ReleaseResult,
  type SetDesiredOptions,
  type SetDesiredResult,
  type SkippedMember,
  type TargetDescription,
  type TargetKind,
  type TargetMember,
} from './types';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** Cost on pods whose TaskManager holds slots: deleted last. */
export const BUSY_POD_COST = '100000';
/** Cost on the pods being released: deleted first. */
export const RELEASE_POD_COST = '-100000';

/** Where a KubeConfig comes from (`EksKubeConfigProvider`, or a fixed one in tests/local use). */
export interface KubeConfigSource {
  get(): Promise<KubeConfig>;
  /** Called after a 401 so the next `get` builds fresh credentials. */
  invalidate?(): void;
}

export function fixedKubeConfig(kc: KubeConfig): KubeConfigSource {
  return { get: async () => kc };
}

/** Kubernetes label selector string from a LabelSelector object. */
export function selectorString(sel: V1LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Running (ready), NotReady, Pending, Unscheduled, Terminating, Succeeded, Failed, Unknown. */
export function podState(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Pending' && !pod.spec?.nodeName) return 'Unscheduled';
  if (phase !== 'Running') return phase;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return ready ? 'Running' : 'NotReady';
}

export function podToRaw(pod: V1Pod): RawMember {
  const name = pod.metadata?.name ?? '';
  const ips = new Set<string>([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((x): x is string => !!x));
  const cost = pod.metadata?.annotations?.[POD_DELETION_COST];
  return { id: name, state: podState(pod), addresses: [...ips, name], protected: cost !== undefined && Number(cost) > 0 };
}

export interface KubeTargetOptions {
  namespace: string;
  bounds: JobTaskManagerBounds;
  kube: KubeConfigSource;
  dryRun?: boolean;
}

interface ScaleState {
  desired: number;
  /** Label selector of the TaskManager pods. */
  selector: string;
  /** A reason why the replica count cannot be lowered safely right now (e.g. a rollout in progress). */
  unsafe?: string;
}

/** Shared by EksDeploymentTarget and FlinkDeploymentTarget. */
export abstract class KubePodTarget implements CapacityTarget {
  abstract readonly kind: TargetKind;
  abstract readonly name: string;
  private clients = new WeakMap<KubeConfig, KubeClient>();

  constructor(protected readonly opts: KubeTargetOptions) {}

  /** Current replica count and the pods' selector. */
  protected abstract readScale(): Promise<ScaleState>;
  /** Writes the replica count through the scale subresource. */
  protected abstract writeScale(replicas: number): Promise<void>;
  /** The RBAC rule that a 403 on `operation` points to, for the error message. */
  protected abstract rbacHint(operation: string): string;

  async describe(taskManagers: TaskManagerInfo[]): Promise<TargetDescription> {
    return (await this.read(taskManagers)).description;
  }

  async setDesired(count: number, opts: SetDesiredOptions = {}): Promise<SetDesiredResult> {
    const scale = await this.readScale();
    const plan = planDesired(this, { requested: count, current: scale.desired, targetMin: 0, targetMax: Infinity, bounds: this.opts.bounds, minRequired: opts.minRequired });
    const dryRun = !!this.opts.dryRun;
    const actions: string[] = [];
    if (plan.clampedBy) actions.push(`clamped to ${plan.desired}: ${plan.clampedBy}`);
    if (!plan.changed) actions.push(`replicas already ${scale.desired}; nothing to do`);
    else if (dryRun) actions.push(`dry run: would patch scale replicas ${scale.desired} → ${plan.desired}`);
    else {
      await this.writeScale(plan.desired);
      actions.push(`patched scale replicas ${scale.desired} → ${plan.desired}`);
    }
    return { previous: scale.desired, desired: plan.desired, changed: plan.changed && !dryRun, clampedBy: plan.clampedBy, dryRun, actions };
  }

  async protectBusy(taskManagers: TaskManagerInfo[]): Promise<ProtectResult> {
    const { description, costs } = await this.read(taskManagers);
    return this.applyCosts(description, costs, new Set());
  }

  async release(memberIds: string[], taskManagers: TaskManagerInfo[], opts: ReleaseOptions = {}): Promise<ReleaseResult> {
    const { description: d, scale, costs: currentCosts } = await this.read(taskManagers);
    const dryRun = !!this.opts.dryRun;
    const plan = planRelease(d, memberIds, { bounds: this.opts.bounds, minRequired: opts.minRequired, inService: (m) => m.state === 'Running' });
    const releasing = new Set(plan.release.map((m) => m.id));
    const unsafe = plan.release.length > 0 ? (scale.unsafe ?? this.rankingProblem(d, releasing)) : undefined;
    const skipped: SkippedMember[] = [...plan.skipped];
    const actions: string[] = plan.skipped.map((s) => `skipped ${s.id}: ${s.reason}`);
    if (unsafe) {
      for (const m of plan.release) skipped.push({ id: m.id, code: 'unsafe', reason: unsafe });
      actions.push(`released nothing: ${unsafe}`);
      return { released: [], selected: [], skipped, previous: d.desired, desired: d.desired, dryRun, actions };
    }
    if (plan.release.length === 0) {
      actions.push('no member released');
      return { released: [], selected: [], skipped, previous: d.desired, desired: d.desired, dryRun, actions };
    }
    const marked = await this.applyCosts(d, currentCosts, releasing);
    actions.push(...marked.actions);
    const target = d.desired - plan.release.length;
    const selected = plan.release.map((m) => m.id);
    if (dryRun) {
      actions.push(`dry run: would patch scale replicas ${d.desired} → ${target}, removing ${selected.join(', ')}`);
      return { released: [], selected, skipped, previous: d.desired, desired: d.desired, dryRun, actions };
    }
    await this.writeScale(target);
    actions.push(`patched scale replicas ${d.desired} → ${target}; the controller removes the lowest-cost pods: ${selected.join(', ')}`);
    return { released: selected, selected, skipped, previous: d.desired, desired: target, dryRun, actions };
  }

  /** Pods + scale, mapped to the TaskManagers. */
  protected async read(taskManagers: TaskManagerInfo[]): Promise<{ description: TargetDescription; scale: ScaleState; costs: Map<string, string | undefined> }> {
    const scale = await this.readScale();
    const pods = (await this.listPods(scale.selector)).filter((p) => p.metadata?.name);
    const raw = pods.map(podToRaw);
    return {
      scale,
      costs: new Map(pods.map((p) => [p.metadata!.name!, p.metadata?.annotations?.[POD_DELETION_COST]])),
      description: { kind: this.kind, name: this.name, desired: scale.desired, min: 0, max: Infinity, ...mapMembers(raw, taskManagers) },
    };
  }

  /**
   * A reason the controller might not pick exactly the released pods: another live pod ranks before them (pending,
   * unscheduled, unknown or not ready), which would be removed instead, or, worse, is busy.
   */
  private rankingProblem(d: TargetDescription, releasing: Set<string>): string | undefined {
    const early = d.members.filter((m) => !releasing.has(m.id) && ['Unscheduled', 'Pending', 'Unknown', 'NotReady'].includes(m.state));
    if (early.length === 0) return undefined;
    const busy = early.filter((m) => m.busySlots !== undefined && m.busySlots > 0);
    const list = (ms: TargetMember[]) => ms.map((m) => `${m.id} (${m.state})`).join(', ');
    return busy.length > 0
      ? `busy pod(s) ${list(busy)} are not ready; the controller deletes not-ready pods before looking at pod-deletion-cost, so lowering replicas could remove them`
      : `pod(s) ${list(early)} would be removed before the named idle pods (the controller deletes pending/not-ready pods first); retry when all pods are ready`;
  }

  /** Busy → BUSY cost, releasing → RELEASE cost, idle/other with a stale cost → annotation removed. Unmapped untouched. */
  private async applyCosts(d: TargetDescription, costs: Map<string, string | undefined>, releasing: Set<string>): Promise<ProtectResult> {
    const dryRun = !!this.opts.dryRun;
    const actions: string[] = [];
    const result: ProtectResult = { protected: [], unprotected: [], untouched: [], dryRun, actions };
    for (const m of d.members) {
      if (m.state === 'Terminating') continue;
      const current = costs.get(m.id);
      let want: string | null | undefined; // undefined: leave as is; null: remove
      if (releasing.has(m.id)) want = RELEASE_POD_COST;
      else if (m.taskManagerId === undefined) {
        want = current === RELEASE_POD_COST ? null : undefined; // never leave a stale "delete me first" mark
        if (want === undefined) result.untouched.push(m.id);
      } else if (!m.idle) want = BUSY_POD_COST;
      else want = current === undefined ? undefined : null;
      if (want === undefined || (want === null ? current === undefined : current === want)) continue;
      if (want === BUSY_POD_COST) result.protected.push(m.id);
      else if (want === null && current === BUSY_POD_COST) result.unprotected.push(m.id);
      const what = `${POD_DELETION_COST}=${want ?? '(removed)'} on ${m.id}${m.taskManagerId ? ` (TaskManager ${m.taskManagerId}, ${m.idle ? 'idle' : `${m.busySlots ?? 'unknown'} busy slot(s)`})` : ''}`;
      if (dryRun) {
        actions.push(`dry run: would set ${what}`);
        continue;
      }
      await this.call(`patch pod ${m.id}`, (kube) =>
        kube.mergePatch(namespacedPath('', 'v1', this.opts.namespace, 'pods', m.id), { metadata: { annotations: { [POD_DELETION_COST]: want } } }),
      );
      actions.push(`set ${what}`);
    }
    if (result.untouched.length > 0) actions.push(`left unmapped pods as they are: ${result.untouched.join(', ')}`);
    return result;
  }

  protected async listPods(selector: string): Promise<V1Pod[]> {
    const list = await this.call('list pods', (kube) => kube.get<{ items?: V1Pod[] }>(namespacedPath('', 'v1', this.opts.namespace, 'pods'), { labelSelector: selector }));
    return list.items ?? [];
  }

  /**
   * Runs one API call, retrying once with fresh credentials after a 401, and turning failures into
   * CapacityTargetError.
   */
  protected async call<T>(operation: string, fn: (kube: KubeClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const kc = await this.opts.kube.get();
        return await fn(this.client(kc));
      } catch (e) {
        if (e instanceof CapacityTargetError) throw e;
        if (e instanceof KubeApiError && e.code === 401 && attempt === 1 && this.opts.kube.invalidate) {
          this.opts.kube.invalidate();
          continue;
        }
        throw this.kubeError(operation, e);
      }
    }
  }

  private client(kc: KubeConfig): KubeClient {
    let c = this.clients.get(kc);
    if (!c) this.clients.set(kc, (c = new KubeClient(kc)));
    return c;
  }

  protected kubeError(operation: string, e: unknown): CapacityTargetError {
    const fail = (code: CapacityTargetError['code'], detail: string, retryable = false) =>
      new CapacityTargetError(this.kind, this.name, operation, code, detail, retryable, { cause: e });
    if (e instanceof KubeApiError) {
      const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
      const msg = `HTTP ${e.code}: ${(body as { message?: string } | undefined)?.message ?? (typeof e.body === 'string' ? e.body.slice(0, 200) : 'no message')}`;
      if (e.code === 401) return fail('UNAUTHORIZED', `${msg}; the API server rejected the token (is there an EKS access entry for this role?)`);
      if (e.code === 403) return fail('FORBIDDEN', `${msg}; needs RBAC: ${this.rbacHint(operation)}`);
      if (e.code === 404) return fail('NOT_FOUND', msg);
      return fail('API', msg, e.code === 409 || e.code === 429 || e.code >= 500);
    }
    const err = e as { code?: string; message?: string };
    return fail('API', `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`, true);
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
