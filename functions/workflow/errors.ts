/**
 * Errors a workflow step throws. Step Functions matches Retry/Catch on the error *name* (Lambda reports
 * `errorType` = `error.name`), so every name here is part of the state machine's contract:
 *   - `Transient`  retried with backoff (network errors, timeouts, 5xx, 429, 409 from Flink or AWS);
 *   - everything else is final for that step and goes to the state's Catch (abort or rollback).
 */

export const TRANSIENT = 'Transient';

export class WorkflowError extends Error {
  constructor(
    name: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = name;
  }
}

/** Bad execution input or config for this request. Nothing was changed. */
export class InvalidInputError extends WorkflowError {
  constructor(
    readonly problems: { field: string; message: string }[],
    job?: string,
  ) {
    super(
      'InvalidInput',
      `invalid rescale request${job ? ` for job "${job}"` : ''}: ` + problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    );
  }
}

/** A condition that may clear by itself (network, 5xx, throttling): the state machine retries with backoff. */
export class TransientError extends WorkflowError {
  constructor(message: string) {
    super(TRANSIENT, message, true);
  }
}

/** A bounded wait ran out. */
export class WaitTimeoutError extends WorkflowError {
  constructor(what: string, seconds: number, detail: string) {
    super('WaitTimedOut', `${what} did not happen within ${seconds} s: ${detail}`);
  }
}

/** Unknown (possibly stale) state: safer to stop than to act. */
export class PreconditionError extends WorkflowError {
  constructor(message: string) {
    super('PreconditionFailed', message);
  }
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET']);
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'ScalingActivityInProgressFault',
  'ResourceContentionFault',
  'TransactionConflictException',
]);

/**
 * True when an error from the Flink client, the capacity target or an AWS SDK call is worth retrying.
 * Honours an explicit `retryable` flag first (the Flink client's typed errors set it), then HTTP status and
 * network error codes, then AWS SDK error names / `$retryable`.
 */
export function isRetryable(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const err = e as {
    retryable?: unknown;
    $retryable?: unknown;
    code?: unknown;
    name?: unknown;
    status?: unknown;
    statusCode?: unknown;
    response?: { status?: unknown };
    $metadata?: { httpStatusCode?: unknown };
    cause?: unknown;
  };
  if (typeof err.retryable === 'boolean') return err.retryable;
  if (err.$retryable) return true;
  if (typeof err.code === 'string' && RETRYABLE_CODES.has(err.code)) return true;
  if (typeof err.name === 'string' && RETRYABLE_NAMES.has(err.name)) return true;
  const status = [err.status, err.statusCode, err.response?.status, err.$metadata?.httpStatusCode].find((s) => typeof s === 'number') as number | undefined;
  if (status !== undefined) return status === 408 || status === 409 || status === 429 || status >= 500;
  if (err.cause && err.cause !== e) return isRetryable(err.cause);
  // The SDK's retry middleware re-wraps a thrown value that is not an Error of its realm as "AWS SDK error wrapper
  // for Error: connect ECONNREFUSED …", dropping `code`: a network failure all the same (an unreachable SNS endpoint).
  const msg = (e as { message?: unknown }).message;
  if (typeof msg === 'string' && msg.startsWith('AWS SDK error wrapper for ') && [...RETRYABLE_CODES].some((c) => msg.includes(c))) return true;
  return false;
}

/**
 * Normalises anything a step throws into an error whose name the state machine understands:
 * our own WorkflowErrors keep their name, retryable failures become `Transient`, the rest keep their name
 * (prefixed so Catch-all still sees a meaningful type) and message.
 */
export function toStepError(e: unknown, step: string): Error {
  if (e instanceof WorkflowError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (isRetryable(e)) return new TransientError(`${step}: ${message}`);
  const name = e instanceof Error && e.name && e.name !== 'Error' ? e.name : 'StepFailed';
  return new WorkflowError(name, `${step}: ${message}`);
}

/** The message of a caught Step Functions error: `Cause` is a JSON string from Lambda ({errorMessage}) or plain text. */
export function causeMessage(err: { Error?: string; Cause?: string } | undefined): string {
  if (!err) return 'unknown error';
  let msg = err.Cause ?? '';
  try {
    const parsed = JSON.parse(msg) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') msg = parsed.errorMessage;
  } catch {
    /* plain text */
  }
  return msg ? `${err.Error ?? 'Error'}: ${msg}` : (err.Error ?? 'unknown error');
}
