/**
 * Step `watchdog`: handles rescale executions that end without reaching their own Catch path: ABORTED (stopped in
 * the console / StopExecution), TIMED_OUT (the state machine's TimeoutSeconds), or FAILED outside a Catch.
 * EventBridge delivers "Step Functions Execution Status Change" events of this state machine to the watchdog Lambda
 * (lib/constructs/rescale-workflow.ts: the step function's code and role, 300 s timeout) as
 * {"step": "watchdog", "state": <event detail>, "execution": {...}}.
 *
 * What it does, once per execution:
 *  1. Validates the event; ignores other state machines and other statuses. Then waits in place until
 *     IN_FLIGHT_GRACE_SECONDS (the step timeout + 30 s) after the stop (the event's stopDate, or its arrival): stopping
 *     an execution does not stop a step Lambda it already invoked, which may still take the lock, cancel or submit.
 *     Only then looks at the lock: executions that hold none are ignored (they unlocked themselves, never locked, or
 *     the lock moved on).
 *  2. Rebuilds the execution's state from what it recorded under the lock (the plan is stored with the lock by the
 *     Lock step; savepoint trigger id / path, previous resource requirements and capacity are recorded as it goes).
 *  3. Looks at reality through the same recovery as the workflow's Abort/Rollback (`recoverStep`): original job still
 *     running → undo capacity/requirements, job untouched; after the cancel with no job running → resubmit from the
 *     recorded savepoint at the old parallelism; the rescaled job already healthy → keep it; a stop-with-savepoint
 *     still pending → wait for it. A recovery that cannot conclude yet (Flink not answering, the stop still pending)
 *     is retried within the invocation, then by Lambda (the delivery fails Transient); the third delivery, counted
 *     under the lock, concludes.
 *  4. Records history, notifies (the same `notify#<execution>` claim as the workflow's Notify: one message per
 *     execution, whoever sends it), then releases the lock — except when the job needs a person (NEEDS_PERSON): then
 *     the notification says ACTION REQUIRED and what to do, and the lock is kept (marked) until it expires so no
 *     automatic rescale touches the job meanwhile.
 * Duplicate deliveries: a lease (claimOnce, ending with the invocation) keeps two deliveries from recovering at the
 * same time; the other one waits for it in place and then finds the lock released (or marked) and does nothing.
 */
import * as z from 'zod';
import { INLINE_POLL_SECONDS, STEP_TIMEOUT_SECONDS, UNLOCK_FAILED_ERROR, WATCHDOG_TIMEOUT_SECONDS } from '../core/rescale-timing';
import type { LockInfo } from '../adapters/state/types';
import type { WorkflowDeps } from './deps';
import { InvalidInputError, isRetryable, PreconditionError, toStepError, TransientError } from './errors';
import { ACTION_REQUIRED, holdLock, NEEDS_PERSON, notifyOnce, notifyStep, recordStep, type Outcome } from './finish';
import { capacityFromProgress, isTerminal, jobConfig, KEPT_PROGRESS_KEY, PLAN_PROGRESS_KEY, previousRequirementsFromProgress, recoverStep, runningAtPlan } from './steps';
import type { ExecutionRef, Plan, WorkflowState } from './types';

export const WATCHED_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const;
export type WatchedStatus = (typeof WATCHED_STATUSES)[number];
/** The Fail state the workflow's own failure path ends in (after its recovery, record, unlock and notify). */
export const HANDLED_FAILURE_ERROR = 'RescaleFailed';
/** Lock progress key the watchdog sets when it keeps the lock (the job needs a person). */
export const WATCHDOG_PROGRESS_KEY = 'watchdog';
/**
 * StopExecution (and an execution timeout) does not stop a step Lambda already running: it may still cancel,
 * submit or change capacity for up to its timeout after the stop. The watchdog acts only after that.
 */
export const IN_FLIGHT_GRACE_SECONDS = STEP_TIMEOUT_SECONDS + 30;
/** Lambda runs an asynchronous invocation at most this often (the first try and 2 retries). */
const DELIVERY_ATTEMPTS = 3;
/** Lock progress key counting the watchdog's deliveries (counted as each starts its recovery; the third concludes). */
export const WATCHDOG_ATTEMPTS_KEY = 'watchdogAttempts';
/** What a delivery keeps of its invocation for record and notify after the recovery attempts. */
const WATCHDOG_FINISH_SECONDS = 30;

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;

/** The `detail` of an EventBridge "Step Functions Execution Status Change" event (fields the watchdog uses). */
export const ExecutionStatusChangeSchema = z.looseObject(
  {
    executionArn: z.string({ error: 'must be a Step Functions execution ARN' }).regex(EXECUTION_ARN, { error: 'must be a Step Functions execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)' }),
    stateMachineArn: z
      .string({ error: 'must be a Step Functions state machine ARN' })
      .regex(STATE_MACHINE_ARN, { error: 'must be a Step Functions state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)' }),
    name: z.string({ error: 'must be the execution name' }).min(1, { error: 'must be the execution name (1 to 80 characters)' }).max(80, { error: 'must be the execution name (1 to 80 characters)' }),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'], {
      error: 'must be one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE',
    }),
    input: z.string({ error: 'must be the execution input as a JSON string, or null' }).nullish(),
    error: z.string({ error: 'must be a string or null' }).nullish(),
    cause: z.string({ error: 'must be a string or null' }).nullish(),
    stopDate: z.number({ error: 'must be epoch milliseconds or null' }).nullish(),
  },
  { error: 'must be the detail of a "Step Functions Execution Status Change" event (an object)' },
);
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChangeSchema>;

/** Parses the event detail; throws InvalidInputError naming each bad field (nothing is changed). */
export function parseExecutionStatusChange(detail: unknown): ExecutionStatusChange {
  const r = ExecutionStatusChangeSchema.safeParse(detail);
  if (r.success) {
    if (!r.data.executionArn.includes(`:execution:${r.data.stateMachineArn.split(':stateMachine:')[1]}:`)) {
      throw new InvalidInputError([{ field: 'detail.executionArn', message: `must be an execution of detail.stateMachineArn (${r.data.stateMachineArn})` }]);
    }
    return r.data;
  }
  throw new InvalidInputError(r.error.issues.map((i) => ({ field: ['detail', ...i.path].join('.'), message: i.message })));
}

export type WatchdogAction = 'ignored' | 'released' | 'recovered' | 'action-required';

export interface WatchdogResult {
  action: WatchdogAction;
  /** One line: why (ignored) or what was done. */
  reason: string;
  job?: string;
  outcome?: Outcome;
  savepointPath?: string;
  at: number;
}

const ignored = (deps: WorkflowDeps, reason: string, job?: string): WatchdogResult => ({ action: 'ignored', reason, job, at: deps.now() });

/** The job whose lock this execution holds (the input names it; without a usable input, every configured job is checked). */
async function lockedJob(deps: WorkflowDeps, ev: ExecutionStatusChange): Promise<{ job: string; lock: LockInfo } | undefined> {
  let named: string | undefined;
  try {
    const input = ev.input ? (JSON.parse(ev.input) as { job?: unknown }) : undefined;
    if (typeof input?.job === 'string') named = input.job;
  } catch {
    /* not JSON (or truncated): look at every job */
  }
  const names = named && deps.config.jobs.some((j) => j.name === named) ? [named] : deps.config.jobs.map((j) => j.name);
  for (const job of names) {
    const lock = await deps.store.getLock(job);
    if (lock?.owner === ev.executionArn) return { job, lock };
  }
  return undefined;
}

function parseJson<T>(value: unknown): T | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}

/** The plan the Lock step stored with the lock, if it is this execution's. */
function recordedPlan(lock: LockInfo, ev: ExecutionStatusChange): Plan | undefined {
  const plan = parseJson<Plan>(lock.progress[PLAN_PROGRESS_KEY]);
  if (!plan || plan.owner !== ev.executionArn || plan.job !== lock.job || typeof plan.from?.jobId !== 'string' || typeof plan.from?.parallelism !== 'number') return undefined;
  return plan;
}

/** The execution's state as far as it recorded it under the lock (what Abort/Rollback would have had). */
export function stateFromLock(plan: Plan, lock: LockInfo, ev: ExecutionStatusChange, now: number): WorkflowState {
  const p = lock.progress;
  const state: WorkflowState = { plan, lock: { acquired: true, at: lock.acquiredAt, token: lock.token } };
  if (typeof p.savepointTriggerId === 'string') state.savepoint = { triggerId: p.savepointTriggerId, at: lock.acquiredAt, stop: plan.stopWithSavepoint };
  if (typeof p.savepointPath === 'string') state.savepointStatus = { done: true, location: p.savepointPath, attempts: 1, since: lock.acquiredAt, at: lock.acquiredAt, detail: 'recorded under the lock' };
  const previous = previousRequirementsFromProgress(p);
  if (previous) state.requirements = { at: lock.acquiredAt, previous };
  const capacity = capacityFromProgress(p, lock.acquiredAt);
  if (capacity) state.capacity = capacity;
  const why = [ev.error, ev.cause].filter(Boolean).join(': ');
  state.error = {
    Error: `Execution${ev.status === 'TIMED_OUT' ? 'TimedOut' : ev.status === 'ABORTED' ? 'Aborted' : 'Failed'}`,
    Cause: `execution ${ev.name} ended ${ev.status}${why ? ` (${why})` : ''} without running its own recovery; the watchdog took over`,
  };
  state.ended = { status: ev.status as WatchedStatus, at: ev.stopDate ?? now };
  return state;
}

/** The rescale had already happened (the execution ended while draining, releasing or recording): the job runs at the plan. */
async function alreadyRescaled(deps: WorkflowDeps, state: WorkflowState): Promise<boolean> {
  const { plan } = state;
  const flink = await deps.flink(jobConfig(deps, plan.job));
  const jobId = plan.mode === 'savepoint' ? plan.newJobId : plan.from.jobId;
  const jobs = await flink.jobs();
  const j = jobs.find((x) => x.id === jobId);
  if (!j || isTerminal(j.state)) return false;
  const d = await flink.job(jobId);
  if (!runningAtPlan(d, plan, true).ok) return false;
  if (plan.mode === 'savepoint') {
    const cp = await flink.checkpoints(jobId);
    if (cp.enabled && cp.completed < 1) return false;
    state.resubmit = { jobId, parallelism: plan.to.parallelism, savepointPath: state.savepointStatus?.location ?? '', at: deps.now() };
    state.running = { done: true, jobId, attempts: 1, since: deps.now(), at: deps.now(), detail: 'running at the planned parallelism (seen by the watchdog)' };
  } else {
    state.inPlace = { done: true, attempts: 1, since: deps.now(), at: deps.now(), detail: 'running at the planned parallelism (seen by the watchdog)' };
  }
  return true;
}

/**
 * recoverStep, retried while it fails in a way that may clear (Flink unreachable, a stop still pending) and this
 * invocation has time left (the workflow's Retry does this for Abort/Rollback).
 */
async function recoverWithRetries(deps: WorkflowDeps, state: WorkflowState, deadline: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      state.recovery = await recoverStep(deps, state);
      return;
    } catch (e) {
      const err = toStepError(e, 'watchdog recovery');
      const retryable = err instanceof TransientError || isRetryable(e);
      const pause = Math.min(2000 * attempt, 10_000);
      // (one more attempt takes up to an inline poll)
      if (retryable && deps.now() + pause + INLINE_POLL_SECONDS * 1000 < deadline) {
        await deps.sleep(pause);
        continue;
      }
      state.recoveryError = { Error: err.name, Cause: err.message, retryable };
      return;
    }
  }
}

export async function watchdogStep(deps: WorkflowDeps, detail: unknown): Promise<WatchdogResult> {
  const ev = parseExecutionStatusChange(detail);
  if (!deps.stateMachineArn) throw new PreconditionError('the watchdog needs the rescale state machine ARN (STATE_MACHINE_ARN is not set)');
  if (ev.stateMachineArn !== deps.stateMachineArn) return ignored(deps, `event for another state machine (${ev.stateMachineArn})`);
  if (!(WATCHED_STATUSES as readonly string[]).includes(ev.status)) return ignored(deps, `status ${ev.status} needs no watchdog`);
  const ref: ExecutionRef = { id: ev.executionArn, name: ev.name };

  if (ev.status === 'FAILED' && (ev.error === HANDLED_FAILURE_ERROR || ev.error === UNLOCK_FAILED_ERROR)) {
    // The workflow's own path ran to its end (rescaled, or recovered; recorded and notified) and ended in a Fail
    // state; only its Unlock did not succeed. Releasing is what that path meant to do. (No step is in flight: the
    // execution ended in its own Fail state.)
    const held = await lockedJob(deps, ev);
    if (!held) return ignored(deps, `execution ${ev.name} holds no job's lock (it unlocked itself, never locked, or the lock moved on)`);
    if (held.lock.progress[KEPT_PROGRESS_KEY]) return ignored(deps, `the workflow kept the lock on purpose (${held.lock.progress[KEPT_PROGRESS_KEY]}); it expires by itself`, held.job);
    const r = await deps.store.releaseLock(held.job, ev.executionArn);
    const what = ev.error === UNLOCK_FAILED_ERROR ? 'the rescale completed and was notified' : 'the workflow had recovered and notified itself';
    return { action: r.released ? 'released' : 'ignored', reason: `${what}; released the lock its failed Unlock left behind`, job: held.job, at: deps.now() };
  }

  // A step invocation of the stopped execution may still be running (even its Lock step, so the lock is looked at
  // only afterwards): wait until it must have ended. The watchdog function's own timeout leaves room for this wait
  // and the recovery after it (WATCHDOG_TIMEOUT_SECONDS).
  const startedAt = deps.now();
  const stoppedAt = ev.stopDate ?? startedAt;
  const remaining = stoppedAt + IN_FLIGHT_GRACE_SECONDS * 1000 - deps.now();
  if (remaining > 0) await deps.sleep(remaining);

  const seen = await lockedJob(deps, ev);
  if (!seen) return ignored(deps, `execution ${ev.name} holds no job's lock (it unlocked itself, never locked, or the lock moved on)`);
  const { job } = seen;

  // One delivery at a time. Another one (EventBridge delivers at least once) waits here while it can: it usually
  // finds the lock released or marked handled, and does nothing.
  const lease = `watchdog#${ev.name}`;
  const deadline = startedAt + (WATCHDOG_TIMEOUT_SECONDS - WATCHDOG_FINISH_SECONDS) * 1000;
  for (let current: LockInfo | undefined = seen.lock; ; current = await deps.store.getLock(job)) {
    if (current?.owner !== ev.executionArn) return ignored(deps, `execution ${ev.name} no longer holds the lock of job "${job}" (another delivery handled it)`, job);
    if (current.progress[WATCHDOG_PROGRESS_KEY]) return ignored(deps, `already handled by the watchdog (${current.progress[WATCHDOG_PROGRESS_KEY]}); the lock is kept until it expires`, job);
    const now = deps.now();
    // The lease ends when this invocation must have ended (a crashed one does not block Lambda's retries for long).
    const leaseSeconds = Math.max(10, WATCHDOG_TIMEOUT_SECONDS + 5 - Math.floor((now - startedAt) / 1000));
    if (await deps.store.claimOnce(job, lease, now, leaseSeconds)) break;
    if (now + 10_000 > deadline) throw new TransientError(`another delivery of the ${ev.status} event of ${ev.name} is being handled; retry later`);
    await deps.sleep(10_000);
  }
  try {
    // Read again under the lease: the lock must still be this execution's, with everything it recorded.
    const lock = await deps.store.getLock(job);
    if (lock?.owner !== ev.executionArn) return ignored(deps, `execution ${ev.name} no longer holds the lock of job "${job}"`, job);
    // Counted before any work, so a delivery that dies (timeout, crash) still counts towards the last one.
    const delivery = Number(lock.progress[WATCHDOG_ATTEMPTS_KEY] ?? 0) + 1;
    await deps.store.recordLockProgress(job, ev.executionArn, { [WATCHDOG_ATTEMPTS_KEY]: delivery });
    return await recoverStopped(deps, ev, ref, job, lock, deps.now(), delivery, deadline);
  } catch (e) {
    // Give the lease back so Lambda's retry of this delivery can act (rather than wait out the lease).
    await deps.store.releaseClaim(job, lease).catch(() => undefined);
    throw e;
  }
}

async function recoverStopped(
  deps: WorkflowDeps,
  ev: ExecutionStatusChange,
  ref: ExecutionRef,
  job: string,
  lock: LockInfo,
  now: number,
  delivery: number,
  deadline: number,
): Promise<WatchdogResult> {
  const plan = recordedPlan(lock, ev);
  if (!plan) {
    // A lock without a plan: taken by an older version of the Lock step. Nothing to rebuild the rescale from.
    return keepLockAndNotifyUnknown(deps, job, lock, ev);
  }
  const state = stateFromLock(plan, lock, ev, now);
  // Config the job was rescaled with has gone: we can no longer talk to it.
  if (!deps.config.jobs.some((j) => j.name === plan.job)) {
    state.recoveryError = { Error: 'PreconditionFailed', Cause: `job "${plan.job}" is no longer in the config` };
  } else if (!(await alreadyRescaled(deps, state).catch(() => false))) {
    await recoverWithRetries(deps, state, deadline);
    // Flink unreachable, or a stop-with-savepoint still pending: no conclusion yet. While Lambda has retries left,
    // let it come back later (1 min, then 2 min) rather than declare the job lost; conclude on the last delivery.
    if (state.recoveryError?.retryable && delivery < DELIVERY_ATTEMPTS) {
      throw new TransientError(`watchdog delivery ${delivery} of ${DELIVERY_ATTEMPTS} for ${ev.name}: ${state.recoveryError.Cause}; Lambda retries it`);
    }
  }

  const record = await recordStep(deps, state, ref);
  state.record = record; // (the notification's phase durations run to it, as in the workflow)
  const outcome = record.outcome;
  const needsPerson = NEEDS_PERSON.includes(outcome);
  if (needsPerson) state.ended!.lockKeptUntil = await holdLock(deps, job, ev.executionArn, lock, deps.now());
  // Notified first, marked handled after: a failed publish leaves no "handled" mark, so Lambda's retry sends it.
  // supersede: the workflow's own Notify may have failed, its message unsent in the outbox; this one says what is true now
  await notifyStep(deps, state, ref, { supersede: true });
  if (needsPerson) {
    await deps.store.recordLockProgress(job, ev.executionArn, { [WATCHDOG_PROGRESS_KEY]: `${outcome} at ${new Date(deps.now()).toISOString()}` });
  } else {
    await deps.store.releaseLock(job, ev.executionArn);
  }
  deps.log[needsPerson || ACTION_REQUIRED.includes(outcome) ? 'error' : 'warn'](`watchdog: execution ${ev.name} ended ${ev.status}; ${outcome}`, {
    job,
    outcome,
    savepointPath: record.savepointPath,
    recovery: state.recovery,
  });
  return {
    action: needsPerson ? 'action-required' : 'recovered',
    reason: state.recovery?.actions.join('; ') || (state.running?.done || state.inPlace?.done ? 'the job already runs rescaled' : (state.recoveryError?.Cause ?? outcome)),
    job,
    outcome,
    savepointPath: record.savepointPath,
    at: deps.now(),
  };
}

/** No plan under the lock: say what is known (savepoint path, phase), keep the lock until it expires. */
async function keepLockAndNotifyUnknown(deps: WorkflowDeps, job: string, lock: LockInfo, ev: ExecutionStatusChange): Promise<WatchdogResult> {
  const sp = typeof lock.progress.savepointPath === 'string' ? lock.progress.savepointPath : undefined;
  await notifyOnce(deps, job, `notify#${ev.name}`, {
    subject: `flink-elastic: ACTION REQUIRED: check ${job}; its rescale ended ${ev.status}`.slice(0, 99),
    message: [
      `flink-elastic rescale: ACTION REQUIRED`,
      '',
      `Execution ${ev.name} of job "${job}" ended ${ev.status} while holding the job's rescale lock, and it recorded no plan to recover from.`,
      `Recorded progress: ${JSON.stringify(lock.progress)}.`,
      sp ? `If the Flink job is not running, restore it from savepoint ${sp} at its previous parallelism.` : 'No savepoint path was recorded, so the job was not cancelled by this execution.',
      `The lock is kept until ${new Date(lock.expiresAtMs).toISOString()} so no automatic rescale starts meanwhile.`,
      '',
      `Execution:  ${ev.executionArn}`,
    ].join('\n'),
    attributes: { job, outcome: 'failed-unknown', actionRequired: 'true' },
  }, { supersede: true });
  await deps.store.recordLockProgress(job, ev.executionArn, { [WATCHDOG_PROGRESS_KEY]: `no plan recorded at ${new Date(deps.now()).toISOString()}` });
  return { action: 'action-required', reason: 'no plan recorded under the lock', job, savepointPath: sp, at: deps.now() };
}
