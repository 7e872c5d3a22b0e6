/** The baselines do what their sources describe (aws-autoscaling-anchors.md, seed 001), so comparisons are fair. */
import { awsStepLagPolicy, msfCpuPolicy, POLICIES, seedRulesPolicy, type PolicyState } from '../../functions/core/policy';
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

test('aws-step-lag: +1 below 1.5× the threshold, +2 below 2×, +4 above; 300 s cooldown; -1 after 2 periods at or below the low threshold', () => {
  const j = job({ lag: { source: { type: 'flink-pending-records' }, highThreshold: 10000, lowThreshold: 100 } });
  const lag = (records: number, minutes: number, lastRescaleAgo?: number) =>
    chain({ p: 4, now: T0 + minutes * 60_000, pendingRecords: records, extra: lastRescaleAgo === undefined ? {} : { history: { lastRescaleAt: T0 + minutes * 60_000 - lastRescaleAgo * 1000 } } });
  expect(awsStepLagPolicy(lag(12000, 0), j).decision.targetParallelism).toBe(5);
  expect(awsStepLagPolicy(lag(17000, 0), j).decision.targetParallelism).toBe(6);
  expect(awsStepLagPolicy(lag(25000, 0), j).decision.targetParallelism).toBe(8);
  expect(awsStepLagPolicy(lag(25000, 0, 200), j).decision).toMatchObject({ action: 'none', limitedBy: ['cooldown'] });
  const a = awsStepLagPolicy(lag(50, 0), j);
  expect(a.decision.action).toBe('none');
  expect(awsStepLagPolicy(lag(50, 1), j, a.state).decision).toMatchObject({ action: 'rescale', targetParallelism: 3 });
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
  expect(Object.keys(POLICIES)).toEqual(['flink-elastic', 'msf-cpu', 'aws-step-lag', 'seed-001']);
});
