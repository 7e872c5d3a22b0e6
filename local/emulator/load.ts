/**
 * The emulator's load model: input rate over virtual time, per-subtask capacity, backlog, busy time and
 * backpressure. Pure arithmetic: `stepJobLoad` is called by the model for every clock step.
 *
 * Per step of dt seconds for a running job whose source reads stream S:
 *   S.produced      += rate(t) * dt                      (records arrive whether or not the job runs)
 *   capacity         = min over vertices (parallelism * capacityPerSubtask) * dt
 *   processed        = min(S.produced - offset, capacity)
 *   offset          += processed                          (backlog = S.produced - offset; nothing is ever lost)
 *   throughput r     = processed / dt
 *   utilisation(v)   = r / (parallelism(v) * capacityPerSubtask(v))      busy(v) = 1000 * utilisation(v) ms/s
 *   backpressure(v)  = 1000 - busy(v) when a downstream vertex is saturated (>= 99.9% busy), else 0
 *   idle(v)          = 1000 - busy(v) - backpressure(v)
 */

/** Input rate in records/s: a constant, a function of virtual ms since the emulator started, or a trace. */
export type RateSpec =
  | number
  | ((elapsedMs: number) => number)
  | {
      /** [elapsedMs, records/s] points, sorted by time. */
      points: [number, number][];
      /** "step" holds each value until the next point (default); "linear" interpolates. */
      interpolate?: 'step' | 'linear';
      /** Repeat the trace with this period (e.g. 86_400_000 for a daily pattern). */
      periodMs?: number;
    };

export function rateAt(spec: RateSpec, elapsedMs: number): number {
  let v: number;
  if (typeof spec === 'number') v = spec;
  else if (typeof spec === 'function') v = spec(elapsedMs);
  else {
    const pts = spec.points;
    if (pts.length === 0) return 0;
    const t = spec.periodMs ? ((elapsedMs % spec.periodMs) + spec.periodMs) % spec.periodMs : elapsedMs;
    if (t <= pts[0][0]) v = pts[0][1];
    else {
      let i = pts.length - 1;
      while (i > 0 && pts[i][0] > t) i--;
      if (i === pts.length - 1 || spec.interpolate !== 'linear') v = pts[i][1];
      else {
        const [t0, r0] = pts[i];
        const [t1, r1] = pts[i + 1];
        v = r0 + ((r1 - r0) * (t - t0)) / (t1 - t0);
      }
    }
  }
  if (!Number.isFinite(v) || v < 0) throw new Error(`input rate must be a finite number >= 0, got ${v} at ${elapsedMs} ms`);
  return v;
}

/** Validates a RateSpec eagerly so a bad trace fails where it is given, not deep inside advance(). */
export function checkRateSpec(spec: RateSpec, what: string): void {
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec) || spec < 0) throw new Error(`${what}: rate must be a finite number >= 0, got ${spec}`);
  } else if (typeof spec === 'object') {
    if (!Array.isArray(spec.points)) throw new Error(`${what}: points must be an array of [elapsedMs, recordsPerSecond]`);
    let prev = -Infinity;
    spec.points.forEach((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isFinite(x))) {
        throw new Error(`${what}: points[${i}] must be [elapsedMs, recordsPerSecond] numbers`);
      }
      if (p[0] < prev) throw new Error(`${what}: points[${i}] is earlier than points[${i - 1}]; points must be sorted by time`);
      if (p[1] < 0) throw new Error(`${what}: points[${i}] has a negative rate ${p[1]}`);
      prev = p[0];
    });
    if (spec.periodMs !== undefined && !(spec.periodMs > 0)) throw new Error(`${what}: periodMs must be > 0`);
  } else if (typeof spec !== 'function') throw new Error(`${what}: rate must be a number, a function or {points}`);
}

export interface VertexLoad {
  parallelism: number;
  capacityPerSubtask: number;
}

/** Per-vertex figures of one step, per subtask (all subtasks of a vertex are alike). */
export interface VertexSample {
  /** records/s per subtask */
  inPerSubtask: number;
  outPerSubtask: number;
  busyMsPerSecond: number;
  backPressuredMsPerSecond: number;
  idleMsPerSecond: number;
}

export interface StepResult {
  processed: number;
  throughput: number;
  samples: VertexSample[];
}

/**
 * One step for a chain of vertices (index 0 = source, last = sink). `available` = records waiting in the source
 * stream. Sources report task-level numRecordsIn 0 (no network input, endpoints.md §7.2); sinks emit nothing.
 */
export function stepJobLoad(vertices: VertexLoad[], available: number, dtMs: number): StepResult {
  const dt = dtMs / 1000;
  const capacity = Math.min(...vertices.map((v) => v.parallelism * v.capacityPerSubtask));
  const processed = Math.max(0, Math.min(available, capacity * dt));
  const throughput = dt > 0 ? processed / dt : 0;
  const util = vertices.map((v) => Math.min(1, throughput / (v.parallelism * v.capacityPerSubtask)));
  const saturated = util.map((u) => u >= 0.999);
  const samples = vertices.map((v, i) => {
    const busy = 1000 * util[i];
    const downstreamSaturated = saturated.slice(i + 1).some(Boolean);
    const bp = downstreamSaturated && !saturated[i] ? 1000 - busy : 0;
    const perSubtask = throughput / v.parallelism;
    return {
      inPerSubtask: i === 0 ? 0 : perSubtask,
      outPerSubtask: i === vertices.length - 1 ? 0 : perSubtask,
      busyMsPerSecond: busy,
      backPressuredMsPerSecond: bp,
      idleMsPerSecond: Math.max(0, 1000 - busy - bp),
    };
  });
  return { processed, throughput, samples };
}
