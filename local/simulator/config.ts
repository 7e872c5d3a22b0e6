/**
 * The config a simulation runs: either generated for a scenario's jobs, or the user's own config with everything
 * that points at AWS or a real cluster replaced by the local world (the Flink URL → that job's emulator, the target
 * → a simulated Auto Scaling group, the lag source → the collector's Flink pendingRecords, CPU → Flink's JVM CPU).
 * Everything else (bounds, thresholds, policy knobs, cooldowns, delays, alarm shapes) is the user's.
 */
import { ConfigError, FLINK_MAX_PARALLELISM_MIN, parseConfig, type Config, type JobConfig } from '../../functions/core/config';
import type { EmulatorVersion } from '../emulator';
import type { ScenarioJob } from '../scenarios';

export const SIM_BUCKET = 's3://flink-elastic-simulation';

/**
 * The simulation's tick, virtual ms: how often the world is sampled and the load model integrated (collector, alarms
 * and the scaler keep their own 1-minute cadence). One setting for `flink-elastic simulate`, `npm start` and every
 * benchmark, so their figures are the same run.
 */
export const SIM_TICK_MS = 5000;

/** How one job of a simulation runs in the local world. */
export interface SimJob {
  config: JobConfig;
  /** Load shape and emulated program (capacity per subtask, starting parallelism). */
  shape: ScenarioJob;
  version: EmulatorVersion;
  scheduler: 'default' | 'adaptive' | 'reactive';
  initialParallelism: number;
  initialTaskManagers: number;
}

/** Lag thresholds for a generated job: high = the tolerated backlog time at the starting capacity, low = 5 % of that. */
export function lagThresholds(shape: ScenarioJob, maxBacklogSeconds = 10): { high: number; low: number } {
  const high = Math.round(maxBacklogSeconds * shape.perSubtaskCapacity * shape.initialParallelism);
  return { high, low: Math.round(high / 20) };
}

function localJob(name: string, url: string): Record<string, unknown> {
  return {
    flink: { url, version: '1.19', jobName: name },
    submit: { jarPath: `${SIM_BUCKET}/jars/${name}.jar` },
    savepoint: { directory: `${SIM_BUCKET}/savepoints/${name}`, timeoutSeconds: 900 },
    target: { kind: 'asg', autoScalingGroupName: `${name}-taskmanagers` },
  };
}

/** The config flink-elastic would be deployed with for a scenario's jobs. */
export function scenarioConfigDoc(jobs: ScenarioJob[], urls: Record<string, string>): unknown {
  return {
    deployment: { stackName: 'FlinkElastic', collectorIntervalMinutes: 1 },
    jobs: jobs.map((j) => {
      const { high, low } = lagThresholds(j);
      return {
        name: j.name,
        mode: 'savepoint',
        ...localJob(j.name, urls[j.name]),
        slotsPerTaskManager: j.slotsPerTaskManager,
        bounds: {
          minParallelism: j.minParallelism,
          maxParallelism: j.maxParallelism,
          minTaskManagers: Math.max(1, Math.ceil(j.minParallelism / j.slotsPerTaskManager)),
          maxTaskManagers: j.maxTaskManagers,
          jobMaxParallelism: j.jobMaxParallelism,
        },
        lag: { source: { type: 'flink-pending-records' }, highThreshold: high, lowThreshold: low },
        cpu: { source: 'flink-jvm' },
      };
    }),
  };
}

export const versionFor = (v: string | undefined): EmulatorVersion => (!v ? '1.19' : v === '1.18' ? '1.18' : Number(v.split('.')[0]) >= 2 || v === '1.19' || v === '1.20' ? '1.19' : Number(v.split('.')[1]) >= 18 ? '1.18' : '1.14');

/** Flink versions from which the REST API takes `flinkConfiguration` in a jar run (the config's cross-field rule). */
const FLINK_CONFIGURATION_SINCE: EmulatorVersion[] = ['1.18', '1.19'];

/**
 * The user's config with the local world plugged in. Jobs keep their names, modes, bounds, thresholds, policy, lag
 * and CPU sources, capacity targets (kind and names: the simulator maps each onto a simulated one) and how they are
 * resubmitted (`submit`: jar id or jar path, entry class, program arguments); only what points at a real cluster is
 * replaced: the Flink URL (→ the job's emulator; version → the nearest emulated one), REST auth and CA (dropped),
 * schedules and e-mail addresses (dropped). `shapeFor(job)` gives each one its load (the scenario or trace).
 * Throws ConfigError naming what cannot be simulated.
 */
export function localizeConfig(doc: unknown, urls: (job: string) => string, source = 'config'): Config {
  const user = parseConfig(doc, source);
  const jobs = user.jobs.filter((j) => j.enabled);
  if (jobs.length === 0) throw new ConfigError([{ path: 'jobs', message: 'has no enabled job to simulate' }], source);
  return parseConfig(
    {
      deployment: { stackName: user.deployment.stackName, collectorIntervalMinutes: user.deployment.collectorIntervalMinutes },
      jobs: jobs.map((j) => {
        const local = localJob(j.name, urls(j.name)) as Record<string, any>;
        const version = versionFor(j.flink.version);
        return {
          ...j,
          flink: { url: local.flink.url, version, jobName: j.flink.jobName ?? j.name, requestTimeoutMs: j.flink.requestTimeoutMs },
          savepoint: j.savepoint ? { ...j.savepoint } : local.savepoint,
          submit: j.submit
            ? { ...j.submit, flinkConfiguration: FLINK_CONFIGURATION_SINCE.includes(version) ? j.submit.flinkConfiguration : undefined }
            : local.submit,
          schedules: [],
          notificationEmail: undefined,
        };
      }),
    },
    `${source} (localized for the simulator)`,
  );
}

/** The jar a configured job was submitted from, as the JobManager lists it: `submit.jarId`, else the name of `submit.jarPath`. */
export function jarOf(job: JobConfig): { id?: string; name: string } {
  const s = job.submit;
  if (s?.jarId) return { id: s.jarId, name: s.jarId.replace(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_/i, '') };
  const path = s?.jarPath ?? `${SIM_BUCKET}/jars/${job.name}.jar`;
  return { name: path.split('/').pop()! };
}

/** The entry class of a configured job: `submit.entryClass`, else the jar manifest's main class (a name derived from the job). */
export function entryClassOf(job: JobConfig): string {
  return job.submit?.entryClass ?? `com.example.flink.${(job.flink.jobName ?? job.name).replace(/[^A-Za-z0-9]/g, '')}Job`;
}

/** The stream the job reads: `--stream X` in its program arguments (the emulated program honours it), else the job's name. */
export function streamOf(job: JobConfig): string {
  const args = job.submit?.programArgs ?? [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--stream' && i + 1 < args.length) return args[i + 1];
    if (args[i].startsWith('--stream=')) return args[i].slice('--stream='.length);
  }
  return job.name;
}

/**
 * Vertex names of the emulated program: a pinned vertex (`policy.pinnedVertices`) names the source, operator or sink
 * it matches (by "source"/"sink" in its name), with its parallelism fixed in the program's code, as a pinned vertex is.
 */
export function vertexNamesOf(job: JobConfig): { sourceName?: string; operatorName?: string; sinkName?: string; vertexParallelism?: Record<string, number> } {
  const out: { sourceName?: string; operatorName?: string; sinkName?: string; vertexParallelism?: Record<string, number> } = {};
  for (const [name, p] of Object.entries(job.policy.pinnedVertices)) {
    const slot = /source/i.test(name) ? 'sourceName' : /sink/i.test(name) ? 'sinkName' : 'operatorName';
    if (out[slot] !== undefined) continue;
    out[slot] = name;
    out.vertexParallelism = { ...out.vertexParallelism, [name]: p };
  }
  return out;
}

/** The emulator shape of a configured job: the scenario's load, bounded by the job's config. */
export function simJob(config: JobConfig, shape: ScenarioJob): SimJob {
  const b = config.bounds;
  const p = Math.min(b.maxParallelism, Math.max(b.minParallelism, shape.initialParallelism));
  const tms = Math.min(b.maxTaskManagers, Math.max(b.minTaskManagers, Math.ceil(p / config.slotsPerTaskManager)));
  const version = versionFor(config.flink.version);
  const scheduler = config.mode === 'savepoint' ? 'default' : config.mode;
  return {
    config,
    shape: { ...shape, jobMaxParallelism: Math.max(b.jobMaxParallelism ?? shape.jobMaxParallelism, FLINK_MAX_PARALLELISM_MIN) },
    version,
    scheduler,
    initialParallelism: config.mode === 'reactive' ? Math.min(b.maxParallelism, tms * config.slotsPerTaskManager) : p,
    initialTaskManagers: tms,
  };
}
