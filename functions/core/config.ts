/**
 * The flink-elastic config file: one JSON document that describes every Flink job flink-elastic manages.
 *
 * Pure: this module validates a value that someone else read from disk. It never touches the file system.
 * The JSON Schema in `schema/flink-elastic.config.schema.json` is generated from these definitions
 * (`npm run schema`), and `docs/config-reference.md` is checked against it by the tests.
 */
import * as z from 'zod';
import { boundedValue, preview } from './preview';
import { isSavepointUri } from './savepoint-location';
import { isTimeZone, scheduleExpressionProblem } from './schedule-expression';
import { EXECUTION_TIMEOUT_SECONDS, RUNNING_TIMEOUT_MIN_SECONDS, SLOTS_TIMEOUT_SECONDS, STOP_PENDING_WINDOW_SECONDS } from './rescale-timing';

/** Flink's own limits for the job-level max parallelism (number of key groups), per seed 001: 128..32768. */
export const FLINK_MAX_PARALLELISM_MIN = 128;
export const FLINK_MAX_PARALLELISM_MAX = 32768;

/** Schema helpers whose errors name the allowed range; shared by every schema of the core. */
export const int = (min: number, max: number, what = 'an integer') =>
  z
    .number({ error: `must be ${what} from ${min} to ${max}` })
    .int({ error: `must be ${what} from ${min} to ${max}` })
    .min(min, { error: `must be ${what} from ${min} to ${max}` })
    .max(max, { error: `must be ${what} from ${min} to ${max}` });

export const num = (min: number, max: number, what = 'a number') =>
  z
    .number({ error: `must be ${what} from ${min} to ${max}` })
    .min(min, { error: `must be ${what} from ${min} to ${max}` })
    .max(max, { error: `must be ${what} from ${min} to ${max}` });

export const nonEmpty = (what: string, max = 1024) =>
  z
    .string({ error: `must be ${what} (a non-empty string)` })
    .min(1, { error: `must be ${what} (a non-empty string)` })
    .max(max, { error: `must be at most ${max} characters` });

/**
 * Keys that mean something to JavaScript objects. zod drops a "__proto__" key from a map without a word, so they
 * are refused by a walk over the raw document (reservedKeyProblems), wherever they appear.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Keys of config maps (tags, dimensions, pinnedVertices, flinkConfiguration): 1 to `max` characters. */
export const safeKey = (_what: string, max = 256) => z.string().min(1).max(max);
/** The error of a map: its keys' length, or its values'. */
const mapError = (what: string, maxKey: number) => (iss: { code: string }) =>
  iss.code === 'invalid_key' ? `keys must be 1 to ${maxKey} characters` : what;

/** A string of at most `max` characters (default 4096). */
const text = (max = 4096) => z.string({ error: 'must be a string' }).max(max, { error: `must be at most ${max} characters` });

/** A URL must not carry credentials: they belong in Secrets Manager (flink.auth), not in a config file. */
const NO_USERINFO = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*@/;
const noCredentials = (s: string) => !NO_USERINFO.test(s);
/**
 * The URL parser the HTTP client uses reads it as http(s): the pattern alone let "http://10.0.1.10:8081x" and
 * "http://[::1" through (found by fuzzing), which every REST call would then fail on.
 */
const parsesAsHttpUrl = (s: string) => {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
};
const CREDENTIALS_ERROR = 'must not contain credentials (user:password@); use flink.auth with a Secrets Manager secret';

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of: ${values.map((v) => `"${v}"`).join(', ')}` });

/** An object that rejects unknown fields, naming them and the allowed ones. */
export const strict = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field(s) ${iss.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${Object.keys(shape).join(', ')}`
        : 'must be an object',
  });

export const JOB_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const FLINK_VERSIONS = ['1.14', '1.15', '1.16', '1.17', '1.18', '1.19', '1.20', '2.0', '2.1', '2.2', '2.3'] as const;
export type FlinkVersion = (typeof FLINK_VERSIONS)[number];

export const JOB_MODES = ['savepoint', 'adaptive', 'reactive'] as const;
export type JobMode = (typeof JOB_MODES)[number];

const FlinkAuth = z.discriminatedUnion(
  'type',
  [
    strict({
      type: z.literal('basic').describe('HTTP basic auth'),
      secretName: nonEmpty('a Secrets Manager secret name').describe(
        'Secrets Manager secret holding {"username": "...", "password": "..."}; never put credentials in the config',
      ),
    }),
    strict({
      type: z.literal('bearer').describe('Bearer token'),
      secretName: nonEmpty('a Secrets Manager secret name').describe('Secrets Manager secret holding {"token": "..."}'),
    }),
  ],
  { error: 'must be {"type": "basic" | "bearer", "secretName": "..."}' },
);

export const FlinkEndpointSchema = strict({
  url: z
    .string({ error: 'must be an http(s) URL such as "http://10.0.1.10:8081"' })
    .max(2048, { error: 'must be at most 2048 characters' })
    .regex(/^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/, { error: 'must be an http(s) URL such as "http://10.0.1.10:8081"', abort: true })
    .refine(parsesAsHttpUrl, { error: 'must be an http(s) URL such as "http://10.0.1.10:8081" (a valid host, a port up to 65535)', abort: true })
    .refine(noCredentials, { error: CREDENTIALS_ERROR })
    .describe('Base URL of the JobManager REST API (rest.port, default 8081); no credentials in it'),
  version: oneOf(FLINK_VERSIONS)
    .optional()
    .describe('Flink version of the cluster. Optional: detected from GET /config when absent; set it to skip detection'),
  auth: FlinkAuth.optional().describe('Optional authentication for the REST API; needs an https url unless allowInsecure is true'),
  allowInsecure: z
    .boolean({ error: 'must be true or false' })
    .default(false)
    .describe('Allow auth over plain http (credentials readable on the network). Only for a trusted network, e.g. a local test cluster'),
  caCertSecretName: nonEmpty('a Secrets Manager secret name')
    .optional()
    .describe('Secrets Manager secret holding a PEM CA bundle for HTTPS endpoints with a private CA'),
  requestTimeoutMs: int(100, 120_000).default(10_000).describe('Timeout of one REST call in milliseconds'),
  jobName: nonEmpty('the Flink job name')
    .optional()
    .describe('Name of the job as Flink shows it (job ids change on every resubmission); defaults to the job entry name'),
});

export const SubmitSchema = strict({
  jarId: nonEmpty('a jar id from GET /jars')
    .optional()
    .describe('Id of an uploaded jar (GET /jars), e.g. "5c3d..._orders.jar"'),
  jarPath: nonEmpty('a jar location', 2048)
    .refine(noCredentials, { error: CREDENTIALS_ERROR })
    .optional()
    .describe(
      'Where the job jar lives (local path or s3://bucket/key); before a rescale touches the job it is uploaded with POST /jars/upload when GET /jars shows no jar with that file name. The stack grants s3:GetObject on exactly that object; a local path is read where the workflow runs (CLI --local)',
    ),
  entryClass: nonEmpty('a Java class name').optional().describe('Main class; defaults to the jar manifest'),
  programArgs: z
    .array(text(4096), { error: 'must be an array of strings' })
    .max(500, { error: 'must have at most 500 arguments' })
    .default([])
    .describe('Program arguments (sent as programArgsList); at most 500, each at most 4096 characters'),
  allowNonRestoredState: z.boolean({ error: 'must be true or false' }).default(false).describe('Skip savepoint state that cannot be mapped to the new job graph'),
  flinkConfiguration: z
    .record(safeKey('a Flink configuration key'), text(4096), { error: mapError('must be an object of string values', 256) })
    .optional()
    .describe('Job-level Flink configuration overrides (Flink >= 1.16 only)'),
});

export const SavepointSchema = strict({
  directory: nonEmpty('a savepoint directory URI such as "s3://bucket/savepoints/job"', 2048)
    .refine(noCredentials, { error: CREDENTIALS_ERROR })
    .refine(isSavepointUri, { error: 'must be a savepoint directory URI such as "s3://bucket/savepoints/job" or "file:///data/savepoints" (scheme, then a bucket or an absolute path; no spaces or "..")' })
    .describe('Target directory of savepoints taken by the rescale workflow (a URI: s3://, file:///, hdfs://, ...)'),
  formatType: oneOf(['CANONICAL', 'NATIVE'] as const).default('CANONICAL').describe('Savepoint format (Flink >= 1.15)'),
  stopWithSavepoint: z.boolean({ error: 'must be true or false' }).default(false).describe(
    'Use stop-with-savepoint (drain=false) instead of savepoint-then-cancel',
  ),
  timeoutSeconds: int(30, 7200).default(900).describe('Give up (job untouched) if the savepoint has not completed by then'),
});

const AsgTarget = strict({
  kind: z.literal('asg'),
  autoScalingGroupName: nonEmpty('an Auto Scaling group name', 255).describe('EC2 Auto Scaling group running the TaskManagers'),
});
const EksDeploymentTarget = strict({
  kind: z.literal('eks-deployment'),
  clusterName: nonEmpty('an EKS cluster name', 100),
  namespace: nonEmpty('a Kubernetes namespace', 63),
  deploymentName: nonEmpty('a Deployment name', 253),
});
const FlinkDeploymentTarget = strict({
  kind: z.literal('flink-deployment'),
  clusterName: nonEmpty('an EKS cluster name', 100),
  namespace: nonEmpty('a Kubernetes namespace', 63),
  name: nonEmpty('a FlinkDeployment name', 253),
  operatorOwnsJob: z.boolean({ error: 'must be true or false' }).default(false).describe(
    'When true the Flink Kubernetes Operator resubmits the job; flink-elastic patches spec.job.parallelism instead of calling the REST API',
  ),
});

export const TargetSchema = z.discriminatedUnion('kind', [AsgTarget, EksDeploymentTarget, FlinkDeploymentTarget], {
  error: 'must have "kind": "asg" | "eks-deployment" | "flink-deployment"',
});
export type CapacityTargetConfig = z.infer<typeof TargetSchema>;

export const BoundsSchema = strict({
  minParallelism: int(1, 32768).default(1),
  maxParallelism: int(1, 32768).describe('Highest job parallelism flink-elastic may set'),
  minTaskManagers: int(0, 10_000).default(1),
  maxTaskManagers: int(1, 10_000),
  jobMaxParallelism: int(FLINK_MAX_PARALLELISM_MIN, FLINK_MAX_PARALLELISM_MAX)
    .optional()
    .describe("The job's maxParallelism (number of key groups) when set in the job; read from Flink otherwise"),
});

const MskLag = strict({
  type: z.literal('msk'),
  clusterName: nonEmpty('an MSK cluster name'),
  consumerGroup: nonEmpty('a consumer group'),
  topic: nonEmpty('a topic'),
  metric: oneOf(['EstimatedMaxTimeLag', 'MaxOffsetLag', 'SumOffsetLag'] as const).default('SumOffsetLag'),
});
const KinesisLag = strict({
  type: z.literal('kinesis'),
  streamName: nonEmpty('a Kinesis stream name'),
});
const FlinkPendingRecordsLag = strict({
  type: z.literal('flink-pending-records'),
});
const CloudWatchLag = strict({
  type: z.literal('cloudwatch'),
  namespace: nonEmpty('a CloudWatch namespace', 255),
  metricName: nonEmpty('a metric name', 255),
  dimensions: z.record(safeKey('a dimension name', 255), text(1024), { error: mapError('must be an object of string values', 255) }).default({}),
  statistic: oneOf(['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount'] as const).default('Maximum'),
  unit: oneOf(['records', 'seconds', 'milliseconds'] as const).describe('What the metric measures'),
});
export const LagSourceSchema = z.discriminatedUnion('type', [MskLag, KinesisLag, FlinkPendingRecordsLag, CloudWatchLag], {
  error: 'must have "type": "msk" | "kinesis" | "flink-pending-records" | "cloudwatch"',
});
export type LagSource = z.infer<typeof LagSourceSchema>;

/**
 * The M-of-N shape of an alarm: it fires when `datapointsToAlarm` of the last `evaluationPeriods` periods breach.
 * Lag and CPU have their own defaults, so a section that sets only some fields gets the rest from its own signal.
 */
const alarmShape = (signal: string, defaults: { evaluationPeriods: number; datapointsToAlarm: number }) =>
  strict({
    periodSeconds: z
      .number({ error: 'must be one of 10, 30, 60, 120, 300 (seconds)' })
      .refine((v) => [10, 30, 60, 120, 300].includes(v), { error: 'must be one of 10, 30, 60, 120, 300 (seconds)' })
      .default(60)
      .describe('CloudWatch alarm period in seconds (10, 30, 60, 120 or 300)'),
    evaluationPeriods: int(1, 60).default(defaults.evaluationPeriods).describe(`N: the ${signal} alarms look at the last N periods`),
    datapointsToAlarm: int(1, 60).default(defaults.datapointsToAlarm).describe(`M: the ${signal} alarms fire when M of those N periods breach (M ≤ N)`),
  });

/** Lag alarms: 2 of 3 one-minute periods, so a scale-out starts within about 2 minutes of a lasting backlog. */
export const LagAlarmSchema = alarmShape('lag', { evaluationPeriods: 3, datapointsToAlarm: 2 });
/** CPU alarms: 5 of 5 one-minute periods, so a short CPU spike (GC, checkpoint, restart) triggers nothing. */
export const CpuAlarmSchema = alarmShape('CPU', { evaluationPeriods: 5, datapointsToAlarm: 5 });

export const LagSchema = strict({
  source: LagSourceSchema,
  highThreshold: num(0, Number.MAX_SAFE_INTEGER).describe('Lag above this (in the source unit) raises the lag-high alarm'),
  lowThreshold: num(0, Number.MAX_SAFE_INTEGER).default(0).describe('Lag at or below this raises the lag-low alarm (scale-in candidate)'),
  alarm: LagAlarmSchema.default(LagAlarmSchema.parse({})),
});

export const CpuSchema = strict({
  source: oneOf(['asg', 'container-insights', 'flink-jvm'] as const)
    .optional()
    .describe('Where CPU comes from; defaults to "asg" for asg targets and "container-insights" for EKS targets'),
  highPercent: num(1, 100).default(75),
  lowPercent: num(0, 99).default(20),
  alarm: CpuAlarmSchema.default(CpuAlarmSchema.parse({})),
});

/** Bucket widths of the seasonal forecast's profile: divisors of a day, in minutes. */
export const FORECAST_BUCKET_MINUTES = [5, 10, 15, 20, 30, 60] as const;

export const ForecastSchema = strict({
  enabled: z.boolean({ error: 'must be true or false' }).default(false).describe('Rule 10: learn the daily and weekly shape of the input rate and scale up ahead of a recurring peak (off by default)'),
  leadSeconds: int(60, 7200)
    .default(600)
    .describe('How far ahead the forecast looks: covers savepoint + restart + TaskManager boot (default 600 s)'),
  bucketMinutes: z
    .literal(FORECAST_BUCKET_MINUTES, { error: `must be one of: ${FORECAST_BUCKET_MINUTES.join(', ')} (minutes; a divisor of a day)` })
    .default(15)
    .describe('Width of one time-of-day bucket of the profile, minutes'),
  minDays: int(1, 7).default(3).describe('A bucket forecasts only once it holds this many days of history of its day type (weekday / weekend)'),
  alpha: num(0.1, 1).default(0.5).describe('EWMA factor from one day to the next for a bucket (seed 002); 1 = only the last day'),
  utcOffsetMinutes: int(-720, 840).default(0).describe('Offset from UTC of the time of day and the weekday / weekend boundary of the profile, minutes (no daylight-saving rules)'),
});

export const PolicySchema = strict({
  maxBacklogSeconds: num(0.1, 86_400).default(10).describe('Max tolerated backlog time: lag / consume rate above this is an SLO breach (seed 001)'),
  targetUtilization: num(0.1, 1).default(0.7).describe('Target busy fraction of each subtask after a rescale'),
  utilizationBoundary: num(0, 0.9).default(0.3).describe('No rescale while utilization stays within target ± boundary'),
  utilizationMin: num(0, 1)
    .optional()
    .describe('Lower edge of the utilization band (scale down below it); replaces targetUtilization − utilizationBoundary (operator: job.autoscaler.utilization.min)'),
  utilizationMax: num(0, 1)
    .optional()
    .describe('Upper edge of the utilization band (scale up above it); replaces targetUtilization + utilizationBoundary (operator: job.autoscaler.utilization.max)'),
  scaleUpMaxFactor: num(1, 100_000)
    .optional()
    .describe('One scale-up goes to at most ceil(current × this); unset: no cap (operator: job.autoscaler.scale-up.max-factor, a cap of 1 + factor)'),
  scaleDownMaxFactor: num(0, 1)
    .optional()
    .describe('One scale-down removes at most this fraction: new ≥ ceil(current × (1 − this)); unset: no cap (operator: job.autoscaler.scale-down.max-factor)'),
  observedTrueProcessingRate: z
    .boolean({ error: 'must be true or false' })
    .default(false)
    .describe('Capacity per subtask only from samples without backpressure (< 100 ms/s): a backpressured sample keeps the estimate (operator: job.autoscaler.observed-true-processing-rate.*)'),
  effectivenessDetection: z
    .boolean({ error: 'must be true or false' })
    .default(true)
    .describe('Rule 9: do not repeat a scale-up that did not raise the processing rate (operator: job.autoscaler.scaling.effectiveness.detection.enabled)'),
  catchUpSeconds: int(0, 86_400).default(300).describe('Capacity is sized to work off the current backlog within this time'),
  restartSeconds: int(0, 3600).default(60).describe('Expected downtime of one rescale, used for restart compensation until observed'),
  ewmaAlpha: num(0.3, 0.5).default(0.4).describe('EWMA smoothing factor for input rates (seed 002: 0.3-0.5)'),
  minChangeFraction: num(0, 1).default(0.1).describe('Changes smaller than this fraction of the current parallelism are not made'),
  alignment: oneOf(['key-groups', 'source-partitions', 'divisor', 'off'] as const).default('key-groups').describe(
    'Prefer parallelism that spreads key groups (divisors of maxParallelism) or source partitions evenly; divisor: only divisors of the partitions (sources) or key groups (keyed vertices), like the operator',
  ),
  sourcePartitions: int(1, 100_000).optional().describe('Partition/shard count of the source, for alignment and as a cap on source parallelism'),
  slotFreeRatioBelow: num(0, 1).default(0.2).describe('Seed 001 slot rule: when free/total slots drops below this...'),
  slotAddFraction: num(0, 10).default(0.2).describe('...add this fraction of TaskManagers at once'),
  pinnedVertices: z
    .record(safeKey('a vertex name', 1024), int(1, 32768), { error: mapError('must be an object of vertex name to parallelism', 1024) })
    .default({})
    .describe('Vertices whose parallelism is fixed, by vertex name (e.g. a source pinned to 1, per seed 001)'),  forecast: ForecastSchema.default(ForecastSchema.parse({})).describe('Rule 10: scale ahead of known (recurring) peaks; docs/policy.md'),
});

export const ScheduleSchema = strict({
  name: z.string().regex(/^[a-zA-Z0-9-_]{1,40}$/, { error: 'must be 1-40 letters, digits, - or _' }),
  cron: z
    .string({ error: 'must be an EventBridge Scheduler cron expression like "cron(0 8 ? * MON-FRI *)"' })
    .max(256, { error: 'must be at most 256 characters' })
    .superRefine((v, ctx) => {
      const p = scheduleExpressionProblem(v);
      if (p) ctx.addIssue({ code: 'custom', message: `must be an EventBridge Scheduler expression like "cron(0 8 ? * MON-FRI *)" or "rate(1 hour)": ${p}` });
    })
    .describe('EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week year) or rate(value unit)'),
  timezone: nonEmpty('an IANA time zone', 64)
    .refine(isTimeZone, { error: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' })
    .default('UTC'),
  parallelism: int(1, 32768),
});

export const JobSchema = strict({
  name: z
    .string({ error: 'must be a job name: lower-case letter first, then lower-case letters, digits or -, at most 40' })
    .regex(JOB_NAME_PATTERN, { error: 'must be a job name: lower-case letter first, then lower-case letters, digits or -, at most 40' })
    .describe('Unique name; used in alarm, execution and dashboard names'),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  dryRun: z.boolean({ error: 'must be true or false' }).default(false).describe('Decide, log and notify, but change nothing'),
  flink: FlinkEndpointSchema,
  mode: oneOf(JOB_MODES).default('savepoint').describe(
    'savepoint: savepoint, cancel, resubmit (any Flink >= 1.14); adaptive: in-place via resource requirements (Flink >= 1.18, adaptive scheduler); reactive: capacity only',
  ),
  submit: SubmitSchema.optional().describe('How to resubmit the job (savepoint mode)'),
  savepoint: SavepointSchema.optional(),
  target: TargetSchema,
  slotsPerTaskManager: int(1, 256).describe('taskmanager.numberOfTaskSlots'),
  bounds: BoundsSchema,
  lag: LagSchema.optional(),
  cpu: CpuSchema.default(CpuSchema.parse({})),
  policy: PolicySchema.default(PolicySchema.parse({})),
  cooldownSeconds: int(0, 86_400).default(60).describe('No rescale within this time after the last one (seed 001: 1 min window)'),
  scaleDownDelaySeconds: int(0, 7 * 86_400).default(300).describe('A scale-down must be wanted this long before it is made (default chosen by measurement: docs/policy.md)'),
  drainTimeoutSeconds: int(10, 7200).default(300).describe('How long scale-in waits for surplus TaskManagers to hold no slots (seed 000: 5 min)'),
  notificationEmail: z.email({ error: 'must be an email address' }).optional(),
  schedules: z.array(ScheduleSchema, { error: 'must be an array' }).max(100, { error: 'must have at most 100 schedules' }).default([]),
});
export type JobConfig = z.infer<typeof JobSchema>;
export type JobConfigInput = z.input<typeof JobSchema>;

export const DeploymentSchema = strict({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, { error: 'must be a CloudFormation stack name (letter first, letters, digits, -)' })
    .default('FlinkElastic'),
  vpc: strict({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: 'must be a VPC id like vpc-0abc1234' }),
    subnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: 'must be a subnet id like subnet-0abc1234' }))
      .min(1, { error: 'must list at least one subnet' }),
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { error: 'must be a security group id like sg-0abc1234' }))
      .min(1, { error: 'must list at least one security group' }),
  })
    .optional()
    .describe('Where the Lambdas run so they reach the JobManagers; omit when the JobManagers are reachable publicly'),
  tags: z.record(safeKey('a tag key', 128), text(256), { error: mapError('must be an object of string values', 128) }).default({}),
  notificationEmail: z.email({ error: 'must be an email address' }).optional(),
  collectorIntervalMinutes: int(1, 60).default(1).describe('How often the collector publishes Flink REST metrics to CloudWatch'),
});

export const ConfigSchema = strict({
  $schema: text(1024).optional(),
  deployment: DeploymentSchema.default(DeploymentSchema.parse({})),
  jobs: z.array(JobSchema, { error: 'must be an array of jobs' }).min(1, { error: 'must list at least one job' }).max(200, { error: 'must list at most 200 jobs' }),
});

interface IssueSink {
  addIssue(i: { code: 'custom'; path: (string | number)[]; message: string }): void;
}

type At = (...p: (string | number)[]) => (string | number)[];
type Report = (path: (string | number)[], message: string) => void;

/**
 * A rule that relates fields of one job to each other. `doc` is how the config reference lists it (scripts/schemas.ts
 * renders CROSS_FIELD_RULES), so a rule cannot be enforced here without being documented there.
 */
interface JobRule {
  doc: string;
  check(job: JobConfig, at: At, report: Report): void;
}

const JOB_RULES: readonly JobRule[] = [
  {
    doc: '`bounds.minParallelism ≤ bounds.maxParallelism`',
    check: ({ bounds: b }, at, report) => {
      if (b.minParallelism > b.maxParallelism) report(at('bounds', 'minParallelism'), `must be ≤ bounds.maxParallelism (${b.maxParallelism})`);
    },
  },
  {
    doc: '`bounds.minTaskManagers ≤ bounds.maxTaskManagers`',
    check: ({ bounds: b }, at, report) => {
      if (b.minTaskManagers > b.maxTaskManagers) report(at('bounds', 'minTaskManagers'), `must be ≤ bounds.maxTaskManagers (${b.maxTaskManagers})`);
    },
  },
  {
    doc: '`bounds.maxParallelism ≤ bounds.jobMaxParallelism` (when set, 128..32768)',
    check: ({ bounds: b }, at, report) => {
      if (b.jobMaxParallelism !== undefined && b.jobMaxParallelism < b.maxParallelism) {
        report(at('bounds', 'maxParallelism'), `must be ≤ bounds.jobMaxParallelism (${b.jobMaxParallelism}): Flink cannot run more subtasks than key groups`);
      }
    },
  },
  {
    doc: '`bounds.maxTaskManagers × slotsPerTaskManager ≥ bounds.maxParallelism`',
    check: ({ bounds: b, slotsPerTaskManager: spt }, at, report) => {
      const slots = b.maxTaskManagers * spt;
      if (slots < b.maxParallelism) {
        report(
          at('bounds', 'maxTaskManagers'),
          `maxTaskManagers × slotsPerTaskManager = ${b.maxTaskManagers} × ${spt} = ${slots} slots, fewer than bounds.maxParallelism (${b.maxParallelism}); must be ≥ ${Math.ceil(b.maxParallelism / spt)}`,
        );
      }
    },
  },
  {
    doc: '`lag.lowThreshold < lag.highThreshold`',
    check: ({ lag }, at, report) => {
      if (lag && lag.lowThreshold >= lag.highThreshold) report(at('lag', 'lowThreshold'), `must be < lag.highThreshold (${lag.highThreshold})`);
    },
  },
  {
    doc: '`cpu.lowPercent < cpu.highPercent`',
    check: ({ cpu }, at, report) => {
      if (cpu.lowPercent >= cpu.highPercent) report(at('cpu', 'lowPercent'), `must be < cpu.highPercent (${cpu.highPercent})`);
    },
  },
  {
    doc: '`alarm.datapointsToAlarm ≤ alarm.evaluationPeriods` (lag and CPU)',
    check: (job, at, report) => {
      for (const [k, a] of [['lag', job.lag?.alarm], ['cpu', job.cpu.alarm]] as const) {
        if (a && a.datapointsToAlarm > a.evaluationPeriods) report(at(k, 'alarm', 'datapointsToAlarm'), `must be ≤ ${k}.alarm.evaluationPeriods (${a.evaluationPeriods})`);
      }
    },
  },
  {
    doc: '`cpu.source` must fit `target.kind` (`asg` needs an `asg` target, `container-insights` an EKS target)',
    check: ({ cpu, target }, at, report) => {
      if (cpu.source === 'asg' && target.kind !== 'asg') {
        report(at('cpu', 'source'), `"asg" needs target.kind "asg" (this job's target is "${target.kind}"); use "container-insights" or "flink-jvm"`);
      }
      if (cpu.source === 'container-insights' && target.kind === 'asg') {
        report(at('cpu', 'source'), `"container-insights" needs an EKS target (this job's target is "asg"); use "asg" or "flink-jvm"`);
      }
    },
  },
  {
    doc: 'savepoint mode needs `submit.jarId` or `submit.jarPath` and `savepoint.directory` (unless the operator owns the job)',
    check: (job, at, report) => {
      const operatorOwnsJob = job.target.kind === 'flink-deployment' && job.target.operatorOwnsJob;
      if (job.mode !== 'savepoint' || operatorOwnsJob) return;
      if (!job.submit || (!job.submit.jarId && !job.submit.jarPath)) report(at('submit'), 'savepoint mode needs submit.jarId or submit.jarPath to resubmit the job');
      if (!job.savepoint) report(at('savepoint'), 'savepoint mode needs savepoint.directory');
    },
  },
  {
    doc: '`mode` `adaptive` needs Flink ≥ 1.18 (when `flink.version` is set)',
    check: ({ mode, flink }, at, report) => {
      if (mode === 'adaptive' && flink.version && versionLess(flink.version, '1.18')) {
        report(at('mode'), `"adaptive" needs Flink ≥ 1.18 (flink.version is ${flink.version}); use "savepoint"`);
      }
    },
  },
  {
    doc: '`submit.flinkConfiguration` needs Flink ≥ 1.16 (when `flink.version` is set)',
    check: ({ submit, flink }, at, report) => {
      if (submit?.flinkConfiguration && flink.version && versionLess(flink.version, '1.16')) {
        report(at('submit', 'flinkConfiguration'), `needs Flink ≥ 1.16 (flink.version is ${flink.version})`);
      }
    },
  },
  {
    doc: '`savepoint.formatType` `NATIVE` needs Flink ≥ 1.15 (when `flink.version` is set)',
    check: ({ savepoint, flink }, at, report) => {
      if (savepoint?.formatType === 'NATIVE' && flink.version && versionLess(flink.version, '1.15')) {
        report(at('savepoint', 'formatType'), `"NATIVE" needs Flink ≥ 1.15 (flink.version is ${flink.version})`);
      }
    },
  },
  {
    doc: '`policy.alignment` `source-partitions` needs `policy.sourcePartitions`',
    check: ({ policy }, at, report) => {
      if (policy.alignment === 'source-partitions' && policy.sourcePartitions === undefined) {
        report(at('policy', 'sourcePartitions'), 'is required when policy.alignment is "source-partitions"');
      }
    },
  },
  {
    doc: '`policy.utilizationMin < policy.targetUtilization < policy.utilizationMax` (each when set)',
    check: ({ policy: p }, at, report) => {
      if (p.utilizationMin !== undefined && p.utilizationMin >= p.targetUtilization) {
        report(at('policy', 'utilizationMin'), `must be < policy.targetUtilization (${p.targetUtilization}): 0 ≤ utilizationMin < ${p.targetUtilization}`);
      }
      if (p.utilizationMax !== undefined && p.utilizationMax <= p.targetUtilization) {
        report(at('policy', 'utilizationMax'), `must be > policy.targetUtilization (${p.targetUtilization}): ${p.targetUtilization} < utilizationMax ≤ 1`);
      }
    },
  },
  {
    doc: '`flink.auth` needs an `https://` `flink.url` (credentials are not sent over plain http) unless `flink.allowInsecure` is true',
    check: ({ flink }, at, report) => {
      if (flink.auth && !flink.allowInsecure && /^http:/i.test(flink.url)) {
        report(at('flink', 'auth'), `${flink.auth.type} auth over plain http would send the credentials in clear text; use an https:// flink.url, or set flink.allowInsecure: true on a trusted network`);
      }
    },
  },
  {
    doc: '`schedules[].name` unique within a job',
    check: ({ schedules }, at, report) => {
      const seen = new Map<string, number>();
      schedules.forEach((s, j) => {
        if (!s) return; // an entry that is not an object: refused by the schema, named there
        const prev = seen.get(s.name);
        if (prev !== undefined) report(at('schedules', j, 'name'), `duplicate schedule name "${s.name}" (also schedules[${prev}].name); names must be unique`);
        else seen.set(s.name, j);
      });
    },
  },
  {
    doc: `the waits of one rescale fit the execution timeout (${EXECUTION_TIMEOUT_SECONDS} s): ${SLOTS_TIMEOUT_SECONDS} s for slots + \`savepoint.timeoutSeconds\` + max(${RUNNING_TIMEOUT_MIN_SECONDS}, 5 × \`policy.restartSeconds\`) + \`drainTimeoutSeconds\` (+ ${STOP_PENDING_WINDOW_SECONDS} s with \`savepoint.stopWithSavepoint\`)`,
    check: (job, at, report) => {
      const savepoint = job.savepoint?.timeoutSeconds ?? 900;
      const running = Math.max(RUNNING_TIMEOUT_MIN_SECONDS, 5 * job.policy.restartSeconds);
      const stopPending = job.savepoint?.stopWithSavepoint ? STOP_PENDING_WINDOW_SECONDS : 0;
      const sum = SLOTS_TIMEOUT_SECONDS + savepoint + running + job.drainTimeoutSeconds + stopPending;
      if (sum > EXECUTION_TIMEOUT_SECONDS) {
        report(
          at('drainTimeoutSeconds'),
          `the waits of one rescale add up to ${sum} s (slots ${SLOTS_TIMEOUT_SECONDS} + savepoint.timeoutSeconds ${savepoint} + running ${running} (5 × policy.restartSeconds, at least ${RUNNING_TIMEOUT_MIN_SECONDS}) + drainTimeoutSeconds ${job.drainTimeoutSeconds}${stopPending ? ` + stop-pending ${stopPending}` : ''}), more than the execution timeout of ${EXECUTION_TIMEOUT_SECONDS} s; lower one of them`,
        );
      }
    },
  },
  {
    doc: '`schedules[].parallelism` within `bounds.minParallelism`..`bounds.maxParallelism`',
    check: ({ schedules, bounds: b }, at, report) => {
      schedules.forEach((s, j) => {
        if (!s) return;
        if (s.parallelism < b.minParallelism || s.parallelism > b.maxParallelism) {
          report(at('schedules', j, 'parallelism'), `must be within bounds: ${b.minParallelism} to ${b.maxParallelism}`);
        }
      });
    },
  },
];

const UNIQUE_NAMES_RULE = 'job names are unique';

/** Every rule across fields, as the config reference lists them: the per-job rules in the order they run, then names. */
export const CROSS_FIELD_RULES: readonly string[] = [...JOB_RULES.map((r) => r.doc), UNIQUE_NAMES_RULE];

/**
 * Rules that relate fields to each other. They run on every job whose own fields are valid, even when other
 * jobs are not, so one run reports every problem at once.
 */
function crossFieldChecks(jobs: readonly (JobConfig | undefined)[], names: readonly unknown[], ctx: IssueSink): void {
  const report: Report = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  const seen = new Map<unknown, number>();
  names.forEach((name, i) => {
    const prev = seen.get(name);
    if (typeof name !== 'string') return;
    if (prev !== undefined) {
      report(['jobs', i, 'name'], `duplicate job name "${name}" (also jobs[${prev}].name); names must be unique`);
    } else seen.set(name, i);
  });
  jobs.forEach((job, i) => {
    if (!job) return;
    const at: At = (...p) => ['jobs', i, ...p];
    for (const rule of JOB_RULES) {
      try {
        rule.check(job, at, report);
      } catch (e) {
        if (e !== SKIP_RULE) throw e;
      }
    }
  });
}

/** Thrown by a partial job when a rule reads a field that is itself invalid: that rule is skipped for the job. */
const SKIP_RULE = Symbol('skip rule');

/**
 * A job whose own fields are not all valid, for the cross-field rules: every top-level field that parses on its
 * own is there (defaults filled in); reading one that does not skips the rule. So a job with a typo in one
 * section still gets its cross-field problems reported in the same run.
 */
function partialJob(raw: unknown): JobConfig | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  return partialObject(JobSchema.shape as Record<string, z.ZodType>, raw as Record<string, unknown>) as unknown as JobConfig;
}

/** The fields of `raw` that parse (arrays of objects element by element); reading any other skips the rule. */
function partialObject(shape: Record<string, z.ZodType>, raw: Record<string, unknown>): Record<string, unknown> {
  const good: Record<string, unknown> = {};
  const bad = new Set<PropertyKey>();
  for (const [k, schema] of Object.entries(shape)) {
    const r = schema.safeParse(raw[k]);
    if (r.success) good[k] = r.data;
    else {
      const items = Array.isArray(raw[k]) ? objectArrayShape(schema) : undefined;
      if (items) good[k] = (raw[k] as unknown[]).map((e) => (e !== null && typeof e === 'object' && !Array.isArray(e) ? partialElement(items, e as Record<string, unknown>) : undefined));
      else bad.add(k);
    }
  }
  return new Proxy(good, {
    get: (t, k) => {
      if (bad.has(k)) throw SKIP_RULE;
      return t[k as string];
    },
  });
}

function partialElement(shape: Record<string, z.ZodType>, raw: Record<string, unknown>): unknown {
  const r = z.object(shape).safeParse(raw);
  return r.success ? r.data : partialObject(shape, raw);
}

/** The element shape when `schema` is (a default or optional of) an array of objects. */
function objectArrayShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s = schema as unknown as { def: { type: string; innerType?: unknown; element?: unknown }; shape?: Record<string, z.ZodType> };
  while (s.def.type === 'default' || s.def.type === 'optional') s = s.def.innerType as typeof s;
  if (s.def.type !== 'array') return undefined;
  const el = s.def.element as typeof s;
  return el.def.type === 'object' ? el.shape : undefined;
}

/** Own keys "__proto__", "constructor" or "prototype" anywhere in the raw document (a bounded, iterative walk). */
function reservedKeyProblems(input: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: input, path: [] }];
  let visited = 0;
  while (stack.length > 0 && visited++ < 100_000 && out.length < 20) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object' || path.length > 12) continue;
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (RESERVED_KEYS.has(k)) out.push({ path: jsonPath([...path, k]), message: 'must not be a key: "__proto__", "constructor" and "prototype" are refused as names' });
      else stack.push({ v: (v as Record<string, unknown>)[k], path: [...path, k] });
    }
  }
  return out;
}

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Compares "major.minor" Flink versions. */
export function versionLess(a: string, b: string): boolean {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am !== bm ? am < bm : an < bn;
}

/** One validation problem, addressed by a JSON path such as `jobs[0].bounds.maxParallelism`. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** The offending value, bounded (a few levels deep, long strings cut): inputs can be huge or deeply nested. */
  value?: unknown;
}

export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    readonly source = 'config',
  ) {
    super(`${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const got = p.value === undefined ? '' : ` (got ${preview(p.value)})`;
  return `  - ${p.path || '(root)'}: ${p.message}${got}`;
}

export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Turns zod issues into problems that name the path, the bad value and what is allowed. */
export function problemsFrom(error: z.ZodError, input: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const walk = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]) => {
    for (const iss of issues) {
      const path = [...prefix, ...iss.path];
      if (iss.code === 'invalid_union' && iss.errors.length > 0 && !iss.message.startsWith('must')) {
        // report the branch that got furthest rather than "invalid input"
        const best = iss.errors.reduce((a, b) => (b.length < a.length ? b : a));
        walk(best, path);
        continue;
      }
      out.push({ path: jsonPath(path), message: iss.message, value: iss.code === 'unrecognized_keys' ? undefined : boundedValue(valueAt(input, path)) });
    }
  };
  walk(error.issues, []);
  return out;
}

function check(input: unknown): { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] } {
  const r = ConfigSchema.safeParse(input);
  const problems: ConfigProblem[] = r.success ? [] : problemsFrom(r.error, input);
  const rawJobs = (input as { jobs?: unknown } | null)?.jobs;
  const jobs: (JobConfig | undefined)[] = r.success
    ? r.data.jobs
    : Array.isArray(rawJobs)
      ? rawJobs.map((j) => {
          const one = JobSchema.safeParse(j);
          return one.success ? one.data : partialJob(j);
        })
      : [];
  const names = Array.isArray(rawJobs) ? rawJobs.map((j) => (j as { name?: unknown } | null)?.name) : [];
  const reserved = reservedKeyProblems(input);
  problems.push(...reserved.filter((p) => !problems.some((q) => q.path === p.path)));
  crossFieldChecks(jobs, names, {
    addIssue: (i) => problems.push({ path: jsonPath(i.path), message: i.message, value: boundedValue(valueAt(input, i.path)) }),
  });
  problems.sort((a, b) => comparePaths(a.path, b.path));
  return r.success && problems.length === 0 ? { ok: true, config: r.data } : { ok: false, problems };
}

function comparePaths(a: string, b: string): number {
  const ja = /^jobs\[(\d+)\]/.exec(a);
  const jb = /^jobs\[(\d+)\]/.exec(b);
  if (ja && jb && ja[1] !== jb[1]) return Number(ja[1]) - Number(jb[1]);
  return 0;
}

/** Validates a parsed config document. Throws ConfigError listing every problem at once. */
export function parseConfig(input: unknown, source = 'config'): Config {
  const r = check(input);
  if (!r.ok) throw new ConfigError(r.problems, source);
  return r.config;
}

/** Like parseConfig, but returns the problems instead of throwing. */
export function validateConfig(input: unknown): { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] } {
  return check(input);
}

/** Validates one job entry on its own (used by handlers that receive a single job's config). */
export function parseJob(input: unknown, source = 'job'): JobConfig {
  const r = JobSchema.safeParse(input);
  if (!r.success) throw new ConfigError(problemsFrom(r.error, input), source);
  return r.data;
}

export function findJob(config: Config, name: string): JobConfig {
  const job = config.jobs.find((j) => j.name === name);
  if (!job) {
    throw new ConfigError([{ path: 'job', message: `no job named "${name}"; configured jobs: ${config.jobs.map((j) => j.name).join(', ')}`, value: name }]);
  }
  return job;
}

/** Where TaskManager CPU is read from for a job (explicit, or by target kind). */
export function cpuSourceOf(job: JobConfig): 'asg' | 'container-insights' | 'flink-jvm' {
  return job.cpu.source ?? (job.target.kind === 'asg' ? 'asg' : 'container-insights');
}

/** Capacity always follows parallelism: TMs = ceil(slots needed / slots per TM), within the TM bounds. */
export function taskManagersFor(job: Pick<JobConfig, 'slotsPerTaskManager' | 'bounds'>, parallelism: number): number {
  const need = Math.ceil(parallelism / job.slotsPerTaskManager);
  return Math.min(job.bounds.maxTaskManagers, Math.max(job.bounds.minTaskManagers, need));
}
