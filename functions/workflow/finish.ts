/**
 * The end of every execution: Record (history + cooldown), Unlock, Notify (SNS, readable subject and body).
 * Outcome classification lives here so the history record and the notification always agree.
 */
import type { PublishCommand, PublishCommandInput } from '@aws-sdk/client-sns';
import { DECISION_METRICS } from '../core/signals';
import { OUTBOX_LEASE_SECONDS, OUTBOX_TTL_SECONDS, publishLeased, resendFromOutbox, sendThroughOutbox, type Publish } from '../adapters/notification-outbox';
import type { OutboxMessage } from '../adapters/state/types';
import type { WorkflowDeps } from './deps';
import { causeMessage, TRANSIENT } from './errors';
import { STOP_PENDING_ERROR } from '../core/rescale-timing';
import { KEPT_PROGRESS_KEY, LOCK_LOST_AFTER_STOP_ERROR, LOCK_LOST_ERROR } from './steps';
import type { ExecutionRef, WorkflowState } from './types';

export type Outcome =
  | 'succeeded'
  | 'succeeded-drain-timeout'
  | 'rescaled-cleanup-failed'
  | 'dry-run'
  | 'no-change'
  | 'rejected'
  | 'busy'
  | 'cooldown'
  | 'failed-untouched'
  | 'failed-rolled-back'
  | 'failed-kept-new'
  | 'failed-job-down'
  | 'failed-rollback-failed'
  | 'failed-stop-pending'
  | 'failed-recovery-incomplete'
  /** The lock moved on (expired and taken over, or deleted) before a step acted: this execution acted on nothing more. */
  | 'failed-lock-lost'
  /** As above, after this execution had stopped the job, and another owner holds the lock: the job may be down. */
  | 'failed-lock-lost-job-stopped';

/** Outcomes that need a person: the notification says exactly what to do. */
export const ACTION_REQUIRED: Outcome[] = ['failed-job-down', 'failed-rollback-failed', 'failed-kept-new', 'failed-stop-pending', 'failed-recovery-incomplete', 'failed-lock-lost-job-stopped'];
/** Outcomes after which the watchdog keeps the job's lock until it expires: a person is restoring (or watching) the job. */
export const NEEDS_PERSON: Outcome[] = ['failed-job-down', 'failed-rollback-failed', 'failed-stop-pending', 'failed-recovery-incomplete'];

/** A loose view of the state: on a Validate failure there is no plan yet, only the raw input and the error. */
type AnyState = Partial<WorkflowState> & { job?: unknown };

export function outcomeOf(s: AnyState): Outcome {
  const plan = s.plan;
  if (!plan) return 'rejected';
  if (s.error) {
    if (s.error.Error === 'InvalidInput') return 'rejected';
    if (s.error.Error === 'LockHeld') return 'busy';
    if (s.error.Error === 'CooldownActive') return 'cooldown';
    if (s.recoveryError?.Error === STOP_PENDING_ERROR) return 'failed-stop-pending';
    if (s.recoveryError?.Error === LOCK_LOST_AFTER_STOP_ERROR) return 'failed-lock-lost-job-stopped';
    if (s.recoveryError?.Error === LOCK_LOST_ERROR) return 'failed-lock-lost';
    // A step found the lock gone before acting, and recovery (if it ran) changed nothing: say that, not "untouched".
    if (s.error.Error === LOCK_LOST_ERROR && (!s.recovery || (s.recovery.outcome === 'untouched' && s.recovery.actions.length === 0))) return 'failed-lock-lost';
    // Recovery kept failing in a way that may clear (Flink not answering, a job not settling): where the job is now
    // is not known, so the message must not say it is down.
    if (s.recoveryError?.Error === TRANSIENT) return 'failed-recovery-incomplete';
    if (s.recoveryError) return 'failed-rollback-failed';
    switch (s.recovery?.outcome) {
      case 'untouched':
        return 'failed-untouched';
      case 'rolled-back':
        return 'failed-rolled-back';
      case 'kept-new':
        // RUNNING at the planned parallelism with checkpoints: rescaled. Never "ACTION REQUIRED" for a healthy job.
        return s.recovery.rescaled ? 'rescaled-cleanup-failed' : 'failed-kept-new';
      case 'job-down':
        return 'failed-job-down';
      case 'rollback-failed':
        return 'failed-rollback-failed';
    }
    // No recovery ran: the failure came after the job was rescaled (drain / release / record).
    if (s.running?.done || s.inPlace?.done) return 'rescaled-cleanup-failed';
    return 'failed-untouched';
  }
  if (plan.route === 'dry-run') return 'dry-run';
  if (plan.route === 'no-change') return 'no-change';
  return s.drain?.timedOut ? 'succeeded-drain-timeout' : 'succeeded';
}

/** The savepoint that restores the job: from the execution state, the recovery, or the record step (lock progress). */
export function savepointPathOf(s: AnyState): string | undefined {
  return s.savepointStatus?.location ?? s.recovery?.savepointPath ?? s.resubmit?.savepointPath ?? (s.record as { savepointPath?: string } | undefined)?.savepointPath;
}

export function phasesOf(s: AnyState, now: number): Record<string, number> {
  const p: Record<string, number> = {};
  const plan = s.plan!;
  const lockAt = s.lock?.at ?? plan.startedAt;
  if (s.slots?.done && s.slots.at) p.capacityMs = s.slots.at - lockAt;
  if (s.savepoint && s.savepointStatus?.done) p.savepointMs = s.savepointStatus.at - s.savepoint.at;
  if (s.savepointStatus?.done && s.running?.done) p.restartMs = s.running.at - s.savepointStatus.at;
  const inPlaceFrom = s.requirements?.at ?? s.shrink?.at ?? s.slots?.at ?? lockAt;
  if (s.inPlace?.done) p.inPlaceMs = s.inPlace.at - inPlaceFrom;
  const rescaledAt = s.running?.at ?? s.inPlace?.at;
  if (s.drain && rescaledAt !== undefined) p.drainMs = s.drain.at - rescaledAt;
  p.totalMs = now - plan.startedAt;
  return p;
}

/**
 * Only a plan that Validate made for *this* execution counts: after a Validate failure the state is the raw input,
 * which must not be able to pass itself off as a plan.
 */
export function ownState(state: AnyState, execution: ExecutionRef): AnyState {
  return state.plan && state.plan.owner !== execution.id ? { ...state, plan: undefined } : state;
}

function restartSecondsOf(p: Record<string, number>): number | undefined {
  const ms = p.restartMs ?? p.inPlaceMs;
  return ms === undefined ? undefined : Math.round(ms / 100) / 10;
}

export async function recordStep(deps: WorkflowDeps, rawState: AnyState, execution: ExecutionRef): Promise<{ at: number; outcome: Outcome; savepointPath?: string }> {
  const state = ownState(rawState, execution);
  const now = deps.now();
  const outcome = outcomeOf(state);
  const plan = state.plan;
  if (!plan) return { at: now, outcome };
  let savepointPath = savepointPathOf(state);
  if (!savepointPath) {
    const lock = await deps.store.getLock(plan.job);
    if (lock?.owner === plan.owner && typeof lock.progress.savepointPath === 'string') savepointPath = lock.progress.savepointPath;
  }
  const rescaled = outcome === 'succeeded' || outcome === 'succeeded-drain-timeout' || outcome === 'rescaled-cleanup-failed';
  const phases = phasesOf(state, now);
  await deps.store.appendHistory({
    kind: outcome === 'dry-run' ? 'decision' : 'rescale',
    job: plan.job,
    at: plan.startedAt,
    id: execution.name || plan.executionName,
    detail: {
      outcome,
      execution: plan.owner,
      startedBy: plan.startedBy,
      reason: plan.reason,
      mode: plan.mode,
      stopWithSavepoint: plan.stopWithSavepoint,
      direction: plan.direction,
      before: { parallelism: plan.from.parallelism, taskManagers: plan.from.taskManagers, jobId: plan.from.jobId },
      // What Validate planned, kept for every outcome: a dry run or a failed rescale shows what it meant to do.
      planned: { parallelism: plan.to.parallelism, taskManagers: plan.to.taskManagers },
      after: rescaled
        ? { parallelism: plan.to.parallelism, taskManagers: state.release ? state.release.desired : (state.capacity?.desired ?? state.shrink?.desired ?? plan.to.taskManagers), jobId: state.resubmit?.jobId ?? state.recovery?.jobId ?? plan.from.jobId }
        : { parallelism: state.recovery?.parallelism ?? plan.from.parallelism, jobId: state.recovery?.jobId ?? plan.from.jobId },
      savepointPath,
      released: state.release?.released,
      phases,
      // Observed rescale downtime (savepoint → new job running, or the in-place restart): the scaler's policy uses it
      // for restart compensation (functions/scaler/snapshot.ts reads detail.restartSeconds).
      restartSeconds: rescaled ? restartSecondsOf(phases) : undefined,
      error: state.error ? causeMessage(state.error) : undefined,
      recovery: state.recovery,
      finishedAt: now,
    },
  });
  if (rescaled) {
    await deps.store.setLastRescaleAt(plan.job, now);
    // The dashboard's "rescale duration" widget: wall time from the workflow's start to the job running rescaled.
    deps.publishMetric?.(plan.job, DECISION_METRICS.rescaleDuration, Math.round((now - plan.startedAt) / 100) / 10, 'Seconds');
  }
  return { at: now, outcome, savepointPath };
}

export async function unlockStep(deps: WorkflowDeps, rawState: AnyState, execution: ExecutionRef): Promise<WorkflowState['unlock']> {
  const state = ownState(rawState, execution);
  const now = deps.now();
  if (!state.plan) return { released: false, at: now };
  if (outcomeOf(state) === 'failed-stop-pending') {
    // The stop may still end the job: no other rescale may start on top of it. Kept (and marked) until it expires.
    const lock = await deps.store.getLock(state.plan.job);
    if (lock?.owner === state.plan.owner) {
      await deps.store.recordLockProgress(state.plan.job, state.plan.owner, { [KEPT_PROGRESS_KEY]: `stop-with-savepoint pending at ${new Date(now).toISOString()}` });
      return { released: false, keptUntil: await holdLock(deps, state.plan.job, state.plan.owner, lock, now), at: now };
    }
  }
  const r = await deps.store.releaseLock(state.plan.job, state.plan.owner);
  return { ...r, at: now };
}

/**
 * How long a lock kept on purpose (a stop-with-savepoint still pending, a job that needs a person) is held from the
 * keep: the heartbeat TTL is minutes, too short for a person to act on the notification; an hour is enough for
 * that and short enough that autoscaling resumes by itself. Deleting the lock item releases it sooner.
 */
export const KEPT_LOCK_SECONDS = 3600;

/** Extends a kept lock to KEPT_LOCK_SECONDS from now (never shortens it); the expiry it has afterwards. */
export async function holdLock(deps: WorkflowDeps, job: string, owner: string, lock: { token?: string; expiresAtMs: number }, now: number): Promise<number> {
  try {
    return (await deps.store.renewLock(job, owner, lock.token, { now, ttlSeconds: KEPT_LOCK_SECONDS })).expiresAtMs;
  } catch (e) {
    deps.log.warn(`could not extend the kept lock of job "${job}"`, { job, error: (e as Error).message });
    return lock.expiresAtMs;
  }
}

const ascii = (s: string) => s.replace(/→/g, '->').replace(/[^\x20-\x7e]/g, '?');

export interface Message {
  subject: string;
  body: string;
  outcome: Outcome;
}

export function formatNotification(rawState: AnyState, execution: ExecutionRef): Message {
  const state = ownState(rawState, execution);
  const outcome = outcomeOf(state);
  const plan = state.plan;
  const jobName = plan?.job ?? (typeof state.job === 'string' ? state.job : 'unknown job');
  const err = state.error ? causeMessage(state.error) : undefined;
  const sp = savepointPathOf(state);
  const from = plan?.from.parallelism;
  const to = plan?.to.parallelism;
  const mode = plan ? (plan.stopWithSavepoint ? 'stop-with-savepoint' : plan.mode) : '';
  const lines: string[] = [];
  let subject: string;
  let todo: string | undefined;
  // An execution stopped from outside (console, timeout) did not "fail": say how it ended.
  const failed = state.ended ? `ended ${state.ended.status}` : 'failed';
  switch (outcome) {
    case 'succeeded':
      subject = `${jobName} rescaled ${from} -> ${to} (${mode})`;
      lines.push(`Job "${jobName}" now runs at parallelism ${to} (was ${from}).`);
      break;
    case 'succeeded-drain-timeout': {
      const kept = (state.drain?.surplus ?? 0) - (state.release?.released.length ?? 0);
      subject = `${jobName} rescaled ${from} -> ${to}; ${kept} TaskManager(s) kept (drain timeout)`;
      lines.push(
        `Job "${jobName}" now runs at parallelism ${to} (was ${from}).`,
        `Scale-in: ${kept} surplus TaskManager member(s) still held slots after the drain timeout (${plan?.timeouts.drain} s) and were kept; ${state.release?.released.length ?? 0} idle member(s) were released.`,
      );
      todo = 'Nothing urgent: the job is healthy. The next scale-in removes the remaining members once they are idle; raise drainTimeoutSeconds if this repeats.';
      break;
    }
    case 'rescaled-cleanup-failed':
      subject = state.ended
        ? `${jobName} rescaled ${from} -> ${to}; the execution ${failed} before it finished`
        : `${jobName} rescaled ${from} -> ${to}; releasing TaskManagers failed`;
      lines.push(
        state.ended
          ? `Job "${jobName}" runs at parallelism ${to} (was ${from}): the rescale itself was done when the execution ${failed}.`
          : `Job "${jobName}" runs at parallelism ${to} (was ${from}), but a step after the rescale failed: ${err}.`,
      );
      todo = 'The job is healthy. Surplus TaskManagers may still be running: check the capacity target and release idle members (or let the next scale-in do it).';
      break;
    case 'dry-run':
      subject = `${jobName} dry run: would rescale ${from} -> ${to} (${mode})`;
      lines.push(`Dry run: nothing was changed. The rescale would be: ${plan?.summary}.`);
      break;
    case 'no-change':
      subject = `${jobName} already at parallelism ${from}; nothing to do`;
      lines.push(`Job "${jobName}" already runs at parallelism ${from}. Nothing was changed.`);
      break;
    case 'rejected':
      subject = `rescale of ${jobName} rejected: ${state.error?.Error ?? 'invalid input'}`;
      lines.push(`The request was not carried out and nothing was changed: ${err}.`);
      todo = 'Fix the request (the message names the field and the allowed range) and start a new execution.';
      break;
    case 'busy':
      subject = `rescale of ${jobName} skipped: another rescale is running`;
      lines.push(`Nothing was changed: ${err}.`);
      todo = 'Wait for the running execution to finish; start again if its result is not what you want.';
      break;
    case 'cooldown':
      subject = `rescale of ${jobName} skipped: cooldown`;
      lines.push(`Nothing was changed: ${err}.`);
      break;
    case 'failed-untouched':
      subject = `rescale of ${jobName} ${failed}; job untouched at parallelism ${from}`;
      lines.push(`The rescale failed before the job was stopped, so the job keeps running at parallelism ${from}: ${err}.`);
      todo = 'Nothing is at risk. Look at the error; the scaler will try again after its cooldown, or start a new execution.';
      break;
    case 'failed-rolled-back':
      subject = `rescale of ${jobName} ${failed}; rolled back to parallelism ${from}`;
      lines.push(
        `The rescale failed after the job was stopped: ${err}.`,
        `The job was restored from savepoint ${sp} at its old parallelism ${from} (Flink job ${state.recovery?.jobId}).`,
      );
      todo = 'Check that the job is healthy and investigate why the resubmission failed before trying again.';
      break;
    case 'failed-kept-new':
      subject = `ACTION REQUIRED: rescale of ${jobName} incomplete; job runs at ${to}`;
      lines.push(
        `The rescaled job did not become fully healthy in time (${err}), but it had already completed checkpoints, so it was kept rather than replayed from the savepoint.`,
        `Flink job ${state.recovery?.jobId} runs at parallelism ${to}. The pre-rescale savepoint is ${sp}.`,
      );
      todo = `Check Flink job ${state.recovery?.jobId}. If it is unhealthy, stop it with a savepoint and resubmit from that savepoint at parallelism ${from}.`;
      break;
    case 'failed-stop-pending': {
      const trigger = state.savepoint?.triggerId ?? plan?.savepointTriggerId;
      const jobId = plan?.from.jobId;
      subject = `ACTION REQUIRED: ${jobName} stop-with-savepoint still pending; watch it`;
      lines.push(
        `The rescale failed (${err}) while Flink was still taking the stop-with-savepoint of job ${jobId}; it cannot be withdrawn, and it had not finished when recovery gave up waiting.`,
        `Flink job ${jobId} was still RUNNING at parallelism ${from}.`,
      );
      const kept = state.unlock?.keptUntil ?? state.ended?.lockKeptUntil;
      if (kept !== undefined && !state.ended) {
        lines.push(
          `The job's rescale lock is kept until ${new Date(kept).toISOString()} so no other rescale starts on top of the pending stop (delete the lock item pk "job#${jobName}", sk "lock" from the state table to release it sooner).`,
        );
      }
      todo =
        `Watch GET $FLINK_URL/jobs/${jobId}/savepoints/${trigger} (Flink keeps the result for rest.async.store-duration, 5 min by default). If it ends with a location, Flink has stopped the job: restore it from that savepoint at parallelism ${from} ` +
        `(POST $FLINK_URL/jars/${plan?.jarId}/run with {"savepointPath": "<location>", "parallelism": ${from}}). If it fails, the job keeps running and nothing is needed.`;
      break;
    }
    case 'failed-recovery-incomplete': {
      const ids = plan ? [plan.from.jobId, plan.newJobId, plan.rollbackJobId] : [];
      subject = `ACTION REQUIRED: ${jobName}: recovery incomplete; check the job`;
      lines.push(
        `The rescale failed (${err}), and the recovery could not finish: ${causeMessage(state.recoveryError)}.`,
        `Where the job is now is not known: it may still run at parallelism ${from}, run rescaled, or be stopped.`,
      );
      todo =
        `Look at $FLINK_URL/jobs/overview for Flink jobs ${ids.join(', ')} (the original, the rescaled one, the rollback). If one of them is RUNNING, nothing is lost: leave it. ` +
        (plan?.stopWithSavepoint ? `A stop-with-savepoint may be pending: GET /jobs/${plan.from.jobId}/savepoints/${state.savepoint?.triggerId ?? plan.savepointTriggerId} tells. ` : '') +
        (sp
          ? `Only if none runs, restore from savepoint ${sp} at parallelism ${from} (POST /jars/${plan?.jarId}/run with {"savepointPath": "${sp}", "parallelism": ${from}}).`
          : `Only if none runs, restore it from its latest retained checkpoint at parallelism ${from}.`);
      break;
    }
    case 'failed-lock-lost': {
      const rescaled = state.running?.done || state.inPlace?.done;
      subject = `rescale of ${jobName} stopped: the lock moved on; this execution acted on nothing more`;
      lines.push(
        `A step found that this execution no longer holds the job's rescale lock (it expired and was taken over, or was deleted), so it did not act: ${causeMessage(state.recoveryError ?? state.error)}.`,
        rescaled
          ? `The job had already been rescaled to parallelism ${to}; releasing surplus TaskManagers is left to whoever holds the lock now (or the next scale-in).`
          : `The job was not stopped by this execution. What it changed before (capacity ${state.capacity ? `${state.capacity.previous} -> ${state.capacity.desired}` : state.shrink ? `${state.shrink.previous} -> ${state.shrink.desired}` : 'unchanged'}${state.requirements ? ', resource requirements' : ''}) was not undone: undoing it without the lock could fight the new holder.`,
      );
      todo = 'Check the job and its capacity once the lock holder is done. A lock should only expire if a step stalled for longer than its TTL: look for a stuck Lambda or a DynamoDB outage.';
      break;
    }
    case 'failed-lock-lost-job-stopped':
      subject = `ACTION REQUIRED: ${jobName} was stopped, and the lock moved on; check it runs`;
      lines.push(
        `This execution stopped the job (savepoint ${sp}) and then lost the job's rescale lock to another owner before it could resubmit or roll back, so it acted on nothing more: ${causeMessage(state.recoveryError)}.`,
      );
      todo = `Look at $FLINK_URL/jobs/overview. If no Flink job "${plan?.flinkJobName}" is RUNNING, restore it from savepoint ${sp} at parallelism ${from}: POST $FLINK_URL/jars/${plan?.jarId}/run with {"savepointPath": "${sp}", "parallelism": ${from}}.`;
      break;
    case 'failed-job-down':
    case 'failed-rollback-failed':
      subject = `ACTION REQUIRED: ${jobName} is not running; restore it from ${sp ? 'savepoint' : 'checkpoint'}`;
      lines.push(`The rescale failed after the job was stopped (${err}), and the automatic rollback ${outcome === 'failed-job-down' ? 'had no savepoint to use' : `failed: ${causeMessage(state.recoveryError)}`}.`);
      todo = sp
        ? `Restore the job from savepoint ${sp} at parallelism ${from}: POST $FLINK_URL/jars/${plan?.jarId}/run with {"savepointPath": "${sp}", "parallelism": ${from}} (or flink run -s ${sp} -p ${from} ...).`
        : (state.recovery?.manualAction ?? 'Resubmit the job from its latest retained checkpoint.');
      break;
  }
  if (state.ended) {
    lines.unshift(`The execution ended ${state.ended.status} without running its own recovery; the watchdog checked the job in Flink and acted on what it found.`);
    if (state.ended.lockKeptUntil !== undefined) {
      lines.push(
        `The job's rescale lock is kept until ${new Date(state.ended.lockKeptUntil).toISOString()} so no automatic rescale touches the job while you restore it (delete the lock item pk "job#${jobName}", sk "lock" from the state table to release it sooner).`,
      );
    }
  }
  const body = [
    `flink-elastic rescale: ${outcome.toUpperCase()}`,
    '',
    ...lines,
    '',
    `Job:        ${jobName}${plan ? ` (Flink job "${plan.flinkJobName}" at its flink.url, written $FLINK_URL below; Flink ${plan.flinkVersion})` : ''}`,
    plan ? `Plan:       ${plan.summary}` : undefined,
    plan ? `Reason:     ${plan.reason}` : undefined,
    plan ? `Started by: ${plan.startedBy}` : undefined,
    sp ? `Savepoint:  ${sp}` : undefined,
    state.release?.released.length ? `Released:   ${state.release.released.join(', ')}` : undefined,
    state.recovery?.actions.length ? `Recovery:   ${state.recovery.actions.join('; ')}` : undefined,
    err ? `Error:      ${err}` : undefined,
    plan ? `Phases:     ${Object.entries(phasesOf(state, state.record?.at ?? plan.startedAt)).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ')}` : undefined,
    `Execution:  ${execution.id}`,
    todo ? '' : undefined,
    todo ? `What to do: ${todo}` : undefined,
  ]
    .filter((l): l is string => l !== undefined)
    .join('\n');
  return { subject: ascii(`flink-elastic: ${subject}`).slice(0, 99), body, outcome };
}

export async function notifyStep(deps: WorkflowDeps, rawState: AnyState, execution: ExecutionRef, opts: NotifyOptions = {}): Promise<WorkflowState['notify'] & { outcome: Outcome }> {
  const state = ownState(rawState, execution);
  const msg = formatNotification(state, execution);
  const now = deps.now();
  const job = state.plan?.job ?? (typeof state.job === 'string' ? state.job : '_unknown');
  // A Notify task delivered twice sends one message; one whose publish failed sends it from the outbox.
  const r = await notifyOnce(deps, job, `notify#${execution.name}`, {
    subject: msg.subject,
    message: msg.body,
    attributes: { job, outcome: msg.outcome, actionRequired: String(ACTION_REQUIRED.includes(msg.outcome)) },
  }, opts);
  return { ...(r.messageId ? { messageId: r.messageId } : {}), subject: msg.subject, at: now, outcome: msg.outcome };
}

/** SNS Publish of an outbox message: its attributes as String attributes, plus `dedupId`. */
export function snsPublish(deps: Pick<WorkflowDeps, 'sns'>): Publish {
  return async (m, dedupId) => {
    const attrs = { ...m.attributes, dedupId };
    const r = await deps.sns.send(
      publishCommand({
        TopicArn: m.topicArn,
        Subject: m.subject,
        Message: m.message,
        MessageAttributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
      }),
    );
    return r.MessageId;
  };
}

export interface NotifyOptions {
  /**
   * The claim is shared with an earlier sender (the watchdog after the workflow's Notify): when that sender's message
   * is still unsent in the outbox, send this one in its place; when it was sent, send nothing (one message per claim).
   */
  supersede?: boolean;
}

/**
 * Sends one notification once per `claim` (e.g. `notify#<execution>`) through the outbox (adapters/notification-
 * outbox.ts): the first delivery writes it to the outbox and publishes it; if SNS fails, the error propagates (the
 * state machine retries) and the message stays in the outbox; a retry (claim already taken) sends it from there, and
 * if every retry fails, the scaler's next invocation for the job does. `messageId` is absent when nothing was sent
 * now (already sent, or another sender holds it).
 */
export async function notifyOnce(
  deps: WorkflowDeps,
  job: string,
  claim: string,
  m: { subject: string; message: string; attributes: Record<string, string> },
  opts: NotifyOptions = {},
): Promise<{ messageId?: string }> {
  const now = deps.now();
  const publish = snsPublish(deps);
  const message: OutboxMessage = { topicArn: deps.topicArn, ...m, createdAt: now };
  if (!(await deps.store.claimOnce(job, claim, now, 7 * 86_400))) {
    if (opts.supersede) {
      // The watchdog knows more than the workflow did: while the workflow's message is still unsent in the outbox,
      // this one takes its place (leased first, so no other sender is publishing the old one meanwhile).
      if (!(await deps.store.leaseOutbox(job, claim, { now, leaseUntil: now + OUTBOX_LEASE_SECONDS * 1000 }))) return {};
      const r = await sendThroughOutbox(deps.store, publish, job, claim, message, now, deps.log);
      return r ? { messageId: r } : {};
    }
    const r = await resendFromOutbox(deps.store, publish, job, claim, now, deps.log);
    return r.messageId ? { messageId: r.messageId } : {};
  }
  try {
    await deps.store.putOutbox(job, claim, message, { now, leaseUntil: now + OUTBOX_LEASE_SECONDS * 1000, ttlSeconds: OUTBOX_TTL_SECONDS });
  } catch (e) {
    // Not written: the claim must not stand for a message nobody will send (the retry claims and writes it again).
    await deps.store.releaseClaim(job, claim).catch((e2: unknown) => deps.log.error(`could not give back the claim ${claim} of job ${job}`, { error: (e2 as Error).message }));
    throw e;
  }
  const r = await publishLeased(deps.store, publish, job, claim, message, deps.log);
  return r ? { messageId: r } : {};
}

/**
 * An SNS PublishCommand. @aws-sdk/client-sns is required here, on the first notification, not when the workflow
 * Lambda loads: most steps never notify.
 */
export function publishCommand(input: PublishCommandInput): PublishCommand {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PublishCommand } = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
  return new PublishCommand(input);
}

