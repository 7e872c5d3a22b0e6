/**
 * The real-time local driver (`flink-elastic run --local`): the whole flink-elastic loop on the wall clock against
 * any Flink REST URL — the emulator, a real cluster on this machine, or a user's development cluster.
 *
 *   collector (real collectJob over the Flink REST client), every collector interval
 *     ─► datapoints ─► AlarmEvaluator (the alarms `cdk synth` writes for this config, CloudWatch semantics)
 *   alarm state changes ─► EventBridge-shaped events (filtered by the synthesized rules' patterns) ─► the real scaler
 *   re-evaluation every minute while an alarm is in ALARM ─► the real scaler
 *   scaler ─► capacity target (whatever the caller passes: TaskManager processes, the emulator's, none)
 *          ─► rescale: the synthesized state machine on aws-local-stepfunctions, every task the real step handler
 *
 * The same pieces the simulator runs on its virtual clock (local/simulator/simulate.ts). Time is real: Wait states
 * last as synthesized unless `waitSeconds` shortens them, and alarm periods last as synthesized (60 s) unless
 * `alarmPeriodSeconds` shortens them (for trying things out; a deployed alarm's period is what the template says).
 *
 * Stopping (`signal`): no new decision is started; an execution in flight is waited for (it ends succeeded, or failed
 * with the job restored or untouched) — never abandoned between its cancel and its resubmit.
 */
import '../polyfills';
import { SNSClient } from '@aws-sdk/client-sns';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import type { FlinkApi } from '../../functions/adapters/flink/types';
import type { StateStore } from '../../functions/adapters/state/types';
import type { CapacityTarget } from '../../functions/adapters/targets/types';
import { collectJob, jvmCpuPercent, type CollectedMetrics } from '../../functions/collector/collect';
import type { Config, JobConfig } from '../../functions/core/config';
import { POLICIES, parsePolicyState, parseSnapshot, policyFor } from '../../functions/core/policy';
import { COLLECTOR_METRICS, JOB_DIMENSION, alarmSpecs, metricsNamespace } from '../../functions/core/signals';
import type { RescaleInput, ScalerDeps } from '../../functions/scaler/ports';
import { handleScalerEvent, type ScalerResult } from '../../functions/scaler/scaler';
import type { StepLogger } from '../../functions/workflow/deps';
import { AlarmEvaluator, alarmChangeEvent, evaluatorMetricReader, type AlarmTransition } from '../alarms';
import { matchesPattern, synthesizeCached } from '../simulator/stack';
import { localExecutionArn, runWorkflowLocally, type RunEvent } from '../workflow-runner';

const ACCOUNT = '000000000000';
const REGION = 'local';

export type LoopEvent =
  | { type: 'collected'; at: number; job: string; metrics: CollectedMetrics; missing: string[] }
  | { type: 'collect-failed'; at: number; job: string; error: string }
  | { type: 'alarm'; at: number; job: string; alarm: string; from: string; to: string; reason: string }
  | { type: 'decision'; at: number; job: string; trigger: string; result: ScalerResult }
  | { type: 'execution-started'; at: number; job: string; name: string; input: RescaleInput }
  | { type: 'execution-step'; at: number; job: string; name: string; event: RunEvent }
  | { type: 'execution-ended'; at: number; job: string; name: string; status: 'SUCCEEDED' | 'FAILED'; outcome?: string; error?: string; cause?: string }
  | { type: 'notification'; at: number; subject: string; message: string }
  | { type: 'stopping'; at: number; waitingFor: string[] };

export interface LoopExecution {
  job: string;
  name: string;
  input: RescaleInput;
  start: number;
  end?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  outcome?: string;
  states: string[];
  error?: string;
  cause?: string;
}

export interface LoopOptions {
  /** The parsed config; each job's `flink.url` is where the loop reads and acts. */
  config: Config;
  store: StateStore;
  target(job: JobConfig): CapacityTarget;
  /** Default: a FlinkRestClient at the job's URL (collector/scaler without retries, workflow steps with 3). */
  flink?(job: JobConfig, use: 'observe' | 'act'): FlinkApi;
  /** A key of POLICIES (default flink-elastic). */
  policy?: string;
  /** aws-step-throughput's parameter: records/s one subtask sustains (its ThroughputPerKPU). */
  throughputPerSubtask?: number;
  /** Every alarm's period, seconds (default: as synthesized). */
  alarmPeriodSeconds?: number;
  /** How often the collector reads Flink, ms (default: deployment.collectorIntervalMinutes). */
  collectEveryMs?: number;
  /** How often the scaler re-evaluates while an alarm is in ALARM, ms (default 60 000). */
  reevaluateEveryMs?: number;
  /** Every Wait state of the workflow lasts this long (default: as synthesized). */
  waitSeconds?: number;
  /** Stop after this long (default: until `signal`). */
  durationMs?: number;
  signal?: AbortSignal;
  onEvent?(e: LoopEvent): void;
  now?(): number;
}

export interface LoopResult {
  startedAt: number;
  endedAt: number;
  decisions: { at: number; job: string; trigger: string; result: ScalerResult }[];
  executions: LoopExecution[];
  alarms: { at: number; job: string; alarm: string; from: string; to: string }[];
  notifications: { at: number; subject: string; message: string }[];
  collections: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((ok) => {
    if (signal?.aborted) return ok();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      ok();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** An SNS client that records what the Notify steps publish instead of sending it. */
function recordingSns(onPublish: (subject: string, message: string) => void): SNSClient {
  const sns = new SNSClient({ region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sns.middlewareStack.add(
    () => async (args: any) => {
      onPublish(args.input?.Subject ?? '', args.input?.Message ?? '');
      return { output: { MessageId: `local-${Date.now()}`, $metadata: {} }, response: {} } as any;
    },
    { step: 'initialize', name: 'localSns' },
  );
  return sns;
}

const quietLog: StepLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** Runs the loop until `durationMs` passes or `signal` aborts, then waits for executions in flight. */
export async function runLocalLoop(opts: LoopOptions): Promise<LoopResult> {
  const now = opts.now ?? (() => Date.now());
  const emit = (e: LoopEvent) => opts.onEvent?.(e);
  const { config } = opts;
  const policyName = opts.policy ?? 'flink-elastic';
  const policy = policyFor(policyName, { throughputPerSubtask: opts.throughputPerSubtask });
  if (!policy) throw new Error(`policy: unknown policy "${policyName}"; one of: ${Object.keys(POLICIES).join(', ')}`);
  const stack = synthesizeCached(config);
  const stackName = config.deployment.stackName;
  const alarms = opts.alarmPeriodSeconds ? stack.alarms.map((a) => ({ ...a, periodSeconds: opts.alarmPeriodSeconds! })) : stack.alarms;
  const evaluator = new AlarmEvaluator(alarms, 30 * 60_000);
  const result: LoopResult = { startedAt: now(), endedAt: 0, decisions: [], executions: [], alarms: [], notifications: [], collections: 0 };

  const clients = new Map<string, FlinkApi>();
  const flinkFor = (job: JobConfig, use: 'observe' | 'act'): FlinkApi => {
    if (opts.flink) return opts.flink(job, use);
    const key = `${job.name}/${use}`;
    let c = clients.get(key);
    if (!c) {
      c = new FlinkRestClient({ baseUrl: job.flink.url, timeoutMs: job.flink.requestTimeoutMs, retries: use === 'act' ? 3 : 0, version: job.flink.version });
      clients.set(key, c);
    }
    return c;
  };
  const notify = (subject: string, message: string) => {
    const n = { at: now(), subject, message };
    result.notifications.push(n);
    emit({ type: 'notification', ...n });
  };
  const sns = recordingSns(notify);
  const asl = stack.asl;
  const running = new Map<string, Promise<void>>();

  const startExecution = async (name: string, input: RescaleInput) => {
    const arn = localExecutionArn(stack.stateMachineName, name);
    if (result.executions.some((e) => e.name === name)) return { executionArn: arn, alreadyExisted: true };
    const rec: LoopExecution = { job: input.job, name, input, start: now(), status: 'RUNNING', states: [] };
    result.executions.push(rec);
    emit({ type: 'execution-started', at: rec.start, job: input.job, name, input });
    const p = runWorkflowLocally({
      asl,
      deps: {
        config,
        store: opts.store,
        flink: (job) => flinkFor(job, 'act'),
        target: (job) => opts.target(job),
        sns,
        topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${stackName}-notifications`,
        now,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        log: quietLog,
      },
      input,
      executionName: name,
      stateMachineName: stack.stateMachineName,
      ...(opts.waitSeconds !== undefined ? { waitSeconds: opts.waitSeconds } : {}),
      onEvent: (ev) => {
        if (ev.type === 'entered') rec.states.push(ev.state);
        if (ev.type === 'exited' && ev.state === 'Record') {
          const out = ev.output as { outcome?: string } | undefined;
          if (out?.outcome) rec.outcome = out.outcome;
        }
        emit({ type: 'execution-step', at: now(), job: input.job, name, event: ev });
      },
    }).then(
      (r) => {
        rec.status = r.status;
        rec.end = now();
        if (r.status === 'FAILED') {
          rec.error = r.error;
          rec.cause = r.cause;
        }
        rec.outcome ??= (r.output as { outcome?: string } | undefined)?.outcome;
        emit({ type: 'execution-ended', at: rec.end, job: input.job, name, status: r.status, outcome: rec.outcome, error: rec.error, cause: rec.cause });
      },
      (e) => {
        rec.status = 'FAILED';
        rec.end = now();
        rec.error = (e as Error).name;
        rec.cause = (e as Error).message;
        emit({ type: 'execution-ended', at: rec.end, job: input.job, name, status: 'FAILED', error: rec.error, cause: rec.cause });
      },
    );
    running.set(name, p);
    void p.finally(() => running.delete(name));
    return { executionArn: arn, alreadyExisted: false };
  };

  const alarmNamesOf = new Map(config.jobs.map((j) => [j.name, alarmSpecs(stackName, j).map((a) => a.alarmName)]));
  const scalerDeps: ScalerDeps = {
    config,
    now,
    flink: async (job) => flinkFor(job, 'observe'),
    metrics: evaluatorMetricReader(evaluator),
    store: opts.store,
    target: (job) => opts.target(job),
    decide: (snapshot, job, state) => policy(parseSnapshot(snapshot), job, state === undefined || state === null ? undefined : parsePolicyState(state)),
    startExecution,
    notify: async (subject, message) => notify(subject, message),
    publishDecision: () => {},
    log: quietLog,
    alarmStates: async (job) => {
      const all = evaluator.allStates();
      return Object.fromEntries((alarmNamesOf.get(job.name) ?? []).filter((n) => n in all).map((n) => [n, all[n]]));
    },
  };

  const invokeScaler = async (event: unknown, job: string, trigger: string) => {
    let r: ScalerResult;
    try {
      r = await handleScalerEvent(event, scalerDeps);
    } catch (e) {
      r = { job, trigger, outcome: 'failed', reason: (e as Error).message };
    }
    if (r.outcome === 'ignored') return;
    const d = { at: now(), job, trigger, result: r };
    result.decisions.push(d);
    emit({ type: 'decision', ...d });
  };

  const deliver = async (tr: AlarmTransition) => {
    const ref = [...alarmNamesOf.entries()].find(([, names]) => names.includes(tr.alarmName));
    if (!ref) return;
    const short = tr.alarmName.slice(stackName.length + 1);
    result.alarms.push({ at: tr.time, job: ref[0], alarm: short, from: tr.from, to: tr.to });
    emit({ type: 'alarm', at: tr.time, job: ref[0], alarm: short, from: tr.from, to: tr.to, reason: tr.reason });
    const event = alarmChangeEvent(tr, { account: ACCOUNT, region: REGION });
    if (!stack.alarmRules.some((rule) => matchesPattern(rule.pattern, event))) return;
    await invokeScaler(event, ref[0], `alarm ${short} → ${tr.to}`);
  };

  const collect = async (job: JobConfig) => {
    const at = now();
    try {
      const r = await collectJob(flinkFor(job, 'observe'), job, { jvmCpu: jvmCpuPercent });
      result.collections++;
      const ns = metricsNamespace(stackName);
      for (const [k, v] of Object.entries(r.metrics)) evaluator.put(ns, COLLECTOR_METRICS[k as keyof typeof COLLECTOR_METRICS], { [JOB_DIMENSION]: job.name }, at, v as number);
      emit({ type: 'collected', at, job: job.name, metrics: r.metrics, missing: r.missing });
    } catch (e) {
      // CloudWatch would see no datapoint: the alarms treat the period as missing
      emit({ type: 'collect-failed', at, job: job.name, error: (e as Error).message });
    }
  };

  const collectEvery = opts.collectEveryMs ?? config.deployment.collectorIntervalMinutes * 60_000;
  const reevaluateEvery = opts.reevaluateEveryMs ?? 60_000;
  const tick = Math.max(250, Math.min(1000, collectEvery / 4));
  const jobs = config.jobs.filter((j) => j.enabled);
  const end = opts.durationMs !== undefined ? result.startedAt + opts.durationMs : Infinity;
  let nextCollect = result.startedAt;
  let nextReevaluate = result.startedAt + reevaluateEvery;
  while (!opts.signal?.aborted && now() < end) {
    const t = now();
    if (t >= nextCollect) {
      nextCollect += collectEvery * Math.max(1, Math.ceil((t - nextCollect + 1) / collectEvery));
      await Promise.all(jobs.map(collect));
    }
    for (const tr of evaluator.evaluate(now())) await deliver(tr);
    if (now() >= nextReevaluate) {
      nextReevaluate += reevaluateEvery;
      for (const j of jobs) await invokeScaler({ source: 'reevaluate', job: j.name, time: new Date(now()).toISOString(), requireAlarm: true }, j.name, 're-evaluation');
    }
    await sleep(Math.max(0, Math.min(tick, end - now())), opts.signal);
  }
  if (running.size > 0) {
    emit({ type: 'stopping', at: now(), waitingFor: [...running.keys()] });
    await Promise.all([...running.values()]);
  }
  result.endedAt = now();
  return result;
}
