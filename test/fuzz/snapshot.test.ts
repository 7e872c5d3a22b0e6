/**
 * Fuzz surface 4: the `decide` snapshot. The example snapshot, mutated structure-aware, plus random documents,
 * through `parseSnapshot`; every accepted snapshot then goes to every policy with each example job. Only
 * SnapshotError, naming the field; accepted snapshots keep their invariants, and decisions stay within the job's
 * bounds with a state that the next `decide --state` call reads back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { POLICIES, parsePolicyState, parseSnapshot, SnapshotError, topoOrder, type JobSnapshot } from '../../functions/core/policy';
import type { JobConfig } from '../../functions/core/config';
import { EXAMPLE_CONFIG_FILE, exampleConfig } from '../support/example-config';
import { asFileText, attempt, cliWithFile, expectNamedRefusal, fuzzParams, hostile, hostileInProcess, materialize, mutated, parsedJson, randomDoc, surfaceCounts, timed } from '../support/fuzz';

const counts = surfaceCounts();
const example = (): unknown => JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'snapshot.json'), 'utf8'));
const jobs = exampleConfig().jobs;

/** Cross-field rules of a snapshot: vertex ids and inputs relate all vertices; `now` and the history relate. */
const snapshotScope = (path: string) => (/^vertices/.test(path) ? 'vertices' : /^(now|history)/.test(path) ? 'time' : /^cluster/.test(path) ? 'cluster' : undefined);

function snapshotViolations(s: JobSnapshot): string[] {
  const bad: string[] = [];
  const ids = new Set(s.vertices.map((v) => v.id));
  if (ids.size !== s.vertices.length) bad.push('vertex ids unique');
  if (!s.vertices.every((v) => Number.isInteger(v.parallelism) && v.parallelism >= 1 && v.parallelism <= v.maxParallelism)) bad.push('1 ≤ parallelism ≤ maxParallelism');
  if (!s.vertices.every((v) => v.inputs.every((i) => ids.has(i) && i !== v.id))) bad.push('inputs known');
  if (!topoOrder(s.vertices)) bad.push('acyclic');
  if (!(s.cluster.slotsFree <= s.cluster.slotsTotal)) bad.push('slotsFree ≤ slotsTotal');
  if (!s.history.decisions.every((d) => d.at <= s.now) || (s.history.lastRescaleAt ?? 0) > s.now) bad.push('history not after now');
  return bad;
}

function decisionViolations(d: ReturnType<(typeof POLICIES)[string]>['decision'], job: JobConfig, s: JobSnapshot): string[] {
  const bad: string[] = [];
  const b = job.bounds;
  // Flink runs no vertex above its key groups: a snapshot with fewer than bounds.minParallelism lowers the floor
  const floor = Math.min(b.minParallelism, ...s.vertices.map((v) => v.maxParallelism));
  const isCount = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;
  if (![d.currentParallelism, d.targetParallelism, d.currentTaskManagers, d.targetTaskManagers].every(isCount)) bad.push('counts are non-negative integers');
  if (d.action !== 'none') {
    if (!(d.targetParallelism >= floor && d.targetParallelism <= b.maxParallelism)) bad.push(`targetParallelism ${d.targetParallelism} within bounds`);
    if (!(d.targetTaskManagers >= b.minTaskManagers && d.targetTaskManagers <= b.maxTaskManagers)) bad.push(`targetTaskManagers ${d.targetTaskManagers} within bounds`);
    for (const [id, p] of Object.entries(d.perVertex ?? {})) if (!(Number.isInteger(p) && p >= 1 && p <= 32768)) bad.push(`perVertex.${id} = ${p}`);
  }
  for (const [k, v] of Object.entries(d.figures)) if (Number.isNaN(v)) bad.push(`figure ${k} is NaN`);
  if (!(typeof d.reason === 'string' && d.reason.length > 0) || /NaN|Infinity subtasks/.test(d.reason)) bad.push(`a reason without NaN or "Infinity subtasks": ${d.reason}`);
  return bad;
}

function check(input: unknown, mutatedPaths: string[] | undefined, surface: string, pick: { job: number; policy: string }): void {
  const c = counts.of(surface);
  c.tried++;
  const r = attempt(1000, 'parseSnapshot', () => parseSnapshot(input));
  if (!r.ok) {
    c.refused++;
    expectNamedRefusal(r.error, SnapshotError, mutatedPaths, snapshotScope);
    return;
  }
  c.accepted++;
  const s = r.value;
  expect(snapshotViolations(s)).toEqual([]);
  const job = jobs[pick.job % jobs.length];
  const policy = POLICIES[pick.policy];
  const first = timed(1000, 'decide', () => policy(s, job));
  expect(decisionViolations(first.decision, job, s)).toEqual([]);
  // `decide --state FILE` writes the state as JSON and reads it back on the next call
  const state = parsePolicyState(JSON.parse(JSON.stringify(first.state)));
  const second = policy({ ...s, now: s.now + 60_000 }, job, state);
  expect(decisionViolations(second.decision, job, s)).toEqual([]);
}

const pick = fc.record({ job: fc.nat(), policy: fc.constantFrom(...Object.keys(POLICIES)) });

test('the example snapshot, mutated: only SnapshotErrors naming the field; accepted snapshots decide within bounds', () => {
  fc.assert(
    fc.property(mutated(example(), 3, hostileInProcess), pick, ({ doc, paths }, p) => check(materialize(doc), paths, 'snapshot (mutated)', p)),
    fuzzParams(800),
  );
});

test('the example snapshot with small numeric changes only (most are accepted): decisions stay within bounds', () => {
  const numbers = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1e7, noNaN: true }), fc.constantFrom(0, 1, 1000, 1e15, 5e-324));
  fc.assert(
    fc.property(mutated(example(), 4, numbers), pick, ({ doc, paths }, p) => check(doc, paths, 'snapshot (numeric changes)', p)),
    fuzzParams(800),
  );
});

test('random documents: only SnapshotErrors, every problem printed with its path', () => {
  fc.assert(
    fc.property(randomDoc(['now', 'vertices', 'cluster', 'signals', 'history']), pick, (doc, p) => check(materialize(doc), undefined, 'snapshot (random)', p)),
    fuzzParams(300),
  );
});

test('flink-elastic decide --snapshot FILE: a decision within the bounds (exit 0), or exit 1 naming every problem; never a crash', async () => {
  await fc.assert(
    fc.asyncProperty(asFileText(mutated(example(), 2, hostile)), async ({ text, form, paths }) => {
      const c = counts.of('snapshot (decide --snapshot FILE)');
      c.tried++;
      const { code, out, err } = await cliWithFile(['decide', '--config', EXAMPLE_CONFIG_FILE, '--snapshot', 'FILE'], text);
      const doc = parsedJson(text);
      const parsed = doc.ok ? attempt(1000, 'parseSnapshot', () => parseSnapshot(doc.value)) : undefined;
      const job = parsed?.ok ? jobs.find((j) => j.name === parsed.value.job) : undefined;
      if (!parsed?.ok || !job) {
        c.refused++;
        expect(code).toBe(1);
        if (!doc.ok) expect(err).toMatch(/\(root\): not valid JSON/);
        else if (!parsed!.ok) {
          for (const p of (parsed!.error as SnapshotError).problems) expect(err).toContain(`${p.path || '(root)'}: ${p.message}`);
          if (form === 'json') expectNamedRefusal(parsed!.error, SnapshotError, paths, snapshotScope);
        } else expect(err).toMatch(/job: (no job named|the config has 4 jobs)/);
        return;
      }
      c.accepted++;
      expect(code).toBe(0);
      expect(decisionViolations(JSON.parse(out), job, parsed.value)).toEqual([]);
    }),
    fuzzParams(100),
  );
});

describe('found by fuzzing (kept as regression examples)', () => {
  test('a subnormal source rate (5e-324 records/s) gives no "Infinity subtasks" and no NaN figure', () => {
    const snap = example() as any;
    snap.vertices[0].inputRate = 5e-324;
    check(snap, ['vertices[0].inputRate'], 'snapshot (regression examples)', { job: 0, policy: 'flink-elastic' });
    const { decision } = POLICIES['flink-elastic'](parseSnapshot(snap), jobs[0]);
    expect(decision.reason).not.toMatch(/Infinity subtasks|NaN/);
    expect(decision.targetParallelism).toBeLessThan(jobs[0].bounds.maxParallelism);
  });

  test('a subnormal busy time (5e-324 ms/s) keeps the policy state readable by the next decide --state', () => {
    const snap = example() as any;
    snap.vertices[1].busyTimeMsPerSecond = 5e-324;
    check(snap, ['vertices[1].busyTimeMsPerSecond'], 'snapshot (regression examples)', { job: 0, policy: 'flink-elastic' });
  });
});
