import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { SnapshotError, parsePolicyState, parseSnapshot, type JobSnapshotInput } from '../../functions/core/policy';

const root = join(__dirname, '..', '..');
const example = (): any => JSON.parse(readFileSync(join(root, 'examples', 'snapshot.json'), 'utf8'));

const problemsOf = (input: unknown): string[] => {
  try {
    parseSnapshot(input);
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return (e as SnapshotError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the snapshot to be rejected');
};

test('the example snapshot is valid for parseSnapshot and for the committed JSON Schema', () => {
  expect(() => parseSnapshot(example())).not.toThrow();
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'schema', 'job-snapshot.schema.json'), 'utf8')));
  expect(validate(example()) ? [] : validate.errors).toEqual([]);
  const bad = example();
  bad.vertices[0].busyTimeMsPerSecond = 1500;
  expect(validate(bad)).toBe(false);
});

test('field errors name the path and the allowed range', () => {
  const s = example();
  s.vertices[1].busyTimeMsPerSecond = 1200;
  s.vertices[2].parallelism = 0;
  s.cluster.slotsFree = 'two';
  s.signals.cpuPercent = 140;
  s.vertices[0].colour = 'red';
  expect(problemsOf(s)).toEqual(
    expect.arrayContaining([
      'vertices[1].busyTimeMsPerSecond: must be milliseconds per second from 0 to 1000',
      'vertices[2].parallelism: must be an integer from 1 to 32768',
      'cluster.slotsFree: must be an integer from 0 to 2560000',
      'signals.cpuPercent: must be a percentage from 0 to 100',
      expect.stringMatching(/^vertices\[0\]: unknown field\(s\) "colour"; allowed: id, name, parallelism/),
    ]),
  );
});

test('cross-field rules: known inputs, unique ids, no cycles, p ≤ maxParallelism, free ≤ total slots, nothing after now', () => {
  const s = example();
  s.vertices[2].inputs = ['nope'];
  s.vertices[1].parallelism = 200;
  s.cluster.slotsFree = 9;
  s.history.lastRescaleAt = s.now + 1;
  expect(problemsOf(s)).toEqual([
    'vertices[1].parallelism: must be ≤ maxParallelism (128)',
    expect.stringMatching(/^vertices\[2\]\.inputs\[0\]: unknown vertex id; known: /),
    'cluster.slotsFree: must be ≤ cluster.slotsTotal (4)',
    `history.lastRescaleAt: must not be after now (${s.now})`,
  ]);
  const cyc = example();
  cyc.vertices[0].inputs = [cyc.vertices[2].id];
  expect(problemsOf(cyc)).toEqual(['vertices: inputs form a cycle; a Flink job graph is acyclic']);
  const dup = example();
  dup.vertices[2].id = dup.vertices[1].id;
  dup.vertices[2].inputs = [dup.vertices[0].id];
  expect(problemsOf(dup)).toEqual([expect.stringMatching(/^vertices\[2\]\.id: duplicate vertex id \(also vertices\[1\]\.id\)/)]);
});

test('every metric is optional: a snapshot with only the job graph and the cluster is valid', () => {
  const minimal: JobSnapshotInput = {
    now: Date.UTC(2026, 0, 1),
    vertices: [{ id: 'v1', name: 'Only', parallelism: 2, maxParallelism: 128 }],
    cluster: { taskManagers: 2, slotsTotal: 2, slotsFree: 0 },
  };
  const s = parseSnapshot(minimal);
  expect(s.signals).toEqual({});
  expect(s.history).toEqual({ decisions: [], restartSeconds: [] });
  expect(s.vertices[0]).toMatchObject({ keyedInput: false, inputs: [], pinned: false });
});

test('policy state is validated too', () => {
  expect(parsePolicyState({ version: 1 })).toEqual({ version: 1, smoothed: {}, lastLag: {} });
  expect(() => parsePolicyState({ version: 2 })).toThrow(/version: must be 1/);
});
