/**
 * StateStore on the single DynamoDB table of the stack: pk `job#<name>`, sk one of
 *   `lock`                         the rescale lock (owner, expiry, progress); TTL removes stale ones eventually
 *   `cooldown`                     lastRescaleAt
 *   `policy`                       opaque policy state with an optimistic version
 *   `forecast`                     the seasonal demand profile (policy.forecast), opaque, last write wins
 *   `decision#<iso time>#<id>`     decision history (TTL: historyTtlDays)
 *   `rescale#<iso time>#<id>`      rescale history (TTL: historyTtlDays)
 *   `once#<key>`                   one-time claims (duplicate deliveries act once; TTL)
 *   `outbox#<key>`                 a notification not yet taken by SNS (leased while one sender publishes it; TTL 7 days)
 * Every mutation is a conditional write, so concurrent callers behave as DynamoDB guarantees.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  AcquireLockOptions,
  AcquireLockResult,
  HistoryEntry,
  HistoryKind,
  LockHeldError,
  LockInfo,
  LockLostError,
  OutboxMessage,
  PolicyState,
  ReleaseLockResult,
  RenewLockOptions,
  StateStore,
  VersionConflictError,
} from './types';

export interface DynamoStateStoreOptions {
  tableName: string;
  /** A DynamoDB client (tests pass one pointing at dynalite). Defaults to a client from the environment. */
  client?: DynamoDBClient;
  /** History entries expire after this many days (DynamoDB TTL). Default 90. */
  historyTtlDays?: number;
}

const pkOf = (job: string) => `job#${job}`;
const isConditionFailed = (e: unknown) =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

export class DynamoStateStore implements StateStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly historyTtlSeconds: number;

  constructor(opts: DynamoStateStoreOptions) {
    if (!opts.tableName) throw new Error('DynamoStateStore: tableName is required');
    this.table = opts.tableName;
    this.doc = DynamoDBDocumentClient.from(opts.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    this.historyTtlSeconds = Math.round((opts.historyTtlDays ?? 90) * 86_400);
  }

  async acquireLock(job: string, owner: string, opts: AcquireLockOptions, attempt = 1): Promise<AcquireLockResult> {
    if (!owner) throw new Error('acquireLock: owner is required');
    if (!(opts.ttlSeconds > 0)) throw new Error(`acquireLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    const expiresAtMs = opts.now + opts.ttlSeconds * 1000;
    const token = randomUUID();
    // Step 1: take a free or expired lock. The same owner never overwrites its own lock (progress would be lost).
    let previous: Record<string, unknown> | undefined;
    try {
      const r = await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: pkOf(job),
            sk: 'lock',
            owner,
            acquiredAt: opts.now,
            expiresAtMs,
            expiresAt: Math.ceil(expiresAtMs / 1000),
            reason: opts.reason,
            token,
            progress: opts.progress ?? {},
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (expiresAtMs < :now AND #owner <> :owner)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': opts.now, ':owner': owner },
          ReturnValues: 'ALL_OLD',
        }),
      );
      previous = r.Attributes;
      const lock: LockInfo = { job, owner, acquiredAt: opts.now, expiresAtMs, reason: opts.reason, token, progress: { ...opts.progress } };
      return previous
        ? { lock, acquired: true, tookOverFrom: { owner: String(previous.owner), expiresAtMs: Number(previous.expiresAtMs) } }
        : { lock, acquired: true };
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.getLock(job);
      if (!current && attempt < 3) return this.acquireLock(job, owner, opts, attempt + 1); // released in between: try again
      if (!current) throw new Error(`job "${job}": the rescale lock changed hands ${attempt} times while acquiring it; try again`);
      if (current.owner === owner) return { lock: current, acquired: false };
      throw new LockHeldError(job, current.owner, current.expiresAtMs, current.reason);
    }
  }

  async releaseLock(job: string, owner: string): Promise<ReleaseLockResult> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: 'lock' },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return { released: true };
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.getLock(job);
      return current ? { released: false, heldBy: current.owner } : { released: false };
    }
  }

  async getLock(job: string): Promise<LockInfo | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: 'lock' }, ConsistentRead: true }));
    return r.Item ? toLock(job, r.Item) : undefined;
  }

  async renewLock(job: string, owner: string, token: string | undefined, opts: RenewLockOptions): Promise<LockInfo> {
    if (!(opts.ttlSeconds > 0)) throw new Error(`renewLock: ttlSeconds must be > 0 (got ${opts.ttlSeconds})`);
    const expiresAtMs = opts.now + opts.ttlSeconds * 1000;
    const tokenCondition = token === undefined ? 'attribute_not_exists(#token)' : '#token = :token';
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: 'lock' },
          UpdateExpression: 'SET expiresAtMs = :exp, expiresAt = :expSec',
          // Never shortened: a lock kept on purpose (or renewed further by a later step) keeps its later expiry.
          ConditionExpression: `#owner = :owner AND ${tokenCondition} AND expiresAtMs < :exp`,
          ExpressionAttributeNames: { '#owner': 'owner', '#token': 'token' },
          ExpressionAttributeValues: { ':owner': owner, ':exp': expiresAtMs, ':expSec': Math.ceil(expiresAtMs / 1000), ...(token === undefined ? {} : { ':token': token }) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toLock(job, r.Attributes!);
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.getLock(job);
      if (current && current.owner === owner && current.token === token) return current; // already valid for longer
      throw new LockLostError(job, owner, current?.owner);
    }
  }

  async recordLockProgress(job: string, owner: string, progress: Record<string, string | number | boolean>): Promise<void> {
    const entries = Object.entries(progress);
    if (entries.length === 0) return;
    const names: Record<string, string> = { '#owner': 'owner', '#progress': 'progress' };
    const values: Record<string, unknown> = { ':owner': owner };
    const sets = entries.map(([k, v], i) => {
      names[`#k${i}`] = k;
      values[`:v${i}`] = v;
      return `#progress.#k${i} = :v${i}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: 'lock' },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.getLock(job);
      throw new LockLostError(job, owner, current?.owner);
    }
  }

  async getLastRescaleAt(job: string): Promise<number | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: 'cooldown' }, ConsistentRead: true }));
    return r.Item ? Number(r.Item.lastRescaleAt) : undefined;
  }

  async setLastRescaleAt(job: string, at: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: 'cooldown' },
          UpdateExpression: 'SET lastRescaleAt = :at',
          ConditionExpression: 'attribute_not_exists(lastRescaleAt) OR lastRescaleAt < :at',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e; // a later time is already stored: the clock never moves back
    }
  }

  async getPolicyState(job: string): Promise<PolicyState | undefined> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: 'policy' }, ConsistentRead: true }));
    if (!r.Item) return undefined;
    return { state: JSON.parse(String(r.Item.state)), version: Number(r.Item.version), updatedAt: Number(r.Item.updatedAt) };
  }

  async putPolicyState(job: string, state: unknown, expectedVersion: number, now: number): Promise<number> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new Error(`putPolicyState: expectedVersion must be an integer ≥ 0 (got ${expectedVersion})`);
    }
    const next = expectedVersion + 1;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          // Stored as a JSON string: the policy state is opaque here, and DynamoDB maps reject empty strings in keys etc.
          Item: { pk: pkOf(job), sk: 'policy', state: JSON.stringify(state ?? null), version: next, updatedAt: now },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :expected',
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':expected': expectedVersion },
        }),
      );
      return next;
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      const current = await this.getPolicyState(job);
      throw new VersionConflictError(job, expectedVersion, current?.version);
    }
  }

  async getForecastProfile(job: string): Promise<unknown> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: 'forecast' }, ConsistentRead: true }));
    if (!r.Item) return undefined;
    try {
      return JSON.parse(String(r.Item.profile));
    } catch {
      // not JSON (a corrupted item): handed on as text, which the profile's schema refuses, so the scaler starts a new
      // profile with a warning instead of failing to read one every minute
      return String(r.Item.profile);
    }
  }

  async putForecastProfile(job: string, profile: unknown, now: number): Promise<void> {
    // bounded by its schema (at most 2 × 1440 ÷ bucketMinutes buckets of 7 days: ~10 KB at 15-minute buckets)
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: pkOf(job), sk: 'forecast', profile: JSON.stringify(profile ?? null), updatedAt: now } }));
  }

  async claimOnce(job: string, key: string, now: number, ttlSeconds: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: pkOf(job), sk: `once#${key}`, claimedAt: now, expiresAt: Math.ceil(now / 1000) + Math.max(1, Math.round(ttlSeconds)) },
          // An expired claim (TTL deletion is lazy) may be claimed again.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowSec',
          ExpressionAttributeValues: { ':nowSec': Math.floor(now / 1000) },
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      return false;
    }
  }

  async releaseClaim(job: string, key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: `once#${key}` } }));
  }

  async putOutbox(job: string, key: string, m: OutboxMessage, opts: { now: number; leaseUntil: number; ttlSeconds: number }): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: pkOf(job), sk: `outbox#${key}`, topicArn: m.topicArn, subject: m.subject, message: m.message, attributes: JSON.stringify(m.attributes),
          createdAt: m.createdAt, leaseUntil: opts.leaseUntil, attempts: 1, expiresAt: Math.ceil(opts.now / 1000) + Math.max(1, Math.round(opts.ttlSeconds)),
        },
      }),
    );
  }

  async leaseOutbox(job: string, key: string, opts: { now: number; leaseUntil: number }): Promise<(OutboxMessage & { attempts: number }) | undefined> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: `outbox#${key}` },
          UpdateExpression: 'SET leaseUntil = :lease ADD attempts :one',
          ConditionExpression: 'attribute_exists(pk) AND leaseUntil < :now',
          ExpressionAttributeValues: { ':lease': opts.leaseUntil, ':now': opts.now, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const it = r.Attributes!;
      return {
        topicArn: String(it.topicArn), subject: String(it.subject), message: String(it.message), attributes: JSON.parse(String(it.attributes)) as Record<string, string>,
        createdAt: Number(it.createdAt), attempts: Number(it.attempts),
      };
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
      return undefined;
    }
  }

  async releaseOutboxLease(job: string, key: string, error: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(job), sk: `outbox#${key}` },
          UpdateExpression: 'SET leaseUntil = :zero, lastError = :err',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':zero': 0, ':err': error.slice(0, 1000) },
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e;
    }
  }

  async deleteOutbox(job: string, key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: pkOf(job), sk: `outbox#${key}` } }));
  }

  async listOutbox(job: string): Promise<string[]> {
    const keys: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ConsistentRead: true,
          ExpressionAttributeValues: { ':pk': pkOf(job), ':prefix': 'outbox#' },
          ProjectionExpression: 'sk',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const it of r.Items ?? []) keys.push(String(it.sk).slice('outbox#'.length));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return keys;
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    if (!Number.isFinite(entry.at)) throw new Error(`appendHistory: at must be epoch ms (got ${entry.at})`);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: pkOf(entry.job),
            sk: `${entry.kind}#${new Date(entry.at).toISOString()}#${entry.id}`,
            kind: entry.kind,
            at: entry.at,
            id: entry.id,
            detail: JSON.stringify(entry.detail),
            expiresAt: Math.ceil(entry.at / 1000) + this.historyTtlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionFailed(e)) throw e; // already written (a task delivered twice)
    }
  }

  async history(job: string, kind: HistoryKind, opts: { limit?: number } = {}): Promise<HistoryEntry[]> {
    const limit = opts.limit ?? 50;
    const out: HistoryEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ConsistentRead: true,
          ExpressionAttributeValues: { ':pk': pkOf(job), ':prefix': `${kind}#` },
          ScanIndexForward: false,
          Limit: limit - out.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const it of r.Items ?? []) {
        out.push({ kind, job, at: Number(it.at), id: String(it.id), detail: JSON.parse(String(it.detail)) as Record<string, unknown> });
      }
      startKey = r.LastEvaluatedKey;
    } while (startKey && out.length < limit);
    return out;
  }
}

function toLock(job: string, item: Record<string, unknown>): LockInfo {
  return {
    job,
    owner: String(item.owner),
    acquiredAt: Number(item.acquiredAt),
    expiresAtMs: Number(item.expiresAtMs),
    reason: item.reason === undefined ? undefined : String(item.reason),
    ...(item.token === undefined ? {} : { token: String(item.token) }),
    progress: (item.progress as LockInfo['progress']) ?? {},
  };
}
