/**
 * Where a command acts: a deployed stack (default: resources from its CloudFormation outputs, standard AWS
 * credential chain, `--region`, `--profile`) or `--local --flink-url URL` (in this process: the synthesized state
 * machine on aws-local-stepfunctions, the real step handlers, a local state file, a local capacity target).
 * Clients are built through `CliServices` so tests can point them at mocks, dynalite and the emulator.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { type Command, Option } from 'commander';
import type { Config, JobConfig } from '../../../functions/core/config';
import { FlinkRestClient } from '../../../functions/adapters/flink/client';
import type { FlinkApi } from '../../../functions/adapters/flink/types';
import { flinkClientFor } from '../../../functions/adapters/flink-connect';
import { LocalOrS3JarSource, type JarSource } from '../../../functions/adapters/jar-source';
import { SecretsManagerSource } from '../../../functions/adapters/secrets';
import { DynamoStateStore } from '../../../functions/adapters/state/dynamo';
import type { StateStore } from '../../../functions/adapters/state/types';
import { createCapacityTarget } from '../../../functions/adapters/targets/index';
import type { CapacityTarget } from '../../../functions/adapters/targets/types';
import { EmulatorControlTarget, isEmulator, ObservedOnlyTarget } from '../../../local/emulator-target';
import { FileStateStore } from '../../../local/file-state-store';
import type { Asl } from '../../../local/workflow-runner';
import { durationIn, flinkUrl, oneOf } from './options';

export interface AwsOptions {
  region?: string;
  profile?: string;
}

/** Factories for everything outside the process; tests replace some of them. */
export interface CliServices {
  cloudFormation(aws: AwsOptions): Pick<CloudFormationClient, 'send'>;
  sfn(aws: AwsOptions): Pick<SFNClient, 'send'>;
  dynamo(aws: AwsOptions): DynamoDBClient;
  /** Flink client for a job in deployed mode (its configured URL; credentials from Secrets Manager). */
  flinkForJob(job: JobConfig, aws: AwsOptions): Promise<FlinkApi>;
  /** The job's configured capacity target, with the operator's credentials. */
  capacityTarget(job: JobConfig, aws: AwsOptions): CapacityTarget;
  /** Reads `submit.jarPath` (a local path, or s3:// with the operator's credentials) when the JobManager lacks the jar. */
  jarSource(aws: AwsOptions): JarSource;
  /** The synthesized rescale state machine (cached on disk by config + construct source). */
  rescaleAsl(config: Config, cacheDir: string, onSynth?: () => void): Promise<Asl>;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Who starts executions ("cli:<user>"). */
  user(): string;
}

const awsConfig = (aws: AwsOptions) => ({ ...(aws.region ? { region: aws.region } : {}), ...(aws.profile ? { profile: aws.profile } : {}) });

/** Sources whose change changes the synthesized state machine. */
const ASL_SOURCES = ['lib/constructs/rescale-workflow.ts', 'functions/core/rescale-timing.ts'];

async function cachedRescaleAsl(config: Config, cacheDir: string, onSynth?: () => void): Promise<Asl> {
  const root = resolve(__dirname, '..', '..', '..');
  const h = createHash('sha256').update(JSON.stringify(config));
  for (const f of ASL_SOURCES) h.update(readFileSync(join(root, f)));
  const file = join(cacheDir, `rescale-asl-${h.digest('hex').slice(0, 16)}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Asl;
  onSynth?.();
  const { synthesizeRescaleAsl } = await import('../../../local/workflow-runner');
  const asl = synthesizeRescaleAsl(config);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(asl));
  return asl;
}

export const defaultServices: CliServices = {
  cloudFormation: (aws) => new CloudFormationClient(awsConfig(aws)),
  sfn: (aws) => new SFNClient(awsConfig(aws)),
  dynamo: (aws) => new DynamoDBClient(awsConfig(aws)),
  jarSource: (aws) => new LocalOrS3JarSource(() => new S3Client(awsConfig(aws))),
  flinkForJob: (job, aws) => flinkClientFor(job, new SecretsManagerSource(new SecretsManagerClient(awsConfig(aws)))),
  capacityTarget: (job, aws) => createCapacityTarget(job, { region: aws.region }),
  rescaleAsl: cachedRescaleAsl,
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  user: () => `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`,
};

export type TargetChoice = 'auto' | 'emulator' | 'config' | 'none';

/** Options every command that talks to a stack or a cluster takes. */
export interface WhereOptions {
  local?: boolean;
  flinkUrl?: string;
  target: TargetChoice;
  stateFile: string;
  pollInterval?: number;
  stack?: string;
  region?: string;
  profile?: string;
  json?: boolean;
}

export const DEFAULT_STATE_FILE = '.flink-elastic/local-state.json';

export function addWhereOptions(cmd: Command): Command {
  return cmd
    .option('--local', 'act in this process against --flink-url instead of the deployed stack')
    .option('--flink-url <url>', 'with --local: the Flink JobManager REST URL (e.g. the emulator: http://127.0.0.1:8081)', flinkUrl)
    .addOption(
      new Option('--target <kind>', 'with --local: capacity target; auto = the emulator\'s TaskManagers when the URL is an emulator, else none')
        .choices(['auto', 'emulator', 'config', 'none'])
        .default('auto')
        .argParser(oneOf('--target', ['auto', 'emulator', 'config', 'none'])),
    )
    .option('--state-file <file>', 'with --local: where locks, cooldowns and history are kept', DEFAULT_STATE_FILE)
    .option('--stack <name>', 'deployed stack name (default: deployment.stackName in the config)')
    .option('--region <region>', 'AWS region (default: the standard chain: AWS_REGION, profile, ...)')
    .option('--profile <name>', 'AWS shared-config profile (default: AWS_PROFILE or the default chain)');
}

/** --poll-interval: only for commands that run the workflow. */
export function addPollOption(cmd: Command): Command {
  return cmd.option(
    '--poll-interval <duration>',
    'with --local: every Wait state of the workflow lasts this long instead of its deployed duration (10–15 s); waits stay bounded by their timeouts',
    durationIn('--poll-interval', 0.01, 60),
  );
}

/** Problems between options (exit code 2): --local needs --flink-url; --flink-url etc. need --local. */
export function checkWhere(cmd: Command, o: WhereOptions): void {
  if (o.local && !o.flinkUrl) cmd.error('error: --local needs --flink-url URL (the Flink JobManager REST API, e.g. http://127.0.0.1:8081)', { exitCode: 2 });
  if (!o.local) {
    const localOnly = (['flinkUrl', 'pollInterval'] as const).filter((k) => o[k] !== undefined);
    if (o.target !== 'auto') localOnly.push('target' as never);
    if (localOnly.length) {
      const names = localOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      cmd.error(`error: ${names.join(', ')} only apply with --local`, { exitCode: 2 });
    }
  }
  if (o.local && (o.stack || o.region || o.profile) && o.target !== 'config') {
    cmd.error('error: --stack, --region and --profile apply to the deployed stack (or --local --target config), not to --local', { exitCode: 2 });
  }
}

export function awsOf(o: WhereOptions): AwsOptions {
  return { region: o.region, profile: o.profile };
}

/** The Flink client of --local (no retries beyond 2; 10 s per request). */
export function localFlink(url: string, job: JobConfig): FlinkRestClient {
  return new FlinkRestClient({ baseUrl: url, timeoutMs: job.flink.requestTimeoutMs, retries: 2, version: job.flink.version });
}

/** The capacity target of --local, and a one-line description of the choice. */
export async function localTarget(
  o: WhereOptions,
  job: JobConfig,
  flink: FlinkApi,
  services: CliServices,
  dryRun: boolean,
): Promise<{ target: CapacityTarget; note: string }> {
  let choice = o.target;
  if (choice === 'auto' || choice === 'emulator') {
    const emu = await isEmulator(o.flinkUrl!);
    if (!emu && choice === 'emulator') throw new Error(`--target emulator: ${o.flinkUrl} is not a flink-elastic emulator (GET /emulator/state failed)`);
    choice = emu ? 'emulator' : 'none';
  }
  const bounds = { minTaskManagers: job.bounds.minTaskManagers, maxTaskManagers: job.bounds.maxTaskManagers };
  if (choice === 'emulator') {
    return { target: new EmulatorControlTarget({ baseUrl: o.flinkUrl!, bounds, dryRun: dryRun || job.dryRun }), note: `capacity: the emulator's TaskManagers (${o.flinkUrl}/emulator/...)` };
  }
  if (choice === 'config') {
    const t = services.capacityTarget(job, awsOf(o));
    return { target: t, note: `capacity: ${t.kind} ${t.name} (from the config, your AWS credentials)` };
  }
  return { target: new ObservedOnlyTarget(flink), note: 'capacity: none (--target none): TaskManager changes are not available locally; rescales within the registered slots work' };
}

export function localStore(o: WhereOptions): StateStore {
  return new FileStateStore(resolve(o.stateFile));
}

export function deployedStore(tableName: string, o: WhereOptions, services: CliServices): StateStore {
  return new DynamoStateStore({ tableName, client: services.dynamo(awsOf(o)) });
}

/** A local SNS stand-in: the Notify step's message is printed by the CLI instead of being published. */
export function localSns(): SNSClient {
  const sns = new SNSClient({ region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  sns.send = (async () => ({ MessageId: 'local', $metadata: {} })) as any;
  return sns;
}
