/**
 * The config reaches the Lambdas bundled into their code (esbuild define), not through the 4 KB-limited environment:
 * a real local esbuild bundle of one function, as `cdk deploy` builds it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ElasticFunction } from '../../lib/constructs/elastic-function';
import { exampleConfig } from '../support/example-config';

test('the validated config is compiled into the bundle; no reference to the environment variable is left', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'fe-bundle-'));
  try {
    const config = exampleConfig();
    const app = new App({ outdir });
    const stack = new Stack(app, 'B');
    new ElasticFunction(stack, 'Collector', { entry: 'functions/handlers/collector.ts', serviceName: 'c', description: 'd', config });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as any;
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const assetDir = join(outdir, `asset.${hash}`);
    const files = readdirSync(assetDir).sort();
    expect(files).toEqual(['index.js', 'index.js.map']);
    const js = readFileSync(join(assetDir, 'index.js'), 'utf8');
    // (booleans, not the 900 KB bundle, in a failure message)
    expect(js.includes('process.env.FLINK_ELASTIC_CONFIG_JSON')).toBe(false);
    // the whole validated config, defaults included, as one string literal
    // (esbuild picks the quote style; the JSON appears raw inside '...' or `...`, or escaped inside "...")
    const raw = JSON.stringify(config);
    expect(js.includes(raw) || js.includes(JSON.stringify(raw).slice(1, -1))).toBe(true);
    expect(fn.Properties.Environment.Variables).not.toHaveProperty('FLINK_ELASTIC_CONFIG_JSON');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
