/**
 * Properties of `decide` over generated snapshots (fast-check), and closed-loop runs against a linear job model:
 * within bounds, aligned, never reversing direction, monotone in the input rate, deterministic, no flapping, and one
 * step to the right parallelism on a step change.
 */
import fc from 'fast-check';
import { alignUp, decide, isAligned, policyFor } from '../../functions/core/policy';
import { SINK, WORK, chain, job, simulate } from './helpers/policy-fixtures';

const arbCase = fc.record({
  minP: fc.integer({ min: 1, max: 8 }),
  span: fc.integer({ min: 0, max: 60 }),
  pOffset: fc.integer({ min: 0, max: 60 }),
  keyGroups: fc.constantFrom(128, 256, 360, 1000, 4096),
  keyed: fc.boolean(),
  align: fc.boolean(),
  inputRate: fc.double({ min: 1, max: 1e6, noNaN: true }),
  busy: fc.double({ min: 1, max: 1000, noNaN: true }),
  demandFactor: fc.double({ min: 0.05, max: 20, noNaN: true }),
  lag: fc.option(fc.double({ min: 0, max: 1e8, noNaN: true }), { nil: undefined }),
  mode: fc.constantFrom('savepoint' as const, 'adaptive' as const, 'reactive' as const),
  slots: fc.integer({ min: 1, max: 8 }),
});

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

function build(c: Case, demand?: number) {
  const maxP = Math.min(c.keyGroups, c.minP + c.span);
  const p = Math.min(maxP, c.minP + (c.pOffset % (maxP - c.minP + 1)));
  const maxTMs = Math.ceil(maxP / c.slots);
  const j = job({
    mode: c.mode,
    slotsPerTaskManager: c.slots,
    bounds: { minParallelism: c.minP, maxParallelism: maxP, minTaskManagers: 1, maxTaskManagers: maxTMs },
    policy: { alignment: c.align ? 'key-groups' : 'off' },
  });
  const tms = Math.ceil(p / c.slots);
  const snap = chain({
    p,
    tms,
    keyed: c.keyed,
    maxParallelism: c.keyGroups,
    inputRate: c.inputRate,
    busy: c.busy,
    produceRate: demand ?? c.inputRate * c.demandFactor,
    pendingRecords: c.lag,
    extra: { cluster: { taskManagers: tms, slotsPerTaskManager: c.slots, slotsTotal: tms * c.slots, slotsFree: tms * c.slots - p } },
  });
  return { j, snap, p, maxP };
}

describe('properties of decide()', () => {
  test('the result is within the bounds, ≤ maxParallelism and ≤ max TaskManagers × slots; capacity follows parallelism', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { j, snap, maxP } = build(c);
        const { decision: d } = decide(snap, j);
        expect(d.targetParallelism).toBeGreaterThanOrEqual(c.minP);
        expect(d.targetParallelism).toBeLessThanOrEqual(maxP);
        expect(d.targetParallelism).toBeLessThanOrEqual(c.keyGroups);
        expect(d.targetTaskManagers).toBeLessThanOrEqual(j.bounds.maxTaskManagers);
        expect(d.targetTaskManagers).toBeGreaterThanOrEqual(j.bounds.minTaskManagers);
        if (d.action !== 'none') expect(d.targetTaskManagers).toBe(Math.min(j.bounds.maxTaskManagers, Math.max(1, Math.ceil(d.targetParallelism / c.slots))));
        for (const q of Object.values(d.perVertex ?? {})) {
          expect(q).toBeGreaterThanOrEqual(c.minP);
          expect(q).toBeLessThanOrEqual(maxP);
        }
      }),
      { numRuns: 400 },
    );
  });

  test('aligned when alignment applies: when the keyed vertex sets the parallelism, it is aligned unless a bound or the current value stops it', () => {
    // Cases where the keyed vertex's wanted parallelism lies well inside wide bounds (a wanted value pressed against a
    // bound or left at the current value is exempt from alignment, so the general generator reaches the check too rarely).
    const arbInside = arbCase.chain((c) =>
      fc
        .record({
          minP: fc.integer({ min: 1, max: 4 }),
          span: fc.integer({ min: 30, max: 400 }),
          busy: fc.double({ min: 200, max: 1000, noNaN: true }),
          demandFactor: fc.double({ min: 0.3, max: 6, noNaN: true }),
          lag: fc.option(fc.double({ min: 0, max: 1e5, noNaN: true }), { nil: undefined }),
        })
        .map((o) => ({ ...c, ...o, keyed: true, align: true, mode: 'savepoint' as const })),
    );
    const numRuns = 400;
    let checked = 0;
    let movedByAlignment = 0;
    fc.assert(
      fc.property(arbInside, (c) => {
        const { j, snap, p, maxP } = build(c);
        const { decision: d } = decide(snap, j);
        if (d.action === 'rescale' && d.rule === 'rate' && d.targetParallelism === d.figures['Work.wantedParallelism'] && ![c.minP, maxP, p].includes(d.targetParallelism)) {
          checked++;
          if (d.limitedBy.includes('alignment')) movedByAlignment++;
          expect(isAligned(c.keyGroups, d.targetParallelism)).toBe(true);
        }
      }),
      { numRuns },
    );
    // The property is not vacuous: most generated cases reach the check, and in many of them alignment changed the
    // plain ceil(required) value (about 55% and 20% of runs).
    expect(checked).toBeGreaterThanOrEqual(numRuns * 0.4);
    expect(movedByAlignment).toBeGreaterThanOrEqual(numRuns * 0.1);
  });

  test('never reverses direction: alignment and bounds never turn a wanted increase into a decrease or back', () => {
    const names: Record<string, string> = { [WORK]: 'Work', [SINK]: 'Sink' };
    const numRuns = 400;
    const checked = { up: 0, down: 0, perVertex: 0 }; // runs by direction; vertex moves checked
    fc.assert(
      fc.property(arbCase, (c) => {
        const { j, snap, p } = build(c);
        const { decision: d } = decide(snap, j);
        if (d.rule !== 'rate' || d.action === 'none') return;
        checked[d.direction!]++;
        const plainOf = (name: string) => alignUp(undefined, d.figures[`${name}.requiredParallelism`]);
        if (d.perVertex) {
          // adaptive: every vertex moves in the decision's direction, and the way its own requirement points
          for (const [id, q] of Object.entries(d.perVertex)) {
            if (q === p) continue;
            checked.perVertex++;
            expect(d.direction === 'up' ? q > p : q < p).toBe(true);
            const plain = plainOf(names[id]);
            expect(q > p ? plain >= p || p < c.minP : plain <= p).toBe(true);
          }
          return;
        }
        const plain = Math.max(plainOf('Work'), plainOf('Sink'));
        if (d.direction === 'up') expect(plain >= p || p < c.minP).toBe(true);
        if (d.direction === 'down') expect(plain <= p || p > j.bounds.maxParallelism).toBe(true);
        expect(d.direction === 'up' ? d.targetParallelism > p || d.targetTaskManagers > d.currentTaskManagers : d.targetParallelism < p || d.targetTaskManagers < d.currentTaskManagers).toBe(true);
      }),
      { numRuns },
    );
    // Not vacuous: most runs are rate decisions that change something (about 70% of runs; about 15% up, 55% down), and
    // adaptive decisions moving single vertices are among them (about 190 vertex moves checked per 400 runs).
    expect(checked.up + checked.down).toBeGreaterThanOrEqual(numRuns * 0.5);
    expect(checked.up).toBeGreaterThanOrEqual(numRuns * 0.05);
    expect(checked.down).toBeGreaterThanOrEqual(numRuns * 0.05);
    expect(checked.perVertex).toBeGreaterThanOrEqual(numRuns * 0.1);
  });

  test('monotone in the input rate: more demand never gives a lower target', () => {
    fc.assert(
      fc.property(arbCase, fc.double({ min: 1, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (c, d1, extra) => {
        const a = build(c, d1);
        const b = build(c, d1 + extra);
        const ta = decide(a.snap, a.j).decision.targetParallelism;
        const tb = decide(b.snap, b.j).decision.targetParallelism;
        expect(tb).toBeGreaterThanOrEqual(ta);
      }),
      { numRuns: 400 },
    );
  });

  test('monotone at a minimum that is aligned: 128 key groups, minimum 5 stays 5 for low and high demand (was 6 then 5)', () => {
    // the counterexample fast-check found (seed -1626582692): raising to the minimum stepped past an aligned minimum
    const c: Case = { minP: 5, span: 1, pOffset: 1, keyGroups: 128, keyed: true, align: true, inputRate: 129228.17, busy: 60.16, demandFactor: 0.05, lag: undefined, mode: 'adaptive', slots: 1 };
    const low = build(c, 33825);
    const high = build(c, 1033825);
    const tl = decide(low.snap, low.j).decision.targetParallelism;
    const th = decide(high.snap, high.j).decision.targetParallelism;
    expect(tl).toBe(5);
    expect(th).toBeGreaterThanOrEqual(tl);
    expect(isAligned(128, 5)).toBe(true);
  });

  test('deterministic: the same snapshot and state give the same decision and state', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { j, snap } = build(c);
        const first = decide(snap, j);
        const again = decide(structuredClone(snap), j);
        expect(again).toEqual(first);
        const next = { ...snap, now: snap.now + 60_000 };
        expect(decide(next, j, structuredClone(first.state))).toEqual(decide(next, j, structuredClone(first.state)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('closed loop against a linear job (500 rec/s per subtask, 60 s ticks)', () => {
  // Restated deliberately (issue 19, 2b). It used to say "no direction reversal, one step up or at most two down".
  // A reading inside the band no longer restarts the scale-down delay, so a start below the load can now be sized up
  // and then, once the delay has seen only readings the smaller parallelism keeps, come down one step to it
  // (counterexample: p0 = 1, level 906 ± 15 %, keyed: 1 → 4, then 4 → 3, where 4 sits at the band's lower edge for
  // part of the noise and 3 carries all of it at ≤ 70 %). What it guarantees now, and what "never flaps" means: never a
  // scale-up after a scale-down, at most one scale-up, at most two rescales, every parallelism it lands on is one the
  // load keeps, and the backlog at the end is under 10 s.
  test('a stable but noisy load (±15%) never flaps: never up after down, at most one step up and two rescales, each to a parallelism the load keeps, backlog under 10 s', () => {
    // Catch-up is off here: this is about noise. (With catch-up on, a start far below the load sizes the first step for
    // the backlog too and can land on the band's lower edge; a long enough dip then scales it back down once.)
    const SINK_CAPACITY = 5000; // the sink is 10× faster than the work vertex, and its busy time follows its load
    const policy = (keyed: boolean) => ({ catchUpSeconds: 0, alignment: keyed ? ('key-groups' as const) : ('off' as const) });
    /** The policy, without cooldown or scale-down delay, would keep parallelism p under a steady noise-free load x. */
    const keeps = (p: number, x: number, keyed: boolean) => {
      const share = keyed ? Math.ceil(128 / Math.min(p, 128)) / 128 : 1 / p;
      const snap = chain({ p, keyed, maxParallelism: 128, inputRate: x, busy: Math.min(1000, ((x * share) / 500) * 1000), sinkBusy: Math.min(1000, (x / p / SINK_CAPACITY) * 1000), pendingRecords: 0, produceRate: x, consumeRate: x });
      return decide(snap, job({ policy: policy(keyed) })).decision.action === 'none';
    };
    const numRuns = 60;
    let rescaled = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 200, max: 8000, noNaN: true }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(), (p0, level, seed, keyed) => {
        let s = seed;
        const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
        const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600, policy: policy(keyed) });
        const { rescales, steps } = simulate({ job: j, p0, capacity: 500, sinkCapacity: SINK_CAPACITY, keyed, demand: () => level * (1 + 0.15 * rnd()), ticks: 90 });
        if (rescales.length > 0) rescaled++;
        const dirs = rescales.map((r) => r.decision.direction);
        expect({ p0, level, keyed, dirs, upAfterDown: dirs.some((d, i) => d === 'up' && dirs.slice(0, i).includes('down')) }).toMatchObject({ upAfterDown: false });
        expect(dirs.filter((d) => d === 'up').length).toBeLessThanOrEqual(1);
        expect(rescales.length).toBeLessThanOrEqual(2);
        // Where it stops (and where a first of two steps down stopped) is a parallelism the policy keeps for a load
        // within the noise: not left over- or under-provisioned. Two steps down happen only on the boundary between
        // two parallelisms, where both are right for part of the noise range.
        const landed = [...rescales.map((r) => r.decision.targetParallelism), steps.at(-1)!.p];
        for (const p of landed) expect({ p0, level, keyed, p, kept: [0.85, 1, 1.15].some((f) => keeps(p, level * f, keyed)) }).toMatchObject({ kept: true });
        // and it keeps up: the backlog at the end is under the policy's maxBacklogSeconds (10 s of load)
        expect(steps.at(-1)!.lag / level).toBeLessThan(j.policy.maxBacklogSeconds);
      }),
      { numRuns },
    );
    // Not vacuous: most runs start at a parallelism the load does not keep and have to move (about 80%).
    expect(rescaled).toBeGreaterThanOrEqual(numRuns * 0.5);
  });

  test('step 1,400 → 2,800 rec/s at p=4 (70% busy): one rescale, to 2,800 ÷ 0.7 ÷ 500 = 8, then nothing (catch-up off)', () => {
    const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600, policy: { catchUpSeconds: 0 } });
    const { rescales, steps } = simulate({ job: j, p0: 4, capacity: 500, demand: (_t, i) => (i < 10 ? 1400 : 2800), ticks: 60 });
    expect(rescales.map((r) => [r.p, r.decision.targetParallelism])).toEqual([[4, 8]]);
    expect(steps.at(-1)!.lag).toBe(0);
  });

  // Changed deliberately (issue 19, 2c): this used to assert "no scale-down after", i.e. that the catch-up capacity
  // was kept for good. Now it is given back, once, as soon as the backlog is worked off, to what the level needs.
  test('same step with catch-up 300 s: up to ceil((2,800 ÷ 0.7 + lag ÷ 300) ÷ 500) = 9, then, the backlog worked off, the catch-up given back at once: 9 → 8 = 2,800 ÷ 0.7 ÷ 500, nothing after', () => {
    const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600 });
    const { rescales, steps } = simulate({ job: j, p0: 4, capacity: 500, demand: (_t, i) => (i < 10 ? 1400 : 2800), ticks: 60 });
    expect(rescales).toHaveLength(2);
    const [r, back] = rescales;
    expect(r.decision.targetParallelism).toBe(Math.ceil((2800 / 0.7 + r.lag / 300) / 500));
    expect(r.decision.targetParallelism).toBe(9);
    expect(r.decision.steps).toContain('catch-up: the level alone needs 8 of the 9; the rest is given back once the backlog is worked off');
    expect(back.decision).toMatchObject({ direction: 'down', targetParallelism: 8 });
    expect(back.decision.reason).toContain('the backlog the scale-up to 9 was sized for is worked off, its catch-up capacity is given back');
    // no scale-down delay: the load did not fall (only the cooldown, 60 s)
    expect((back.t - r.t) / 1000).toBeLessThan(600);
    expect(steps.at(-1)!.lag).toBe(0);
    expect(steps.at(-1)!.p).toBe(8);
  });

  test('the catch-up give-back waits while the lag left still needs the extra subtasks (10 s ticks, 600,000 records behind at 2,800 rec/s), then happens once, to 8', () => {
    const j = job({ cooldownSeconds: 0, scaleDownDelaySeconds: 600, policy: { catchUpSeconds: 1200 } });
    const { rescales, steps } = simulate({ job: j, p0: 4, capacity: 500, demand: () => 2800, ticks: 60, tickSeconds: 10, lag0: 600000 });
    expect(rescales.map((r) => [r.p, r.decision.targetParallelism])).toEqual([[4, 10], [10, 8]]);
    // under the 10 s SLO (36,000 and 14,000 records at 5,000 rec/s) but not worked off yet: 9 wanted with them, 8 without
    const waiting = steps.filter((x) => x.decision.steps.some((t) => t.startsWith('catch-up give-back: waiting')));
    expect(waiting.map((x) => x.lag)).toEqual([36000, 14000]);
    expect(rescales[1].lag).toBe(0);
  });

  test('keyed (128 key groups): step 1,400 → 3,010 rec/s: one rescale to 10, the smallest p whose busiest subtask keeps up', () => {
    const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600, policy: { catchUpSeconds: 0, alignment: 'key-groups' } });
    const { rescales } = simulate({ job: j, p0: 4, capacity: 500, keyed: true, demand: (_t, i) => (i < 10 ? 1400 : 3010), ticks: 40 });
    expect(rescales.map((r) => r.decision.targetParallelism)).toEqual([10]);
  });

  test('against the baselines on the same step with ±10% noise: one rescale here; the seed rules need two, step scaling flaps', () => {
    const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600, lag: { source: { type: 'flink-pending-records' }, highThreshold: 20000, lowThreshold: 1000 } });
    const run = (name: string) => {
      let s = 7;
      const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
      return simulate({ job: j, policy: policyFor(name, { throughputPerSubtask: 500 }), p0: 4, capacity: 500, demand: (_t, i) => (i < 10 ? 1400 : 2800) * (1 + 0.1 * rnd()), ticks: 120 });
    };
    const reversals = (r: ReturnType<typeof simulate>) => r.rescales.slice(1).filter((x, i) => x.decision.direction !== r.rescales[i].decision.direction).length;
    const ours = run('flink-elastic');
    // changed deliberately (issue 19, 2c): the step up carries catch-up capacity, given back once the backlog is
    // worked off; one step up, one give-back, no reversal after it
    expect(ours.rescales.map((r) => r.decision.direction)).toEqual(['up', 'down']);
    expect(ours.rescales[1].decision.reason).toContain('its catch-up capacity is given back');
    expect(ours.steps.at(-1)!.lag).toBe(0);
    expect(run('seed-001').rescales.length).toBeGreaterThanOrEqual(2);
    // its thresholds sit at 100 % of capacity × 500 rec/s: it scales out at ≥ p × 500 and in at ≤ (p − 1) × 500
    expect(reversals(run('aws-step-throughput'))).toBeGreaterThanOrEqual(3);
  });

  test('load falls 2,800 → 700 rec/s at p=8: no scale-down before the 600 s delay, then one, to 700 ÷ 0.7 ÷ 500 = 2', () => {
    const j = job({ cooldownSeconds: 60, scaleDownDelaySeconds: 600 });
    const { rescales } = simulate({ job: j, p0: 8, capacity: 500, demand: (_t, i) => (i < 5 ? 2800 : 700), ticks: 40 });
    expect(rescales.map((r) => r.decision.targetParallelism)).toEqual([2]);
    const firstLow = 5;
    expect((rescales[0].t - (Date.UTC(2026, 0, 1, 12) + firstLow * 60_000)) / 1000).toBeGreaterThanOrEqual(600);
  });
});
