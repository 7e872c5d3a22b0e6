/**
 * The rescale workflow: a Standard Step Functions state machine (JSONPath) over one dispatching step Lambda
 * (functions/handlers/workflow.ts; why one: see functions/workflow/dispatch.ts).
 *
 *   Validate → Route ─ dry-run / no-change ─────────────────────────────────────────────┐
 *                    └ Lock → IsScaleOut ─ out: EnsureCapacity → CheckSlots ⟲ WaitForSlots ┐
 *                                      └──────────────────────────────────────────────────┤
 *   RescaleByMode ─ savepoint: Savepoint → PollSavepoint ⟲ → Cancel → Resubmit → CheckRunning ⟲ ┐
 *                 ├ adaptive:  PutRequirements → CheckParallelism ⟲ ──────────────────────────┤
 *                 ├ reactive in: ShrinkCapacity → CheckParallelism                             │
 *                 └ reactive out: CheckParallelism                                             │
 *   IsScaleIn ─ in (not reactive): CheckDrained ⟲ WaitForDrain → ReleaseIdle ─┐               │
 *             └──────────────────────────────────────────────────────────────┴→ Record → Unlock → Notify → Done
 *                                                      (Unlock failed: Notify → UnlockFailed; the watchdog releases)
 *   Catch: before Cancel → Abort (job untouched; undo capacity/requirements) ─┐
 *          Cancel..CheckRunning → Rollback (same savepoint, old parallelism) ──┴→ RecordFailure → UnlockAfterFailure
 *          → NotifyFailure → Failed.  Drain/release failures → RecordFailure (the job is already rescaled).
 *
 * Every task: retries with full-jitter exponential backoff on `Transient` (and Lambda service errors, task
 * timeouts), a timeout, and a catch. Every loop is bounded by a deadline the Check step enforces.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SnsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Config } from '../../functions/core/config';
import { ElasticFunction, type VpcPlacement } from './elastic-function';
import { grantCapacityTargets, grantFlinkSecrets, grantJarObjects, grantStateTable } from './job-access';
import { acknowledge, grantPublish } from './nag';
import {
  EXECUTION_TIMEOUT_SECONDS,
  STEP_TIMEOUT_SECONDS,
  STOP_PENDING_ERROR,
  STOP_PENDING_MAX_ATTEMPTS,
  STOP_PENDING_RETRY_INTERVAL_SECONDS,
  UNLOCK_FAILED_ERROR,
  WAIT_SECONDS,
  WATCHDOG_TIMEOUT_SECONDS,
} from '../../functions/core/rescale-timing';

export interface RescaleWorkflowProps {
  /** The validated config; bundled into the step Lambda (ElasticFunction: no 4 KB environment limit). */
  config: Config;
  table: dynamodb.ITableV2 | dynamodb.ITable;
  topic: sns.ITopic;
  /** Where the step Lambda runs so it reaches the JobManagers (config.deployment.vpc, see importVpcPlacement). */
  vpc?: VpcPlacement;
  /** State machine name; default `<stack name>-rescale`. */
  stateMachineName?: string;
}

/** Names of the states, as tests and operators see them (aws-local-stepfunctions overrides are keyed by them). */
export const RESCALE_STATES = {
  validate: 'Validate',
  lock: 'Lock',
  ensureCapacity: 'EnsureCapacity',
  checkSlots: 'CheckSlots',
  waitForSlots: 'WaitForSlots',
  savepoint: 'Savepoint',
  pollSavepoint: 'PollSavepoint',
  waitForSavepoint: 'WaitForSavepoint',
  cancel: 'Cancel',
  resubmit: 'Resubmit',
  checkRunning: 'CheckRunning',
  waitForRunning: 'WaitForRunning',
  putRequirements: 'PutRequirements',
  shrinkCapacity: 'ShrinkCapacity',
  checkParallelism: 'CheckParallelism',
  waitForParallelism: 'WaitForParallelism',
  checkDrained: 'CheckDrained',
  waitForDrain: 'WaitForDrain',
  releaseIdle: 'ReleaseIdle',
  record: 'Record',
  unlock: 'Unlock',
  notify: 'Notify',
  abort: 'Abort',
  rollback: 'Rollback',
  recordFailure: 'RecordFailure',
  unlockAfterFailure: 'UnlockAfterFailure',
  notifyFailure: 'NotifyFailure',
} as const;

export class RescaleWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stepFunction: ElasticFunction;
  /**
   * The watchdog: the step function's code and role, with a longer timeout (it first waits out the steps a stopped
   * execution may still be running, then recovers).
   */
  readonly watchdogFunction: ElasticFunction;
  readonly logGroup: logs.LogGroup;
  /** Delivers this state machine's ABORTED / TIMED_OUT / FAILED executions to the watchdog step. */
  readonly watchdogRule: events.Rule;

  constructor(scope: Construct, id: string, props: RescaleWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const S = RESCALE_STATES;
    const stateMachineName = props.stateMachineName ?? `${stack.stackName}-rescale`;
    // Built from the name, not the resource: the step function's environment cannot reference the state machine
    // that references the function (a dependency cycle).
    const stateMachineArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.stepFunction = new ElasticFunction(this, 'StepFunction', {
      entry: 'functions/handlers/workflow.ts',
      serviceName: 'flink-elastic-workflow',
      description: 'flink-elastic rescale workflow steps (one dispatching function)',
      config: props.config,
      vpc: props.vpc,
      memorySize: 512,
      timeout: Duration.seconds(STEP_TIMEOUT_SECONDS),
      environment: { STATE_TABLE_NAME: props.table.tableName, NOTIFICATION_TOPIC_ARN: props.topic.topicArn, STATE_MACHINE_ARN: stateMachineArn },
    });
    this.watchdogFunction = new ElasticFunction(this, 'WatchdogFunction', {
      entry: 'functions/handlers/workflow.ts',
      serviceName: 'flink-elastic-watchdog',
      description: 'flink-elastic watchdog: recovers rescale executions stopped from outside (step function code and role)',
      config: props.config,
      vpc: props.vpc,
      memorySize: 512,
      timeout: Duration.seconds(WATCHDOG_TIMEOUT_SECONDS),
      role: this.stepFunction.role,
      environment: { STATE_TABLE_NAME: props.table.tableName, NOTIFICATION_TOPIC_ARN: props.topic.topicArn, STATE_MACHINE_ARN: stateMachineArn },
    });
    grantStateTable(props.table, this.stepFunction);
    grantPublish(props.topic, this.stepFunction);
    grantFlinkSecrets(this.stepFunction, stack, props.config);
    grantCapacityTargets(this.stepFunction, stack, props.config);
    grantJarObjects(this.stepFunction, stack, props.config);

    const payloadFor = (step: string) =>
      sfn.TaskInput.fromObject({
        step,
        state: sfn.JsonPath.entirePayload,
        execution: { id: sfn.JsonPath.stringAt('$$.Execution.Id'), name: sfn.JsonPath.stringAt('$$.Execution.Name') },
      });
    const task = (name: string, step: string, resultPath: string, extra: Partial<tasks.LambdaInvokeProps> = {}) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: this.stepFunction,
        payloadResponseOnly: true,
        payload: payloadFor(step),
        resultPath,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS + 10)),
        retryOnServiceExceptions: true,
        ...extra,
      });
      // Steps are idempotent, so a retry after a timeout or a transient failure never acts twice.
      t.addRetry({
        errors: ['Transient', 'States.Timeout', 'Sandbox.Timedout'],
        interval: Duration.seconds(2),
        maxAttempts: 5,
        backoffRate: 2,
        maxDelay: Duration.seconds(30),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return t;
    };
    const wait = (name: string, seconds: number, next: sfn.IChainable) =>
      new sfn.Wait(this, name, { stateName: name, time: sfn.WaitTime.duration(Duration.seconds(seconds)) }).next(next);
    const catchTo = (t: tasks.LambdaInvoke, handler: sfn.IChainable, resultPath = '$.error') =>
      t.addCatch(handler, { errors: ['States.ALL'], resultPath });

    // --- end of every execution ---
    const done = new sfn.Succeed(this, 'Done', { stateName: 'Done' });
    const failed = new sfn.Fail(this, 'Failed', {
      stateName: 'Failed',
      error: 'RescaleFailed',
      cause: 'The rescale did not complete; the notification says what happened to the job and what to do.',
    });
    // A rescale that completed but could not release its lock must not look like a clean success: the lock would
    // block every rescale of the job until it expires. Ending in UnlockFailed hands the release to the watchdog.
    const unlockFailed = new sfn.Fail(this, 'UnlockFailed', {
      stateName: 'UnlockFailed',
      error: UNLOCK_FAILED_ERROR,
      cause: "The rescale completed and was notified, but releasing the job's lock failed; the watchdog releases it.",
    });
    const notify = task(S.notify, 'notify', '$.notify').next(
      new sfn.Choice(this, 'LockReleased', { stateName: 'LockReleased' })
        .when(sfn.Condition.and(sfn.Condition.isPresent('$.unlockError'), sfn.Condition.isPresent('$.lock')), unlockFailed)
        .otherwise(done),
    );
    const unlock = task(S.unlock, 'unlock', '$.unlock');
    catchTo(unlock, notify, '$.unlockError');
    unlock.next(notify);
    const record = task(S.record, 'record', '$.record');
    catchTo(record, unlock, '$.recordError');
    record.next(unlock);

    const notifyFailure = task(S.notifyFailure, 'notify', '$.notify').next(failed);
    const unlockAfterFailure = task(S.unlockAfterFailure, 'unlock', '$.unlock');
    catchTo(unlockAfterFailure, notifyFailure, '$.unlockError');
    unlockAfterFailure.next(notifyFailure);
    const recordFailure = task(S.recordFailure, 'record', '$.record');
    catchTo(recordFailure, unlockAfterFailure, '$.recordError');
    recordFailure.next(unlockAfterFailure);

    // Recovery waits longer for a stop-with-savepoint still in progress (it cannot be withdrawn; Flink's checkpoint
    // timeout, 10 min by default, bounds it): 20 retries 30 s apart, each polling inline for 20 s (~17 min).
    const stopPendingRetry = { errors: [STOP_PENDING_ERROR], interval: Duration.seconds(STOP_PENDING_RETRY_INTERVAL_SECONDS), maxAttempts: STOP_PENDING_MAX_ATTEMPTS, backoffRate: 1 };
    const abort = task(S.abort, 'recover', '$.recovery');
    abort.addRetry(stopPendingRetry);
    catchTo(abort, recordFailure, '$.recoveryError');
    abort.next(recordFailure);
    const rollback = task(S.rollback, 'recover', '$.recovery');
    rollback.addRetry(stopPendingRetry);
    catchTo(rollback, recordFailure, '$.recoveryError');
    rollback.next(recordFailure);

    // --- scale-in tail: wait until the surplus TaskManagers hold no slots, then release exactly those ---
    const releaseIdle = task(S.releaseIdle, 'releaseIdle', '$.release');
    catchTo(releaseIdle, recordFailure);
    releaseIdle.next(record);
    const checkDrained = task(S.checkDrained, 'checkDrained', '$.drain');
    catchTo(checkDrained, recordFailure);
    checkDrained.next(
      new sfn.Choice(this, 'Drained', { stateName: 'Drained' })
        .when(sfn.Condition.booleanEquals('$.drain.done', true), releaseIdle)
        .otherwise(wait(S.waitForDrain, WAIT_SECONDS.drain, checkDrained)),
    );
    const isScaleIn = new sfn.Choice(this, 'IsScaleIn', { stateName: 'IsScaleIn' })
      .when(
        sfn.Condition.and(sfn.Condition.stringEquals('$.plan.direction', 'in'), sfn.Condition.not(sfn.Condition.stringEquals('$.plan.mode', 'reactive'))),
        checkDrained,
      )
      .otherwise(record);

    // --- savepoint mode ---
    const checkRunning = task(S.checkRunning, 'checkRunning', '$.running');
    catchTo(checkRunning, rollback);
    checkRunning.next(
      new sfn.Choice(this, 'RunningReady', { stateName: 'RunningReady' })
        .when(sfn.Condition.booleanEquals('$.running.done', true), isScaleIn)
        .otherwise(wait(S.waitForRunning, WAIT_SECONDS.running, checkRunning)),
    );
    const resubmit = task(S.resubmit, 'resubmit', '$.resubmit');
    catchTo(resubmit, rollback);
    resubmit.next(checkRunning);
    const cancel = task(S.cancel, 'cancel', '$.cancel');
    catchTo(cancel, rollback);
    cancel.next(resubmit);
    const pollSavepoint = task(S.pollSavepoint, 'pollSavepoint', '$.savepointStatus');
    catchTo(pollSavepoint, abort);
    pollSavepoint.next(
      new sfn.Choice(this, 'SavepointDone', { stateName: 'SavepointDone' })
        .when(sfn.Condition.booleanEquals('$.savepointStatus.done', true), cancel)
        .otherwise(wait(S.waitForSavepoint, WAIT_SECONDS.savepoint, pollSavepoint)),
    );
    const savepoint = task(S.savepoint, 'savepoint', '$.savepoint');
    catchTo(savepoint, abort);
    savepoint.next(pollSavepoint);

    // --- adaptive / reactive ---
    const checkParallelism = task(S.checkParallelism, 'checkParallelism', '$.inPlace');
    catchTo(checkParallelism, abort);
    checkParallelism.next(
      new sfn.Choice(this, 'ParallelismReady', { stateName: 'ParallelismReady' })
        .when(sfn.Condition.booleanEquals('$.inPlace.done', true), isScaleIn)
        .otherwise(wait(S.waitForParallelism, WAIT_SECONDS.parallelism, checkParallelism)),
    );
    const putRequirements = task(S.putRequirements, 'putRequirements', '$.requirements');
    catchTo(putRequirements, abort);
    putRequirements.next(checkParallelism);
    const shrinkCapacity = task(S.shrinkCapacity, 'shrinkCapacity', '$.shrink');
    catchTo(shrinkCapacity, abort);
    shrinkCapacity.next(checkParallelism);

    const byMode = new sfn.Choice(this, 'RescaleByMode', { stateName: 'RescaleByMode' })
      .when(sfn.Condition.stringEquals('$.plan.mode', 'savepoint'), savepoint)
      .when(sfn.Condition.stringEquals('$.plan.mode', 'adaptive'), putRequirements)
      .when(sfn.Condition.stringEquals('$.plan.direction', 'in'), shrinkCapacity)
      .otherwise(checkParallelism);

    // --- scale-out head: capacity first, then wait until the new slots are registered ---
    const checkSlots = task(S.checkSlots, 'checkSlots', '$.slots');
    catchTo(checkSlots, abort);
    checkSlots.next(
      new sfn.Choice(this, 'SlotsReady', { stateName: 'SlotsReady' })
        .when(sfn.Condition.booleanEquals('$.slots.done', true), byMode)
        .otherwise(wait(S.waitForSlots, WAIT_SECONDS.slots, checkSlots)),
    );
    const ensureCapacity = task(S.ensureCapacity, 'ensureCapacity', '$.capacity');
    catchTo(ensureCapacity, abort);
    ensureCapacity.next(checkSlots);

    const lock = task(S.lock, 'lock', '$.lock');
    catchTo(lock, recordFailure);
    lock.next(
      new sfn.Choice(this, 'IsScaleOut', { stateName: 'IsScaleOut' })
        .when(sfn.Condition.stringEquals('$.plan.direction', 'out'), ensureCapacity)
        .otherwise(byMode),
    );

    // The state becomes {"plan": ...}: the raw input is not carried along (ResultSelector + OutputPath rather than
    // ResultPath "$", which aws-local-stepfunctions 3.0.0 mishandles).
    const validate = task(S.validate, 'validate', '$.validated', { resultSelector: { 'plan.$': '$' }, outputPath: '$.validated' });
    catchTo(validate, notifyFailure);
    validate.next(
      new sfn.Choice(this, 'Route', { stateName: 'Route' })
        .when(sfn.Condition.stringEquals('$.plan.route', 'lock'), lock)
        .otherwise(record),
    );

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      logGroupName: `/aws/vendedlogs/states/${stack.stackName}-rescale`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'flink-elastic: rescale one Flink job (savepoint / adaptive / reactive), safe under every failure',
      definitionBody: sfn.DefinitionBody.fromChainable(validate),
      timeout: Duration.seconds(EXECUTION_TIMEOUT_SECONDS),
      tracingEnabled: true,
      // Every state transition is logged, but without its input and output (which hold the plan: endpoints, savepoint
      // paths); they stay in the execution history, which IAM guards and the CLI reads.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    this.watchdogRule = this.addWatchdog(props.topic, stateMachineName);
    this.acknowledgeNagFindings();
  }

  /**
   * The watchdog (functions/workflow/watchdog.ts): executions that end ABORTED, TIMED_OUT or FAILED outside their
   * Catch never run Abort/Rollback/Unlock/Notify; EventBridge hands their status-change event to the step function
   * as {"step": "watchdog", "state": <detail>, "execution": {id, name}}. Lambda retries a failed delivery twice
   * (the watchdog throws `Transient` while another delivery holds its lease); after that the raw event goes to the
   * notification topic, so no stopped execution goes unreported.
   */
  private addWatchdog(topic: sns.ITopic, stateMachineName: string): events.Rule {
    this.watchdogFunction.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SnsDestination(topic) });
    grantPublish(topic, this.watchdogFunction);
    return new events.Rule(this, 'WatchdogRule', {
      description: `flink-elastic: ${stateMachineName} executions ending ABORTED / TIMED_OUT / FAILED -> watchdog (recover the job, release the lock, notify)`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
      },
      targets: [
        new targets.LambdaFunction(this.watchdogFunction, {
          event: events.RuleTargetInput.fromObject({
            step: 'watchdog',
            state: events.EventField.fromPath('$.detail'),
            execution: { id: events.EventField.fromPath('$.detail.executionArn'), name: events.EventField.fromPath('$.detail.name') },
          }),
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
  }

  /** cdk-nag v3 acknowledgements for the state machine's role (the step function's are made by ElasticFunction and the grants). */
  private acknowledgeNagFindings(): void {
    const fnId = Stack.of(this).getLogicalId(this.stepFunction.node.defaultChild as lambda.CfnFunction);
    acknowledge(this.stateMachine, `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`, 'CDK grants lambda:InvokeFunction on the step function and its versions/aliases (<arn>:*); only that one function');
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray (PutTraceSegments, GetSamplingRules) and CloudWatch Logs log delivery (CreateLogDelivery etc.) accept only Resource "*"');
  }
}
