/** An in-memory ScalerStore (no lock, no cooldown; versioned policy state; history newest first) for scaler tests. */
import type { ScalerHistoryEntry, ScalerStore } from '../../functions/scaler/ports';

export function memoryStore(): ScalerStore & { entries: ScalerHistoryEntry[] } {
  const entries: ScalerHistoryEntry[] = [];
  let policy: { state: unknown; version: number } | undefined;
  return {
    entries,
    getLock: async () => undefined,
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
