/**
 * The ASG termination lifecycle hook, deployed: whoever terminates a TaskManager instance of a configured group
 * (flink-elastic, a person, AZ rebalancing, an instance refresh), the instance waits in Terminating:Wait until its
 * TaskManager holds no slots, bounded by the job's drain timeout.
 *
 *   per hooked group: AWS::AutoScaling::LifecycleHook (EC2_INSTANCE_TERMINATING, no notification target → EventBridge)
 *   EventBridge "EC2 Instance-terminate Lifecycle Action" (these groups, this hook name) ─► drain state machine:
 *       Check (lifecycle Lambda, checks once) ─► Drained? ─ done ─► Done (output: the outcome)
 *                  ▲                            └ not done ─► WaitForDrain (Seconds = $.nextCheckSeconds) ─┘
 *       Check fails after retries ─► NotifyFailure (SNS) ─► Failed   (the hook's own timeout then applies)
 *   EventBridge "EC2 Spot Instance Interruption Warning" ─► lifecycle Lambda (reported + SNS, nothing fought)
 *
 * Why a Step Functions loop and not one long Lambda invocation: drain timeouts go up to 7200 s, a Lambda runs at
 * most 900 s, and a Lambda that sleeps between checks is billed for the sleep. Here the Lambda checks once per
 * invocation (LIFECYCLE_MAX_WAIT_SECONDS=0: look at Flink + the group, then complete the action or heartbeat it and
 * return `{done:false, nextCheckSeconds, action}`), and a Wait state, which costs nothing while it waits, feeds that
 * result back as the next input. Bounded three ways: the handler completes the action once the drain timeout
 * (counted from the event time) has passed; the execution has a timeout; and the hook's own HeartbeatTimeout with
 * DefaultResult applies if flink-elastic stops heartbeating.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Config, JobConfig } from '../../functions/core/config';
import { ElasticFunction, type VpcPlacement } from './elastic-function';
import { asgArn, DESCRIBE_ACTIONS, grantFlinkSecrets } from './job-access';
import { acknowledge, acknowledgeWildcard, grantPublish } from './nag';
import { chunkByLength } from './patterns';

/** EC2 Auto Scaling limits for a lifecycle hook's HeartbeatTimeout (seconds). */
export const HEARTBEAT_TIMEOUT_RANGE = { min: 30, max: 7200 } as const;
/**
 * Added to the drain timeout for the hook's HeartbeatTimeout. While flink-elastic works, it heartbeats on every
 * check, so the hook never times out: the longest gap between two heartbeats is one wait (POLL_SECONDS) plus one check
 * tried 1 + CHECK_RETRIES times (each attempt at most CHECK_TIMEOUT_SECONDS + 10 s, plus up to 2 + 4 + 8 s of backoff):
 * 15 + 4 × 70 + 14 = 309 s, less than this margin.
 * Only when flink-elastic does not run at all (events not delivered, function broken) does the hook time out: after
 * the drain timeout plus this margin, with DefaultResult.
 */
export const HEARTBEAT_MARGIN_SECONDS = 360;
/** Seconds between checks while a TaskManager still holds slots (LIFECYCLE_POLL_SECONDS). */
export const POLL_SECONDS = 15;
/** The lifecycle Lambda's timeout; one check (Flink REST + DescribeAutoScalingGroups + heartbeat) takes seconds. */
export const CHECK_TIMEOUT_SECONDS = 60;
export const CHECK_RETRIES = 3;
/** The drain execution's timeout beyond the longest drain timeout: room for retries and late event delivery. */
export const EXECUTION_MARGIN_SECONDS = 900;
/**
 * DefaultResult of the hook, used only when nobody completed the action before the heartbeat timeout, i.e. when
 * flink-elastic could not show that the TaskManager is idle. That is the same situation as a drain timeout with slots
 * still held, so it gets the same result as the handler's LIFECYCLE_ON_DRAIN_TIMEOUT: ABANDON. For a terminating
 * instance ABANDON and CONTINUE both terminate it, unless the group has an instance lifecycle policy that retains
 * instances on TerminateHookAbandon (then the instance is kept for an operator); ABANDON also skips the group's
 * other termination hooks. Set explicitly: the API's default has differed between documentation versions.
 */
export const DEFAULT_RESULT = 'ABANDON';
export const ON_DRAIN_TIMEOUT = 'ABANDON';

export const LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';
export const SPOT_WARNING_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** The hook's name on every hooked group: `<stack>-drain-taskmanager`. */
export const hookNameFor = (stackName: string) => `${stackName}-drain-taskmanager`;

/** HeartbeatTimeout for a drain timeout (seconds), within EC2 Auto Scaling's limits. */
export function heartbeatTimeoutFor(drainTimeoutSeconds: number): number {
  return Math.min(HEARTBEAT_TIMEOUT_RANGE.max, Math.max(HEARTBEAT_TIMEOUT_RANGE.min, drainTimeoutSeconds + HEARTBEAT_MARGIN_SECONDS));
}

export interface HookedGroup {
  autoScalingGroupName: string;
  /** The enabled, not-dry-run jobs on this group. */
  jobs: string[];
  /** The longest drainTimeoutSeconds among them (the handler waits as long as the most patient job). */
  drainTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
}

/**
 * The groups that get a hook: those of enabled jobs with an `asg` target that are not in dry-run. A dry-run job gets
 * none: a hook holds every termination of its group until it is completed, which is a change to the group, and a
 * dry run changes nothing. A disabled job gets none either (the handler ignores it, so each termination would wait
 * for the hook's timeout).
 */
export function hookedGroups(config: Config): HookedGroup[] {
  const byGroup = new Map<string, JobConfig[]>();
  for (const j of config.jobs) {
    if (j.target.kind !== 'asg' || !j.enabled || j.dryRun) continue;
    const g = j.target.autoScalingGroupName;
    byGroup.set(g, [...(byGroup.get(g) ?? []), j]);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, jobs]) => {
      const drain = Math.max(...jobs.map((j) => j.drainTimeoutSeconds));
      return { autoScalingGroupName: name, jobs: jobs.map((j) => j.name), drainTimeoutSeconds: drain, heartbeatTimeoutSeconds: heartbeatTimeoutFor(drain) };
    });
}

export const DRAIN_STATES = { check: 'Check', drained: 'Drained', waitForDrain: 'WaitForDrain', done: 'Done', notifyFailure: 'NotifyFailure', failed: 'Failed' } as const;

export interface TerminationDrainProps {
  config: Config;
  topic: sns.ITopic;
  vpc?: VpcPlacement;
}

/** EventBridge allows event patterns up to 2048 characters; group names are split across rules to stay below. */
const MAX_NAMES_CHARS_PER_RULE = 1500;

export class TerminationDrain extends Construct {
  readonly groups: HookedGroup[];
  readonly hookName: string;
  readonly hooks: autoscaling.CfnLifecycleHook[] = [];
  readonly function: ElasticFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly lifecycleRules: events.Rule[] = [];
  readonly spotRule: events.Rule;

  constructor(scope: Construct, id: string, props: TerminationDrainProps) {
    super(scope, id);
    const { config, topic } = props;
    const stack = Stack.of(this);
    const stackName = config.deployment.stackName;
    this.groups = hookedGroups(config);
    if (this.groups.length === 0) throw new Error('TerminationDrain: no enabled, non-dry-run job has an asg target');
    this.hookName = hookNameFor(stackName);

    // --- the hooks, on the existing groups (by name) ---
    for (const g of this.groups) {
      this.hooks.push(
        new autoscaling.CfnLifecycleHook(this, `Hook-${g.autoScalingGroupName}`, {
          autoScalingGroupName: g.autoScalingGroupName,
          lifecycleHookName: this.hookName,
          lifecycleTransition: TERMINATING,
          heartbeatTimeout: g.heartbeatTimeoutSeconds,
          defaultResult: DEFAULT_RESULT,
          notificationMetadata: JSON.stringify({ stack: stackName, jobs: g.jobs, drainTimeoutSeconds: g.drainTimeoutSeconds }),
        }),
      );
    }

    // --- the function: one check per invocation (the state machine waits between checks) ---
    const asgJobs = config.jobs.filter((j) => j.enabled && j.target.kind === 'asg');
    this.function = new ElasticFunction(this, 'Function', {
      entry: 'functions/handlers/lifecycle-hook.ts',
      serviceName: 'flink-elastic-lifecycle-hook',
      description: 'flink-elastic: holds terminating TaskManager instances until they hold no slots; reports Spot interruptions',
      config,
      vpc: props.vpc,
      timeout: Duration.seconds(CHECK_TIMEOUT_SECONDS),
      environment: {
        NOTIFICATION_TOPIC_ARN: topic.topicArn,
        LIFECYCLE_ON_DRAIN_TIMEOUT: ON_DRAIN_TIMEOUT,
        LIFECYCLE_POLL_SECONDS: String(POLL_SECONDS),
        LIFECYCLE_MAX_WAIT_SECONDS: '0',
      },
    });
    const fn = this.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'CompleteAndHeartbeatHookedGroups',
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        resources: this.groups.map((g) => asgArn(stack, g.autoScalingGroupName)),
      }),
    );
    for (const g of this.groups) {
      acknowledgeWildcard(
        fn,
        `arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${g.autoScalingGroupName}`,
        `Auto Scaling group ARNs embed a group id that AWS generates; the ARN is pinned to the configured group name "${g.autoScalingGroupName}"`,
      );
    }
    fn.allowOnAnyResource(
      'DescribeAutoScalingAndInstances',
      [...DESCRIBE_ACTIONS],
      `${DESCRIBE_ACTIONS.join(', ')} support no resource-level permissions (Service Authorization Reference); they only read, to map the instance to its TaskManager`,
    );
    grantPublish(topic, fn);
    grantFlinkSecrets(fn, stack, { ...config, jobs: asgJobs });

    // --- the drain loop ---
    const S = DRAIN_STATES;
    const check = new tasks.LambdaInvoke(this, S.check, {
      stateName: S.check,
      lambdaFunction: fn,
      payloadResponseOnly: true,
      // no payload: the state (the EventBridge event, then the previous check's result) is the function's input
      taskTimeout: sfn.Timeout.duration(Duration.seconds(CHECK_TIMEOUT_SECONDS + 10)),
      retryOnServiceExceptions: false,
    });
    // A bad input never gets better; anything else (Lambda service errors, throttling, timeouts, API errors) may.
    check.addRetry({ errors: ['LifecycleInputError'], maxAttempts: 0 });
    check.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(2), maxAttempts: CHECK_RETRIES, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
    const notifyFailure = new tasks.SnsPublish(this, S.notifyFailure, {
      stateName: S.notifyFailure,
      topic,
      subject: 'flink-elastic: termination drain check failed',
      // SNS takes a string: the explanation, then the state as JSON (the action or event, and the error).
      message: sfn.TaskInput.fromText(
        sfn.JsonPath.format(
          `The drain check of a terminating TaskManager instance failed after retries; nothing completes its lifecycle action now. The hook ${this.hookName} times out after its HeartbeatTimeout and then applies DefaultResult ${DEFAULT_RESULT}. State with the error: {}`,
          sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')),
        ),
      ),
      resultPath: sfn.JsonPath.DISCARD,
    });
    check.addCatch(notifyFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    notifyFailure.next(new sfn.Fail(this, S.failed, { stateName: S.failed, error: 'DrainCheckFailed', cause: 'The drain check failed after retries; the notification has the error and the lifecycle action' }));
    const wait = new sfn.Wait(this, S.waitForDrain, { stateName: S.waitForDrain, time: sfn.WaitTime.secondsPath('$.nextCheckSeconds') }).next(check);
    check.next(
      new sfn.Choice(this, S.drained, { stateName: S.drained })
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, S.done, { stateName: S.done }))
        .otherwise(wait),
    );

    const maxDrain = Math.max(...this.groups.map((g) => g.drainTimeoutSeconds));
    const logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${stackName}-termination-drain`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: `${stackName}-termination-drain`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'flink-elastic: hold a terminating TaskManager instance until it holds no slots (bounded by the drain timeout)',
      definitionBody: sfn.DefinitionBody.fromChainable(check),
      timeout: Duration.seconds(maxDrain + EXECUTION_MARGIN_SECONDS),
      tracingEnabled: true,
      // Every state transition is logged, without its input and output (instance ids, endpoints).
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    // --- the rules ---
    chunkByLength(this.groups.map((g) => g.autoScalingGroupName), MAX_NAMES_CHARS_PER_RULE).forEach((names, i) => {
      this.lifecycleRules.push(
        new events.Rule(this, i === 0 ? 'LifecycleAction' : `LifecycleAction${i + 1}`, {
          description: `flink-elastic ${stackName}: TaskManager instances entering Terminating:Wait -> drain state machine`,
          eventPattern: {
            source: ['aws.autoscaling'],
            detailType: [LIFECYCLE_DETAIL_TYPE],
            // Only our hook: another termination hook on the same group is not ours to complete.
            detail: { AutoScalingGroupName: names, LifecycleHookName: [this.hookName], LifecycleTransition: [TERMINATING] },
          },
          // Retried for up to the longest heartbeat timeout: after that the hook has timed out anyway.
          targets: [new targets.SfnStateMachine(this.stateMachine, { retryAttempts: 20, maxEventAge: Duration.seconds(HEARTBEAT_TIMEOUT_RANGE.max) })],
        }),
      );
    });
    // Spot warnings carry no group name: every one in the account and region reaches the function, which reports
    // only members of the configured groups (the rest end as "not-managed", silently).
    this.spotRule = new events.Rule(this, 'SpotInterruptionWarning', {
      description: `flink-elastic ${stackName}: Spot interruption warnings -> lifecycle function (reported, not fought)`,
      eventPattern: { source: ['aws.ec2'], detailType: [SPOT_WARNING_DETAIL_TYPE] },
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });

    this.acknowledgeNagFindings();
  }

  private acknowledgeNagFindings(): void {
    const stack = Stack.of(this);
    const fnId = stack.getLogicalId(this.function.node.defaultChild as lambda.CfnFunction);
    acknowledge(this.stateMachine, `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`, 'CDK grants lambda:InvokeFunction on the lifecycle function and its versions/aliases (<arn>:*); only that one function');
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray (PutTraceSegments, GetSamplingRules) and CloudWatch Logs log delivery (CreateLogDelivery etc.) accept only Resource "*"');
  }
}
