/**
 * What the policy knows about one job at one moment (the snapshot) and what it carries between calls (the state).
 *
 * Pure: validates values that adapters (Flink REST, CloudWatch, the state store) or the CLI read elsewhere.
 * `schema/job-snapshot.schema.json` is generated from `JobSnapshotSchema` (`npm run schema`).
 * Missing signals are normal: every metric is optional and the policy says which ones it lacked.
 */
import * as z from 'zod';
import { ConfigError, int, jsonPath, nonEmpty, num, problemsFrom, strict, type ConfigProblem } from '../config';
import { ForecastProfileSchema } from './forecast';

const rate = (what: string) => num(0, Number.MAX_SAFE_INTEGER, 'a rate in records/s').optional().describe(what);

/** Epoch milliseconds between 2000-01-01 and 2100-01-01. */
const epochMs = (what: string) => int(946_684_800_000, 4_102_444_800_000, 'epoch milliseconds').describe(what);

export const VertexSnapshotSchema = strict({
  id: nonEmpty('a job vertex id').describe('Job vertex id (32 hex chars in Flink)'),
  name: nonEmpty('a vertex name').describe('Vertex name as Flink shows it; matched against policy.pinnedVertices'),
  parallelism: int(1, 32768).describe('Current parallelism of the vertex'),
  maxParallelism: int(1, 32768).describe('Max parallelism of the vertex = number of key groups'),
  inputRate: rate('numRecordsInPerSecond summed over subtasks (for sources: records read from the external system)'),
  outputRate: rate('numRecordsOutPerSecond summed over subtasks'),
  busyTimeMsPerSecond: num(0, 1000, 'milliseconds per second').optional().describe('busyTimeMsPerSecond, max over subtasks (0..1000)'),
  backpressureMsPerSecond: num(0, 1000, 'milliseconds per second').optional().describe('backPressuredTimeMsPerSecond, max over subtasks (0..1000)'),
  pendingRecords: num(0, Number.MAX_SAFE_INTEGER, 'a record count').optional().describe('Sources only: pendingRecords summed over subtasks (lag in records)'),
  keyedInput: z.boolean({ error: 'must be true or false' }).default(false).describe('At least one input edge is a hash (keyBy) exchange'),
  inputs: z.array(nonEmpty('a vertex id'), { error: 'must be an array of vertex ids' }).default([]).describe('Ids of upstream vertices; empty for sources'),
  sourcePartitions: int(1, 1_000_000).optional().describe('Sources only: partitions/shards read by this source, when known'),
  pinned: z.boolean({ error: 'must be true or false' }).default(false).describe('Parallelism is fixed (set in code); also pinned when named in policy.pinnedVertices'),
});
export type VertexSnapshot = z.infer<typeof VertexSnapshotSchema>;

export const ClusterSnapshotSchema = strict({
  taskManagers: int(0, 10_000).describe('Registered TaskManagers'),
  slotsPerTaskManager: int(1, 256).optional().describe('Slots per TaskManager; defaults to the job config'),
  slotsTotal: int(0, 2_560_000).describe('taskSlotsTotal from /overview'),
  slotsFree: int(0, 2_560_000).describe('taskSlotsAvailable from /overview'),
});

export const SignalsSchema = strict({
  lagRecords: num(0, Number.MAX_SAFE_INTEGER, 'a record count').optional().describe('Consumer lag in records (e.g. MSK SumOffsetLag)'),
  lagSeconds: num(0, 31_536_000, 'seconds').optional().describe('Consumer lag in seconds (e.g. MSK EstimatedMaxTimeLag, Kinesis iterator age)'),
  produceRate: rate('Records/s written to the source topic/stream (what the job must keep up with)'),
  consumeRate: rate('Records/s the job reads from the source topic/stream'),
  cpuPercent: num(0, 100, 'a percentage').optional().describe('TaskManager CPU utilization, average over the metric period'),
  alarms: strict({
    lagHigh: z.boolean({ error: 'must be true or false' }).optional(),
    lagLow: z.boolean({ error: 'must be true or false' }).optional(),
    cpuHigh: z.boolean({ error: 'must be true or false' }).optional(),
    cpuLow: z.boolean({ error: 'must be true or false' }).optional(),
  })
    .optional()
    .describe('CloudWatch alarm states at snapshot time (true = ALARM); an alarm is a sustained condition'),
});

export const DECISION_OUTCOMES = ['in-progress', 'succeeded', 'failed', 'rolled-back', 'dry-run', 'skipped'] as const;
export const ACTIONS = ['none', 'scale-out-capacity', 'rescale', 'scale-in-capacity'] as const;

export const PastDecisionSchema = strict({
  at: epochMs('When the decision was made'),
  action: z.enum(ACTIONS, { error: `must be one of: ${ACTIONS.map((a) => `"${a}"`).join(', ')}` }),
  fromParallelism: int(1, 32768).optional(),
  toParallelism: int(1, 32768).optional(),
  outcome: z.enum(DECISION_OUTCOMES, { error: `must be one of: ${DECISION_OUTCOMES.map((a) => `"${a}"`).join(', ')}` }),
});

export const HistorySchema = strict({
  lastRescaleAt: epochMs('When the last rescale (or capacity change) started').optional(),
  decisions: z.array(PastDecisionSchema, { error: 'must be an array' }).default([]).describe('Recent decisions, oldest first'),
  restartSeconds: z
    .array(num(0, 86_400, 'seconds'), { error: 'must be an array of seconds' })
    .default([])
    .describe('Observed restart durations of past rescales (decision to RUNNING), newest last'),
});

export const JobSnapshotSchema = strict({
  $schema: z.string().optional(),
  job: nonEmpty('a job name', 40).optional().describe('Name of the job in the config; selects the job when the config has several'),
  now: epochMs('Time of the snapshot: the policy has no clock of its own'),
  parallelism: int(1, 32768).optional().describe('Current job-level parallelism; defaults to the highest parallelism of the unpinned vertices'),
  vertices: z.array(VertexSnapshotSchema, { error: 'must be an array of vertices' }).min(1, { error: 'must list at least one vertex' }),
  cluster: ClusterSnapshotSchema,
  signals: SignalsSchema.default({}),
  history: HistorySchema.default({ decisions: [], restartSeconds: [] }),
  forecast: ForecastProfileSchema.optional().describe('Rule 10: the job\'s seasonal demand profile (policy.forecast), read from the state store and updated with this snapshot\'s demand'),
});
export type JobSnapshot = z.infer<typeof JobSnapshotSchema>;
export type JobSnapshotInput = z.input<typeof JobSnapshotSchema>;

/** One smoothed series (EWMA) plus the level-shift detector's pending run. */
export const SmoothedSchema = strict({
  value: num(-Number.MAX_VALUE, Number.MAX_VALUE),
  shiftDir: z.union([z.literal(1), z.literal(-1)]).optional(),
  shiftN: int(0, 1000).optional(),
  shiftSum: num(-Number.MAX_VALUE, Number.MAX_VALUE).optional(),
  shiftBase: num(-Number.MAX_VALUE, Number.MAX_VALUE).optional(),
});

export const PolicyStateSchema = strict({
  version: z.literal(1, { error: 'must be 1' }),
  smoothed: z.record(z.string(), SmoothedSchema).default({}),
  lastLag: z.record(z.string(), strict({ at: epochMs('when'), records: num(0, Number.MAX_SAFE_INTEGER) })).default({}),
  pendingScaleDown: strict({
    since: epochMs('When the scale-down was first wanted'),
    parallelism: int(1, 32768).describe('Highest parallelism wanted since then'),
    perVertex: z.record(z.string(), int(1, 32768)).optional(),
    taskManagers: int(0, 10_000),
    lowest: int(1, 32768).optional().describe('Lowest parallelism wanted since then'),
    lowestPerVertex: z.record(z.string(), int(1, 32768)).optional(),
    rebounded: z.boolean().optional().describe('The wanted value rose again by at least policy.minChangeFraction over its lowest'),
    inBand: z.boolean().optional().describe('A reading inside the band was kept in the window (so the window is no steady decline)'),
  }).optional(),
  pendingCapacityIn: strict({ since: epochMs('When surplus TaskManagers were first seen'), taskManagers: int(0, 10_000) }).optional(),
  lastScaleUp: strict({
    at: epochMs('When the scale-up was decided'),
    fromParallelism: int(1, 32768),
    toParallelism: int(1, 32768),
    rateBefore: num(0, Number.MAX_VALUE),
    expectedRate: num(0, Number.MAX_VALUE),
  }).optional(),
  catchUpGiveBack: strict({
    at: epochMs('When the scale-up that carried catch-up capacity was decided'),
    toParallelism: int(1, 32768).describe('The parallelism that scale-up went to'),
    level: int(1, 32768).describe('The parallelism its level needed without the catch-up rate'),
    perVertex: z.record(z.string(), int(1, 32768)).optional().describe('The same per vertex (adaptive mode)'),
  })
    .optional()
    .describe('A scale-up sized with catch-up capacity, given back once the backlog is worked off'),
  trend: z
    .record(
      z.string(),
      strict({
        at: epochMs('When the level was sampled'),
        level: num(-Number.MAX_VALUE, Number.MAX_VALUE),
        slope: num(-Number.MAX_VALUE, Number.MAX_VALUE).describe('Smoothed change of the level per second'),
        rises: int(0, 1_000_000).describe('Decisions in a row at which the level rose'),
        falls: int(0, 1_000_000).optional().describe('Decisions in a row at which the level fell'),
      }),
    )
    .optional()
    .describe('Demand trend per source (Holt: level + slope)'),
  cpuHighSince: epochMs('First call with CPU at or above cpu.highPercent').optional(),
  cpuLowSince: epochMs('First call with CPU at or below cpu.lowPercent').optional(),
  baseline: z.record(z.string(), num(-Number.MAX_VALUE, Number.MAX_VALUE)).optional().describe('Counters of the baseline policies'),
});
export type PolicyState = z.infer<typeof PolicyStateSchema>;

export function emptyState(): PolicyState {
  return { version: 1, smoothed: {}, lastLag: {} };
}

export class SnapshotError extends ConfigError {
  constructor(problems: ConfigProblem[], source = 'snapshot') {
    super(problems, source);
    this.name = 'SnapshotError';
  }
}

/** Rules across fields: unique ids, known and acyclic inputs, p ≤ maxParallelism, free ≤ total slots. */
function crossChecks(s: JobSnapshot): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const ids = new Map<string, number>();
  s.vertices.forEach((v, i) => {
    const prev = ids.get(v.id);
    if (prev !== undefined) out.push({ path: jsonPath(['vertices', i, 'id']), message: `duplicate vertex id (also vertices[${prev}].id)`, value: v.id });
    else ids.set(v.id, i);
    if (v.parallelism > v.maxParallelism) {
      out.push({ path: jsonPath(['vertices', i, 'parallelism']), message: `must be ≤ maxParallelism (${v.maxParallelism})`, value: v.parallelism });
    }
  });
  s.vertices.forEach((v, i) =>
    v.inputs.forEach((inp, j) => {
      if (inp === v.id) out.push({ path: jsonPath(['vertices', i, 'inputs', j]), message: 'a vertex cannot be its own input', value: inp });
      else if (!ids.has(inp)) out.push({ path: jsonPath(['vertices', i, 'inputs', j]), message: `unknown vertex id; known: ${[...ids.keys()].join(', ')}`, value: inp });
    }),
  );
  if (out.length === 0 && topoOrder(s.vertices) === undefined) {
    out.push({ path: 'vertices', message: 'inputs form a cycle; a Flink job graph is acyclic' });
  }
  if (s.cluster.slotsFree > s.cluster.slotsTotal) {
    out.push({ path: 'cluster.slotsFree', message: `must be ≤ cluster.slotsTotal (${s.cluster.slotsTotal})`, value: s.cluster.slotsFree });
  }
  s.history.decisions.forEach((d, i) => {
    if (d.at > s.now) out.push({ path: jsonPath(['history', 'decisions', i, 'at']), message: `must not be after now (${s.now})`, value: d.at });
  });
  if (s.history.lastRescaleAt !== undefined && s.history.lastRescaleAt > s.now) {
    out.push({ path: 'history.lastRescaleAt', message: `must not be after now (${s.now})`, value: s.history.lastRescaleAt });
  }
  return out;
}

/** Vertices in topological order (sources first), or undefined when the inputs form a cycle. */
export function topoOrder<V extends { id: string; inputs: readonly string[] }>(vertices: readonly V[]): V[] | undefined {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const indeg = new Map(vertices.map((v) => [v.id, v.inputs.filter((i) => byId.has(i)).length]));
  const down = new Map<string, string[]>(vertices.map((v) => [v.id, []]));
  for (const v of vertices) for (const i of v.inputs) down.get(i)?.push(v.id);
  const queue = vertices.filter((v) => indeg.get(v.id) === 0).map((v) => v.id);
  const out: V[] = [];
  while (queue.length > 0) {
    const id = queue.shift()!;
    out.push(byId.get(id)!);
    for (const d of down.get(id)!) {
      indeg.set(d, indeg.get(d)! - 1);
      if (indeg.get(d) === 0) queue.push(d);
    }
  }
  return out.length === vertices.length ? out : undefined;
}

/** Validates a snapshot; throws SnapshotError listing every problem with its JSON path and the allowed range. */
export function parseSnapshot(input: unknown, source = 'snapshot'): JobSnapshot {
  const r = JobSnapshotSchema.safeParse(input);
  if (!r.success) throw new SnapshotError(problemsFrom(r.error, input), source);
  const problems = crossChecks(r.data);
  if (problems.length > 0) throw new SnapshotError(problems, source);
  return r.data;
}

/** Validates a policy state read from a file or the state store. */
export function parsePolicyState(input: unknown, source = 'policy state'): PolicyState {
  const r = PolicyStateSchema.safeParse(input);
  if (!r.success) throw new SnapshotError(problemsFrom(r.error, input), source);
  return r.data;
}
