/**
 * The real-time local driver (`flink-elastic run --local`) against the Flink emulator over loopback: the first
 * decision comes from metrics the collector read (the lag alarm the stack synthesizes, on a 1 s period here), the
 * synthesized workflow rescales the job, and a stop request while a rescale is in flight waits for it to end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../functions/core/config';
import { EmulatorControlTarget } from '../../local/emulator-target';
import { runLocalLoop, type LoopEvent } from '../../local/driver/loop';
import { FileStateStore } from '../../local/file-state-store';
import { startEmulator, type Emulator } from '../../local/emulator';

let emu: Emulator;
let ticker: NodeJS.Timeout;

beforeEach(async () => {
  emu = await startEmulator({ version: '1.19', taskManagers: 1, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'orders', parallelism: 1, inputRate: 500, program: { operatorCapacityPerSubtask: 1000 } });
  // the emulated world runs 5× faster than the wall clock; the driver's alarms and waits run on the wall clock
  ticker = setInterval(() => emu.clock.advance(100), 20);
});

afterEach(async () => {
  clearInterval(ticker);
  await emu.close();
});

function config() {
  return parseConfig({
    deployment: { stackName: 'DriverTest' },
    jobs: [{
      name: 'orders',
      flink: { url: emu.url, version: '1.19', requestTimeoutMs: 3000 },
      mode: 'savepoint',
      submit: { jarPath: 'orders.jar' },
      savepoint: { directory: 'file:///tmp/flink-savepoints' },
      target: { kind: 'asg', autoScalingGroupName: 'local' },
      slotsPerTaskManager: 2,
      bounds: { minParallelism: 1, maxParallelism: 8, minTaskManagers: 1, maxTaskManagers: 4 },
      lag: { source: { type: 'flink-pending-records' }, highThreshold: 3000, lowThreshold: 10 },
      drainTimeoutSeconds: 30,
      cooldownSeconds: 0,
    }],
  }, 'driver test');
}

function loop(signal?: AbortSignal, durationMs = 90_000) {
  const cfg = config();
  const job = cfg.jobs[0];
  const events: LoopEvent[] = [];
  const target = new EmulatorControlTarget({ baseUrl: emu.url, bounds: job.bounds });
  const run = runLocalLoop({
    config: cfg,
    store: new FileStateStore(join(mkdtempSync(join(tmpdir(), 'fe-driver-')), 'state.json')),
    target: () => target,
    alarmPeriodSeconds: 1,
    collectEveryMs: 500,
    waitSeconds: 0.2,
    reevaluateEveryMs: 5000,
    durationMs,
    signal,
    onEvent: (e) => events.push(e),
  });
  return { run, events };
}

test('a real change of the input rate: the collector sees the lag, the lag alarm fires, the scaler starts the workflow, the job is rescaled', async () => {
  const stop = new AbortController();
  const { run, events } = loop(stop.signal);
  // steady first, until the low-load alarm has fired and its decision is made: nothing to do (the job is at its minimum)
  const s0 = Date.now();
  while (!events.some((e) => e.type === 'decision' && /lag-low → ALARM/.test(e.trigger)) && Date.now() - s0 < 30_000) await new Promise((r) => setTimeout(r, 100));
  expect(events.filter((e) => e.type === 'execution-started')).toHaveLength(0);
  const stream = emu.model.jobs.find((j) => j.name === 'orders')!.stream;
  emu.model.setInputRate(stream, 2500);
  const changedAt = Date.now();
  const t0 = Date.now();
  while (!events.some((e) => e.type === 'execution-ended') && Date.now() - t0 < 80_000) await new Promise((r) => setTimeout(r, 200));
  stop.abort();
  const r = await run;

  // the lag-high alarm wakes the scaler first; the rescale is started by it or by a re-evaluation while that alarm
  // stays in ALARM. (The lag-low alarm of the steady phase may change state around the input change on a slow
  // machine; its decisions cannot start anything here — the job is at its minimum — and are not what is asserted.)
  expect(r.decisions.filter((d) => d.at < changedAt).every((d) => d.result.outcome !== 'started')).toBe(true);
  const highAlarm = r.alarms.find((a) => a.alarm.includes('lag-high') && a.to === 'ALARM');
  expect(highAlarm).toBeDefined();
  expect(highAlarm!.at).toBeGreaterThanOrEqual(changedAt);
  const woken = r.decisions.find((d) => /alarm .*lag-high → ALARM/.test(d.trigger));
  expect(woken).toBeDefined();
  const started = r.decisions.find((d) => d.result.outcome === 'started')!;
  expect(started).toBeDefined();
  expect(started.at).toBeGreaterThanOrEqual(woken!.at);
  expect(r.decisions.filter((d) => d.at < woken!.at).every((d) => d.result.outcome !== 'started')).toBe(true);
  // made from what the collector read: pendingRecords above the threshold before the alarm changed
  const alarmAt = highAlarm!.at;
  const seen = events.filter((e): e is Extract<LoopEvent, { type: 'collected' }> => e.type === 'collected' && e.at <= alarmAt + 1000);
  expect(Math.max(...seen.map((e) => e.metrics.pendingRecords ?? 0))).toBeGreaterThan(3000);
  expect(r.executions).toHaveLength(1);
  expect(r.executions[0].status).toBe('SUCCEEDED');
  expect(r.executions[0].states).toEqual(expect.arrayContaining(['Lock', 'Savepoint', 'Cancel', 'Resubmit', 'CheckRunning', 'Unlock']));
  const running = emu.model.jobs.filter((j) => j.name === 'orders' && j.state === 'RUNNING');
  expect(running).toHaveLength(1);
  expect(Math.max(...running[0].vertices.map((v) => v.parallelism))).toBe(r.executions[0].input.parallelism);
  expect(r.executions[0].input.parallelism).toBeGreaterThan(1); // scaled up
  expect(r.notifications.some((n) => /rescaled 1 -> \d/.test(n.subject))).toBe(true);
}, 120_000);

test('stopping while a rescale is in flight waits for it: the loop returns only once the execution has ended', async () => {
  const stop = new AbortController();
  const { run, events } = loop(stop.signal);
  const stream = emu.model.jobs.find((j) => j.name === 'orders')!.stream;
  emu.model.setInputRate(stream, 2500);
  const t0 = Date.now();
  while (!events.some((e) => e.type === 'execution-step' && e.event.type === 'entered' && e.event.state === 'Cancel') && Date.now() - t0 < 80_000) await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  const r = await run;
  expect(events.some((e) => e.type === 'stopping')).toBe(true);
  expect(r.executions).toHaveLength(1);
  expect(r.executions[0].status).toBe('SUCCEEDED');
  expect(emu.model.jobs.filter((j) => j.name === 'orders' && j.state === 'RUNNING')).toHaveLength(1);
}, 120_000);
