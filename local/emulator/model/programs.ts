/**
 * Programs (what a jar's entry class builds: source → keyed operator → sink) and the jars that carry them.
 */
import type { ModelState } from './state';
import { DEFAULT_ENTRY_CLASS, Jar, Program, ProgramSpec } from './types';

/** TaskManager CPU with nothing to do (JVM, heartbeats, metrics), as a fraction of the TaskManager. */
export const JVM_BASELINE_LOAD = 0.02;
/** Cores a busy keyed-operator subtask uses: its thread is CPU-bound, so a saturated one uses a full core. */
export const KEYED_CPU_PER_BUSY_SECOND = 1;
/** Cores a busy source or sink subtask uses: about half of its busy time is spent in network I/O. */
export const SOURCE_SINK_CPU_PER_BUSY_SECOND = 0.5;

function completeProgram(p: ProgramSpec): Program {
  if (!p.entryClass) throw new Error('program: entryClass is required');
  if (!p.jobName) throw new Error('program: jobName is required');
  const mp = p.maxParallelism ?? 128;
  if (!Number.isInteger(mp) || mp < 1 || mp > 32768) throw new Error(`program ${p.entryClass}: maxParallelism must be an integer from 1 to 32768, got ${mp}`);
  const prog: Program = {
    entryClass: p.entryClass,
    jobName: p.jobName,
    stream: p.stream,
    maxParallelism: mp,
    sourceName: p.sourceName ?? 'Source: Kafka Source -> Map',
    operatorName: p.operatorName ?? 'KeyedProcess',
    sinkName: p.sinkName ?? 'Sink: Kafka Sink',
    sourceCapacityPerSubtask: p.sourceCapacityPerSubtask ?? 20_000,
    operatorCapacityPerSubtask: p.operatorCapacityPerSubtask ?? 1000,
    sinkCapacityPerSubtask: p.sinkCapacityPerSubtask ?? 20_000,
    initialStateBytes: p.initialStateBytes ?? 50_000_000,
    stateBytesPerRecord: p.stateBytesPerRecord ?? 0,
    maxStateBytes: p.maxStateBytes ?? 10_000_000_000,
    checkpointIntervalMs: p.checkpointIntervalMs === undefined ? 30_000 : p.checkpointIntervalMs,
    startFrom: p.startFrom ?? 'latest',
    legacySource: p.legacySource ?? false,
    vertexParallelism: { ...(p.vertexParallelism ?? {}) },
  };
  for (const k of ['sourceCapacityPerSubtask', 'operatorCapacityPerSubtask', 'sinkCapacityPerSubtask'] as const) {
    if (!(prog[k] > 0) || !Number.isFinite(prog[k])) throw new Error(`program ${p.entryClass}: ${k} must be a number > 0`);
  }
  return prog;
}

export class Programs {
  private readonly programs = new Map<string, Program>();
  private readonly jarPrograms = new Map<string, string[]>();

  constructor(private readonly s: ModelState) {}

  defineProgram(spec: ProgramSpec): void {
    this.programs.set(spec.entryClass, completeProgram(spec));
  }

  program(entryClass: string): ProgramSpec | undefined {
    return this.programs.get(entryClass);
  }

  /**
   * Stores an uploaded jar as `<uuid>_<name>` (endpoints.md §6.2). A jar whose content is a JSON ProgramSpec (or
   * an array of them) defines those programs; any other content runs the default program.
   */
  uploadJar(fileName: string, content: Uint8Array = new Uint8Array(), opts: { id?: string } = {}): Jar {
    let entryClasses = [DEFAULT_ENTRY_CLASS];
    const text = Buffer.from(content).toString('utf8').trim();
    if (text.startsWith('{') || text.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        const specs = (Array.isArray(parsed) ? parsed : [parsed]) as ProgramSpec[];
        for (const s of specs) this.defineProgram(s);
        entryClasses = specs.map((s) => s.entryClass);
      }
    }
    const uuid = this.s.nextId('jar');
    // `opts.id`: a jar that is already on the cluster under a known id (a config's submit.jarId), not an upload.
    const id = opts.id ?? `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20, 32)}_${fileName}`;
    if (this.s.jars.some((j) => j.id === id)) throw new Error(`uploadJar: a jar with id ${id} already exists`);
    const jar: Jar = { id, name: fileName, uploaded: this.s.clock.now(), entryClasses, size: content.length };
    this.s.jars.push(jar);
    this.jarPrograms.set(id, entryClasses);
    this.s.log(`jar ${id} uploaded (${entryClasses.join(', ')})`);
    return jar;
  }

  /** The program an entry class of this jar runs; undefined when the jar has no such class. */
  inJar(jarId: string, entryClass: string): Program | undefined {
    return this.jarPrograms.get(jarId)!.includes(entryClass) ? this.programs.get(entryClass) : undefined;
  }
}

/** `--name value` and `--name=value` program arguments. */
export function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) continue;
    if (m[2] !== undefined) out[m[1]] = m[2];
    else if (i + 1 < args.length) out[m[1]] = args[++i];
  }
  return out;
}
