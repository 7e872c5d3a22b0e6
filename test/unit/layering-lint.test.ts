/**
 * The per-folder import rules of eslint.config.mjs bite: each snippet is linted as if it stood at the given path, with
 * the project's own configuration (the ESLint API, no mocks). Import declarations and the lazy loads the project uses
 * (require('x'), typeof import('x'), import('x')) are both covered; what a folder may import stays allowed.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

// ESLint loads eslint.config.mjs with a dynamic import, which Jest's module sandbox cannot do: one plain Node process
// lints every snippet (ESLint's lintText with the project's configuration) and prints the layering messages.
const LINT = `
const { ESLint } = require('eslint');
const path = require('node:path');
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const [file, code] of JSON.parse(process.argv[1])) {
    const [r] = await eslint.lintText(code, { filePath: path.resolve(file) });
    out.push(r.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function lintAll(snippets: [string, string][]): string[][] {
  return JSON.parse(execFileSync(process.execPath, ['-e', LINT, JSON.stringify(snippets)], { cwd: ROOT, encoding: 'utf8' }));
}

const REFUSED: [string, string, string][] = [
  ['functions/adapters/targets/probe.ts', "import { x } from '../../workflow';\nexport const y = x;\n", 'adapters never import use cases'],
  ['functions/adapters/targets/probe.ts', "import type { X } from '../../scaler/ports';\nexport type Y = X;\n", 'adapters never import use cases'],
  ['functions/adapters/probe.ts', "import { x } from '../handlers/scaler';\nexport const y = x;\n", 'adapters never import use cases'],
  ['functions/adapters/targets/probe.ts', "export const y = (): unknown => require('../../workflow/steps');\n", 'adapters never import use cases'],
  ['functions/adapters/probe.ts', "export type Y = typeof import('../scaler/ports');\n", 'adapters never import use cases'],
  ['functions/workflow/probe.ts', "import { SNSClient } from '@aws-sdk/client-sns';\nexport const y = SNSClient;\n", 'use cases never import @aws-sdk'],
  ['functions/scaler/probe.ts', "export const y = (): unknown => require('@aws-sdk/client-sfn');\n", 'use cases never import @aws-sdk'],
  ['functions/collector/probe.ts', "export type Y = typeof import('@aws-sdk/client-cloudwatch');\n", 'use cases never import @aws-sdk'],
  ['functions/core/probe.ts', "import { request } from 'node:https';\nexport const y = request;\n", 'functions/core is pure'],
  ['functions/core/policy/probe.ts', "import { x } from '../../adapters/http';\nexport const y = x;\n", 'functions/core depends on nothing else'],
  ['functions/core/policy/probe.ts', "export const y = (): unknown => require('node:http');\n", 'functions/core is pure'],
  ['functions/core/probe.ts', "export const y = (): unknown => import('../adapters/flink/wire');\n", 'functions/core depends on nothing else'],
];
const ALLOWED: [string, string][] = [
  ['functions/adapters/targets/probe.ts', "import { x } from '../http';\nexport const y = (): unknown => [x, require('./eks-auth')];\n"],
  ['functions/workflow/probe.ts', "import { x } from '../adapters/http';\nimport { y } from '../core/config';\nexport const z = [x, y];\n"],
  ['functions/core/policy/probe.ts', "import * as z from 'zod';\nimport { x } from '../config';\nexport const y = [z, x];\n"],
];

describe('layering lint rules', () => {
  const results = lintAll([...REFUSED.map(([f, c]) => [f, c] as [string, string]), ...ALLOWED]);

  it.each(REFUSED.map((r, i) => [...r, i] as const))('%s: refuses %j', (_file, _code, message, i) => {
    expect(results[i].some((e) => e.includes(message))).toBe(true);
  });

  it.each(ALLOWED.map((a, i) => [...a, REFUSED.length + i] as const))('%s: allows what the layer may import: %j', (_file, _code, i) => {
    expect(results[i]).toEqual([]);
  });
});
