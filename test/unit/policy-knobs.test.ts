/**
 * The knobs users of the Flink Kubernetes Operator's autoscaler expect (docs/policy.md, "Mapping to the Flink
 * Kubernetes Operator's autoscaler"), each against the default that keeps the policy as it was.
 * Defaults as in policy-rules.test.ts: target 0.7 ± 0.3, catch-up 300 s, restart 0 s, alignment off, bounds 1..64,
 * cooldown and scale-down delay 0. The chain is Source (pinned at 1) → Work → Sink.
 */
import { decide, parseSnapshot, type PolicyState } from '../../functions/core/policy';
import { alignDivisor, divisorAtMost, divisorFit } from '../../functions/core/policy/math';
import { SRC, T0, WORK, chain, job } from './helpers/policy-fixtures';

// Work at p=4 reads 1,000 rec/s at 500 ms/s: 500 rec/s per subtask; demand 2,400 ÷ 0.7 ÷ 500 = 6.86 → 7
const up = () => chain({ p: 4, inputRate: 1000, busy: 500, produceRate: 2400, pendingRecords: 0 });
// Work at p=8 at 200 ms/s: 625 rec/s per subtask; 1,000 ÷ 0.7 ÷ 625 = 2.29 → 3
const down = () => chain({ p: 8, inputRate: 1000, busy: 200 });

describe('policy.scaleUpMaxFactor (operator: job.autoscaler.scale-up.max-factor)', () => {
  test('unset: 4 → 7 as the rate rule wants', () => {
    const { decision: d } = decide(up(), job());
    expect(d).toMatchObject({ action: 'rescale', targetParallelism: 7 });
    expect(d.limitedBy).not.toContain('scale-up-max-factor');
  });

  test('1.5: at most ceil(4 × 1.5) = 6, wanted 7 is kept in wantedParallelism; TaskManagers follow the 6', () => {
    const { decision: d } = decide(up(), job({ policy: { scaleUpMaxFactor: 1.5 } }));
    expect(d).toMatchObject({ action: 'rescale', direction: 'up', targetParallelism: 6, targetTaskManagers: 6, wantedParallelism: 7 });
    expect(d.limitedBy).toContain('scale-up-max-factor');
    expect(d.steps.join('\n')).toMatch(/policy\.scaleUpMaxFactor 1\.5 limits one scale-up to at most ceil\(current × 1\.5\): 4 → 6 \(wanted 7\)/);
    // the next scale-up expects the rate of the 6 it made, not of the 7 it wanted
    expect(decide(up(), job({ policy: { scaleUpMaxFactor: 1.5 } })).state.lastScaleUp).toMatchObject({ toParallelism: 6 });
  });

  test('1.1 rounds up: ceil(4 × 1.1) = ceil(4.4) = 5; 1.25 on 4 is exactly 5 (no float drift to 6)', () => {
    expect(decide(up(), job({ policy: { scaleUpMaxFactor: 1.1 } })).decision.targetParallelism).toBe(5);
    expect(decide(up(), job({ policy: { scaleUpMaxFactor: 1.25 } })).decision.targetParallelism).toBe(5);
  });

  test('1: no scale-up at all, said so', () => {
    const { decision: d } = decide(up(), job({ policy: { scaleUpMaxFactor: 1 } }));
    expect(d).toMatchObject({ action: 'none', targetParallelism: 4 });
    expect(d.limitedBy).toContain('scale-up-max-factor');
    expect(d.reason).toMatch(/^no change at 4: policy\.scaleUpMaxFactor 1 limits/);
  });

  test('adaptive mode: per vertex, each against its own current parallelism (Work 4 → 6, not 7)', () => {
    const { decision: d } = decide(up(), job({ mode: 'adaptive', policy: { scaleUpMaxFactor: 1.5 } }));
    expect(d.perVertex?.[WORK]).toBe(6);
    expect(d.limitedBy).toContain('scale-up-max-factor');
  });

  test('keyed Work (128 key groups): a cap of ceil(4 × 3.5) = 14 goes to the aligned 13 below it (14 subtasks: the busiest holds 10 groups, as with 13)', () => {
    // demand 5,250 ÷ 0.7 ÷ 500 = 15 → 16 aligned
    const snap = chain({ p: 4, keyed: true, inputRate: 1000, busy: 500, produceRate: 5250, pendingRecords: 0 });
    expect(decide(snap, job({ policy: { alignment: 'key-groups' } })).decision.targetParallelism).toBe(16);
    expect(decide(snap, job({ policy: { alignment: 'key-groups', scaleUpMaxFactor: 3.5 } })).decision.targetParallelism).toBe(13);
  });
});

describe('policy.scaleDownMaxFactor (operator: job.autoscaler.scale-down.max-factor)', () => {
  test('unset: 8 → 3', () => {
    expect(decide(down(), job()).decision).toMatchObject({ action: 'rescale', direction: 'down', targetParallelism: 3 });
  });

  test('0.5: removes at most half, new ≥ ceil(8 × 0.5) = 4', () => {
    const { decision: d } = decide(down(), job({ policy: { scaleDownMaxFactor: 0.5 } }));
    expect(d).toMatchObject({ action: 'rescale', direction: 'down', targetParallelism: 4, wantedParallelism: 3 });
    expect(d.limitedBy).toContain('scale-down-max-factor');
  });

  test('0.6 (the operator default): new ≥ ceil(8 × 0.4) = 4 (3.2000000000000006 does not round to 5)', () => {
    expect(decide(down(), job({ policy: { scaleDownMaxFactor: 0.6 } })).decision.targetParallelism).toBe(4);
  });

  test('0.7: ceil(8 × 0.3) = 3 does not bind, 3 as wanted', () => {
    const { decision: d } = decide(down(), job({ policy: { scaleDownMaxFactor: 0.7 } }));
    expect(d.targetParallelism).toBe(3);
    expect(d.limitedBy).not.toContain('scale-down-max-factor');
  });

  test('0: no scale-down at all', () => {
    const { decision: d } = decide(down(), job({ policy: { scaleDownMaxFactor: 0 } }));
    expect(d).toMatchObject({ action: 'none', targetParallelism: 8 });
    expect(d.limitedBy).toContain('scale-down-max-factor');
  });
});

describe('policy.utilizationMin / utilizationMax (operator: job.autoscaler.utilization.min / .max)', () => {
  // Work at p=4, 800 ms/s: capacity 1,000 ÷ 0.8 = 1,250 rec/s, in the default band 1,000 ÷ 1.0 .. 1,000 ÷ 0.4
  const hot = () => chain({ p: 4, inputRate: 1000, busy: 800, sinkBusy: 500 });
  // Work at p=8, 500 ms/s: capacity 1,000 ÷ 0.5 = 2,000 rec/s, in the default band (up to 1,000 ÷ 0.4 = 2,500)
  const cool = () => chain({ p: 8, inputRate: 1000, busy: 500 });

  test('defaults: both readings are inside 40%–100%', () => {
    expect(decide(hot(), job()).decision.action).toBe('none');
    expect(decide(cool(), job()).decision.action).toBe('none');
  });

  test('utilizationMax 0.75: 1,250 < 1,000 ÷ 0.75 = 1,333 is over the band → up to 5', () => {
    const { decision: d } = decide(hot(), job({ policy: { utilizationMax: 0.75 } }));
    expect(d).toMatchObject({ action: 'rescale', direction: 'up', targetParallelism: 5 });
    expect(d.figures.utilizationMax).toBe(0.75);
    expect(d.figures.utilizationMin).toBeCloseTo(0.4);
  });

  test('utilizationMin 0.55: 2,000 > 1,000 ÷ 0.55 = 1,818 is under the band → down to ceil(1,000 ÷ 0.7 ÷ 250) = 6', () => {
    const { decision: d } = decide(cool(), job({ policy: { utilizationMin: 0.55 } }));
    expect(d).toMatchObject({ action: 'rescale', direction: 'down', targetParallelism: 6 });
    expect(d.figures.utilizationMin).toBe(0.55);
    expect(d.figures.utilizationMax).toBe(1);
  });

  test('they replace target ± boundary: utilizationMax 0.9 with boundary 0.1 (band top 0.8) takes 0.9', () => {
    // 1,000 rec/s at 850 ms/s: capacity 1,176 rec/s; top 0.8 → 1,250 (over), top 0.9 → 1,111 (inside)
    const snap = chain({ p: 4, inputRate: 1000, busy: 850, sinkBusy: 500 });
    expect(decide(snap, job({ policy: { utilizationBoundary: 0.1 } })).decision.action).toBe('rescale');
    expect(decide(snap, job({ policy: { utilizationBoundary: 0.1, utilizationMax: 0.9 } })).decision.action).toBe('none');
  });
});

describe('policy.effectivenessDetection (operator: job.autoscaler.scaling.effectiveness.detection.enabled)', () => {
  // 4 → 8 expected 2,000 → 4,000 rec/s; at 8 the job still processes 2,000: 0% of the gain
  const run = (effectivenessDetection?: boolean) => {
    const j = job({ policy: { catchUpSeconds: 0, ...(effectivenessDetection === undefined ? {} : { effectivenessDetection }) } });
    const a = decide(chain({ p: 4, inputRate: 2000, busy: 1000, produceRate: 2800 }), j);
    return decide(chain({ p: 8, inputRate: 2000, busy: 1000, produceRate: 2800, now: T0 + 120_000 }), j, a.state as PolicyState).decision;
  };

  test('default true (rule 9 as before): the ineffective scale-up is not repeated', () => {
    expect(job().policy.effectivenessDetection).toBe(true);
    expect(run()).toMatchObject({ action: 'none', limitedBy: ['ineffective-scale-up'] });
  });

  test('false: detected and said, but the scale-up is made', () => {
    const d = run(false);
    expect(d).toMatchObject({ action: 'rescale', direction: 'up' });
    expect(d.limitedBy).not.toContain('ineffective-scale-up');
    expect(d.steps.join('\n')).toMatch(/ineffective scale-up: the last scale-up 4 → 8[^\n]*\neffectiveness detection is off/);
  });
});

describe("policy.alignment 'divisor' (operator parity: divisors of the key groups / partitions)", () => {
  test('math: smallest divisor of N from p up to the limit, else p; largest divisor at most x', () => {
    expect(alignDivisor(128, 10, 128)).toBe(16);
    expect(alignDivisor(128, 10, 12)).toBe(10); // none in 10..12: kept, like the operator
    expect(alignDivisor(12, 5, 12)).toBe(6);
    expect(alignDivisor(undefined, 5, 12)).toBe(5);
    expect(divisorAtMost(128, 100)).toBe(64);
    expect(divisorAtMost(12, 5)).toBe(4);
    expect(divisorAtMost(7, 6)).toBe(1);
    // a scale-down scans only up to the current parallelism: 16 → wanted 10 of 128 stops at 16 (no change)
    expect(divisorFit(128, 9.2, 1, 64, 16)).toBe(16);
    expect(divisorFit(128, 9.2, 1, 64, 4)).toBe(16);
    expect(divisorFit(128, 9.2, 1, 12, 4)).toBe(10);
  });

  // keyed Work at p=4 (share 32/128 = 1/4): 500 rec/s per subtask; 3,220 ÷ 0.7 ÷ 500 = 9.2 subtasks
  const keyed = (p: number, produceRate: number, busy = 500) => chain({ p, keyed: true, inputRate: 1000, busy, produceRate, pendingRecords: 0 });

  test('9.2 subtasks of 128 key groups: key-groups → 10 (≤ 13 groups each), divisor → 16', () => {
    expect(decide(keyed(4, 3220), job({ policy: { alignment: 'key-groups' } })).decision.targetParallelism).toBe(10);
    const { decision: d } = decide(keyed(4, 3220), job({ policy: { alignment: 'divisor' } }));
    expect(d.targetParallelism).toBe(16);
    expect(d.limitedBy).toContain('alignment');
  });

  test('capped by the upper bound: no divisor of 128 in 10..12 → 10, the wanted value, capped', () => {
    expect(decide(keyed(4, 3220), job({ policy: { alignment: 'divisor' }, bounds: { maxParallelism: 12 } })).decision.targetParallelism).toBe(10);
  });

  test('sources align to their partitions: 12 partitions, 4.46 subtasks wanted → 6 (key-groups mode leaves a source unaligned: 5)', () => {
    // one unpinned source at p=3 reads 1,000 rec/s at 800 ms/s: 1,000 × 4/12 ÷ 0.8 = 416.7 rec/s per subtask;
    // 1,300 ÷ 0.7 ÷ 416.7 = 4.46 (over the band: capacity 1,250 < 1,300)
    const snap = parseSnapshot({
      now: T0,
      vertices: [{ id: SRC, name: 'Source', parallelism: 3, maxParallelism: 128, sourcePartitions: 12, inputRate: 1000, outputRate: 1000, busyTimeMsPerSecond: 800, pendingRecords: 0 }],
      cluster: { taskManagers: 3, slotsTotal: 3, slotsFree: 0 },
      signals: { produceRate: 1300 },
    });
    expect(decide(snap, job({ policy: { alignment: 'key-groups' } })).decision.targetParallelism).toBe(5);
    expect(decide(snap, job({ policy: { alignment: 'divisor' } })).decision.targetParallelism).toBe(6);
  });
});

describe('policy.observedTrueProcessingRate (operator: job.autoscaler.observed-true-processing-rate.*)', () => {
  // Work at p=4: backpressure-free 1,000 rec/s at 500 ms/s → 500 rec/s per subtask; then backpressured 300 ms/s
  // at 250 ms/s busy → 1,000 rec/s per subtask
  const backpressured = (now: number) => {
    const s = chain({ p: 4, inputRate: 1000, busy: 250, now });
    s.vertices[1] = { ...s.vertices[1], backpressureMsPerSecond: 300 };
    return s;
  };
  const run = (observedTrueProcessingRate: boolean) => {
    const j = job({ policy: { observedTrueProcessingRate } });
    const a = decide(chain({ p: 4, inputRate: 1000, busy: 500 }), j);
    return decide(backpressured(T0 + 60_000), j, a.state).decision;
  };

  test('off (default): the backpressured sample is smoothed in: 0.4 × 1,000 + 0.6 × 500 = 700', () => {
    expect(job().policy.observedTrueProcessingRate).toBe(false);
    expect(run(false).figures['Work.capacityPerSubtask']).toBeCloseTo(700);
  });

  test('on: the estimate stays at the backpressure-free 500, said so', () => {
    const d = run(true);
    expect(d.figures['Work.capacityPerSubtask']).toBeCloseTo(500);
    expect(d.steps.join('\n')).toMatch(/Work: backpressured 300 ms\/s \(≥ 100\): capacity kept from the backpressure-free samples/);
  });

  test('on, with no backpressure-free sample yet: the backpressured one is used (1,000)', () => {
    const d = decide(backpressured(T0), job({ policy: { observedTrueProcessingRate: true } })).decision;
    expect(d.figures['Work.capacityPerSubtask']).toBeCloseTo(1000);
    expect(d.steps.join('\n')).toMatch(/no backpressure-free sample at this parallelism yet/);
  });
});
