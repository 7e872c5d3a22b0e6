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

/**
 * The user's config with the local world plugged in. Jobs keep their names, modes, bounds, thresholds and policy;
 * `shapeFor(job)` gives each one its load (the scenario or trace). Throws ConfigError naming what cannot be simulated.
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
        const lagUnitRecords = !j.lag || j.lag.source.type === 'flink-pending-records' || (j.lag.source.type === 'msk' && j.lag.source.metric !== 'EstimatedMaxTimeLag') || (j.lag.source.type === 'cloudwatch' && j.lag.source.unit === 'records');
        if (j.lag && !lagUnitRecords) {
          throw new ConfigError(
            [{ path: `jobs[${user.jobs.indexOf(j)}].lag.source`, message: 'the simulator measures lag in records (Flink pendingRecords); use a records-based lag source (msk SumOffsetLag/MaxOffsetLag, cloudwatch with unit "records" or flink-pending-records) to simulate this job' }],
            source,
          );
        }
        return {
          ...j,
          ...local,
          flink: { ...local.flink, version: versionFor(j.flink.version), jobName: j.flink.jobName ?? j.name, requestTimeoutMs: j.flink.requestTimeoutMs },
          savepoint: j.savepoint ? { ...j.savepoint } : local.savepoint,
          submit: { ...(j.submit ?? {}), jarId: undefined, jarPath: local.submit.jarPath, flinkConfiguration: undefined },
          target: local.target,
          lag: j.lag ? { ...j.lag, source: { type: 'flink-pending-records' } } : undefined,
          cpu: { ...j.cpu, source: 'flink-jvm' },
          schedules: [],
          notificationEmail: undefined,
        };
      }),
    },
    `${source} (localized for the simulator)`,
  );
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
