/**
 * One job of each mode behind the workflow harness, and the faults the workflow suites inject around it (shared by
 * workflow/rescale-workflow.test.ts, workflow/store-throttle.test.ts and workflow/fault-matrix.test.ts):
 *
 *   const w = await startWorld({ dynamo, sns, mode: 'adaptive', taskManagers: 2, parallelism: 2 });
 *   const r = await w.h.run({ job: w.name, parallelism: 4 }, 'exec', deliveredTwice());
 *
 * The Flink emulator over loopback (its own fault injection: `emu.model.faults`), the simulated capacity target
 * (TaskManagers boot in 30 virtual s), the state store on dynalite. Nothing here mocks a part.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { JobConfigInput } from '../../functions/core/config';
import type { StateStore } from '../../functions/adapters/state/types';
import { EmulatorServer, startEmulator, SimulatedCapacityTarget, type Emulator, type SimulatedCapacityOptions } from '../../local/emulator';
import type { LocalDynamo } from './dynalite';
import { WorkflowHarness, type StateWrapper } from './workflow-harness';

export type Mode = 'savepoint' | 'adaptive' | 'reactive';

/** A job's config as the workflow suites use it: 2 slots per TaskManager, parallelism 1..16, 1..8 TaskManagers. */
export function workflowJobConfig(name: string, url: string, mode: Mode, extra: Partial<JobConfigInput> = {}, version = '1.19'): JobConfigInput {
  return {
    name,
    flink: { url, version, jobName: name },
    mode,
    ...(mode === 'savepoint'
      ? { submit: { jarPath: `s3://artifacts/${name}.jar` }, savepoint: { directory: `s3://state/savepoints/${name}`, timeoutSeconds: 300 } }
      : {}),
    target: { kind: 'asg', autoScalingGroupName: `${name}-tms` },
    slotsPerTaskManager: 2,
    bounds: { minParallelism: 1, maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
    drainTimeoutSeconds: 120,
    ...extra,
  } as JobConfigInput;
}

export interface WorldOptions {
  dynamo: LocalDynamo;
  sns: SNSClient;
  name?: string;
  mode?: Mode;
  taskManagers: number;
  /** Ignored in reactive mode (the job takes every slot). */
  parallelism?: number;
  slotAllocation?: 'pack' | 'spread';
  extra?: Partial<JobConfigInput>;
  version?: '1.14' | '1.19';
  /** The Flink client's per-request timeout (real ms). */
  flinkTimeoutMs?: number;
  /** Options of the simulated capacity target (default: TaskManagers boot in 30 virtual s). */
  capacity?: SimulatedCapacityOptions;
  /** Called with the emulator as soon as it listens (so the caller can close it whatever happens next). */
  onEmulator?: (emu: Emulator) => void;
}

export interface World {
  h: WorkflowHarness;
  sim: SimulatedCapacityTarget;
  /** The Flink job as it was started (RUNNING, first checkpoint completed). */
  job: { id: string };
  emu: Emulator;
  name: string;
  mode: Mode;
}

/** Starts the emulator with one job of the given mode, RUNNING and checkpointed, behind a workflow harness. */
export async function startWorld(o: WorldOptions): Promise<World> {
  const name = o.name ?? 'orders';
  const mode = o.mode ?? 'savepoint';
  const scheduler = mode === 'savepoint' ? 'default' : mode;
  const emu = await startEmulator({ version: o.version ?? '1.19', taskManagers: o.taskManagers, slotsPerTaskManager: 2, scheduler, slotAllocation: o.slotAllocation });
  o.onEmulator?.(emu);
  const sim = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000, ...o.capacity });
  const h = new WorkflowHarness({
    emulator: emu,
    dynamo: o.dynamo,
    target: sim,
    sns: o.sns,
    jobs: [workflowJobConfig(name, emu.url, mode, o.extra, o.version)],
    flinkTimeoutMs: o.flinkTimeoutMs,
  });
  const job = emu.model.startJob({ name, parallelism: mode === 'reactive' ? undefined : o.parallelism, inputRate: 1000 });
  await h.elapse(40_000); // deployed, RUNNING, first checkpoint completed
  if ((await h.flink.job(job.id)).state !== 'RUNNING') throw new Error(`job ${name} did not start`);
  return { h, sim, job, emu, name, mode };
}

/** Every Task state in `states` (default: every one) is delivered twice, as a Lambda retry after a lost answer does. */
export const deliveredTwice =
  (states?: ReadonlySet<string>): StateWrapper =>
  async (state, invoke, event) => {
    if (states && !states.has(state)) return invoke(event);
    await invoke(event);
    return invoke(event);
  };

/** Stops the execution (as StopExecution does: no Catch runs) when it is about to run `state`. */
export const abortAt =
  (state: string): StateWrapper =>
  (name, invoke, event, abort) => {
    if (name !== state) return invoke(event);
    abort();
    return new Promise(() => {});
  };

/**
 * The JobManager goes away (connection refused on its port) when the execution is about to run `atState` for the
 * first time, and comes back on the same port after `invocations` step invocations. Returns the wrapper and the
 * servers it started (the caller closes them).
 */
export function jobManagerDown(emu: Emulator, atState: string, invocations = 3): { wrap: StateWrapper; servers: EmulatorServer[]; wentDown: () => boolean } {
  const port = Number(new URL(emu.url).port);
  const servers: EmulatorServer[] = [];
  let down = false;
  let whileDown = 0;
  const wrap: StateWrapper = async (state, invoke, event) => {
    if (state === atState && !down && whileDown === 0) {
      down = true;
      await emu.server.close(); // connection refused on 127.0.0.1:<port>
    }
    if (down && ++whileDown === invocations) {
      const s = new EmulatorServer(emu.model, { port });
      await s.listen();
      servers.push(s);
      down = false;
    }
    return invoke(event);
  };
  return { wrap, servers, wentDown: () => whileDown > 0 };
}

/** What DynamoDB answers a throttled request (it did nothing). */
export const throttleError = () =>
  Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), {
    name: 'ProvisionedThroughputExceededException',
    $metadata: { httpStatusCode: 400 },
  });

/** Puts `fail(method, args)` in front of the harness's real store: when it returns true, the call is throttled (not applied). */
export function throttleStore(h: WorkflowHarness, fail: (method: string, args: unknown[]) => boolean): { count: Record<string, number> } {
  const real = h.deps.store;
  const count: Record<string, number> = {};
  h.deps.store = new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        if (fail(String(prop), args)) {
          count[String(prop)] = (count[String(prop)] ?? 0) + 1;
          throw throttleError();
        }
        return v.apply(target, args);
      };
    },
  }) as StateStore;
  return { count };
}

/** Every distinct store call is throttled `times` times before it goes through (bursts a step must ride out). */
export function throttleEveryStoreCall(h: WorkflowHarness, times = 2): { count: Record<string, number> } {
  const seen = new Map<string, number>();
  return throttleStore(h, (m, args) => {
    const key = `${m}:${JSON.stringify(args)}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n <= times;
  });
}
