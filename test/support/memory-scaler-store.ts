/** An in-memory ScalerStore (a lock nobody else takes, no cooldown; versioned policy state; history newest first) for scaler tests. */
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { parseConfig, type Config } from '../../functions/core/config';
import type { ScalerDeps, ScalerHistoryEntry, ScalerStore } from '../../functions/scaler/ports';

export function memoryStore(): ScalerStore & { entries: ScalerHistoryEntry[] } {
  const entries: ScalerHistoryEntry[] = [];
  let policy: { state: unknown; version: number } | undefined;
  let lock: { owner: string; expiresAtMs: number } | undefined;
  const forecasts = new Map<string, unknown>();
  return {
    entries,
    getLock: async () => lock,
    acquireLock: async (_job, owner, opts) => {
      if (lock && lock.owner !== owner && lock.expiresAtMs > opts.now) throw Object.assign(new Error(`locked by ${lock.owner}`), { name: 'LockHeld' });
      if (lock && lock.owner === owner && lock.expiresAtMs > opts.now) return { acquired: false };
      lock = { owner, expiresAtMs: opts.now + opts.ttlSeconds * 1000 };
      return { acquired: true };
    },
    renewLock: async (_job, owner, _token, opts) => {
      if (lock?.owner !== owner) throw Object.assign(new Error(`${owner} no longer holds the lock`), { name: 'LockLost' });
      lock.expiresAtMs = Math.max(lock.expiresAtMs, opts.now + opts.ttlSeconds * 1000);
      return lock;
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
    getForecastProfile: async (job) => forecasts.get(job),
    putForecastProfile: async (job, profile) => void forecasts.set(job, profile),
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

/** The one-job config of the in-memory scaler tests: "orders", reactive, Flink 1.19 at `url`, pending-records lag, JVM CPU. */
export function reactiveOrdersConfig(url: string): Config {
  return parseConfig({
    jobs: [
      {
        name: 'orders',
        flink: { url, version: '1.19' },
        mode: 'reactive',
        target: { kind: 'asg', autoScalingGroupName: 'orders-tms' },
        slotsPerTaskManager: 2,
        bounds: { maxParallelism: 8, maxTaskManagers: 4 },
        lag: { source: { type: 'flink-pending-records' }, highThreshold: 10_000 },
        cpu: { source: 'flink-jvm' },
      },
    ],
  });
}

/**
 * ScalerDeps for tests that watch what the scaler reads and records: the real Flink client (over loopback), an
 * in-memory store, the recording policy stub, no CloudWatch metrics, and no capacity target (a capacity change
 * throws). `overrides` replaces any part (notify, log, alarmStates, ...).
 */
export function memoryScalerDeps(config: Config, now: () => number, overrides: Partial<ScalerDeps> = {}) {
  const snapshots: any[] = [];
  const store = memoryStore();
  const deps: ScalerDeps = {
    config,
    now,
    flink: async (job) => new FlinkRestClient({ baseUrl: job.flink.url, timeoutMs: 2000, retries: 0, version: job.flink.version }),
    metrics: { read: async () => ({}) },
    store,
    target: () => {
      throw new Error('no capacity change expected');
    },
    decide: recordingDecide(snapshots),
    notify: async () => {},
    publishDecision: () => {},
    log: { info: () => {}, warn: () => {}, error: () => {} },
    ...overrides,
  };
  return { deps, snapshots, store };
}
