import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../bin/cli';

const root = join(__dirname, '..', '..');
const config = join(root, 'flink-elastic.config.json');
const snapshot = join(root, 'examples', 'snapshot.json');

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

test('decide prints the decision for the example snapshot as JSON', async () => {
  const r = await cli('decide', '--config', config, '--snapshot', snapshot);
  expect(r).toMatchObject({ code: 0, err: '' });
  const d = JSON.parse(r.out);
  // Enrich: 6,000 × 32/128 ÷ 0.95 = 1,579 rec/s per subtask; 9,000 ÷ 0.7 + 400 + 9,000 × 42 ÷ 300 = 14,517 → 9.19 → 10
  expect(d).toMatchObject({ policy: 'flink-elastic', action: 'rescale', direction: 'up', currentParallelism: 4, targetParallelism: 10, targetTaskManagers: 5, rule: 'rate' });
  expect(d.figures['Enrich.requiredParallelism']).toBeCloseTo(9.19, 2);
});

test('--explain prints the arithmetic', async () => {
  const r = await cli('decide', '--config', config, '--snapshot', snapshot, '--explain');
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^orders-enrichment: rescale up 4 → 10 \(TaskManagers 2 → 5\)/);
  expect(r.out).toMatch(/arithmetic:\n {2}1\. /);
  expect(r.out).toMatch(/6,000 rec\/s × 32\/128 key groups ÷ 0.95 busy = 1,579/);
});

test('--state carries smoothing and delays between calls, --policy picks a baseline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'decide-'));
  const state = join(dir, 'state.json');
  expect((await cli('decide', '--config', config, '--snapshot', snapshot, '--state', state)).code).toBe(0);
  expect(existsSync(state)).toBe(true);
  expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ version: 1, lastScaleUp: { fromParallelism: 4, toParallelism: 10 } });
  const seed = await cli('decide', '--config', config, '--snapshot', snapshot, '--policy', 'seed-001');
  // seed 001: backlog 120,000 ÷ 6,000 = 20 s > 10 s → 9,000 ÷ 6,000 × 4 = 6
  expect(JSON.parse(seed.out)).toMatchObject({ policy: 'seed-001', targetParallelism: 6 });
  // step scaling: 9,000 rec/s ≥ 4 × 1,500 by 3,000 = 2 × 1,500 → +4; without its parameter it has no threshold
  const step = (...more: string[]) => cli('decide', '--config', config, '--snapshot', snapshot, '--policy', 'aws-step-throughput', ...more);
  expect(JSON.parse((await step('--throughput-per-subtask', '1500')).out)).toMatchObject({ policy: 'aws-step-throughput', targetParallelism: 8, figures: { scaleOutThreshold: 6000 } });
  expect(JSON.parse((await step()).out)).toMatchObject({ action: 'none', missing: ['throughputPerSubtask (baseline parameter)'] });
});

test('bad input: clear errors, exit 1; usage errors exit 2; --help has an example', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'decide-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(snapshot, 'utf8')), now: 5 }));
  const r = await cli('decide', '--config', config, '--snapshot', bad);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/now: must be epoch milliseconds from 946684800000 to 4102444800000 \(got 5\)/);
  const policy = await cli('decide', '--config', config, '--snapshot', snapshot, '--policy', 'nope');
  expect(policy.code).toBe(2);
  expect(policy.err).toContain('--policy must be one of flink-elastic, msf-cpu, aws-step-throughput, seed-001 (got "nope")');
  expect((await cli('decide', '--config', config, '--snapshot', snapshot, '--job', 'nope')).err).toMatch(/no job named "nope"/);
  expect((await cli('decide', '--config', config)).code).toBe(2);
  const help = await cli('decide', '--help');
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/Example:\n {2}\$ flink-elastic decide /);
});
