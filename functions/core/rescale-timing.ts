/**
 * Timing of the rescale workflow's wait loops, shared by the state machine (lib/constructs/rescale-workflow.ts:
 * the Wait states) and the step handlers (functions/workflow: how long one check polls Flink inline before it
 * hands back to a Wait state). Pure constants: no I/O.
 *
 * Cost model: Step Functions Standard bills per state transition; one loop iteration is 3 transitions
 * (Check task, Choice, Wait). Each Check task polls Flink inline for up to INLINE_POLL_SECONDS, so a phase that
 * finishes within that budget (most savepoints of small jobs, TaskManager registration on warm pools) costs
 * 2 transitions and adds at most one inline poll interval of latency.
 */
export const WAIT_SECONDS = {
  /** New TaskManagers register with the JobManager (EC2 boot: minutes; pods: seconds). */
  slots: 15,
  /** Savepoint completion. */
  savepoint: 10,
  /** Resubmitted job: all tasks RUNNING (+ first checkpoint). */
  running: 10,
  /** Adaptive/reactive: job runs at the new parallelism. */
  parallelism: 10,
  /** Scale-in: surplus TaskManagers hold no slots. */
  drain: 15,
} as const;

/** How long one Check task keeps polling Flink before returning "not yet" to the state machine. */
export const INLINE_POLL_SECONDS = 20;
/** Interval between Flink polls inside one Check task. */
export const INLINE_POLL_INTERVAL_SECONDS = 2;
/** Upper bound of one step Lambda invocation (inline poll + a few REST timeouts). */
export const STEP_TIMEOUT_SECONDS = 90;
/**
 * Timeout of the watchdog's own function (same code and role as the step function): it waits out the in-flight
 * grace (STEP_TIMEOUT_SECONDS + 30) in place, then recovers, records and notifies.
 */
export const WATCHDOG_TIMEOUT_SECONDS = 300;
/** Bounds of the waits that are not in the job config. */
export const SLOTS_TIMEOUT_SECONDS = 600;
export const RUNNING_TIMEOUT_MIN_SECONDS = 300;
/** Whole-execution guard (the state machine's TimeoutSeconds). */
export const EXECUTION_TIMEOUT_SECONDS = 4 * 3600;
/** Recovery's retries while a stop-with-savepoint is still in progress (lib/constructs/rescale-workflow.ts). */
export const STOP_PENDING_RETRY_INTERVAL_SECONDS = 30;
export const STOP_PENDING_MAX_ATTEMPTS = 20;
/** How long recovery may wait for a pending stop-with-savepoint: every retry, each polling inline. */
export const STOP_PENDING_WINDOW_SECONDS = STOP_PENDING_MAX_ATTEMPTS * (STOP_PENDING_RETRY_INTERVAL_SECONDS + INLINE_POLL_SECONDS);

export type WaitKind = keyof typeof WAIT_SECONDS;

/**
 * Error of the state machine's Fail state for a rescale that completed but whose Unlock failed (the lock is left
 * behind); the watchdog releases the lock of an execution that ended FAILED with it.
 */
export const UNLOCK_FAILED_ERROR = 'UnlockFailed';
/**
 * Error a recovery step throws while a stop-with-savepoint is still in progress; the state machine retries it for
 * longer than `Transient` (functions/workflow/steps.ts StopPendingError).
 */
export const STOP_PENDING_ERROR = 'StopPending';
/**
 * Error a step throws when its fence (renewLock on owner + token, just before acting) finds the lock moved on: it
 * acted on nothing. The state machine sends it to RecordFailure before the cancel (no Abort), to Rollback after it.
 */
export const LOCK_LOST_ERROR = 'LockLost';
/**
 * Owner prefix of the job lock while the scaler changes capacity (seconds): the workflow's Lock step waits for such a
 * lock (Transient, retried) instead of failing as busy.
 */
export const SCALER_LOCK_OWNER_PREFIX = 'scaler:';
