/** An in-memory ScalerStore (a lock nobody else takes, no cooldown; versioned policy state; history newest first) for scaler tests. */
import type { ScalerHistoryEntry, ScalerStore } from '../../functions/scaler/ports';

export function memoryStore(): ScalerStore & { entries: ScalerHistoryEntry[] } {
  const entries: ScalerHistoryEntry[] = [];
  let policy: { state: unknown; version: number } | undefined;
  let lock: { owner: string; expiresAtMs: number } | undefined;
  return {
    entries,
    getLock: async () => lock,
    acquireLock: async (_job, owner, opts) => {
      if (lock && lock.owner !== owner && lock.expiresAtMs > opts.now) throw Object.assign(new Error(`locked by ${lock.owner}`), { name: 'LockHeld' });
      if (lock && lock.owner === owner && lock.expiresAtMs > opts.now) return { acquired: false };
      lock = { owner, expiresAtMs: opts.now + opts.ttlSeconds * 1000 };
      return { acquired: true };
    },
    releaseLock: async (_job, owner) => {
      if (lock?.owner === owner) lock = undefined;
      return { released: true };
    },
    getLastRescaleAt: async () => undefined,
    getPolicyState: async () => policy,
    putPolicyState: async (_job, state, expected) => {
      if ((policy?.version ?? 0) !== expected) throw new Error('version conflict');
      policy = { state, version: expected + 1 };
      return expected + 1;
    },
    appendHistory: async (e) => void entries.push(e),
    history: async (job, kind) => entries.filter((e) => e.job === job && e.kind === kind).reverse(),
  };
}

/** A policy stub for scaler tests: records every snapshot it is given and always decides "no change". */
export function recordingDecide(snapshots: unknown[]) {
  return (snapshot: unknown) => {
    snapshots.push(snapshot);
    return {
      decision: { action: 'none' as const, currentParallelism: 2, targetParallelism: 2, currentTaskManagers: 2, targetTaskManagers: 2, rule: 'none', reason: 'test: no change', steps: [], limitedBy: [], missing: [] },
      state: { n: snapshots.length },
    };
  };
}
