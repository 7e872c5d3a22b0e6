/**
 * The config reaches the Lambdas bundled into their code (esbuild define), not through the 4 KB-limited environment:
 * real local esbuild bundles, as `cdk deploy` builds them, loaded and invoked in a fresh Node process whose
 * environment has no FLINK_ELASTIC_CONFIG_JSON (as in AWS).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ElasticFunction } from '../../lib/constructs/elastic-function';
import { exampleConfig } from '../support/example-config';

const config = exampleConfig();
const configuredJobs = config.jobs.map((j) => j.name);
let outdir: string;
const bundles = new Map<string, { dir: string; env: Record<string, string> }>();

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'fe-bundle-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'B');
  for (const [id, entry] of [
    ['Collector', 'functions/handlers/collector.ts'],
    ['Workflow', 'functions/handlers/workflow.ts'],
    ['Scaler', 'functions/handlers/scaler.ts'],
    ['Lifecycle', 'functions/handlers/lifecycle-hook.ts'],
  ]) {
    new ElasticFunction(stack, id, { entry, serviceName: id.toLowerCase(), description: 'd', config });
  }
  const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  for (const [logicalId, fn] of Object.entries<any>(fns)) {
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles.set(logicalId.replace(/[A-F0-9]{8}$/, ''), { dir: join(outdir, `asset.${hash}`), env: fn.Properties.Environment?.Variables ?? {} });
  }
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function bundle(id: string) {
  const b = [...bundles.entries()].find(([k]) => k.startsWith(id))?.[1];
  if (!b) throw new Error(`no bundle for ${id} (have ${[...bundles.keys()].join(', ')})`);
  return b;
}

/** Requires the bundle in a fresh Node process (no FLINK_ELASTIC_CONFIG_JSON, no AWS endpoint reachable) and invokes its handler once. */
function invokeBundle(dir: string, event: unknown): { ok: boolean; value: string } {
  const script = `
    const { handler } = require(${JSON.stringify(join(dir, 'index.js'))});
    handler(${JSON.stringify(event)}).then(
      (v) => process.stdout.write(JSON.stringify({ ok: true, value: JSON.stringify(v) })),
      (e) => process.stdout.write(JSON.stringify({ ok: false, value: e.name + ': ' + e.message })),
    );`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    // The AWS SDK v3 is left out of the bundle (the Lambda runtime provides it): the project's copy stands in.
    NODE_PATH: join(__dirname, '..', '..', 'node_modules'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    STATE_TABLE_NAME: 'state',
    NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:topic',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 60_000 }));
}

test('the validated config is compiled into each bundle; no reference to the environment variable is left', () => {
  expect(bundles.size).toBe(4);
  for (const [id, b] of bundles) {
    const files = readdirSync(b.dir).sort();
    expect({ id, files }).toEqual({ id, files: ['index.js', 'index.js.map'] });
    const js = readFileSync(join(b.dir, 'index.js'), 'utf8');
    // (booleans, not the 900 KB bundle, in a failure message)
    expect({ id, envReference: js.includes('process.env.FLINK_ELASTIC_CONFIG_JSON') }).toEqual({ id, envReference: false });
    // the whole validated config, defaults included, as one string literal
    // (esbuild picks the quote style; the JSON appears raw inside '...' or `...`, or escaped inside "...")
    const raw = JSON.stringify(config);
    expect({ id, inlined: js.includes(raw) || js.includes(JSON.stringify(raw).slice(1, -1)) }).toEqual({ id, inlined: true });
    expect(b.env).not.toHaveProperty('FLINK_ELASTIC_CONFIG_JSON');
  }
});

test('the workflow step bundle reads its config at run time without the variable: a step names the configured jobs', () => {
  const r = invokeBundle(bundle('Workflow').dir, { step: 'validate', state: { job: 'no-such-job', parallelism: 2 }, execution: { id: 'arn:x', name: 'x' } });
  expect(r.ok).toBe(false);
  expect(r.value).not.toMatch(/FLINK_ELASTIC_CONFIG_JSON/);
  expect(r.value).toMatch(/^InvalidInput: .*job: no job named "no-such-job"; configured jobs: /);
  for (const name of configuredJobs) expect(r.value).toContain(name);
}, 60_000);

test('the scaler bundle reads its config at run time without the variable: a schedule entry for an unknown job is rejected naming the jobs', () => {
  const r = invokeBundle(bundle('Scaler').dir, { source: 'schedule', job: 'no-such-job', parallelism: 2 });
  expect(r.ok).toBe(false);
  expect(r.value).not.toMatch(/FLINK_ELASTIC_CONFIG_JSON/);
  expect(r.value).toMatch(/no-such-job/);
  for (const name of configuredJobs) expect(r.value).toContain(name);
}, 60_000);
