import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError, CROSS_FIELD_RULES, parseConfig, taskManagersFor, validateConfig } from '../../functions/core/config';
import { loadConfig } from '../../functions/adapters/config-file';
import { renderSchemas } from '../../scripts/schemas';

const root = join(__dirname, '..', '..');
const example = () => JSON.parse(readFileSync(join(root, 'flink-elastic.config.json'), 'utf8'));

/** A minimal valid config: one ASG job in savepoint mode. */
const minimal = () => ({
  jobs: [
    {
      name: 'orders',
      flink: { url: 'http://127.0.0.1:8081' },
      submit: { jarId: 'abc_orders.jar' },
      savepoint: { directory: 's3://b/sp' },
      target: { kind: 'asg', autoScalingGroupName: 'tms' },
      slotsPerTaskManager: 2,
      bounds: { maxParallelism: 8, maxTaskManagers: 4 },
    },
  ],
});

test('the example config is valid', () => {
  const r = validateConfig(example());
  expect(r.ok ? [] : r.problems).toEqual([]);
});

test('the example config uses every field the schema knows (so it documents them all)', () => {
  const schema = JSON.parse(renderSchemas()['schema/flink-elastic.config.schema.json']);
  const used = new Set<string>();
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, `${path}[]`));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        used.add(`${path}.${k}`);
        // maps (tags, dimensions, pinnedVertices, flinkConfiguration) have free-form keys
        if (!['tags', 'dimensions', 'pinnedVertices', 'flinkConfiguration'].includes(k)) walk(x, `${path}.${k}`);
      }
    }
  };
  walk(example(), '');
  const known = new Set<string>();
  const visit = (s: any, path: string) => {
    if (!s) return;
    for (const alt of s.anyOf ?? s.oneOf ?? []) visit(alt, path);
    if (s.type === 'array') visit(s.items, `${path}[]`);
    for (const [k, p] of Object.entries<any>(s.properties ?? {})) {
      known.add(`${path}.${k}`);
      visit(p, `${path}.${k}`);
    }
  };
  visit(schema, '');
  const missing = [...known].filter((k) => !used.has(k));
  expect(missing).toEqual([]);
});

test('defaults follow the seeds: 10 s backlog, 60 s cooldown, 5 min drain timeout', () => {
  const job = parseConfig(minimal()).jobs[0];
  expect(job.policy.maxBacklogSeconds).toBe(10);
  expect(job.cooldownSeconds).toBe(60);
  expect(job.drainTimeoutSeconds).toBe(300);
  expect(job.mode).toBe('savepoint');
  expect(job.dryRun).toBe(false);
});

type Mutate = (c: any) => void;
// [what, mutation, expected path, words the message must contain]
const cases: [string, Mutate, string, string[]][] = [
  ['slots per TM 0', (c) => (c.jobs[0].slotsPerTaskManager = 0), 'jobs[0].slotsPerTaskManager', ['1 to 256']],
  ['slots per TM not integer', (c) => (c.jobs[0].slotsPerTaskManager = 1.5), 'jobs[0].slotsPerTaskManager', ['integer']],
  ['unknown mode', (c) => (c.jobs[0].mode = 'fast'), 'jobs[0].mode', ['savepoint', 'adaptive', 'reactive']],
  ['bad job name', (c) => (c.jobs[0].name = 'Orders!'), 'jobs[0].name', ['lower-case']],
  ['bad url', (c) => (c.jobs[0].flink.url = 'ftp://x'), 'jobs[0].flink.url', ['http']],
  ['unknown flink version', (c) => (c.jobs[0].flink.version = '1.9'), 'jobs[0].flink.version', ['1.14', '1.19']],
  ['jobMaxParallelism below 128 (seed 001)', (c) => (c.jobs[0].bounds.jobMaxParallelism = 100), 'jobs[0].bounds.jobMaxParallelism', ['128 to 32768']],
  ['jobMaxParallelism above 32768 (seed 001)', (c) => (c.jobs[0].bounds.jobMaxParallelism = 40000), 'jobs[0].bounds.jobMaxParallelism', ['128 to 32768']],
  ['min > max parallelism', (c) => (c.jobs[0].bounds.minParallelism = 9), 'jobs[0].bounds.minParallelism', ['maxParallelism (8)']],
  ['min > max TMs', (c) => (c.jobs[0].bounds.minTaskManagers = 5), 'jobs[0].bounds.minTaskManagers', ['maxTaskManagers (4)']],
  ['maxParallelism > jobMaxParallelism', (c) => Object.assign(c.jobs[0].bounds, { maxParallelism: 200, maxTaskManagers: 100, jobMaxParallelism: 128 }), 'jobs[0].bounds.maxParallelism', ['jobMaxParallelism (128)']],
  ['too few slots for max parallelism', (c) => (c.jobs[0].bounds.maxTaskManagers = 3), 'jobs[0].bounds.maxTaskManagers', ['3 × 2 = 6', 'must be ≥ 4']],
  ['target fields of another kind', (c) => (c.jobs[0].target = { kind: 'asg', clusterName: 'c', namespace: 'n', deploymentName: 'd' }), 'jobs[0].target', ['unknown field', 'autoScalingGroupName']],
  ['unknown target kind', (c) => (c.jobs[0].target = { kind: 'yarn' }), 'jobs[0].target.kind', ['"asg"', '"eks-deployment"', '"flink-deployment"']],
  ['eks target missing namespace', (c) => (c.jobs[0].target = { kind: 'eks-deployment', clusterName: 'c', deploymentName: 'd' }), 'jobs[0].target.namespace', ['namespace']],
  ['duplicate job names', (c) => c.jobs.push({ ...structuredClone(c.jobs[0]) }), 'jobs[1].name', ['duplicate', 'jobs[0].name']],
  ['no jobs', (c) => (c.jobs = []), 'jobs', ['at least one job']],
  ['unknown top-level field', (c) => (c.job = []), '', ['unknown field', '"job"']],
  ['lag low ≥ high', (c) => (c.jobs[0].lag = { source: { type: 'flink-pending-records' }, highThreshold: 10, lowThreshold: 10 }), 'jobs[0].lag.lowThreshold', ['highThreshold (10)']],
  ['cpu low ≥ high', (c) => (c.jobs[0].cpu = { highPercent: 50, lowPercent: 60 }), 'jobs[0].cpu.lowPercent', ['highPercent (50)']],
  ['datapoints > evaluation periods', (c) => (c.jobs[0].cpu = { alarm: { evaluationPeriods: 2, datapointsToAlarm: 3 } }), 'jobs[0].cpu.alarm.datapointsToAlarm', ['evaluationPeriods (2)']],
  ['alarm period not allowed', (c) => (c.jobs[0].cpu = { alarm: { periodSeconds: 45 } }), 'jobs[0].cpu.alarm.periodSeconds', ['10, 30, 60, 120, 300']],
  ['cpu source asg on an EKS target', (c) => Object.assign(c.jobs[0], { target: { kind: 'eks-deployment', clusterName: 'c', namespace: 'n', deploymentName: 'd' }, cpu: { source: 'asg' } }), 'jobs[0].cpu.source', ['"asg"', 'eks-deployment']],
  ['savepoint mode without a jar', (c) => delete c.jobs[0].submit, 'jobs[0].submit', ['jarId', 'jarPath']],
  ['savepoint mode without a directory', (c) => delete c.jobs[0].savepoint, 'jobs[0].savepoint', ['savepoint.directory']],
  ['adaptive on Flink 1.14', (c) => Object.assign(c.jobs[0], { mode: 'adaptive', flink: { url: 'http://h:8081', version: '1.14' } }), 'jobs[0].mode', ['1.18']],
  ['source-partitions alignment without a count', (c) => (c.jobs[0].policy = { alignment: 'source-partitions' }), 'jobs[0].policy.sourcePartitions', ['required']],
  ['utilization min at the target', (c) => (c.jobs[0].policy = { utilizationMin: 0.7 }), 'jobs[0].policy.utilizationMin', ['targetUtilization (0.7)', '0 ≤ utilizationMin < 0.7']],
  ['utilization max below the target', (c) => (c.jobs[0].policy = { targetUtilization: 0.8, utilizationMax: 0.75 }), 'jobs[0].policy.utilizationMax', ['targetUtilization (0.8)', '0.8 < utilizationMax ≤ 1']],
  ['scale-up max factor below 1', (c) => (c.jobs[0].policy = { scaleUpMaxFactor: 0.5 }), 'jobs[0].policy.scaleUpMaxFactor', ['1 to 100000']],
  ['scale-down max factor above 1', (c) => (c.jobs[0].policy = { scaleDownMaxFactor: 1.5 }), 'jobs[0].policy.scaleDownMaxFactor', ['0 to 1']],
  ['EWMA alpha outside 0.3–0.5 (seed 002)', (c) => (c.jobs[0].policy = { ewmaAlpha: 0.9 }), 'jobs[0].policy.ewmaAlpha', ['0.3 to 0.5']],
  ['schedule outside bounds', (c) => (c.jobs[0].schedules = [{ name: 'x', cron: 'cron(0 8 * * ? *)', parallelism: 20 }]), 'jobs[0].schedules[0].parallelism', ['1 to 8']],
  ['schedule with a bad cron', (c) => (c.jobs[0].schedules = [{ name: 'x', cron: '0 8 * * *', parallelism: 2 }]), 'jobs[0].schedules[0].cron', ['cron(']],
  ['drain timeout too short', (c) => (c.jobs[0].drainTimeoutSeconds = 1), 'jobs[0].drainTimeoutSeconds', ['10 to 7200']],
  ['bad notification email', (c) => (c.jobs[0].notificationEmail = 'oncall'), 'jobs[0].notificationEmail', ['email']],
  ['bad subnet id', (c) => (c.deployment = { vpc: { vpcId: 'vpc-0123abcd', subnetIds: ['subnet-x'], securityGroupIds: ['sg-0123abcd'] } }), 'deployment.vpc.subnetIds[0]', ['subnet-']],
  ['auth with a plain password instead of a secret', (c) => (c.jobs[0].flink.auth = { type: 'basic', password: 'hunter2' }), 'jobs[0].flink.auth', ['unknown field', 'secretName']],
];

test.each(cases)('rejects %s, naming the field and what is allowed', (_what, mutate, path, words) => {
  const cfg: any = minimal();
  mutate(cfg);
  const r = validateConfig(cfg);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  const hit = r.problems.find((p) => p.path === path);
  expect({ problems: r.problems, hit: !!hit }).toMatchObject({ hit: true });
  for (const w of words) expect(hit!.message).toContain(w);
});

test('reports every problem at once, across jobs, including cross-field rules of valid jobs', () => {
  const cfg: any = minimal();
  cfg.jobs.push({ ...structuredClone(cfg.jobs[0]), name: 'billing' });
  cfg.jobs[0].slotsPerTaskManager = 0; // field error in job 0
  cfg.jobs[0].mode = 'nope'; // second field error in job 0
  cfg.jobs[1].bounds.minParallelism = 10; // cross-field error in job 1
  const r = validateConfig(cfg);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.problems.map((p) => p.path).sort()).toEqual(['jobs[0].mode', 'jobs[0].slotsPerTaskManager', 'jobs[1].bounds.minParallelism']);
  // the bad value is reported too
  expect(r.problems.find((p) => p.path === 'jobs[0].mode')!.value).toBe('nope');
});

test('ConfigError message lists each problem on its own line with path and bad value', () => {
  const cfg: any = minimal();
  cfg.jobs[0].slotsPerTaskManager = 0;
  expect(() => parseConfig(cfg, 'my.json')).toThrow(ConfigError);
  try {
    parseConfig(cfg, 'my.json');
  } catch (e) {
    expect((e as Error).message).toContain('my.json is invalid (1 problem)');
    expect((e as Error).message).toContain('jobs[0].slotsPerTaskManager: must be an integer from 1 to 256 (got 0)');
  }
});

test('loadConfig names the file and says what is wrong with unreadable or non-JSON files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fe-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "jobs": [ ');
  expect(() => loadConfig(bad)).toThrow(/bad\.json is invalid.*not valid JSON/s);
  expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/missing\.json is invalid.*cannot read config file/s);
});

test('capacity follows parallelism: TMs = ceil(parallelism / slots per TM), within the TM bounds', () => {
  const job = parseConfig(minimal()).jobs[0]; // 2 slots per TM, 1..4 TMs
  expect(taskManagersFor(job, 1)).toBe(1);
  expect(taskManagersFor(job, 3)).toBe(2); // ceil(3/2)
  expect(taskManagersFor(job, 8)).toBe(4);
  expect(taskManagersFor(job, 20)).toBe(4); // clamped to maxTaskManagers
});

test('fuzzed input never crashes the validator and always yields a config or located problems', () => {
  const base = minimal();
  const arbValue = fc.oneof(fc.anything(), fc.integer({ min: -5, max: 40000 }), fc.constantFrom('asg', 'adaptive', '', 'x', null));
  const paths = [
    ['jobs', 0, 'slotsPerTaskManager'],
    ['jobs', 0, 'bounds'],
    ['jobs', 0, 'bounds', 'maxParallelism'],
    ['jobs', 0, 'target'],
    ['jobs', 0, 'target', 'kind'],
    ['jobs', 0, 'mode'],
    ['jobs', 0, 'lag'],
    ['jobs', 0, 'policy'],
    ['jobs', 0],
    ['jobs'],
    ['deployment'],
  ];
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), arbValue), { maxLength: 4 }), fc.anything(), (edits, whole) => {
      for (const input of [whole, (() => {
        const cfg: any = structuredClone(base);
        for (const [path, value] of edits) {
          let cur = cfg;
          for (const k of path.slice(0, -1)) cur = cur?.[k];
          if (cur && typeof cur === 'object') cur[path[path.length - 1]] = value;
        }
        return cfg;
      })()]) {
        const r = validateConfig(input);
        if (!r.ok) {
          expect(r.problems.length).toBeGreaterThan(0);
          for (const p of r.problems) expect(typeof p.message).toBe('string');
        }
      }
    }),
    { numRuns: 400 },
  );
});

test('committed JSON Schema and config reference match the core schema (run `npm run schema` when this fails)', () => {
  for (const [file, text] of Object.entries(renderSchemas())) {
    expect({ file, text: readFileSync(join(root, file), 'utf8') }).toEqual({ file, text });
  }
});

test('alarm defaults: lag 2 of 3, CPU 5 of 5 periods of 60 s, also for the fields a partial alarm section leaves out', () => {
  const lagSource = { type: 'flink-pending-records' };
  const job = parseConfig({ jobs: [{ ...minimal().jobs[0], lag: { source: lagSource, highThreshold: 10 } }] }).jobs[0];
  expect(job.lag!.alarm).toEqual({ periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2 });
  expect(job.cpu.alarm).toEqual({ periodSeconds: 60, evaluationPeriods: 5, datapointsToAlarm: 5 });
  const partial = parseConfig({
    jobs: [{ ...minimal().jobs[0], lag: { source: lagSource, highThreshold: 10, alarm: { periodSeconds: 30 } }, cpu: { alarm: { periodSeconds: 30 } } }],
  }).jobs[0];
  expect(partial.lag!.alarm).toEqual({ periodSeconds: 30, evaluationPeriods: 3, datapointsToAlarm: 2 });
  expect(partial.cpu.alarm).toEqual({ periodSeconds: 30, evaluationPeriods: 5, datapointsToAlarm: 5 });
});

// One config that breaks each rule across fields, keyed by how the config reference lists the rule
// (CROSS_FIELD_RULES): a rule added to the validator fails here until it has a case, so the list stays complete.
const ruleBreakers: Record<string, [Mutate, string]> = {
  '`bounds.minParallelism ≤ bounds.maxParallelism`': [(c) => (c.jobs[0].bounds.minParallelism = 9), 'jobs[0].bounds.minParallelism'],
  '`bounds.minTaskManagers ≤ bounds.maxTaskManagers`': [(c) => (c.jobs[0].bounds.minTaskManagers = 5), 'jobs[0].bounds.minTaskManagers'],
  '`bounds.maxParallelism ≤ bounds.jobMaxParallelism` (when set, 128..32768)': [
    (c) => Object.assign(c.jobs[0].bounds, { maxParallelism: 200, maxTaskManagers: 100, jobMaxParallelism: 128 }),
    'jobs[0].bounds.maxParallelism',
  ],
  '`bounds.maxTaskManagers × slotsPerTaskManager ≥ bounds.maxParallelism`': [(c) => (c.jobs[0].bounds.maxTaskManagers = 3), 'jobs[0].bounds.maxTaskManagers'],
  '`lag.lowThreshold < lag.highThreshold`': [(c) => (c.jobs[0].lag = { source: { type: 'flink-pending-records' }, highThreshold: 10, lowThreshold: 10 }), 'jobs[0].lag.lowThreshold'],
  '`cpu.lowPercent < cpu.highPercent`': [(c) => (c.jobs[0].cpu = { highPercent: 50, lowPercent: 60 }), 'jobs[0].cpu.lowPercent'],
  '`alarm.datapointsToAlarm ≤ alarm.evaluationPeriods` (lag and CPU)': [
    (c) => (c.jobs[0].lag = { source: { type: 'flink-pending-records' }, highThreshold: 10, alarm: { evaluationPeriods: 1, datapointsToAlarm: 2 } }),
    'jobs[0].lag.alarm.datapointsToAlarm',
  ],
  '`cpu.source` must fit `target.kind` (`asg` needs an `asg` target, `container-insights` an EKS target)': [
    (c) => (c.jobs[0].cpu = { source: 'container-insights' }),
    'jobs[0].cpu.source',
  ],
  'savepoint mode needs `submit.jarId` or `submit.jarPath` and `savepoint.directory` (unless the operator owns the job)': [(c) => delete c.jobs[0].savepoint, 'jobs[0].savepoint'],
  '`mode` `adaptive` needs Flink ≥ 1.18 (when `flink.version` is set)': [
    (c) => Object.assign(c.jobs[0], { mode: 'adaptive', flink: { url: 'http://h:8081', version: '1.17' } }),
    'jobs[0].mode',
  ],
  '`submit.flinkConfiguration` needs Flink ≥ 1.16 (when `flink.version` is set)': [
    (c) => Object.assign(c.jobs[0], { flink: { url: 'http://h:8081', version: '1.15' }, submit: { jarId: 'abc_orders.jar', flinkConfiguration: { 'a.b': 'c' } } }),
    'jobs[0].submit.flinkConfiguration',
  ],
  '`savepoint.formatType` `NATIVE` needs Flink ≥ 1.15 (when `flink.version` is set)': [
    (c) => Object.assign(c.jobs[0], { flink: { url: 'http://h:8081', version: '1.14' }, savepoint: { directory: 's3://b/sp', formatType: 'NATIVE' } }),
    'jobs[0].savepoint.formatType',
  ],
  '`policy.alignment` `source-partitions` needs `policy.sourcePartitions`': [(c) => (c.jobs[0].policy = { alignment: 'source-partitions' }), 'jobs[0].policy.sourcePartitions'],
  '`schedules[].parallelism` within `bounds.minParallelism`..`bounds.maxParallelism`': [
    (c) => (c.jobs[0].schedules = [{ name: 'x', cron: 'cron(0 8 * * ? *)', parallelism: 20 }]),
    'jobs[0].schedules[0].parallelism',
  ],
  '`policy.utilizationMin < policy.targetUtilization < policy.utilizationMax` (each when set)': [(c) => (c.jobs[0].policy = { utilizationMax: 0.6 }), 'jobs[0].policy.utilizationMax'],
  '`flink.auth` needs an `https://` `flink.url` (credentials are not sent over plain http) unless `flink.allowInsecure` is true': [
    (c) => (c.jobs[0].flink.auth = { type: 'bearer', secretName: 'flink/token' }),
    'jobs[0].flink.auth',
  ],
  '`schedules[].name` unique within a job': [
    (c) => (c.jobs[0].schedules = [{ name: 'x', cron: 'cron(0 8 * * ? *)', parallelism: 2 }, { name: 'x', cron: 'cron(0 20 * * ? *)', parallelism: 1 }]),
    'jobs[0].schedules[1].name',
  ],
  [CROSS_FIELD_RULES.find((r) => r.startsWith('the waits of one rescale'))!]: [
    (c) => Object.assign(c.jobs[0], { drainTimeoutSeconds: 7200, policy: { restartSeconds: 1200 } }),
    'jobs[0].drainTimeoutSeconds',
  ],
  'job names are unique': [(c) => c.jobs.push({ ...structuredClone(c.jobs[0]) }), 'jobs[1].name'],
};

test('the config reference lists every rule across fields the validator runs, each with a breaking case below', () => {
  expect(Object.keys(ruleBreakers).sort()).toEqual([...CROSS_FIELD_RULES].sort());
  const reference = readFileSync(join(root, 'docs', 'config-reference.md'), 'utf8');
  for (const rule of CROSS_FIELD_RULES) expect(reference).toContain(`- ${rule}\n`);
});

test.each(Object.entries(ruleBreakers))('rule %s is enforced: the breaking config is refused at its path, alone', (_rule, [mutate, path]) => {
  const cfg: any = minimal();
  mutate(cfg);
  const r = validateConfig(cfg);
  expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual([path]);
});
