/**
 * The CLI's --local mode end to end: the commands run the synthesized rescale state machine in-process
 * (aws-local-stepfunctions, real step handlers) against the Flink emulator over loopback, with the emulator's
 * TaskManagers as capacity target and a local state file. Virtual time runs fast (1 s per 5 ms) so waits are short.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli';
import { startEmulator, type Emulator } from '../../local/emulator';

let emu: Emulator;
let ticker: NodeJS.Timeout;
let dir: string;
let configFile: string;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), services: { user: () => 'cli:test' } } };
}

async function cli(...args: string[]) {
  const c = io();
  const code = await runCli(['--config', configFile, ...args], c.io);
  return { code, out: c.out.join('\n'), err: c.err.join('\n') };
}

const local = () => ['--local', '--flink-url', emu.url, '--state-file', join(dir, 'state.json'), '--poll-interval', '0.05s'];
const job = () => emu.model.jobs.find((j) => j.name === 'demo' && j.state === 'RUNNING')!;

beforeAll(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 1, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'demo', parallelism: 2, inputRate: 100 });
  ticker = setInterval(() => emu.clock.advance(1000), 5);
  dir = mkdtempSync(join(tmpdir(), 'flink-elastic-cli-'));
  configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      deployment: { stackName: 'CliTest' },
      jobs: [{
        name: 'demo',
        flink: { url: emu.url, version: '1.19', requestTimeoutMs: 2000 },
        mode: 'savepoint',
        submit: { jarPath: 'demo.jar' },
        savepoint: { directory: 'file:///tmp/sp' },
        target: { kind: 'asg', autoScalingGroupName: 'local' },
        slotsPerTaskManager: 2,
        bounds: { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4 },
        drainTimeoutSeconds: 10,
        cooldownSeconds: 0,
      }],
    }),
  );
  await new Promise((r) => setTimeout(r, 50));
}, 120_000);

afterAll(async () => {
  clearInterval(ticker);
  await emu.close();
});

test('scale-out adds TaskManagers first, then rescales the job onto them through a savepoint', async () => {
  const r = await cli('scale-out', '--job', 'demo', '--task-managers', '1', '--json', ...local());
  expect(r.code).toBe(0);
  const report = JSON.parse(r.out);
  expect(report).toMatchObject({
    command: 'scale-out',
    where: 'local',
    status: 'SUCCEEDED',
    outcome: 'succeeded',
    input: { job: 'demo', taskManagers: '+1', startedBy: 'cli:test' },
    plan: { mode: 'savepoint', direction: 'out', from: { parallelism: 2, taskManagers: 1 }, to: { parallelism: 4, taskManagers: 2 } },
  });
  expect(report.savepointPath).toMatch(/^file:\/\/\/tmp\/sp\//);
  expect(report.steps.map((s: { state: string }) => s.state)).toEqual(expect.arrayContaining(['Validate', 'EnsureCapacity', 'Savepoint', 'Cancel', 'Resubmit', 'CheckRunning', 'Notify']));
  // progress went to stderr (stdout is the JSON), one line per step with what it found
  expect(r.err).toMatch(/✓ EnsureCapacity \(\d+\.\d s\): desired 1 -> 2/);
  expect(emu.model.taskManagers.length).toBe(2);
  expect(job().vertices.map((v) => v.parallelism)).toEqual([4, 4, 4]);
}, 120_000);

test('status shows Flink beside the capacity target, and the last rescale from the local state', async () => {
  const r = await cli('status', '--json', ...local().slice(0, 5));
  expect(r.code).toBe(0);
  const s = JSON.parse(r.out).jobs[0];
  expect(s.flink).toMatchObject({ state: 'RUNNING', parallelism: 4, slotsTotal: 4, slotsAvailable: 0 });
  expect(s.flink.taskManagers).toHaveLength(2);
  expect(s.capacity).toMatchObject({ desired: 2, idle: [] });
  expect(s.capacity.members.every((m: { taskManagerId?: string }) => m.taskManagerId)).toBe(true);
  expect(s.lock).toBeNull();
  expect(s.lastRescale).toMatchObject({ kind: 'rescale', outcome: 'succeeded', change: 'parallelism 2 -> 4, TaskManagers 1 -> 2' });
  const human = await cli('status', ...local().slice(0, 5));
  expect(human.out).toMatch(/job RUNNING .*parallelism 4/);
  expect(human.out).toMatch(/desired 2 .*2 member\(s\), 0 idle/);
});

test('dry-run plans and records a decision but changes nothing', async () => {
  const before = job().id;
  const r = await cli('scale-in', '--job', 'demo', '--task-managers', '1', '--dry-run', '--json', ...local());
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ outcome: 'dry-run', plan: { from: { parallelism: 4 }, to: { parallelism: 2, taskManagers: 1 } } });
  expect(job().id).toBe(before);
  expect(emu.model.taskManagers.length).toBe(2);
});

test('drain releases exactly the named TaskManager, even the one the job filled first', async () => {
  const named = emu.model.taskManagers[0].id;
  const r = await cli('drain', '--job', 'demo', '--task-manager', named, '--drain-timeout', '10s', '--json', ...local());
  expect(r.code).toBe(0);
  const report = JSON.parse(r.out);
  expect(report.input).toMatchObject({ taskManagers: '-1', drainTaskManager: named, drainTimeoutSeconds: 10 });
  expect(report.plan).toMatchObject({ direction: 'in', to: { parallelism: 2, taskManagers: 1 } });
  expect(report.released).toEqual([named]);
  expect(report.outcome).toBe('succeeded');
  expect(emu.model.taskManagers.map((t) => t.id)).not.toContain(named);
  expect(emu.model.taskManagers).toHaveLength(1);
  expect(job().vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
}, 120_000);

test('a failed savepoint leaves the job untouched; the command fails with the reason (exit 1)', async () => {
  const before = job().id;
  emu.model.faults.failNextSavepoints(1);
  const r = await cli('rescale', '--job', 'demo', '--parallelism', '3', ...local());
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/✗ PollSavepoint: SavepointFailed/);
  expect(r.out).toMatch(/FAILED: .*demo/);
  expect(r.out).toMatch(/untouched|not changed|still runs/i);
  expect(job().id).toBe(before);
  expect(job().vertices.map((v) => v.parallelism)).toEqual([2, 2, 2]);
}, 120_000);

test('a parallelism outside the job bounds is rejected by the workflow naming the field and range', async () => {
  const r = await cli('rescale', '--job', 'demo', '--parallelism', '9', ...local());
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/parallelism.*from 1 to 8/);
});

test('history lists the rescales and decisions newest first with durations', async () => {
  const r = await cli('history', '--job', 'demo', '--json', ...local().slice(0, 5));
  expect(r.code).toBe(0);
  const { entries } = JSON.parse(r.out);
  // (an input the workflow rejects in Validate has no plan and is not recorded: its notification says why)
  expect(entries.map((e: { kind: string; outcome: string }) => `${e.kind}:${e.outcome}`)).toEqual([
    'rescale:failed-untouched',
    expect.stringMatching(/^rescale:succeeded/),
    'decision:dry-run',
    'rescale:succeeded',
  ]);
  expect(entries[3]).toMatchObject({ change: 'parallelism 2 -> 4, TaskManagers 1 -> 2', startedBy: 'cli:test' });
  // a dry run and a failed rescale show what was planned, not where the job stayed ("parallelism 4 -> 4")
  expect(entries[2]).toMatchObject({ change: 'planned parallelism 4 -> 2, TaskManagers 2 -> 1' });
  expect(entries[0]).toMatchObject({ change: 'planned parallelism 2 -> 3, TaskManagers 1 -> 2' });
  expect(entries[3].durationMs).toBeGreaterThan(0);
  const human = await cli('history', '--job', 'demo', '--limit', '2', ...local().slice(0, 5));
  expect(human.out.split('\n')).toHaveLength(3);
  expect(human.out).toMatch(/^time\s+kind\s+outcome/);
});
