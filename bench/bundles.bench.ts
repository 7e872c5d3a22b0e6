/**
 * Each Lambda handler's bundle, built the way the stack builds it (esbuild in-process: minified, CJS, node22,
 * `@aws-sdk/*` external, the example config defined in), and its cold-start module-load time: a fresh `node`
 * process requires the bundle (the SDK resolved from node_modules, as the Lambda runtime provides it), median of
 * several runs. Each figure is printed beside its goal (issue 20: ≤ 400 KB minified, ≤ 150 ms module load), with
 * the AWS SDK clients the bundle requires at load and the part of the load time that is the bundle's own code (the
 * same require with those clients already loaded).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { loadConfig } from '../functions/adapters/config-file';

const ROOT = join(__dirname, '..');
const HANDLERS = join(ROOT, 'functions', 'handlers');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** Issue 20's goals for every handler. */
export const GOALS = { bytes: 400 * 1024, loadMs: 150 };

export interface BundleFigures {
  handler: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  loadMsMedian: number;
  loadMsMin: number;
  /** Median load time with the SDK clients already loaded: the bundle's own code. */
  ownLoadMsMedian: number;
  /** @aws-sdk packages the bundle requires when it loads (not those it requires on first use). */
  sdkAtLoad: string[];
  largestInputs: string;
}

/** Requires the bundle in a fresh node process: load ms and the @aws-sdk packages then loaded (`preload`: first). */
function loadOnce(jsPath: string, preload: string[]): { ms: number; sdk: string[] } {
  const script = `${preload.map((m) => `require(${JSON.stringify(m)});`).join('')}
    const t = process.hrtime.bigint();
    require(${JSON.stringify(jsPath)});
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const sdk = [...new Set(Object.keys(require.cache).map((k) => /node_modules[/](@aws-sdk[/](client|lib)-[^/]+)[/]/.exec(k)?.[1]).filter(Boolean))];
    process.stdout.write(JSON.stringify({ ms, sdk }));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_TRACE_ENABLED: 'false', AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out);
}

/** "310.5 KB ✓" or "411.1 KB ✗ (+11.1 KB)" against the goal. */
function vsGoal(value: number, goal: number, unit: (n: number) => string): string {
  return value <= goal ? `${unit(value)} ✓` : `${unit(value)} ✗ (+${unit(value - goal)})`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function measure(): Promise<BundleFigures[]> {
  const config = loadConfig(join(ROOT, 'flink-elastic.config.json'));
  const outDir = join(ROOT, 'bench', 'results', 'bundles.tmp');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const handlers = readdirSync(HANDLERS).filter((f) => f.endsWith('.ts')).sort();
  const out: BundleFigures[] = [];
  try {
    for (const file of handlers) {
      const name = file.replace(/\.ts$/, '');
      const res = await build({
        entryPoints: [join(HANDLERS, file)],
        bundle: true,
        minify: true,
        sourcemap: 'external',
        sourcesContent: false,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        mainFields: ['module', 'main'],
        external: ['@aws-sdk/*'],
        define: { 'process.env.FLINK_ELASTIC_CONFIG_JSON': JSON.stringify(JSON.stringify(config)) },
        outfile: join(outDir, `${name}.js`),
        metafile: true,
        write: false,
        logLevel: 'silent',
      });
      const js = res.outputFiles.find((f) => f.path.endsWith('.js'))!;
      const map = res.outputFiles.find((f) => f.path.endsWith('.map'));
      const jsPath = join(outDir, `${name}.js`);
      writeFileSync(jsPath, js.contents);
      const inputs = Object.entries(res.metafile.outputs[Object.keys(res.metafile.outputs).find((k) => k.endsWith('.js'))!].inputs)
        .map(([path, v]) => ({ pkg: /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'project', bytes: v.bytesInOutput }))
        .reduce<Record<string, number>>((acc, x) => ({ ...acc, [x.pkg]: (acc[x.pkg] ?? 0) + x.bytes }), {});
      const largest = Object.entries(inputs)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([p, b]) => `${p} ${(b / 1024).toFixed(0)}K`)
        .join(', ');
      const times: number[] = [];
      const own: number[] = [];
      let sdkAtLoad: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        const cold = loadOnce(jsPath, []);
        times.push(cold.ms);
        sdkAtLoad = cold.sdk;
        own.push(loadOnce(jsPath, cold.sdk).ms);
      }
      out.push({
        handler: name,
        bytes: js.contents.byteLength,
        gzipBytes: gzipSync(js.contents, { level: 9 }).byteLength,
        mapBytes: map?.contents.byteLength ?? 0,
        loadMsMedian: median(times),
        loadMsMin: Math.min(...times),
        ownLoadMsMedian: median(own),
        sdkAtLoad: sdkAtLoad.sort(),
        largestInputs: largest,
      });
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return out;
}

export async function run(): Promise<void> {
  const rows = await measure();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const lines = [
    `| handler | minified (goal ≤ ${kb(GOALS.bytes)}) | gzip -9 | source map | module load, median of ${RUNS} (goal ≤ ${GOALS.loadMs} ms) | min | own code | SDK clients required at load | largest inputs |`,
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.handler} | ${vsGoal(r.bytes, GOALS.bytes, kb)} | ${kb(r.gzipBytes)} | ${kb(r.mapBytes)} | ${vsGoal(r.loadMsMedian, GOALS.loadMs, ms)} | ${ms(r.loadMsMin)} | ${ms(r.ownLoadMsMedian)} | ${r.sdkAtLoad.map((m) => m.replace('@aws-sdk/', '')).join(', ')} | ${r.largestInputs} |`,
    ),
  ];
  // Clients a handler requires on first use are not in its module-load figure; the one every lifecycle-hook
  // invocation uses (DescribeInstances maps the instance to its TaskManager) is timed here, so its first invocation's
  // extra cost is printed rather than hidden.
  const deferred = median(Array.from({ length: RUNS }, () => loadOnce(require.resolve('@aws-sdk/client-ec2'), []).ms));
  lines.push(`\nDeferred to first use: @aws-sdk/client-ec2 loads in ${ms(deferred)} (median of ${RUNS}) on the first DescribeInstances; every lifecycle-hook invocation and the workflow's first ASG step make one, so a cold lifecycle hook's first invocation costs module load + ${ms(deferred)}.`);
  const load = (os.loadavg()[0] ?? 0).toFixed(1);
  process.stdout.write(`${lines.join('\n')}\n(node ${process.version}, ${process.platform}/${process.arch}, ${os.cpus().length} cores, load average ${load} at the end; @aws-sdk/* external as in the stack; "own code" = the same require with those SDK clients already loaded)\n`);
}

if (require.main === module) void run();
