/**
 * The simulator: the whole flink-elastic loop on one virtual clock, with the real parts wherever they can run locally.
 *
 *   load (scenario or trace) ─► Flink emulator per job (its own model of TaskManagers, jobs, load; REST answered in
 *     process in the fast mode, over HTTP on 127.0.0.1 with fidelity "full")
 *   collector (real collectJob over the Flink REST client) ─► datapoints ─► AlarmEvaluator (the synthesized alarms)
 *   alarm state changes ─► EventBridge-shaped events (the synthesized rules' patterns) ─► the real scaler
 *   re-evaluation ticks (every minute per job) ─► the real scaler
 *   scaler: Flink REST + metric reader (evaluator datapoints) + state store (MemoryStateStore, or with fidelity
 *     "full" DynamoStateStore on dynalite) + policy ─►
 *     capacity: SimulatedCapacityTarget (new TaskManagers register after a boot delay)
 *     rescale:  the synthesized state machine on aws-local-stepfunctions, every task the real workflow handler
 *
 * Time: one VirtualClock (local/virtual-time.ts) moves only when every activity (workflow executions) is blocked on
 * it; the emulators' clock follows it. Nothing waits in real time, so an hour of traffic takes seconds.
 * Invariants are checked at every tick; a violation throws `InvariantViolation`.
 */
import '../polyfills';
import { SNSClient } from '@aws-sdk/client-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { DynamoStateStore } from '../../functions/adapters/state/dynamo';
import type { StateStore } from '../../functions/adapters/state/types';
import { jvmCpuPercent, collectJob } from '../../functions/collector/collect';
import { ConfigError, parseConfig, type Config, type JobConfig } from '../../functions/core/config';
import { POLICIES, parsePolicyState, parseSnapshot, policyFor, type PolicyFn } from '../../functions/core/policy';
import { COLLECTOR_METRICS, JOB_DIMENSION, alarmSpecs, cpuMetric, lagMetric, metricsNamespace, type MetricSpec } from '../../functions/core/signals';
import type { ScalerDeps } from '../../functions/scaler/ports';
import { requestedParallelism, type RescaleInput } from '../../functions/core/rescale/input';
import { handleScalerEvent, type ScalerResult } from '../../functions/scaler/scaler';
import { silentLogger, type WorkflowDeps } from '../../functions/workflow/deps';
import { makeWorkflowHandler, type StepEvent } from '../../functions/workflow/dispatch';
import { causeMessage } from '../../functions/workflow/errors';
import { AlarmEvaluator, alarmChangeEvent, evaluatorMetricReader, type AlarmTransition } from '../alarms';
import { startEmulator, SimulatedCapacityTarget, VirtualClock as EmulatorClock, type Emulator, type EmulatorVersion } from '../emulator';
import type { AlarmMark, DecisionMark, JobRun, RescaleMark, SeriesPoint } from '../report';
import { parseTrace, scenarios, type Scenario, type ScenarioJob } from '../scenarios';
import { compactSeries } from '../series';
import { VirtualClock } from '../virtual-time';
import { entryClassOf, jarOf, localizeConfig, scenarioConfigDoc, simJob, SIM_TICK_MS, streamOf, versionFor, vertexNamesOf, type SimJob } from './config';
import { MemoryStateStore } from '../memory-state-store';
import { startLocalTable } from './dynamo';
import { ACCOUNT, matchesPattern, REGION, synthesizeCached, VIRTUAL_WAIT_ARN, type SynthesizedStack } from './stack';

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

/** How each policy is woken (documented in docs/simulator.md). */
export type Wake = 'while-alarm' | 'every-minute';
export const WAKES: readonly Wake[] = ['while-alarm', 'every-minute'];
export const POLICY_TRIGGERS: Record<string, { reevaluate: Wake; description: string }> = {
  'flink-elastic': { reevaluate: 'while-alarm', description: 'alarm state changes into ALARM, plus a re-evaluation every minute while any alarm of the job is in ALARM' },
  'aws-step-throughput': { reevaluate: 'every-minute', description: 'every minute: its own two alarms (not in the stack) are evaluated in the policy, one 60 s datapoint each; Application Auto Scaling re-invokes a step policy every period its alarm stays in ALARM' },
  'msf-cpu': { reevaluate: 'every-minute', description: 'every minute (MSF watches CPU continuously), plus alarm state changes' },
  'seed-001': { reevaluate: 'every-minute', description: 'every minute (the seed\'s monitor loop, 1-minute window), plus alarm state changes' },
};

export interface SimulationProgress {
  /** Virtual ms since the start. */
  t: number;
  durationMs: number;
  jobs: { job: string; inputRate: number; lagRecords: number; backlogSeconds: number; parallelism: number; taskManagers: number; workflow: string }[];
}

export interface SimulateOptions {
  /** A shipped scenario's name (default "step-spike"), or a scenario object. */
  scenario?: string | Scenario;
  /** A recorded rate (CSV `time,records_per_second`) replayed for every job instead of the scenario's rates. */
  trace?: { csv: string; file?: string };
  /** The user's config document (parsed JSON); URLs, targets and metric sources are replaced by the local world. */
  config?: unknown;
  configSource?: string;
  /** A key of POLICIES. Default "flink-elastic". */
  policy?: string;
  /**
   * What the minute re-evaluation tick does: wake the policy only while an alarm of the job is in ALARM, or every
   * minute whatever the alarms say. Default: the policy's own (POLICY_TRIGGERS); set it to measure the difference.
   */
  wake?: Wake;
  /**
   * Turns on rule 10 (`policy.forecast.enabled`) for every job, with these settings over the job's own (true: the
   * defaults). Default: the config's.
   */
  forecast?: boolean | Record<string, unknown>;
  /** Drives the scenario's noise. Default 1. */
  seed?: number;
  /** Run only this much virtual time (default: the scenario's or trace's duration). */
  durationMs?: number;
  /** Sampling and load-integration step, virtual ms (divides 60 000). Default 5000. */
  tickMs?: number;
  /** Virtual ms from launching an instance until its TaskManager registers. Default 60 000. */
  bootDelayMs?: number;
  onProgress?: (p: SimulationProgress) => void;
  /** Called at every tick before the invariants are checked (fault injection in tests). */
  onTick?: (t: number, jobs: { job: string; emulator: Emulator; target: SimulatedCapacityTarget }[]) => void;
  /** Virtual ms between progress callbacks. Default 60 000. */
  progressEveryMs?: number;
  /**
   * "fast" (default): the state store in memory (MemoryStateStore, the DynamoDB store's contract) and the Flink REST
   * client answered in process by the emulator's server (no socket). "full": DynamoStateStore on dynalite over HTTP
   * and the REST client over loopback HTTP. Same results (test/local/simulator-fidelity.test.ts, npm run bench -- simspeed).
   */
  fidelity?: Fidelity;
}

export type Fidelity = 'fast' | 'full';
export const FIDELITIES: readonly Fidelity[] = ['fast', 'full'];

export interface ExecutionRecord {
  job: string;
  name: string;
  start: number;
  end?: number;
  from: number;
  to: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  outcome: string;
  /** The notification's subject (what the workflow said happened). */
  subject?: string;
  /** Why it failed: the workflow's error (step error and message), when it failed. */
  error?: string;
  states: number;
  invocations: number;
}

/** A rescale that failed in a simulation: the run fails loudly (the CLI exits 1) and says why. */
export interface FailedRescale {
  job: string;
  execution: string;
  /** Virtual ms since the start. */
  start: number;
  from: number;
  to: number;
  outcome: string;
  reason: string;
}

/** Outcomes of a rescale that did not do what was asked (functions/workflow/finish.ts). */
export function isFailedRescale(e: Pick<ExecutionRecord, 'status' | 'outcome'>): boolean {
  return e.status === 'FAILED' || e.outcome === 'rejected' || e.outcome.startsWith('failed') || e.outcome === 'rescaled-cleanup-failed';
}

export interface JobSummary {
  job: string;
  maxBacklogSeconds: number;
  /** Seconds with backlog (time lag = backlog ÷ input rate) over the tolerated backlog time. */
  sloViolationSeconds: number;
  taskManagerHours: number;
  rescales: number;
  failedRescales: number;
  /** Each failed rescale with its reason (see isFailedRescale). */
  failures: FailedRescale[];
  /** Rescales started in the window after each step change of the load, until the next one. */
  stepsToConverge: number[];
  maxLagRecords: number;
  maxBacklogSecondsSeen: number;
  decisions: number;
  finalParallelism: number;
  finalTaskManagers: number;
  /** Records that arrived, that the job processed (in its state), and still waiting at the end. */
  produced: number;
  processed: number;
  backlog: number;
}

export interface SimulationResult {
  scenario: string;
  description: string;
  policy: string;
  /** How the minute tick woke the policy (the policy's own unless `wake` was set). */
  wake: Wake;
  seed: number;
  durationMs: number;
  config: Config;
  jobs: JobSummary[];
  runs: JobRun[];
  executions: ExecutionRecord[];
  totals: {
    sloViolationSeconds: number;
    taskManagerHours: number;
    rescales: number;
    maxLagRecords: number;
    stateTransitions: number;
    lambdaInvocations: number;
    scalerInvocations: number;
    collectorInvocations: number;
    workflowStepInvocations: number;
    notifications: number;
    invariantChecks: number;
  };
  /** How it ran: "fast" (in-memory state store, in-process Flink REST) or "full" (dynalite, loopback HTTP); same figures. */
  fidelity: Fidelity;
  /**
   * Wall-clock figures: not part of "same inputs → same output". `ms` is the whole call; `setupMs` what comes before
   * the first tick (emulators, the stack's synthesis, the state machine's validation: once per run, whatever its
   * length); `loopMs` the simulation itself. Rates are the virtual duration ÷ `ms`, and ÷ `loopMs`.
   */
  wall: { ms: number; simulatedSecondsPerWallSecond: number; setupMs: number; loopMs: number; loopSimulatedSecondsPerWallSecond: number };
}

interface JobWorld {
  sim: SimJob;
  emu: Emulator;
  target: SimulatedCapacityTarget;
  rate: (t: number) => number;
  run: JobRun;
  slo: number;
  tmMs: number;
  maxLag: number;
  maxBacklogSec: number;
  lastParallelism: number;
  workflowState: string;
  decisions: number;
}

const MIN = 60_000;
/**
 * History entries per job and kind the fast mode's store keeps: the scaler reads the newest 50 decisions, its snapshot
 * 20 decisions and 10 rescales; a 30-day run writes ~43,000 decisions (memory only past these).
 */
const HISTORY_RETAINED = 1000;
/** Virtual ms until a new TaskManager pod registers (EKS Deployment, FlinkDeployment targets). */
const POD_START_MS = 20_000;

const machines = new WeakMap<object, StateMachine>();
function machineFor(asl: any): StateMachine {
  let sm = machines.get(asl);
  if (!sm) machines.set(asl, (sm = new StateMachine(asl, { validationOptions: { checkArn: false } })));
  return sm;
}

/**
 * A lag source's value from the emulated backlog: records (MSK SumOffsetLag, a custom metric in records) = the
 * backlog; MSK MaxOffsetLag = the backlog of one of `policy.sourcePartitions` evenly loaded partitions (1 when not
 * set); time-based sources (MSK EstimatedMaxTimeLag, Kinesis iterator age, a custom metric in seconds or ms) = the
 * backlog's time lag, backlog ÷ input rate (the SLO's measure).
 */
export function sourceLag(job: JobConfig, unit: MetricSpec['unit'], p: SeriesPoint): number {
  if (unit === 'records') {
    const src = job.lag?.source;
    return src?.type === 'msk' && src.metric === 'MaxOffsetLag' ? p.lagRecords / (job.policy.sourcePartitions ?? 1) : p.lagRecords;
  }
  const seconds = p.lagRecords < 0.5 ? 0 : p.lagRecords / Math.max(1, p.inputRate);
  return unit === 'milliseconds' ? seconds * 1000 : seconds;
}

/** A config document with `policy.forecast` on for every job (SimulateOptions.forecast); unchanged without it. */
function withForecast(doc: unknown, forecast: SimulateOptions['forecast']): unknown {
  if (!forecast || doc === undefined || typeof doc !== 'object' || doc === null || !Array.isArray((doc as any).jobs)) return doc;
  const extra = typeof forecast === 'object' ? forecast : {};
  return {
    ...doc,
    jobs: (doc as any).jobs.map((j: any) => ({ ...j, policy: { ...j?.policy, forecast: { ...j?.policy?.forecast, ...extra, enabled: true } } })),
  };
}

function resolveScenario(opts: SimulateOptions): Scenario {
  const seed = opts.seed ?? 1;
  let sc: Scenario;
  if (typeof opts.scenario === 'object') sc = opts.scenario;
  else {
    const all = scenarios(seed);
    const name = opts.scenario ?? 'step-spike';
    if (!all[name]) throw new ConfigError([{ path: 'scenario', message: `unknown scenario; one of: ${Object.keys(all).join(', ')}`, value: name }], 'simulation');
    sc = all[name];
  }
  if (opts.trace) {
    const tr = parseTrace(opts.trace.csv, opts.trace.file);
    sc = { ...sc, name: `trace:${opts.trace.file ?? 'trace'}`, description: `replay of ${opts.trace.file ?? 'a trace'} (${Math.round(tr.durationMs / 1000)} s)`, durationMs: tr.durationMs, jobs: sc.jobs.map((j) => ({ ...j, rate: tr.rate, steps: undefined })) };
  }
  return sc;
}

/** Runs one simulation. Deterministic: the same options give the same result (apart from `wall`). */
export async function simulate(opts: SimulateOptions = {}): Promise<SimulationResult> {
  const wallStart = performance.now();
  const policyName = opts.policy ?? 'flink-elastic';
  if (!POLICIES[policyName]) throw new ConfigError([{ path: 'policy', message: `unknown policy; one of: ${Object.keys(POLICIES).join(', ')}`, value: policyName }], 'simulation');
  if (opts.wake !== undefined && !WAKES.includes(opts.wake)) throw new ConfigError([{ path: 'wake', message: `must be one of: ${WAKES.join(', ')}`, value: opts.wake }], 'simulation');
  const wake: Wake = opts.wake ?? POLICY_TRIGGERS[policyName]?.reevaluate ?? 'while-alarm';
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError([{ path: 'seed', message: 'must be an integer ≥ 0', value: seed }], 'simulation');
  const fidelity: Fidelity = opts.fidelity ?? 'fast';
  if (!FIDELITIES.includes(fidelity)) throw new ConfigError([{ path: 'fidelity', message: `must be one of: ${FIDELITIES.join(', ')}`, value: fidelity }], 'simulation');
  const tickMs = opts.tickMs ?? SIM_TICK_MS;
  if (!Number.isInteger(tickMs) || tickMs < 100 || MIN % tickMs !== 0) throw new ConfigError([{ path: 'tickMs', message: 'must be a whole number of ms ≥ 100 that divides 60000', value: tickMs }], 'simulation');
  const scenario = resolveScenario(opts);
  const durationMs = opts.durationMs ?? scenario.durationMs;
  const bootDelayMs = opts.bootDelayMs ?? 60_000;

  // --- one clock: the world's (async activities) drives the emulators' (load model, Flink timers) ---
  const emuClock = new EmulatorClock({ tickMs, ...(scenario.startEpochMs !== undefined ? { startEpochMs: scenario.startEpochMs } : {}) });
  const world = new VirtualClock(emuClock.now());
  const t0 = emuClock.now();
  const advance = (t: number) =>
    world.advanceTo(t, (now) => {
      if (now > emuClock.now()) emuClock.advanceTo(now);
    });

  // --- emulators first (their URLs go into the config), then the config, then the stack from it ---
  const emus = new Map<string, Emulator>();
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const urlOf = async (name: string, version: EmulatorVersion, scheduler: 'default' | 'adaptive' | 'reactive', slots: number) => {
      const e = await startEmulator({ clock: emuClock, version, scheduler, seed: `simulation/${name}`, taskManagers: 0, slotsPerTaskManager: slots, savepointDir: `s3://flink-elastic-simulation/savepoints/${name}` });
      emus.set(name, e);
      cleanup.push(() => e.close());
      return e.url;
    };
    let config: Config;
    let shapes: Map<string, ScenarioJob>;
    const configDoc = withForecast(opts.config, opts.forecast);
    if (configDoc !== undefined) {
      const user = parseConfig(configDoc, opts.configSource ?? 'config');
      const urls: Record<string, string> = {};
      for (const j of user.jobs.filter((x) => x.enabled)) urls[j.name] = await urlOf(j.name, versionFor(j.flink.version), j.mode === 'savepoint' ? 'default' : j.mode, j.slotsPerTaskManager);
      config = localizeConfig(configDoc, (n) => urls[n], opts.configSource ?? 'config');
      shapes = new Map(config.jobs.map((j, i) => [j.name, scenario.jobs.find((s) => s.name === j.name) ?? { ...scenario.jobs[i % scenario.jobs.length], name: j.name }]));
    } else {
      const urls: Record<string, string> = {};
      for (const j of scenario.jobs) urls[j.name] = await urlOf(j.name, '1.19', 'default', j.slotsPerTaskManager);
      config = parseConfig(withForecast(scenarioConfigDoc(scenario.jobs, urls), opts.forecast), `scenario ${scenario.name}`);
      shapes = new Map(scenario.jobs.map((j) => [j.name, j]));
    }
    const stack = synthesizeCached(config);
    const stackName = config.deployment.stackName;
    const evaluator = new AlarmEvaluator(stack.alarms, 30 * MIN);
    let store: StateStore;
    if (fidelity === 'full') {
      const table = await startLocalTable();
      cleanup.push(() => table.stop());
      store = new DynamoStateStore({ tableName: table.tableName, client: table.client });
    } else store = new MemoryStateStore({ retainHistory: HISTORY_RETAINED });

    // --- the jobs, running in their emulators ---
    const jobs = new Map<string, JobWorld>();
    // aws-step-throughput's ThroughputPerKPU analogue is what a load test would give: the job's per-subtask capacity
    const policies = new Map<string, PolicyFn>();
    for (const jc of config.jobs) {
      const sim = simJob(jc, shapes.get(jc.name)!);
      policies.set(jc.name, policyFor(policyName, { throughputPerSubtask: sim.shape.perSubtaskCapacity })!);
      const emu = emus.get(jc.name)!;
      for (let i = 0; i < sim.initialTaskManagers; i++) emu.model.addTaskManager({ slots: jc.slotsPerTaskManager });
      const rate = sim.shape.rate;
      // The job as it runs on the user's cluster: its jar (id or name), entry class, program arguments and stream.
      const jar = jarOf(jc);
      const program = {
        entryClass: entryClassOf(jc),
        jobName: jc.flink.jobName ?? jc.name,
        stream: streamOf(jc),
        operatorCapacityPerSubtask: sim.shape.perSubtaskCapacity,
        maxParallelism: sim.shape.jobMaxParallelism,
        ...vertexNamesOf(jc),
      };
      const uploaded = emu.model.uploadJar(jar.name, Buffer.from(JSON.stringify(program)), { id: jar.id });
      emu.model.setInputRate(program.stream, (elapsed: number) => rate(elapsed));
      emu.model.runJar(uploaded.id, {
        parallelism: sim.scheduler === 'reactive' ? undefined : sim.initialParallelism,
        entryClass: program.entryClass,
        programArgs: jc.submit?.programArgs.length ? jc.submit.programArgs : undefined,
        flinkConfiguration: jc.submit?.flinkConfiguration,
      });
      const t = jc.target;
      const target = new SimulatedCapacityTarget(emu.model, {
        kind: t.kind,
        name: t.kind === 'asg' ? t.autoScalingGroupName : `${t.namespace}/${t.kind === 'eks-deployment' ? t.deploymentName : t.name}`,
        // instances boot in bootDelayMs; pods (EKS Deployment, FlinkDeployment) start in at most POD_START_MS
        bootDelayMs: t.kind === 'asg' ? bootDelayMs : Math.min(bootDelayMs, POD_START_MS),
        slotsPerTaskManager: jc.slotsPerTaskManager,
        bounds: { minTaskManagers: jc.bounds.minTaskManagers, maxTaskManagers: jc.bounds.maxTaskManagers },
      });
      jobs.set(jc.name, {
        sim,
        emu,
        target,
        rate,
        run: { job: jc.name, maxBacklogSeconds: jc.policy.maxBacklogSeconds, series: compactSeries(), decisions: [], alarms: [], rescales: [] },
        slo: 0,
        tmMs: 0,
        maxLag: 0,
        maxBacklogSec: 0,
        lastParallelism: sim.initialParallelism,
        workflowState: 'idle',
        decisions: 0,
      });
    }

    // --- clients: the collector and scaler never wait on the clock (no retries); workflow steps retry on it ---
    const clientFor = (job: JobConfig, retries: number) =>
      new FlinkRestClient({
        baseUrl: job.flink.url,
        timeoutMs: 30_000,
        retries,
        retryDelayMs: 250,
        version: job.flink.version,
        sleep: (ms) => world.sleep(ms),
        ...(fidelity === 'fast' ? { transport: emus.get(job.name)!.server.exchange } : {}),
      });
    const collectorClients = new Map(config.jobs.map((j) => [j.name, clientFor(j, 0)]));
    const workflowClients = new Map(config.jobs.map((j) => [j.name, clientFor(j, 3)]));

    const stats = { stateTransitions: 0, scalerInvocations: 0, collectorInvocations: 0, workflowStepInvocations: 0, notifications: 0, invariantChecks: 0 };
    const notifications: { subject: string; message: string }[] = [];

    // SNS: the real client, answered locally (nothing leaves the process)
    const sns = new SNSClient({ region: REGION, credentials: { accessKeyId: 'simulator', secretAccessKey: 'simulator' } });
    sns.middlewareStack.add(
      () => async (args: any) => {
        notifications.push({ subject: args.input?.Subject ?? '', message: args.input?.Message ?? '' });
        stats.notifications++;
        return { output: { MessageId: `sim-${notifications.length}`, $metadata: {} }, response: {} } as any;
      },
      { step: 'initialize', name: 'simulatedSns' },
    );

    // --- the workflow: the synthesized state machine, tasks → the real step handler ---
    const workflowDeps: WorkflowDeps = {
      config,
      store,
      flink: (job) => workflowClients.get(job.name)!,
      target: (job) => jobs.get(job.name)!.target,
      sns,
      topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${stackName}-notifications`,
      now: () => world.now(),
      sleep: (ms) => world.sleep(ms),
      log: silentLogger,
    };
    const stepHandler = makeWorkflowHandler(() => workflowDeps);
    // validated once per definition (aws-local-stepfunctions checks it); every execution runs on this instance
    const sm = machineFor(stack.virtualAsl);
    const executions = new Map<string, ExecutionRecord>();
    /** Aborts of executions still running (the end of the run stops them; they stay "RUNNING" in the results). */
    const aborts = new Map<string, () => void>();
    let finished = false;
    /** Executions holding a job's rescale lock: job → execution names. */
    const holding = new Map<string, Set<string>>();

    const startExecution = (name: string, input: RescaleInput) => {
      const arn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${stack.stateMachineName}:${name}`;
      if (executions.has(name)) return { executionArn: arn, alreadyExisted: true };
      const jw = jobs.get(input.job)!;
      const rec: ExecutionRecord = { job: input.job, name, start: world.now() - t0, from: jw.lastParallelism, to: requestedParallelism(input) ?? jw.lastParallelism, status: 'RUNNING', outcome: 'running', states: 0, invocations: 0 };
      executions.set(name, rec);
      const handlers: Record<string, (i: any) => Promise<any>> = {};
      for (const [stateName, s] of Object.entries<any>(stack.virtualAsl.States)) {
        if (s.Type !== 'Task') continue;
        if (s.Resource === VIRTUAL_WAIT_ARN) {
          handlers[stateName] = async (i: { seconds: number }) => {
            await world.sleep(i.seconds * 1000);
            return {};
          };
          continue;
        }
        handlers[stateName] = async (event: StepEvent) => {
          rec.invocations++;
          stats.workflowStepInvocations++;
          const out: any = await stepHandler(event);
          if (event.step === 'validate' && out?.from) rec.from = out.from.parallelism;
          if (event.step === 'lock') {
            const set = holding.get(input.job) ?? new Set<string>();
            set.add(name);
            holding.set(input.job, set);
            if (set.size > 1) throw new InvariantViolation(`${input.job}: executions ${[...set].join(', ')} hold the rescale lock at once`);
          }
          if (event.step === 'unlock') holding.get(input.job)?.delete(name);
          if (event.step === 'record' && out?.outcome) rec.outcome = out.outcome;
          if (event.step === 'notify' && out?.outcome) {
            rec.outcome = out.outcome;
            rec.subject = out.subject;
            const err = (event.state as { error?: { Error?: string; Cause?: string } } | undefined)?.error;
            if (err) rec.error = causeMessage(err);
          }
          return out;
        };
      }
      void world.track(async () => {
        const run = sm.run(input as any, {
          overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((n) => [n, 0])) },
          context: { Execution: { Id: arn, Name: name, StartTime: new Date(world.now()).toISOString() } } as any,
        });
        aborts.set(name, () => run.abort());
        const collect = (async () => {
          for await (const ev of run.eventLogs) {
            if (ev.type === 'StateEntered') {
              rec.states++;
              stats.stateTransitions++;
              jw.workflowState = ev.state.name;
            }
          }
        })();
        try {
          await run.result;
          rec.status = 'SUCCEEDED';
        } catch (e) {
          if (finished) return; // stopped at the end of the simulation, still running
          rec.status = 'FAILED';
          if (rec.outcome === 'running') rec.outcome = 'failed';
          rec.error ??= (e as Error).message || String(e);
        } finally {
          aborts.delete(name);
        }
        await collect.catch(() => undefined);
        rec.end = world.now() - t0;
        jw.workflowState = 'idle';
        // a failed Unlock would leave the lock held: then the invariant keeps watching it
        const stillHeld = rec.status === 'FAILED' && (await store.getLock(input.job).then((l) => l?.owner === arn, () => false));
        if (!stillHeld) holding.get(input.job)?.delete(name);
      }).catch(() => undefined);
      return { executionArn: arn, alreadyExisted: false };
    };

    // --- the scaler, wired to the local world ---
    const metrics = evaluatorMetricReader(evaluator);
    const alarmNamesOf = new Map(config.jobs.map((j) => [j.name, alarmSpecs(stackName, j).map((a) => a.alarmName)]));
    const scalerDeps: ScalerDeps = {
      config,
      now: () => world.now(),
      flink: async (job) => collectorClients.get(job.name)!,
      metrics,
      store,
      target: (job) => jobs.get(job.name)!.target,
      decide: (snapshot, job, state) => policies.get(job.name)!(parseSnapshot(snapshot), job, state === undefined || state === null ? undefined : parsePolicyState(state)),
      startExecution: async (name, input) => startExecution(name, input),
      notify: async (subject, message) => {
        notifications.push({ subject, message });
        stats.notifications++;
      },
      publishDecision: () => {},
      log: silentLogger,
      alarmStates: async (job) => {
        const all = evaluator.allStates();
        return Object.fromEntries((alarmNamesOf.get(job.name) ?? []).filter((n) => n in all).map((n) => [n, all[n]]));
      },
    };
    const invokeScaler = async (event: unknown, jobName: string, trigger: string) => {
      stats.scalerInvocations++;
      let r: ScalerResult;
      try {
        r = await handleScalerEvent(event, scalerDeps);
      } catch (e) {
        r = { job: jobName, trigger, outcome: 'failed', reason: (e as Error).message };
      }
      // let a started execution run until it waits on the clock, so the next invocation sees its lock
      await world.settle();
      const jw = jobs.get(jobName);
      if (!jw || r.outcome === 'ignored') return;
      jw.decisions++;
      const d = r.decision;
      const mark: DecisionMark = {
        t: world.now() - t0,
        action: r.outcome === 'no-change' || !d ? 'none' : d.action === 'none' ? 'none' : `${d.action}${d.action === 'rescale' && d.direction ? ` ${d.direction}` : ''}${r.outcome === 'skipped' || r.outcome === 'failed' ? ` (${r.outcome})` : ''}`,
        reason: `${r.outcome}: ${r.reason}`,
        trigger,
        ...(d && d.action !== 'none' ? { targetParallelism: d.targetParallelism, targetTaskManagers: d.targetTaskManagers } : {}),
      };
      jw.run.decisions.push(mark);
    };

    // --- invariants, checked at every tick ---
    const check = (jw: JobWorld) => {
      stats.invariantChecks++;
      const jc = jw.sim.config;
      const model = jw.emu.model;
      const flinkName = jc.flink.jobName ?? jc.name;
      const mine = model.jobs.filter((j) => j.name === flinkName);
      const live = mine.filter((j) => !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state));
      if (live.length > 1) throw new InvariantViolation(`${jc.name}: ${live.length} Flink jobs named "${flinkName}" run at once (${live.map((j) => `${j.id} ${j.state}`).join(', ')}): one rescale per job at a time`);
      const newest = mine[mine.length - 1];
      const produced = model.stream(newest.stream).produced;
      const backlog = produced - newest.app.offset;
      const processed = newest.app.count;
      if (Math.abs(produced - (processed + backlog)) > 1e-6 * Math.max(1, produced) || backlog < -1e-6) {
        throw new InvariantViolation(`${jc.name}: records lost: produced ${produced.toFixed(1)} ≠ processed ${processed.toFixed(1)} + backlog ${backlog.toFixed(1)}`);
      }
      const slots = model.taskManagers.reduce((a, tm) => a + tm.slots.length, 0);
      if (newest.state === 'RUNNING') {
        const p = Math.max(...newest.vertices.map((v) => v.parallelism));
        if (p > slots) throw new InvariantViolation(`${jc.name}: parallelism ${p} > ${slots} slots`);
      }
      const tms = model.taskManagers.length;
      if (tms > jc.bounds.maxTaskManagers || tms < Math.min(jc.bounds.minTaskManagers, jw.sim.initialTaskManagers)) {
        throw new InvariantViolation(`${jc.name}: ${tms} TaskManagers, outside the bounds ${jc.bounds.minTaskManagers}..${jc.bounds.maxTaskManagers}`);
      }
      if ((holding.get(jc.name)?.size ?? 0) > 1) throw new InvariantViolation(`${jc.name}: more than one rescale at a time`);
    };

    const sample = async (jw: JobWorld, t: number, dt: number): Promise<SeriesPoint> => {
      const jc = jw.sim.config;
      const model = jw.emu.model;
      const flinkName = jc.flink.jobName ?? jc.name;
      const mine = model.jobs.filter((j) => j.name === flinkName);
      const newest = mine[mine.length - 1];
      const inputRate = jw.rate(t);
      const backlog = Math.max(0, model.stream(newest.stream).produced - newest.app.offset);
      const running = newest.state === 'RUNNING' && !model.isStuck(newest);
      const p = Math.max(...newest.vertices.map((v) => v.parallelism));
      if (newest.state === 'RUNNING') jw.lastParallelism = p;
      const capacity = running ? Math.min(...newest.vertices.map((v) => v.parallelism * v.capacityPerSubtask)) : 0;
      const backlogSeconds = backlog < 0.5 ? 0 : inputRate > 0 ? backlog / inputRate : Infinity;
      const tms = model.taskManagers.length;
      const members = jw.target.liveCount();
      const cpu = tms > 0 ? (model.taskManagers.reduce((a, tm) => a + model.cpuLoad(tm.id), 0) / tms) * 100 : 0;
      if (backlogSeconds > jc.policy.maxBacklogSeconds) jw.slo += dt / 1000;
      jw.tmMs += members * dt;
      jw.maxLag = Math.max(jw.maxLag, backlog);
      if (Number.isFinite(backlogSeconds)) jw.maxBacklogSec = Math.max(jw.maxBacklogSec, backlogSeconds);
      return { t, inputRate, capacity, lagRecords: backlog, backlogSeconds: Number.isFinite(backlogSeconds) ? backlogSeconds : jc.policy.maxBacklogSeconds * 10, parallelism: jw.lastParallelism, taskManagers: tms, cpuPercent: cpu };
    };

    const collect = async (jw: JobWorld, now: number) => {
      const jc = jw.sim.config;
      stats.collectorInvocations++;
      const r = await collectJob(collectorClients.get(jc.name)!, jc, { jvmCpu: jvmCpuPercent });
      const ns = metricsNamespace(stackName);
      for (const [k, v] of Object.entries(r.metrics)) evaluator.put(ns, COLLECTOR_METRICS[k as keyof typeof COLLECTOR_METRICS], { [JOB_DIMENSION]: jc.name }, now, v as number);
      // The metrics AWS would publish for the job's own lag and CPU sources (MSK, Kinesis, a custom metric, EC2 or
      // Container Insights CPU), from the same world: the alarms and the scaler read them where the config says.
      const last = jw.run.series[jw.run.series.length - 1];
      const lag = lagMetric(stackName, jc);
      if (lag && lag.namespace !== ns && last) evaluator.put(lag.namespace, lag.metricName, lag.dimensions, now, sourceLag(jc, lag.unit, last));
      const cpu = cpuMetric(stackName, jc);
      if (cpu.namespace !== ns && last?.cpuPercent !== undefined) evaluator.put(cpu.namespace, cpu.metricName, cpu.dimensions, now, last.cpuPercent);
    };

    const deliver = async (tr: AlarmTransition) => {
      const ref = [...alarmNamesOf.entries()].find(([, names]) => names.includes(tr.alarmName));
      if (!ref) return;
      const jw = jobs.get(ref[0])!;
      jw.run.alarms.push({ t: tr.time - t0, alarmName: tr.alarmName, from: tr.from, to: tr.to } satisfies AlarmMark);
      const event = alarmChangeEvent(tr, { account: ACCOUNT, region: REGION });
      // EventBridge delivers what one of the stack's rules matches (state changes INTO ALARM, our alarms only)
      if (!stack.alarmRules.some((r) => matchesPattern(r.pattern, event))) return;
      await invokeScaler(event, ref[0], `alarm ${tr.alarmName.slice(stackName.length + 1)} → ${tr.to}`);
    };

    // --- the main loop ---
    const collectEvery = config.deployment.collectorIntervalMinutes * MIN;
    const progressEvery = opts.progressEveryMs ?? MIN;
    const progress = (t: number) =>
      opts.onProgress?.({
        t,
        durationMs,
        jobs: [...jobs.values()].map((jw) => {
          const last = jw.run.series[jw.run.series.length - 1];
          return { job: jw.run.job, inputRate: last?.inputRate ?? 0, lagRecords: last?.lagRecords ?? 0, backlogSeconds: last?.backlogSeconds ?? 0, parallelism: jw.lastParallelism, taskManagers: last?.taskManagers ?? 0, workflow: jw.workflowState };
        }),
      });
    const loopStart = performance.now();
    for (let t = 0; t <= durationMs; t += tickMs) {
      await advance(t0 + t);
      const now = t0 + t;
      opts.onTick?.(t, [...jobs.values()].map((jw) => ({ job: jw.run.job, emulator: jw.emu, target: jw.target })));
      for (const jw of jobs.values()) {
        check(jw);
        jw.run.series.push(await sample(jw, t, t === 0 ? 0 : tickMs));
      }
      if (t % collectEvery === 0) for (const jw of jobs.values()) await collect(jw, now);
      for (const tr of evaluator.evaluate(now)) await deliver(tr);
      if (t % MIN === 0 && t > 0) {
        for (const jw of jobs.values()) {
          const time = new Date(now).toISOString();
          await invokeScaler({ source: 'reevaluate', job: jw.run.job, time, requireAlarm: wake === 'while-alarm' }, jw.run.job, 're-evaluation');
        }
      }
      if (t % progressEvery === 0) progress(t);
    }

    // executions still running at the end are stopped where they wait (on the clock); let none be mid-step
    await world.settle();
    finished = true;
    for (const abort of aborts.values()) abort();

    // --- results ---
    const execs = [...executions.values()];
    const summaries: JobSummary[] = [];
    for (const jw of jobs.values()) {
      const mine = execs.filter((e) => e.job === jw.run.job);
      jw.run.rescales = mine.map(
        (e) => ({ start: e.start, end: e.end, from: e.from, to: e.to, outcome: e.status === 'RUNNING' ? 'in progress' : e.outcome, ...(e.error ? { reason: e.error } : {}) }) satisfies RescaleMark,
      );
      const failures: FailedRescale[] = mine
        .filter((e) => e.status !== 'RUNNING' && isFailedRescale(e))
        .map((e) => ({ job: e.job, execution: e.name, start: e.start, from: e.from, to: e.to, outcome: e.outcome, reason: e.error ?? e.subject ?? e.outcome }));
      const changed = mine.filter((e) => e.outcome.startsWith('succeeded') || e.outcome === 'rescaled-cleanup-failed');
      const steps = (jw.sim.shape.steps ?? []).filter((s) => s < durationMs);
      const stepsToConverge = steps.map((s, i) => changed.filter((e) => e.start >= s && e.start < (steps[i + 1] ?? Infinity)).length);
      const model = jw.emu.model;
      const flinkName = jw.sim.config.flink.jobName ?? jw.run.job;
      const newest = model.jobs.filter((j) => j.name === flinkName).pop()!;
      const produced = model.stream(newest.stream).produced;
      summaries.push({
        job: jw.run.job,
        maxBacklogSeconds: jw.sim.config.policy.maxBacklogSeconds,
        sloViolationSeconds: Math.round(jw.slo),
        taskManagerHours: Math.round((jw.tmMs / 3_600_000) * 100) / 100,
        rescales: changed.length,
        failedRescales: failures.length,
        failures,
        stepsToConverge,
        maxLagRecords: Math.round(jw.maxLag),
        maxBacklogSecondsSeen: Math.round(jw.maxBacklogSec * 10) / 10,
        decisions: jw.decisions,
        finalParallelism: jw.lastParallelism,
        finalTaskManagers: model.taskManagers.length,
        produced: Math.round(produced),
        processed: Math.round(newest.app.count),
        backlog: Math.round(produced - newest.app.offset),
      });
    }
    const wallEnd = performance.now();
    const wallMs = wallEnd - wallStart;
    const loopMs = wallEnd - loopStart;
    const sum = (f: (j: JobSummary) => number) => summaries.reduce((a, j) => a + f(j), 0);
    return {
      scenario: scenario.name,
      description: scenario.description,
      policy: policyName,
      wake,
      seed,
      durationMs,
      config,
      jobs: summaries,
      runs: [...jobs.values()].map((jw) => jw.run),
      executions: execs,
      totals: {
        sloViolationSeconds: sum((j) => j.sloViolationSeconds),
        taskManagerHours: Math.round(sum((j) => j.taskManagerHours) * 100) / 100,
        rescales: sum((j) => j.rescales),
        maxLagRecords: Math.max(...summaries.map((j) => j.maxLagRecords)),
        stateTransitions: stats.stateTransitions,
        lambdaInvocations: stats.scalerInvocations + stats.collectorInvocations + stats.workflowStepInvocations,
        scalerInvocations: stats.scalerInvocations,
        collectorInvocations: stats.collectorInvocations,
        workflowStepInvocations: stats.workflowStepInvocations,
        notifications: stats.notifications,
        invariantChecks: stats.invariantChecks,
      },
      fidelity,
      wall: {
        ms: Math.round(wallMs),
        simulatedSecondsPerWallSecond: Math.round(durationMs / Math.max(1, wallMs)),
        setupMs: Math.round(loopStart - wallStart),
        loopMs: Math.round(loopMs),
        loopSimulatedSecondsPerWallSecond: Math.round(durationMs / Math.max(1, loopMs)),
      },
    };
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  }
}

export type { SynthesizedStack };
