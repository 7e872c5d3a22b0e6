/**
 * EKS Deployment target: TaskManagers are the pods of one apps/v1 Deployment (Flink standalone on Kubernetes).
 *
 * - describe: GET the Deployment (replicas, selector), list its pods by selector, map pod name / IP ↔ TaskManager.
 * - setDesired: PATCH deployments/{name}/scale with `application/merge-patch+json` `{spec: {replicas}}`.
 * - protectBusy / release: `controller.kubernetes.io/pod-deletion-cost` on pods (merge patch), then scale (kube.ts).
 * A Deployment that is rolling out (old and new ReplicaSets) is never scaled in: the controller would split the
 * scale-down across ReplicaSets and could pick other pods.
 */
import { namespacedPath, type V1Deployment } from './kube-client';
import { KubePodTarget, selectorString, type KubeTargetOptions } from './kube';

export interface EksDeploymentTargetOptions extends KubeTargetOptions {
  deploymentName: string;
}

export class EksDeploymentTarget extends KubePodTarget {
  readonly kind = 'eks-deployment' as const;
  readonly name: string;

  constructor(private readonly dep: EksDeploymentTargetOptions) {
    super(dep);
    this.name = `${dep.namespace}/${dep.deploymentName}`;
  }

  protected async readScale() {
    const d = await this.call('read deployment', (kube) => kube.get<V1Deployment>(this.path()));
    const selector = selectorString(d.spec?.selector);
    const desired = d.spec?.replicas ?? 1;
    const st = d.status ?? {};
    const generationSeen = (st.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    const settled = generationSeen && (st.replicas ?? 0) === desired && (st.updatedReplicas ?? 0) === desired;
    return {
      desired,
      selector,
      unsafe: settled
        ? undefined
        : `Deployment ${this.name} is not settled (spec ${desired}, status ${st.replicas ?? 0} replicas, ${st.updatedReplicas ?? 0} updated${generationSeen ? '' : ', new spec not yet observed'}); scale-in waits for the rollout to finish`,
    };
  }

  protected async writeScale(replicas: number): Promise<void> {
    await this.call('patch deployment scale', (kube) => kube.mergePatch(this.path('scale'), { spec: { replicas } }));
  }

  private path(sub?: string): string {
    return namespacedPath('apps', 'v1', this.dep.namespace, 'deployments', this.dep.deploymentName, sub);
  }

  protected rbacHint(operation: string): string {
    const ns = this.dep.namespace;
    if (operation.startsWith('patch pod')) return `"patch" on pods in namespace ${ns}`;
    if (operation === 'list pods') return `"list" on pods in namespace ${ns}`;
    if (operation.includes('scale')) return `"patch" on deployments/scale, resourceNames [${this.dep.deploymentName}], in namespace ${ns}`;
    return `"get" on deployments, resourceNames [${this.dep.deploymentName}], in namespace ${ns}`;
  }
}
