/**
 * The scaler: one alarm state change or schedule entry in, at most one action out, every decision explained,
 * logged, recorded and published.
 *
 *   validate the event → map alarm → job → skip duplicates (same trigger already handled) → read the snapshot
 *   (Flink REST + CloudWatch + history) → decide (policy; a schedule entry asks for its parallelism) → record the
 *   policy state (a concurrent decision loses here and does nothing) → act:
 *     none                → nothing
 *     dry run             → nothing; notify what would have happened
 *     rescale             → StartExecution of the rescale workflow, name derived from job, direction and trigger
 *                           (the same trigger always gives the same name; ExecutionAlreadyExists is success)
 *     scale-out-capacity  → target.setDesired(TMs)
 *     scale-in-capacity   → reactive: target.setDesired(TMs); otherwise release only idle TaskManagers that Flink
 *                           runs none of the job's subtasks on (its placement; a lagging slot report never releases one)
 *   → history entry, decision metric, notification.
 */
import { createHash } from 'node:crypto';
import { ConfigError, findJob, taskManagersFor, type JobConfig } from '../core/config';
import { ForecastProfileSchema, forecastAhead, observe, type ForecastProfile } from '../core/policy/forecast';
import { SCALER_LOCK_OWNER_PREFIX } from '../core/rescale-timing';
import { parseAlarmName } from '../core/signals';
import type { FlinkApi, TaskManagerInfo } from '../adapters/flink/types';
import { placeSubtasks } from '../adapters/flink/wire';
import { parseScalerEvent, ScalerEventError, type Trigger } from './event';
import type { RescaleInput, ScalerDecision, ScalerDeps, ScalerHistoryEntry } from './ports';
import { JobNotRunningError, readSnapshot, type RateSample } from './snapshot';

/** How long the scaler spends on the notification outbox before it decides (wall ms). */
export const OUTBOX_DRAIN_BUDGET_MS = 3_000;

export type Outcome =
  | 'ignored' // not an actionable event (alarm left ALARM, disabled job)
  | 'duplicate' // this trigger was handled before
  | 'no-change' // the policy decided 'none'
  | 'skipped' // a rescale is in progress, or a concurrent decision won
  | 'dry-run' // decided, nothing changed
  | 'started' // workflow execution started (or already existed for this trigger)
  | 'capacity-changed'
  | 'capacity-unchanged'
  | 'failed';

export interface ScalerResult {
  job?: string;
  trigger: string;
  outcome: Outcome;
  reason: string;
  decision?: ScalerDecision;
  executionName?: string;
  executionArn?: string;
  capacity?: { previous: number; desired: number; released?: string[] };
}

/**
 * The job's demand now, for the seasonal profile (rule 10): the produce rate (what arrives; the scaler derives it from
 * the sources' reads and the backlog's growth), else the sources' input rate when every source reports one.
 */
export function demandSample(snapshot: Record<string, any>): number | undefined {
  const produce = snapshot.signals?.produceRate;
  if (typeof produce === 'number' && Number.isFinite(produce)) return produce;
  const sources = ((snapshot.vertices ?? []) as { inputs: string[]; inputRate?: number }[]).filter((v) => v.inputs.length === 0);
  if (sources.length === 0 || sources.some((v) => typeof v.inputRate !== 'number')) return undefined;
  return sources.reduce((a, v) => a + v.inputRate!, 0);
}

/** Stores the updated profile; losing one sample is harmless, so a failed write is logged and the decision stands. */
async function storeProfile(deps: ScalerDeps, job: JobConfig, profile: ForecastProfile, now: number): Promise<void> {
  await deps.store.putForecastProfile(job.name, profile, now).catch((e) => deps.log.warn(`could not store the forecast profile of ${job.name}`, { error: (e as Error).message }));
}

/** The stored profile (a malformed one restarts, with a warning) with this snapshot's demand sample added. */
async function updatedProfile(deps: ScalerDeps, job: JobConfig, snapshot: Record<string, any>, now: number): Promise<ForecastProfile | undefined> {
  let prev: ForecastProfile | undefined;
  try {
    const raw = await deps.store.getForecastProfile(job.name);
    if (raw !== undefined && raw !== null) {
      const r = ForecastProfileSchema.safeParse(raw);
      if (r.success) prev = r.data;
      else deps.log.warn(`the stored forecast profile of ${job.name} is malformed; it restarts`, { problems: r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) });
    }
  } catch (e) {
    deps.log.warn(`could not read the forecast profile of ${job.name}; deciding without it`, { error: (e as Error).message });
    return undefined;
  }
  const demand = demandSample(snapshot);
  if (demand === undefined) return prev;
  return observe(prev, now, demand, job.policy.forecast);
}

/** Stable id of a trigger: the same alarm state change (or scheduled run) delivered twice has the same id. */
export function triggerId(t: Trigger, now: number): string {
  if (t.kind === 'alarm') return `${t.alarmName}@${new Date(t.stateChangedAt).toISOString()}`;
  if (t.kind === 'reevaluate') return `reevaluate:${t.job}@${new Date(t.at).toISOString()}`;
  const when = t.scheduledAt ?? Math.floor(now / 60_000) * 60_000;
  return `schedule:${t.job}:${t.schedule ?? 'manual'}:${t.parallelism}@${new Date(when).toISOString()}`;
}

/**
 * Step Functions execution name for a decision: `<job>-<up|down>-<12 hex of the trigger id>` (≤ 80 chars, only
 * letters, digits, - and _). It does not contain the target parallelism, so a re-delivered trigger maps to the same
 * execution even if the metrics moved in between.
 */
export function executionName(job: string, decision: Pick<ScalerDecision, 'direction'>, trigger: string): string {
  const hash = createHash('sha256').update(trigger).digest('hex').slice(0, 12);
  return `${job}-${decision.direction ?? 'to'}-${hash}`;
}

export async function handleScalerEvent(event: unknown, deps: ScalerDeps): Promise<ScalerResult> {
  const now = deps.now();
  let trigger: Trigger;
  try {
    trigger = parseScalerEvent(event);
  } catch (e) {
    if (e instanceof ScalerEventError) deps.log.error('rejected malformed event; nothing changed', { error: e.message, problems: e.problems });
    throw e;
  }
  const tid = triggerId(trigger, now);
  const stackName = deps.config.deployment.stackName;

  let jobName: string;
  if (trigger.kind === 'alarm') {
    const ref = parseAlarmName(stackName, trigger.alarmName);
    if (!ref) {
      throw new ScalerEventError([
        { path: 'detail.alarmName', message: `is not an alarm of stack "${stackName}" (expected "${stackName}-<job>-<lag|cpu>-<high|low>")`, value: trigger.alarmName },
      ]);
    }
    jobName = ref.job;
  } else jobName = trigger.job;

  let job: JobConfig;
  try {
    job = findJob(deps.config, jobName);
  } catch (e) {
    const message = e instanceof ConfigError ? e.problems[0].message : (e as Error).message;
    throw new ScalerEventError([{ path: trigger.kind === 'alarm' ? 'detail.alarmName' : 'job', message, value: jobName }]);
  }
  if (trigger.kind === 'schedule') {
    const outside = scheduleOutsideBounds(job, trigger.parallelism);
    if (outside) {
      deps.log.error('rejected malformed event; nothing changed', { error: outside.message, problems: outside.problems });
      throw outside;
    }
  }
  const base = { job: job.name, trigger: tid };
  // Notifications SNS refused through every retry of the step that sent them go out now ('_unknown': those of
  // executions that failed before they knew their job).
  // Within a time budget: an SNS that does not answer must not hold the decision (what is left waits, leased, for the
  // next invocation).
  if (deps.drainOutbox) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const budget = new Promise<{ sent: string[]; failed: string[] }>((resolve) => {
      timer = setTimeout(() => resolve({ sent: [], failed: [`(not done within ${OUTBOX_DRAIN_BUDGET_MS} ms; the rest waits for the next invocation)`] }), OUTBOX_DRAIN_BUDGET_MS);
    });
    const o = await Promise.race([deps.drainOutbox([job.name, '_unknown']).catch((e: unknown) => ({ sent: [], failed: [`(${(e as Error).message})`] })), budget]);
    clearTimeout(timer);
    if (o.sent.length || o.failed.length) deps.log.info('notification outbox', { job: job.name, sent: o.sent, failed: o.failed });
  }
  if (trigger.kind === 'alarm' && trigger.state !== 'ALARM') {
    return done(deps, { ...base, outcome: 'ignored', reason: `alarm ${trigger.alarmName} is ${trigger.state}; the scaler acts on ALARM only` });
  }
  if (!job.enabled) return done(deps, { ...base, outcome: 'ignored', reason: `job ${job.name} is disabled (enabled: false)` });
  // A tick with no alarm in ALARM for a job with rule 10 on: the profile still takes its demand sample, and the policy
  // decides only when the forecast expects more than the demand now (a peak ahead, met while nothing alarms yet).
  let quietTick = false;
  if (trigger.kind === 'reevaluate' && deps.alarmStates) {
    trigger.alarmStates = await deps.alarmStates(job);
    const inAlarm = Object.entries(trigger.alarmStates).filter(([, st]) => st === 'ALARM').map(([n]) => n);
    if (trigger.requireAlarm && inAlarm.length === 0) {
      if (!job.policy.forecast.enabled) return done(deps, { ...base, outcome: 'ignored', reason: `no alarm of job ${job.name} is in ALARM; nothing to re-evaluate` });
      quietTick = true;
    }
  }

  // The same trigger (a re-delivered event, a retried schedule) is acted on once.
  const recent = await deps.store.history(job.name, 'decision', { limit: 50 });
  const seen = recent.find((h) => h.detail.trigger === tid);
  if (seen) {
    return done(deps, {
      ...base, outcome: 'duplicate', reason: `trigger ${tid} was already handled at ${new Date(seen.at).toISOString()} (${String(seen.detail.outcome)})`,
      executionName: typeof seen.detail.executionName === 'string' ? seen.detail.executionName : undefined,
    });
  }

  const api = await deps.flink(job);
  let snap;
  try {
    snap = await readSnapshot(deps, job, api, trigger, now);
  } catch (e) {
    if (e instanceof JobNotRunningError && quietTick) return done(deps, { ...base, outcome: 'ignored', reason: `no alarm of job ${job.name} is in ALARM; ${e.message}` });
    if (e instanceof JobNotRunningError) {
      const r = await record(deps, job, tid, now, undefined, { ...base, outcome: 'skipped', reason: `${e.message}; no decision` });
      return done(deps, r);
    }
    throw e;
  }
  for (const w of snap.warnings) deps.log.warn(w, { job: job.name });

  // Decide: the policy, or the schedule's parallelism.
  // Rule 10: the seasonal profile, updated with this snapshot's demand, goes into the snapshot; stored after the decision.
  const profile = job.policy.forecast.enabled && trigger.kind !== 'schedule' ? await updatedProfile(deps, job, snap.snapshot, now) : undefined;
  if (profile) snap.snapshot.forecast = profile;
  if (quietTick) {
    const ahead = forecastAhead(profile, now, job.policy.forecast).view;
    const demand = demandSample(snap.snapshot);
    if (!(ahead && demand !== undefined && ahead.rate > demand && job.schedules.length === 0)) {
      if (profile) await storeProfile(deps, job, profile, now);
      return done(deps, { ...base, outcome: 'ignored', reason: `no alarm of job ${job.name} is in ALARM and the forecast expects no more than now; demand sample taken, nothing to re-evaluate` });
    }
  }

  const stored = await deps.store.getPolicyState(job.name);
  let decision: ScalerDecision;
  let newState: unknown = stored?.state;
  if (trigger.kind === 'schedule') {
    decision = scheduledDecision(job, trigger.parallelism, snap.snapshot, trigger.schedule);
  } else {
    const r = deps.decide(snap.snapshot, job, stored?.state);
    decision = r.decision;
    newState = r.state;
  }

  // The policy state is written before acting: of two concurrent decisions, only one gets past here.
  if (trigger.kind !== 'schedule') {
    try {
      await deps.store.putPolicyState(job.name, newState, stored?.version ?? 0, now);
    } catch (e) {
      return done(deps, await record(deps, job, tid, now, snap.sample, { ...base, decision, outcome: 'skipped', reason: `a concurrent decision for ${job.name} won (${(e as Error).message})` }));
    }
  }

  if (profile) await storeProfile(deps, job, profile, now);

  if (decision.action === 'none') {
    return done(deps, await record(deps, job, tid, now, snap.sample, { ...base, decision, outcome: 'no-change', reason: decision.reason }));
  }
  const lock = await deps.store.getLock(job.name);
  if (lock && lock.expiresAtMs > now) {
    const kept = lock.progress?.kept ?? lock.progress?.watchdog;
    const reason = kept
      ? `the lock of ${job.name} is kept after execution ${lock.owner} ended (${String(kept)}): a person is restoring or watching the job; it expires at ${new Date(lock.expiresAtMs).toISOString()} (delete the lock item to release it sooner)`
      : `a rescale of ${job.name} is in progress (${lock.owner}${lock.reason ? `: ${lock.reason}` : ''}); one rescale per job at a time`;
    return done(deps, await record(deps, job, tid, now, snap.sample, { ...base, decision, outcome: 'skipped', reason }));
  }

  const name = executionName(job.name, decision, tid);
  if (job.dryRun) {
    const would = describeAction(job, decision, name);
    // Nothing changes in a dry run, so while an alarm stays in ALARM every tick would decide the same again: record
    // each, notify only when the would-be change differs from the last recorded decision.
    const repeated = trigger.kind === 'reevaluate' ? sameDryRun(recent[0], decision) : undefined;
    const again = repeated ? ` (same as the dry-run decision at ${new Date(repeated.at).toISOString()}; not notified again)` : '';
    const r = await record(deps, job, tid, now, snap.sample, { ...base, decision, outcome: 'dry-run', reason: `dry run: would ${would}; ${decision.reason}${again}` });
    if (!repeated) await notifySafe(deps, `[dry run] ${job.name}: would ${shortAction(decision)}`, explain(job, decision, r, trigger));
    return done(deps, r);
  }

  let result: ScalerResult;
  try {
    const placement = { jobId: snap.flinkJobId, vertexIds: snap.details.vertices.map((v) => v.id) };
    result = await act(deps, job, decision, snap.taskManagers, { ...base, decision }, name, trigger.kind === 'schedule' ? 'schedule' : 'scaler', now, placement);
  } catch (e) {
    const failed = await record(deps, job, tid, now, snap.sample, { ...base, decision, outcome: 'failed', reason: `${shortAction(decision)} failed: ${(e as Error).message}` });
    await notifySafe(deps, `${job.name}: ${shortAction(decision)} FAILED`, explain(job, decision, failed, trigger));
    done(deps, failed);
    throw e;
  }
  const r = await record(deps, job, tid, now, snap.sample, result);
  if (r.outcome !== 'capacity-unchanged') await notifySafe(deps, `${job.name}: ${shortAction(decision)}`, explain(job, decision, r, trigger));
  return done(deps, r);
}

async function act(
  deps: ScalerDeps,
  job: JobConfig,
  decision: ScalerDecision,
  taskManagers: Parameters<ReturnType<ScalerDeps['target']>['release']>[1],
  base: Omit<ScalerResult, 'outcome' | 'reason'>,
  name: string,
  startedBy: 'scaler' | 'schedule',
  decidedAt: number,
  placement?: JobPlacement,
): Promise<ScalerResult> {
  if (decision.action === 'rescale') {
    if (!deps.startExecution) throw new Error('no rescale workflow is attached to this stack (STATE_MACHINE_ARN is not set)');
    const input: RescaleInput = {
      job: job.name,
      // Adaptive mode: the policy's per-vertex plan, applied as it is (the vertices it does not name keep theirs).
      ...(job.mode === 'adaptive' && decision.perVertex && Object.keys(decision.perVertex).length > 0
        ? { vertexParallelism: decision.perVertex }
        : { parallelism: decision.targetParallelism }),
      reason: decision.reason.slice(0, 500),
      startedBy: `${startedBy}: ${base.trigger}`.slice(0, 200),
      // The policy decided outside the cooldown; if another rescale finishes before this execution locks the job,
      // its Lock step refuses (CooldownActive) instead of acting on the now stale decision. Schedules are meant to
      // happen at their time, cooldown or not.
      ...(startedBy === 'scaler' ? { respectCooldown: true } : {}),
    };
    const s = await deps.startExecution(name, input);
    return {
      ...base, outcome: 'started', executionName: name, executionArn: s.executionArn,
      reason: s.alreadyExisted ? `execution ${name} already exists for this trigger; not started again` : `started rescale ${decision.currentParallelism} → ${decision.targetParallelism}: ${decision.reason}`,
    };
  }
  // Capacity-only changes take the job's lock while they act, so they never interleave with a rescale execution
  // that locked the job after the check above (its Lock step waits for this lock: Transient, retried).
  const owner = `${SCALER_LOCK_OWNER_PREFIX}${name}`;
  let token: string | undefined;
  try {
    const got = await deps.store.acquireLock(job.name, owner, { now: deps.now(), ttlSeconds: CAPACITY_LOCK_SECONDS, reason: `capacity change by the scaler: ${shortAction(decision)}` });
    // The same owner already holds it: another delivery of this very trigger is acting right now.
    if (!got.acquired) return { ...base, outcome: 'duplicate', reason: `another delivery of this trigger is already changing the capacity of ${job.name} (${owner})` };
    token = got.lock?.token;
  } catch (e) {
    if ((e as Error).name !== 'LockHeld') throw e;
    return { ...base, outcome: 'skipped', reason: `a rescale of ${job.name} started meanwhile (${(e as Error).message}); one change per job at a time` };
  }
  try {
    // The decision was made on a snapshot read before the lock: a rescale that finished since then changed what it
    // was based on (cooldown clock moved past the decision's time).
    const last = await deps.store.getLastRescaleAt(job.name);
    if (last !== undefined && last >= decidedAt) {
      return { ...base, outcome: 'skipped', reason: `a rescale of ${job.name} finished at ${new Date(last).toISOString()}, after this decision's snapshot; deciding again on fresh metrics next time` };
    }
    // The fence: just before each capacity action, the lock must still be this invocation's (owner and token). A
    // scaler that stalled past CAPACITY_LOCK_SECONDS while an execution or another delivery took the lock over acts
    // on nothing (issue 17: the capacity-only lock fences like the workflow's).
    const fence = async (what: string) => {
      await deps.store.renewLock(job.name, owner, token, { now: deps.now(), ttlSeconds: CAPACITY_LOCK_SECONDS }).catch((e: unknown) => {
        if ((e as Error).name === 'LockLost') throw Object.assign(new Error(`${(e as Error).message}; it did not ${what}`), { name: 'LockLost' });
        throw e;
      });
    };
    return await changeCapacity(deps, job, decision, taskManagers, base, fence, placement);
  } catch (e) {
    if ((e as Error).name !== 'LockLost') throw e;
    const reason = `lost the lock of ${job.name} before acting: ${(e as Error).message} (the capacity lock expires after ${CAPACITY_LOCK_SECONDS} s and another owner took it over); this capacity change (${shortAction(decision)}) changed nothing`;
    deps.log.warn(reason, { job: job.name, owner });
    return { ...base, outcome: 'skipped', reason };
  } finally {
    // A failed release must not turn a done change into a reported failure: the lock expires in CAPACITY_LOCK_SECONDS.
    await deps.store.releaseLock(job.name, owner).catch((e) => deps.log.warn(`could not release the capacity lock of ${job.name}; it expires in ${CAPACITY_LOCK_SECONDS} s`, { error: (e as Error).message }));
  }
}

/** The running Flink job and its vertices, for reading where its subtasks run. */
interface JobPlacement {
  jobId: string;
  vertexIds: string[];
}

/** The TaskManagers Flink runs the job's subtasks on; a subtask on none Flink lists (a failover under way) is an error. */
async function hostingTaskManagers(flink: FlinkApi, p: JobPlacement, tms: TaskManagerInfo[]): Promise<Set<string>> {
  const { hosting, unplaced } = placeSubtasks(await flink.subtaskPlacement(p.jobId, p.vertexIds), tms);
  if (unplaced.length) throw new Error(`${unplaced.length} subtask(s) on no TaskManager Flink lists (${unplaced.slice(0, 3).join(', ')})`);
  return hosting;
}

/** How long a capacity-only change may hold the job's lock (one scaler invocation at most). */
const CAPACITY_LOCK_SECONDS = 120;

async function changeCapacity(
  deps: ScalerDeps,
  job: JobConfig,
  decision: ScalerDecision,
  taskManagers: Parameters<ReturnType<ScalerDeps['target']>['release']>[1],
  base: Omit<ScalerResult, 'outcome' | 'reason'>,
  fence: (what: string) => Promise<void>,
  placement?: JobPlacement,
): Promise<ScalerResult> {
  const target = deps.target(job);
  if (decision.action === 'scale-out-capacity' || job.mode === 'reactive') {
    const minRequired = job.mode === 'reactive' ? job.bounds.minTaskManagers : taskManagersFor(job, decision.currentParallelism);
    await fence(`set the desired capacity of ${target.name} to ${decision.targetTaskManagers}`);
    const s = await target.setDesired(decision.targetTaskManagers, { minRequired });
    return {
      ...base, outcome: s.changed ? 'capacity-changed' : 'capacity-unchanged', capacity: { previous: s.previous, desired: s.desired },
      reason: `${target.kind} ${target.name}: TaskManagers ${s.previous} → ${s.desired}${s.clampedBy ? ` (${s.clampedBy})` : ''}: ${decision.reason}`,
    };
  }
  // Scale-in of surplus capacity outside reactive mode: release only TaskManagers that hold no slots.
  const d = await target.describe(taskManagers);
  const surplus = Math.max(0, d.desired - decision.targetTaskManagers);
  // Flink's placement, as the workflow's drain reads it: a member whose slot counts read idle but that runs subtasks
  // of the job (a slot report that lags) is never released. Without the placement, nothing is.
  let hosting = new Set<string>();
  if (placement) {
    try {
      hosting = await hostingTaskManagers(await deps.flink(job), placement, taskManagers);
    } catch (e) {
      return { ...base, outcome: 'capacity-unchanged', capacity: { previous: d.desired, desired: d.desired, released: [] }, reason: `could not read where Flink runs the job's subtasks (${(e as Error).message}); nothing released; ${decision.reason}` };
    }
  }
  const idle = d.members.filter((m) => m.idle === true && !(m.taskManagerId !== undefined && hosting.has(m.taskManagerId))).map((m) => m.id).slice(0, surplus);
  if (idle.length === 0) {
    return { ...base, outcome: 'capacity-unchanged', capacity: { previous: d.desired, desired: d.desired, released: [] }, reason: `no idle TaskManager to release on ${target.name}; ${decision.reason}` };
  }
  await fence(`release ${idle.join(', ')} of ${target.name}`);
  const rel = await target.release(idle, taskManagers, { minRequired: taskManagersFor(job, decision.currentParallelism) });
  return {
    ...base, outcome: rel.released.length > 0 ? 'capacity-changed' : 'capacity-unchanged', capacity: { previous: rel.previous, desired: rel.desired, released: rel.released },
    reason: `${target.kind} ${target.name}: released ${rel.released.length} idle TaskManager(s) ${rel.released.join(', ')}; ${decision.reason}`,
  };
}

/** The last recorded decision, when it was a dry run of the same change (same action, same from and to). */
function sameDryRun(last: ScalerHistoryEntry | undefined, d: ScalerDecision): ScalerHistoryEntry | undefined {
  if (!last || last.detail.scalerOutcome !== 'dry-run') return undefined;
  const x = last.detail;
  const same =
    x.action === d.action &&
    x.fromParallelism === d.currentParallelism &&
    x.toParallelism === d.targetParallelism &&
    x.fromTaskManagers === d.currentTaskManagers &&
    x.toTaskManagers === d.targetTaskManagers;
  return same ? last : undefined;
}

/**
 * A schedule entry's parallelism outside the job's bounds is an error, not something to clamp: the person who wrote
 * the entry meant a number the job is not allowed to run at.
 */
function scheduleOutsideBounds(job: JobConfig, wanted: number): ScalerEventError | undefined {
  const { minParallelism: lo, maxParallelism: hi } = job.bounds;
  if (wanted >= lo && wanted <= hi) return undefined;
  return new ScalerEventError([{ path: 'parallelism', message: `must be from ${lo} to ${hi} (bounds.minParallelism to bounds.maxParallelism of job "${job.name}")`, value: wanted }]);
}

/** A schedule entry asks for a parallelism within the job's bounds (anything else is refused); capacity follows. */
export function scheduledDecision(job: JobConfig, wanted: number, snapshot: Record<string, any>, schedule?: string): ScalerDecision {
  const outside = scheduleOutsideBounds(job, wanted);
  if (outside) throw outside;
  const current: number = snapshot.parallelism ?? Math.max(...(snapshot.vertices as { parallelism: number; name: string }[]).filter((v) => !(v.name in job.policy.pinnedVertices)).map((v) => v.parallelism), 1);
  const curTMs: number = snapshot.cluster.taskManagers;
  const tms = taskManagersFor(job, wanted);
  const label = `schedule ${schedule ? `"${schedule}"` : '(manual)'}`;
  const steps = [`${label} asks for parallelism ${wanted} (bounds ${job.bounds.minParallelism}..${job.bounds.maxParallelism})`, `capacity follows: ${tms} TaskManagers × ${job.slotsPerTaskManager} slots`];
  const base = { policy: 'schedule', currentParallelism: current, currentTaskManagers: curTMs, targetParallelism: wanted, targetTaskManagers: tms, rule: 'schedule', steps, limitedBy: [], missing: [] };
  if (job.mode === 'reactive') {
    if (tms === curTMs) return { ...base, action: 'none', targetParallelism: current, reason: `${label}: ${tms} TaskManagers already running` };
    return { ...base, action: tms > curTMs ? 'scale-out-capacity' : 'scale-in-capacity', direction: tms > curTMs ? 'up' : 'down', reason: `${label}: TaskManagers ${curTMs} → ${tms} (reactive mode)` };
  }
  if (wanted === current) return { ...base, action: 'none', reason: `${label}: parallelism is already ${wanted}` };
  return { ...base, action: 'rescale', direction: wanted > current ? 'up' : 'down', reason: `${label}: parallelism ${current} → ${wanted}` };
}

function shortAction(d: ScalerDecision): string {
  switch (d.action) {
    case 'rescale':
      return `rescale ${d.currentParallelism} → ${d.targetParallelism}`;
    case 'scale-out-capacity':
    case 'scale-in-capacity':
      return `TaskManagers ${d.currentTaskManagers} → ${d.targetTaskManagers}`;
    default:
      return 'no change';
  }
}

function describeAction(job: JobConfig, d: ScalerDecision, name: string): string {
  if (d.action === 'rescale') return `start rescale workflow execution ${name} (parallelism ${d.currentParallelism} → ${d.targetParallelism}, ${d.targetTaskManagers} TaskManagers)`;
  const t = job.target;
  const where = t.kind === 'asg' ? `ASG ${t.autoScalingGroupName}` : `${t.kind} ${t.namespace}/${t.kind === 'eks-deployment' ? t.deploymentName : t.name}`;
  return `set ${where} to ${d.targetTaskManagers} TaskManagers (now ${d.currentTaskManagers})`;
}

function explain(job: JobConfig, d: ScalerDecision, r: ScalerResult, trigger: Trigger): string {
  return [
    `Job: ${job.name} (${job.mode} mode${job.dryRun ? ', dry run' : ''})`,
    `Trigger: ${trigger.kind === 'alarm' ? `alarm ${trigger.alarmName} (${trigger.stateReason ?? trigger.state})` : trigger.kind === 'reevaluate' ? `re-evaluation tick${inAlarmText(trigger.alarmStates)}` : `schedule ${trigger.schedule ?? '(manual)'}`}`,
    `Decision: ${shortAction(d)} (rule: ${d.rule})`,
    `Why: ${d.reason}`,
    `Outcome: ${r.outcome}: ${r.reason}`,
    ...(r.executionName ? [`Execution: ${r.executionName}`] : []),
    ...(d.limitedBy.length ? [`Limited by: ${d.limitedBy.join(', ')}`] : []),
    ...(d.missing.length ? [`Signals missing: ${d.missing.join(', ')}`] : []),
    '',
    'Steps:',
    ...d.steps.map((s) => `  - ${s}`),
  ].join('\n');
}

function inAlarmText(states: Record<string, string> | undefined): string {
  if (!states) return '';
  const names = Object.entries(states).filter(([, s]) => s === 'ALARM').map(([n]) => n);
  return names.length ? ` (in ALARM: ${names.join(', ')})` : ' (no alarm in ALARM)';
}

const PAST_OUTCOME: Partial<Record<Outcome, string>> = {
  'no-change': 'skipped',
  skipped: 'skipped',
  'dry-run': 'dry-run',
  started: 'in-progress',
  'capacity-changed': 'succeeded',
  'capacity-unchanged': 'skipped',
  failed: 'failed',
};

/** Appends the decision to the job's history (what the dashboard, the CLI and the next decision read). */
/** Appends the decision to the job's history; `sample` (the source figures read) lets the next read derive the produce rate. */
async function record(deps: ScalerDeps, job: JobConfig, tid: string, now: number, sample: RateSample | undefined, r: ScalerResult): Promise<ScalerResult> {
  const d = r.decision;
  await deps.store.appendHistory({
    kind: 'decision',
    job: job.name,
    at: now,
    id: createHash('sha256').update(tid).digest('hex').slice(0, 16),
    detail: {
      trigger: tid,
      outcome: PAST_OUTCOME[r.outcome] ?? 'skipped',
      scalerOutcome: r.outcome,
      reason: r.reason,
      dryRun: job.dryRun,
      ...(d
        ? {
            action: d.action,
            fromParallelism: d.currentParallelism,
            toParallelism: d.targetParallelism,
            fromTaskManagers: d.currentTaskManagers,
            toTaskManagers: d.targetTaskManagers,
            rule: d.rule,
            decisionReason: d.reason,
            limitedBy: d.limitedBy,
            steps: d.steps,
          }
        : { action: 'none' }),
      ...(r.executionName ? { executionName: r.executionName } : {}),
      ...(r.capacity ? { capacity: r.capacity } : {}),
      ...(sample ? { sample } : {}),
    },
  });
  return r;
}

async function notifySafe(deps: ScalerDeps, subject: string, message: string): Promise<void> {
  try {
    await deps.notify(subject.slice(0, 99), message);
  } catch (e) {
    deps.log.warn('notification failed', { error: (e as Error).message });
  }
}

/** Logs the decision line (the dashboard queries it) and publishes the decision metric. */
function done(deps: ScalerDeps, r: ScalerResult): ScalerResult {
  const d = r.decision;
  deps.log.info('decision', {
    job: r.job,
    trigger: r.trigger,
    outcome: r.outcome,
    reason: r.reason,
    dryRun: r.outcome === 'dry-run',
    ...(d
      ? {
          decision: {
            action: d.action,
            from: { parallelism: d.currentParallelism, taskManagers: d.currentTaskManagers },
            to: { parallelism: d.targetParallelism, taskManagers: d.targetTaskManagers },
            rule: d.rule,
            reason: d.reason,
            limitedBy: d.limitedBy,
            missing: d.missing,
            steps: d.steps,
          },
        }
      : {}),
    ...(r.executionName ? { executionName: r.executionName } : {}),
    ...(r.capacity ? { capacity: r.capacity } : {}),
  });
  if (d && r.job) deps.publishDecision(r.job, d);
  return r;
}
