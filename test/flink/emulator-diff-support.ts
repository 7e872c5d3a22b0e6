/**
 * Shape comparison for the emulator-fidelity test (emulator-diff.test.ts): field paths with their JSON types, status
 * codes and state transitions of one REST sequence run against real Flink and against the emulator.
 */
import { EMULATOR_VERSIONS, type EmulatorVersion } from '../../local/emulator';

export interface Exchange {
  step: string;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface Run {
  exchanges: Exchange[];
  transitions: { savepoint: string[]; stop: string[]; cancel: string[]; stopJob: string[] };
}

/** One difference: a step's status code, a field path missing / extra / of another type, or a transition. */
export interface Difference {
  step: string;
  kind: 'status' | 'missing' | 'extra' | 'type' | 'transition' | 'metric';
  path?: string;
  real?: string;
  emulator?: string;
}

/** An allow-listed difference (emulator-diff.allowlist.json): what, on which versions, and why it stays. */
export interface AllowEntry {
  step: string;
  kind: Difference['kind'];
  /** Field path; a trailing ".*" matches the path and everything below it. */
  path?: string;
  /** Flink version prefixes ("1.20", "2."); all when absent. */
  versions?: string[];
  reason: string;
}

/** The emulator profile for a real Flink version: the same line when the emulator has it, else the newest older one. */
export function emulatorLineFor(version: string): EmulatorVersion {
  const [maj, min] = version.split('.').map(Number);
  const lines = [...EMULATOR_VERSIONS].filter((l) => {
    const [a, b] = l.split('.').map(Number);
    return a < maj || (a === maj && b <= min);
  });
  return lines[lines.length - 1];
}

/**
 * Metrics flink-elastic reads (collector, scaler, targets): a real metric list offering one (plain or operator-scoped,
 * "<operator>.pendingRecords") that the emulator's list lacks is a difference, though both lists have the same shape.
 */
export const METRICS_READ = ['busyTimeMsPerSecond', 'backPressuredTimeMsPerSecond', 'idleTimeMsPerSecond', 'numRecordsInPerSecond', 'numRecordsOutPerSecond', 'pendingRecords', 'Status.JVM.CPU.Load'];

const ID_KEY = /^([0-9a-f]{32}|[0-9]+)$/;

/**
 * Map-like objects whose keys are data, not field names: their keys collapse to "<key>". Paths as produced by
 * `shapeOf` (array elements as "[]").
 */
const MAP_PATHS = [/^\.execution-config\.user-config$/, /^\.latest\.\w+\.tasks$/, /^\.history\[\]\.tasks$/, /^$/];
const MAP_ROOT_STEPS = new Set(['resource requirements', 'resource requirements put']);

/** Field path → JSON types seen there (array elements merged under "[]"). */
export function shapeOf(v: unknown, step = '', path = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const type = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  if (!out.has(path)) out.set(path, new Set());
  out.get(path)!.add(type);
  if (Array.isArray(v)) for (const x of v) shapeOf(x, step, `${path}[]`, out);
  else if (v && typeof v === 'object') {
    const isMap = MAP_PATHS.some((re) => re.test(path) && (path !== '' || MAP_ROOT_STEPS.has(step)));
    for (const [k, x] of Object.entries(v)) shapeOf(x, step, `${path}.${isMap || ID_KEY.test(k) ? '<key>' : k}`, out);
  }
  return out;
}

const typesOf = (s: Set<string> | undefined) => [...(s ?? [])].sort().join('|');

/** Real's observed states must appear, in order, in the emulator's (real time may skip a short state, virtual may not). */
function isSubsequence(sub: string[], seq: string[]): boolean {
  let i = 0;
  for (const s of seq) if (s === sub[i]) i++;
  return i === sub.length;
}

export function diffRuns(real: Run, emu: Run): Difference[] {
  const out: Difference[] = [];
  const byStep = (r: Run) => new Map(r.exchanges.map((x) => [x.step, x]));
  const es = byStep(emu);
  for (const [step, rx] of byStep(real)) {
    const ex = es.get(step);
    if (!ex) {
      out.push({ step, kind: 'status', real: String(rx.status), emulator: 'not sent' });
      continue;
    }
    if (rx.status !== ex.status) out.push({ step, kind: 'status', real: String(rx.status), emulator: String(ex.status) });
    const rs = shapeOf(rx.body, step);
    const xs = shapeOf(ex.body, step);
    for (const [p, t] of rs) {
      if (!xs.has(p)) out.push({ step, kind: 'missing', path: p, real: typesOf(t) });
      else if (typesOf(t) !== typesOf(xs.get(p))) out.push({ step, kind: 'type', path: p, real: typesOf(t), emulator: typesOf(xs.get(p)) });
    }
    for (const [p, t] of xs) if (!rs.has(p)) out.push({ step, kind: 'extra', path: p, emulator: typesOf(t) });
    if (step.endsWith('metrics list') && Array.isArray(rx.body) && Array.isArray(ex.body)) {
      const has = (body: unknown[], name: string) => body.some((m) => { const id = (m as { id?: string }).id ?? ''; return id === name || id.endsWith(`.${name}`); });
      for (const name of METRICS_READ) if (has(rx.body, name) && !has(ex.body, name)) out.push({ step, kind: 'metric', path: name, real: 'listed', emulator: 'not listed' });
    }
  }
  for (const [k, seq] of Object.entries(real.transitions) as [keyof Run['transitions'], string[]][]) {
    const e = emu.transitions[k];
    if (seq[seq.length - 1] !== e[e.length - 1] || !isSubsequence(seq, e)) out.push({ step: `transition ${k}`, kind: 'transition', real: seq.join(' → '), emulator: e.join(' → ') });
  }
  // keep only the outermost of nested missing/extra paths (a missing object's fields say nothing new)
  return out.filter(
    (d) => !((d.kind === 'missing' || d.kind === 'extra') && out.some((o) => o !== d && o.kind === d.kind && o.step === d.step && o.path !== undefined && d.path!.startsWith(`${o.path}.`) || (o !== d && o.kind === d.kind && o.step === d.step && o.path !== undefined && d.path!.startsWith(`${o.path}[]`)))),
  );
}

export function matches(a: AllowEntry, d: Difference, version: string): boolean {
  if (a.versions && !a.versions.some((v) => version.startsWith(v))) return false;
  if (a.step !== d.step && !(a.step.endsWith('*') && d.step.startsWith(a.step.slice(0, -1)))) return false;
  if (a.kind !== d.kind) return false;
  if (a.path === undefined) return true;
  if (a.path.endsWith('.*')) return d.path === a.path.slice(0, -2) || !!d.path?.startsWith(a.path.slice(0, -2));
  return a.path === d.path;
}

export function compareRuns(version: string, real: Run, emu: Run, allow: AllowEntry[]): { unexpected: Difference[]; allowed: Difference[]; stale: AllowEntry[] } {
  const diffs = diffRuns(real, emu);
  const unexpected = diffs.filter((d) => !allow.some((a) => matches(a, d, version)));
  const allowed = diffs.filter((d) => allow.some((a) => matches(a, d, version)));
  const stale = allow.filter((a) => (!a.versions || a.versions.some((v) => version.startsWith(v))) && !diffs.some((d) => matches(a, d, version)));
  return { unexpected, allowed, stale };
}
