/**
 * Version profiles of the emulator: where Flink 1.14, 1.18, 1.19, 1.20 and 2.3 differ on the wire (endpoints.md §2, §8;
 * 1.20 and 2.3 follow what real 1.20.5 and 2.3.0 clusters answered, test/flink/emulator-diff.test.ts).
 * Request bodies list the fields each version knows: Flink's Jackson mapper rejects unknown properties with 400.
 */
import { featuresFor, parseFlinkVersion } from '../../functions/adapters/flink/wire';
import type { FlinkVersionInfo } from '../../functions/adapters/flink/types';

export const EMULATOR_VERSIONS = ['1.14', '1.18', '1.19', '1.20', '2.3'] as const;
export type EmulatorVersion = (typeof EMULATOR_VERSIONS)[number];

export interface VersionProfile {
  line: EmulatorVersion;
  /** What /config and /overview report as flink-version. */
  version: string;
  commit: string;
  features: FlinkVersionInfo['features'];
  /** RPC scheme of TaskManager paths: Akka until 1.17, Pekko from 1.18 (FLINK-32468). */
  rpcScheme: 'akka.tcp' | 'pekko.tcp';
  /** /config features.web-rescale exists (S119, not S115). */
  webRescaleFlag: boolean;
  /** jobmanager.adaptive-scheduler.scaling-interval.min default (1.19+, FLIP-322), ms; 0 = none. */
  scalingIntervalMinMs: number;
  /** pipeline.jobvertex-parallelism-overrides in a jar run is honoured (1.17 to 1.20, FLINK-30213; not on 2.3.0, measured). */
  vertexParallelismOverrides: boolean;
  /** Cancel of an already globally-terminal (FINISHED/FAILED) job answers 409 (unverified, endpoints.md §5.1). */
  cancelTerminalConflict: boolean;
  /**
   * Wire details seen on real 1.20.5 and 2.3.0 clusters by test/flink/emulator-diff.test.ts (profiles 1.20 and 2.3;
   * older profiles keep what endpoints.md says): job detail `job-type` and `vertices[].slotSharingGroupId`; subtask
   * metric aggregation `skew` (in the default set); TaskManager `blocked` only when true; checkpoint statistics carry
   * `savepointFormat: null` for checkpoints; running an unknown jar answers 500 (a CompletionException), not 400; a
   * jar entry without a description has `description: null` (the copied spec says string).
   */
  observedWire: boolean;
  /**
   * Flink 2.3 (seen on 2.3.0): applications (job detail `application-id`, jar run `applicationId`); `jobType`,
   * `schedulerType`, `pending-operators` in job overviews and details; TaskManager `assignedTasks` (also per allocated
   * slot); vertex detail subtasks without `host`; no `memorySegmentsAvailable/Total` in TaskManager metrics; job config without `execution-mode`; job
   * metrics `numRescales`, `lastCheckpointMetadataSize`, `lastCheckpointCompletedTimestamp`.
   */
  flink2Wire: boolean;
  /** Known JSON properties of each request body (anything else: 400). */
  requestFields: {
    savepoint: string[];
    stop: string[];
    jarRun: string[];
  };
}

const FULL: Record<EmulatorVersion, { version: string; commit: string }> = {
  '1.14': { version: '1.14.6', commit: '2a3c5b8' },
  '1.18': { version: '1.18.1', commit: 'a8c8b1c' },
  '1.19': { version: '1.19.1', commit: 'e2f1a3b' },
  '1.20': { version: '1.20.5', commit: 'c3e4f5a' },
  '2.3': { version: '2.3.0', commit: 'd4e5f6b' },
};

export function profileFor(line: string): VersionProfile {
  if (!(EMULATOR_VERSIONS as readonly string[]).includes(line)) {
    throw new Error(`unsupported emulator Flink version "${line}"; allowed: ${EMULATOR_VERSIONS.join(', ')}`);
  }
  const l = line as EmulatorVersion;
  const v = parseFlinkVersion(FULL[l].version)!;
  const features = featuresFor(v);
  const savepoint = ['target-directory', 'cancel-job', ...(features.triggerId ? ['triggerId'] : []), ...(features.formatType ? ['formatType'] : [])];
  const stop = ['targetDirectory', 'drain', ...(features.triggerId ? ['triggerId'] : []), ...(features.formatType ? ['formatType'] : [])];
  const jarRun = [
    'entryClass',
    'programArgs',
    'programArgsList',
    'parallelism',
    'jobId',
    'allowNonRestoredState',
    'savepointPath',
    ...(features.restoreMode ? ['restoreMode'] : []),
    ...(features.flinkConfiguration ? ['flinkConfiguration'] : []),
  ];
  return {
    line: l,
    version: FULL[l].version,
    commit: FULL[l].commit,
    features,
    rpcScheme: v.minor >= 18 || v.major >= 2 ? 'pekko.tcp' : 'akka.tcp',
    webRescaleFlag: v.minor >= 18 || v.major >= 2,
    scalingIntervalMinMs: v.minor >= 19 || v.major >= 2 ? 30_000 : 0,
    // 2.x: a jar run's pipeline.jobvertex-parallelism-overrides was not honoured on a real 2.3.0 session cluster
    vertexParallelismOverrides: v.major < 2 && v.minor >= 17,
    cancelTerminalConflict: v.minor >= 18 || v.major >= 2,
    observedWire: v.major >= 2 || v.minor >= 20,
    flink2Wire: v.major >= 2,
    requestFields: { savepoint, stop, jarRun },
  };
}
