/**
 * Lambda for the ASG termination lifecycle hook (EventBridge "EC2 Instance-terminate Lifecycle Action") and Spot
 * interruption warnings (EventBridge "EC2 Spot Instance Interruption Warning").
 *
 * Each invocation checks the instance's TaskManager, heartbeats the hook, and checks again every
 * LIFECYCLE_POLL_SECONDS until the TaskManager holds no slots (→ CompleteLifecycleAction CONTINUE), the job's drain
 * timeout passes (→ explicit outcome, notified), or the invocation's budget runs out: min(LIFECYCLE_MAX_WAIT_SECONDS,
 * remaining Lambda time − 10 s). Then it returns `{done: false, nextCheckSeconds, action}`, which is a valid input for
 * the next invocation (a Step Functions Wait loop, or any caller). It never waits beyond its own timeout.
 *
 * Deployed by the stack (lib/constructs/termination-drain.ts) with LIFECYCLE_MAX_WAIT_SECONDS=0: each invocation checks
 * once, and the drain state machine's Wait state passes the `done: false` result back after nextCheckSeconds.
 *
 * Config: bundled (FLINK_ELASTIC_CONFIG_JSON, see shared/bundled-config.ts). Environment: NOTIFICATION_TOPIC_ARN, LIFECYCLE_ON_DRAIN_TIMEOUT
 * (ABANDON | CONTINUE, default ABANDON), LIFECYCLE_POLL_SECONDS (1..300, default 15), LIFECYCLE_MAX_WAIT_SECONDS
 * (0..840, default 600).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { Context } from 'aws-lambda';
import type { Config, JobConfig } from '../core/config';
import { flinkClientFor } from '../adapters/flink-connect';
import { SecretsManagerSource } from '../adapters/secrets';
import type { FlinkApi } from '../adapters/flink/types';
import { AsgCapacityTarget, ec2AddressResolver, type ResolveAddresses } from '../adapters/targets/asg';
import {
  checkLifecycleAction,
  parseLifecycleInput,
  reportSpotInterruption,
  type LifecycleActionRef,
  type LifecycleResult,
} from '../adapters/targets/lifecycle-hook';
import { bundledConfig } from './shared/bundled-config';
import { logger } from './shared/powertools';

export interface LifecycleHookSettings {
  onTimeout: 'CONTINUE' | 'ABANDON';
  pollSeconds: number;
  maxWaitSeconds: number;
  topicArn?: string;
}

/** Reads and validates the handler's environment; names the variable and the allowed values on error. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): LifecycleHookSettings {
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
    return v;
  };
  const onTimeout = env.LIFECYCLE_ON_DRAIN_TIMEOUT || 'ABANDON';
  if (onTimeout !== 'ABANDON' && onTimeout !== 'CONTINUE') throw new Error(`LIFECYCLE_ON_DRAIN_TIMEOUT must be "ABANDON" or "CONTINUE" (got "${onTimeout}")`);
  return {
    onTimeout,
    pollSeconds: int('LIFECYCLE_POLL_SECONDS', 15, 1, 300),
    maxWaitSeconds: int('LIFECYCLE_MAX_WAIT_SECONDS', 600, 0, 840),
    topicArn: env.NOTIFICATION_TOPIC_ARN || undefined,
  };
}

export interface LifecycleHookDeps {
  config: () => Config;
  settings: LifecycleHookSettings;
  autoScaling: AutoScalingClient;
  /** Instance → addresses for mapping (default: ec2:DescribeInstances). */
  resolveAddresses?: ResolveAddresses;
  /** The Flink REST client of a job. */
  flinkFor: (job: JobConfig) => FlinkApi | Promise<FlinkApi>;
  /** Publishes a notification (default: SNS to settings.topicArn; nothing when no topic). */
  publish?: (subject: string, message: string) => Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const SAFETY_MS = 10_000;

export function makeLifecycleHookHandler(deps: LifecycleHookDeps) {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const publish = deps.publish ?? snsPublisher(deps.settings.topicArn);
  const log = (msg: string, extra?: Record<string, unknown>) => logger.info(msg, { ...extra });

  const targetFor = (job: JobConfig & { target: { kind: 'asg' } }) =>
    new AsgCapacityTarget({
      autoScalingGroupName: job.target.autoScalingGroupName,
      bounds: job.bounds,
      client: deps.autoScaling,
      resolveAddresses: deps.resolveAddresses,
      dryRun: job.dryRun,
    });

  return async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<LifecycleResult> {
    const started = now();
    const input = parseLifecycleInput(event);
    const config = deps.config();
    const asgJobs = config.jobs.filter((j): j is JobConfig & { target: { kind: 'asg'; autoScalingGroupName: string } } => j.target.kind === 'asg' && j.enabled);

    let result: LifecycleResult;
    if (input.kind === 'spot-interruption') {
      const candidates = await Promise.all(asgJobs.map(async (j) => ({ target: targetFor(j), flink: await deps.flinkFor(j) })));
      result = await reportSpotInterruption(input, candidates);
    } else {
      const action: LifecycleActionRef = input.action;
      const jobs = asgJobs.filter((j) => j.target.autoScalingGroupName === action.autoScalingGroupName);
      if (jobs.length === 0) {
        result = {
          done: true,
          outcome: 'not-managed',
          notify: true,
          message: `Lifecycle hook ${action.lifecycleHookName} of ${action.autoScalingGroupName} calls flink-elastic, but no enabled job uses that group; the action was left alone (its hook timeout and default result apply)`,
          instanceId: action.instanceId,
          autoScalingGroupName: action.autoScalingGroupName,
        };
      } else {
        // Several jobs in one session cluster share the group: wait as long as the most patient of them.
        const job = jobs.reduce((a, b) => (b.drainTimeoutSeconds > a.drainTimeoutSeconds ? b : a));
        const checkDeps = {
          autoScaling: deps.autoScaling,
          flink: await deps.flinkFor(job),
          target: targetFor(job),
          drainTimeoutSeconds: job.drainTimeoutSeconds,
          onTimeout: deps.settings.onTimeout,
          pollSeconds: deps.settings.pollSeconds,
          dryRun: job.dryRun,
          now,
          log,
        };
        const remaining = context?.getRemainingTimeInMillis?.() ?? Infinity;
        const budgetEnd = started + Math.min(deps.settings.maxWaitSeconds * 1000, remaining - SAFETY_MS);
        result = await checkLifecycleAction(action, checkDeps);
        while (!result.done && now() + result.nextCheckSeconds * 1000 <= budgetEnd) {
          await sleep(result.nextCheckSeconds * 1000);
          result = await checkLifecycleAction(result.action, checkDeps);
        }
      }
    }

    logger.info(result.done ? `lifecycle: ${result.outcome}` : 'lifecycle: still draining, call again', { result });
    if (result.done && result.notify) {
      const subject = `flink-elastic: ${result.outcome} ${result.instanceId}`.slice(0, 100);
      try {
        await publish(subject, `${result.message}\n\n${JSON.stringify(result, null, 2)}`);
      } catch (e) {
        // The lifecycle action is already settled; re-running would not bring the notification back. Log loudly.
        logger.error('notification failed', { error: (e as Error).message, result });
      }
    }
    return result;
  };
}

function snsPublisher(topicArn: string | undefined): (subject: string, message: string) => Promise<void> {
  if (!topicArn) return async () => {};
  // SNS is required on the first notification (a drain timeout, a Spot warning), not when the hook loads
  let sns: import('@aws-sdk/client-sns').SNSClient | undefined;
  return async (Subject, Message) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PublishCommand, SNSClient } = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
    sns ??= new SNSClient({});
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject, Message }));
  };
}

/** Production wiring: bundled config, environment, AWS clients, Flink clients cached per job for warm invocations. */
export function productionDeps(): LifecycleHookDeps {
  const clients = new Map<string, Promise<FlinkApi>>();
  const secrets = new SecretsManagerSource();
  return {
    config: bundledConfig,
    settings: settingsFromEnv(),
    autoScaling: new AutoScalingClient({}),
    resolveAddresses: ec2AddressResolver(), // the EC2 client is made on the first DescribeInstances
    flinkFor: (job) => {
      let c = clients.get(job.name);
      if (!c) {
        c = flinkClientFor(job, secrets);
        clients.set(job.name, c);
        c.catch(() => clients.delete(job.name));
      }
      return c;
    },
  };
}

let production: ReturnType<typeof makeLifecycleHookHandler> | undefined;

/** The Lambda entry point (EventBridge → this, or a Step Functions Wait loop passing the previous result back). */
export const handler = (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<LifecycleResult> =>
  (production ??= makeLifecycleHookHandler(productionDeps()))(event, context);
