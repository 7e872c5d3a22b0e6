/**
 * The commands of README.md and docs/cli.md run through the real package bin (`node bin/flink-elastic.js …`, which is
 * what `npx flink-elastic …` runs), each as a child process: the emulator as a child on a free loopback port, then
 * every command in local mode against it, with a temporary state file (never the repo's). The in-process CLI tests
 * (cli.test.ts, unit/cli) check the behaviour in detail; this one proves the shim loads every command, including
 * the lazily imported local workflow runner.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'flink-elastic.js');
const CONFIG = 'examples/local.config.json';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;
let emulator: ChildProcess;
let url: string;

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, out: stdout, err: stderr });
    });
  });
}

const local = () => ['--config', CONFIG, '--local', '--flink-url', url, '--state-file', join(dir, 'state.json')];
const acting = () => [...local(), '--poll-interval', '1s'];

async function flink<T>(path: string): Promise<T> {
  return (await (await fetch(`${url}${path}`)).json()) as T;
}
const taskManagers = async () => (await flink<{ taskmanagers: { id: string }[] }>('/taskmanagers')).taskmanagers.map((t) => t.id);
const runningParallelism = async () => {
  const { jobs } = await flink<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  const job = jobs.find((j) => j.name === 'demo' && j.state === 'RUNNING');
  if (!job) return undefined;
  const details = await flink<{ vertices: { parallelism: number }[] }>(`/jobs/${job.jid}`);
  return Math.max(...details.vertices.map((v) => v.parallelism));
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flink-elastic-bin-'));
  // As in docs/cli.md's terminal session: `flink-elastic emulator --port … --job demo --parallelism 2 --task-managers 1
  // --slots 2 --time-scale 20`, here on any free port (the emulator prints the one it got).
  emulator = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--job', 'demo', '--parallelism', '2', '--task-managers', '1', '--slots', '2', '--time-scale', '20', '--status-every', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((ok, fail) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`the emulator did not start: ${seen}`)), 60_000);
    const read = (b: Buffer) => {
      seen += b.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    emulator.stdout!.on('data', read);
    emulator.stderr!.on('data', read);
    emulator.on('exit', (code) => fail(new Error(`the emulator exited (${code}): ${seen}`)));
  });
}, 90_000);

afterAll(async () => {
  if (emulator && emulator.exitCode === null) {
    const exited = new Promise((r) => emulator.once('exit', r));
    emulator.kill('SIGTERM');
    await exited;
  }
});

test('--version prints the package version; --help lists every command and each command has an example', async () => {
  const v = await run(['--version']);
  expect(v).toMatchObject({ code: 0, out: `${VERSION}\n` });
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  const commands = ['validate', 'emulator', 'decide', 'status', 'scale-out', 'scale-in', 'rescale', 'drain', 'history', 'simulate', 'run'];
  for (const c of commands) expect(help.out).toMatch(new RegExp(`^  ${c} \\[options\\]`, 'm'));
  const each = await Promise.all(commands.map((c) => run([c, '--help'])));
  each.forEach((r, i) => {
    expect({ command: commands[i], code: r.code }).toEqual({ command: commands[i], code: 0 });
    expect(r.out).toMatch(new RegExp(`Usage: flink-elastic ${commands[i]} \\[options\\][\\s\\S]*Example:\\n\\s+\\$ flink-elastic ${commands[i]}`));
  });
}, 120_000);

test('validate: the repo config is valid (exit 0); a bad file lists every problem (exit 1), also as --json', async () => {
  const good = await run(['validate']);
  expect(good.code).toBe(0);
  expect(good.out).toMatch(/flink-elastic\.config\.json: valid, \d+ job\(s\)/);
  const doc = JSON.parse(readFileSync(join(ROOT, CONFIG), 'utf8'));
  doc.jobs[0].slotsPerTaskManager = 0;
  doc.jobs[0].bounds.maxTaskManagers = 'many';
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify(doc));
  const human = await run(['validate', '--config', bad]);
  expect(human.code).toBe(1);
  expect(human.err).toContain(`error: ${bad} is invalid (2 problems):`);
  expect(human.err).toMatch(/- jobs\[0\]\.slotsPerTaskManager: must be an integer from 1 to 256 \(got 0\)/);
  const json = await run(['validate', '--config', bad, '--json']);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.out)).toMatchObject({ valid: false, file: bad, problems: [{ path: 'jobs[0].slotsPerTaskManager' }, { path: 'jobs[0].bounds.maxTaskManagers' }] });
}, 60_000);

test("decide --snapshot examples/snapshot.json --explain: README's worked example", async () => {
  const r = await run(['decide', '--snapshot', 'examples/snapshot.json', '--explain']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^orders-enrichment: rescale up 4 → 10 \(TaskManagers 2 → 5\)/);
  const json = await run(['decide', '--snapshot', 'examples/snapshot.json']);
  expect(JSON.parse(json.out)).toMatchObject({ action: 'rescale', targetParallelism: 10, targetTaskManagers: 5 });
  expect(json.out).not.toMatch(/\d\.\d{7,}/);
}, 60_000);

test('status --local shows the emulated job and its TaskManager', async () => {
  const r = await run(['status', ...local()]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/Flink http:\/\/127\.0\.0\.1:\d+: job RUNNING [0-9a-f]{32}, parallelism 2, maxParallelism 128/);
  expect(r.out).toMatch(/capacity asg emulator .*desired 1 .*1 member\(s\), 0 idle/);
  expect(r.out).toMatch(/lock: free/);
}, 60_000);

test('scale-out, rescale, scale-in and drain run the rescale workflow locally and change the emulated cluster', async () => {
  const out = await run(['scale-out', '--job', 'demo', '--task-managers', '1', ...acting()]);
  expect(out.err).toBe('');
  expect(out.code).toBe(0);
  expect(out.out).toMatch(/✓ EnsureCapacity \(\d+\.\d s\): desired 1 -> 2/);
  expect(out.out).toMatch(/SUCCEEDED: flink-elastic: demo rescaled 2 -> 4 \(savepoint\)/);
  expect(await taskManagers()).toHaveLength(2);
  expect(await runningParallelism()).toBe(4);

  const rescale = await run(['rescale', '--job', 'demo', '--parallelism', '6', '--json', ...acting()]);
  expect(rescale.code).toBe(0);
  expect(JSON.parse(rescale.out)).toMatchObject({ command: 'rescale', where: 'local', status: 'SUCCEEDED', outcome: 'succeeded', plan: { from: { parallelism: 4 }, to: { parallelism: 6, taskManagers: 3 } } });
  expect(rescale.err).toMatch(/✓ Resubmit .* at parallelism 6/); // progress on stderr, the JSON alone on stdout
  expect(await runningParallelism()).toBe(6);

  const scaleIn = await run(['scale-in', '--job', 'demo', '--task-managers', '1', '--drain-timeout', '1m', ...acting()]);
  expect({ code: scaleIn.code, out: scaleIn.out, err: scaleIn.err }).toMatchObject({ code: 0 });
  expect(scaleIn.out).toMatch(/✓ ReleaseIdle \(\d+\.\d s\): released .* \(desired now 2\)/);
  expect(await taskManagers()).toHaveLength(2);
  expect(await runningParallelism()).toBe(4);

  // Which TaskManager drain releases is checked elsewhere (test/local/cli.test.ts); here: it runs through the bin.
  const named = (await taskManagers())[1];
  const drain = await run(['drain', '--job', 'demo', '--task-manager', named, '--drain-timeout', '30s', '--json', ...acting()]);
  expect(drain.code).toBe(0);
  expect(JSON.parse(drain.out)).toMatchObject({ command: 'drain', status: 'SUCCEEDED', input: { taskManagers: '-1', drainTaskManager: named, drainTimeoutSeconds: 30 }, released: [expect.any(String)] });
  expect(await taskManagers()).toHaveLength(1);
  expect(await runningParallelism()).toBe(2);
}, 300_000);

test('--dry-run plans and changes nothing; history shows every run, the dry run with what it planned', async () => {
  const dry = await run(['rescale', '--job', 'demo', '--parallelism', '8', '--dry-run', ...acting()]);
  expect(dry.code).toBe(0);
  expect(dry.out).toMatch(/parallelism 2 -> 8, TaskManagers 1 -> 4/);
  expect(await runningParallelism()).toBe(2);
  expect(await taskManagers()).toHaveLength(1);

  const h = await run(['history', '--job', 'demo', ...local()]);
  expect(h.code).toBe(0);
  const lines = h.out.trim().split('\n');
  expect(lines[0]).toMatch(/^time\s+kind\s+outcome\s+change\s+took\s+by\s+reason \/ error$/);
  expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1, 4).join(' | '))).toEqual([
    'decision | dry-run | planned parallelism 2 -> 8, TaskManagers 1 -> 4',
    'rescale | succeeded | parallelism 4 -> 2, TaskManagers 2 -> 1',
    'rescale | succeeded | parallelism 6 -> 4, TaskManagers 3 -> 2',
    'rescale | succeeded | parallelism 4 -> 6, TaskManagers 2 -> 3',
    'rescale | succeeded | parallelism 2 -> 4, TaskManagers 1 -> 2',
  ]);
  const json = await run(['history', '--job', 'demo', '--json', '--limit', '2', ...local()]);
  expect(JSON.parse(json.out)).toMatchObject({ job: 'demo', where: 'local', entries: [{ kind: 'decision', outcome: 'dry-run' }, { kind: 'rescale', outcome: 'succeeded' }] });
}, 120_000);

test('exit codes: 2 for bad arguments (nothing started), 1 when Flink cannot be read', async () => {
  const bad = await run(['rescale', '--job', 'demo', '--parallelism', '0', ...acting()]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/--parallelism must be an integer from 1 to 32768 \(got "0"\)/);
  const unreachable = await run(['status', '--config', CONFIG, '--local', '--flink-url', 'http://127.0.0.1:9', '--state-file', join(dir, 'state.json')]);
  expect(unreachable.code).toBe(1);
  expect(unreachable.out).toMatch(/Flink: unreachable: /);
  expect(unreachable.err).toMatch(/error: could not read 1 part\(s\):\n {2}job demo: Flink: /);
}, 60_000);

test('deployed mode without a region or credentials: one line saying what to set, exit 1', async () => {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const noRegion = await run(['status', '--config', CONFIG], env);
  expect(noRegion.code).toBe(1);
  expect(noRegion.err).toBe('error: cannot read stack "FlinkElasticLocal": no AWS region is set: pass --region REGION or set AWS_REGION (or give your AWS profile a region), or run against a cluster directly with --local --flink-url URL\n');
  const noCredentials = await run(['history', '--job', 'demo', '--config', CONFIG, '--region', 'eu-west-1'], env);
  expect(noCredentials.code).toBe(1);
  expect(noCredentials.err).toMatch(/^error: cannot read stack "FlinkElasticLocal": no AWS credentials found: pass --profile NAME or set AWS_PROFILE .*\n$/);
}, 60_000);

test('simulate: a short recorded trace through the whole loop, with its report', async () => {
  const trace = join(dir, 'traffic.csv');
  const rows = ['time,records_per_second', ...Array.from({ length: 31 }, (_, i) => `${i * 60},${i >= 5 && i < 20 ? 5000 : 1500}`)];
  writeFileSync(trace, rows.join('\n') + '\n');
  const report = join(dir, 'report.html');
  const r = await run(['simulate', '--trace', trace, '--quiet', '--report', report]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^job\s+SLO violation s\s+TM-hours\s+rescales/m);
  expect(r.out).toContain(`Report: ${report}`);
  expect(existsSync(report)).toBe(true);
  expect(readFileSync(report, 'utf8')).toMatch(/^<!doctype html>/i);
}, 120_000);

test('run --local: the whole loop in real time against the emulator, for a set duration and until Ctrl-C', async () => {
  const loop = ['run', ...local(), '--job', 'demo', '--alarm-period', '2s', '--collect-every', '1s', '--poll-interval', '1s'];
  const timed = await run([...loop, '--duration', '6s']);
  expect(timed.code).toBe(0);
  expect(timed.out).toMatch(/^Running the scaling loop for demo against http:\/\/127\.0\.0\.1:\d+/m);
  expect(timed.out).toMatch(/demo: in [\d,]+ rec\/s · lag [\d,]+ .* · TMs \d+ · slots \d+ free of \d+/);
  expect(timed.out).toMatch(/^Ran \d+ s: \d+ collection\(s\)/m);

  // Ctrl-C (SIGINT) stops it cleanly: no rescale was in flight, so it ends at once with its summary, exit 0
  const child = spawn(process.execPath, [BIN, ...loop], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const t0 = Date.now();
  while (!/demo: in /.test(out) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(err).toMatch(/stopping after the current step/);
  expect(out).toMatch(/^Ran \d+ s: /m);
}, 120_000);
