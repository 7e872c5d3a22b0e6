/**
 * Step `validate`: checks the execution input against the job's config and the live cluster, and turns it into a
 * `Plan` (from/to parallelism and TaskManagers, per-vertex targets, idempotency ids, wait bounds). Reads only, but
 * for uploading the job's jar when the JobManager lacks it (resolveJar); any problem is an `InvalidInput` naming the
 * field and the allowed range, and nothing about the job has been changed.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { JOB_MODES, JOB_NAME_PATTERN, JobConfig, JobMode } from '../core/config';
import {
  EXECUTION_TIMEOUT_SECONDS,
  RUNNING_TIMEOUT_MIN_SECONDS,
  SLOTS_TIMEOUT_SECONDS,
  STEP_TIMEOUT_SECONDS,
  STOP_PENDING_RETRY_INTERVAL_SECONDS,
  WAIT_SECONDS,
  WATCHDOG_TIMEOUT_SECONDS,
} from '../core/rescale-timing';
import type { FlinkApi, JobDetails } from '../adapters/flink/types';
import { jarFileName } from '../core/jar-location';
import type { WorkflowDeps } from './deps';
import { InvalidInputError, PreconditionError } from './errors';
import type { Direction, ExecutionRef, Plan, RescaleInput, VertexPlan } from './types';

const CHANGE_PATTERN = /^(?:[+-]\d{1,5}|x(?:\d{1,3})(?:\.\d{1,3})?)$/;
const TM_CHANGE_PATTERN = /^[+-]\d{1,5}$/;
const TM_ERROR = 'must be a TaskManager count (integer 0 to 100000) or a relative change like "+2" or "-1"';
const ALLOWED_FIELDS = 'job, parallelism, change, taskManagers, mode, stopWithSavepoint, reason, dryRun, startedBy, respectCooldown, drainTimeoutSeconds, drainTaskManager';

export const RescaleInputSchema = z.strictObject(
  {
    job: z.string({ error: 'must be a configured job name' }).regex(JOB_NAME_PATTERN, { error: 'must be a configured job name (lower-case letters, digits, -)' }),
    parallelism: z
      .number({ error: 'must be an integer ≥ 1' })
      .int({ error: 'must be an integer ≥ 1' })
      .min(1, { error: 'must be an integer ≥ 1' })
      .max(32768, { error: 'must be an integer ≤ 32768' })
      .optional(),
    change: z
      .string({ error: 'must be a relative change like "+2", "-1" or "x1.5"' })
      .regex(CHANGE_PATTERN, { error: 'must be a relative change like "+2", "-1" or "x1.5"' })
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

/** Parses the execution input. Throws InvalidInputError listing every problem with its field. */
/**
 * The rescale lock's TTL, renewed by every heartbeat. The lock used to be taken once for the whole execution (TTL
 * capped at EXECUTION_TIMEOUT_SECONDS, without the stop-pending retries of Abort/Rollback, so a long recovery could
 * outlive it while still acting). Now every step invocation from Lock to Rollback renews it (steps.ts `fence`: the
 * Check steps at their start, the acting steps just before they act, recovery at its start and before each action),
 * so the TTL must only cover the longest legitimate time between two heartbeats, and the watchdog's reach:
 *  - between heartbeats: the rest of one invocation (the task timeout, STEP_TIMEOUT_SECONDS + 10), then the longest
 *    pause before the next invocation (a Wait state, a retry's capped backoff of 30 s, the stop-pending retry
 *    interval), then the next invocation's reads before its fence (again at most a task timeout): ~230 s;
 *  - the watchdog (an execution stopped or timed out mid-rescale) finds the lock still the execution's: it looks
 *    IN_FLIGHT_GRACE_SECONDS (step timeout + 30 s) after the stop, and Lambda delivers it up to 3 times (300 s each,
 *    1 and 2 min apart): 1,200 s. This is the larger, so the TTL; an execution that died outright blocks the job's
 *    rescales for at most this long (it used to be hours).
 * A lock kept on purpose (stop-with-savepoint pending, a job that needs a person) is extended separately
 * (finish.ts KEPT_LOCK_SECONDS).
 */
const HEARTBEAT_GAP_SECONDS = 2 * (STEP_TIMEOUT_SECONDS + 10) + Math.max(...Object.values(WAIT_SECONDS), 30, STOP_PENDING_RETRY_INTERVAL_SECONDS);
const WATCHDOG_REACH_SECONDS = STEP_TIMEOUT_SECONDS + 30 + 3 * WATCHDOG_TIMEOUT_SECONDS + 60 + 120;
export const LOCK_TTL_SECONDS = Math.min(EXECUTION_TIMEOUT_SECONDS, Math.max(HEARTBEAT_GAP_SECONDS, WATCHDOG_REACH_SECONDS));

export function parseRescaleInput(input: unknown): RescaleInput {
  const r = RescaleInputSchema.safeParse(input);
  const problems = r.success
    ? []
    : r.error.issues.map((i) => ({ field: i.path.length ? i.path.join('.') : i.code === 'unrecognized_keys' ? '(input)' : '(input)', message: i.message }));
  const raw = (input ?? {}) as Record<string, unknown>;
  if (r.success || typeof raw === 'object') {
    const given = [raw.parallelism, raw.change, raw.taskManagers].filter((v) => v !== undefined).length;
    if (given !== 1) {
      problems.push({
        field: 'parallelism',
        message: 'give exactly one of "parallelism" (absolute, e.g. 8), "change" (relative, e.g. "+2", "x1.5") or "taskManagers" (e.g. 4, "+2", "-1")',
      });
    }
    if (raw.drainTaskManager !== undefined && raw.taskManagers !== '-1') {
      problems.push({ field: 'drainTaskManager', message: 'only with "taskManagers": "-1" (draining one named TaskManager removes exactly one)' });
    }
  }
  if (problems.length) throw new InvalidInputError(problems, typeof raw.job === 'string' ? raw.job : undefined);
  return r.data as RescaleInput;
}

/** A 32-hex id derived from the execution, stable across retries and duplicate deliveries. */
export function derivedId(purpose: string, executionId: string): string {
  return createHash('sha256').update(`${purpose}:${executionId}`).digest('hex').slice(0, 32);
}

/** Job-level parallelism: the highest vertex parallelism (slots needed with the default slot sharing group). */
export function jobParallelism(details: JobDetails): number {
  return details.vertices.reduce((m, v) => Math.max(m, v.parallelism), 0);
}

function resolveTarget(input: RescaleInput, current: number): { value: number; field: 'parallelism' | 'change' | 'taskManagers' } {
  if (input.parallelism !== undefined) return { value: input.parallelism, field: 'parallelism' };
  if (input.taskManagers !== undefined) return { value: current, field: 'taskManagers' };
  const c = input.change!;
  if (c.startsWith('x')) return { value: Math.round(current * Number(c.slice(1))), field: 'change' };
  return { value: current + Number(c), field: 'change' };
}

export function planVertices(details: JobDetails, job: JobConfig, fromP: number, toP: number, mode: JobMode): VertexPlan[] {
  return details.vertices.map((v) => {
    const pinned = job.policy.pinnedVertices[v.name];
    const maxP = v.maxParallelism > 0 ? v.maxParallelism : Number.MAX_SAFE_INTEGER;
    if (pinned !== undefined && mode === 'adaptive') {
      return { id: v.id, name: v.name, from: v.parallelism, to: Math.min(pinned, maxP), maxParallelism: v.maxParallelism, rule: 'pinned' };
    }
    if (pinned !== undefined || v.parallelism !== fromP) {
      // Fixed in the job's code (operator-level parallelism) or pinned: resubmission and reactive mode keep it.
      return { id: v.id, name: v.name, from: v.parallelism, to: v.parallelism, maxParallelism: v.maxParallelism, rule: pinned !== undefined ? 'pinned' : 'fixed' };
    }
    return { id: v.id, name: v.name, from: v.parallelism, to: Math.min(toP, maxP), maxParallelism: v.maxParallelism, rule: 'job' };
  });
}

/**
 * The id of the job's jar on the JobManager: `submit.jarId`, else the newest uploaded jar named like `submit.jarPath`.
 * When the JobManager has no jar of that name (a session cluster that restarted lost its uploads) and `upload` is
 * set, the jar is read from `submit.jarPath` (local path or s3://) and uploaded with POST /jars/upload: the one
 * change this may make, before anything touches the job. Without `upload` (dry run), undefined.
 */
export async function resolveJar(deps: Pick<WorkflowDeps, 'jars'>, flink: FlinkApi, job: JobConfig, upload: boolean): Promise<string | undefined> {
  const submit = job.submit;
  if (!submit) return undefined;
  if (submit.jarId) return submit.jarId;
  if (!submit.jarPath) return undefined;
  const name = jarFileName(submit.jarPath);
  const jars = await flink.jars();
  const match = jars.filter((j) => j.name === name || j.id.endsWith(`_${name}`)).sort((a, b) => b.uploaded - a.uploaded)[0];
  if (match) return match.id;
  if (!upload) return undefined;
  const where = `job "${job.name}": no uploaded jar named "${name}" on the job's flink.url, and it could not be uploaded from submit.jarPath ${submit.jarPath}`;
  if (!name.endsWith('.jar')) throw new PreconditionError(`${where}: POST /jars/upload takes only files ending in .jar — the job was not touched`);
  if (!deps.jars) throw new PreconditionError(`${where}: no jar source is configured here — the job was not touched`);
  let content: Uint8Array;
  try {
    content = await deps.jars.read(submit.jarPath);
  } catch (e) {
    throw new PreconditionError(`${where}: ${(e as Error).message} — the job was not touched`);
  }
  const { jarId } = await flink.uploadJar(name, content);
  return jarId;
}

export async function validateStep(deps: WorkflowDeps, rawInput: unknown, execution: ExecutionRef): Promise<Plan> {
  const input = parseRescaleInput(rawInput);
  const job = deps.config.jobs.find((j) => j.name === input.job);
  if (!job) {
    throw new InvalidInputError([{ field: 'job', message: `no job named "${input.job}"; configured jobs: ${deps.config.jobs.map((j) => j.name).join(', ')}` }]);
  }
  if (!job.enabled) {
    throw new InvalidInputError([{ field: 'job', message: `job "${job.name}" has enabled: false in the config; enable it to let flink-elastic rescale it` }], job.name);
  }
  const mode: JobMode = input.mode ?? job.mode;
  const problems: { field: string; message: string }[] = [];

  const flink = await deps.flink(job);
  const version = await flink.version();
  if (mode === 'adaptive' && !version.features.resourceRequirements) {
    problems.push({ field: 'mode', message: `"adaptive" needs Flink ≥ 1.18 (the cluster runs ${version.version}); use "savepoint"` });
  }
  const operatorOwnsJob = job.target.kind === 'flink-deployment' && job.target.operatorOwnsJob;
  if (mode === 'savepoint' && (!job.savepoint || operatorOwnsJob || !job.submit)) {
    problems.push({
      field: 'mode',
      message: operatorOwnsJob
        ? `"savepoint" is not available for job "${job.name}": the Flink operator owns the job (target.operatorOwnsJob)`
        : `"savepoint" needs savepoint.directory and submit.jarId/jarPath in the config of job "${job.name}"`,
    });
  }
  const stop = input.stopWithSavepoint ?? job.savepoint?.stopWithSavepoint ?? false;
  if (input.stopWithSavepoint !== undefined && mode !== 'savepoint') {
    problems.push({ field: 'stopWithSavepoint', message: `only applies to mode "savepoint" (this request uses "${mode}")` });
  }
  if (problems.length) throw new InvalidInputError(problems, job.name);

  const flinkJobName = job.flink.jobName ?? job.name;
  const summary = await flink.findJobByName(flinkJobName);
  if (!summary) throw new PreconditionError(`job "${job.name}": no running Flink job named "${flinkJobName}" on the job's flink.url; nothing to rescale`);
  const details = await flink.job(summary.id);
  if (details.state !== 'RUNNING') {
    throw new PreconditionError(`job "${job.name}": Flink job ${summary.id} is ${details.state}, not RUNNING; rescale only a running job`);
  }
  const fromP = jobParallelism(details);
  const b = job.bounds;
  const maxByKeys = Math.min(b.maxParallelism, details.maxParallelism > 0 ? details.maxParallelism : b.maxParallelism);

  const [overview, tms, capacity] = await Promise.all([flink.overview(), flink.taskManagers(), deps.target(job)]);
  const description = await capacity.describe(tms);
  const fromTMs = description.desired;
  const otherJobsSlots = Math.max(0, overview.slotsTotal - overview.slotsAvailable - fromP);
  const slotsPerTm = job.slotsPerTaskManager;

  let drainMember: string | undefined;
  if (input.drainTaskManager !== undefined) {
    const m = description.members.find((x) => x.id === input.drainTaskManager || x.taskManagerId === input.drainTaskManager);
    if (mode === 'reactive') {
      throw new InvalidInputError([{ field: 'drainTaskManager', message: 'not available in mode "reactive" (the capacity target removes members itself); use mode "savepoint" or "adaptive"' }], job.name);
    }
    if (!m) {
      const known = description.members.map((x) => (x.taskManagerId ? `${x.id} (TaskManager ${x.taskManagerId})` : x.id));
      throw new InvalidInputError(
        [{ field: 'drainTaskManager', message: `"${input.drainTaskManager}" is not a member of ${description.kind} ${description.name}; members: ${known.join(', ') || 'none'}` }],
        job.name,
      );
    }
    drainMember = m.id;
  }

  const target = resolveTarget(input, fromP);
  if (input.taskManagers !== undefined) {
    const tmReq = input.taskManagers;
    const wantTMs = typeof tmReq === 'number' ? tmReq : fromTMs + Number(tmReq);
    const got = typeof tmReq === 'number' ? `got ${tmReq}` : `"${tmReq}" gives ${wantTMs} from the current ${fromTMs}`;
    if (wantTMs < b.minTaskManagers || wantTMs > b.maxTaskManagers) {
      throw new InvalidInputError(
        [{ field: 'taskManagers', message: `must give a TaskManager count from ${b.minTaskManagers} to ${b.maxTaskManagers} (bounds of job "${job.name}"); ${got}` }],
        job.name,
      );
    }
    const p = wantTMs * slotsPerTm - otherJobsSlots;
    if (p < b.minParallelism || p > maxByKeys) {
      const lo = Math.max(b.minTaskManagers, Math.ceil((b.minParallelism + otherJobsSlots) / slotsPerTm));
      const hi = Math.min(b.maxTaskManagers, Math.floor((maxByKeys + otherJobsSlots) / slotsPerTm));
      const why = maxByKeys < b.maxParallelism ? ` (capped by the job's maxParallelism ${details.maxParallelism})` : '';
      throw new InvalidInputError(
        [{
          field: 'taskManagers',
          message:
            `${wantTMs} TaskManagers × ${slotsPerTm} slots${otherJobsSlots ? ` − ${otherJobsSlots} slots used by other jobs` : ''} = parallelism ${p}, ` +
            `outside ${b.minParallelism} to ${maxByKeys} (bounds of job "${job.name}"${why}); ` +
            (lo <= hi ? `allowed: ${lo} to ${hi} TaskManagers` : 'no TaskManager count fits these bounds') + `; ${got}`,
        }],
        job.name,
      );
    }
    target.value = p;
  }
  if (target.value < b.minParallelism || target.value > maxByKeys) {
    const got = target.field === 'change' ? `"${input.change}" gives ${target.value} from the current ${fromP}` : `got ${target.value}`;
    const why = maxByKeys < b.maxParallelism ? ` (capped by the job's maxParallelism ${details.maxParallelism})` : '';
    throw new InvalidInputError(
      [{ field: target.field, message: `must give a parallelism from ${b.minParallelism} to ${maxByKeys} (bounds of job "${job.name}"${why}); ${got}` }],
      job.name,
    );
  }

  let toP = target.value;
  let toTMs: number;
  if (mode === 'reactive') {
    // Reactive mode: the job takes every slot; capacity is the only knob.
    toTMs = Math.ceil((toP + otherJobsSlots) / slotsPerTm);
    toP = Math.min(toTMs * slotsPerTm - otherJobsSlots, maxByKeys);
  } else {
    toTMs = Math.ceil((toP + otherJobsSlots) / slotsPerTm);
  }
  if (toTMs > b.maxTaskManagers) {
    throw new InvalidInputError(
      [{
        field: target.field,
        message: `parallelism ${target.value} needs ${toTMs} TaskManagers (${slotsPerTm} slots each${otherJobsSlots ? `, ${otherJobsSlots} slots used by other jobs` : ''}) but bounds.maxTaskManagers of job "${job.name}" is ${b.maxTaskManagers}; allowed up to ${b.maxTaskManagers * slotsPerTm - otherJobsSlots}`,
      }],
      job.name,
    );
  }
  toTMs = Math.max(toTMs, b.minTaskManagers);
  const direction: Direction = toP > fromP ? 'out' : toP < fromP ? 'in' : 'none';
  // Scale-out never removes members; scale-in keeps at least what the new parallelism needs.
  if (direction === 'out') toTMs = Math.max(toTMs, fromTMs);
  if (direction === 'none') toTMs = fromTMs;

  const dryRun = input.dryRun || job.dryRun;
  const jarId = mode === 'savepoint' && direction !== 'none' ? await resolveJar(deps, flink, job, !dryRun) : undefined;
  const vertices = planVertices(details, job, fromP, toP, mode);
  const slotsNeeded = vertices.reduce((m, v) => Math.max(m, v.to), 0);

  const savepointTimeout = job.savepoint?.timeoutSeconds ?? 900;
  const runningTimeout = Math.max(RUNNING_TIMEOUT_MIN_SECONDS, 5 * job.policy.restartSeconds);
  const timeouts = {
    slots: SLOTS_TIMEOUT_SECONDS,
    savepoint: savepointTimeout,
    running: runningTimeout,
    parallelism: runningTimeout,
    drain: input.drainTimeoutSeconds ?? job.drainTimeoutSeconds,
  };
  const lockTtlSeconds = LOCK_TTL_SECONDS;

  const now = deps.now();
  const route = dryRun ? 'dry-run' : direction === 'none' ? 'no-change' : 'lock';
  const modeText = mode === 'savepoint' ? (stop ? 'stop-with-savepoint' : 'savepoint') : mode;
  return {
    job: job.name,
    owner: execution.id,
    executionName: execution.name,
    mode,
    stopWithSavepoint: mode === 'savepoint' && stop,
    direction,
    route,
    dryRun: route === 'dry-run',
    respectCooldown: input.respectCooldown ?? false,
    reason: input.reason ?? (input.startedBy ? `requested by ${input.startedBy}` : 'manual execution'),
    startedBy: input.startedBy ?? 'manual',
    startedAt: now,
    flinkUrl: flink.baseUrl,
    flinkVersion: version.version,
    flinkJobName,
    from: { jobId: details.id, parallelism: fromP, taskManagers: fromTMs, slotsTotal: overview.slotsTotal, slotsAvailable: overview.slotsAvailable },
    to: { parallelism: toP, taskManagers: toTMs, slotsNeeded },
    vertices,
    otherJobsSlots,
    savepointTriggerId: derivedId('savepoint', execution.id),
    newJobId: derivedId('job', execution.id),
    rollbackJobId: derivedId('rollback', execution.id),
    savepointDirectory: job.savepoint?.directory,
    formatType: job.savepoint && version.features.formatType ? job.savepoint.formatType : undefined,
    jarId,
    timeouts,
    lockTtlSeconds,
    summary: `parallelism ${fromP} -> ${toP}, TaskManagers ${fromTMs} -> ${toTMs} (${modeText} mode)${drainMember ? `, draining ${drainMember}` : ''}`,
    ...(drainMember && direction === 'in' ? { drainMember } : {}),
  };
}
