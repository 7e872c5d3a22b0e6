import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoStateStore } from '../../functions/adapters/state/dynamo';
import { LockHeldError, LockLostError, type StateStore, VersionConflictError } from '../../functions/adapters/state/types';
import { FileStateStore } from '../../local/file-state-store';
import { MemoryStateStore } from '../../local/memory-state-store';
import { LocalDynamo, startDynalite } from '../support/dynalite';

// One table for the file; every test works on job names of its own, so each passes alone and in any order.
let db: LocalDynamo;
let store: DynamoStateStore;
const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);

beforeAll(async () => {
  db = await startDynalite();
  store = new DynamoStateStore({ tableName: db.tableName, client: db.client });
});
afterAll(() => db.stop());

// The whole contract runs against the DynamoDB table on dynalite and against the simulator's in-memory store: the
// fast simulation mode is only allowed because both behave the same here.
describe.each([
  ['DynamoStateStore (dynalite)', () => store as StateStore],
  ['MemoryStateStore', () => new MemoryStateStore() as StateStore],
])('%s', (_name, make) => {
  let store: StateStore;
  beforeAll(() => {
    store = make();
  });

  describe('notification outbox', () => {
    const msg = { topicArn: 'arn:aws:sns:eu-west-1:123456789012:t', subject: 'orders rescaled 2 -> 4', message: 'body', attributes: { job: 'ob', outcome: 'succeeded' }, createdAt: T0 };

    test('a written message is leased to its writer; after the lease one caller re-leases it, with its attempts counted', async () => {
      await store.putOutbox('ob', 'exec-1', msg, { now: T0, leaseUntil: T0 + 60_000, ttlSeconds: 86_400 });
      expect(await store.listOutbox('ob')).toEqual(['exec-1']);
      expect(await store.leaseOutbox('ob', 'exec-1', { now: T0 + 30_000, leaseUntil: T0 + 90_000 })).toBeUndefined(); // still the writer's
      const [a, b] = await Promise.all([
        store.leaseOutbox('ob', 'exec-1', { now: T0 + 61_000, leaseUntil: T0 + 121_000 }),
        store.leaseOutbox('ob', 'exec-1', { now: T0 + 61_000, leaseUntil: T0 + 121_000 }),
      ]);
      const won = [a, b].filter((x) => x !== undefined);
      expect(won).toHaveLength(1);
      expect(won[0]).toEqual({ ...msg, attempts: 2 });
    });

    test('a released lease can be taken at once; a deleted message is gone; unknown keys are harmless', async () => {
      await store.putOutbox('ob2', 'exec-2', msg, { now: T0, leaseUntil: T0 + 60_000, ttlSeconds: 86_400 });
      await store.releaseOutboxLease('ob2', 'exec-2', 'SNS unreachable');
      expect(await store.leaseOutbox('ob2', 'exec-2', { now: T0 + 1_000, leaseUntil: T0 + 61_000 })).toMatchObject({ subject: msg.subject, attempts: 2 });
      await store.deleteOutbox('ob2', 'exec-2');
      expect(await store.listOutbox('ob2')).toEqual([]);
      expect(await store.leaseOutbox('ob2', 'exec-2', { now: T0 + 120_000, leaseUntil: T0 + 180_000 })).toBeUndefined();
      await expect(store.releaseOutboxLease('ob2', 'nope', 'x')).resolves.toBeUndefined();
      await expect(store.deleteOutbox('ob2', 'nope')).resolves.toBeUndefined();
      expect(await store.listOutbox('ob-none')).toEqual([]);
    });
  });

  describe('rescale lock', () => {
    test('a second owner fails fast naming the holder; the first owner asking again gets its lock unchanged', async () => {
      const a = await store.acquireLock('owned', 'exec-a', { now: T0, ttlSeconds: 600, reason: 'lag high' });
      expect(a).toMatchObject({ acquired: true, lock: { owner: 'exec-a', expiresAtMs: T0 + 600_000 } });

      await store.recordLockProgress('owned', 'exec-a', { savepointPath: 's3://b/sp-1' });
      const again = await store.acquireLock('owned', 'exec-a', { now: T0 + 5_000, ttlSeconds: 600 });
      expect(again.acquired).toBe(false);
      expect(again.lock.progress).toEqual({ savepointPath: 's3://b/sp-1' }); // not reset by the duplicate

      const err = await store.acquireLock('owned', 'exec-b', { now: T0 + 1_000, ttlSeconds: 600 }).catch((e) => e);
      expect(err).toBeInstanceOf(LockHeldError);
      expect(err.message).toContain('exec-a');
      expect(err.message).toContain('lag high');
      expect(err.holder).toBe('exec-a');
    });

    test('different jobs lock independently', async () => {
      await store.acquireLock('indep-a', 'exec-a', { now: T0, ttlSeconds: 60 });
      await expect(store.acquireLock('indep-b', 'exec-b', { now: T0, ttlSeconds: 60 })).resolves.toMatchObject({ acquired: true });
      await store.releaseLock('indep-b', 'exec-b');
      expect(await store.getLock('indep-b')).toBeUndefined();
      expect((await store.getLock('indep-a'))?.owner).toBe('exec-a');
    });

    test('only the owner releases; releasing twice is harmless', async () => {
      await store.acquireLock('released', 'exec-a', { now: T0, ttlSeconds: 600 });
      await expect(store.releaseLock('released', 'exec-b')).resolves.toEqual({ released: false, heldBy: 'exec-a' });
      expect((await store.getLock('released'))?.owner).toBe('exec-a');
      await expect(store.releaseLock('released', 'exec-a')).resolves.toEqual({ released: true });
      await expect(store.releaseLock('released', 'exec-a')).resolves.toEqual({ released: false });
      expect(await store.getLock('released')).toBeUndefined();
    });

    test('an expired lock is taken over, and the old owner can no longer record progress or release it', async () => {
      await store.acquireLock('billing', 'exec-old', { now: T0, ttlSeconds: 60 });
      await expect(store.acquireLock('billing', 'exec-new', { now: T0 + 59_000, ttlSeconds: 60 })).rejects.toBeInstanceOf(LockHeldError);
      const r = await store.acquireLock('billing', 'exec-new', { now: T0 + 61_000, ttlSeconds: 60 });
      expect(r).toMatchObject({ acquired: true, tookOverFrom: { owner: 'exec-old', expiresAtMs: T0 + 60_000 } });
      await expect(store.recordLockProgress('billing', 'exec-old', { phase: 'cancel' })).rejects.toBeInstanceOf(LockLostError);
      await expect(store.releaseLock('billing', 'exec-old')).resolves.toEqual({ released: false, heldBy: 'exec-new' });
    });

    test('two owners racing for a free lock: exactly one wins', async () => {
      const owners = ['r1', 'r2', 'r3', 'r4', 'r5'];
      const results = await Promise.allSettled(owners.map((o) => store.acquireLock('race', o, { now: T0, ttlSeconds: 60 })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(losers).toHaveLength(4);
      for (const l of losers) expect(l.reason).toBeInstanceOf(LockHeldError);
    });

    test('rejects a non-positive ttl', async () => {
      await expect(store.acquireLock('x', 'o', { now: T0, ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds must be > 0/);
    });

    test('progress given with a new lock is stored with it; a duplicate acquire and an expired own lock keep theirs', async () => {
      const a = await store.acquireLock('plan', 'exec-a', { now: T0, ttlSeconds: 60, progress: { target: 4, phase: 'plan' } });
      expect(a.lock.progress).toEqual({ target: 4, phase: 'plan' });
      expect((await store.getLock('plan'))?.progress).toEqual({ target: 4, phase: 'plan' });
      const dup = await store.acquireLock('plan', 'exec-a', { now: T0 + 120_000, ttlSeconds: 60, progress: { target: 9 } });
      expect(dup).toMatchObject({ acquired: false, lock: { owner: 'exec-a', expiresAtMs: T0 + 60_000, progress: { target: 4, phase: 'plan' } } });
      await expect(store.acquireLock('plan', 'exec-b', { now: T0 + 60_000, ttlSeconds: 60 })).rejects.toBeInstanceOf(LockHeldError); // expiry is inclusive
      await expect(store.recordLockProgress('plan', 'exec-b', {})).resolves.toBeUndefined(); // nothing to record: no check
    });
  });

  describe('cooldown clock', () => {
    test('moves forward, never back', async () => {
      expect(await store.getLastRescaleAt('cooldown')).toBeUndefined();
      await store.setLastRescaleAt('cooldown', T0 + 10_000);
      await store.setLastRescaleAt('cooldown', T0 + 5_000);
      expect(await store.getLastRescaleAt('cooldown')).toBe(T0 + 10_000);
      await store.setLastRescaleAt('cooldown', T0 + 20_000);
      expect(await store.getLastRescaleAt('cooldown')).toBe(T0 + 20_000);
    });
  });

  describe('policy state', () => {
    test('optimistic versions: a stale writer gets a conflict and nothing is overwritten', async () => {
      expect(await store.getPolicyState('policy')).toBeUndefined();
      const v1 = await store.putPolicyState('policy', { ewma: { in: 1200.5 }, wantDownSince: null }, 0, T0);
      expect(v1).toBe(1);
      const v2 = await store.putPolicyState('policy', { ewma: { in: 1300 } }, 1, T0 + 1);
      expect(v2).toBe(2);
      const stale = await store.putPolicyState('policy', { ewma: { in: 1 } }, 1, T0 + 2).catch((e) => e);
      expect(stale).toBeInstanceOf(VersionConflictError);
      expect(stale.message).toMatch(/expected version 1, found 2/);
      await expect(store.putPolicyState('policy', {}, 0, T0)).rejects.toBeInstanceOf(VersionConflictError);
      expect(await store.getPolicyState('policy')).toEqual({ state: { ewma: { in: 1300 } }, version: 2, updatedAt: T0 + 1 });
    });
  });

  describe('history', () => {
    test('newest first per kind, limit respected, duplicates stored once', async () => {
      for (let i = 0; i < 5; i++) {
        await store.appendHistory({ kind: 'rescale', job: 'hist', at: T0 + i * 60_000, id: `exec-${i}`, detail: { from: i, to: i + 1 } });
      }
      await store.appendHistory({ kind: 'rescale', job: 'hist', at: T0 + 4 * 60_000, id: 'exec-4', detail: { from: 99, to: 99 } }); // duplicate delivery
      await store.appendHistory({ kind: 'decision', job: 'hist', at: T0 + 30_000, id: 'd1', detail: { reason: 'lag 12 s > 10 s' } });

      const all = await store.history('hist', 'rescale');
      expect(all.map((h) => h.id)).toEqual(['exec-4', 'exec-3', 'exec-2', 'exec-1', 'exec-0']);
      expect(all[0].detail).toEqual({ from: 4, to: 5 });
      expect((await store.history('hist', 'rescale', { limit: 2 })).map((h) => h.id)).toEqual(['exec-4', 'exec-3']);
      expect(await store.history('hist', 'decision')).toEqual([
        { kind: 'decision', job: 'hist', at: T0 + 30_000, id: 'd1', detail: { reason: 'lag 12 s > 10 s' } },
      ]);
      expect(await store.history('nobody', 'rescale')).toEqual([]);
      // same time: ordered by id, descending (the sort key is kind#time#id)
      await store.appendHistory({ kind: 'decision', job: 'hist-same', at: T0, id: 'a', detail: {} });
      await store.appendHistory({ kind: 'decision', job: 'hist-same', at: T0, id: 'b', detail: {} });
      await store.appendHistory({ kind: 'decision', job: 'hist-same', at: T0 - 1, id: 'z', detail: { n: [1, null] } });
      expect((await store.history('hist-same', 'decision')).map((h) => h.id)).toEqual(['b', 'a', 'z']);
      expect((await store.history('hist-same', 'decision', { limit: 1 })).map((h) => h.id)).toEqual(['b']);
    });
  });

  describe('forecast profile (rule 10)', () => {
    test('one item per job, the last write wins, other items untouched', async () => {
      await forecastProfileContract(store);
    });
  });

  describe('one-time claims', () => {
    test('the first caller wins, later callers lose until the claim expires', async () => {
      expect(await store.claimOnce('claims', 'notify#exec-1', T0, 3600)).toBe(true);
      expect(await store.claimOnce('claims', 'notify#exec-1', T0 + 1000, 3600)).toBe(false);
      expect(await store.claimOnce('claims', 'notify#exec-2', T0 + 1000, 3600)).toBe(true);
      expect(await store.claimOnce('claims-other', 'notify#exec-1', T0 + 1000, 3600)).toBe(true);
      expect(await store.claimOnce('claims', 'notify#exec-1', T0 + 3_601_000, 3600)).toBe(true);
    });

    test('a claim given back (its action failed) can be claimed again at once; other claims are unaffected', async () => {
      expect(await store.claimOnce('claims-back', 'notify#exec-1', T0, 3600)).toBe(true);
      expect(await store.claimOnce('claims-back', 'notify#exec-2', T0, 3600)).toBe(true);
      await store.releaseClaim('claims-back', 'notify#exec-1');
      await store.releaseClaim('claims-back', 'notify#exec-1'); // idempotent
      expect(await store.claimOnce('claims-back', 'notify#exec-1', T0 + 1000, 3600)).toBe(true);
      expect(await store.claimOnce('claims-back', 'notify#exec-1', T0 + 2000, 3600)).toBe(false);
      expect(await store.claimOnce('claims-back', 'notify#exec-2', T0 + 1000, 3600)).toBe(false);
    });
  });

});

// renewLock (heartbeat + fence) has one contract for every StateStore: the DynamoDB table on dynalite and the
// local file store run the same cases.
describe.each([
  ['DynamoStateStore (dynalite)', () => store as StateStore],
  ['FileStateStore', () => new FileStateStore(join(mkdtempSync(join(tmpdir(), 'fe-state-')), 'state.json')) as StateStore],
  ['MemoryStateStore', () => new MemoryStateStore() as StateStore],
])('renewLock: %s', (_name, make) => {
  let s: StateStore;
  beforeAll(() => {
    s = make();
  });

  test('every acquisition gets a fresh token; a takeover gets another one', async () => {
    const a = await s.acquireLock('tok', 'exec-a', { now: T0, ttlSeconds: 60 });
    expect(a.lock.token).toMatch(/^[0-9a-f-]{36}$/);
    expect((await s.getLock('tok'))?.token).toBe(a.lock.token);
    const again = await s.acquireLock('tok', 'exec-a', { now: T0 + 1_000, ttlSeconds: 60 });
    expect(again.lock.token).toBe(a.lock.token); // a duplicate delivery sees the same generation
    const b = await s.acquireLock('tok', 'exec-b', { now: T0 + 61_000, ttlSeconds: 60 });
    expect(b.lock.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.lock.token).not.toBe(a.lock.token);
  });

  test('the holder with its token extends the expiry; never shortens it', async () => {
    const { lock } = await s.acquireLock('renew', 'exec-a', { now: T0, ttlSeconds: 600 });
    const longer = await s.renewLock('renew', 'exec-a', lock.token, { now: T0 + 500_000, ttlSeconds: 600 });
    expect(longer.expiresAtMs).toBe(T0 + 1_100_000);
    expect((await s.getLock('renew'))?.expiresAtMs).toBe(T0 + 1_100_000);
    // A shorter renewal keeps the later expiry (and still succeeds: the lock is ours).
    const shorter = await s.renewLock('renew', 'exec-a', lock.token, { now: T0 + 510_000, ttlSeconds: 60 });
    expect(shorter.expiresAtMs).toBe(T0 + 1_100_000);
    expect((await s.getLock('renew'))?.expiresAtMs).toBe(T0 + 1_100_000);
    expect(shorter).toMatchObject({ owner: 'exec-a', token: lock.token });
  });

  test('an expired lock nobody took over is still renewable by its holder', async () => {
    const { lock } = await s.acquireLock('late', 'exec-a', { now: T0, ttlSeconds: 60 });
    const r = await s.renewLock('late', 'exec-a', lock.token, { now: T0 + 120_000, ttlSeconds: 60 });
    expect(r.expiresAtMs).toBe(T0 + 180_000);
    // ...and then it is no longer free: a takeover at that time fails.
    await expect(s.acquireLock('late', 'exec-b', { now: T0 + 130_000, ttlSeconds: 60 })).rejects.toBeInstanceOf(LockHeldError);
  });

  test('another owner, a wrong token, an old generation, or no lock: LockLostError, nothing changed', async () => {
    const { lock } = await s.acquireLock('fenced', 'exec-a', { now: T0, ttlSeconds: 60 });
    await expect(s.renewLock('fenced', 'exec-b', lock.token, { now: T0, ttlSeconds: 600 })).rejects.toBeInstanceOf(LockLostError);
    await expect(s.renewLock('fenced', 'exec-a', 'not-the-token', { now: T0, ttlSeconds: 600 })).rejects.toBeInstanceOf(LockLostError);
    await expect(s.renewLock('fenced', 'exec-a', undefined, { now: T0, ttlSeconds: 600 })).rejects.toBeInstanceOf(LockLostError);
    expect((await s.getLock('fenced'))?.expiresAtMs).toBe(T0 + 60_000);

    // Expired and taken over: the old holder is fenced out, naming the new holder; the new lock is untouched.
    const b = await s.acquireLock('fenced', 'exec-b', { now: T0 + 61_000, ttlSeconds: 60 });
    const err = await s.renewLock('fenced', 'exec-a', lock.token, { now: T0 + 62_000, ttlSeconds: 600 }).catch((e) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect(err.holder).toBe('exec-b');
    expect(await s.getLock('fenced')).toMatchObject({ owner: 'exec-b', token: b.lock.token, expiresAtMs: T0 + 121_000 });

    // The same owner's lock after it was lost and taken again is a new generation: the old token is fenced out.
    await s.releaseLock('fenced', 'exec-b');
    const a2 = await s.acquireLock('fenced', 'exec-a', { now: T0 + 130_000, ttlSeconds: 60 });
    await expect(s.renewLock('fenced', 'exec-a', lock.token, { now: T0 + 131_000, ttlSeconds: 600 })).rejects.toBeInstanceOf(LockLostError);
    await expect(s.renewLock('fenced', 'exec-a', a2.lock.token, { now: T0 + 131_000, ttlSeconds: 600 })).resolves.toMatchObject({ expiresAtMs: T0 + 731_000 });

    await s.releaseLock('fenced', 'exec-a');
    await expect(s.renewLock('fenced', 'exec-a', a2.lock.token, { now: T0 + 140_000, ttlSeconds: 600 })).rejects.toBeInstanceOf(LockLostError);
    expect(await s.getLock('fenced')).toBeUndefined(); // renewing never creates a lock
  });

  test('a renewal racing a takeover of the expired lock: exactly one of them wins', async () => {
    const { lock } = await s.acquireLock('race-renew', 'exec-a', { now: T0, ttlSeconds: 60 });
    const [renew, take] = await Promise.allSettled([
      s.renewLock('race-renew', 'exec-a', lock.token, { now: T0 + 61_000, ttlSeconds: 60 }),
      s.acquireLock('race-renew', 'exec-b', { now: T0 + 61_000, ttlSeconds: 60 }),
    ]);
    expect([renew.status, take.status].filter((x) => x === 'fulfilled')).toHaveLength(1);
    const holder = (await s.getLock('race-renew'))?.owner;
    expect(holder).toBe(renew.status === 'fulfilled' ? 'exec-a' : 'exec-b');
  });

  test('rejects a non-positive ttl', async () => {
    const { lock } = await s.acquireLock('ttl0', 'exec-a', { now: T0, ttlSeconds: 60 });
    await expect(s.renewLock('ttl0', 'exec-a', lock.token, { now: T0, ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds must be > 0/);
  });
});

// The simulator's long runs keep a bounded history (MemoryStateStore retainHistory): the newest entries answer exactly
// as the unbounded store does, and a read that could need a dropped entry is refused, never answered short.
describe('MemoryStateStore with retainHistory', () => {
  test('keeps the newest N per kind; reads within N equal the unbounded store; a limit above N is refused', async () => {
    const bounded = new MemoryStateStore({ retainHistory: 3 });
    const full = new MemoryStateStore();
    for (const s of [bounded, full]) {
      for (let i = 0; i < 6; i++) await s.appendHistory({ kind: 'decision', job: 'j', at: T0 + i * 1000, id: `d${i}`, detail: { i } });
      await s.appendHistory({ kind: 'decision', job: 'j', at: T0 - 1000, id: 'late', detail: {} }); // older than all: dropped at once
      await s.appendHistory({ kind: 'rescale', job: 'j', at: T0, id: 'r0', detail: {} });
    }
    expect((await bounded.history('j', 'decision', { limit: 3 })).map((h) => h.id)).toEqual(['d5', 'd4', 'd3']);
    expect(await bounded.history('j', 'decision', { limit: 3 })).toEqual(await full.history('j', 'decision', { limit: 3 }));
    expect(await bounded.history('j', 'rescale', { limit: 3 })).toEqual(await full.history('j', 'rescale', { limit: 3 }));
    await expect(bounded.history('j', 'decision', { limit: 4 })).rejects.toThrow(/keeps the newest 3 .* asked for 4/);
    await expect(bounded.history('j', 'decision')).rejects.toThrow(/asked for 50/);
    expect(() => new MemoryStateStore({ retainHistory: 0 })).toThrow(/retainHistory must be an integer ≥ 1/);
  });
});

async function forecastProfileContract(s: StateStore): Promise<void> {
  expect(await s.getForecastProfile('fc')).toBeUndefined();
  const p1 = { version: 1, bucketMinutes: 15, utcOffsetMinutes: 0, buckets: { 'weekday:36': { e: 8000.5, d: [20458], v: [8000.5] } } };
  await s.putForecastProfile('fc', p1, T0);
  await s.putPolicyState('fc', { x: 1 }, 0, T0);
  const p2 = { ...p1, open: { day: 20459, bucket: 3, max: 10, at: T0 + 60_000 } };
  await s.putForecastProfile('fc', p2, T0 + 60_000);
  expect(await s.getForecastProfile('fc')).toEqual(p2);
  expect(await s.getForecastProfile('fc-other')).toBeUndefined();
  expect(await s.getPolicyState('fc')).toMatchObject({ state: { x: 1 }, version: 1 });
}

describe('FileStateStore: forecast profile (rule 10)', () => {
  test('one item per job, the last write wins, other items untouched', async () => {
    await forecastProfileContract(new FileStateStore(join(mkdtempSync(join(tmpdir(), 'fe-forecast-')), 'state.json')));
  });
});

describe('DynamoStateStore: a corrupted forecast item', () => {
  test('is handed on as text (which the profile schema refuses, so the scaler restarts the profile) instead of throwing on every read', async () => {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await db.client.send(new PutItemCommand({ TableName: db.tableName, Item: { pk: { S: 'job#fc-corrupt' }, sk: { S: 'forecast' }, profile: { S: '{"version":1,"buck' } } }));
    await expect(store.getForecastProfile('fc-corrupt')).resolves.toBe('{"version":1,"buck');
  });
});
