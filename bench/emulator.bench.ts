/**
 * Emulator and Flink client speed: how fast virtual time runs (a day of diurnal traffic) and how many REST calls
 * per second the client completes against the emulator over loopback. Figures only here, never in tests.
 */
import { FlinkRestClient } from '../functions/adapters/flink/client';
import { FlinkModel, startEmulator } from '../local/emulator';

const DAY = 86_400_000;

function virtualDay(jobs: number): { realMs: number; heapMb: number; ticks: number } {
  const before = process.memoryUsage().heapUsed;
  const m = new FlinkModel({ taskManagers: jobs * 2, slotsPerTaskManager: 2 });
  for (let i = 0; i < jobs; i++) {
    m.startJob({
      name: `job-${i}`,
      parallelism: 2,
      inputRate: { points: [[0, 500], [6 * 3_600_000, 2500], [12 * 3_600_000, 3000], [18 * 3_600_000, 800]], interpolate: 'linear', periodMs: DAY },
    });
  }
  let ticks = 0;
  m.clock.onTick(() => ticks++);
  const t0 = performance.now();
  // Advance in 1-minute slices, as a simulator would between evaluations.
  for (let t = 0; t < DAY; t += 60_000) m.clock.advance(60_000);
  const realMs = performance.now() - t0;
  return { realMs, heapMb: (process.memoryUsage().heapUsed - before) / 1e6, ticks };
}

async function restThroughput(calls: number): Promise<Record<string, number>> {
  const emu = await startEmulator({ taskManagers: 2 });
  const job = emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1000 });
  emu.clock.advance(10_000);
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 5000 });
  const out: Record<string, number> = {};
  const time = async (name: string, fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    out[name] = calls / ((performance.now() - t0) / 1000);
  };
  await time('overview', () => api.overview());
  await time('job details', () => api.job(job.id));
  await time('vertexMetrics (2 calls)', () => api.vertexMetrics(job.id, job.vertices[0].id));
  await emu.close();
  return out;
}

export async function run(): Promise<void> {
  const rows: string[][] = [['case', 'real ms', 'virtual/real', 'heap MB', 'load steps']];
  for (const jobs of [1, 10]) {
    const r = virtualDay(jobs);
    rows.push([`1 virtual day, ${jobs} job(s), 1 s steps`, r.realMs.toFixed(0), `${Math.round(DAY / r.realMs)}x`, r.heapMb.toFixed(1), String(r.ticks)]);
  }
  printTable(rows);
  const rest = await restThroughput(300);
  printTable([['REST call (client → emulator, loopback)', 'calls/s'], ...Object.entries(rest).map(([k, v]) => [k, v.toFixed(0)])]);
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [n, r] of rows.entries()) {
    process.stdout.write(`| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |\n`);
    if (n === 0) process.stdout.write(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  }
  process.stdout.write('\n');
}
