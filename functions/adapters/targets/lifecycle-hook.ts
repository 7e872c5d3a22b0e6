/**
 * ASG termination lifecycle hook: whoever terminates a TaskManager instance (flink-elastic, a person, AZ rebalancing,
 * instance refresh), the instance waits in Terminating:Wait until its TaskManager holds no slots, then the action is
 * completed with CONTINUE. Bounded by the job's drain timeout; on timeout the outcome is explicit and notified.
 *
 * Design: "check once". `checkLifecycleAction` looks once (Flink TaskManagers + the group's members), and either
 * completes the action (`done: true`) or records a heartbeat and returns `{done: false, nextCheckSeconds, action}`.
 * That result is itself a valid input for the next check, so a Step Functions Wait loop (or the handler's bounded
 * in-invocation loop) drives it; nothing ever busy-waits inside Lambda beyond its own timeout.
 *
 * Spot interruptions are reported, not fought: the instance goes away two minutes after the warning whatever we do.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import type { FlinkApi, TaskManagerInfo } from '../flink/types';
import { asgError, type AsgCapacityTarget } from './asg';
import type { TargetDescription } from './types';
import { isIdle } from './common';
import { preview } from '../../core/preview';

export const LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';
export const SPOT_WARNING_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';
export const TERMINATING_TRANSITION = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** Everything needed to heartbeat and complete one lifecycle action; also the state carried between checks. */
export interface LifecycleActionRef {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  instanceId: string;
  lifecycleActionToken: string;
  /** When the instance entered Terminating:Wait (the event's time), epoch ms. The drain timeout counts from here. */
  startedAt: number;
}

export type LifecycleInput =
  | { kind: 'lifecycle-action'; action: LifecycleActionRef }
  | { kind: 'spot-interruption'; instanceId: string; instanceAction: string; at: number };

/** A bad event / execution input: names the field and what was expected. Nothing has been changed. */
export class LifecycleInputError extends Error {
  constructor(
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`lifecycle hook input: ${field} must be ${expected} (got ${preview(got)})`);
    this.name = 'LifecycleInputError';
  }
}

const str = (o: Record<string, unknown>, field: string, path: string, pattern?: RegExp, expected = 'a non-empty string'): string => {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0 || (pattern && !pattern.test(v))) throw new LifecycleInputError(`${path}${field}`, expected, v);
  return v;
};
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

function timeOf(v: unknown, field: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new LifecycleInputError(field, 'an ISO-8601 time or epoch milliseconds', v);
  return t;
}

/**
 * Accepts the EventBridge lifecycle-action event, the EventBridge Spot interruption warning, or the state a previous
 * check returned (`{action: {...}}`).
 */
export function parseLifecycleInput(input: unknown): LifecycleInput {
  if (input === null || typeof input !== 'object') throw new LifecycleInputError('(event)', 'an object', input);
  const e = input as Record<string, unknown>;
  if (e.action && typeof e.action === 'object') {
    const a = e.action as Record<string, unknown>;
    return {
      kind: 'lifecycle-action',
      action: {
        autoScalingGroupName: str(a, 'autoScalingGroupName', 'action.'),
        lifecycleHookName: str(a, 'lifecycleHookName', 'action.'),
        instanceId: str(a, 'instanceId', 'action.', INSTANCE_ID, 'an EC2 instance id (i-...)'),
        lifecycleActionToken: str(a, 'lifecycleActionToken', 'action.'),
        startedAt: timeOf(a.startedAt, 'action.startedAt'),
      },
    };
  }
  const detailType = e['detail-type'];
  const detail = e.detail;
  if (detail === null || typeof detail !== 'object') throw new LifecycleInputError('detail', 'an object (EventBridge event)', detail);
  const d = detail as Record<string, unknown>;
  if (detailType === LIFECYCLE_DETAIL_TYPE) {
    if (d.LifecycleTransition !== TERMINATING_TRANSITION) throw new LifecycleInputError('detail.LifecycleTransition', `"${TERMINATING_TRANSITION}"`, d.LifecycleTransition);
    return {
      kind: 'lifecycle-action',
      action: {
        autoScalingGroupName: str(d, 'AutoScalingGroupName', 'detail.'),
        lifecycleHookName: str(d, 'LifecycleHookName', 'detail.'),
        instanceId: str(d, 'EC2InstanceId', 'detail.', INSTANCE_ID, 'an EC2 instance id (i-...)'),
        lifecycleActionToken: str(d, 'LifecycleActionToken', 'detail.'),
        startedAt: timeOf(e.time, 'time'),
      },
    };
  }
  if (detailType === SPOT_WARNING_DETAIL_TYPE) {
    return {
      kind: 'spot-interruption',
      instanceId: str(d, 'instance-id', 'detail.', INSTANCE_ID, 'an EC2 instance id (i-...)'),
      instanceAction: typeof d['instance-action'] === 'string' ? (d['instance-action'] as string) : 'terminate',
      at: timeOf(e.time, 'time'),
    };
  }
  throw new LifecycleInputError('detail-type', `"${LIFECYCLE_DETAIL_TYPE}" or "${SPOT_WARNING_DETAIL_TYPE}"`, detailType);
}

export type LifecycleOutcome =
  /** The instance's TaskManager holds no slots (or it has none): completed with CONTINUE. */
  | 'drained'
  /** Drain timeout reached with slots still held: completed with the configured result, notified. */
  | 'drain-timeout'
  /** The lifecycle action no longer exists (completed elsewhere, hook timed out, or the instance is gone): notified. */
  | 'action-gone'
  /** A Spot interruption warning: reported, nothing done. */
  | 'spot-interruption'
  /** The group / instance is not one flink-elastic manages: nothing done. */
  | 'not-managed'
  /** Dry run only: the TaskManager still holds slots; a real run would heartbeat and check again. */
  | 'drain-pending';

export type LifecycleResult =
  | {
      done: false;
      /** Call again (with this whole object as input) after this many seconds. */
      nextCheckSeconds: number;
      action: LifecycleActionRef;
      waitedSeconds: number;
      reason: string;
    }
  | {
      done: true;
      outcome: LifecycleOutcome;
      /** The result sent with CompleteLifecycleAction, when one was sent. */
      completedWith?: 'CONTINUE' | 'ABANDON';
      /** True when the outcome must be published to the notification topic. */
      notify: boolean;
      message: string;
      instanceId: string;
      autoScalingGroupName?: string;
      taskManagerId?: string;
      busySlots?: number;
      waitedSeconds?: number;
    };

export interface LifecycleCheckDeps {
  autoScaling: AutoScalingClient;
  flink: FlinkApi;
  /** The group's capacity target (used to map the instance to its TaskManager the same way scale-in does). */
  target: AsgCapacityTarget;
  drainTimeoutSeconds: number;
  /** What to complete the action with when the drain timeout is reached (default ABANDON). */
  onTimeout?: 'CONTINUE' | 'ABANDON';
  /** Seconds between checks (default 15). */
  pollSeconds?: number;
  now?: () => number;
  /** Called with one line per step, for logs. */
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** Decide and explain, but neither heartbeat nor complete the action (the hook's own timeout then applies). */
  dryRun?: boolean;
}

/** Where a TaskManager on this instance stands. */
interface InstanceDrain {
  state: 'idle' | 'busy' | 'unknown' | 'gone';
  taskManagerId?: string;
  busySlots?: number;
  reason: string;
}

/** Is there a TaskManager on `instanceId` that holds slots? Never guesses: unknown unless it can be shown. */
export function drainStateOf(instanceId: string, d: TargetDescription, tms: TaskManagerInfo[]): InstanceDrain {
  const m = d.members.find((x) => x.id === instanceId);
  if (!m) return { state: 'gone', reason: `${instanceId} is no longer a member of ${d.name}` };
  if (m.taskManagerId !== undefined) {
    if (!m.idle && m.busySlots === undefined) {
      return { state: 'unknown', taskManagerId: m.taskManagerId, reason: `TaskManager ${m.taskManagerId} reported no valid slot counts; treating it as busy` };
    }
    return m.idle
      ? { state: 'idle', taskManagerId: m.taskManagerId, busySlots: 0, reason: `TaskManager ${m.taskManagerId} holds no slots` }
      : { state: 'busy', taskManagerId: m.taskManagerId, busySlots: m.busySlots, reason: `TaskManager ${m.taskManagerId} still holds ${m.busySlots} slot(s)` };
  }
  // Unmapped: it can only run a TaskManager that is itself unmapped. If none of those holds slots, nothing is lost.
  const busyUnmapped = tms.filter((t) => d.unmappedTaskManagers.includes(t.id) && !isIdle(t));
  if (busyUnmapped.length === 0) return { state: 'idle', reason: `no TaskManager holding slots can be on ${instanceId} (no unmapped busy TaskManager)` };
  return {
    state: 'unknown',
    reason: `${instanceId} could not be mapped to a TaskManager and ${busyUnmapped.length} unmapped TaskManager(s) hold slots (${busyUnmapped.map((t) => t.id).join(', ')}); treating it as busy`,
  };
}

/** One check of one lifecycle action (see the module comment). */
export async function checkLifecycleAction(action: LifecycleActionRef, deps: LifecycleCheckDeps): Promise<LifecycleResult> {
  const now = (deps.now ?? Date.now)();
  const waitedSeconds = Math.max(0, Math.round((now - action.startedAt) / 1000));
  const deadline = action.startedAt + deps.drainTimeoutSeconds * 1000;
  const log = deps.log ?? (() => {});
  const base = { instanceId: action.instanceId, autoScalingGroupName: action.autoScalingGroupName, waitedSeconds };

  let tms: TaskManagerInfo[] | undefined;
  let flinkError: string | undefined;
  try {
    tms = await deps.flink.taskManagers();
  } catch (e) {
    flinkError = `Flink REST (the job's flink.url) unreachable: ${(e as Error).message}`;
  }
  const drain: InstanceDrain = tms
    ? drainStateOf(action.instanceId, await deps.target.describe(tms), tms)
    : { state: 'unknown', reason: `${flinkError}; cannot tell whether the TaskManager holds slots` };
  log('lifecycle check', { ...base, state: drain.state, reason: drain.reason });

  const complete = async (result: 'CONTINUE' | 'ABANDON'): Promise<boolean> => {
    if (deps.dryRun) return true;
    try {
      await deps.autoScaling.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: action.autoScalingGroupName,
          LifecycleHookName: action.lifecycleHookName,
          InstanceId: action.instanceId,
          LifecycleActionToken: action.lifecycleActionToken,
          LifecycleActionResult: result,
        }),
      );
      return true;
    } catch (e) {
      if (isActionGone(e)) return false;
      throw asgError(action.autoScalingGroupName, 'CompleteLifecycleAction', e);
    }
  };
  const gone = (): LifecycleResult => ({
    done: true,
    outcome: 'action-gone',
    notify: true,
    message: `Lifecycle action for ${action.instanceId} in ${action.autoScalingGroupName} no longer exists (completed elsewhere, hook timed out, or the instance was already terminated, e.g. by a Spot interruption); ${drain.reason}`,
    ...base,
    taskManagerId: drain.taskManagerId,
    busySlots: drain.busySlots,
  });

  if (drain.state === 'idle' || drain.state === 'gone') {
    if (!(await complete('CONTINUE'))) return gone();
    return {
      done: true,
      outcome: 'drained',
      completedWith: 'CONTINUE',
      notify: false,
      message: `${deps.dryRun ? 'dry run: would complete with CONTINUE; ' : ''}${action.instanceId} released after ${waitedSeconds}s: ${drain.reason}`,
      ...base,
      taskManagerId: drain.taskManagerId,
      busySlots: 0,
    };
  }

  if (now >= deadline) {
    const result = deps.onTimeout ?? 'ABANDON';
    if (!(await complete(result))) return gone();
    const effect =
      result === 'ABANDON'
        ? 'completed with ABANDON: the instance is kept only if the group has an instance lifecycle policy that retains on TerminateHookAbandon; otherwise it is terminated'
        : 'completed with CONTINUE: the instance is terminated';
    return {
      done: true,
      outcome: 'drain-timeout',
      completedWith: result,
      notify: true,
      message: `${deps.dryRun ? 'dry run (nothing completed): ' : ''}Drain timeout (${deps.drainTimeoutSeconds}s) reached for ${action.instanceId} in ${action.autoScalingGroupName}: ${drain.reason}; ${effect}. Flink restarts the affected tasks from the last checkpoint.`,
      ...base,
      taskManagerId: drain.taskManagerId,
      busySlots: drain.busySlots,
    };
  }

  const poll = deps.pollSeconds ?? 15;
  const left = Math.ceil((deadline - now) / 1000);
  if (deps.dryRun) {
    return {
      done: true,
      outcome: 'drain-pending',
      notify: false,
      message: `dry run: would heartbeat and keep waiting: ${drain.reason} (${left}s left of ${deps.drainTimeoutSeconds}s)`,
      ...base,
      taskManagerId: drain.taskManagerId,
      busySlots: drain.busySlots,
    };
  }
  try {
    await deps.autoScaling.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: action.autoScalingGroupName,
        LifecycleHookName: action.lifecycleHookName,
        InstanceId: action.instanceId,
        LifecycleActionToken: action.lifecycleActionToken,
      }),
    );
  } catch (e) {
    if (isActionGone(e)) return gone();
    throw asgError(action.autoScalingGroupName, 'RecordLifecycleActionHeartbeat', e);
  }
  return {
    done: false,
    nextCheckSeconds: Math.max(1, Math.min(poll, left)),
    action,
    waitedSeconds,
    reason: `${drain.reason}; waiting (${left}s left of ${deps.drainTimeoutSeconds}s)`,
  };
}

/** "No active Lifecycle Action found with instance ID ..." (ValidationError) */
function isActionGone(e: unknown): boolean {
  const err = e as { name?: string; message?: string };
  return err?.name === 'ValidationError' && /No active Lifecycle Action found/i.test(err.message ?? '');
}

const SPOT_ACTIONS: Record<string, string> = { terminate: 'terminated', stop: 'stopped', hibernate: 'hibernated' };

/** Spot interruption warning: find the member and its TaskManager, and report. Nothing is changed. */
export async function reportSpotInterruption(
  input: { instanceId: string; instanceAction: string; at: number },
  candidates: { target: AsgCapacityTarget; flink: FlinkApi }[],
): Promise<LifecycleResult> {
  for (const c of candidates) {
    let tms: TaskManagerInfo[] = [];
    try {
      tms = await c.flink.taskManagers();
    } catch {
      /* report without TaskManager details */
    }
    const d = await c.target.describe(tms);
    if (!d.members.some((m) => m.id === input.instanceId)) continue;
    const drain = drainStateOf(input.instanceId, d, tms);
    return {
      done: true,
      outcome: 'spot-interruption',
      notify: true,
      message: `Spot interruption warning: ${input.instanceId} in ${d.name} will be ${SPOT_ACTIONS[input.instanceAction] ?? input.instanceAction} in about 2 minutes (not fought). ${drain.reason}. Flink restarts affected tasks from the last checkpoint; the group launches a replacement.`,
      instanceId: input.instanceId,
      autoScalingGroupName: d.name,
      taskManagerId: drain.taskManagerId,
      busySlots: drain.busySlots,
    };
  }
  return { done: true, outcome: 'not-managed', notify: false, message: `${input.instanceId} is not in any Auto Scaling group flink-elastic manages`, instanceId: input.instanceId };
}
