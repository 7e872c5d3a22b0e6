/**
 * Simulator speed and memory (issue 20): every shipped scenario and a generated 30-day diurnal+weekly trace through
 * `simulate` (flink-elastic policy, seed 1, the one tick setting SIM_TICK_MS), each run in its own process, one at a
 * time. Prints per run: virtual time, wall time (setup: emulators, stack synthesis, state machine validation; then the
 * simulation loop), CPU time, simulated seconds per wall second (whole run and loop), peak RSS (/usr/bin/time -v when
 * present, else sampled in process), and whether the fast mode's figures equal the full-fidelity mode's (a digest of
 * every decision, alarm, rescale, series point and summary). Goals beside them: ≥ 10,000 simulated s per wall s on the
 * default scenario and on the 30-day trace, the 30-day trace in < 5 min, < 500 MB peak RSS.
 *
 * The full-fidelity mode (dynalite, loopback HTTP) runs the shipped scenarios and a 1-day trace (a 30-day one takes
 * over an hour that way); the 30-day trace runs fast only. Environment: BENCH_SIMSPEED_RUNS (comma-separated: scenario
 * names and trace:<days>) narrows the list, BENCH_SIMSPEED_FULL=0 skips the full-fidelity runs, BENCH_SIMSPEED_DAYS
 * sets the long trace's days (default 30). Results: bench/results/simspeed.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_TICK_MS } from '../local/simulator';
import { SCENARIO_NAMES } from '../local/scenarios';
import type { SimspeedRow } from './simspeed-worker';

const TIME = '/usr/bin/time';

function runOne(run: string, fidelity: 'fast' | 'full'): Promise<SimspeedRow & { maxRssMb?: number }> {
  const worker = [process.execPath, '--import', 'tsx', join(__dirname, 'simspeed-worker.ts'), run, fidelity];
  const useTime = existsSync(TIME);
  return new Promise((resolve, reject) => {
    const child = useTime ? spawn(TIME, ['-v', ...worker], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(worker[0], worker.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) return reject(new Error(`${run} (${fidelity}) failed (exit ${code}): ${err.split('\n').filter((l) => /Error|at /.test(l)).slice(0, 8).join('\n')}`));
      const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1];
      resolve({ ...(JSON.parse(line) as SimspeedRow), ...(kb ? { maxRssMb: Math.round((Number(kb) * 1024) / 1e6) } : {}) });
    });
  });
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const s1 = (ms: number) => (ms / 1000).toFixed(1);

export async function run(): Promise<void> {
  const days = Number(process.env.BENCH_SIMSPEED_DAYS ?? 30);
  const long = `trace:${days}`;
  const all = [...SCENARIO_NAMES, 'trace:1', long];
  const runs = process.env.BENCH_SIMSPEED_RUNS ? process.env.BENCH_SIMSPEED_RUNS.split(',').filter(Boolean) : all;
  const full = process.env.BENCH_SIMSPEED_FULL !== '0';
  process.stdout.write(`simulator speed: ${runs.length} runs, tick ${SIM_TICK_MS / 1000} s, one process each, one at a time${full ? '; full fidelity beside the fast mode (not for traces over 1 day)' : ''}\n`);
  const rows: { run: string; fast: SimspeedRow & { maxRssMb?: number }; full?: SimspeedRow & { maxRssMb?: number } }[] = [];
  for (const r of runs) {
    const fast = await runOne(r, 'fast');
    process.stdout.write(`  ${r} fast: ${s1(fast.wallMs)} s\n`);
    let fullRow;
    const traceDays = r.startsWith('trace:') ? Number(r.slice(6)) : 0;
    if (full && traceDays <= 1) {
      fullRow = await runOne(r, 'full');
      process.stdout.write(`  ${r} full: ${s1(fullRow.wallMs)} s\n`);
    }
    rows.push({ run: r, fast, full: fullRow });
  }
  const head = ['run', 'virtual', 'wall s (setup + loop)', 'CPU s', 'sim-s / wall-s', 'loop sim-s / wall-s', 'peak RSS MB', 'report KB', 'full-fidelity wall s', 'same figures as full'];
  const rss = (x: SimspeedRow & { maxRssMb?: number }) => x.maxRssMb ?? x.peakRssMb;
  const virtual = (s: number) => (s >= 86_400 ? `${(s / 86_400).toFixed(0)} d` : `${(s / 3600).toFixed(1)} h`);
  const cells = rows.map(({ run: r, fast: f, full: u }) => [
    r,
    virtual(f.virtualSeconds),
    `${s1(f.wallMs)} (${s1(f.setupMs)} + ${s1(f.loopMs)})`,
    s1(f.cpuMs),
    n0(f.simulatedSecondsPerWallSecond),
    n0(f.loopSimulatedSecondsPerWallSecond),
    n0(rss(f)),
    n0(f.reportKb),
    u ? s1(u.wallMs) : '-',
    u ? (u.digest === f.digest ? 'yes' : `NO (${f.digest} vs ${u.digest})`) : 'not run',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(' | ') + ' |';
  process.stdout.write([line(head), '|' + w.map((x, i) => (i === 0 ? ':' : '') + '-'.repeat(x + 1) + (i === 0 ? '' : ':')).join('|') + '|', ...cells.map(line)].join('\n') + '\n');

  process.stdout.write('\nGoals (issue 20)\n');
  const def = rows.find((r) => r.run === 'step-spike');
  const month = rows.find((r) => r.run === long);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (def) {
    process.stdout.write(
      `  default scenario (step-spike) ≥ 10,000 sim-s / wall-s: whole run ${n0(def.fast.simulatedSecondsPerWallSecond)} (${verdict(def.fast.simulatedSecondsPerWallSecond >= 10_000)}), simulation loop ${n0(def.fast.loopSimulatedSecondsPerWallSecond)} (${verdict(def.fast.loopSimulatedSecondsPerWallSecond >= 10_000)})\n`,
    );
  }
  if (month) {
    const f = month.fast;
    process.stdout.write(`  ${days}-day trace ≥ 10,000 sim-s / wall-s: ${n0(f.simulatedSecondsPerWallSecond)} (${verdict(f.simulatedSecondsPerWallSecond >= 10_000)}); under 5 min: ${s1(f.wallMs)} s (${verdict(f.wallMs < 300_000)}); peak RSS < 500 MB: ${n0(rss(f))} MB (${verdict(rss(f) < 500)})\n`);
  }
  const compared = rows.filter((r) => r.full);
  const same = compared.filter((r) => r.full!.digest === r.fast.digest);
  process.stdout.write(`  fast mode = full fidelity: ${same.length} of ${compared.length} compared runs give the same figures${compared.length && same.length === compared.length ? '' : ' (NOT met)'}\n`);
  process.stdout.write(`  (CPU s beside wall s: on a shared machine the wall figures include waiting for a core)\n`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'simspeed.json');
  writeFileSync(out, JSON.stringify({ node: process.version, tickMs: SIM_TICK_MS, rows }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
}
