/**
 * The rescale workflow's steps. Each takes the state machine's state (see types.ts), does one kind of thing, and
 * returns a small result. Every step is idempotent for the same execution: ids are derived from the execution
 * (savepoint trigger id, new job id), the lock is owner-checked, and "already done" is detected before acting.
 * The Check steps poll Flink inline for a short budget, then hand back to a Wait state (bounded by a deadline).
 */
import type { JobConfig } from '../core/config';
import { DEFAULT_SAVEPOINT_DIR_KEYS, isLocationUnder } from '../core/savepoint-location';
import { preview } from '../core/preview';
import { isRequirementsUpdateInProgress, isUnknownSavepointTrigger, placeSubtasks } from '../adapters/flink/wire';
import { INLINE_POLL_INTERVAL_SECONDS, INLINE_POLL_SECONDS, LOCK_LOST_ERROR, SCALER_LOCK_OWNER_PREFIX, STOP_PENDING_ERROR, WAIT_SECONDS } from '../core/rescale-timing';
import type { FlinkApi, JobDetails, JobStatus, ResourceRequirements, SavepointStatus, TaskManagerInfo } from '../adapters/flink/types';
import type { TargetDescription } from '../adapters/targets/types';
import { LockHeldError, LockLostError, type LockInfo } from '../adapters/state/types';
import type { WorkflowDeps } from './deps';
import { isRetryable, PreconditionError, TransientError, WaitTimeoutError, WorkflowError } from './errors';
import type { CheckResult, Plan, Recovery, WorkflowState } from './types';
import { resolveJar } from './validate';

/**
 * A stop-with-savepoint is still in progress, so recovery cannot tell yet whether Flink will stop the job. The state
 * machine retries it for longer than `Transient` (Flink's checkpoint timeout bounds the operation); if it is still
 * pending after that, the outcome is `failed-stop-pending` and the notification says what to watch and what to do.
 */
export class StopPendingError extends WorkflowError {
  constructor(
    readonly jobId: string,
    readonly triggerId: string,
  ) {
    super(STOP_PENDING_ERROR, `stop-with-savepoint of Flink job ${jobId} (trigger ${triggerId}) is still in progress; waiting for it before deciding how to recover`, true);
  }
}

export { LOCK_LOST_ERROR };
/** Recovery found the lock held by another owner after this execution had stopped the job: it acted on nothing. */
export const LOCK_LOST_AFTER_STOP_ERROR = 'LockLostAfterStop';

/**
 * The execution no longer holds the job's lock (it expired and another execution or the scaler took it over, or it
 * was deleted): the step that found out acted on nothing. The state machine does not run Abort for it (undoing
 * capacity or requirements would be acting without the lock); after the cancel, Rollback runs, and may take a free
 * lock again to restore the job it stopped (see `recoverStep`).
 */
export class LockFenceError extends WorkflowError {
  constructor(
    readonly job: string,
    readonly action: string,
    readonly holder: string | undefined,
  ) {
    super(
      LOCK_LOST_ERROR,
      `this execution no longer holds the rescale lock of job "${job}" (${holder ? `now held by ${holder}` : 'no lock held'}), so it did not ${action}; it changes nothing further`,
    );
  }
}

/**
 * Heartbeat and fence, just before a step acts on Flink or the capacity target: renews the lock conditionally on this
 * execution's owner *and* the lock's token (recorded in the state by Lock), so an execution whose lock moved on acts
 * on nothing. Returns the renewed lock. `what` names the action, for the error.
 */
export async function fence(deps: WorkflowDeps, state: Pick<WorkflowState, 'plan' | 'lock'>, what: string): Promise<LockInfo> {
  const { plan } = state;
  try {
    return await deps.store.renewLock(plan.job, plan.owner, state.lock?.token, { now: deps.now(), ttlSeconds: plan.lockTtlSeconds });
  } catch (e) {
    if (e instanceof LockLostError) throw new LockFenceError(plan.job, what, e.holder);
    throw e;
  }
}

/** Lock progress key marking a lock the workflow keeps on purpose after it ended (it expires by itself). */
export const KEPT_PROGRESS_KEY = 'kept';
/** Lock progress key holding the execution's plan (JSON), written with the lock. */
export const PLAN_PROGRESS_KEY = 'plan';
/** Lock progress key holding the resource requirements before PutRequirements changed them (JSON). */
export const PREVIOUS_REQUIREMENTS_KEY = 'previousRequirements';

const TERMINAL: JobStatus[] = ['CANCELED', 'FINISHED', 'FAILED'];
export const isTerminal = (s: JobStatus) => TERMINAL.includes(s);

export function jobConfig(deps: WorkflowDeps, name: string): JobConfig {
  const job = deps.config.jobs.find((j) => j.name === name);
  if (!job) throw new PreconditionError(`job "${name}" is no longer in the config`);
  return job;
}

const flinkOf = async (deps: WorkflowDeps, plan: Plan) => deps.flink(jobConfig(deps, plan.job));
const targetOf = async (deps: WorkflowDeps, plan: Plan) => deps.target(jobConfig(deps, plan.job));

/**
 * The status of a savepoint operation, or undefined when Flink does not know the trigger id (never triggered, or
 * its result expired): only Flink's own answer to that (404 "There is no savepoint operation with triggerId=…")
 * means so. Every other failure propagates, retryable or not (an HTML page or a `null` body from a proxy says
 * nothing about the trigger): "unknown" must not be guessed from it.
 */
async function savepointStatusIfKnown(flink: FlinkApi, jobId: string, triggerId: string): Promise<SavepointStatus | undefined> {
  try {
    return await flink.savepointStatus(jobId, triggerId);
  } catch (e) {
    if (isUnknownSavepointTrigger(e)) return undefined;
    throw e;
  }
}

/**
 * Where the savepoints of this execution go: the job's savepoint.directory, else the cluster's default
 * (state.savepoints.dir / execution.checkpointing.savepoint-dir); undefined when neither is known.
 */
async function savepointDirectoryOf(flink: FlinkApi, plan: Plan): Promise<string | undefined> {
  if (plan.savepointDirectory) return plan.savepointDirectory;
  const conf = await flink.jobManagerConfig(plan.from.jobId);
  for (const k of DEFAULT_SAVEPOINT_DIR_KEYS) if (conf[k]) return conf[k];
  return undefined;
}

/**
 * A completed savepoint's location is believed only when it is a URI under the directory it was taken into
 * (file:/x and file:///x, s3:// and s3a:// are the same): anything else (" ", "NaN", "\u0000", another bucket)
 * fails the savepoint, so nothing is cancelled on the strength of it.
 */
async function checkedLocation(flink: FlinkApi, plan: Plan, location: unknown): Promise<string> {
  const dir = await savepointDirectoryOf(flink, plan);
  if (typeof location === 'string' && dir !== undefined && isLocationUnder(location, dir)) return location;
  throw new WorkflowError(
    'SavepointFailed',
    `Flink reported savepoint location ${preview(location)} for job ${plan.from.jobId}, which is not a URI under ${dir === undefined ? 'a known savepoint directory (savepoint.directory is unset and the cluster has no state.savepoints.dir)' : `the savepoint directory ${dir}`}; the job is not cancelled on the strength of it`,
  );
}

/**
 * Records the capacity change of this execution under the lock, from the plan's starting size (checked when the lock
 * was taken; a retried step sees its own earlier change, so what setDesired calls "previous" is not it).
 */
async function recordCapacity(deps: WorkflowDeps, plan: Plan, after: number): Promise<void> {
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'capacity', capacityBefore: plan.from.taskManagers, capacityAfter: after });
}

/** The capacity change recorded under the lock (recordCapacity), if any. */
export function capacityFromProgress(progress: LockInfo['progress'], at: number): WorkflowState['capacity'] {
  const { capacityBefore: previous, capacityAfter: desired } = progress;
  return typeof previous === 'number' && typeof desired === 'number' ? { previous, desired, changed: previous !== desired, at } : undefined;
}

/** The resource requirements PutRequirements recorded under the lock before changing them, if any. */
export function previousRequirementsFromProgress(progress: LockInfo['progress']): Record<string, { lowerBound: number; upperBound: number }> | undefined {
  const raw = progress[PREVIOUS_REQUIREMENTS_KEY];
  if (typeof raw !== 'string') return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, { lowerBound: number; upperBound: number }>) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls `probe` until done or the inline budget is spent (`budgetMs`, default the inline poll budget). */
async function pollInline<T extends { done: boolean }>(deps: WorkflowDeps, probe: () => Promise<T>, budgetMs?: number): Promise<T> {
  const budget = budgetMs ?? (deps.inlinePollSeconds ?? INLINE_POLL_SECONDS) * 1000;
  const interval = (deps.inlinePollIntervalSeconds ?? INLINE_POLL_INTERVAL_SECONDS) * 1000;
  const start = deps.now();
  for (;;) {
    const r = await probe();
    if (r.done || deps.now() - start + interval > budget) return r;
    await deps.sleep(interval);
  }
}

/**
 * One bounded-loop check: polls inline, then reports done / not yet. The timeout bounds the whole loop: the inline
 * poll never runs past the deadline, and when the loop's next Wait state (`waitSeconds`) would end after it, this
 * check keeps polling inline up to the deadline instead, so the loop ends within `timeoutSeconds` of its first check
 * (plus one poll). Past the deadline it throws WaitTimedOut (or, with `onTimeout`, returns what that gives).
 */
async function check<T extends { done: boolean; detail: string }>(
  deps: WorkflowDeps,
  prev: CheckResult | undefined,
  what: string,
  timeoutSeconds: number,
  waitSeconds: number,
  probe: () => Promise<T>,
  onTimeout?: (last: T) => T,
): Promise<CheckResult & T> {
  const since = prev?.since ?? deps.now();
  const attempts = (prev?.attempts ?? 0) + 1;
  const deadline = since + timeoutSeconds * 1000;
  const inline = (deps.inlinePollSeconds ?? INLINE_POLL_SECONDS) * 1000;
  const remaining = Math.max(0, deadline - deps.now());
  // the last check before the deadline polls until it (a Wait would overshoot); the others poll their usual budget
  const last = remaining <= inline + waitSeconds * 1000;
  let r = await pollInline(deps, probe, last ? remaining : inline);
  if (last && !r.done && deps.now() < deadline) {
    await deps.sleep(deadline - deps.now());
    r = await probe();
  }
  const at = deps.now();
  if (!r.done && at >= deadline) {
    if (onTimeout) return { ...onTimeout(r), attempts, since, at };
    throw new WaitTimeoutError(what, timeoutSeconds, r.detail);
  }
  return { ...r, attempts, since, at };
}

// ---------------------------------------------------------------------------------------------------------------

export async function lockStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['lock']> {
  const { plan } = state;
  const now = deps.now();
  // The plan is stored with the lock (atomically) so the watchdog can recover an execution that ends without
  // reaching its own Catch (aborted, timed out): see watchdog.ts.
  const r = await deps.store
    .acquireLock(plan.job, plan.owner, {
      now,
      ttlSeconds: plan.lockTtlSeconds,
      reason: `${plan.summary}; ${plan.reason}`,
      progress: { [PLAN_PROGRESS_KEY]: JSON.stringify(plan) },
    })
    .catch((e: unknown) => {
      // The scaler holds the lock only for the seconds a capacity change takes: wait for it (retried), don't fail as busy.
      if (e instanceof LockHeldError && e.holder.startsWith(SCALER_LOCK_OWNER_PREFIX)) {
        throw new TransientError(`the scaler is changing the capacity of job "${plan.job}" (${e.holder}); retrying when it is done`);
      }
      throw e;
    });
  // Validate planned from what it saw before the lock was ours; another rescale may have finished in between.
  // Acting on a stale plan would savepoint/cancel a job that is gone or undo someone else's rescale.
  const stale = await staleness(deps, plan);
  if (stale) {
    await deps.store.releaseLock(plan.job, plan.owner);
    throw new PreconditionError(`the job changed since this execution planned its rescale (${stale}); nothing was changed: start a new rescale`);
  }
  if (plan.respectCooldown) {
    const last = await deps.store.getLastRescaleAt(plan.job);
    const cooldown = jobConfig(deps, plan.job).cooldownSeconds;
    if (last !== undefined && now - last < cooldown * 1000) {
      await deps.store.releaseLock(plan.job, plan.owner);
      throw new WorkflowError(
        'CooldownActive',
        `job "${plan.job}" was rescaled ${Math.round((now - last) / 1000)} s ago; cooldownSeconds is ${cooldown}: try again in ${Math.ceil((last + cooldown * 1000 - now) / 1000)} s`,
      );
    }
  }
  // The token fences every later step (fence): a step acts only while the lock still has it.
  return { acquired: r.acquired, at: now, tookOverFrom: r.tookOverFrom?.owner, token: r.lock.token };
}

/** Why the plan no longer matches the job in Flink, or undefined when it still does. */
async function staleness(deps: WorkflowDeps, plan: Plan): Promise<string | undefined> {
  const flink = await flinkOf(deps, plan);
  const listed = (await flink.jobs()).find((j) => j.id === plan.from.jobId);
  if (!listed || listed.state !== 'RUNNING') return `Flink job ${plan.from.jobId} is ${listed ? listed.state : 'gone'}, not RUNNING`;
  const d = await flink.job(plan.from.jobId);
  const changed = plan.vertices.filter((pv) => {
    const v = d.vertices.find((x) => x.id === pv.id);
    return !v || v.parallelism !== pv.from;
  });
  if (changed.length) return `vertices no longer at the planned starting parallelism: ${changed.map((v) => `${v.name} (planned from ${v.from})`).join(', ')}`;
  // Capacity too: the plan's TaskManager counts (and what recovery gives back) start from it.
  const desc = await (await targetOf(deps, plan)).describe(await flink.taskManagers());
  if (desc.desired !== plan.from.taskManagers) return `${desc.kind} ${desc.name} now wants ${desc.desired} members, the plan started from ${plan.from.taskManagers}`;
  return undefined;
}

export async function ensureCapacityStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['capacity']> {
  const { plan } = state;
  const target = await targetOf(deps, plan);
  await fence(deps, state, `set the capacity of ${target.kind} ${target.name} to ${plan.to.taskManagers}`);
  // Recorded before the change too: if this invocation dies right after it, the watchdog still gives back what was added.
  await recordCapacity(deps, plan, plan.to.taskManagers);
  const r = await target.setDesired(plan.to.taskManagers, { minRequired: plan.from.taskManagers });
  await recordCapacity(deps, plan, r.desired);
  const previous = plan.from.taskManagers;
  const job = jobConfig(deps, plan.job);
  const usable = r.desired * job.slotsPerTaskManager - plan.otherJobsSlots;
  if (usable < plan.to.slotsNeeded) {
    throw new PreconditionError(
      `${target.kind} ${target.name} could only be set to ${r.desired} members (${r.clampedBy ?? 'clamped'}), ${usable} slots for this job; ${plan.to.slotsNeeded} are needed. The job was not touched`,
    );
  }
  return { previous, desired: r.desired, changed: r.desired !== previous, clampedBy: r.clampedBy, at: deps.now() };
}

export async function checkSlotsStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['slots']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  await fence(deps, state, `wait for the slots of job "${plan.job}"`); // heartbeat: read-only, but the lock must stay ours
  return check(deps, state.slots, `${plan.to.slotsNeeded} slots for job "${plan.job}"`, plan.timeouts.slots, WAIT_SECONDS.slots, async () => {
    const o = await flink.overview();
    const usable = o.slotsTotal - plan.otherJobsSlots;
    return {
      done: usable >= plan.to.slotsNeeded,
      slotsTotal: o.slotsTotal,
      slotsAvailable: o.slotsAvailable,
      detail: `${o.taskManagers} TaskManagers registered, ${usable} of ${plan.to.slotsNeeded} needed slots usable by the job`,
    };
  });
}

export async function savepointStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['savepoint']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  const stop = plan.stopWithSavepoint;
  // Delivered twice? The first delivery recorded the trigger id under our lock (Flink < 1.15 picks its own ids),
  // and on Flink >= 1.15 the derived id is known to Flink: either way, no second savepoint.
  const lock = await deps.store.getLock(plan.job);
  const recorded = lock?.owner === plan.owner ? lock.progress.savepointTriggerId : undefined;
  if (typeof recorded === 'string') return { triggerId: recorded, at: deps.now(), stop };
  const known = (await savepointStatusIfKnown(flink, plan.from.jobId, plan.savepointTriggerId)) !== undefined;
  let triggerId = plan.savepointTriggerId;
  if (!known) {
    const details = await flink.job(plan.from.jobId);
    if (details.state !== 'RUNNING') {
      throw new PreconditionError(`Flink job ${plan.from.jobId} is ${details.state}, not RUNNING; no savepoint taken, nothing changed`);
    }
    const req = { targetDirectory: plan.savepointDirectory!, triggerId, formatType: plan.formatType };
    await fence(deps, state, `${stop ? 'stop' : 'take a savepoint of'} Flink job ${plan.from.jobId}`);
    const r = stop ? await flink.stopWithSavepoint(plan.from.jobId, { ...req, drain: false }) : await flink.triggerSavepoint(plan.from.jobId, req);
    triggerId = r.triggerId;
  }
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: stop ? 'stop-with-savepoint' : 'savepoint', savepointTriggerId: triggerId });
  return { triggerId, at: deps.now(), stop };
}

export async function pollSavepointStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['savepointStatus']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  await fence(deps, state, `wait for the savepoint of Flink job ${plan.from.jobId}`);
  const r = await check(deps, state.savepointStatus, `savepoint of job "${plan.job}"`, plan.timeouts.savepoint, WAIT_SECONDS.savepoint, async () => {
    const s = await flink.savepointStatus(plan.from.jobId, state.savepoint?.triggerId ?? plan.savepointTriggerId);
    if (s.state === 'FAILED') {
      throw new WorkflowError('SavepointFailed', `savepoint of Flink job ${plan.from.jobId} failed: ${s.failureCause}`);
    }
    if (s.state !== 'COMPLETED') return { done: false, detail: 'savepoint in progress' };
    const location = await checkedLocation(flink, plan, s.location);
    return { done: true, location, detail: `savepoint completed at ${location}` };
  });
  if (r.done && r.location) {
    // Recorded durably before anything may cancel the job.
    await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'savepoint-completed', savepointPath: r.location });
  }
  return r;
}

async function waitTerminal(deps: WorkflowDeps, flink: FlinkApi, jobId: string): Promise<JobStatus> {
  const r = await pollInline(deps, async () => {
    const d = await flink.job(jobId);
    return { done: isTerminal(d.state), state: d.state };
  });
  return r.state;
}

export async function cancelStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['cancel']> {
  const { plan } = state;
  const location = state.savepointStatus?.location;
  if (!location) {
    throw new PreconditionError(`refusing to cancel Flink job ${plan.from.jobId}: no completed savepoint is recorded for this execution`);
  }
  const flink = await flinkOf(deps, plan);
  // Checked again here: the state may have been rebuilt from what was recorded, and a bad location restores nothing.
  await checkedLocation(flink, plan, location);
  // The savepoint path must be durably recorded under our lock; this also proves we still own the lock.
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'cancel', savepointPath: location });
  const d = await flink.job(plan.from.jobId);
  if (!plan.stopWithSavepoint && !isTerminal(d.state) && d.state !== 'CANCELLING') {
    await fence(deps, state, `cancel Flink job ${plan.from.jobId}`);
    await flink.cancel(plan.from.jobId);
  }
  const finalState = await waitTerminal(deps, flink, plan.from.jobId);
  if (!isTerminal(finalState)) throw new TransientError(`Flink job ${plan.from.jobId} is still ${finalState} after the cancel request`);
  return { jobId: plan.from.jobId, at: deps.now(), finalState };
}

/** Flink's per-vertex parallelism override key (FLINK-30213, Flink ≥ 1.17), read by the JobMaster at submission. */
export const VERTEX_OVERRIDES_KEY = 'pipeline.jobvertex-parallelism-overrides';

/**
 * The per-vertex overrides that make a submission run exactly one side of the plan (`to` for the resubmission, `from`
 * for a rollback): every vertex, when the plan sets some vertex on its own (`vertexParallelism`) or that side is not
 * uniform — a vertex rescaled on its own before, or one whose parallelism the job's code sets (overriding it with its
 * own value changes nothing); undefined for a uniform plan, whose job-level `parallelism` says it all.
 */
export function vertexOverrides(plan: Plan, side: 'from' | 'to'): string | undefined {
  const level = plan.vertices.reduce((m, v) => Math.max(m, v[side]), 0);
  const perVertex = plan.vertices.some((v) => v.rule === 'vertex') || plan.vertices.some((v) => v[side] !== level);
  return perVertex ? plan.vertices.map((v) => `${v.id}:${v[side]}`).join(',') : undefined;
}

async function submitRequest(flink: FlinkApi, job: JobConfig, plan: Plan, side: 'from' | 'to', savepointPath: string, jobId: string) {
  const s = job.submit!;
  const overrides = vertexOverrides(plan, side);
  const supported = overrides !== undefined && (await flink.version()).features.parallelismOverrides;
  return {
    parallelism: plan[side].parallelism,
    savepointPath,
    jobId,
    allowNonRestoredState: s.allowNonRestoredState,
    programArgs: s.programArgs.length ? s.programArgs : undefined,
    entryClass: s.entryClass,
    flinkConfiguration: supported ? { ...s.flinkConfiguration, [VERTEX_OVERRIDES_KEY]: overrides } : s.flinkConfiguration,
  };
}

/**
 * The jar to run: the one Validate resolved (and uploaded if it was missing), unless the JobManager lost it since
 * (a session cluster restarted mid-rescale): then, for `submit.jarPath`, it is uploaded again.
 */
async function jarToRun(deps: WorkflowDeps, flink: FlinkApi, plan: Plan): Promise<string> {
  const job = jobConfig(deps, plan.job);
  if (plan.jarId && (job.submit?.jarId || (await flink.jars()).some((j) => j.id === plan.jarId))) return plan.jarId;
  const id = await resolveJar(deps, flink, job, true);
  if (!id) throw new PreconditionError(`cannot resubmit job "${plan.job}": no jar id resolved`);
  return id;
}

export async function resubmitStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['resubmit']> {
  const { plan } = state;
  const location = state.savepointStatus?.location;
  if (!location) throw new PreconditionError('no savepoint path in the execution state; cannot resubmit');
  const flink = await flinkOf(deps, plan);
  const jobs = await flink.jobs();
  let released: string[] | undefined;
  if (!jobs.some((j) => j.id === plan.newJobId)) {
    // Cancel saw the old job terminal. Not listed at all means the JobManager forgot it (restarted without HA, or the
    // job's archive expired): nothing runs it either, so resubmitting from the recorded savepoint is safe.
    const old = jobs.find((j) => j.id === plan.from.jobId);
    if (old && !isTerminal(old.state)) throw new TransientError(`old Flink job ${plan.from.jobId} is still ${old.state}; waiting before resubmitting`);
    if (plan.drainMember && plan.direction === 'in') released = await releaseDrainMember(deps, flink, state);
    await fence(deps, state, `resubmit job "${plan.job}" from ${location} at parallelism ${plan.to.parallelism}`);
    await flink.runJar(await jarToRun(deps, flink, plan), await submitRequest(flink, jobConfig(deps, plan.job), plan, 'to', location, plan.newJobId));
  }
  // Only a breadcrumb (the new job id is derived from the execution; recovery and the watchdog find it without it): a
  // store that keeps failing here must not turn a resubmission that worked into a rollback (issue 17, defect 6).
  // A lock that moved on still fails the step (LockLost): the job is then the new holder's.
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'resubmitted', newJobId: plan.newJobId }).catch((e: unknown) => {
    if (e instanceof LockLostError) throw e;
    deps.log.warn(`could not record the resubmission of Flink job ${plan.newJobId} under the lock; going on (recovery finds it by its derived id)`, { job: plan.job, error: (e as Error).message });
  });
  return { jobId: plan.newJobId, parallelism: plan.to.parallelism, savepointPath: location, at: deps.now(), ...(released ? { released } : {}) };
}

/**
 * Drain of a named TaskManager in savepoint mode: between the cancel and the resubmit the job holds no slots, so the
 * named member is released then — where the resubmitted job's tasks would land is Flink's choice, so afterwards it
 * might never become idle. Waits (inline) for its slots to be freed; if other jobs still hold slots on it, it is
 * left alone here and CheckDrained waits for it (up to the drain timeout). Released members are recorded under the
 * lock (a failure after this restores the capacity before the rollback).
 */
async function releaseDrainMember(deps: WorkflowDeps, flink: FlinkApi, state: WorkflowState): Promise<string[]> {
  const { plan } = state;
  const target = await targetOf(deps, plan);
  const r = await pollInline(deps, async () => {
    const tms = await flink.taskManagers();
    const m = (await target.describe(tms)).members.find((x) => x.id === plan.drainMember);
    return { done: !m || m.idle === true, present: m !== undefined, tms };
  });
  if (!r.present || !r.done) return [];
  await fence(deps, state, `release TaskManager member ${plan.drainMember}`);
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'releasing', releasing: plan.drainMember! });
  const rel = await target.release([plan.drainMember!], r.tms, { minRequired: plan.to.taskManagers });
  if (rel.released.length) await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'released', released: rel.released.join(',') });
  return rel.released;
}

/** Tasks all RUNNING, and each vertex at its planned parallelism. */
export function runningAtPlan(d: JobDetails, plan: Plan, useTarget: boolean): { ok: boolean; detail: string } {
  if (d.state !== 'RUNNING') return { ok: false, detail: `job is ${d.state}` };
  const notRunning = d.vertices.filter((v) => (v.tasks.RUNNING ?? 0) < v.parallelism);
  if (notRunning.length) return { ok: false, detail: `${notRunning.length} of ${d.vertices.length} vertices not all RUNNING (${notRunning.map((v) => v.name).join(', ')})` };
  const wrong = plan.vertices.filter((pv) => {
    const v = d.vertices.find((x) => x.name === pv.name) ?? d.vertices.find((x) => x.id === pv.id);
    return v && v.parallelism !== (useTarget ? pv.to : pv.from);
  });
  if (wrong.length) return { ok: false, detail: `vertices not yet at planned parallelism: ${wrong.map((w) => `${w.name} (want ${useTarget ? w.to : w.from})`).join(', ')}` };
  return { ok: true, detail: `RUNNING, all ${d.vertices.length} vertices running at planned parallelism` };
}

export async function checkRunningStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['running']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  await fence(deps, state, `wait for Flink job ${plan.newJobId} to run`);
  return check(deps, state.running, `Flink job ${plan.newJobId} running at parallelism ${plan.to.parallelism}`, plan.timeouts.running, WAIT_SECONDS.running, async () => {
    const d = await flink.job(plan.newJobId);
    if (isTerminal(d.state)) throw new WorkflowError('JobFailed', `resubmitted Flink job ${plan.newJobId} ended ${d.state}`);
    const run = runningAtPlan(d, plan, true);
    if (!run.ok) return { done: false, jobId: d.id, detail: run.detail };
    const cp = await flink.checkpoints(d.id);
    if (cp.enabled && cp.completed < 1) return { done: false, jobId: d.id, checkpointed: false, detail: `${run.detail}; waiting for the first checkpoint` };
    return { done: true, jobId: d.id, checkpointed: cp.enabled, detail: cp.enabled ? `${run.detail}; first checkpoint completed` : run.detail };
  });
}

export async function putRequirementsStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['requirements']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  const current = await flink.getResourceRequirements(plan.from.jobId);
  const next: ResourceRequirements = {};
  for (const [id, r] of Object.entries(current)) next[id] = { parallelism: { ...r.parallelism } };
  for (const v of plan.vertices) next[v.id] = { parallelism: { lowerBound: v.to, upperBound: v.to } };
  // What to restore if this rescale has to be undone (idempotent: a second delivery sees our own values).
  const previous: Record<string, { lowerBound: number; upperBound: number }> = {};
  for (const [id, r] of Object.entries(current)) previous[id] = r.parallelism;
  for (const v of plan.vertices) if (previous[v.id]?.upperBound === v.to && v.from !== v.to) previous[v.id] = { lowerBound: 1, upperBound: v.from };
  await fence(deps, state, `change the resource requirements of Flink job ${plan.from.jobId}`);
  // Recorded under the lock before the change, so the watchdog can undo it if the execution is stopped right after.
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'requirements', [PREVIOUS_REQUIREMENTS_KEY]: JSON.stringify(previous) });
  // Delivered again after an earlier delivery applied the change (its answer was lost: a Lambda retry, an answer later
  // than the client's timeout): Flink already has these requirements, and a second PUT while that update is still in
  // progress is refused (409 "Another update … is in progress"), which would abort a rescale that is under way.
  const applied = Object.entries(next).every(([id, r]) => current[id]?.parallelism.lowerBound === r.parallelism.lowerBound && current[id]?.parallelism.upperBound === r.parallelism.upperBound);
  if (!applied) {
    await flink.putResourceRequirements(plan.from.jobId, next).catch((e: unknown) => {
      // Flink refuses a PUT while an update is in progress, also this execution's own (the client retries a PUT whose
      // answer came later than its timeout): retried, and the retry finds the change applied (above).
      if (isRequirementsUpdateInProgress(e)) {
        throw new TransientError(`the resource requirements of Flink job ${plan.from.jobId} are being updated already (HTTP 409; this execution's own earlier request, or another client's); retrying`);
      }
      throw e;
    });
  }
  return { at: deps.now(), previous };
}

export async function shrinkCapacityStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['shrink']> {
  const { plan } = state;
  const target = await targetOf(deps, plan);
  await fence(deps, state, `shrink the capacity of ${target.kind} ${target.name} to ${plan.to.taskManagers}`);
  await recordCapacity(deps, plan, plan.to.taskManagers);
  const r = await target.setDesired(plan.to.taskManagers);
  await recordCapacity(deps, plan, r.desired);
  return { previous: plan.from.taskManagers, desired: r.desired, at: deps.now() };
}

export async function checkParallelismStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['inPlace']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  await fence(deps, state, `wait for Flink job ${plan.from.jobId} to run at parallelism ${plan.to.parallelism}`);
  return check(deps, state.inPlace, `Flink job ${plan.from.jobId} running at parallelism ${plan.to.parallelism}`, plan.timeouts.parallelism, WAIT_SECONDS.parallelism, async () => {
    const d = await flink.job(plan.from.jobId);
    if (isTerminal(d.state)) throw new WorkflowError('JobFailed', `Flink job ${plan.from.jobId} ended ${d.state} while rescaling in place`);
    const run = runningAtPlan(d, plan, true);
    return { done: run.ok, detail: run.detail };
  });
}

function idleMembers(desc: TargetDescription, exclude: ReadonlySet<string> = new Set()): string[] {
  return desc.members.filter((m) => m.idle === true && !(m.taskManagerId !== undefined && exclude.has(m.taskManagerId))).map((m) => m.id).sort();
}

/** Last heartbeat (epoch ms, the JobManager's clock) of each TaskManager, as first seen by the drain. */
export type HeartbeatBaseline = Record<string, number>;

/**
 * Whether TaskManagers may be released now, and which ones must not be (issue 17: a TaskManager killed mid-drain).
 * A killed TaskManager stays in /taskmanagers until Flink's heartbeat timeout (50 s by default), looking as it did:
 * busy (the job "runs" on it but makes no progress; when Flink notices, it fails the job over onto the members being
 * drained) or, once its tasks failed, idle. So a release needs, besides slot counts that read idle:
 *  - the job RUNNING, every task RUNNING at the planned parallelism (not restarting, not waiting for slots);
 *  - every TaskManager that runs one of its subtasks (Flink's own placement, GET /jobs/{id}/vertices/{vid}) alive:
 *    it has sent a heartbeat since the drain first saw it (`baseline`; timestamps from the JobManager's clock only,
 *    so no clock skew), at most one heartbeat.interval (10 s by default) after the drain begins;
 *  - and those TaskManagers are never released, whatever their slot counts say (`hosting`).
 * `baseline` is extended in place with TaskManagers seen for the first time.
 */
async function releaseSafety(
  flink: FlinkApi,
  plan: Plan,
  tms: TaskManagerInfo[],
  baseline: HeartbeatBaseline,
): Promise<{ safe: boolean; reason?: string; hosting: Set<string> }> {
  for (const t of tms) if (!(t.id in baseline)) baseline[t.id] = t.lastHeartbeat;
  const jobId = plan.mode === 'savepoint' ? plan.newJobId : plan.from.jobId;
  const d = await flink.job(jobId);
  const run = runningAtPlan(d, plan, true);
  if (!run.ok) return { safe: false, reason: `Flink job ${jobId}: ${run.detail} (a failover may be under way, and it needs slots)`, hosting: new Set() };
  const placement = await flink.subtaskPlacement(jobId, d.vertices.map((v) => v.id));
  const { hosting, unplaced } = placeSubtasks(placement, tms);
  if (unplaced.length) {
    return { safe: false, reason: `Flink job ${jobId}: ${unplaced.length} subtask(s) on no TaskManager Flink lists (${unplaced.slice(0, 3).join(', ')}${unplaced.length > 3 ? ', …' : ''})`, hosting };
  }
  // A TaskManager whose answer has no heartbeat time (0: the field is optional) cannot be judged by it: the other
  // checks (idle slots, placement, the job at plan) decide alone, rather than every scale-in waiting for its timeout.
  const silent = tms.filter((t) => hosting.has(t.id) && t.lastHeartbeat > 0 && !(t.lastHeartbeat > baseline[t.id]));
  if (silent.length) {
    return {
      safe: false,
      reason: `TaskManager(s) ${silent.map((t) => t.id).join(', ')} run tasks of Flink job ${jobId} and have sent no heartbeat since the drain first saw them (a killed TaskManager stays listed until Flink's heartbeat timeout): nothing is released until they do, or until Flink fails the job over`,
      hosting,
    };
  }
  return { safe: true, hosting };
}

export async function checkDrainedStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['drain']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  const target = await targetOf(deps, plan);
  // Heartbeat, and a fence for the scale-in protection set below.
  await fence(deps, state, `protect busy members of ${target.kind} ${target.name} and wait for the drain`);
  let protectedOnce = state.drain !== undefined;
  const heartbeats: HeartbeatBaseline = { ...(state.drain?.heartbeats ?? {}) };
  return check(
    deps,
    state.drain,
    `surplus TaskManagers of job "${plan.job}" holding no slots`,
    plan.timeouts.drain,
    WAIT_SECONDS.drain,
    async () => {
      const tms = await flink.taskManagers();
      if (!protectedOnce) {
        // Busy members are kept (ASG scale-in protection / pod-deletion-cost) so nothing but `release` removes members.
        await target.protectBusy(tms);
        protectedOnce = true;
      }
      const desc = await target.describe(tms);
      const surplus = Math.max(0, desc.desired - plan.to.taskManagers);
      const safety = await releaseSafety(flink, plan, tms, heartbeats);
      const idle = idleMembers(desc, safety.hosting);
      const busy = desc.members.filter((m) => m.idle === false || (m.taskManagerId !== undefined && safety.hosting.has(m.taskManagerId))).map((m) => m.id).sort();
      // Draining one named member: wait for exactly that one (gone counts as drained).
      const named = plan.drainMember ? desc.members.find((m) => m.id === plan.drainMember) : undefined;
      const namedDrained = plan.drainMember === undefined || !named || idle.includes(named.id);
      return {
        done: idle.length >= surplus && namedDrained && (surplus === 0 || safety.safe),
        surplus,
        idle,
        busy,
        timedOut: false,
        heartbeats: { ...heartbeats },
        detail:
          `${idle.length} idle of ${surplus} surplus members (${desc.members.length} members, desired ${desc.desired})` +
          (plan.drainMember ? `; ${plan.drainMember} ${!named ? 'is gone' : idle.includes(named.id) ? 'holds no slots' : `still holds ${named.busySlots ?? '?'} slot(s)`}` : '') +
          (safety.safe ? '' : `; waiting: ${safety.reason}`),
      };
    },
    (last) => ({ ...last, done: true, timedOut: true, detail: `drain timeout (${plan.timeouts.drain} s): ${last.detail}` }),
  );
}

export async function releaseIdleStep(deps: WorkflowDeps, state: WorkflowState): Promise<WorkflowState['release']> {
  const { plan } = state;
  const flink = await flinkOf(deps, plan);
  const target = await targetOf(deps, plan);
  // Re-read just before releasing: only members idle *now* are chosen, and the target re-checks each one.
  const tms = await flink.taskManagers();
  const desc = await target.describe(tms);
  const wanted = Math.max(0, desc.desired - plan.to.taskManagers);
  // Released already (drain in savepoint mode: between the cancel and the resubmit).
  const earlier = state.resubmit?.released ?? [];
  if (plan.drainMember) {
    // Draining a named member releases exactly it, or nothing: never another one in its place.
    const named = desc.members.find((m) => m.id === plan.drainMember);
    if (!named || wanted === 0) return { released: earlier, desired: desc.desired, wanted, at: deps.now() };
    if (named.idle !== true) {
      const why = named.taskManagerId === undefined ? 'could not be mapped to a Flink TaskManager' : `still holds ${named.busySlots ?? '?'} slot(s)`;
      return {
        released: earlier,
        skipped: [`${plan.drainMember}: ${why} at the drain timeout (${plan.timeouts.drain} s); kept, and no other TaskManager released in its place`],
        desired: desc.desired,
        wanted,
        at: deps.now(),
      };
    }
  }
  // Never a TaskManager that runs tasks of the job, and nothing while a failover may be under way (releaseSafety).
  const safety = wanted > 0 ? await releaseSafety(flink, plan, tms, { ...(state.drain?.heartbeats ?? {}) }) : { safe: true, hosting: new Set<string>() };
  if (!safety.safe) {
    return { released: earlier, skipped: [`released nothing: ${safety.reason}`], desired: desc.desired, wanted, at: deps.now() };
  }
  const idle = idleMembers(desc, safety.hosting);
  if (plan.drainMember && !idle.includes(plan.drainMember)) {
    return { released: earlier, skipped: [`${plan.drainMember}: runs tasks of the job (Flink's placement); kept, and no other TaskManager released in its place`], desired: desc.desired, wanted, at: deps.now() };
  }
  const chosen = plan.drainMember ? [plan.drainMember] : idle.slice(0, wanted);
  if (chosen.length === 0) return { released: earlier, desired: desc.desired, wanted, at: deps.now() };
  await fence(deps, state, `release TaskManager member(s) ${chosen.join(', ')}`);
  const r = await target.release(chosen, tms, { minRequired: plan.to.taskManagers });
  await deps.store.recordLockProgress(plan.job, plan.owner, { phase: 'released', released: r.released.join(',') });
  return { released: [...earlier, ...r.released], skipped: (r.skipped ?? []).map((x) => `${x.id}: ${x.reason}`), desired: r.desired, wanted, at: deps.now() };
}

// ---------------------------------------------------------------------------------------------------------------
// Recovery

/**
 * Abort (failure before the cancel) and Rollback (failure after it) share one look at reality, because what
 * matters is where the job is *now*, not which step failed:
 *  - the original job still runs → it was never touched: undo what we changed around it (requirements, capacity);
 *  - our rollback job already runs → done (delivered twice);
 *  - the new job runs and has checkpointed since the restore → keep it (cancelling it would replay from the
 *    savepoint); report it;
 *  - otherwise cancel a half-started new job and resubmit from the same savepoint at the old parallelism.
 * Errors propagate (Transient is retried by the state machine); if recovery finally fails, the notification
 * names the savepoint path that restores the job.
 *
 * Fencing: every action is fenced like the forward steps' (renewLock on owner + token just before it). While the
 * original job still runs, a lost lock means recovery acts on nothing (the new holder owns the job now; what this
 * execution changed is reported). After this execution stopped the job, a lost lock that nobody holds (expired or
 * deleted, e.g. the scaler took it for a capacity change and let it go) is taken again (acquireLock is atomic, so
 * at most one execution wins it): no other rescale can start from a stopped job (Validate plans from a RUNNING job),
 * so restoring it from the savepoint this execution holds is the only thing that keeps the job. If another owner
 * holds the lock live, recovery acts on nothing and the notification names the savepoint.
 */
export async function recoverStep(deps: WorkflowDeps, state: WorkflowState): Promise<Recovery> {
  const { plan } = state;
  const job = jobConfig(deps, plan.job);
  const flink = await flinkOf(deps, plan);
  const actions: string[] = [];
  let token = state.lock?.token;
  /** Fences the next action; `retake`: after the job was stopped, a free lock is taken again (see above). */
  const guard = async (what: string, retake = false) => {
    try {
      await fence(deps, { plan, lock: { acquired: true, at: 0, token } }, what);
    } catch (e) {
      if (!(e instanceof LockFenceError) || !retake) throw e;
      const r = await deps.store
        .acquireLock(plan.job, plan.owner, { now: deps.now(), ttlSeconds: plan.lockTtlSeconds, reason: `restoring job "${plan.job}" it had stopped (${plan.summary})`, progress: { [PLAN_PROGRESS_KEY]: JSON.stringify(plan) } })
        .catch((e2: unknown) => {
          if (!(e2 instanceof LockHeldError)) throw e2;
          const err = new LockFenceError(plan.job, what, e2.holder);
          err.name = LOCK_LOST_AFTER_STOP_ERROR;
          throw err;
        });
      token = r.lock.token;
      actions.push(`took the job's lock again (it had ${e.holder ? `passed to ${e.holder}` : 'been released'} and was free) to restore the job this execution stopped`);
    }
  };
  // Heartbeat: recovery may be retried for minutes (a pending stop-with-savepoint). Not a fence: it only looks yet.
  await deps.store.renewLock(plan.job, plan.owner, token, { now: deps.now(), ttlSeconds: plan.lockTtlSeconds }).catch((e: unknown) => {
    if (!(e instanceof LockLostError)) throw e;
  });
  const jobs = await flink.jobs();
  const find = (id: string) => jobs.find((j) => j.id === id);
  let orig = find(plan.from.jobId);
  const rollbackJob = find(plan.rollbackJobId);
  const newJob = find(plan.newJobId);
  const lock = await deps.store.getLock(plan.job);
  const ours = lock?.owner === plan.owner ? lock.progress : {};
  const triggerId = state.savepoint?.triggerId ?? (typeof ours.savepointTriggerId === 'string' ? ours.savepointTriggerId : undefined);
  let stoppedWith: string | undefined;

  if (plan.stopWithSavepoint && orig && !isTerminal(orig.state) && orig.state !== 'CANCELLING') {
    // A stop-with-savepoint may still be under way (the poll timed out, the execution was stopped): the job still
    // RUNNING does not mean untouched. Wait for the operation; if it completes, Flink stops the job.
    const id = triggerId ?? plan.savepointTriggerId;
    // Only Flink's "unknown trigger" answer (undefined) or a finished operation settle it. Any other answer that
    // cannot be read (an HTML page, a null body) says nothing about the trigger: still pending, as far as we know.
    const r = await pollInline(deps, async () => {
      let s: SavepointStatus | undefined;
      try {
        s = await savepointStatusIfKnown(flink, orig!.id, id);
      } catch (e) {
        if (isRetryable(e)) throw e;
        deps.log.warn(`savepoint status of the stop-with-savepoint is unreadable; treating it as still pending`, { job: plan.job, error: (e as Error).message });
        return { done: false, status: undefined };
      }
      return { done: s?.state !== 'IN_PROGRESS', status: s };
    });
    if (!r.done) throw new StopPendingError(orig.id, id);
    if (r.status?.state === 'COMPLETED') {
      const st = await waitTerminal(deps, flink, orig.id);
      if (!isTerminal(st)) throw new TransientError(`stop-with-savepoint of Flink job ${orig.id} completed (${r.status.location}); waiting for the job to stop`);
      stoppedWith = await checkedLocation(flink, plan, r.status.location);
      // Recorded as soon as it is seen: Flink forgets the operation's result after a few minutes.
      await deps.store
        .recordLockProgress(plan.job, plan.owner, { savepointPath: stoppedWith })
        .catch((e: unknown) => deps.log.warn(`could not record the stop's savepoint path ${stoppedWith} under the lock`, { job: plan.job, error: (e as Error).message }));
      actions.push(`the stop-with-savepoint completed after all (${stoppedWith}); Flink job ${orig.id} stopped (${st})`);
      orig = { ...orig, state: st };
    }
  }

  if (orig?.state === 'CANCELLING') {
    // Our cancel is under way: the job is no longer untouched. Let it finish, then restore from the savepoint.
    const st = await waitTerminal(deps, flink, orig.id);
    if (!isTerminal(st)) throw new TransientError(`Flink job ${orig.id} is still CANCELLING; waiting before restoring it`);
    actions.push(`waited for the cancelled Flink job ${orig.id} to stop (${st})`);
  } else if (orig && !isTerminal(orig.state)) {
    // What the execution state says, else what PutRequirements recorded under the lock before its PUT (a delivery
    // whose change Flink applied but whose answer never came back leaves no result in the state).
    const requirements = state.requirements?.previous ?? previousRequirementsFromProgress(ours);
    if (requirements) {
      const restore: ResourceRequirements = {};
      for (const [id, p] of Object.entries(requirements)) restore[id] = { parallelism: p };
      await guard(`restore the resource requirements of Flink job ${plan.from.jobId}`);
      await flink.putResourceRequirements(plan.from.jobId, restore);
      actions.push('restored the previous resource requirements');
    }
    // What the execution state says, else what was recorded under the lock (a step that failed after changing it).
    const capacity =
      state.capacity ?? (state.shrink ? { ...state.shrink, changed: state.shrink.desired !== state.shrink.previous } : capacityFromProgress(ours, deps.now()));
    if (capacity?.changed && plan.direction === 'out') {
      const target = await targetOf(deps, plan);
      const tms = await flink.taskManagers();
      const desc = await target.describe(tms);
      const added = Math.max(0, desc.desired - capacity.previous);
      const idle = idleMembers(desc).slice(0, added);
      if (idle.length) {
        await guard(`release the TaskManager member(s) added for this rescale (${idle.join(', ')})`);
        const r = await target.release(idle, tms, { minRequired: capacity.previous });
        actions.push(`released ${r.released.length} idle TaskManager member(s) added for this rescale (${r.released.join(', ')})`);
      }
      if (idle.length < added) {
        // Say which: a member whose TaskManager never registered holds no slots, but cannot be shown to be idle either.
        const unregistered = desc.members.filter((m) => m.taskManagerId === undefined).map((m) => m.id).sort();
        const busy = added - idle.length - Math.min(unregistered.length, added - idle.length);
        if (busy > 0) actions.push(`kept ${busy} added member(s) that hold slots`);
        if (unregistered.length && busy < added - idle.length) {
          actions.push(
            `kept ${added - idle.length - busy} added member(s) whose TaskManager never registered with Flink (${unregistered.join(', ')}): not known to be idle, so not released; check them, and lower the capacity of ${target.kind} ${target.name} to ${capacity.previous} if they are not needed`,
          );
        }
      }
    } else if (capacity?.changed && plan.direction === 'in') {
      // Reactive scale-in shrank the capacity first; the job did not settle at the smaller size: give it back.
      const target = await targetOf(deps, plan);
      const desc = await target.describe(await flink.taskManagers());
      if (desc.desired < capacity.previous) {
        await guard(`restore the capacity of ${target.kind} ${target.name} to ${capacity.previous}`);
        const r = await target.setDesired(capacity.previous);
        actions.push(`restored the capacity to ${r.desired} member(s) (it was shrunk to ${desc.desired} for this rescale)`);
      }
    }
    return { outcome: 'untouched', jobId: orig.id, parallelism: plan.from.parallelism, actions, at: deps.now() };
  }

  let location = state.savepointStatus?.location ?? stoppedWith ?? (typeof ours.savepointPath === 'string' ? ours.savepointPath : undefined);
  if (!location && triggerId) {
    const s = await savepointStatusIfKnown(flink, plan.from.jobId, triggerId);
    if (s?.state === 'COMPLETED') location = await checkedLocation(flink, plan, s.location);
  }

  if (rollbackJob && !isTerminal(rollbackJob.state)) {
    return { outcome: 'rolled-back', jobId: rollbackJob.id, parallelism: plan.from.parallelism, savepointPath: location, actions: ['rollback job already submitted'], at: deps.now() };
  }
  if (newJob && !isTerminal(newJob.state)) {
    const d = await flink.job(newJob.id);
    const cp = await flink.checkpoints(newJob.id);
    if (d.state === 'RUNNING' && cp.enabled && cp.completed > 0) {
      return {
        outcome: 'kept-new',
        // All tasks RUNNING at the planned parallelism: the rescale worked; only the workflow's check of it failed.
        rescaled: runningAtPlan(d, plan, true).ok,
        jobId: newJob.id,
        parallelism: plan.to.parallelism,
        savepointPath: location,
        actions: [`kept Flink job ${newJob.id} at parallelism ${plan.to.parallelism}: it has completed checkpoints since the restore, so cancelling it would replay data`],
        at: deps.now(),
      };
    }
    await guard(`cancel the half-started Flink job ${newJob.id}`, true);
    await flink.cancel(newJob.id);
    const st = await waitTerminal(deps, flink, newJob.id);
    if (!isTerminal(st)) throw new TransientError(`half-started Flink job ${newJob.id} is still ${st} after cancel`);
    actions.push(`cancelled the half-started Flink job ${newJob.id} (${d.state})`);
  }
  if (!location) {
    const cp = await flink.checkpoints(plan.from.jobId).catch(() => undefined);
    const latest = cp?.latestCompleted?.externalPath;
    return {
      outcome: 'job-down',
      actions,
      manualAction: latest
        ? `no savepoint completed; restore from the latest retained checkpoint: ${latest} (submit the jar with savepointPath=${latest}, parallelism=${plan.from.parallelism})`
        : `no savepoint completed and no retained checkpoint found; resubmit job "${plan.flinkJobName}" from your latest externalized checkpoint at parallelism ${plan.from.parallelism}`,
      at: deps.now(),
    };
  }
  const drained = state.resubmit?.released ?? (typeof ours.released === 'string' && ours.released ? ours.released.split(',') : []);
  if (plan.drainMember && drained.length) {
    // The drained member was released before the resubmit: the old parallelism needs its slots back.
    const target = await targetOf(deps, plan);
    const desc = await target.describe(await flink.taskManagers());
    if (desc.desired < plan.from.taskManagers) {
      await guard(`restore the capacity of ${target.kind} ${target.name} to ${plan.from.taskManagers}`, true);
      const r = await target.setDesired(plan.from.taskManagers);
      actions.push(`restored the capacity to ${r.desired} member(s) for the old parallelism (${drained.join(', ')} was released for the drain)`);
    }
  }
  await guard(`resubmit job "${plan.job}" from ${location} at its old parallelism ${plan.from.parallelism}`, true);
  await flink.runJar(await jarToRun(deps, flink, plan), await submitRequest(flink, job, plan, 'from', location, plan.rollbackJobId));
  actions.push(`resubmitted from ${location} at the old parallelism ${plan.from.parallelism} as Flink job ${plan.rollbackJobId}`);
  const r = await pollInline(deps, async () => {
    const d = await flink.job(plan.rollbackJobId);
    if (isTerminal(d.state)) throw new WorkflowError('RollbackFailed', `rollback Flink job ${plan.rollbackJobId} ended ${d.state}`);
    return { done: d.state === 'RUNNING', state: d.state };
  });
  actions.push(r.done ? 'rollback job is RUNNING' : `rollback job is ${r.state} (not yet RUNNING when this step ended)`);
  return { outcome: 'rolled-back', jobId: plan.rollbackJobId, parallelism: plan.from.parallelism, savepointPath: location, actions, at: deps.now() };
}
