/**
 * The layering the design promises, checked on the source itself (docs/design.md): no import cycles anywhere in the
 * project's TypeScript, type-only imports included. This needs the whole import graph; the per-folder import rules
 * (core imports only the core, adapters never import use cases or handlers, use cases never import @aws-sdk) are
 * ESLint's, in eslint.config.mjs.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const SOURCE_DIRS = ['functions', 'lib', 'bin', 'local', 'bench'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\W)import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\W)require\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const c of [base + '.ts', join(base, 'index.ts')]) if (existsSync(c)) return c;
  return undefined;
}

/** file (relative to the root) → the project files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const d of SOURCE_DIRS) {
    for (const file of tsFiles(join(ROOT, d))) {
      const src = readFileSync(file, 'utf8');
      const deps = new Set<string>();
      for (const m of src.matchAll(IMPORT)) {
        const target = resolveLocal(file, m[1] ?? m[2] ?? m[3]);
        if (target) deps.add(relative(ROOT, target));
      }
      graph.set(relative(ROOT, file), [...deps]);
    }
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search, each reported once (by its smallest rotation). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') {
        const cyc = stack.slice(stack.indexOf(m));
        const i = cyc.indexOf([...cyc].sort()[0]);
        const canon = [...cyc.slice(i), ...cyc.slice(0, i)];
        found.set(canon.join(' → '), canon);
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return [...found.values()];
}

describe('architecture', () => {
  const graph = importGraph();

  it('reads the whole tree (the check is not vacuous)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('bin/cli.ts')).toContain('bin/commands/validate.ts');
  });

  it('has no import cycles, type-only imports included', () => {
    const found = cycles(graph).map((c) => [...c, c[0]].join(' → '));
    expect(found).toEqual([]);
  });

  it('finds a cycle when there is one (the detector works)', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
  });
});
