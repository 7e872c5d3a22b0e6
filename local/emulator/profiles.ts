/**
 * Version profiles of the emulator: where Flink 1.14, 1.18 and 1.19 differ on the wire (endpoints.md §2, §8).
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
  /** pipeline.jobvertex-parallelism-overrides is honoured (1.17+, FLINK-30213). */
  vertexParallelismOverrides: boolean;
  /** Cancel of an already globally-terminal (FINISHED/FAILED) job answers 409 (unverified, endpoints.md §5.1). */
  cancelTerminalConflict: boolean;
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
    vertexParallelismOverrides: v.minor >= 17 || v.major >= 2,
    cancelTerminalConflict: v.minor >= 18 || v.major >= 2,
    requestFields: { savepoint, stop, jarRun },
  };
}
