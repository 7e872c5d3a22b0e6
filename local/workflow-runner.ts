/**
 * Runs the rescale workflow in this process, for `flink-elastic … --local`: the state machine definition is the one
 * CDK synthesizes for the stack (lib/constructs/rescale-workflow.ts, rendered from the template, not a hand-written
 * copy), executed by aws-local-stepfunctions, every Task state invoking the real step handler
 * (functions/workflow/dispatch.ts `makeWorkflowHandler`) with the dependencies the caller passes (Flink client at a
 * URL, a state store, a capacity target). Time is real; Wait states may be shortened (`waitSeconds`): the bounds of
 * every wait are enforced by the Check steps from timestamps, so a shorter Wait only polls more often.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Config } from '../functions/core/config';
import type { WorkflowDeps } from '../functions/workflow/deps';
import { makeWorkflowHandler, type StepEvent } from '../functions/workflow/dispatch';
import { RescaleWorkflow } from '../lib/constructs/rescale-workflow';

export type Asl = { StartAt: string; States: Record<string, any> };

import './polyfills';
import { renderIntrinsic } from './asl';

/** Local executions get ARNs in region "local", account 000000000000. */
const render = (v: unknown) => renderIntrinsic(v, { account: '000000000000', region: 'local' });

const cache = new Map<string, Asl>();

/**
 * The rescale state machine as CDK synthesizes it for this config (Lambda bundling skipped: the steps run in this
 * process). Cached per stack name; takes a few seconds the first time.
 */
export function synthesizeRescaleAsl(config: Config): Asl {
  const key = config.deployment.stackName;
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, config.deployment.stackName);
  const table = new dynamodb.TableV2(stack, 'StateTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  const topic = new sns.Topic(stack, 'Notifications', { enforceSSL: true });
  new RescaleWorkflow(stack, 'RescaleWorkflow', { config, table, topic });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, any> };
  const sm = Object.values(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (!sm) throw new Error('the synthesized stack has no state machine');
  const asl = JSON.parse(render(sm.Properties.DefinitionString)) as Asl;
  cache.set(key, asl);
  return asl;
}

export type RunEvent =
  | { type: 'entered'; state: string; stateType: string; at: number; input: unknown }
  | { type: 'exited'; state: string; stateType: string; at: number; output: unknown }
  | { type: 'failed'; state: string; at: number; error: string; cause: string }
  | { type: 'retried'; state: string; at: number; attempt: number };

export interface LocalRunOptions {
  asl: Asl;
  deps: WorkflowDeps;
  input: unknown;
  executionName: string;
  /** State machine name in the local execution ARN. */
  stateMachineName: string;
  onEvent?: (e: RunEvent) => void;
  /** Every Wait state lasts this many seconds instead of its synthesized duration. */
  waitSeconds?: number;
  /** Retry backoff of Task states, ms (default: as synthesized). */
  retryIntervalMs?: number;
}

export interface LocalRunResult {
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  /** The output (SUCCEEDED), or the state that reached the Fail state (FAILED). */
  output?: unknown;
  error?: string;
  cause?: string;
}

export function localExecutionArn(stateMachineName: string, name: string): string {
  return `arn:aws:states:local:000000000000:execution:${stateMachineName}:${name}`;
}

const causeText = (c: unknown) => (typeof c === 'string' ? c : c instanceof Error ? c.message : JSON.stringify(c ?? ''));

export async function runWorkflowLocally(opts: LocalRunOptions): Promise<LocalRunResult> {
  const handler = makeWorkflowHandler(() => opts.deps);
  const states = Object.entries<any>(opts.asl.States);
  const handlers: Record<string, (input: any) => Promise<any>> = {};
  for (const [name, s] of states) if (s.Type === 'Task') handlers[name] = (event: StepEvent) => handler(event) as Promise<any>;
  const waits = states.filter(([, s]) => s.Type === 'Wait').map(([n]) => n);
  const tasks = states.filter(([, s]) => s.Type === 'Task').map(([n]) => n);
  const executionArn = localExecutionArn(opts.stateMachineName, opts.executionName);
  const sm = new StateMachine(opts.asl as any, { validationOptions: { checkArn: false } });
  const run = sm.run(opts.input as any, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(opts.waitSeconds !== undefined ? { waitTimeOverrides: Object.fromEntries(waits.map((w) => [w, opts.waitSeconds! * 1000])) } : {}),
      ...(opts.retryIntervalMs !== undefined ? { retryIntervalOverrides: Object.fromEntries(tasks.map((t) => [t, opts.retryIntervalMs!])) } : {}),
    },
    context: { Execution: { Id: executionArn, Name: opts.executionName } },
  });
  let lastFailInput: unknown;
  const collect = (async () => {
    for await (const ev of run.eventLogs) {
      const at = ev.timestamp;
      if (ev.type === 'StateEntered') {
        if (ev.state.type === 'Fail') lastFailInput = ev.state.input;
        opts.onEvent?.({ type: 'entered', state: ev.state.name, stateType: ev.state.type, at, input: ev.state.input });
      } else if (ev.type === 'StateExited') {
        opts.onEvent?.({ type: 'exited', state: ev.state.name, stateType: ev.state.type, at, output: ev.state.output });
      } else if (ev.type === 'StateFailed') {
        opts.onEvent?.({ type: 'failed', state: ev.state.name, at, error: ev.Error, cause: causeText(ev.Cause) });
      } else if (ev.type === 'StateRetried') {
        opts.onEvent?.({ type: 'retried', state: ev.state.name, at, attempt: ev.retry.attempt });
      }
    }
  })();
  try {
    const output = await run.result;
    await collect;
    return { executionArn, status: 'SUCCEEDED', output };
  } catch (e) {
    await collect.catch(() => undefined);
    const cause = (e as { cause?: { name?: string; message?: string } }).cause;
    return { executionArn, status: 'FAILED', output: lastFailInput, error: cause?.name ?? (e as Error).name, cause: cause?.message ?? (e as Error).message };
  }
}
