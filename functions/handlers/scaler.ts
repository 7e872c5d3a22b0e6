/**
 * Scaler Lambda: EventBridge "CloudWatch Alarm State Change" events for this stack's alarms, schedule entries
 * `{source: "schedule", job, parallelism}` from EventBridge Scheduler, and the per-job 1-minute re-evaluation ticks
 * `{source: "reevaluate", job, time}` (EventBridge rules; the scaler looks up the job's alarm states with
 * DescribeAlarms and decides again only while one of them is in ALARM). Thin: wires the production adapters and hands
 * over to functions/scaler/scaler.ts. A malformed event is rejected (the error names the field) and changes nothing.
 *
 * Environment: STATE_TABLE_NAME, NOTIFICATION_TOPIC_ARN, STATE_MACHINE_ARN (set once the rescale workflow is
 * attached), POWERTOOLS_METRICS_NAMESPACE. The config is bundled (FLINK_ELASTIC_CONFIG_JSON).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { decide, parsePolicyState, parseSnapshot } from '../core/policy';
import { metricsNamespace } from '../core/signals';
import { flinkClientFor } from '../adapters/flink-connect';
import { CloudWatchMetricReader } from '../adapters/metrics/cloudwatch';
import { SecretsManagerSource } from '../adapters/secrets';
import { DynamoStateStore } from '../adapters/state/dynamo';
import { drainOutbox } from '../adapters/notification-outbox';
import { cloudWatchAlarmStates, decisionPublisher, sfnStarter, snsNotifier, snsOutboxPublisher } from '../scaler/aws';
import type { DecideFn, ScalerDeps } from '../scaler/ports';
import { handleScalerEvent, type ScalerResult } from '../scaler/scaler';
import { jobMetrics } from '../collector/publish';
import { bundledConfig } from './shared/bundled-config';
import { logger, tracer } from './shared/powertools';

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} environment variable is not set`);
  return v;
}

/** The policy, with the snapshot and the stored state validated by the policy's own schemas. */
export const policyDecide: DecideFn = (snapshot, job, state) => decide(parseSnapshot(snapshot), job, state === undefined ? undefined : parsePolicyState(state));

let deps: ScalerDeps | undefined;

export function productionDeps(): ScalerDeps {
  const config = bundledConfig();
  const secrets = new SecretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({})));
  const stateMachineArn = process.env.STATE_MACHINE_ARN;
  const cloudWatch = tracer.captureAWSv3Client(new CloudWatchClient({}));
  const store = new DynamoStateStore({ tableName: requiredEnv('STATE_TABLE_NAME') });
  let sns: SNSClient | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const snsClient = () => (sns ??= tracer.captureAWSv3Client(new (require('@aws-sdk/client-sns') as { SNSClient: typeof SNSClient }).SNSClient({ requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } })));
  const log = {
    info: (m: string, extra?: Record<string, unknown>) => logger.info(m, extra ?? {}),
    warn: (m: string, extra?: Record<string, unknown>) => logger.warn(m, extra ?? {}),
    error: (m: string, extra?: Record<string, unknown>) => logger.error(m, extra ?? {}),
  };
  const publishOutbox = snsOutboxPublisher(snsClient);
  return {
    config,
    now: () => Date.now(),
    flink: (job) => flinkClientFor(job, secrets),
    metrics: new CloudWatchMetricReader(cloudWatch),
    alarmStates: cloudWatchAlarmStates(cloudWatch, config.deployment.stackName),
    store,
    drainOutbox: (jobs) => drainOutbox(store, publishOutbox, jobs, Date.now(), log),
    // Loaded on first use: the targets bring the Auto Scaling, EC2 (~150-250 ms of module load alone) and EKS
    // clients, and only capacity-only decisions need a target (rescales go through the workflow).
    target: (job) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const targets = require('../adapters/targets') as typeof import('../adapters/targets');
      return targets.createCapacityTarget(job);
    },
    decide: policyDecide,
    // (the SFN and SNS clients are created, and their modules loaded, on the first execution started / notification)
    /* eslint-disable @typescript-eslint/no-require-imports */
    startExecution: stateMachineArn
      ? sfnStarter(() => tracer.captureAWSv3Client(new (require('@aws-sdk/client-sfn') as { SFNClient: typeof SFNClient }).SFNClient({})), stateMachineArn)
      : undefined,
    notify: snsNotifier(snsClient, requiredEnv('NOTIFICATION_TOPIC_ARN')),
    /* eslint-enable @typescript-eslint/no-require-imports */
    publishDecision: decisionPublisher(jobMetrics(metricsNamespace(config.deployment.stackName))),
    log,
  };
}

export const handler = async (event: unknown, context?: Context): Promise<ScalerResult> => {
  if (context) logger.addContext(context);
  deps ??= productionDeps();
  return handleScalerEvent(event, deps);
};
