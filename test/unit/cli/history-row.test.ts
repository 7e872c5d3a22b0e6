/** `history`'s "change" column: what a rescale did, or what a dry run / failed rescale planned. */
import { historyRow } from '../../../bin/commands/history';

const T0 = Date.parse('2026-11-22T08:00:00Z');
const row = (detail: Record<string, unknown>, kind: 'rescale' | 'decision' = 'rescale') => historyRow({ kind, job: 'orders', at: T0, id: 'x', detail });
const before = { parallelism: 2, taskManagers: 1 };

test('a rescale that happened shows the old and the new size', () => {
  expect(row({ outcome: 'succeeded', before, planned: { parallelism: 4, taskManagers: 2 }, after: { parallelism: 4, taskManagers: 2 } }).change).toBe('parallelism 2 -> 4, TaskManagers 1 -> 2');
});

test.each(['dry-run', 'failed-untouched', 'failed-rolled-back', 'cooldown'])('%s shows what was planned, not "parallelism 2 -> 2"', (outcome) => {
  const r = row({ outcome, before, planned: { parallelism: 4, taskManagers: 2 }, after: { parallelism: 2 } }, outcome === 'dry-run' ? 'decision' : 'rescale');
  expect(r.change).toBe('planned parallelism 2 -> 4, TaskManagers 1 -> 2');
});

test('a failure that left the job at another size than before says where it is', () => {
  expect(row({ outcome: 'failed-kept-new', before, planned: { parallelism: 4, taskManagers: 2 }, after: { parallelism: 4 } }).change).toBe('planned parallelism 2 -> 4, TaskManagers 1 -> 2; job now at parallelism 4');
});

test('a record written before plans were kept does not pretend to a change', () => {
  expect(row({ outcome: 'dry-run', before, after: { parallelism: 2 } }, 'decision').change).toBe('parallelism 2 unchanged (plan not recorded)');
});

test("the scaler's decisions show the target it decided", () => {
  expect(row({ outcome: 'started', fromParallelism: 2, toParallelism: 6, fromTaskManagers: 1, toTaskManagers: 3 }, 'decision').change).toBe('parallelism 2 -> 6, TaskManagers 1 -> 3');
});
