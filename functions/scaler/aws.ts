/** The scaler's AWS-side actions and reads: start a workflow execution, notify, publish decision metrics, alarm states. */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { JobConfig } from '../core/config';
import { alarmSpecs, DECISION_METRICS, JOB_DIMENSION } from '../core/signals';
import type { Publish } from '../adapters/notification-outbox';
import type { RescaleInput, ScalerDecision, StartExecutionResult } from './ports';

type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/*
 * Step Functions and SNS are required when the scaler first starts an execution or notifies, not when it loads: most
 * invocations (the per-minute re-evaluation ticks) decide "no change" and need neither (~20-80 ms of module load).
 * A client may be given as a factory for the same reason.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const sfnSdk = () => require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn');
const snsSdk = () => require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
/* eslint-enable @typescript-eslint/no-require-imports */
const lazy = <C>(client: C | (() => C)): (() => C) => {
  let made: C | undefined;
  return () => (made ??= typeof client === 'function' ? (client as () => C)() : client);
};
const ALARM_STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

/**
 * The `alarmStates` port of the scaler, deployed: CloudWatch DescribeAlarms on exactly the job's alarm names
 * (`alarmSpecs`, at most 4, one request). Returns alarm name → state for the alarms CloudWatch knows; an alarm that
 * does not exist (deleted by hand) is left out, so it never counts as in ALARM. A state CloudWatch never sends is an
 * error naming the alarm and the allowed values.
 */
export function cloudWatchAlarmStates(client: CloudWatchClient, stackName: string) {
  return async (job: JobConfig): Promise<Record<string, AlarmState>> => {
    const names = alarmSpecs(stackName, job).map((s) => s.alarmName);
    const out: Record<string, AlarmState> = {};
    let nextToken: string | undefined;
    do {
      const r = await client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: nextToken }));
      for (const a of r.MetricAlarms ?? []) {
        if (!a.AlarmName || !names.includes(a.AlarmName)) continue;
        if (!a.StateValue || !ALARM_STATES.includes(a.StateValue)) {
          throw new Error(`DescribeAlarms: MetricAlarms[${a.AlarmName}].StateValue is ${JSON.stringify(a.StateValue)}; expected one of ${ALARM_STATES.join(', ')}`);
        }
        out[a.AlarmName] = a.StateValue as AlarmState;
      }
      nextToken = r.NextToken;
    } while (nextToken);
    return out;
  };
}

/** The ARN an execution of `stateMachineArn` named `name` has. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/**
 * StartExecution with a caller-chosen name. Step Functions refuses a second execution with the same name
 * (ExecutionAlreadyExists when the input differs; it returns the existing one when the input is identical):
 * both mean "this trigger already started its execution", which is success.
 */
export function sfnStarter(sfnClient: SFNClient | (() => SFNClient), stateMachineArn: string) {
  const client = lazy(sfnClient);
  return async (name: string, input: RescaleInput): Promise<StartExecutionResult> => {
    const { ExecutionAlreadyExists, StartExecutionCommand } = sfnSdk();
    try {
      const r = await client().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return { executionArn: r.executionArn ?? executionArnOf(stateMachineArn, name), alreadyExisted: false };
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists || (e as { name?: string }).name === 'ExecutionAlreadyExists') {
        return { executionArn: executionArnOf(stateMachineArn, name), alreadyExisted: true };
      }
      throw e;
    }
  };
}

export function snsNotifier(snsClient: SNSClient | (() => SNSClient), topicArn: string) {
  const client = lazy(snsClient);
  return async (subject: string, message: string): Promise<void> => {
    const { PublishCommand } = snsSdk();
    await client().send(new PublishCommand({ TopicArn: topicArn, Subject: subject.replace(/→/g, '->').replace(/[^\x20-\x7e]/g, '-').slice(0, 99), Message: message }));
  };
}

/** SNS Publish of an outbox message (adapters/notification-outbox.ts): its attributes as String attributes, plus `dedupId`. */
export function snsOutboxPublisher(snsClient: SNSClient | (() => SNSClient)): Publish {
  const client = lazy(snsClient);
  return async (m, dedupId) => {
    const { PublishCommand } = snsSdk();
    const attrs = { ...m.attributes, dedupId };
    const r = await client().send(
      new PublishCommand({
        TopicArn: m.topicArn,
        Subject: m.subject,
        Message: m.message,
        MessageAttributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
      }),
    );
    return r.MessageId;
  };
}

/** One EMF line per decision: ScaleOut/ScaleIn/NoChange count and the decided parallelism, dimension Job. */
export function decisionPublisher(metrics: Metrics) {
  return (job: string, d: ScalerDecision): void => {
    metrics.addDimension(JOB_DIMENSION, job);
    const name = d.action === 'none' ? DECISION_METRICS.noChange : d.direction === 'down' ? DECISION_METRICS.scaleIn : DECISION_METRICS.scaleOut;
    metrics.addMetric(name, MetricUnit.Count, 1);
    metrics.addMetric(DECISION_METRICS.desiredParallelism, MetricUnit.Count, d.targetParallelism);
    metrics.publishStoredMetrics();
  };
}
