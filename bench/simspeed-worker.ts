/**
 * One run of the simspeed benchmark in its own process (bench/simspeed.bench.ts starts it under /usr/bin/time -v when
 * there is one): simulates a shipped scenario, or a generated diurnal+weekly trace of N days (`trace:N`), in one
 * fidelity, renders its HTML report as the CLI does, and prints one JSON line: wall and CPU figures (CPU includes
 * module loading and the report), peak RSS sampled every 100 ticks and after the report, and a digest of every
 * figure the run produced (decisions, alarms, rescales, series, summaries, totals) to compare the two modes with.
 */
import { createHash } from 'node:crypto';
import { renderReport } from '../local/report';
import { diurnalWeeklyTrace } from '../local/scenarios';
import { reportInput, simulate, type Fidelity, type SimulationResult } from '../local/simulator';

export interface SimspeedRow {
  run: string;
  fidelity: Fidelity;
  virtualSeconds: number;
  wallMs: number;
  setupMs: number;
  loopMs: number;
  cpuMs: number;
  simulatedSecondsPerWallSecond: number;
  loopSimulatedSecondsPerWallSecond: number;
  peakRssMb: number;
  /** The HTML report, as `flink-elastic simulate` writes it: size and time to render. */
  reportKb: number;
  reportMs: number;
  digest: string;
  sloViolationSeconds: number;
  taskManagerHours: number;
  rescales: number;
  decisions: number;
}

/** A digest of everything but the wall clock and the loopback URLs; series hashed point by point (no giant string). */
export function figuresDigest(r: SimulationResult): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ scenario: r.scenario, policy: r.policy, seed: r.seed, durationMs: r.durationMs, jobs: r.jobs, totals: r.totals, executions: r.executions }));
  for (const run of r.runs) {
    h.update(JSON.stringify({ job: run.job, decisions: run.decisions, alarms: run.alarms, rescales: run.rescales }));
    for (const p of run.series) h.update(`${p.t},${p.inputRate},${p.capacity},${p.lagRecords},${p.backlogSeconds},${p.parallelism},${p.taskManagers},${p.cpuPercent}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

async function main(): Promise<void> {
  const [run, fidelity] = process.argv.slice(2) as [string, Fidelity];
  let peak = process.memoryUsage.rss();
  let ticks = 0;
  const cpu0 = process.cpuUsage();
  const days = run.startsWith('trace:') ? Number(run.slice('trace:'.length)) : undefined;
  const r = await simulate({
    ...(days !== undefined ? { trace: { csv: diurnalWeeklyTrace({ days }), file: `diurnal-weekly-${days}d.csv` } } : { scenario: run }),
    fidelity,
    // the loop runs on microtasks (timers would starve): sample the RSS from the tick callback
    onTick: () => {
      if (++ticks % 100 === 0) peak = Math.max(peak, process.memoryUsage.rss());
    },
  });
  peak = Math.max(peak, process.memoryUsage.rss());
  const r0 = performance.now();
  const html = renderReport(reportInput(r));
  const reportMs = performance.now() - r0;
  peak = Math.max(peak, process.memoryUsage.rss());
  const cpu = process.cpuUsage(cpu0);
  const row: SimspeedRow = {
    run,
    fidelity,
    virtualSeconds: r.durationMs / 1000,
    wallMs: r.wall.ms,
    setupMs: r.wall.setupMs,
    loopMs: r.wall.loopMs,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    simulatedSecondsPerWallSecond: r.wall.simulatedSecondsPerWallSecond,
    loopSimulatedSecondsPerWallSecond: r.wall.loopSimulatedSecondsPerWallSecond,
    peakRssMb: Math.round(peak / 1e6),
    reportKb: Math.round(Buffer.byteLength(html) / 1024),
    reportMs: Math.round(reportMs),
    digest: figuresDigest(r),
    sloViolationSeconds: r.totals.sloViolationSeconds,
    taskManagerHours: r.totals.taskManagerHours,
    rescales: r.totals.rescales,
    decisions: r.jobs.reduce((a, j) => a + j.decisions, 0),
  };
  process.stdout.write(JSON.stringify(row) + '\n');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
