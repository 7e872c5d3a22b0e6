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
import { StateMachine } from 'aws-local-stepfunctions';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig, type Config, type JobConfigInput } from '../../functions/core/config';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import type { FlinkApi } from '../../functions/adapters/flink/types';
import type { CapacityTarget } from '../../functions/adapters/targets/types';
import { DynamoStateStore } from '../../functions/adapters/state/dynamo';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { silentLogger } from '../../functions/workflow/deps';
import { makeWorkflowHandler, type StepEvent } from '../../functions/workflow/dispatch';
import { VirtualClock, virtualizeWaits } from '../../local/virtual-time';
import type { Emulator } from '../../local/emulator';
import { aslFromTemplate, synthWorkflowStack } from './asl';
import type { LocalDynamo } from './dynalite';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:flink-elastic-notifications';
const SLEEP_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:VirtualWait';

let cachedAsl: any;
/** The synthesized definition (one synth per test file: the state machine does not depend on the job list). */
export function synthesizedAsl(config: Config): any {
  cachedAsl ??= aslFromTemplate(Template.fromStack(synthWorkflowStack(config).stack))[0];
  return cachedAsl;
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
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

export type StateWrapper = (state: string, invoke: (event: StepEvent) => Promise<unknown>, event: StepEvent) => Promise<unknown>;

export interface HarnessOptions {
  emulator: Emulator;
  dynamo: LocalDynamo;
  target: CapacityTarget;
  sns: SNSClient;
  jobs: JobConfigInput[];
  /** Inline poll budget inside one Check task (virtual seconds). */
  inlinePollSeconds?: number;
}

export class WorkflowHarness {
  readonly world: VirtualClock;
  readonly config: Config;
  readonly deps: WorkflowDeps;
  readonly asl: any;
  readonly flink: FlinkApi;
  private readonly handler: (e: StepEvent) => Promise<unknown>;
  private readonly virtualAsl: any;

  constructor(private readonly opts: HarnessOptions) {
    const emu = opts.emulator;
    this.world = new VirtualClock(emu.clock.now());
    this.config = parseConfig({ jobs: opts.jobs }, 'test config');
    this.flink = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retries: 2, retryDelayMs: 100, sleep: (ms) => this.world.sleep(ms) });
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
      inlinePollSeconds: opts.inlinePollSeconds,
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
        if (attempt > 0) await this.world.sleep(backoffMs(stateName, attempt));
        invocations.push({ state: stateName, step: event.step });
        const invoke = (e: StepEvent) => this.handler(e);
        return (wrap ? wrap(stateName, invoke, event) : invoke(event)) as Promise<any>;
      };
    }
    const sm = new StateMachine(this.virtualAsl, { validationOptions: { checkArn: false } });
    // Retries run without real delay (retryIntervalOverrides 0); the same state invoked twice in a row is a retry,
    // and its backoff (the Transient retrier's interval x rate^n, capped; jitter taken at its maximum) is slept on
    // the virtual clock so retries cost virtual time as they would in AWS.
    let prevState = '';
    let attempt = 0;
    const backoffMs = (stateName: string, n: number) => {
      const r = (this.virtualAsl.States[stateName].Retry ?? []).find((x: any) => x.ErrorEquals.includes('Transient'));
      if (!r) return 0;
      const s = Math.min(r.MaxDelaySeconds ?? Infinity, (r.IntervalSeconds ?? 1) * Math.pow(r.BackoffRate ?? 2, n - 1));
      return s * 1000;
    };
    const startedAt = this.world.now();
    return this.world.track(async () => {
      const run = sm.run(input as any, {
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
          status: 'FAILED' as const,
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

  async run(input: unknown, name: string, wrap?: StateWrapper): Promise<RunResult> {
    const [r] = await this.drive(this.start(input, name, wrap));
    return r;
  }
}
