/**
 * The rescale state machine as CDK synthesizes it: valid ASL, the safety properties the workflow relies on
 * (retries on transient errors, a timeout and a catch on every task, bounded loops), logging/tracing, cdk-nag.
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import aslValidator from 'asl-validator';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../../functions/adapters/config-file';
import { RESCALE_STATES } from '../../lib/constructs/rescale-workflow';
import { FlinkElasticStack } from '../../lib/flink-elastic-stack';
import { aslFromTemplate, synthWorkflowStack } from '../support/asl';

const config = loadConfig('flink-elastic.config.json');
const { stack } = synthWorkflowStack(config);
const template = Template.fromStack(stack);
const [asl] = aslFromTemplate(template);
const states = Object.entries<any>(asl.States);

test('the synthesized definition is valid ASL (asl-validator) and uses JSONPath only', () => {
  const r = aslValidator(asl);
  expect(r.errorsText()).toBe('');
  expect(r.isValid).toBe(true);
  expect(JSON.stringify(asl)).not.toMatch(/JSONata/i);
  for (const name of Object.values(RESCALE_STATES)) expect(asl.States[name]).toBeDefined();
});

test('every task has a timeout, retries transient errors with capped backoff, and (except the final notifications) a catch', () => {
  const tasks = states.filter(([, s]) => s.Type === 'Task');
  expect(tasks.length).toBeGreaterThanOrEqual(20);
  for (const [name, s] of tasks) {
    expect({ name, timeout: s.TimeoutSeconds > 0 && s.TimeoutSeconds <= 120 }).toEqual({ name, timeout: true });
    const transient = s.Retry.find((r: any) => r.ErrorEquals.includes('Transient'));
    expect(transient).toMatchObject({ MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' });
    if (name === RESCALE_STATES.notify || name === RESCALE_STATES.notifyFailure) continue;
    expect({ name, catch: s.Catch?.[0]?.ErrorEquals }).toEqual({ name, catch: ['States.ALL'] });
  }
});

test('failures route by phase: before the cancel to Abort, from the cancel on to Rollback, after the rescale to RecordFailure', () => {
  const catchOf = (n: string) => asl.States[n].Catch[0].Next;
  for (const n of ['EnsureCapacity', 'CheckSlots', 'Savepoint', 'PollSavepoint', 'PutRequirements', 'ShrinkCapacity', 'CheckParallelism']) expect([n, catchOf(n)]).toEqual([n, 'Abort']);
  for (const n of ['Cancel', 'Resubmit', 'CheckRunning']) expect([n, catchOf(n)]).toEqual([n, 'Rollback']);
  for (const n of ['CheckDrained', 'ReleaseIdle', 'Lock']) expect([n, catchOf(n)]).toEqual([n, 'RecordFailure']);
  expect(catchOf('Validate')).toBe('NotifyFailure');
  // Recovery failing still records, unlocks and notifies; the execution then fails visibly.
  expect(asl.States.Rollback.Catch[0]).toMatchObject({ Next: 'RecordFailure', ResultPath: '$.recoveryError' });
  expect(asl.States.NotifyFailure.Next).toBe('Failed');
  expect(asl.States.Failed.Type).toBe('Fail');
  // A completed rescale whose Unlock failed ends in UnlockFailed (the watchdog releases the lock), not in Done.
  expect(asl.States.Unlock.Catch[0]).toMatchObject({ Next: 'Notify', ResultPath: '$.unlockError' });
  // (Only when a lock was taken: the dry-run / no-change route runs Unlock without one, and ends in Done.)
  expect(asl.States[asl.States.Notify.Next]).toMatchObject({
    Type: 'Choice',
    Choices: [{ And: [{ Variable: '$.unlockError', IsPresent: true }, { Variable: '$.lock', IsPresent: true }], Next: 'UnlockFailed' }],
    Default: 'Done',
  });
  // A stop-with-savepoint still pending is waited for longer than a Transient error, by both recoveries.
  for (const n of ['Abort', 'Rollback']) {
    expect(asl.States[n].Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['StopPending'], IntervalSeconds: 30, MaxAttempts: 20, BackoffRate: 1 })]));
  }
  expect(asl.States.UnlockFailed).toMatchObject({ Type: 'Fail', Error: 'UnlockFailed' });
});

test('every Wait loops back to a Check task, and the Check task is the only way forward (bounded by its deadline)', () => {
  const waits = states.filter(([, s]) => s.Type === 'Wait');
  expect(waits.map(([n]) => n).sort()).toEqual(['WaitForDrain', 'WaitForParallelism', 'WaitForRunning', 'WaitForSavepoint', 'WaitForSlots']);
  for (const [name, w] of waits) {
    expect(w.Seconds).toBeGreaterThanOrEqual(10);
    const check = asl.States[w.Next];
    expect({ name, next: check.Type }).toEqual({ name, next: 'Task' });
    const choice = asl.States[check.Next];
    expect(choice.Type).toBe('Choice');
    expect(choice.Default).toBe(name);
  }
  expect(asl.TimeoutSeconds).toBe(4 * 3600);
});

test('one dispatching Lambda; the payload carries the step, the whole state and the execution', () => {
  const resources = new Set(states.filter(([, s]) => s.Type === 'Task').map(([, s]) => s.Resource));
  expect(resources.size).toBe(1);
  expect(asl.States.Savepoint.Parameters).toEqual({ step: 'savepoint', 'state.$': '$', execution: { 'id.$': '$$.Execution.Id', 'name.$': '$$.Execution.Name' } });
  template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', TracingConfig: { Mode: 'Active' }, Timeout: 90 });
});

test('logging at ALL with execution data, tracing on', () => {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
    TracingConfiguration: { Enabled: true },
    LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
  });
});

test('cdk-nag AwsSolutions passes (findings acknowledged with reasons)', () => {
  const { app } = synthWorkflowStack(config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});

test('IAM scoped to the configured Auto Scaling groups, EKS clusters and secrets', () => {
  const json = JSON.stringify(template.findResources('AWS::IAM::Policy'));
  expect(json).toContain('autoScalingGroupName/flink-taskmanagers-orders');
  expect(json).toContain('cluster/analytics');
  expect(json).toContain('secret:flink/clickstream/rest-token-??????');
  expect(json).toContain('autoscaling:SetInstanceProtection');
});

test('the stack carries the workflow: the scaler may start it, manual starts find it in the outputs', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const full = Template.fromStack(new FlinkElasticStack(app, 'Full', { config }));
  // the rescale workflow, plus the termination drain loop of the ASG jobs (test/infra/termination-drain.test.ts)
  expect(Object.keys(full.findResources('AWS::StepFunctions::StateMachine')).filter((id) => id.startsWith('RescaleWorkflow'))).toHaveLength(1);
  full.hasOutput('StateMachineArn', {});
  full.hasOutput('WorkflowRoleArn', {});
  full.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ STATE_MACHINE_ARN: Match.anyValue() }) } });
  expect(JSON.stringify(full.findResources('AWS::IAM::Policy'))).toContain('states:StartExecution');
  // The step function runs where the scaler runs (the configured VPC), so it reaches the JobManagers.
  const steps = Object.entries<any>(full.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('RescaleWorkflowStepFunction'))![1];
  expect(steps.Properties.VpcConfig.SubnetIds).toEqual(config.deployment.vpc!.subnetIds);
});

test('watchdog: only this state machine\'s ABORTED/TIMED_OUT/FAILED executions reach the watchdog function (step code and role, longer timeout), with its own ARN in the environment', () => {
  const rules = Object.values<any>(template.findResources('AWS::Events::Rule'));
  expect(rules).toHaveLength(1);
  const [rule] = rules;
  const smId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0];
  const fns = template.findResources('AWS::Lambda::Function');
  const fnId = Object.keys(fns).find((id) => id.startsWith('RescaleWatchdogFunction'))!;
  const stepId = Object.keys(fns).find((id) => id.startsWith('RescaleStepFunction'))!;
  // The same bundle and the same role as the steps; a timeout that covers the in-flight grace (100 s) and a recovery.
  expect(fns[fnId].Properties.Code).toEqual(fns[stepId].Properties.Code);
  expect(fns[fnId].Properties.Role).toEqual(fns[stepId].Properties.Role);
  expect(fns[stepId].Properties.Timeout).toBe(90);
  expect(fns[fnId].Properties.Timeout).toBe(300);
  expect(rule.Properties.EventPattern).toEqual({
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { stateMachineArn: [{ Ref: smId }], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
  });
  const [target] = rule.Properties.Targets;
  expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
  expect(JSON.parse(target.InputTransformer.InputTemplate.replace(/<[^>]+>/g, '"x"'))).toEqual({ step: 'watchdog', state: 'x', execution: { id: 'x', name: 'x' } });
  // Only EventBridge, only from this rule, may invoke the function for it.
  template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [Object.keys(template.findResources('AWS::Events::Rule'))[0], 'Arn'] } });
  // A delivery that keeps failing ends up on the notification topic rather than nowhere.
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: Match.anyValue() } } });
  // The ARN the step function compares events against is this state machine's (built from its name: no cycle).
  const env = template.findResources('AWS::Lambda::Function')[fnId].Properties.Environment.Variables.STATE_MACHINE_ARN;
  const smName = template.findResources('AWS::StepFunctions::StateMachine')[smId].Properties.StateMachineName;
  expect(JSON.stringify(env)).toContain(`:stateMachine:${smName}`);
  // No new permissions: the watchdog uses what the steps already have (no states:* actions on the step role).
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/"states:(?!StartExecution)/);
});
