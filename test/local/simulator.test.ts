/**
 * The simulator end to end on a short step scenario: the real collector, alarms from the synthesized template, the
 * real scaler, the synthesized state machine with the real workflow steps, the state store (the fast mode's in-memory
 * one; simulator-fidelity.test.ts runs dynalite beside it), the emulator, one virtual clock.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReport } from '../../local/report';
import { prng, type Scenario } from '../../local/scenarios';
import { InvariantViolation, reportInput, simulate, type SimulationResult } from '../../local/simulator';
import { describeWithChromium, dumpDom } from '../support/chromium';

const MIN = 60_000;

/** 1,500 rec/s, a step to 6,000 rec/s at 3 min, back to 1,500 at 13 min; seeded ±3 % noise. */
function shortStep(seed: number): Scenario {
  return {
    name: 'short-step',
    description: 'test: step up at 3 min, down at 13 min',
    durationMs: 30 * MIN,
    jobs: [
      {
        name: 'orders',
        perSubtaskCapacity: 1000,
        initialParallelism: 2,
        slotsPerTaskManager: 2,
        minParallelism: 1,
        maxParallelism: 16,
        jobMaxParallelism: 128,
        maxTaskManagers: 8,
        steps: [3 * MIN, 13 * MIN],
        rate: (t) => (t >= 3 * MIN && t < 13 * MIN ? 6000 : 1500) * (1 + 0.06 * (prng(seed * 7919 + Math.floor(t / 10_000))() - 0.5)),
      },
    ],
  };
}

let run: SimulationResult;
beforeAll(async () => {
  run = await simulate({ scenario: shortStep(1), seed: 1 });
}, 120_000);

test('the loop closes: lag alarm fires, the scaler starts a rescale, the workflow rescales up, lag drains', () => {
  const job = run.runs[0];
  const lagHigh = job.alarms.find((a) => a.alarmName === 'FlinkElastic-orders-lag-high' && a.to === 'ALARM');
  expect(lagHigh).toBeDefined();
  expect(lagHigh!.t).toBeGreaterThanOrEqual(3 * MIN);
  const up = run.executions.find((e) => e.to > e.from);
  expect(up).toMatchObject({ job: 'orders', from: 2, status: 'SUCCEEDED', outcome: 'succeeded' });
  expect(up!.to).toBeGreaterThanOrEqual(6); // 6,000 rec/s at 1,000 rec/s per subtask
  const decision = job.decisions.find((d) => d.action === 'rescale up' && d.targetParallelism === up!.to);
  expect(decision?.reason).toMatch(/^started: started rescale 2 → \d+/);
  // the workflow's savepoint was taken and the job restored from it (records: nothing lost, see the invariants)
  expect(up!.states).toBeGreaterThan(5);
  // the backlog built by the step is worked off while the high load lasts
  const beforeDown = job.series.filter((p) => p.t > up!.end! + 3 * MIN && p.t < 13 * MIN);
  expect(beforeDown.length).toBeGreaterThan(0);
  expect(Math.max(...beforeDown.map((p) => p.backlogSeconds))).toBeLessThan(10);
  expect(Math.max(...job.series.map((p) => p.lagRecords))).toBeGreaterThan(100_000);
});

test('after the load falls, it scales in once the delay passed: parallelism down, surplus TaskManagers drained and released', () => {
  // the scale-in after the load fell (issue 19: before it, the step up's catch-up capacity is given back once the
  // backlog is worked off, a scale-down while the high load lasts)
  const down = run.executions.find((e) => e.to < e.from && e.start >= 13 * MIN);
  expect(down).toBeDefined();
  expect(down!.start).toBeGreaterThan(13 * MIN + 5 * MIN - 1); // scaleDownDelaySeconds 300 (the default)
  expect(down).toMatchObject({ status: 'SUCCEEDED', outcome: 'succeeded' });
  const s = run.jobs[0];
  expect(s.finalParallelism).toBe(down!.to);
  const peakTMs = Math.max(...run.runs[0].series.map((p) => p.taskManagers));
  expect(s.finalTaskManagers).toBeLessThan(peakTMs);
  expect(s.finalTaskManagers).toBe(Math.ceil(down!.to / 2));
  expect(s.backlog).toBeLessThan(1500 * 10);
});

test('the invariants held at every tick, and the summary adds up', () => {
  // 30 min at 5 s ticks, one job
  expect(run.totals.invariantChecks).toBe(30 * 12 + 1);
  const s = run.jobs[0];
  expect(s.processed + s.backlog).toBeCloseTo(s.produced, -1);
  expect(s.rescales).toBe(run.executions.filter((e) => e.outcome === 'succeeded').length);
  // the step up: one rescale up, then the give-back of its catch-up capacity (issue 19); the step down: one
  expect(s.stepsToConverge).toEqual([2, 1]);
  const giveBack = run.executions.find((e) => e.to < e.from && e.start < 13 * MIN);
  expect(giveBack).toMatchObject({ outcome: 'succeeded' });
  expect(run.totals.stateTransitions).toBe(run.executions.reduce((a, e) => a + e.states, 0));
  expect(run.totals.lambdaInvocations).toBe(run.totals.scalerInvocations + run.totals.collectorInvocations + run.totals.workflowStepInvocations);
  expect(run.totals.collectorInvocations).toBe(31);
});

test('same inputs, same output', async () => {
  const again = await simulate({ scenario: shortStep(1), seed: 1 });
  // everything but wall-clock figures and the emulators' ports (in config.jobs[].flink.url)
  const strip = (r: SimulationResult) => JSON.stringify({ ...r, wall: undefined, config: undefined });
  expect(strip(again)).toBe(strip(run));
}, 120_000);

test('an invariant violation stops the simulation (records lost)', async () => {
  await expect(
    simulate({
      scenario: { ...shortStep(2), durationMs: 2 * MIN },
      onTick: (t, jobs) => {
        if (t === MIN) {
          const job = jobs[0].emulator.model.findJob('orders')!;
          job.app.offset += 500; // skip records without processing them
        }
      },
    }),
  ).rejects.toThrow(InvariantViolation);
}, 60_000);

test('an invariant violation stops the simulation (TaskManagers beyond the bounds)', async () => {
  await expect(
    simulate({
      scenario: { ...shortStep(2), durationMs: 2 * MIN },
      onTick: (t, jobs) => {
        if (t === MIN) for (let i = 0; i < 8; i++) jobs[0].emulator.model.addTaskManager();
      },
    }),
  ).rejects.toThrow(/9 TaskManagers, outside the bounds 1..8/);
}, 60_000);

describeWithChromium('the HTML report', () => {
  test('renders in headless Chromium with data in every chart and the decisions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(reportInput(run)));
    const dom = dumpDom(file);
    const rendered = Number(/data-rendered="(\d+)"/.exec(dom)?.[1]);
    expect(rendered).toBeGreaterThanOrEqual(7);
    const points = [...dom.matchAll(/data-series="([^"]+)" data-points="(\d+)"/g)].map((m) => [m[1], Number(m[2])] as const);
    for (const name of ['input rate', 'capacity', 'lag (records)', 'parallelism', 'TaskManagers']) {
      expect(points.find(([n]) => n === name)?.[1]).toBe(run.runs[0].series.length);
    }
    expect(dom).toMatch(/class="decision up"[^>]*data-reason="[^"]*rescale up → p=\d+/);
    expect(dom).toMatch(/class="decision down"[^>]*data-reason="[^"]*rescale down → p=\d+/);
    expect(dom).toContain('rescale 2 →');
    // the lag-high alarm in ALARM is drawn as danger (red), the lag-low one as neutral (blue: scale-in possible)
    expect(dom).toMatch(/class="alarm lag-high" fill="#f87171"/);
    expect(dom).toMatch(/class="alarm low" fill="#93c5fd" data-reason="[^"]*-lag-low: ALARM \(scale-in possible\)/);
  }, 60_000);
});
