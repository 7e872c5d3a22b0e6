/**
 * Runs the rescale state machine exactly as CDK synthesizes it (definition extracted from the template) with
 * aws-local-stepfunctions, every Task state invoking the real step handler (makeWorkflowHandler) against:
 *   - the Flink JobManager emulator over HTTP on 127.0.0.1 (FlinkRestClient),
 *   - a simulated capacity target over the emulator's TaskManagers,
 *   - the DynamoDB state store on dynalite over loopback,
 *   - SNS under aws-sdk-client-mock.
 * Time is virtual: Wait states sleep on a VirtualClock (local/virtual-time.ts), the emulator's clock follows it,
 * and the step handlers' inline polls sleep on the same clock. Nothing sleeps in real time.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig, type Config, type JobConfigInput } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import type { FlinkApi } from '../../functions/adapters/flink/types';
import type { CapacityTarget } from '../../functions/adapters/targets/types';
import type { JarSource } from '../../functions/adapters/jar-source';
import { DynamoStateStore } from '../../functions/adapters/state/dynamo';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { silentLogger } from '../../functions/workflow/deps';
import { makeWorkflowHandler, type StepEvent } from '../../functions/workflow/dispatch';
import { VirtualClock, virtualizeWaits } from '../../local/virtual-time';
import type { Emulator } from '../../local/emulator';
import { aslFromTemplate, renderIntrinsic, synthWorkflowStack } from './asl';
import type { LocalDynamo } from './dynalite';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:flink-elastic-notifications';
const SLEEP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:VirtualWait';

let cachedTemplate: Template | undefined;
/** The synthesized workflow template (one synth per test file: the state machine does not depend on the job list). */
export function synthesizedTemplate(config: Config): Template {
  cachedTemplate ??= Template.fromStack(synthWorkflowStack(config).stack);
  return cachedTemplate;
}
/** The synthesized definition. */
export function synthesizedAsl(config: Config): any {
  return aslFromTemplate(synthesizedTemplate(config))[0];
}

/** Value at a simple EventBridge path ($, $.a, $.a.b). */
function atPath(obj: any, path: string): any {
  return path === '$' ? obj : path.replace(/^\$\./, '').split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/**
 * What EventBridge hands the step Lambda for a "Step Functions Execution Status Change" event: the synthesized
 * watchdog rule's event pattern is matched (source, detail-type, state machine, status) and its InputTransformer
 * applied. Returns undefined when the rule would not match.
 */
export function watchdogDelivery(template: Template, event: any): StepEvent | undefined {
  const [rule] = Object.values<any>(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.states'] } } }));
  const pattern = rule.Properties.EventPattern;
  const arns = pattern.detail.stateMachineArn.map((a: any) => (a.Ref ? `arn:aws:states:us-east-1:123456789012:stateMachine:${stateMachineName(template)}` : a));
  const matches =
    pattern.source.includes(event.source) &&
    pattern['detail-type'].includes(event['detail-type']) &&
    arns.includes(event.detail?.stateMachineArn) &&
    pattern.detail.status.includes(event.detail?.status);
  if (!matches) return undefined;
  const { InputPathsMap, InputTemplate } = rule.Properties.Targets[0].InputTransformer;
  const rendered = (InputTemplate as string).replace(/<([^>]+)>/g, (_, name: string) => JSON.stringify(atPath(event, InputPathsMap[name]) ?? null));
  return JSON.parse(rendered);
}

function stateMachineName(template: Template): string {
  const [sm] = Object.values<any>(template.findResources('AWS::StepFunctions::StateMachine'));
  return sm.Properties.StateMachineName;
}

/** The STATE_MACHINE_ARN the step function gets (rendered from the template). */
export function stepFunctionStateMachineArn(template: Template): string {
  const fns = Object.values<any>(template.findResources('AWS::Lambda::Function'));
  const env = fns.map((f) => f.Properties.Environment?.Variables?.STATE_MACHINE_ARN).find(Boolean);
  return renderIntrinsic(env);
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  output?: any;
  /** The state machine's state when the execution ended (the Succeed/Fail state's input), also for failures. */
  finalState?: any;
  error?: { name: string; message: string };
  /** State names entered, in order (Wait states included; each is one billed transition). */
  states: string[];
  /** Step Lambda invocations (Task states other than Waits), including retries. */
  invocations: { state: string; step: string }[];
  retries: number;
  startedAt: number;
  finishedAt: number;
}

/** Wraps one Task invocation; `abort()` stops the execution as StopExecution would (no Catch runs). */
export type StateWrapper = (state: string, invoke: (event: StepEvent) => Promise<unknown>, event: StepEvent, abort: () => void) => Promise<unknown>;

export interface HarnessOptions {
  emulator: Emulator;
  dynamo: LocalDynamo;
  target: CapacityTarget;
  sns: SNSClient;
  jobs: JobConfigInput[];
  /** Inline poll budget inside one Check task (virtual seconds). */
  inlinePollSeconds?: number;
  /** Where submit.jarPath is read from when the JobManager lacks the jar. */
  jars?: JarSource;
  /** The Flink client's per-request timeout (real ms). Default 2000. */
  flinkTimeoutMs?: number;
}

export class WorkflowHarness {
  readonly world: VirtualClock;
  readonly config: Config;
  readonly deps: WorkflowDeps;
  readonly asl: any;
  readonly flink: FlinkApi;
  /** Metrics the steps published (job, name, value, unit). */
  readonly metrics: { job: string; name: string; value: number; unit: string }[] = [];
  /** The step Lambda's handler (tests deliver watchdog events to it). */
  readonly handler: (e: StepEvent) => Promise<unknown>;
  private readonly virtualAsl: any;

  constructor(private readonly opts: HarnessOptions) {
    const emu = opts.emulator;
    this.world = new VirtualClock(emu.clock.now());
    this.config = parseConfig({ jobs: opts.jobs }, 'test config');
    this.flink = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: opts.flinkTimeoutMs ?? 2000, retries: 2, retryDelayMs: 100, sleep: (ms) => this.world.sleep(ms) });
    this.deps = {
      config: this.config,
      store: new DynamoStateStore({ tableName: opts.dynamo.tableName, client: opts.dynamo.client }),
      flink: () => this.flink,
      target: () => opts.target,
      sns: opts.sns,
      topicArn: TOPIC_ARN,
      now: () => this.world.now(),
      sleep: (ms) => this.world.sleep(ms),
      log: silentLogger,
      publishMetric: (job, name, value, unit) => this.metrics.push({ job, name, value, unit }),
      stateMachineArn: stepFunctionStateMachineArn(synthesizedTemplate(this.config)),
      inlinePollSeconds: opts.inlinePollSeconds,
      jars: opts.jars,
    };
    this.handler = makeWorkflowHandler(() => this.deps);
    this.asl = synthesizedAsl(this.config);
    this.virtualAsl = virtualizeWaits(this.asl, SLEEP_ARN).asl;
  }

  /** Moves virtual time (and the emulator with it) until every tracked execution finished or slept past `untilMs`. */
  private async advance(t: number): Promise<void> {
    const emu = this.opts.emulator;
    await this.world.advanceTo(t, (now) => {
      const d = now - emu.clock.now();
      if (d > 0) emu.clock.advance(d);
    });
  }

  /** Advances virtual time by ms (the emulator follows). For setting up jobs before an execution. */
  async elapse(ms: number): Promise<void> {
    await this.advance(this.world.now() + ms);
  }

  /** Starts an execution; returns a promise of its result. Drive time with `drive()` (or use `run`). */
  start(input: unknown, name: string, wrap?: StateWrapper): Promise<RunResult> {
    const taskStates = Object.entries<any>(this.virtualAsl.States).filter(([, s]) => s.Type === 'Task');
    const states: string[] = [];
    const invocations: RunResult['invocations'] = [];
    const handlers: Record<string, (input: any) => Promise<any>> = {};
    for (const [stateName, s] of taskStates) {
      if (s.Resource === SLEEP_ARN) {
        handlers[stateName] = async (i: { seconds: number }) => {
          prevState = stateName;
          await this.world.sleep(i.seconds * 1000);
          return {};
        };
        continue;
      }
      handlers[stateName] = async (event: StepEvent) => {
        attempt = stateName === prevState ? attempt + 1 : 0;
        prevState = stateName;
        if (attempt > 0) await this.world.sleep(backoffMs(stateName, attempt, lastError));
        invocations.push({ state: stateName, step: event.step });
        const invoke = (e: StepEvent) => this.handler(e);
        try {
          return await ((wrap ? wrap(stateName, invoke, event, () => run.abort()) : invoke(event)) as Promise<any>);
        } catch (e) {
          lastError = (e as Error).name;
          throw e;
        }
      };
    }
    const sm = new StateMachine(this.virtualAsl, { validationOptions: { checkArn: false } });
    let run: ReturnType<StateMachine['run']>;
    // Retries run without real delay (retryIntervalOverrides 0); the same state invoked twice in a row is a retry,
    // and its backoff (the matching retrier's interval x rate^n, capped; jitter taken at its maximum) is slept on
    // the virtual clock so retries cost virtual time as they would in AWS.
    let prevState = '';
    let attempt = 0;
    let lastError = 'Transient';
    // The retrier that matched the error (as Step Functions picks it: the first whose ErrorEquals names it).
    const backoffMs = (stateName: string, n: number, error: string) => {
      const retriers = this.virtualAsl.States[stateName].Retry ?? [];
      const r = retriers.find((x: any) => x.ErrorEquals.includes(error)) ?? retriers.find((x: any) => x.ErrorEquals.includes('Transient'));
      if (!r) return 0;
      const s = Math.min(r.MaxDelaySeconds ?? Infinity, (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, n - 1));
      return s * 1000;
    };
    const startedAt = this.world.now();
    return this.world.track(async () => {
      run = sm.run(input as any, {
        overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: Object.fromEntries(taskStates.map(([n]) => [n, 0])) },
        context: { Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:WorkflowTest-rescale:${name}`, Name: name } },
      });
      let retries = 0;
      let finalState: any;
      const collect = (async () => {
        for await (const ev of run.eventLogs) {
          if (ev.type === 'StateEntered') {
            states.push(ev.state.name);
            finalState = ev.state.input;
          }
          if (ev.type === 'StateRetried') retries++;
        }
      })();
      try {
        const output = await run.result;
        await collect;
        return { status: 'SUCCEEDED' as const, output, finalState, states, invocations, retries, startedAt, finishedAt: this.world.now() };
      } catch (e) {
        await collect.catch(() => undefined);
        const cause = (e as { cause?: { name?: string; message?: string } }).cause;
        return {
          status: e instanceof ExecutionAbortedError ? ('ABORTED' as const) : e instanceof ExecutionTimeoutError ? ('TIMED_OUT' as const) : ('FAILED' as const),
          error: { name: cause?.name ?? (e as Error).name, message: cause?.message ?? (e as Error).message },
          finalState,
          states,
          invocations,
          retries,
          startedAt,
          finishedAt: this.world.now(),
        };
      }
    });
  }

  /** Drives virtual time until all given executions finished (bounded: 6 virtual hours). */
  async drive<T>(...runs: Promise<T>[]): Promise<T[]> {
    let done = false;
    const all = Promise.all(runs).finally(() => (done = true));
    const limit = this.world.now() + 6 * 3600_000;
    while (!done) {
      await this.world.settle();
      if (done) break;
      const next = this.world.nextWake();
      if (next === undefined) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      if (next > limit) throw new Error('workflow did not finish within 6 virtual hours');
      await this.advance(next);
    }
    return all;
  }

  /** The execution ARN of an execution started by `start(input, name)`. */
  executionArn(name: string): string {
    return `${this.deps.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** An EventBridge "Step Functions Execution Status Change" event as AWS sends it, for an execution of this harness. */
  statusChangeEvent(name: string, status: string, input: unknown, detail: Record<string, unknown> = {}): any {
    return {
      version: '0',
      id: `evt-${name}-${status}`,
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '123456789012',
      time: new Date(this.world.now()).toISOString(),
      region: 'us-east-1',
      resources: [this.executionArn(name)],
      detail: {
        executionArn: this.executionArn(name),
        stateMachineArn: this.deps.stateMachineArn,
        name,
        status,
        startDate: this.world.now() - 60_000,
        stopDate: this.world.now(),
        input: JSON.stringify(input),
        inputDetails: { included: true },
        output: null,
        outputDetails: null,
        error: null,
        cause: null,
        ...detail,
      },
    };
  }

  /**
   * Delivers an EventBridge event through the synthesized watchdog rule (pattern + InputTransformer) to the step
   * handler, in virtual time. Resolves to {matched: false} when the rule does not match the event.
   */
  async deliver(event: any): Promise<{ matched: boolean; result?: any; error?: Error }> {
    const payload = watchdogDelivery(synthesizedTemplate(this.config), event);
    if (!payload) return { matched: false };
    const [r] = await this.drive(
      this.world.track(() => this.handler(payload).then((result) => ({ matched: true, result }), (error: Error) => ({ matched: true, error }))),
    );
    return r;
  }

  /**
   * Delivers an event as Lambda runs an asynchronous invocation: a failed attempt is retried after 1 minute, then
   * after 2 more (Lambda's default of 2 retries), on the virtual clock. Returns the last attempt and how many ran.
   */
  async deliverAsync(event: any): Promise<{ matched: boolean; result?: any; error?: Error; attempts: number; errors: Error[] }> {
    const errors: Error[] = [];
    for (const [i, delay] of [0, 60_000, 120_000].entries()) {
      if (delay) await this.elapse(delay);
      const r = await this.deliver(event);
      if (r.error) errors.push(r.error);
      if (!r.error || i === 2) return { ...r, attempts: i + 1, errors };
    }
    throw new Error('unreachable');
  }

  async run(input: unknown, name: string, wrap?: StateWrapper): Promise<RunResult> {
    const [r] = await this.drive(this.start(input, name, wrap));
    return r;
  }
}
