/**
 * Flink client and capacity target per job, for production: the shared Flink connector (credentials and CA bundle
 * from Secrets Manager by the names in the config) and the shared capacity-target factory, with traced AWS clients
 * created once per Lambda container.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SdkTracer as Tracer } from '../adapters/xray';
import type { JobConfig } from '../core/config';
import { flinkClientFor as connect } from '../adapters/flink-connect';
import type { FlinkApi } from '../adapters/flink/types';
import { SecretsManagerSource } from '../adapters/secrets';
import type { CapacityTarget } from '../adapters/targets/types';

let secrets: SecretsManagerSource | undefined;
let aws: { autoScaling: AutoScalingClient; ec2: EC2Client; eks: EKSClient } | undefined;

export async function flinkClientFor(job: JobConfig, tracer: Tracer): Promise<FlinkApi> {
  secrets ??= new SecretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({})));
  return connect(job, secrets);
}

/** The job's capacity target (ASG, EKS Deployment or FlinkDeployment). */
export async function capacityTargetFor(job: JobConfig, tracer: Tracer): Promise<CapacityTarget> {
  // Loaded on the first step that needs a capacity target: the EC2 client alone is ~150-250 ms of module load, and
  // most steps (validate, savepoint, status polls, notify) never touch a target.
  /* eslint-disable @typescript-eslint/no-require-imports */
  aws ??= {
    autoScaling: tracer.captureAWSv3Client(new (require('@aws-sdk/client-auto-scaling') as typeof import('@aws-sdk/client-auto-scaling')).AutoScalingClient({})),
    ec2: tracer.captureAWSv3Client(new (require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2')).EC2Client({})),
    eks: tracer.captureAWSv3Client(new (require('@aws-sdk/client-eks') as typeof import('@aws-sdk/client-eks')).EKSClient({})),
  };
  return (require('../adapters/targets') as typeof import('../adapters/targets')).createCapacityTarget(job, aws);
  /* eslint-enable @typescript-eslint/no-require-imports */
}
