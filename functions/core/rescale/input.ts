/**
 * The rescale contract: the input of a rescale workflow execution, typed once. The scaler builds it from a decision,
 * people and schedules write it by hand (docs/workflow.md "Input"), the CLI and the local driver send it, and the
 * workflow's Validate step parses it (functions/workflow/validate.ts `parseRescaleInput`) before checking it against
 * the config and the live cluster. Pure: zod only.
 */
import * as z from 'zod';
import { JOB_MODES, JOB_NAME_PATTERN } from '../config';

/** Flink's upper bound of any parallelism (the default maximum parallelism's ceiling, 2^15). */
export const MAX_PARALLELISM = 32768;
/** A job graph with more vertices than this is not one flink-elastic rescales per vertex. */
export const MAX_VERTICES = 1000;
/** Keys that mean something to JavaScript objects (zod drops a "__proto__" key silently). */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const VERTEX_ERROR = `must be a parallelism, an integer from 1 to ${MAX_PARALLELISM}`;

const CHANGE_PATTERN = /^(?:[+-]\d{1,5}|x(?:\d{1,3})(?:\.\d{1,3})?)$/;
const TM_CHANGE_PATTERN = /^[+-]\d{1,5}$/;
const TM_ERROR = 'must be a TaskManager count (integer 0 to 100000) or a relative change like "+2" or "-1"';
const ALLOWED_FIELDS = 'job, parallelism, change, taskManagers, vertexParallelism, mode, stopWithSavepoint, reason, dryRun, startedBy, respectCooldown, drainTimeoutSeconds, drainTaskManager';

/**
 * Fields (docs/workflow.md "Input"): `job`; exactly one target — `parallelism` (absolute), `change` ("+2", "-1",
 * "x1.5"), `taskManagers` (a count, or "+2" / "-1" of the capacity target's desired count; capacity follows
 * parallelism, so it becomes TaskManagers × slotsPerTaskManager − slots used by other jobs) — or `vertexParallelism`
 * (vertex id or name → parallelism; alone, or with `parallelism` for the vertices it does not name: adaptive mode
 * applies it through the resource-requirements API, savepoint mode at the resubmission through
 * `pipeline.jobvertex-parallelism-overrides`, Flink ≥ 1.17; not in reactive mode, where Flink sets every vertex);
 * `mode`, `stopWithSavepoint` (savepoint mode); `reason`; `dryRun`; `startedBy` ("scaler: …", "schedule: …", a
 * person); `respectCooldown` (refuse within the job's cooldown after the last rescale: the scaler sets it, since its
 * policy decided outside the cooldown and a rescale finishing before this one locks makes the decision stale);
 * `drainTimeoutSeconds` (10..7200, overrides the job's); `drainTaskManager` (with taskManagers "-1": the TaskManager
 * or capacity member to remove — exactly it, never another).
 */
export const RescaleInputSchema = z.strictObject(
  {
    job: z.string({ error: 'must be a configured job name' }).regex(JOB_NAME_PATTERN, { error: 'must be a configured job name (lower-case letters, digits, -)' }),
    parallelism: z
      .number({ error: 'must be an integer ≥ 1' })
      .int({ error: 'must be an integer ≥ 1' })
      .min(1, { error: 'must be an integer ≥ 1' })
      .max(MAX_PARALLELISM, { error: `must be an integer ≤ ${MAX_PARALLELISM}` })
      .optional(),
    change: z
      .string({ error: 'must be a relative change like "+2", "-1" or "x1.5"' })
      .regex(CHANGE_PATTERN, { error: 'must be a relative change like "+2", "-1" or "x1.5"' })
      .optional(),
    vertexParallelism: z
      .record(
        z.string().min(1, { error: 'keys must be vertex ids or names' }).max(300, { error: 'keys must be at most 300 characters' }),
        z.number({ error: VERTEX_ERROR }).int({ error: VERTEX_ERROR }).min(1, { error: VERTEX_ERROR }).max(MAX_PARALLELISM, { error: VERTEX_ERROR }),
        { error: 'must be an object of vertex id (or name) → parallelism, like {"cbc357ccb763df2852fee8c4fc7d55f2": 4}' },
      )
      .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= MAX_VERTICES, { error: `must name 1 to ${MAX_VERTICES} vertices` })
      .optional(),
    mode: z.enum(JOB_MODES, { error: `must be one of: ${JOB_MODES.map((m) => `"${m}"`).join(', ')}` }).optional(),
    stopWithSavepoint: z.boolean({ error: 'must be true or false' }).optional(),
    reason: z.string({ error: 'must be a string' }).max(500, { error: 'must be at most 500 characters' }).optional(),
    dryRun: z.boolean({ error: 'must be true or false' }).optional(),
    startedBy: z.string({ error: 'must be a string' }).max(200, { error: 'must be at most 200 characters' }).optional(),
    respectCooldown: z.boolean({ error: 'must be true or false' }).optional(),
    taskManagers: z
      .union(
        [
          z.number({ error: TM_ERROR }).int({ error: TM_ERROR }).min(0, { error: TM_ERROR }).max(100_000, { error: TM_ERROR }),
          z.string({ error: TM_ERROR }).regex(TM_CHANGE_PATTERN, { error: TM_ERROR }),
        ],
        { error: TM_ERROR },
      )
      .optional(),
    drainTimeoutSeconds: z
      .number({ error: 'must be an integer from 10 to 7200 (seconds)' })
      .int({ error: 'must be an integer from 10 to 7200 (seconds)' })
      .min(10, { error: 'must be an integer from 10 to 7200 (seconds)' })
      .max(7200, { error: 'must be an integer from 10 to 7200 (seconds)' })
      .optional(),
    drainTaskManager: z
      .string({ error: 'must be a TaskManager id or capacity member id (instance id / pod name)' })
      .min(1, { error: 'must be a TaskManager id or capacity member id (instance id / pod name)' })
      .max(300, { error: 'must be at most 300 characters' })
      .optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field(s) ${iss.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${ALLOWED_FIELDS}`
        : 'must be a JSON object like {"job": "orders", "parallelism": 8}',
  },
);


/** The execution input, as the schema accepts it. */
export type RescaleInput = z.infer<typeof RescaleInputSchema>;

export interface InputProblem {
  field: string;
  message: string;
}

/**
 * Every problem of an execution input, cross-field ones included (exactly one target; drainTaskManager only with
 * taskManagers "-1"); `input` is the parsed value when there are none.
 */
export function rescaleInputProblems(raw: unknown): { input?: RescaleInput; problems: InputProblem[] } {
  const r = RescaleInputSchema.safeParse(raw);
  const problems: InputProblem[] = r.success ? [] : r.error.issues.map((i) => ({ field: i.path.length ? i.path.map(String).join('.') : '(input)', message: i.message }));
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const given = [o.parallelism, o.change, o.taskManagers].filter((v) => v !== undefined).length;
    if (given > 1 || (given === 0 && o.vertexParallelism === undefined)) {
      problems.push({
        field: 'parallelism',
        message:
          'give exactly one of "parallelism" (absolute, e.g. 8), "change" (relative, e.g. "+2", "x1.5") or "taskManagers" (e.g. 4, "+2", "-1"), ' +
          'or only "vertexParallelism" (per vertex; it may also come with "parallelism", which the vertices it does not name follow)',
      });
    }
    if (o.vertexParallelism !== undefined && (o.change !== undefined || o.taskManagers !== undefined)) {
      problems.push({ field: 'vertexParallelism', message: 'only alone or with "parallelism" (not with "change" or "taskManagers")' });
    }
    const vp = o.vertexParallelism;
    if (vp !== null && typeof vp === 'object') {
      for (const k of Object.keys(vp)) if (RESERVED_KEYS.has(k)) problems.push({ field: `vertexParallelism.${k}`, message: 'is not a vertex id or name' });
    }
    if (o.drainTaskManager !== undefined && o.taskManagers !== '-1') {
      problems.push({ field: 'drainTaskManager', message: 'only with "taskManagers": "-1" (draining one named TaskManager removes exactly one)' });
    }
  }
  return problems.length || !r.success ? { problems } : { input: r.data, problems };
}

/** The job-level parallelism an input asks for, when it says one: `parallelism`, else the widest named vertex. */
export function requestedParallelism(input: RescaleInput): number | undefined {
  if (input.parallelism !== undefined) return input.parallelism;
  const per = Object.values(input.vertexParallelism ?? {});
  return per.length ? Math.max(...per) : undefined;
}

/** One line for logs: "p 8", "per vertex a1b2…=1, work=3", "change +2", "TaskManagers 4". */
export function describeTarget(input: RescaleInput): string {
  const per = input.vertexParallelism ? `per vertex ${Object.entries(input.vertexParallelism).map(([k, p]) => `${k.length > 12 ? `${k.slice(0, 8)}…` : k}=${p}`).join(', ')}` : undefined;
  if (input.parallelism !== undefined) return per ? `p ${input.parallelism}, ${per}` : `p ${input.parallelism}`;
  if (per) return per;
  if (input.change !== undefined) return `change ${input.change}`;
  return `TaskManagers ${String(input.taskManagers)}`;
}
