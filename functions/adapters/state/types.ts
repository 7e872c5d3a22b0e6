/**
 * Durable per-job state: the rescale lock, the cooldown clock, the policy's own state, and the history of decisions
 * and rescales. One DynamoDB table (pk/sk strings, TTL attribute `expiresAt`), one partition per job.
 * The DynamoDB implementation is `DynamoStateStore` (dynamo.ts); tests run it against dynalite over loopback.
 */

export interface LockInfo {
  job: string;
  /** Who holds the lock: the Step Functions execution ARN (or another caller-chosen id). */
  owner: string;
  /** Epoch ms when the owner first took the lock. */
  acquiredAt: number;
  /** Epoch ms after which anyone may take the lock over. */
  expiresAtMs: number;
  reason?: string;
  /**
   * Fencing token: a fresh random id each time the lock is taken (a takeover, or the same owner taking it again after
   * it was lost, gets a new one). Every mutating step renews the lock conditionally on owner *and* token just before
   * it acts (`renewLock`), so an execution whose lock moved on acts on nothing. Absent on locks written before tokens.
   */
  token?: string;
  /** Rescale progress the owner records while it holds the lock (e.g. the savepoint path before a cancel). */
  progress: Record<string, string | number | boolean>;
}

export interface AcquireLockOptions {
  /** Current time, epoch ms (callers pass their clock so tests can use virtual time). */
  now: number;
  /** How long the lock is valid without being released. */
  ttlSeconds: number;
  reason?: string;
  /**
   * Progress stored atomically with a newly taken lock (e.g. the rescale plan, so a watchdog can recover an execution
   * that ended without its own recovery). Ignored when this owner already holds the lock.
   */
  progress?: Record<string, string | number | boolean>;
}

export interface RenewLockOptions {
  /** Current time, epoch ms. */
  now: number;
  /** The lock is valid for at least this long from `now` afterwards (an expiry already later is kept, never shortened). */
  ttlSeconds: number;
}

/** A notification waiting in the outbox: what SNS Publish is sent. */
export interface OutboxMessage {
  topicArn: string;
  subject: string;
  message: string;
  /** SNS String message attributes (job, outcome, ...); `dedupId` is added when it is sent. */
  attributes: Record<string, string>;
  /** Epoch ms when it was first written. */
  createdAt: number;
}

export interface AcquireLockResult {
  lock: LockInfo;
  /** False when this owner already held the lock (a task delivered twice): nothing was changed. */
  acquired: boolean;
  /** The expired lock this call took over, if any. */
  tookOverFrom?: { owner: string; expiresAtMs: number };
}

export interface ReleaseLockResult {
  /** True when this call deleted the lock; false when the owner did not hold it (already released, or never held). */
  released: boolean;
  /** Who holds it now, when somebody else does. */
  heldBy?: string;
}

export type HistoryKind = 'decision' | 'rescale';

export interface HistoryEntry {
  kind: HistoryKind;
  job: string;
  /** Epoch ms. */
  at: number;
  /** Unique per entry (e.g. execution name); makes writes idempotent: the same id at the same time is written once. */
  id: string;
  /** Free-form, JSON-serialisable details (decision inputs and reason; rescale before/after, savepoint, phases). */
  detail: Record<string, unknown>;
}

export interface PolicyState {
  state: unknown;
  /** Starts at 1 with the first write; every successful write increments it. */
  version: number;
  updatedAt: number;
}

export interface StateStore {
  /**
   * Takes the job's rescale lock. Fails fast with `LockHeldError` (naming the holder and its expiry) when another
   * owner holds an unexpired lock. An expired lock is taken over. The same owner asking again gets its lock back
   * unchanged (`acquired: false`), so a task delivered twice neither fails nor acts twice.
   */
  acquireLock(job: string, owner: string, opts: AcquireLockOptions): Promise<AcquireLockResult>;
  /** Releases the lock only if `owner` holds it. Idempotent: releasing twice returns `released: false` the second time. */
  releaseLock(job: string, owner: string): Promise<ReleaseLockResult>;
  getLock(job: string): Promise<LockInfo | undefined>;
  /**
   * Heartbeat and fence in one conditional write: extends the lock's expiry if `owner` still holds it with this
   * `token` (undefined: a lock written without one). Throws `LockLostError` when the lock is gone or another owner or
   * another generation of the lock holds it. An expired lock nobody took over is still this owner's: renewing it is
   * atomic with respect to a takeover, so at most one of the two wins.
   */
  renewLock(job: string, owner: string, token: string | undefined, opts: RenewLockOptions): Promise<LockInfo>;
  /** Records progress on a held lock; throws `LockLostError` when `owner` no longer holds it. */
  recordLockProgress(job: string, owner: string, progress: Record<string, string | number | boolean>): Promise<void>;

  /** Epoch ms of the last completed rescale, for the cooldown. */
  getLastRescaleAt(job: string): Promise<number | undefined>;
  /** Moves the cooldown clock forward (never back). */
  setLastRescaleAt(job: string, at: number): Promise<void>;

  getPolicyState(job: string): Promise<PolicyState | undefined>;
  /**
   * Writes the policy state if its stored version is still `expectedVersion` (0 = nothing stored yet).
   * Returns the new version; throws `VersionConflictError` when someone else wrote in between.
   */
  putPolicyState(job: string, state: unknown, expectedVersion: number, now: number): Promise<number>;

  /** The job's seasonal demand profile (policy.forecast; opaque here), or undefined when none is stored. */
  getForecastProfile(job: string): Promise<unknown>;
  /** Stores the profile (one item per job, last write wins: the scaler writes it once a decision). */
  putForecastProfile(job: string, profile: unknown, now: number): Promise<void>;

  /**
   * Claims a one-time key (e.g. "notify#<execution>", "alarm#<id>") for `ttlSeconds`. True for the first caller,
   * false for every later one: duplicate deliveries act once.
   */
  claimOnce(job: string, key: string, now: number, ttlSeconds: number): Promise<boolean>;
  /**
   * Gives a claim back (the claimant could not do what it claimed, e.g. an SNS publish failed), so the retry of the
   * same delivery can claim it again. Idempotent.
   */
  releaseClaim(job: string, key: string): Promise<void>;

  /**
   * The notification outbox (functions/adapters/notification-outbox.ts): a message is written here before it is
   * published and deleted once SNS took it, so a publish that fails through every retry is sent later.
   * `putOutbox` writes (or overwrites) the item leased to the writer until `leaseUntil` (epoch ms); `leaseOutbox`
   * takes the lease of an existing item whose lease has run out (conditional write: one taker at a time) and returns
   * it, or undefined; `releaseOutboxLease` ends a lease early (after a failed publish); `listOutbox` names a job's
   * items (one Query).
   */
  putOutbox(job: string, key: string, message: OutboxMessage, opts: { now: number; leaseUntil: number; ttlSeconds: number }): Promise<void>;
  leaseOutbox(job: string, key: string, opts: { now: number; leaseUntil: number }): Promise<(OutboxMessage & { attempts: number }) | undefined>;
  releaseOutboxLease(job: string, key: string, error: string): Promise<void>;
  deleteOutbox(job: string, key: string): Promise<void>;
  listOutbox(job: string): Promise<string[]>;

  /** Appends a decision or rescale record. Writing the same (kind, at, id) twice stores it once. */
  appendHistory(entry: HistoryEntry): Promise<void>;
  /** History of one kind, newest first. */
  history(job: string, kind: HistoryKind, opts?: { limit?: number }): Promise<HistoryEntry[]>;
}

export class LockHeldError extends Error {
  override readonly name = 'LockHeld';
  constructor(
    readonly job: string,
    readonly holder: string,
    readonly expiresAtMs: number,
    readonly reason?: string,
  ) {
    super(
      `job "${job}" is locked by ${holder}${reason ? ` (${reason})` : ''} until ${new Date(expiresAtMs).toISOString()}; ` +
        'one rescale per job at a time: wait for it to finish (or for the lock to expire)',
    );
  }
}

export class LockLostError extends Error {
  override readonly name = 'LockLost';
  constructor(
    readonly job: string,
    readonly owner: string,
    readonly holder?: string,
  ) {
    super(`job "${job}": ${owner} no longer holds the rescale lock${holder ? ` (held by ${holder})` : ' (no lock held)'}`);
  }
}

export class VersionConflictError extends Error {
  override readonly name = 'VersionConflict';
  constructor(
    readonly job: string,
    readonly expected: number,
    readonly actual: number | undefined,
  ) {
    super(`policy state of job "${job}" changed concurrently: expected version ${expected}, found ${actual ?? 'none'}; re-read and retry`);
  }
}
