/**
 * Inputs nested thousands of levels deep (issue 17, defect 1): every validator answers with a problem that names
 * the field, instead of crashing with "Maximum call stack size exceeded" while quoting the bad value.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli';
import { ConfigError, validateConfig } from '../../functions/core/config';
import { parseSnapshot, SnapshotError } from '../../functions/core/policy/snapshot';
import { parseScalerEvent, ScalerEventError } from '../../functions/scaler/event';
import { alarmEvent } from '../fixtures/events';
import { exampleDoc } from '../support/example-config';

const DEPTH = 5000;
/** `{"a":{"a":…1…}}`, DEPTH levels, parsed from text as a config file would be. */
const deepObject = (): unknown => JSON.parse('{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH));
const deepArray = (): unknown => JSON.parse('['.repeat(DEPTH) + ']'.repeat(DEPTH));

async function validate(text: string, ...args: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'flink-elastic-deep-')), 'deep.json');
  writeFileSync(file, text);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['validate', '--config', file, ...args], { out: (x) => void out.push(x), err: (x) => void err.push(x) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('flink-elastic validate --config deep.json', () => {
  test('a field nested 5,000 levels deep is one clear problem naming the field, exit 1', async () => {
    const doc = exampleDoc();
    doc.jobs[0].policy.pinnedVertices = '__DEEP__';
    const text = JSON.stringify(doc).replace('"__DEEP__"', '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH));
    const r = await validate(text);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/call stack/i);
    expect(r.err).toMatch(/jobs\[0\]\.policy\.pinnedVertices\.a: must be an integer from 1 to 32768/);
    expect(r.err.length).toBeLessThan(2000);
  });

  test('a whole document that is an array 5,000 deep: "must be an object" at the root, also with --json', async () => {
    const text = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
    const r = await validate(text);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\(root\): must be an object/);
    const j = await validate(text, '--json');
    expect(j.code).toBe(1);
    const report = JSON.parse(j.out);
    expect(report.valid).toBe(false);
    expect(report.problems[0]).toMatchObject({ path: '', message: 'must be an object' });
    // the value in the report is a bounded preview, not the 5,000-level document
    expect(JSON.stringify(report.problems[0].value).length).toBeLessThan(200);
  });

  test('the example config still validates (sanity)', () => {
    expect(validateConfig(exampleDoc()).ok).toBe(true);
  });
});

describe('alarm events and snapshots nested 5,000 deep', () => {
  test.each([
    ['detail.state.value', (e: any) => (e.detail.state.value = deepObject())],
    ['detail.alarmName', (e: any) => (e.detail.alarmName = deepArray())],
    ['detail.state.timestamp', (e: any) => (e.detail.state.timestamp = deepObject())],
  ])('an alarm event with %s nested deep is a ScalerEventError naming it', (path, mutate) => {
    const event: any = alarmEvent('FlinkElastic-orders-lag-high');
    mutate(event);
    let caught: unknown;
    try {
      parseScalerEvent(event);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScalerEventError);
    const message = (caught as Error).message;
    expect(message.length).toBeLessThan(2000);
    expect(message).toContain(`${path}:`);
  });

  test('a snapshot whose vertex is nested deep is a SnapshotError naming the field', () => {
    const snap = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'snapshot.json'), 'utf8'));
    snap.vertices[0].inputRate = deepObject();
    snap.cluster = deepArray();
    let caught: unknown;
    try {
      parseSnapshot(snap);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SnapshotError);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(/vertices\[0\]\.inputRate: /);
    expect((caught as Error).message).toMatch(/cluster: must be an object/);
  });
});
