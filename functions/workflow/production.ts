/**
 * Production wiring of the workflow steps: the config the handler passes in (the one bundled into the function:
 * handlers/shared/bundled-config.ts; it is not in the environment), the DynamoDB state store, SNS, the Flink REST client (credentials from Secrets Manager by name),
 * and the capacity target of each job.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SdkTracer as Tracer } from '../adapters/xray';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { JOB_DIMENSION } from '../core/signals';
import type { Config } from '../core/config';
import { DynamoStateStore } from '../adapters/state/dynamo';
import { LocalOrS3JarSource } from '../adapters/jar-source';
import type { WorkflowDeps } from './deps';
import { flinkClientFor, capacityTargetFor } from './production-clients';

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} environment variable is not set`);
  return v;
}

export function createProductionDeps({ config, logger, tracer, metrics }: { config: Config; logger: Logger; tracer: Tracer; metrics?: Metrics }): WorkflowDeps {
  const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
  let snsClient: SNSClient | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sns = () => (snsClient ??= tracer.captureAWSv3Client(new (require('@aws-sdk/client-sns') as { SNSClient: typeof SNSClient }).SNSClient({})));
  const flinkCache = new Map<string, ReturnType<typeof flinkClientFor>>();
  const targetCache = new Map<string, ReturnType<typeof capacityTargetFor>>();
  return {
    config,
    store: new DynamoStateStore({ tableName: requiredEnv('STATE_TABLE_NAME'), client: dynamo }),
    // a getter: the SNS client (and its module) is made on the first notification; most steps never notify
    get sns() {
      return sns();
    },
    // s3:GetObject is granted on exactly the jobs' submit.jarPath objects (lib/constructs/job-access.ts)
    // (the S3 client is loaded only when a jar is fetched from S3: resubmitting steps)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jars: new LocalOrS3JarSource(() => tracer.captureAWSv3Client(new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({}))),
    topicArn: requiredEnv('NOTIFICATION_TOPIC_ARN'),
    stateMachineArn: process.env.STATE_MACHINE_ARN,
    flink: (job) => {
      if (!flinkCache.has(job.name)) flinkCache.set(job.name, flinkClientFor(job, tracer));
      return flinkCache.get(job.name)!;
    },
    target: (job) => {
      if (!targetCache.has(job.name)) targetCache.set(job.name, capacityTargetFor(job, tracer));
      return targetCache.get(job.name)!;
    },
    publishMetric: metrics
      ? (job, name, value, unit) => {
          metrics.addDimension(JOB_DIMENSION, job);
          metrics.addMetric(name, unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, value);
          metrics.publishStoredMetrics();
        }
      : undefined,
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log: {
      info: (m, x) => logger.info(m, x ?? {}),
      warn: (m, x) => logger.warn(m, x ?? {}),
      error: (m, x) => logger.error(m, x ?? {}),
    },
  };
}
