/**
 * One Lambda runs every step of the rescale workflow; the state machine says which in the payload:
 *   {"step": "<name>", "state": <the state machine's state>, "execution": {"id": ..., "name": ...}}
 * Why one dispatching function rather than one per step: the steps share the same config, clients, secrets and
 * permissions; one function stays warm across a rescale (a per-step function would cold-start at almost every
 * step), and there is one bundle, one role and one log group to watch. Steps stay separate, testable functions.
 */
import type { WorkflowDeps } from './deps';
import { toStepError, WorkflowError } from './errors';
import { withStoreRetries } from './store-retry';
import { notifyStep, recordStep, unlockStep } from './finish';
import {
  cancelStep,
  checkDrainedStep,
  checkParallelismStep,
  checkRunningStep,
  checkSlotsStep,
  ensureCapacityStep,
  lockStep,
  pollSavepointStep,
  putRequirementsStep,
  recoverStep,
  releaseIdleStep,
  resubmitStep,
  savepointStep,
  shrinkCapacityStep,
} from './steps';
import type { ExecutionRef, WorkflowState } from './types';
import { validateStep } from './validate';
import { watchdogStep } from './watchdog';

type StepFn = (deps: WorkflowDeps, state: any, execution: ExecutionRef) => Promise<unknown>;

export const STEPS = {
  validate: (d, s, e) => validateStep(d, s, e),
  lock: (d, s) => lockStep(d, s),
  ensureCapacity: (d, s) => ensureCapacityStep(d, s),
  checkSlots: (d, s) => checkSlotsStep(d, s),
  savepoint: (d, s) => savepointStep(d, s),
  pollSavepoint: (d, s) => pollSavepointStep(d, s),
  cancel: (d, s) => cancelStep(d, s),
  resubmit: (d, s) => resubmitStep(d, s),
  checkRunning: (d, s) => checkRunningStep(d, s),
  putRequirements: (d, s) => putRequirementsStep(d, s),
  shrinkCapacity: (d, s) => shrinkCapacityStep(d, s),
  checkParallelism: (d, s) => checkParallelismStep(d, s),
  checkDrained: (d, s) => checkDrainedStep(d, s),
  releaseIdle: (d, s) => releaseIdleStep(d, s),
  recover: (d, s) => recoverStep(d, s),
  record: (d, s, e) => recordStep(d, s, e),
  unlock: (d, s, e) => unlockStep(d, s, e),
  notify: (d, s, e) => notifyStep(d, s, e),
  /** Not a state of the machine: EventBridge delivers its executions' ABORTED/TIMED_OUT/FAILED events here (watchdog.ts). */
  watchdog: (d, s) => watchdogStep(d, s),
} satisfies Record<string, StepFn>;

export type StepName = keyof typeof STEPS;
export const STEP_NAMES = Object.keys(STEPS) as StepName[];

export interface StepEvent {
  step: StepName;
  state: unknown;
  execution: ExecutionRef;
}

/** Builds the Lambda handler over injected dependencies (created once per container, lazily). */
export function makeWorkflowHandler(getDeps: () => WorkflowDeps | Promise<WorkflowDeps>) {
  let depsPromise: Promise<WorkflowDeps> | undefined;
  return async (event: StepEvent): Promise<unknown> => {
    const step = event?.step;
    if (typeof step !== 'string' || !(step in STEPS)) {
      throw new WorkflowError('InvalidInput', `step: must be one of ${STEP_NAMES.join(', ')} (got ${JSON.stringify(step)})`);
    }
    const execution: ExecutionRef = { id: String(event.execution?.id ?? ''), name: String(event.execution?.name ?? '') };
    if (!execution.id || !execution.name) throw new WorkflowError('InvalidInput', 'execution.id and execution.name are required (set by the state machine from $$.Execution)');
    // Store calls are retried on throttling inside the step (store-retry.ts), for every step and the watchdog.
    depsPromise ??= Promise.resolve(getDeps()).then((d) => ({
      ...d,
      store: withStoreRetries(d.store, (ms) => d.sleep(ms), (method, attempt, e) => d.log.warn(`state store ${method} throttled; retrying`, { attempt, error: e.message })),
    }));
    let deps: WorkflowDeps;
    try {
      deps = await depsPromise;
    } catch (e) {
      depsPromise = undefined;
      throw toStepError(e, 'setup');
    }
    const started = deps.now();
    const job = (event.state as Partial<WorkflowState> & { job?: string })?.plan?.job ?? (event.state as { job?: string })?.job;
    try {
      const result = await STEPS[step](deps, event.state, execution);
      deps.log.info(`step ${step} done`, { step, job, execution: execution.name, ms: deps.now() - started, result });
      return result;
    } catch (e) {
      const err = toStepError(e, step);
      deps.log.warn(`step ${step} failed`, { step, job, execution: execution.name, error: err.name, message: err.message });
      throw err;
    }
  };
}
