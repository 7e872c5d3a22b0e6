import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

test.each([
  [['--scenario', 'nope'], "option '--scenario <name>' argument 'nope' is invalid. --scenario must be one of step-spike, diurnal-day, flash-crowd, slow-ramp, noisy, weekday-peaks, multi-tenant (got \"nope\")"],
  [['--policy', 'magic'], '--policy must be one of flink-elastic, msf-cpu, aws-step-throughput, seed-001 (got "magic")'],
  [['--wake', 'hourly'], '--wake must be one of while-alarm, every-minute (got "hourly")'],
  [['--fidelity', 'turbo'], '--fidelity must be one of fast, full (got "turbo")'],
  [['--seed', '-3'], '--seed must be an integer from 0 to 4294967295 (got "-3")'],
  [['--seed', '1.5'], '--seed must be an integer from 0 to 4294967295 (got "1.5")'],
])('simulate %j is a usage error: exit 2, a message naming the option and the allowed values', async (args, message) => {
  const r = await cli('simulate', ...args);
  expect(r.code).toBe(2);
  expect(r.err).toContain(message);
});

test('simulate with an unreadable trace fails naming the option, exit 1', async () => {
  const r = await cli('simulate', '--trace', '/nonexistent/trace.csv');
  expect(r.code).toBe(1);
  expect(r.err).toContain('--trace: cannot read the trace');
});

test('a malformed trace is refused naming the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  const trace = join(dir, 'bad.csv');
  writeFileSync(trace, 'time,records_per_second\n0,100\n60,lots\n');
  const r = await cli('simulate', '--trace', trace, '--quiet');
  expect(r.code).toBe(1);
  expect(r.err).toContain('line 3: records_per_second must be a number ≥ 0 (got "lots")');
});

test('simulate --help shows how each policy is triggered and an example', async () => {
  const r = await cli('simulate', '--help');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/msf-cpu\s+every minute/);
  expect(r.out).toContain('Example:\n  $ flink-elastic simulate');
});

test('simulate --trace replays a recorded rate, writes the report and prints JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  const trace = join(dir, 'traffic.csv');
  writeFileSync(trace, ['# a short recorded rate', 'time,records_per_second', '0,1500', '120,5000', '300,5000'].join('\n'));
  const report = join(dir, 'out', 'report.html');
  const r = await cli('simulate', '--trace', trace, '--report', report, '--json', '--quiet');
  expect(r.code).toBe(0);
  const j = JSON.parse(r.out);
  expect(j).toMatchObject({ scenario: `trace:${trace}`, policy: 'flink-elastic', wake: 'while-alarm', seed: 1, durationMs: 420_000, report });
  expect(j.jobs[0]).toMatchObject({ job: 'orders' });
  // 5,000 rec/s from 2 min on, capacity 2,000 at the start: the backlog grows past the tolerated 10 s
  expect(j.jobs[0].maxLagRecords).toBeGreaterThan(100_000);
  expect(j.jobs[0].sloViolationSeconds).toBeGreaterThan(0);
  expect(existsSync(report)).toBe(true);
  expect(readFileSync(report, 'utf8')).toContain('trace:');
  // step scaling, woken every minute: 1,500 ≤ (3 − 1) × 1,000 for 2 periods → 2; 5,000 ≥ 2 × 1,000 by 3 × 1,000 → +8
  const step = JSON.parse((await cli('simulate', '--trace', trace, '--report', report, '--json', '--quiet', '--policy', 'aws-step-throughput')).out);
  expect(step).toMatchObject({ policy: 'aws-step-throughput', wake: 'every-minute' });
  expect(step.executions.map((e: { from: number; to: number }) => `${e.from} → ${e.to}`)).toEqual(['3 → 2', '2 → 10']);
}, 60_000);

test('simulate --fidelity full runs on dynalite and loopback HTTP and prints the same figures as the default fast mode', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
  const trace = join(dir, 'traffic.csv');
  writeFileSync(trace, ['time,records_per_second', '0,1500', '120,5000', '300,5000'].join('\n'));
  const report = join(dir, 'report.html');
  const fast = await cli('simulate', '--trace', trace, '--report', report, '--quiet');
  const full = await cli('simulate', '--trace', trace, '--report', report, '--quiet', '--fidelity', 'full');
  expect([fast.code, full.code]).toEqual([0, 0]);
  expect(full.out).toMatch(/^Wall time .*simulation [\d.]+ s \([\d,]+ simulated seconds per wall second\), full fidelity \(dynalite, HTTP\)$/m);
  expect(fast.out).not.toContain('full fidelity');
  const figures = (out: string) => out.split('\n').filter((l) => !l.startsWith('Wall time'));
  expect(figures(full.out)).toEqual(figures(fast.out));
  expect(fast.out).toMatch(/^orders\s+\d+/m);
}, 60_000);
