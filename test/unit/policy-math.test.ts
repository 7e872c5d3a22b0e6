import fc from 'fast-check';
import { alignDown, alignUp, busiestShare, ewma, isAligned, LEVEL_SHIFT_FRACTION } from '../../functions/core/policy';

describe('alignment helpers (seed 004: subtask = keyGroup × p / N)', () => {
  test.each([
    // [N, r, expected, why]
    [128, 8.6, 10, '128 ÷ floor(128 ÷ 8.6 = 14.9) = 128 ÷ 14 = 9.14 → 10; 9 subtasks would hold up to 15 key groups'],
    [128, 9.2, 10, 'floor(13.9) = 13 → ceil(9.85) = 10'],
    [128, 16, 16, 'a divisor: 8 groups each'],
    [128, 16.5, 19, 'floor(7.76) = 7 → ceil(18.3) = 19: 17 and 18 still leave 8 groups on a subtask'],
    [48, 4.2, 5, 'partitions: floor(48 ÷ 4.2 = 11.4) = 11 → ceil(4.36) = 5 (10 partitions at most per subtask)'],
  ])('alignUp(%i, %f) = %i: %s', (n, r, expected) => {
    const p = alignUp(n, r);
    expect(p).toBe(expected);
    // the defining property: the busiest subtask carries ≤ 1/r of the load, and p - 1 would not
    expect(Math.ceil(n / p)).toBeLessThanOrEqual(n / r);
    if (p > 1) expect(Math.ceil(n / (p - 1))).toBeGreaterThan(n / r);
    expect(isAligned(n, p)).toBe(true);
  });

  test('worked values', () => {
    expect(alignUp(128, 8.6)).toBe(10);
    expect(alignUp(128, 16)).toBe(16);
    expect(alignUp(128, 16.5)).toBe(19);
    expect(alignUp(12, 4.2)).toBe(6); // floor(12 ÷ 4.2) = 2 partitions each → 6
    expect(alignUp(12, 57)).toBe(12); // never more subtasks than partitions
    expect(alignUp(undefined, 6.0000000001)).toBe(6); // float noise does not add a subtask
    expect(alignUp(undefined, 6.01)).toBe(7);
    expect(alignUp(128, 0)).toBe(1);
    expect(alignDown(128, 20)).toBe(19); // 20 and 19 both leave 7 groups on the busiest subtask
    expect(alignDown(128, 64)).toBe(64);
    expect(busiestShare(128, 10)).toBeCloseTo(13 / 128);
    expect(busiestShare(undefined, 4)).toBe(0.25);
  });

  test('properties: alignUp is aligned, ≥ r, monotone in r; alignDown is aligned and ≤ x', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32768 }), fc.double({ min: 0.01, max: 40000, noNaN: true }), fc.double({ min: 0, max: 1000, noNaN: true }), (n, r, d) => {
        const p = alignUp(n, r);
        expect(isAligned(n, p)).toBe(true);
        expect(p).toBeLessThanOrEqual(n);
        if (r <= n) expect(p).toBeGreaterThanOrEqual(Math.ceil(r - 1e-6));
        expect(alignUp(n, r + d)).toBeGreaterThanOrEqual(p);
        const x = Math.max(1, Math.min(n, Math.round(r)));
        const q = alignDown(n, x);
        expect(isAligned(n, q)).toBe(true);
        expect(q).toBeLessThanOrEqual(x);
        expect(Math.ceil(n / q)).toBe(Math.ceil(n / x));
      }),
      { numRuns: 500 },
    );
  });
});

describe('EWMA with level-shift detection (seed 002)', () => {
  test('s = 0.4 × x + 0.6 × s_prev for samples within 25%', () => {
    const a = ewma(undefined, 1000, 0.4);
    const b = ewma(a, 1200, 0.4);
    expect(b.value).toBeCloseTo(1080);
    expect(b.shiftN).toBeUndefined();
  });

  test(`two samples more than ${LEVEL_SHIFT_FRACTION * 100}% above the level restart the average at their mean`, () => {
    const a = ewma(undefined, 1000, 0.4);
    const b = ewma(a, 2000, 0.4);
    expect(b).toMatchObject({ value: 1400, shiftN: 1, shifted: false });
    const c = ewma(b, 2200, 0.4);
    expect(c).toMatchObject({ value: 2100, shifted: true });
  });

  test('a spike followed by a normal sample is smoothed away', () => {
    const a = ewma(undefined, 1000, 0.4);
    const b = ewma(a, 2000, 0.4);
    const c = ewma(b, 1000, 0.4);
    expect(c.value).toBeCloseTo(1240);
    expect(c.shiftN).toBeUndefined();
  });
});

test('fmt: thousands separators and up to 3 significant decimals', () => {
  const { fmt } = jest.requireActual('../../functions/core/policy/math');
  expect([fmt(14517.4), fmt(1578.947), fmt(9.1943), fmt(0.2857), fmt(0.95), fmt(120000), fmt(-0.0001), fmt(Infinity)]).toEqual([
    '14,517',
    '1,579',
    '9.19',
    '0.286',
    '0.95',
    '120,000',
    '0',
    'Infinity',
  ]);
});
