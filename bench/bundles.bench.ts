/**
 * Each Lambda handler's bundle, built the way the stack builds it (esbuild in-process: minified, CJS, node22,
 * `@aws-sdk/*` external, the example config defined in), and its cold-start module-load time: a fresh `node`
 * process requires the bundle (the SDK resolved from node_modules, as the Lambda runtime provides it), median of
 * several runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { loadConfig } from '../functions/adapters/config-file';

const ROOT = join(__dirname, '..');
const HANDLERS = join(ROOT, 'functions', 'handlers');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

export interface BundleFigures {
  handler: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  loadMsMedian: number;
  loadMsMin: number;
  largestInputs: string;
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
      for (let i = 0; i < RUNS; i++) {
        const ms = execFileSync(
          process.execPath,
          ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(jsPath)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`],
          {
            cwd: ROOT,
            env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_TRACE_ENABLED: 'false', AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          },
        );
        times.push(Number(ms));
      }
      out.push({
        handler: name,
        bytes: js.contents.byteLength,
        gzipBytes: gzipSync(js.contents, { level: 9 }).byteLength,
        mapBytes: map?.contents.byteLength ?? 0,
        loadMsMedian: median(times),
        loadMsMin: Math.min(...times),
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
  const lines = [
    `| handler | minified | gzip -9 | source map | module load (median of ${RUNS}) | min | largest inputs |`,
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.handler} | ${r.bytes} B (${kb(r.bytes)}) | ${kb(r.gzipBytes)} | ${kb(r.mapBytes)} | ${r.loadMsMedian.toFixed(1)} ms | ${r.loadMsMin.toFixed(1)} ms | ${r.largestInputs} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n(node ${process.version}, ${process.platform}/${process.arch}; @aws-sdk/* external as in the stack)\n`);
}

if (require.main === module) void run();
