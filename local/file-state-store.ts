/**
 * FileStateStore: the StateStore of `flink-elastic … --local`, kept in one JSON file so that a later command
 * (`status --local`, `history --local`) sees the lock, cooldown and history an earlier one wrote. Same semantics as
 * the DynamoDB store (lock owner checks, expiry take-over, idempotent history, one-time claims, versioned policy
 * state); every call re-reads the file and writes it back atomically (temp file + rename).
 *
 * Scope: one operator on one machine. Two processes writing the same file at the same instant are not serialized the
 * way DynamoDB's conditional writes are; deployed stacks use the DynamoDB table.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

interface JobDoc {
  lock?: LockInfo;
  lastRescaleAt?: number;
  policy?: PolicyState;
  forecast?: unknown;
  once: Record<string, number>;
  history: HistoryEntry[];
  outbox?: Record<string, OutboxMessage & { leaseUntil: number; attempts: number; lastError?: string }>;
}

interface Doc {
  format: 'flink-elastic-local-state/1';
  jobs: Record<string, JobDoc>;
}

export class FileStateStore implements StateStore {
  constructor(readonly file: string) {}

  private read(): Doc {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { format: 'flink-elastic-local-state/1', jobs: {} };
      throw new Error(`cannot read local state file ${this.file}: ${(e as Error).message}`);
    }
    let doc: Doc;
    try {
      doc = JSON.parse(text) as Doc;
    } catch (e) {
      throw new Error(`local state file ${this.file} is not valid JSON (${(e as Error).message}); move it away to start afresh`);
    }
    if (doc?.format !== 'flink-elastic-local-state/1' || typeof doc.jobs !== 'object') {
      throw new Error(`${this.file} is not a flink-elastic local state file (format "flink-elastic-local-state/1")`);
    }
    return doc;
  }

  private write(doc: Doc): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
    renameSync(tmp, this.file);
  }

  /** Read, change one job's part, write back. */
  private update<T>(job: string, fn: (j: JobDoc) => T): T {
    const doc = this.read();
    const j = (doc.jobs[job] ??= { once: {}, history: [] });
    const r = fn(j);
    this.write(doc);
    return r;
  }

  private view(job: string): JobDoc | undefined {
    return this.read().jobs[job];
  }

  async acquireLock(job: string, owner: string, opts: AcquireLockOptions): Promise<AcquireLockResult> {
    if (!owner) throw new Error('acquireLock: owner is required');
    if (!(opts.ttlSeconds > 0)) throw new Error(`acquireLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    return this.update(job, (j) => {
      const cur = j.lock;
      if (cur && cur.owner === owner) return { lock: cur, acquired: false };
      if (cur && cur.expiresAtMs >= opts.now) throw new LockHeldError(job, cur.owner, cur.expiresAtMs, cur.reason);
      const lock: LockInfo = { job, owner, acquiredAt: opts.now, expiresAtMs: opts.now + opts.ttlSeconds * 1000, reason: opts.reason, token: randomUUID(), progress: {} };
      j.lock = lock;
      return cur ? { lock, acquired: true, tookOverFrom: { owner: cur.owner, expiresAtMs: cur.expiresAtMs } } : { lock, acquired: true };
    });
  }

  async releaseLock(job: string, owner: string): Promise<ReleaseLockResult> {
    return this.update(job, (j) => {
      if (j.lock?.owner === owner) {
        delete j.lock;
        return { released: true };
      }
      return j.lock ? { released: false, heldBy: j.lock.owner } : { released: false };
    });
  }

  async getLock(job: string): Promise<LockInfo | undefined> {
    return this.view(job)?.lock;
  }

  async renewLock(job: string, owner: string, token: string | undefined, opts: RenewLockOptions): Promise<LockInfo> {
    if (!(opts.ttlSeconds > 0)) throw new Error(`renewLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    return this.update(job, (j) => {
      if (!j.lock || j.lock.owner !== owner || j.lock.token !== token) throw new LockLostError(job, owner, j.lock?.owner);
      j.lock.expiresAtMs = Math.max(j.lock.expiresAtMs, opts.now + opts.ttlSeconds * 1000);
      return j.lock;
    });
  }

  async recordLockProgress(job: string, owner: string, progress: Record<string, string | number | boolean>): Promise<void> {
    this.update(job, (j) => {
      if (j.lock?.owner !== owner) throw new LockLostError(job, owner, j.lock?.owner);
      Object.assign(j.lock.progress, progress);
    });
  }

  async getLastRescaleAt(job: string): Promise<number | undefined> {
    return this.view(job)?.lastRescaleAt;
  }

  async setLastRescaleAt(job: string, at: number): Promise<void> {
    this.update(job, (j) => {
      j.lastRescaleAt = Math.max(j.lastRescaleAt ?? 0, at);
    });
  }

  async getPolicyState(job: string): Promise<PolicyState | undefined> {
    return this.view(job)?.policy;
  }

  async putPolicyState(job: string, state: unknown, expectedVersion: number, now: number): Promise<number> {
    return this.update(job, (j) => {
      const actual = j.policy?.version ?? 0;
      if (actual !== expectedVersion) throw new VersionConflictError(job, expectedVersion, j.policy?.version);
      j.policy = { state, version: actual + 1, updatedAt: now };
      return actual + 1;
    });
  }

  async getForecastProfile(job: string): Promise<unknown> {
    return this.view(job)?.forecast;
  }

  async putForecastProfile(job: string, profile: unknown, _now: number): Promise<void> {
    this.update(job, (j) => {
      j.forecast = profile;
    });
  }

  async claimOnce(job: string, key: string, now: number, ttlSeconds: number): Promise<boolean> {
    return this.update(job, (j) => {
      const until = j.once[key];
      if (until !== undefined && until > now) return false;
      j.once[key] = now + ttlSeconds * 1000;
      return true;
    });
  }

  async releaseClaim(job: string, key: string): Promise<void> {
    this.update(job, (j) => {
      delete j.once[key];
    });
  }

  async putOutbox(job: string, key: string, m: OutboxMessage, opts: { now: number; leaseUntil: number; ttlSeconds: number }): Promise<void> {
    this.update(job, (j) => {
      (j.outbox ??= {})[key] = { ...m, leaseUntil: opts.leaseUntil, attempts: 1 };
    });
  }

  async leaseOutbox(job: string, key: string, opts: { now: number; leaseUntil: number }): Promise<(OutboxMessage & { attempts: number }) | undefined> {
    return this.update(job, (j) => {
      const it = j.outbox?.[key];
      if (!it || it.leaseUntil >= opts.now) return undefined;
      it.leaseUntil = opts.leaseUntil;
      it.attempts++;
      const { leaseUntil: _l, lastError: _e, ...m } = it;
      return m;
    });
  }

  async releaseOutboxLease(job: string, key: string, error: string): Promise<void> {
    this.update(job, (j) => {
      const it = j.outbox?.[key];
      if (it) Object.assign(it, { leaseUntil: 0, lastError: error });
    });
  }

  async deleteOutbox(job: string, key: string): Promise<void> {
    this.update(job, (j) => {
      delete j.outbox?.[key];
    });
  }

  async listOutbox(job: string): Promise<string[]> {
    return Object.keys(this.view(job)?.outbox ?? {});
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    this.update(entry.job, (j) => {
      if (j.history.some((h) => h.kind === entry.kind && h.at === entry.at && h.id === entry.id)) return;
      j.history.push(JSON.parse(JSON.stringify(entry)) as HistoryEntry);
    });
  }

  async history(job: string, kind: HistoryKind, opts: { limit?: number } = {}): Promise<HistoryEntry[]> {
    const all = (this.view(job)?.history ?? []).filter((h) => h.kind === kind).sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
    return opts.limit !== undefined ? all.slice(0, opts.limit) : all;
  }
}
