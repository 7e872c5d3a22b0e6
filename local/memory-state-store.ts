/**
 * MemoryStateStore: the StateStore of the simulator's fast mode (local/simulator), in process memory. It keeps the
 * DynamoDB table's items (pk `job#<name>`, sk `lock` | `cooldown` | `policy` | `<kind>#<iso time>#<id>` | `once#<key>`)
 * and evaluates every mutation with the same condition as DynamoStateStore's conditional write, in one synchronous
 * step (what DynamoDB's per-item atomicity gives): the same owner/expiry/token checks, the same "never shortened"
 * renewal, the same second-resolution claim expiry, the same history order (sk descending). Values are copied in and
 * out (policy state as JSON, as the table stores it; history details after the same JSON round trip, frozen), so no
 * caller can change what another reads.
 *
 * test/contract/state-store.test.ts runs the one contract against this store and DynamoStateStore on dynalite; the
 * simulator's equality test (test/local/simulator-fidelity.test.ts) runs whole scenarios on both.
 */
import { randomUUID } from 'node:crypto';
import {
  type AcquireLockOptions,
  type AcquireLockResult,
  type HistoryEntry,
  type HistoryKind,
  LockHeldError,
  type LockInfo,
  LockLostError,
  type OutboxMessage,
  type PolicyState,
  type ReleaseLockResult,
  type RenewLockOptions,
  type StateStore,
  VersionConflictError,
} from '../functions/adapters/state/types';

interface StoredLock {
  owner: string;
  acquiredAt: number;
  expiresAtMs: number;
  reason?: string;
  token?: string;
  progress: Record<string, string | number | boolean>;
}

interface StoredHistory {
  kind: HistoryKind;
  at: number;
  id: string;
  /**
   * The detail as it comes back from the table (JSON text parsed once at write time, so it has the JSON round trip's
   * shape), deeply frozen: every reader gets the same value and none can change it for the next.
   */
  detail: Record<string, unknown>;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

interface JobItems {
  lock?: StoredLock;
  lastRescaleAt?: number;
  policy?: { state: string; version: number; updatedAt: number };
  /** once#<key> → expiresAt (epoch seconds, the table's TTL attribute). */
  once: Map<string, number>;
  /** sk → entry. */
  history: Map<string, StoredHistory>;
  /** Per kind, the sort keys in ascending order (the table's range-key order). */
  order: Map<HistoryKind, string[]>;
  /** sk `forecast`: the rule-10 profile, as JSON text (as the table stores it). */
  forecast?: string;
  /** outbox#<key> → the waiting notification (attributes stored as JSON text, as the table does). */
  outbox: Map<string, { message: OutboxMessage; attributes: string; leaseUntil: number; attempts: number; expiresAt: number; lastError?: string }>;
}

/** A microtask boundary per call, as a network round trip would be (callers racing interleave the same way). */
const tick = () => Promise.resolve();

export interface MemoryStateStoreOptions {
  /**
   * Keep only the newest this many history entries per job and kind (default: all, as the table does until its TTL).
   * A long simulation sets it: the scaler and the workflow read at most the newest 50, so older entries are memory
   * only. `history` refuses a limit above it rather than answer short.
   */
  retainHistory?: number;
}

export class MemoryStateStore implements StateStore {
  private readonly jobs = new Map<string, JobItems>();
  private readonly retain: number;

  constructor(opts: MemoryStateStoreOptions = {}) {
    const r = opts.retainHistory ?? Infinity;
    if (!(r === Infinity || (Number.isInteger(r) && r >= 1))) throw new Error(`MemoryStateStore: retainHistory must be an integer ≥ 1 (got ${r})`);
    this.retain = r;
  }

  private items(job: string): JobItems {
    let j = this.jobs.get(job);
    if (!j) this.jobs.set(job, (j = { once: new Map(), history: new Map(), order: new Map(), outbox: new Map() }));
    return j;
  }

  private lockOf(job: string, l: StoredLock): LockInfo {
    return {
      job,
      owner: l.owner,
      acquiredAt: l.acquiredAt,
      expiresAtMs: l.expiresAtMs,
      reason: l.reason,
      ...(l.token === undefined ? {} : { token: l.token }),
      progress: { ...l.progress },
    };
  }

  async acquireLock(job: string, owner: string, opts: AcquireLockOptions): Promise<AcquireLockResult> {
    if (!owner) throw new Error('acquireLock: owner is required');
    if (!(opts.ttlSeconds > 0)) throw new Error(`acquireLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    await tick();
    const j = this.items(job);
    const cur = j.lock;
    const expiresAtMs = opts.now + opts.ttlSeconds * 1000;
    // DynamoStateStore's condition: attribute_not_exists(pk) OR (expiresAtMs < :now AND owner <> :owner)
    if (!cur || (cur.expiresAtMs < opts.now && cur.owner !== owner)) {
      const token = randomUUID();
      j.lock = { owner, acquiredAt: opts.now, expiresAtMs, reason: opts.reason, token, progress: { ...opts.progress } };
      const lock: LockInfo = { job, owner, acquiredAt: opts.now, expiresAtMs, reason: opts.reason, token, progress: { ...opts.progress } };
      return cur ? { lock, acquired: true, tookOverFrom: { owner: cur.owner, expiresAtMs: cur.expiresAtMs } } : { lock, acquired: true };
    }
    if (cur.owner === owner) return { lock: this.lockOf(job, cur), acquired: false };
    throw new LockHeldError(job, cur.owner, cur.expiresAtMs, cur.reason);
  }

  async releaseLock(job: string, owner: string): Promise<ReleaseLockResult> {
    await tick();
    const j = this.items(job);
    if (j.lock?.owner === owner) {
      delete j.lock;
      return { released: true };
    }
    return j.lock ? { released: false, heldBy: j.lock.owner } : { released: false };
  }

  async getLock(job: string): Promise<LockInfo | undefined> {
    await tick();
    const l = this.jobs.get(job)?.lock;
    return l ? this.lockOf(job, l) : undefined;
  }

  async renewLock(job: string, owner: string, token: string | undefined, opts: RenewLockOptions): Promise<LockInfo> {
    if (!(opts.ttlSeconds > 0)) throw new Error(`renewLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    await tick();
    const l = this.jobs.get(job)?.lock;
    const expiresAtMs = opts.now + opts.ttlSeconds * 1000;
    const ours = l !== undefined && l.owner === owner && (token === undefined ? l.token === undefined : l.token === token);
    if (ours && l.expiresAtMs < expiresAtMs) {
      l.expiresAtMs = expiresAtMs;
      return this.lockOf(job, l);
    }
    if (ours) return this.lockOf(job, l); // already valid for longer
    throw new LockLostError(job, owner, l?.owner);
  }

  async recordLockProgress(job: string, owner: string, progress: Record<string, string | number | boolean>): Promise<void> {
    if (Object.keys(progress).length === 0) return;
    await tick();
    const l = this.jobs.get(job)?.lock;
    if (!l || l.owner !== owner) throw new LockLostError(job, owner, l?.owner);
    Object.assign(l.progress, progress);
  }

  async getLastRescaleAt(job: string): Promise<number | undefined> {
    await tick();
    return this.jobs.get(job)?.lastRescaleAt;
  }

  async setLastRescaleAt(job: string, at: number): Promise<void> {
    await tick();
    const j = this.items(job);
    if (j.lastRescaleAt === undefined || j.lastRescaleAt < at) j.lastRescaleAt = at;
  }

  async getPolicyState(job: string): Promise<PolicyState | undefined> {
    await tick();
    const p = this.jobs.get(job)?.policy;
    return p ? { state: JSON.parse(p.state), version: p.version, updatedAt: p.updatedAt } : undefined;
  }

  async putPolicyState(job: string, state: unknown, expectedVersion: number, now: number): Promise<number> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new Error(`putPolicyState: expectedVersion must be an integer ≥ 0 (got ${expectedVersion})`);
    }
    await tick();
    const j = this.items(job);
    const ok = expectedVersion === 0 ? j.policy === undefined : j.policy?.version === expectedVersion;
    if (!ok) throw new VersionConflictError(job, expectedVersion, j.policy?.version);
    const next = expectedVersion + 1;
    j.policy = { state: JSON.stringify(state ?? null), version: next, updatedAt: now };
    return next;
  }

  async getForecastProfile(job: string): Promise<unknown> {
    await tick();
    const p = this.jobs.get(job)?.forecast;
    return p === undefined ? undefined : JSON.parse(p);
  }

  async putForecastProfile(job: string, profile: unknown, _now: number): Promise<void> {
    await tick();
    this.items(job).forecast = JSON.stringify(profile ?? null);
  }

  async claimOnce(job: string, key: string, now: number, ttlSeconds: number): Promise<boolean> {
    await tick();
    const j = this.items(job);
    const until = j.once.get(key);
    // DynamoStateStore's condition: attribute_not_exists(pk) OR expiresAt < :nowSec
    if (until !== undefined && !(until < Math.floor(now / 1000))) return false;
    j.once.set(key, Math.ceil(now / 1000) + Math.max(1, Math.round(ttlSeconds)));
    return true;
  }

  async releaseClaim(job: string, key: string): Promise<void> {
    await tick();
    this.jobs.get(job)?.once.delete(key);
  }

  async putOutbox(job: string, key: string, m: OutboxMessage, opts: { now: number; leaseUntil: number; ttlSeconds: number }): Promise<void> {
    await tick();
    // DynamoStateStore: an unconditional Put (overwrites), attempts 1, leased to the writer
    this.items(job).outbox.set(key, {
      message: { topicArn: m.topicArn, subject: m.subject, message: m.message, attributes: {}, createdAt: m.createdAt },
      attributes: JSON.stringify(m.attributes),
      leaseUntil: opts.leaseUntil,
      attempts: 1,
      expiresAt: Math.ceil(opts.now / 1000) + Math.max(1, Math.round(opts.ttlSeconds)),
    });
  }

  async leaseOutbox(job: string, key: string, opts: { now: number; leaseUntil: number }): Promise<(OutboxMessage & { attempts: number }) | undefined> {
    await tick();
    const it = this.jobs.get(job)?.outbox.get(key);
    // DynamoStateStore's condition: attribute_exists(pk) AND leaseUntil < :now
    if (!it || !(it.leaseUntil < opts.now)) return undefined;
    it.leaseUntil = opts.leaseUntil;
    it.attempts += 1;
    return { ...it.message, attributes: JSON.parse(it.attributes) as Record<string, string>, attempts: it.attempts };
  }

  async releaseOutboxLease(job: string, key: string, error: string): Promise<void> {
    await tick();
    const it = this.jobs.get(job)?.outbox.get(key);
    if (!it) return;
    it.leaseUntil = 0;
    it.lastError = error.slice(0, 1000);
  }

  async deleteOutbox(job: string, key: string): Promise<void> {
    await tick();
    this.jobs.get(job)?.outbox.delete(key);
  }

  async listOutbox(job: string): Promise<string[]> {
    await tick();
    // the table's Query on sk begins_with "outbox#": sort-key order
    return [...(this.jobs.get(job)?.outbox.keys() ?? [])].sort();
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    if (!Number.isFinite(entry.at)) throw new Error(`appendHistory: at must be epoch ms (got ${entry.at})`);
    await tick();
    const j = this.items(entry.job);
    const sk = `${entry.kind}#${new Date(entry.at).toISOString()}#${entry.id}`;
    if (j.history.has(sk)) return; // already written (a task delivered twice)
    j.history.set(sk, { kind: entry.kind, at: entry.at, id: entry.id, detail: deepFreeze(JSON.parse(JSON.stringify(entry.detail)) as Record<string, unknown>) });
    let keys = j.order.get(entry.kind);
    if (!keys) j.order.set(entry.kind, (keys = []));
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid] < sk) lo = mid + 1;
      else hi = mid;
    }
    keys.splice(lo, 0, sk);
    if (keys.length > this.retain) for (const old of keys.splice(0, keys.length - this.retain)) j.history.delete(old);
  }

  async history(job: string, kind: HistoryKind, opts: { limit?: number } = {}): Promise<HistoryEntry[]> {
    const limit = opts.limit ?? 50;
    if (limit > this.retain) throw new Error(`MemoryStateStore keeps the newest ${this.retain} history entries per kind; asked for ${limit}`);
    await tick();
    const j = this.jobs.get(job);
    const keys = j?.order.get(kind);
    if (!j || !keys) return [];
    // newest first (ScanIndexForward false)
    return keys.slice(Math.max(0, keys.length - limit)).reverse().map((k) => {
      const it = j.history.get(k)!;
      return { kind, job, at: it.at, id: it.id, detail: it.detail };
    });
  }
}
