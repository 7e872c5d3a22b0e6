/** The comparison behind test/flink/emulator-diff.test.ts: a new shape difference fails unless allow-listed. */
import { compareRuns, diffRuns, emulatorLineFor, shapeOf, type Run } from '../flink/emulator-diff-support';

const run = (body: unknown, cancel = ['RUNNING', 'CANCELLING', 'CANCELED']): Run => ({
  exchanges: [{ step: 'job detail', method: 'GET', path: '/jobs/x', status: 200, body }],
  transitions: { savepoint: ['IN_PROGRESS', 'COMPLETED'], stop: ['COMPLETED'], cancel, stopJob: ['RUNNING', 'FINISHED'] },
});

test('shapes: paths with types, array elements merged, id keys collapsed', () => {
  const s = shapeOf({ a: [{ b: 1 }, { b: 'x', c: null }], tasks: { '0123456789abcdef0123456789abcdef': 1 } });
  expect([...s.keys()]).toEqual(['', '.a', '.a[]', '.a[].b', '.a[].c', '.tasks', '.tasks.<key>']);
  expect([...s.get('.a[].b')!].sort()).toEqual(['number', 'string']);
});

test('a new field, a missing field, a type change and a status code are differences; the allow-list covers them', () => {
  const real = run({ id: 'a', n: 1, gone: true });
  const emu = run({ id: 'a', n: '1', extra: { x: 1 } });
  emu.exchanges[0].status = 404;
  const d = diffRuns(real, emu);
  expect(d.map((x) => `${x.kind} ${x.path ?? ''}`).sort()).toEqual(['extra .extra', 'missing .gone', 'status ', 'type .n']);
  const allow = [{ step: 'job detail', kind: 'extra' as const, path: '.extra.*', reason: 'test' }];
  const c = compareRuns('1.20.5', real, emu, allow);
  expect(c.unexpected).toHaveLength(3);
  expect(c.allowed).toHaveLength(1);
  expect(compareRuns('1.20.5', real, real, allow).stale).toHaveLength(1);
  expect(compareRuns('2.3.0', real, emu, [{ ...allow[0], versions: ['1.20'] }]).unexpected).toHaveLength(4);
});

test('transitions: real states must be an ordered subset of the emulator states, ending the same', () => {
  expect(diffRuns(run({}, ['RUNNING', 'CANCELED']), run({}))).toEqual([]);
  expect(diffRuns(run({}, ['RUNNING', 'FAILED']), run({}))[0]).toMatchObject({ kind: 'transition' });
});

test('profile for a real version: same line, else the newest older one', () => {
  expect(emulatorLineFor('1.20.5')).toBe('1.20');
  expect(emulatorLineFor('2.3.0')).toBe('2.3');
  expect(emulatorLineFor('2.4.1')).toBe('2.3');
  expect(emulatorLineFor('1.19.2')).toBe('1.19');
});
