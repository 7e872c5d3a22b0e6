/** The CLI's JSON output: figures without float noise, integers exact. */
import { jsonText, tidyNumber } from '../../../bin/commands/support/json';
import { runCli } from '../../../bin/cli';

test.each([
  [0.39999999999999997, 0.4],
  [14517.142857142859, 14517.1],
  [1578.9473684210527, 1578.95],
  [9.194190476190476, 9.19419],
  [0.000123456789, 0.000123457],
  [1796593627480.5, 1796593627481],
  [-2.5000000000000004, -2.5],
])('%p prints as %p', (n, expected) => expect(tidyNumber(n)).toBe(expected));

test('integers, strings and non-numbers are untouched', () => {
  const v = { at: 1796593627480, bytes: 2 ** 53 - 1, id: '0.39999999999999997', ok: true, none: null, list: [1, 0.1 + 0.2] };
  expect(JSON.parse(jsonText(v))).toEqual({ at: 1796593627480, bytes: 2 ** 53 - 1, id: '0.39999999999999997', ok: true, none: null, list: [1, 0.3] });
});

test('decide --json has no number with float noise in it', async () => {
  const out: string[] = [];
  const code = await runCli(['--config', 'flink-elastic.config.json', 'decide', '--snapshot', 'examples/snapshot.json'], { out: (s) => void out.push(s), err: () => {} });
  expect(code).toBe(0);
  const text = out.join('\n');
  expect(text).toMatch(/"utilizationMin": 0\.4,/);
  expect(text).not.toMatch(/\d\.\d{7,}/);
  expect(JSON.parse(text)).toMatchObject({ action: 'rescale', targetParallelism: 10 });
});
