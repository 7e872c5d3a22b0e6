/**
 * Rule 5, trend (seed 002: "predicted load drives allocation"): Holt's level + slope on the smoothed demand; a clearly
 * rising trend sizes a scale-up for the demand at now + restart + capacity lead. Worked numbers with α = 0.4.
 */
import { decide, parsePolicyState, risingForecast, trendStep, type PolicyState } from '../../functions/core/policy';
import { T0, chain, job } from './helpers/policy-fixtures';

describe('trendStep / risingForecast (α = β = 0.4, samples 60 s apart)', () => {
  const levels = [1000, 1100, 1200, 1300];
  const run = (ls: number[], gap = 60) => ls.reduce<ReturnType<typeof trendStep> | undefined>((t, l, i) => trendStep(t, T0 + i * gap * 1000, l, 0.4, false), undefined)!;

  test('+100 per minute: slope 0.4 × 1.667 = 0.667, then 1.067, then 1.307 rec/s per s; 3 rises → forecast 1,300 + 1.307 × 120 = 1,457', () => {
    const t = run(levels);
    expect(t.rises).toBe(3);
    expect(t.slope).toBeCloseTo(1.3067, 3);
    expect(risingForecast(t, 120)).toBeCloseTo(1300 + 1.3067 * 120, 0);
  });

  test('two rises are not a trend yet; a fall restarts the count; a gain under 1 % of the level is noise', () => {
    expect(risingForecast(run(levels.slice(0, 3)), 120)).toBeUndefined();
    expect(run([1000, 1100, 1200, 1190]).rises).toBe(0);
    expect(risingForecast(run([1000, 1100, 1200, 1190, 1300]), 120)).toBeUndefined();
    // +2 per minute for 4 minutes: slope ≤ 0.033 rec/s per s → gain ≤ 4 < 1 % of 1,008
    expect(risingForecast(run([1000, 1002, 1004, 1006, 1008]), 120)).toBeUndefined();
  });

  test('a gap over 300 s or a level shift restarts the trend with no slope', () => {
    expect(run(levels, 301)).toMatchObject({ slope: 0, rises: 0, level: 1300 });
    const t = run(levels);
    expect(trendStep(t, t.at + 60_000, 2000, 0.4, true)).toEqual({ at: t.at + 60_000, level: 2000, slope: 0, rises: 0, falls: 0 });
  });
});

describe('decide: a rising demand is met before it exceeds the capacity', () => {
  // Work p=4 at 500 rec/s per subtask (2,000 rec/s); produce 1,600 → 1,800 → 2,000 → 2,200 rec/s a minute apart
  const j = job({ policy: { restartSeconds: 60 } });
  const snap = (i: number, produce: number) =>
    chain({ p: 4, inputRate: Math.min(produce, 2000), busy: (Math.min(produce, 2000) / 4 / 500) * 1000, produceRate: produce, pendingRecords: 0, now: T0 + i * 60_000 });
  const feed = (rates: number[], noTrend = false) => {
    let state: PolicyState | undefined;
    let last;
    for (const [i, r] of rates.entries()) {
      const res = decide(snap(i, r), j, state);
      state = parsePolicyState(JSON.parse(JSON.stringify(res.state)));
      if (noTrend) delete state.trend;
      last = res.decision;
    }
    return last!;
  };

  test('smoothed demand 1,965 < capacity 2,000 (no change without the trend); slope 1.749 → forecast 1,965 + 1.749 × (60 + 60) = 2,175 → up 4 → 8', () => {
    const d = feed([1600, 1800, 2000, 2200]);
    expect(d.figures['Source.demand']).toBeCloseTo(1964.8, 1);
    expect(d.figures['Source.demandSlope']).toBeCloseTo(1.7493, 3);
    expect(d.figures['Source.demandForecast']).toBeCloseTo(1964.8 + 1.7493 * 120, 0);
    // required = 2,175 ÷ 0.7 + restart 2,175 × 60 ÷ 300 = 3,542 rec/s ÷ 500 = 7.08 → 8
    expect(d).toMatchObject({ action: 'rescale', direction: 'up', targetParallelism: 8, rule: 'rate' });
    expect(d.steps.join('\n')).toMatch(/demand rising for 3 decisions .* forecast 1,965 \+ 1.75 × \(restart 60 \+ capacity lead 60 s\) = 2,175 rec\/s/);
    // the same samples with the trend dropped between decisions: the plain smoothed demand stays within the band
    const plain = feed([1600, 1800, 2000, 2200], true);
    expect(plain.figures['Source.demand']).toBeCloseTo(1964.8, 1);
    expect(plain.action).toBe('none');
    expect(plain.figures['Source.demandForecast']).toBeUndefined();
  });

  test('a falling demand is never forecast: the scale-down is sized on the smoothed demand alone', () => {
    const d = feed([2000, 1800, 1600, 1400]);
    expect(d.figures['Source.demandForecast']).toBeUndefined();
    expect(d.steps.join('\n')).not.toMatch(/forecast/);
  });

  test('the trend is carried in the policy state (validated like the rest of it)', () => {
    expect(() => parsePolicyState({ version: 1, trend: { 'demand:x': { at: T0, level: 1, slope: 0, rises: -1 } } })).toThrow(/rises/);
  });
});

describe('decide: a receding demand runs the scale-down delay inside the band (rule 5 with rule 8)', () => {
  // Work p=10 at 500 rec/s per subtask (5,000 rec/s); the band's lower edge is 40 %: demand under 2,000 rec/s.
  // Produce falls 100 rec/s a minute from 3,000; scale-down delay 300 s.
  const j = job({ scaleDownDelaySeconds: 300 });
  const snap = (i: number, produce: number) => chain({ p: 10, inputRate: produce, busy: (produce / 10 / 500) * 1000, produceRate: produce, pendingRecords: 0, now: T0 + i * 60_000 });
  const rates = [3000, 2900, 2800, 2700, 2600, 2500, 2400, 2300, 2200, 2100, 2000, 1900, 1800];
  const feed = (noTrend: boolean) => {
    let state: PolicyState | undefined;
    return rates.map((r, i) => {
      const res = decide(snap(i, r), j, state);
      state = parsePolicyState(JSON.parse(JSON.stringify(res.state)));
      if (noTrend) delete state.trend;
      return res.decision;
    });
  };

  test('the clock starts at the 3rd fall (smoothed 2,818 rec/s, 10 → 9 wanted), inside the band; the first decision under the band (1,950 rec/s, 300 s later and more) scales down at once, 10 → 6', () => {
    const ds = feed(false);
    expect(ds.slice(0, 3).every((d) => d.action === 'none' && !d.limitedBy.includes('scale-down-delay'))).toBe(true);
    expect(ds[3].figures['Source.demand']).toBeCloseTo(2818, 0);
    expect(ds[3]).toMatchObject({ action: 'none', limitedBy: ['scale-down-delay'] });
    expect(ds[3].reason).toContain('within the utilization band 40%–100%, but the demand fell at the last 3 decisions');
    expect(ds[3].reason).toContain('scale down 10 → 9 wanted for 0 s of the 300 s scale-down delay, made once the utilization leaves the band');
    // 360 s into the delay but still inside the band: no change
    expect(ds[9]).toMatchObject({ action: 'none', limitedBy: ['scale-down-delay'] });
    expect(ds[9].figures.scaleDownWantedForSeconds).toBe(360);
    expect(ds[12].figures['Source.demand']).toBeCloseTo(1950, 0);
    expect(ds[12]).toMatchObject({ action: 'rescale', direction: 'down', targetParallelism: 6 });
  });

  test('without the trend (the same samples, trend dropped between decisions) the clock only starts under the band', () => {
    const ds = feed(true);
    expect(ds.slice(0, 12).every((d) => d.action === 'none' && d.limitedBy.length === 0)).toBe(true);
    expect(ds[12]).toMatchObject({ action: 'none', limitedBy: ['scale-down-delay'] });
    expect(ds[12].figures.scaleDownWantedForSeconds).toBe(0);
  });

  // Changed deliberately (issue 19, 2b): a demand that stopped falling inside the band used to stop the clock ("no
  // change" restarted the delay). Now the in-band readings are kept in the delay's window (at its highest) and only a
  // demand that needs the current parallelism again stops it.
  test('a demand that stops falling inside the band keeps the clock running (highest wanted kept); one that needs p=10 again stops it', () => {
    let state: PolicyState | undefined;
    const out: ReturnType<typeof decide>[] = [];
    for (const [i, r] of [3000, 2900, 2800, 2700, 2600, 2700, 2750, 3400, 3400, 3400].entries()) {
      const res = decide(snap(i, r), j, state);
      state = parsePolicyState(JSON.parse(JSON.stringify(res.state)));
      out.push(res);
    }
    // 2,700 and 2,750 rec/s (smoothed 2,718 and 2,731): 8 wanted, in the band, not falling any more: the clock runs on
    expect(out[6].decision).toMatchObject({ action: 'none', limitedBy: [] });
    expect(out[6].decision.reason).toContain('a reading inside the band does not restart it');
    expect(out[6].state.pendingScaleDown).toMatchObject({ since: T0 + 3 * 60_000, parallelism: 9, lowest: 8 });
    // 3,400 rec/s twice: smoothed 3,162 → 9.39 → 10 wanted, the current parallelism: the delay stops
    expect(out[8].decision.figures['Work.wantedParallelism']).toBe(10);
    expect(out[8].state.pendingScaleDown).toBeUndefined();
    expect(out.every((r) => r.decision.action === 'none')).toBe(true);
  });
});
