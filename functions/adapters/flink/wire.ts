/**
 * Wire-format helpers shared by the REST client and the local emulator (so both read the same rules).
 * Sources: test/fixtures/flink-rest/endpoints.md (§ numbers cited below).
 */
import type { FlinkVersionInfo, JobStatus, SubtaskPlacement, TaskManagerInfo } from './types';

/** Parses "1.19.1", "1.18-SNAPSHOT", "2.0.0" → {major, minor}; undefined when it is not a Flink version. */
export function parseFlinkVersion(version: string): { major: number; minor: number } | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** True when version (major, minor) >= (wantMajor, wantMinor). */
export function atLeast(v: { major: number; minor: number }, wantMajor: number, wantMinor: number): boolean {
  return v.major > wantMajor || (v.major === wantMajor && v.minor >= wantMinor);
}

/**
 * Feature flags per version: endpoints.md §8 (version matrix) and §2 (endpoint index).
 * `triggerId` (caller-chosen savepoint trigger ids) arrived with formatType in 1.15 (§8 first row).
 */
export function featuresFor(v: { major: number; minor: number }): FlinkVersionInfo['features'] {
  return {
    formatType: atLeast(v, 1, 15),
    triggerId: atLeast(v, 1, 15),
    restoreMode: atLeast(v, 1, 15),
    flinkConfiguration: atLeast(v, 1, 16),
    // Honoured in a jar run's flinkConfiguration on 1.17–1.20 (1.20.5 measured); Flink 2.3.0 ran the job at the job-level
    // parallelism with the key given (test/flink/savepoint.test.ts), so 2.x is treated as not supporting it.
    parallelismOverrides: atLeast(v, 1, 17) && v.major < 2,
    resourceRequirements: atLeast(v, 1, 18),
    jobJobManagerConfig: atLeast(v, 1, 16),
    blocklist: atLeast(v, 1, 16),
    jobStatusEndpoint: atLeast(v, 1, 16),
    programArgs: v.major < 2,
    claimMode: v.major >= 2,
  };
}

export function versionInfo(version: string): FlinkVersionInfo {
  const v = parseFlinkVersion(version);
  if (!v) throw new Error(`not a Flink version: "${version}" (expected e.g. "1.19.1")`);
  return { version, major: v.major, minor: v.minor, features: featuresFor(v) };
}

/**
 * Metric-name sanitising of MetricQueryService.replaceInvalidChars (endpoints.md §7.1): space . : , become "_";
 * operator names are cut to 80 characters (TaskMetricGroup.METRICS_OPERATOR_NAME_MAX_LENGTH).
 */
export function metricOperatorName(operatorName: string): string {
  return operatorName.slice(0, 80).replace(/[ .:,]/g, '_');
}

/** The operator names chained into one vertex name ("Source: Kafka -> Map" → ["Source: Kafka", "Map"]). */
export function chainedOperatorNames(vertexName: string): string[] {
  return vertexName.split(' -> ').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Every job state Flink reports: the JobStatus enum of Flink's REST spec (rest_v1_dispatcher.yml). */
export const JOB_STATES: readonly JobStatus[] = ['INITIALIZING', 'CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING', 'SUSPENDED', 'RECONCILING'];

export function isJobStatus(x: unknown): x is JobStatus {
  return typeof x === 'string' && (JOB_STATES as readonly string[]).includes(x);
}

/**
 * Upper bound of any parallelism: Flink's maximum max-parallelism, 2^15 (KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM).
 */
export const MAX_PARALLELISM = 32768;

export const TERMINAL_JOB_STATES: readonly JobStatus[] = ['FAILED', 'CANCELED', 'FINISHED'];

export function isTerminal(state: JobStatus): boolean {
  return TERMINAL_JOB_STATES.includes(state);
}

export const HEX32 = /^[0-9a-f]{32}$/;

/**
 * Flink's own answer for a savepoint trigger id it does not know (never triggered, or its result expired after
 * rest.async.store-duration): 404 with "There is no savepoint operation with triggerId=… for job …." (1.15+) or
 * "Operation not found under key: …" (1.14). Any other failure (a proxy's HTML page, a `null` body, a 404 for an
 * unknown path) is not that answer, and says nothing about the trigger.
 */
export function isUnknownSavepointTrigger(e: unknown): boolean {
  const err = e as { status?: unknown; errors?: unknown } | null;
  if (!err || err.status !== 404 || !Array.isArray(err.errors)) return false;
  return err.errors.some((m) => typeof m === 'string' && /There is no savepoint operation with triggerId=|Operation not found under key:/.test(m));
}

/** Flink's 409 to a resource-requirements PUT while another update of them is still in progress. */
export function isRequirementsUpdateInProgress(e: unknown): boolean {
  const err = e as { status?: unknown; errors?: unknown } | null;
  if (!err || err.status !== 409 || !Array.isArray(err.errors)) return false;
  return err.errors.some((m) => typeof m === 'string' && /resource requirements is in progress/.test(m));
}

/**
 * Which TaskManagers run the subtasks of a placement (by Flink's resource id; by host where Flink names no id known
 * in `tms`), and which subtasks run on none of them (not assigned, or on a TaskManager Flink does not list).
 */
export function placeSubtasks(placement: SubtaskPlacement[], tms: TaskManagerInfo[]): { hosting: Set<string>; unplaced: string[] } {
  const hosting = new Set<string>();
  const unplaced: string[] = [];
  for (const p of placement) {
    const byId = p.taskManagerId !== undefined ? tms.filter((t) => t.id === p.taskManagerId) : [];
    const on = byId.length ? byId : p.host !== undefined ? tms.filter((t) => t.host === p.host) : [];
    if (on.length === 0) unplaced.push(`${p.vertexId}#${p.subtask}`);
    for (const t of on) hosting.add(t.id);
  }
  return { hosting, unplaced };
}
