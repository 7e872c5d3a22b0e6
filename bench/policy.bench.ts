/**
 * Decisions per second of each policy for a 50-vertex job (2 sources, 48 operators in chains joined by keyBy edges),
 * with the policy state carried from call to call as the scaler does; each policy runs for about 1 s
 * (BENCH_MS to change). `npm run bench policy`.
 */
import { performance } from 'node:perf_hooks';
import { parseJob } from '../functions/core/config';
import { POLICIES, parseSnapshot, policyFor, type JobSnapshotInput, type PolicyState } from '../functions/core/policy';

const VERTICES = 50;

function snapshot(i: number): ReturnType<typeof parseSnapshot> {
  const vertices: JobSnapshotInput['vertices'] = [];
  const wave = 1 + 0.1 * Math.sin(i / 7);
  for (let v = 0; v < VERTICES; v++) {
    const isSource = v < 2;
    const rate = 20000 * wave;
    vertices.push({
      id: `v${String(v).padStart(31, '0')}`,
      name: isSource ? `Source ${v}` : `Op ${v}`,
      parallelism: isSource ? 4 : 8,
      maxParallelism: 128,
      inputRate: isSource ? rate / 2 : rate,
      outputRate: v === VERTICES - 1 ? 0 : isSource ? rate / 2 : rate,
      busyTimeMsPerSecond: 300 + ((v * 37) % 500),
      backpressureMsPerSecond: 0,
      pendingRecords: isSource ? 1000 : undefined,
      keyedInput: v % 3 === 0 && !isSource,
      sourcePartitions: isSource ? 24 : undefined,
      inputs: isSource ? [] : v === 2 ? ['v' + '0'.repeat(31), `v${'1'.padStart(31, '0')}`] : [`v${String(v - 1).padStart(31, '0')}`],
    });
  }
  return parseSnapshot({
    now: Date.UTC(2026, 0, 1) + i * 60_000,
    vertices,
    cluster: { taskManagers: 4, slotsTotal: 8, slotsFree: 0 },
    signals: { produceRate: 20000 * wave, consumeRate: 20000, lagRecords: 2000, cpuPercent: 60 * wave },
  });
}

export async function run(): Promise<void> {
  const job = parseJob({
    name: 'bench',
    flink: { url: 'http://127.0.0.1:8081' },
    mode: 'adaptive',
    target: { kind: 'asg', autoScalingGroupName: 'tms' },
    slotsPerTaskManager: 2,
    bounds: { maxParallelism: 64, maxTaskManagers: 32 },
    lag: { source: { type: 'flink-pending-records' }, highThreshold: 100000 },
    policy: { alignment: 'key-groups' },
  });
  const snaps = Array.from({ length: 200 }, (_, i) => snapshot(i));
  const rows: string[][] = [];
  for (const name of Object.keys(POLICIES)) {
    // aws-step-throughput's T: 8 subtasks × 2,500 rec/s = the 20,000 rec/s the snapshots wave around, so it decides
    const policy = policyFor(name, { throughputPerSubtask: 2500 })!;
    let state: PolicyState | undefined;
    for (let i = 0; i < 200; i++) state = policy(snaps[i % snaps.length], job, state).state; // warm-up
    // time-boxed (about 1 s per policy), so the bench stays short on a busy machine
    const budgetMs = Number(process.env.BENCH_MS ?? 1000);
    state = undefined;
    let n = 0;
    const t0 = performance.now();
    let ms = 0;
    const cpu0 = process.cpuUsage();
    while (ms < budgetMs) {
      for (let k = 0; k < 20; k++, n++) state = policy(snaps[n % snaps.length], job, n % snaps.length === 0 ? undefined : state).state;
      ms = performance.now() - t0;
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    rows.push([
      name,
      String(VERTICES),
      String(n),
      ms.toFixed(0),
      Math.round((n / ms) * 1000).toLocaleString('en-US'),
      ((ms * 1000) / n).toFixed(1),
      Math.round((n / cpuMs) * 1000).toLocaleString('en-US'),
    ]);
  }
  const head = ['policy', 'vertices', 'decisions', 'wall ms', 'decisions/s', 'µs/decision', 'decisions/CPU-s'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => '| ' + r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join(' | ') + ' |';
  process.stdout.write([line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n') + '\n');
}
