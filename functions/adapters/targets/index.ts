/**
 * Builds the capacity target a job's config names. Consumers use only the `CapacityTarget` interface; the
 * FlinkDeployment target additionally offers `setJobParallelism` for operator-owned jobs.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { JobConfig } from '../../core/config';
import { AsgCapacityTarget, ec2AddressResolver, type ResolveAddresses } from './asg';
import type { CredentialsProvider, EksKubeConfigProvider } from './eks-auth';
import type { KubeConfigSource } from './kube';
import type { CapacityTarget } from './types';

export interface CapacityTargetDeps {
  /** ASG: the Auto Scaling client (default: a new one for the Lambda's region). */
  autoScaling?: AutoScalingClient;
  /** ASG: instance id → private IPs/DNS names. Default: ec2:DescribeInstances through `ec2`; `false` turns it off. */
  resolveAddresses?: ResolveAddresses | false;
  /** ASG: the EC2 client for the default address resolver. */
  ec2?: EC2Client;
  /** EKS: the EKS client used for eks:DescribeCluster (default: a new one). */
  eks?: EKSClient;
  /** EKS: credentials that sign the token (default: the EKS client's credential chain). */
  credentials?: CredentialsProvider;
  region?: string;
  /** Kubernetes access override (tests, local clusters): used instead of eks:DescribeCluster + token. */
  kube?: KubeConfigSource;
  /** Overrides job.dryRun. */
  dryRun?: boolean;
}

/**
 * Production default (no injected EKS client or credentials): one provider per cluster and region for the life of the
 * Lambda container, so warm invocations reuse the cluster endpoint/CA and a still-valid token.
 */
const sharedProviders = new Map<string, EksKubeConfigProvider>();

/*
 * The Kubernetes targets pull in @aws-sdk/client-eks and the SigV4 signer (the EKS token): load them only for jobs
 * that use them, so an ASG-only deployment never pays that on a cold start. esbuild keeps these requires lazy in the
 * bundle (their code is in it, small since kube-client.ts replaced @kubernetes/client-node, but is not run).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const eksAuth = (): typeof import('./eks-auth') => require('./eks-auth');
const eksDeployment = (): typeof import('./eks-deployment') => require('./eks-deployment');
const flinkDeployment = (): typeof import('./flink-deployment') => require('./flink-deployment');
/* eslint-enable @typescript-eslint/no-require-imports */

function kubeFor(clusterName: string, target: { kind: 'eks-deployment' | 'flink-deployment'; name: string }, deps: CapacityTargetDeps): KubeConfigSource {
  if (deps.kube) return deps.kube;
  const make = () => new (eksAuth().EksKubeConfigProvider)({ clusterName, target, eks: deps.eks, credentials: deps.credentials, region: deps.region });
  if (deps.eks || deps.credentials) return make();
  const key = `${clusterName}|${deps.region ?? process.env.AWS_REGION ?? ''}`;
  let p = sharedProviders.get(key);
  if (!p) sharedProviders.set(key, (p = make()));
  return p;
}

export function createCapacityTarget(job: JobConfig, deps: CapacityTargetDeps = {}): CapacityTarget {
  const t = job.target;
  const bounds = { minTaskManagers: job.bounds.minTaskManagers, maxTaskManagers: job.bounds.maxTaskManagers };
  const dryRun = deps.dryRun ?? job.dryRun;
  switch (t.kind) {
    case 'asg':
      return new AsgCapacityTarget({
        autoScalingGroupName: t.autoScalingGroupName,
        bounds,
        client: deps.autoScaling,
        resolveAddresses: deps.resolveAddresses === false ? undefined : (deps.resolveAddresses ?? ec2AddressResolver(deps.ec2)),
        dryRun,
      });
    case 'eks-deployment': {
      const target = { kind: t.kind, name: `${t.namespace}/${t.deploymentName}` };
      const kube = kubeFor(t.clusterName, target, deps);
      return new (eksDeployment().EksDeploymentTarget)({ namespace: t.namespace, deploymentName: t.deploymentName, bounds, kube, dryRun });
    }
    case 'flink-deployment': {
      const target = { kind: t.kind, name: `${t.namespace}/${t.name}` };
      const kube = kubeFor(t.clusterName, target, deps);
      return new (flinkDeployment().FlinkDeploymentTarget)({
        namespace: t.namespace,
        flinkDeploymentName: t.name,
        operatorOwnsJob: t.operatorOwnsJob,
        job: { slotsPerTaskManager: job.slotsPerTaskManager, bounds: job.bounds },
        bounds,
        kube,
        dryRun,
      });
    }
  }
}

export * from './types';
export { AsgCapacityTarget, asgError, ec2AddressResolver, MAX_PROTECTION_IDS_PER_CALL, type AsgTargetOptions, type ResolveAddresses } from './asg';
// Kubernetes targets: types only here (import values from their modules), so importing this index stays light.
export type { EksDeploymentTarget, EksDeploymentTargetOptions } from './eks-deployment';
export type { FlinkDeploymentTarget, FlinkDeploymentTargetOptions, SetJobParallelismResult } from './flink-deployment';
export type { EksKubeConfigProvider, CredentialsProvider, AwsCredentials } from './eks-auth';
export type { KubeConfigSource } from './kube';
export { mapMembers, planDesired, planRelease } from './common';
