/**
 * The shapes of the Flink REST answers FlinkRestClient reads (rest_v1_dispatcher.yml, endpoints.md), as zod schemas.
 * Every answer is checked before a field of it is used: a `null` body, a field that is not an array, a job id that
 * is missing, are refused with the endpoint and the field named, instead of surfacing as a bare TypeError or being
 * read as `"undefined"`, "no jobs" or "0 free slots". Fields flink-elastic does not read are left alone (extra fields
 * are allowed: Flink adds some in every release). Messages say what is allowed; `readResponse` adds the rest.
 */
import * as z from 'zod';
import { preview } from '../../core/preview';
import { jsonPath } from '../../core/config';
import { HEX32, JOB_STATES, MAX_PARALLELISM } from './wire';

const obj = <T extends z.ZodRawShape>(shape: T, what = 'an object') => z.looseObject(shape, { error: what });
const arr = <T extends z.ZodType>(item: T, what: string) => z.array(item, { error: what });
const str = (what = 'a string') => z.string({ error: what });
const nonEmpty = (what: string) => z.string({ error: what }).min(1, { error: what });
const count = (what = 'a non-negative integer') => z.number({ error: what }).int({ error: what }).min(0, { error: what });
const number = (what = 'a number') => z.number({ error: what });
/** A number, or a numeric string as Flink's metric values are; "NaN" and the like are read as absent by the client. */
const numberish = z.union([z.number(), z.string()], { error: 'a number or a numeric string' });

/**
 * A job's or a vertex's max parallelism (number of key groups), or a resource-requirements bound: an integer from 1
 * to 32768, or -1 ("not set"). Any number used to pass, so a timestamp in the field (1767225660000) was planned with
 * as the cap, and a bound of 0 read as a requirement (found by fuzzing).
 */
const PARALLELISM_OR_UNSET = z
  .number({ error: `-1 or an integer from 1 to ${MAX_PARALLELISM}` })
  .int({ error: `-1 or an integer from 1 to ${MAX_PARALLELISM}` })
  .refine((n) => n === -1 || (n >= 1 && n <= MAX_PARALLELISM), { error: `-1 or an integer from 1 to ${MAX_PARALLELISM}` });

export const JOB_ID = str('a job id (32 lower-case hex characters)').regex(HEX32, { error: 'a job id (32 lower-case hex characters)' });
const JOB_STATE = z.enum(JOB_STATES as [string, ...string[]], { error: `one of ${JOB_STATES.join(', ')}` });

export const ConfigResponse = obj({ 'flink-version': str('a "flink-version" string') });

export const OverviewResponse = obj({
  taskmanagers: count(),
  'slots-total': count(),
  'slots-available': count(),
  'jobs-running': count().optional(),
  'flink-version': str().optional(),
}).refine((o) => o['slots-available'] <= o['slots-total'], {
  // more free slots than slots read as room that is not there (found by fuzzing)
  error: 'at most slots-total',
  path: ['slots-available'],
});

/** One TaskManager. Slot counts are checked by the client itself: missing or malformed ones mean "unknown". */
const TaskManagerEntry = obj({
  id: nonEmpty('a TaskManager id (a non-empty string)'),
  path: str().optional(),
  slotsNumber: z.unknown().optional(),
  freeSlots: z.unknown().optional(),
  timeSinceLastHeartbeat: number().optional(),
  blocked: z.boolean({ error: 'true or false' }).optional(),
});
export const TaskManagersResponse = obj({ taskmanagers: arr(TaskManagerEntry, 'an array of TaskManagers') });
export const TaskManagerResponse = TaskManagerEntry.extend({
  allocatedSlots: arr(obj({ jobId: JOB_ID }), 'an array of allocated slots').optional(),
});

export const MetricsResponse = arr(obj({ id: nonEmpty('a metric id'), value: str().optional() }), 'an array of metrics');
export const AggregatedMetricsResponse = arr(
  obj({ id: nonEmpty('a metric id'), min: numberish.optional(), max: numberish.optional(), avg: numberish.optional(), sum: numberish.optional() }),
  'an array of metrics',
);
/** Configuration values are strings; a number or boolean is read as its text. Anything else (an array nested thousands
 * deep crashed String() with a RangeError; found by fuzzing) is refused. */
export const ConfigEntriesResponse = arr(
  obj({ key: nonEmpty('a configuration key'), value: z.union([z.string(), z.number(), z.boolean()], { error: 'a string (or a number or boolean)' }) }),
  'an array of {key, value} entries',
);

export const JobsOverviewResponse = obj({
  jobs: arr(
    obj({ jid: JOB_ID, name: str(), state: JOB_STATE, 'start-time': number().optional(), 'end-time': number().optional() }),
    'an array of job overviews',
  ),
});

export const JobDetailsResponse = obj({
  jid: JOB_ID,
  name: str(),
  state: JOB_STATE,
  'start-time': number().optional(),
  maxParallelism: PARALLELISM_OR_UNSET.optional(),
  now: number().optional(),
  timestamps: z.record(z.string(), z.unknown(), { error: 'an object of state → time' }).optional(),
  vertices: arr(
    obj({
      id: nonEmpty('a vertex id'),
      name: str().optional(),
      parallelism: z
        .number({ error: `an integer from 1 to ${MAX_PARALLELISM}` })
        .int({ error: `an integer from 1 to ${MAX_PARALLELISM}` })
        .min(1, { error: `an integer from 1 to ${MAX_PARALLELISM}` })
        .max(MAX_PARALLELISM, { error: `an integer from 1 to ${MAX_PARALLELISM}` }),
      maxParallelism: PARALLELISM_OR_UNSET.optional(),
      status: str().optional(),
      tasks: z.record(z.string(), z.unknown(), { error: 'an object of task counts' }).optional(),
    }),
    'an array of job vertices',
  ).min(1, { error: 'a non-empty array of job vertices (a Flink job has at least one)' }),
  plan: obj({
    nodes: arr(
      obj({ id: nonEmpty('a vertex id'), inputs: arr(obj({ id: nonEmpty('a vertex id'), ship_strategy: str().optional() }), 'an array of plan inputs').optional() }),
      'an array of plan nodes',
    ).optional(),
  }).optional(),
});

/** One vertex's subtasks and where each runs (GET /jobs/{id}/vertices/{vid}); `host` is gone in Flink 2.0 (`endpoint` has it). */
export const VertexDetailsResponse = obj({
  subtasks: arr(
    obj({ subtask: count().optional(), status: str().optional(), host: str().optional(), endpoint: str().optional(), 'taskmanager-id': str().optional() }),
    'an array of subtasks',
  ),
});

const CheckpointRef = obj({ id: number(), external_path: str().nullish(), latest_ack_timestamp: number().optional(), state_size: number().optional(), is_savepoint: z.boolean().optional() });
export const CheckpointsResponse = obj({
  counts: obj({ completed: count(), in_progress: count(), failed: count() }),
  latest: obj({ completed: CheckpointRef.nullish(), restored: CheckpointRef.nullish() }).nullish(),
});

export const TriggerResponse = obj({ 'request-id': nonEmpty('a trigger id (a non-empty string)') });
export const SavepointStatusResponse = obj({
  status: obj({ id: z.enum(['IN_PROGRESS', 'COMPLETED'], { error: 'one of IN_PROGRESS, COMPLETED' }) }),
  operation: obj({
    location: str().optional(),
    'failure-cause': obj({ class: str().optional(), 'stack-trace': str().optional() }).nullish(),
  }).nullish(),
});

export const JarsResponse = obj({
  files: arr(
    obj({ id: nonEmpty('a jar id'), name: str(), uploaded: number().optional(), entry: arr(obj({ name: str() }), 'an array of entry classes').nullish() }),
    'an array of jars',
  ),
});
export const UploadResponse = obj({ filename: nonEmpty('the stored file name (a non-empty string)') });
export const RunResponse = obj({ jobid: JOB_ID });
export const ResourceRequirementsResponse = z.record(
  z.string(),
  obj({
    parallelism: obj({ lowerBound: PARALLELISM_OR_UNSET, upperBound: PARALLELISM_OR_UNSET }).refine(
      (p) => p.lowerBound === -1 || p.upperBound === -1 || p.lowerBound <= p.upperBound,
      { error: 'bounds with lowerBound ≤ upperBound', path: ['lowerBound'] },
    ),
  }),
  { error: 'an object of vertex id → {parallelism}' },
);

/** What is wrong with one answer: one line per bad field (at most five), naming the endpoint. */
export function responseProblems(endpoint: string, error: z.ZodError, data: unknown): string[] {
  return error.issues.slice(0, 5).map((iss) => {
    const path = iss.path;
    let got: unknown = data;
    for (const k of path) got = got !== null && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[k] : undefined;
    const where = path.length === 0 ? 'response body' : `response field ${jsonPath(path)}`;
    return `${endpoint}: ${where} must be ${iss.message}, got ${got === undefined ? 'nothing' : preview(got)}`;
  });
}
