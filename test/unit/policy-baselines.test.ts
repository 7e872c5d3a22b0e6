/** The baselines do what their sources describe (aws-autoscaling-anchors.md, seed 001), so comparisons are fair. */
import { awsStepThroughputPolicy, msfCpuPolicy, POLICIES, policyFor, seedRulesPolicy, type PolicyState } from '../../functions/core/policy';
import { T0, chain, job } from './helpers/policy-fixtures';

const cpuAt = (cpuPercent: number, minutes: number) => chain({ p: 4, now: T0 + minutes * 60_000, extra: { signals: { cpuPercent } } });

test('msf-cpu: CPU ≥ 75% for 15 min doubles 4 → 8; < 10% for 6 h halves 4 → 2', () => {
  const j = job();
  let st: PolicyState | undefined;
  for (let m = 0; m < 15; m++) {
    const r = msfCpuPolicy(cpuAt(80, m), j, st);
    expect(r.decision.action).toBe('none');
    st = r.state;
  }
  expect(msfCpuPolicy(cpuAt(80, 15), j, st).decision).toMatchObject({ action: 'rescale', targetParallelism: 8, targetTaskManagers: 8 });
  st = undefined;
  st = msfCpuPolicy(cpuAt(5, 0), j, st).state;
  expect(msfCpuPolicy(cpuAt(5, 359), j, st).decision.action).toBe('none');
  expect(msfCpuPolicy(cpuAt(5, 360), j, st).decision).toMatchObject({ action: 'rescale', targetParallelism: 2 });
});

describe('aws-step-throughput (aws-samples kda-flink-app-autoscaling step-scaling/, T = 1,000 rec/s per subtask)', () => {
  const j = job();
  const step = awsStepThroughputPolicy({ throughputPerSubtask: 1000 });
  const MIN = 60_000;
  type Past = { at: number; from: number; to: number };
  /** p subtasks, the input rate, minute m; `past` a change the scaler made (completed `doneAt` ms after it). */
  const at = (p: number, produceRate: number, m: number, past?: Past & { doneAt?: number }) =>
    chain({
      p,
      produceRate,
      now: T0 + m * MIN,
      extra: past
        ? { history: { lastRescaleAt: past.at + (past.doneAt ?? 0), decisions: [{ at: past.at, action: 'rescale', fromParallelism: past.from, toParallelism: past.to, outcome: 'succeeded' }] } }
        : {},
    });
  /** Two consecutive periods at p: the decision of the second. */
  const twoPeriods = (p: number, first: number, second: number, past?: Past) => step(at(p, second, 11, past), j, step(at(p, first, 10, past), j).state).decision;

  test('the thresholds are re-written from the capacity after each scale: 3,500 rec/s scales 3 → 4, then nothing at 4', () => {
    const before = step(at(3, 3500, 0), j).decision;
    expect(before).toMatchObject({ action: 'rescale', targetParallelism: 4, figures: { scaleOutThreshold: 3000, scaleInThreshold: 2000 } });
    // the same input at the new capacity: out threshold 4 × 1,000, in threshold 3 × 1,000 — neither alarm
    const after = step(at(4, 3500, 11, { at: T0, from: 3, to: 4 }), j, step(at(4, 3500, 10, { at: T0, from: 3, to: 4 }), j).state).decision;
    expect(after).toMatchObject({ action: 'none', figures: { scaleOutThreshold: 4000, scaleInThreshold: 3000 } });
    expect(after.reason).toContain('no alarm');
  });

  test('scale-out steps by how far the rate is past capacity × T: +1 below 1 T, +2 below 2 T, +4 below 3 T, +8 beyond', () => {
    const out = (rate: number) => step(at(4, rate, 0), j).decision.targetParallelism;
    expect([4000, 4999, 5000, 5999, 6000, 6999, 7000, 20000].map(out)).toEqual([5, 5, 6, 6, 8, 8, 12, 12]);
    expect(out(3999)).toBe(4);
  });

  test('scale-in needs 2 consecutive periods at or below (capacity − 1) × T, and steps −1..−4 by how far below', () => {
    expect(step(at(10, 8500, 0), j).decision.action).toBe('none');
    const down = (rate: number) => twoPeriods(10, rate, rate).targetParallelism;
    expect([9000, 8001, 8000, 7001, 7000, 6001, 6000, 1000].map(down)).toEqual([9, 9, 8, 8, 7, 7, 6, 6]);
    expect(twoPeriods(10, 9500, 8500).action).toBe('none');
    expect(twoPeriods(10, 8500, 9001).action).toBe('none');
    // a gap (no datapoint in minute 11) is not two consecutive periods
    expect(step(at(10, 8500, 12), j, step(at(10, 8500, 10), j).state).decision.action).toBe('none');
    // never below 1 (the in alarm has threshold 0 and no action at capacity 1)
    expect(twoPeriods(1, 0, 0).action).toBe('none');
  });

  test('one datapoint per 60 s period: a second call in the same minute decides nothing', () => {
    const first = step(at(4, 9000, 0), j);
    expect(first.decision.targetParallelism).toBe(12);
    const again = step(chain({ p: 4, produceRate: 9000, now: T0 + 30_000 }), j, first.state).decision;
    expect(again).toMatchObject({ action: 'none' });
    expect(again.reason).toContain('already evaluated');
  });

  test('600 s cooldown from when the scale completed: a scale-out in it adds only what a larger step asks beyond the last one', () => {
    const upAt = { at: T0, from: 3, to: 5, doneAt: 2 * MIN };
    // minute 8: 6 min after 3 → 5 completed; +1 (5,500 at 5) from 3 is 4 ≤ 5: nothing; +4 (7,000) from 3 is 7
    expect(step(at(5, 5500, 8, upAt), j).decision).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
    expect(step(at(5, 7000, 8, upAt), j).decision).toMatchObject({ action: 'rescale', targetParallelism: 7 });
    // minute 12: 10 min after completion, the cooldown is over: +1 from 5
    expect(step(at(5, 5500, 12, upAt), j).decision).toMatchObject({ action: 'rescale', targetParallelism: 6 });
  });

  test('a scale-in waits out its cooldown; a scale-out does not, and a scale-out\'s cooldown does not hold a scale-in', () => {
    const downAt = { at: T0 + 5 * MIN, from: 6, to: 5 };
    expect(twoPeriods(5, 3500, 3500, downAt)).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
    expect(step(at(5, 5200, 11, downAt), j).decision).toMatchObject({ action: 'rescale', targetParallelism: 6 });
    expect(twoPeriods(5, 3500, 3500, { at: T0 + 5 * MIN, from: 4, to: 5 })).toMatchObject({ action: 'rescale', targetParallelism: 4 });
    expect(twoPeriods(5, 3500, 3500, { at: T0 - 5 * MIN, from: 6, to: 5 })).toMatchObject({ action: 'rescale', targetParallelism: 4 });
  });

  test('nothing within the workflow\'s cooldownSeconds of the last change (the workflow would refuse it), the datapoint still counts', () => {
    const guarded = job({ cooldownSeconds: 60 });
    const upAt = { at: T0 + 9 * MIN, from: 4, to: 5, doneAt: 30_000 };
    const first = step(at(5, 3500, 10, upAt), guarded);
    expect(first.decision).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
    expect(first.decision.reason).toContain("workflow's 60 s cooldown");
    expect(step(at(5, 3500, 11, upAt), guarded, first.state).decision).toMatchObject({ action: 'rescale', targetParallelism: 4 });
  });

  test('without its parameter or an input rate it has no datapoint and changes nothing', () => {
    expect(POLICIES['aws-step-throughput'](at(4, 90000, 0), j).decision).toMatchObject({ action: 'none', missing: ['throughputPerSubtask (baseline parameter)'] });
    expect(step(chain({ p: 4 }), j).decision).toMatchObject({ action: 'none', missing: ['produceRate'] });
    expect(policyFor('aws-step-throughput', { throughputPerSubtask: 1000 })!(at(4, 9000, 0), j).decision.targetParallelism).toBe(12);
    expect(policyFor('msf-cpu')).toBe(POLICIES['msf-cpu']);
  });
});

test('seed-001: backlog 30 s > 10 s → ceil(1,500 ÷ 1,000 × 4) = 6; free slots 1/10 < 0.2 → TMs 10 → 12; nothing within 60 s of a change', () => {
  const j = job();
  const lagSnap = chain({ p: 4, extra: { signals: { lagRecords: 30000, produceRate: 1500, consumeRate: 1000 } } });
  expect(seedRulesPolicy(lagSnap, j).decision).toMatchObject({ action: 'rescale', targetParallelism: 6 });
  expect(seedRulesPolicy(chain({ p: 9, tms: 10, slotsFree: 1 }), j).decision).toMatchObject({ action: 'scale-out-capacity', targetTaskManagers: 12, targetParallelism: 9 });
  const recent = chain({ p: 4, extra: { signals: { lagRecords: 30000, produceRate: 1500, consumeRate: 1000 }, history: { lastRescaleAt: T0 - 30_000 } } });
  expect(seedRulesPolicy(recent, j).decision).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
});

test('the registry lists every policy under the name the CLI and bench use', () => {
  expect(Object.keys(POLICIES)).toEqual(['flink-elastic', 'msf-cpu', 'aws-step-throughput', 'seed-001']);
});
