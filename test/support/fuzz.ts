/**
 * Shared pieces of the fuzz suite (test/fuzz/): run counts and the seed, structure-aware mutation of valid
 * examples, hostile values, per-surface counters, and the "names the field" relation between a mutation and the
 * problems it caused. Paths are JSON paths as the validators print them: `jobs[0].bounds.maxParallelism`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCli } from '../../bin/cli';
import { jsonPath, type ConfigProblem } from '../../functions/core/config';

/** Runs per property: FUZZ_RUNS when set (a longer local run), else the property's default (CI). */
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

/** Fixed by default so CI is deterministic; FUZZ_SEED picks another. fast-check prints seed and path on failure. */
export const FUZZ_SEED = Number.isInteger(Number(process.env.FUZZ_SEED)) && process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 17_2026;

export const fuzzParams = (defaultRuns: number): fc.Parameters<unknown> => ({ numRuns: fuzzRuns(defaultRuns), seed: FUZZ_SEED });

// ------------------------------------------------------------------ counts

export interface SurfaceCount {
  tried: number;
  accepted: number;
  refused: number;
}

/** Counters of one test file, printed (one line per surface) after the file's tests. */
export function surfaceCounts(): { of(surface: string): SurfaceCount; all: Map<string, SurfaceCount> } {
  const all = new Map<string, SurfaceCount>();
  const of = (surface: string) => {
    let c = all.get(surface);
    if (!c) all.set(surface, (c = { tried: 0, accepted: 0, refused: 0 }));
    return c;
  };
  afterAll(() => {
    const lines = [...all].map(([s, c]) => `${s}: ${c.tried} tried, ${c.accepted} accepted, ${c.refused} refused`);
    console.log(`fuzz counts (seed ${FUZZ_SEED}):\n${lines.join('\n')}`);
  });
  return { of, all };
}

// ------------------------------------------------------------------ hostile values

/**
 * A value nested `depth` levels deep, kept as a marker until needed: JSON.stringify of it would overflow the stack
 * (as it did in the validators), so `materialize` builds it iteratively and `jsonText` splices its text in.
 */
export class Deep {
  constructor(
    readonly depth: number,
    readonly array: boolean,
  ) {}
  build(): unknown {
    let v: unknown = this.array ? [] : 1;
    for (let i = 0; i < this.depth; i++) v = this.array ? [v] : { a: v };
    return v;
  }
  text(): string {
    return this.array ? '['.repeat(this.depth) + ']'.repeat(this.depth) : '{"a":'.repeat(this.depth) + '1' + '}'.repeat(this.depth);
  }
  toJSON(): string {
    return `\u0001deep:${this.depth}:${this.array ? 'a' : 'o'}\u0001`;
  }
}

/** JSON text of a document that may hold Deep markers. */
export function jsonText(doc: unknown): string {
  const s = JSON.stringify(doc) ?? 'null';
  return s.replace(/"\\u0001deep:(\d+):([ao])\\u0001"/g, (_m, d: string, k: string) => new Deep(Number(d), k === 'a').text());
}

/** The document with its Deep markers replaced by the deep values themselves (markers sit at most 12 levels down). */
export function materialize(doc: unknown, depth = 0): unknown {
  if (doc instanceof Deep) return doc.build();
  if (doc === null || typeof doc !== 'object' || depth > 12) return doc;
  if (Array.isArray(doc)) return doc.map((x) => materialize(x, depth + 1));
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, materialize(v, depth + 1)]));
}

/** Values that have broken parsers: wrong types, edges of number ranges, NaN-like strings, huge and deep values. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 32769, 1e21, 5e-324,
    '', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '\u0000', '0x10', '12', 'null', 'undefined', 'true', '<html><body>502 Bad Gateway</body></html>',
    [], {}, [null], { a: 1 }, ['x'], '\u202e\ud800', 'x'.repeat(5000),
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ depth: fc.integer({ min: 1000, max: 6000 }), array: fc.boolean() }).map(({ depth, array }) => new Deep(depth, array)),
  fc.integer({ min: 100_000, max: 300_000 }).map((n) => 'y'.repeat(n)),
);

/** Values that also exist only in memory (not in JSON): what a caller in-process could hand over. */
export const hostileInProcess: fc.Arbitrary<unknown> = fc.oneof(hostile, fc.constantFrom<unknown>(NaN, Infinity, -Infinity, undefined, 10n, Symbol('s'), () => 1, new Date(0)));

// ------------------------------------------------------------------ structure-aware mutation

export type Path = (string | number)[];

/** Every node of `doc` (the root included), at most 10 levels down and 3,000 nodes; Deep markers are leaves. */
export function nodePaths(doc: unknown): Path[] {
  const out: Path[] = [];
  const stack: { v: unknown; p: Path }[] = [{ v: doc, p: [] }];
  while (stack.length > 0 && out.length < 3000) {
    const { v, p } = stack.pop()!;
    out.push(p);
    if (v === null || typeof v !== 'object' || v instanceof Deep || p.length >= 10) continue;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, p: [...p, i] }));
    else for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], p: [...p, k] });
  }
  return out.reverse();
}

const KINDS = ['set', 'set', 'set', 'delete', 'delete', 'tweak', 'tweak', 'copy', 'wrap', 'addKey', 'dup'] as const;
type Kind = (typeof KINDS)[number];

export interface Mutation {
  at: number;
  kind: Kind;
  value: unknown;
  from: number;
  pick: number;
}

export const mutationArb = (values: fc.Arbitrary<unknown> = hostile): fc.Arbitrary<Mutation> =>
  fc.record({ at: fc.nat(), kind: fc.constantFrom(...KINDS), value: values, from: fc.nat(), pick: fc.nat() });

/** A small variation of a valid value: off by one, sign, scale, case, cut, padded; fewer or reordered entries. */
function tweak(v: unknown, pick: number): unknown {
  if (typeof v === 'number') return [v + 1, v - 1, -v, v * 1000, v + 0.5, 0, v * 2 ** 40][pick % 7];
  if (typeof v === 'string') return [v + 'x', v.toUpperCase(), v.slice(1), v.slice(0, -1), ` ${v}`, v + '\u0000', v.repeat(50), ''][pick % 8];
  if (typeof v === 'boolean') return [!v, String(v), Number(v)][pick % 3];
  if (Array.isArray(v)) return [[], v.slice(1), [...v, ...v], v.slice(0, 1)][pick % 4];
  if (v !== null && typeof v === 'object') return [{}, Object.fromEntries(Object.entries(v).slice(1)), Object.fromEntries(Object.entries(v).reverse())][pick % 3];
  return v;
}

function getAt(doc: unknown, p: Path): unknown {
  return p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], doc);
}

/** A copy of the top of `v` (12 levels; a mutation never reaches deeper), so later mutations never touch shared values. */
function copyTop(v: unknown, depth = 12): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Deep || depth === 0) return v;
  if (Array.isArray(v)) return v.map((x) => copyTop(x, depth - 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyTop(x, depth - 1)]));
}

/**
 * Applies mutations one after another to a copy of `base`. Each returns the path it changed: for a deletion from an
 * array or an added key, the array or object itself (the elements after it move, or the new key is reported there).
 */
export function applyMutations(base: unknown, mutations: readonly Mutation[]): { doc: unknown; paths: string[] } {
  let doc = copyTop(base, 64);
  const paths: string[] = [];
  for (const m of mutations) {
    const all = nodePaths(doc);
    const p = all[m.at % all.length];
    const old = getAt(doc, p);
    let value: unknown = copyTop(m.value);
    let where = p;
    if (m.kind === 'tweak') value = tweak(old, m.pick);
    else if (m.kind === 'copy') value = copyTop(getAt(doc, all[m.from % all.length]));
    else if (m.kind === 'wrap') value = m.pick % 2 ? [old] : { value: old };
    if (p.length === 0) {
      if (m.kind === 'delete') doc = undefined;
      else if (m.kind === 'addKey' || m.kind === 'dup') {
        if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) (doc as Record<string, unknown>)[`fuzz${m.pick % 3}`] = value;
      } else doc = value;
      paths.push('');
      continue;
    }
    const parent = getAt(doc, p.slice(0, -1)) as Record<string | number, unknown>;
    const key = p[p.length - 1];
    if (m.kind === 'delete') {
      if (Array.isArray(parent)) {
        parent.splice(key as number, 1);
        where = p.slice(0, -1);
      } else delete parent[key];
    } else if (m.kind === 'addKey') {
      if (old !== null && typeof old === 'object' && !Array.isArray(old) && !(old instanceof Deep)) (old as Record<string, unknown>)[['fuzz', 'colour', 'Name', ' '][m.pick % 4]] = value;
      else parent[key] = value;
    } else if (m.kind === 'dup' && Array.isArray(parent)) {
      parent.splice(key as number, 0, copyTop(old));
      where = p.slice(0, -1);
    } else parent[key] = value;
    paths.push(jsonPath(where));
  }
  return { doc, paths };
}

/** A valid example, mutated 1 to `max` times (structure-aware: every node of the example can be hit). */
export const mutated = (base: unknown, max = 3, values: fc.Arbitrary<unknown> = hostile) =>
  fc.array(mutationArb(values), { minLength: 1, maxLength: max }).map((ms) => applyMutations(base, ms));

/** Fully random JSON-ish documents (in the shapes of `objectKeys` where given, so some get past the first check). */
export const randomDoc = (objectKeys: string[] = []) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(fc.constantFrom(...objectKeys, 'x', ''), fc.jsonValue({ maxDepth: 3 }), { maxKeys: objectKeys.length + 2 }),
    hostile,
  );

// ------------------------------------------------------------------ the refusal names the field

function segments(path: string): string[] {
  return path === '' ? [] : (path.match(/[^.[\]]+|\[\d+\]/g) ?? []);
}

/**
 * Whether a problem reported at `problem` (with `message`) names a field one of the mutations changed: the field
 * itself or one inside it; its object or the object above (a missing discriminator, an unknown key); anything in
 * the object whose discriminator it changed; one of the
 * `scopes` both sit in (cross-field rules relate fields of one job, one vertex...); or a message quoting the path.
 */
export function namesMutatedField(problem: string, message: string, mutated: readonly string[], scopes: (path: string) => string | undefined = () => undefined): boolean {
  const ps = segments(problem);
  return mutated.some((m) => {
    const ms = segments(m);
    const below = ms.every((s, i) => ps[i] === s);
    const above = ps.every((s, i) => ms[i] === s) && ms.length - ps.length <= 2 && (ps.length > 0 || ms.length <= 1);
    // a changed discriminator ("source", "kind", "type") selects another schema for its whole object
    const selector = ['source', 'kind', 'type'].includes(ms[ms.length - 1]) && ms.slice(0, -1).every((s, i) => ps[i] === s);
    const scope = scopes(m);
    return below || above || selector || (scope !== undefined && scope === scopes(problem)) || (m !== '' && message.includes(m));
  });
}

/**
 * A refusal by one of the ConfigError validators (config, scaler event, snapshot): of class `errorClass`, at least
 * one problem, each printed with its path in the message, message and value bounded, each naming a mutated field.
 */
export function expectNamedRefusal(
  err: unknown,
  errorClass: abstract new (...args: never[]) => Error,
  mutatedPaths: readonly string[] | undefined,
  scopes?: (path: string) => string | undefined,
): void {
  expect(err).toBeInstanceOf(errorClass);
  const { problems, message } = err as Error & { problems: ConfigProblem[] };
  expect(problems.length).toBeGreaterThan(0);
  expect(message.length).toBeLessThan(2000 * problems.length + 200);
  for (const p of problems) {
    expect(typeof p.message).toBe('string');
    expect(p.message.length).toBeLessThan(1000);
    expect(message).toContain(`${p.path || '(root)'}: ${p.message}`);
    // a bounded preview (3 levels, 10 entries each, strings cut at 200), whatever the size of the bad value
    expect(JSON.stringify(p.value ?? null).length).toBeLessThan(250_000);
  }
  if (mutatedPaths) {
    const unnamed = problems.filter((p) => !namesMutatedField(p.path, p.message, mutatedPaths, scopes));
    expect({ mutatedPaths, unnamed }).toEqual({ mutatedPaths, unnamed: [] });
  }
}

/** Runs `fn`, failing when it took longer than `ms` (a synchronous validator cannot be interrupted, only timed). */
export function timed<T>(ms: number, what: string, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  const took = performance.now() - t0;
  if (took > ms) throw new Error(`${what} took ${Math.round(took)} ms (bound ${ms} ms)`);
  return out;
}

/** Runs a validator under a time bound (timed): what it returned, or what it threw (a bound exceeded included). */
export function attempt<T>(ms: number, what: string, fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: timed(ms, what, fn) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Rejects when `p` has not settled within `ms`: a call that hangs fails the property instead of the test timing out. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ files for the command line

export type FileForm = 'json' | 'cut' | 'html' | 'bom' | 'empty';

/** A mutated document as file text: its JSON, or that cut short, wrapped in HTML, with a byte-order mark, or empty. */
export const asFileText = (docs: fc.Arbitrary<{ doc: unknown; paths: string[] }>) =>
  fc.tuple(docs, fc.nat(), fc.constantFrom<FileForm>('json', 'json', 'cut', 'html', 'bom', 'empty')).map(([m, cut, form]) => {
    const text = jsonText(m.doc);
    const body = { json: text, cut: text.slice(0, cut % Math.max(1, text.length)), html: `<html><body>${text.slice(0, 50)}</body></html>`, bom: `\ufeff${text}`, empty: '' }[form];
    return { ...m, text: body, form };
  });

let cliFiles: string | undefined;
let cliFileCount = 0;

/**
 * Runs `flink-elastic ARGS` with `text` written to a fresh file that replaces "FILE" in the arguments. What it
 * printed on stderr never shows a crash (TypeError, RangeError, a stack overflow).
 */
export async function cliWithFile(args: string[], text: string): Promise<{ code: number; out: string; err: string }> {
  cliFiles ??= mkdtempSync(join(tmpdir(), 'flink-elastic-fuzz-'));
  const file = join(cliFiles, `input-${cliFileCount++}.json`);
  writeFileSync(file, text);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args.map((a) => (a === 'FILE' ? file : a)), { out: (x) => void out.push(x), err: (x) => void err.push(x) });
  const said = err.join('\n');
  expect(said).not.toMatch(/TypeError|RangeError|call stack|undefined is not|Cannot read/);
  return { code, out: out.join('\n'), err: said };
}

/** JSON.parse, or undefined with `ok: false` for text that is not JSON. */
export function parsedJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
