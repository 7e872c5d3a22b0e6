/**
 * Step `validate`: checks the execution input against the job's config and the live cluster, and turns it into a
 * `Plan` (from/to parallelism and TaskManagers, per-vertex targets, idempotency ids, wait bounds). Reads only, but
 * for uploading the job's jar when the JobManager lacks it (resolveJar); any problem is an `InvalidInput` naming the
 * field and the allowed range, and nothing about the job has been changed.
 */
import { createHash } from 'node:crypto';
import { JOB_NAME_PATTERN, type JobConfig, type JobMode } from '../core/config';
import { type RescaleInput, rescaleInputProblems } from '../core/rescale/input';
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
import type { Direction, ExecutionRef, Plan, VertexPlan } from './types';

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

/** Parses the execution input. Throws InvalidInputError listing every problem with its field. */
export function parseRescaleInput(input: unknown): RescaleInput {
  const r = rescaleInputProblems(input);
  if (!r.input) {
    const job = input !== null && typeof input === 'object' ? (input as { job?: unknown }).job : undefined;
    // the job is named only when it is a job name: a 100,000-character "job" was echoed whole (found by fuzzing)
    throw new InvalidInputError(r.problems, typeof job === 'string' && JOB_NAME_PATTERN.test(job) ? job : undefined);
  }
  return r.input;
}

/** A 32-hex id derived from the execution, stable across retries and duplicate deliveries. */
export function derivedId(purpose: string, executionId: string): string {
  return createHash('sha256').update(`${purpose}:${executionId}`).digest('hex').slice(0, 32);
}

/** Job-level parallelism: the highest vertex parallelism (slots needed with the default slot sharing group). */
export function jobParallelism(details: JobDetails): number {
  return details.vertices.reduce((m, v) => Math.max(m, v.parallelism), 0);
}

/** The same for a plan: the widest vertex's target. */
function jobLevel(vertices: VertexPlan[]): number {
  return vertices.reduce((m, v) => Math.max(m, v.to), 0);
}

function resolveTarget(input: RescaleInput, current: number, widest?: number): { value: number; field: 'parallelism' | 'change' | 'taskManagers' | 'vertexParallelism' } {
  // Per vertex, the job-level value is the widest vertex's (slots needed with one slot sharing group).
  if (widest !== undefined) return { value: widest, field: input.parallelism !== undefined ? 'parallelism' : 'vertexParallelism' };
  if (input.parallelism !== undefined) return { value: input.parallelism, field: 'parallelism' };
  if (input.taskManagers !== undefined) return { value: current, field: 'taskManagers' };
  const c = input.change!;
  if (c.startsWith('x')) return { value: Math.round(current * Number(c.slice(1))), field: 'change' };
  return { value: current + Number(c), field: 'change' };
}

/**
 * Each vertex's target. `toP` is the job-level target (undefined when the input names only `vertexParallelism`: the
 * vertices it does not name keep theirs); `perVertex` holds the input's resolved per-vertex targets (vertex id →
 * parallelism), already checked by `resolveVertexTargets`.
 */
export function planVertices(details: JobDetails, job: JobConfig, fromP: number, toP: number | undefined, mode: JobMode, perVertex?: Map<string, number>): VertexPlan[] {
  return details.vertices.map((v) => {
    const pinned = job.policy.pinnedVertices[v.name];
    const maxP = v.maxParallelism > 0 ? v.maxParallelism : Number.MAX_SAFE_INTEGER;
    const base = { id: v.id, name: v.name, from: v.parallelism, maxParallelism: v.maxParallelism };
    if (pinned !== undefined && mode === 'adaptive') return { ...base, to: Math.min(pinned, maxP), rule: 'pinned' };
    const named = perVertex?.get(v.id);
    if (named !== undefined) return { ...base, to: named, rule: 'vertex' };
    if (pinned !== undefined || v.parallelism !== fromP || toP === undefined) {
      // Fixed in the job's code (operator-level parallelism) or pinned: resubmission and reactive mode keep it; and a
      // vertex a per-vertex request does not name keeps its parallelism.
      return { ...base, to: v.parallelism, rule: pinned !== undefined ? 'pinned' : 'fixed' };
    }
    return { ...base, to: Math.min(toP, maxP), rule: 'job' };
  });
}

/**
 * The input's `vertexParallelism`, resolved against the running job: keys are vertex ids (as Flink and the policy
 * name them) or exact vertex names; values within 1 to the vertex's max parallelism and `bounds.maxParallelism`.
 * Pinned vertices keep their pinned value. Not in reactive mode (Flink sets every vertex from the slots); in
 * savepoint mode it needs Flink 1.17 to 1.20 (`pipeline.jobvertex-parallelism-overrides` at the resubmission).
 */
export function resolveVertexTargets(
  details: JobDetails,
  job: JobConfig,
  mode: JobMode,
  flinkVersion: { version: string; features: { parallelismOverrides: boolean } },
  requested: Record<string, number>,
): Map<string, number> {
  const problems: { field: string; message: string }[] = [];
  if (mode === 'reactive') {
    problems.push({ field: 'vertexParallelism', message: 'not available in mode "reactive" (Flink sets every vertex\'s parallelism from the slots); give "parallelism" or "taskManagers"' });
  } else if (mode === 'savepoint' && !flinkVersion.features.parallelismOverrides) {
    problems.push({ field: 'vertexParallelism', message: `in mode "savepoint" needs Flink 1.17 to 1.20 (pipeline.jobvertex-parallelism-overrides in a jar run; Flink 2.3.0 did not honour it; the cluster runs ${flinkVersion.version}); give "parallelism", or use mode "adaptive"` });
  }
  const list = details.vertices.map((v) => `${v.id} (${v.name})`).join(', ');
  const out = new Map<string, number>();
  for (const [key, p] of Object.entries(requested)) {
    const field = `vertexParallelism.${key}`;
    const byId = details.vertices.find((v) => v.id === key);
    const byName = byId ? [] : details.vertices.filter((v) => v.name === key);
    const v = byId ?? (byName.length === 1 ? byName[0] : undefined);
    if (!v) {
      problems.push({ field, message: byName.length > 1 ? `${byName.length} vertices are named "${key}"; use their ids: ${byName.map((x) => x.id).join(', ')}` : `no vertex with this id or name in Flink job ${details.id}; its vertices: ${list}` });
      continue;
    }
    if (out.has(v.id)) {
      problems.push({ field, message: `names vertex ${v.id} (${v.name}) a second time` });
      continue;
    }
    const maxP = Math.min(job.bounds.maxParallelism, v.maxParallelism > 0 ? v.maxParallelism : job.bounds.maxParallelism);
    const pinned = job.policy.pinnedVertices[v.name];
    if (pinned !== undefined && p !== pinned) {
      problems.push({ field, message: `vertex "${v.name}" is pinned at ${pinned} (policy.pinnedVertices of job "${job.name}"); got ${p}` });
    } else if (p > maxP) {
      problems.push({ field, message: `must be from 1 to ${maxP} (vertex "${v.name}"'s max parallelism ${v.maxParallelism > 0 ? v.maxParallelism : 'unset'}, bounds.maxParallelism ${job.bounds.maxParallelism}); got ${p}` });
    }
    out.set(v.id, p);
  }
  if (problems.length) throw new InvalidInputError(problems, job.name);
  return out;
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

  const vertexTargets = input.vertexParallelism ? resolveVertexTargets(details, job, mode, version, input.vertexParallelism) : undefined;
  const vertexPlan = vertexTargets && planVertices(details, job, fromP, input.parallelism, mode, vertexTargets);
  if (vertexTargets && input.parallelism !== undefined && (input.parallelism < b.minParallelism || input.parallelism > maxByKeys)) {
    throw new InvalidInputError([{ field: 'parallelism', message: `must give a parallelism from ${b.minParallelism} to ${maxByKeys} (bounds of job "${job.name}"); got ${input.parallelism}` }], job.name);
  }
  const target = resolveTarget(input, fromP, vertexPlan && jobLevel(vertexPlan));
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
    const got =
      target.field === 'change' ? `"${input.change}" gives ${target.value} from the current ${fromP}` : target.field === 'vertexParallelism' ? `the widest vertex would run ${target.value}` : `got ${target.value}`;
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
  const vertices = vertexPlan ?? planVertices(details, job, fromP, toP, mode);
  // Per vertex, the widest vertex may stay while others move: still a rescale (up if any vertex goes up).
  const moved = vertices.filter((v) => v.to !== v.from);
  const direction: Direction = toP > fromP ? 'out' : toP < fromP ? 'in' : moved.length === 0 || mode === 'reactive' ? 'none' : moved.some((v) => v.to > v.from) ? 'out' : 'in';
  // Scale-out never removes members; scale-in keeps at least what the new parallelism needs.
  if (direction === 'out') toTMs = Math.max(toTMs, fromTMs);
  if (direction === 'none') toTMs = fromTMs;

  const dryRun = input.dryRun || job.dryRun;
  const jarId = mode === 'savepoint' && direction !== 'none' ? await resolveJar(deps, flink, job, !dryRun) : undefined;
  const slotsNeeded = jobLevel(vertices);

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
