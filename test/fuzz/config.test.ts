/**
 * Fuzz surface 1: the config file. Valid examples (the repo's example config, the local one), mutated structure-
 * aware, plus random documents, through `validateConfig`/`parseConfig` and through `flink-elastic validate --config`.
 * No crash (only ConfigError), no hang, every problem names a field the mutation touched, and every accepted config
 * keeps the invariants the rest of the code relies on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, parseConfig, validateConfig, type Config } from '../../functions/core/config';
import { EXECUTION_TIMEOUT_SECONDS } from '../../functions/core/rescale-timing';
import { isSavepointUri } from '../../functions/core/savepoint-location';
import { exampleDoc } from '../support/example-config';
import { asFileText, cliWithFile, expectNamedRefusal, fuzzParams, hostile, materialize, mutated, namesMutatedField, parsedJson, randomDoc, surfaceCounts, timed } from '../support/fuzz';

const counts = surfaceCounts();
const localDoc = (): unknown => JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'local.config.json'), 'utf8'));

/** Strings that are almost right for config fields: URLs, URIs, schedule expressions, time zones. */
const almostRight = fc.constantFrom(
  'http://[::1', 'http://a:99999', 'http://x:8081/ path', 'https://flink:8081?q=1', 'http://u@h:1', 'http://%zz', 'HTTP://H:1', 'http://h:-1', 'http://h.:1', 'http://0:0',
  's3://', 's3://b', 'file://', 'file:///', 'hdfs://../x', 's3://b/../c', 'S3A://B/P', 'gs://b/p\n',
  'cron(* * * * ? *)', 'cron(0 8 ? * MON-FRI *)', 'cron(60 * * * ? *)', 'rate(1 minutes)', 'rate(1 minute)', 'rate(99999999999 days)', 'cron()', 'cron(0 0 31 2 ? *)',
  'UTC', 'Etc/GMT+99', 'europe/berlin', 'Europe/Berlin ', 'asg', 'eks-deployment', 'flink-deployment', 'basic', 'bearer', 'savepoint', 'adaptive', 'reactive', '1.14', '2.9', 'NATIVE',
);
const values = fc.oneof({ weight: 4, arbitrary: hostile }, { weight: 1, arbitrary: almostRight });

/** Cross-field rules relate the fields of one job: a problem anywhere in jobs[i] may come from a mutation there. */
const jobScope = (path: string) => /^jobs\[\d+\]/.exec(path)?.[0];

/** What the rest of the code relies on in an accepted config (empty when all hold). */
function violations(c: Config): string[] {
  const out: string[] = [];
  const bad = (cond: boolean, what: string) => void (cond || out.push(what));
  const names = new Set<string>();
  c.jobs.forEach((j, i) => {
    const at = `jobs[${i}]`;
    const b = j.bounds;
    bad(!names.has(j.name), `${at}.name unique`);
    names.add(j.name);
    bad(/^[a-z][a-z0-9-]{0,39}$/.test(j.name), `${at}.name pattern`);
    for (const [k, v] of Object.entries({ ...b, slots: j.slotsPerTaskManager })) bad(v === undefined || (Number.isInteger(v) && v >= 0), `${at}.bounds.${k} integer`);
    bad(b.minParallelism >= 1 && b.minParallelism <= b.maxParallelism, `${at} 1 ≤ minParallelism ≤ maxParallelism`);
    bad(b.minTaskManagers <= b.maxTaskManagers && b.maxTaskManagers >= 1, `${at} minTaskManagers ≤ maxTaskManagers`);
    bad(b.maxTaskManagers * j.slotsPerTaskManager >= b.maxParallelism, `${at} room for maxParallelism`);
    bad(b.jobMaxParallelism === undefined || b.jobMaxParallelism >= b.maxParallelism, `${at} maxParallelism ≤ jobMaxParallelism`);
    bad(j.schedules.every((s) => s.parallelism >= b.minParallelism && s.parallelism <= b.maxParallelism), `${at} schedules within bounds`);
    bad(new Set(j.schedules.map((s) => s.name)).size === j.schedules.length, `${at} schedule names unique`);
    bad(!j.lag || j.lag.lowThreshold < j.lag.highThreshold, `${at} lag low < high`);
    bad(j.cpu.lowPercent < j.cpu.highPercent, `${at} cpu low < high`);
    let url: URL | undefined;
    try {
      url = new URL(j.flink.url);
    } catch {
      // refused below
    }
    bad(url !== undefined && /^https?:$/.test(url.protocol) && !url.username && !url.password, `${at}.flink.url a parseable http(s) URL without credentials`);
    bad(!j.flink.auth || j.flink.allowInsecure || url?.protocol === 'https:', `${at}.flink.auth only over https`);
    bad(!j.savepoint || isSavepointUri(j.savepoint.directory), `${at}.savepoint.directory a URI`);
    const owned = j.target.kind === 'flink-deployment' && j.target.operatorOwnsJob;
    bad(j.mode !== 'savepoint' || owned || (!!j.savepoint && !!(j.submit?.jarId || j.submit?.jarPath)), `${at} savepoint mode can resubmit`);
    const maps = [j.policy.pinnedVertices, j.submit?.flinkConfiguration ?? {}, j.lag?.source.type === 'cloudwatch' ? j.lag.source.dimensions : {}];
    bad(maps.every((m) => !Object.keys(m).some((k) => ['__proto__', 'constructor', 'prototype'].includes(k))), `${at} no reserved keys`);
    bad((j.submit?.programArgs ?? []).length <= 500 && (j.submit?.programArgs ?? []).every((a) => a.length <= 4096), `${at} programArgs bounded`);
    const sp = j.savepoint?.timeoutSeconds ?? 900;
    const waits = 600 + sp + Math.max(300, 5 * j.policy.restartSeconds) + j.drainTimeoutSeconds + (j.savepoint?.stopWithSavepoint ? 1000 : 0);
    bad(waits <= EXECUTION_TIMEOUT_SECONDS, `${at} waits fit the execution timeout`);
  });
  bad(!Object.keys(c.deployment.tags).some((k) => ['__proto__', 'constructor', 'prototype'].includes(k)), 'deployment.tags no reserved keys');
  return out;
}

/** Validates one document: accepted → invariants and a stable round trip; refused → named, bounded problems. */
function check(doc: unknown, mutatedPaths: string[] | undefined, surface: string): void {
  const c = counts.of(surface);
  c.tried++;
  const r = timed(2000, 'validateConfig', () => validateConfig(doc));
  if (r.ok) {
    c.accepted++;
    expect(violations(r.config)).toEqual([]);
    // what was accepted reads back the same (the deployed config is this JSON)
    const again = validateConfig(JSON.parse(JSON.stringify(r.config)));
    expect(JSON.stringify(again.ok ? again.config : again.problems)).toEqual(JSON.stringify(r.config));
    return;
  }
  c.refused++;
  let err: unknown;
  try {
    parseConfig(doc);
  } catch (e) {
    err = e;
  }
  expectNamedRefusal(err, ConfigError, mutatedPaths, jobScope);
  expect((err as ConfigError).problems).toEqual(r.problems);
}

describe('config: validateConfig / parseConfig', () => {
  test.each([
    ['the example config', exampleDoc],
    ['the local example config', localDoc],
  ])('%s, mutated: no crash, refusals name the field, accepted configs are sane', (_what, base) => {
    fc.assert(
      fc.property(mutated(base(), 3, values), ({ doc, paths }) => check(materialize(doc), paths, 'config (mutated examples)')),
      fuzzParams(500),
    );
  });

  test('random documents: no crash, every problem printed with its path', () => {
    fc.assert(
      fc.property(randomDoc(['jobs', 'deployment', '$schema']), (doc) => check(materialize(doc), undefined, 'config (random documents)')),
      fuzzParams(300),
    );
  });
});

describe('config: flink-elastic validate --config FILE', () => {
  test('exit 0 for a valid file, 1 with every problem named for an invalid one; never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(asFileText(mutated(exampleDoc(), 2, values)), async ({ text, form, paths }) => {
        const c = counts.of('config (validate --config FILE)');
        c.tried++;
        const { code, err } = await cliWithFile(['validate', '--config', 'FILE'], text);
        const doc = parsedJson(text);
        if (!doc.ok) {
          expect({ code, err }).toEqual({ code: 1, err: expect.stringMatching(/\(root\): not valid JSON/) });
          c.refused++;
          return;
        }
        const r = validateConfig(doc.value);
        expect(code).toBe(r.ok ? 0 : 1);
        if (r.ok) c.accepted++;
        else {
          c.refused++;
          for (const p of r.problems) expect(err).toContain(`${p.path || '(root)'}: ${p.message}`);
          if (form === 'json') expect(r.problems.filter((p) => !namesMutatedField(p.path, p.message, paths, jobScope))).toEqual([]);
        }
      }),
      fuzzParams(120),
    );
  });
});

describe('config: found by fuzzing (kept as regression examples)', () => {
  test('a schedules entry that is not an object is a problem at its path, not "TypeError: Cannot read properties of undefined"', async () => {
    const doc = exampleDoc();
    doc.jobs[0].schedules = ['', doc.jobs[0].schedules[1], 7];
    const r = validateConfig(doc);
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual(['jobs[0].schedules[0]', 'jobs[0].schedules[2]']);
    check(doc, ['jobs[0].schedules[0]', 'jobs[0].schedules[2]'], 'config (regression examples)');
  });

  test.each(['http://10.0.1.10:8081x', 'http://[::1', 'http://h:99999'])('flink.url %j, which no REST call could use, is refused naming the field', (url) => {
    const doc = exampleDoc();
    doc.jobs[0].flink.url = url;
    const r = validateConfig(doc);
    expect(r.ok ? [] : r.problems).toEqual([expect.objectContaining({ path: 'jobs[0].flink.url', message: expect.stringMatching(/must be an http\(s\) URL/) })]);
    check(doc, ['jobs[0].flink.url'], 'config (regression examples)');
  });
});
