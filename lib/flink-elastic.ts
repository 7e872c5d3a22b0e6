/**
 * FlinkElastic, the L3 construct: everything flink-elastic deploys, added to any stack.
 *
 *   alarms (per job: lag high/low, CPU high/low) ─► EventBridge rule ─► scaler Lambda ─► capacity target | workflow
 *   schedules (EventBridge Scheduler, per job)  ────────────────────────┤
 *   re-evaluation ticks (EventBridge, 1/min/job) ───────────────────────┘  (decides again while an alarm stays in ALARM)
 *   collector Lambda (every collectorIntervalMinutes): Flink REST ─► CloudWatch metrics (EMF)
 *   state table (locks, cooldowns, history), SNS topic, one dashboard per job
 *   ASG jobs: termination lifecycle hook per group ─► EventBridge ─► drain state machine ─► lifecycle Lambda
 *
 * The config (object or file) is validated once, here, together with the props: every problem in one ConfigError.
 * A team passes its own VPC placement, Auto Scaling groups, EKS cluster, topic and table; whatever it leaves out
 * comes from the config (VPC, group and cluster names) or is created (table, topic). This repo's own app is one user
 * (lib/flink-elastic-stack.ts, with the construct as the stack's `Default` child: the same logical ids as before).
 */
import { Annotations, Aws, CfnOutput, type CfnOutputProps, Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ConfigError, type Config } from '../functions/core/config';
import { resolveFlinkElasticConfig, type FlinkElasticConfigSource } from './config-source';
import { ElasticFunction, importVpcPlacement, type VpcPlacement } from './constructs/elastic-function';
import { grantCapacityTargets, grantFlinkSecrets, grantStateTable } from './constructs/job-access';
import { JobAlarms } from './constructs/job-alarms';
import { JobDashboard } from './constructs/job-dashboard';
import { grantPublish } from './constructs/nag';
import { chunkByLength } from './constructs/patterns';
import { RescaleWorkflow } from './constructs/rescale-workflow';
import { hookedGroups, TerminationDrain } from './constructs/termination-drain';

/** EventBridge allows event patterns up to 2048 characters; alarm names are split across rules to stay below. */
const MAX_NAMES_CHARS_PER_RULE = 1500;
/** EventBridge allows at most 5 targets per rule: one re-evaluation rule carries the ticks of up to 5 jobs. */
export const JOBS_PER_REEVALUATE_RULE = 5;

/** CloudFormation output keys the CLI's deployed mode reads (bin/commands/support/deployment.ts), and the others. */
export const OUTPUT_KEYS = [
  'StateTableName', 'StateMachineArn', 'WorkflowRoleArn', 'NotificationTopicArn', 'ScalerRoleArn', 'CollectorRoleArn', 'DashboardsUrl',
  'TerminationDrainStateMachineArn', 'LifecycleHookName',
] as const;

export interface FlinkElasticProps {
  /**
   * The flink-elastic config: an object with the shape of flink-elastic.config.json (defaults may be left out), or
   * the path of such a JSON file (relative to the working directory of `cdk synth`). Validated once, at synth,
   * together with the other props; an invalid config fails the synth with a ConfigError that lists every problem.
   * `deployment.stackName` prefixes the names of alarms, state machines, dashboards and the metric namespace.
   */
  readonly config: FlinkElasticConfigSource;
  /**
   * The VPC the Lambdas run in, to reach the JobManagers' REST API. Replaces `deployment.vpc` of the config (set one
   * or the other). Import an existing one without lookups: `ec2.Vpc.fromVpcAttributes(...)`.
   * @default the config's `deployment.vpc`, or no VPC (JobManagers reachable publicly)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Which subnets of `vpc` the Lambdas use.
   * @default the VPC's private subnets (CDK's default subnet selection)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the Lambdas in `vpc`; they need egress to the JobManagers' REST port (and to AWS APIs).
   * @default CDK creates one security group per function (all egress allowed)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The Auto Scaling group of each job with an `asg` target, by job name: an `IAutoScalingGroup`
   * (e.g. `autoscaling.AutoScalingGroup.fromAutoScalingGroupName(...)`) or the group's name. Fills the job's
   * `target.autoScalingGroupName` (the job's `target` may be left out of the config); a different name in the config
   * is a problem. The group's name must be concrete at synth (it is bundled into the functions and used in IAM).
   * @default the names in the config
   */
  readonly autoScalingGroups?: Record<string, autoscaling.IAutoScalingGroup | string>;
  /**
   * The EKS cluster of every `eks-deployment` and `flink-deployment` target: an `eks.ICluster`
   * (e.g. `eks.Cluster.fromClusterAttributes(...)`) or its name. Fills `target.clusterName`; a different name in the
   * config is a problem. flink-elastic's roles still need access on the cluster (the ScalerRoleArn and
   * WorkflowRoleArn outputs; docs/deploy.md).
   * @default the cluster names in the config
   */
  readonly eksCluster?: eks.ICluster | string;
  /**
   * The SNS topic for decisions, rescale results and failures. The config's notification emails are subscribed to it.
   * @default a new topic (TLS enforced)
   */
  readonly topic?: sns.ITopic;
  /**
   * An existing state table (locks, cooldowns, policy state, history): partition key `pk` (string), sort key `sk`
   * (string), TTL attribute `expiresAt`. Useful to keep the history across a re-created stack.
   * @default a new on-demand table with point-in-time recovery, retained on `cdk destroy`
   */
  readonly stateTable?: dynamodb.ITableV2 | dynamodb.ITable;
}

/** flink-elastic's alarms, scaler, collector, rescale workflow, termination drain, table, topic and dashboards. */
export class FlinkElastic extends Construct {
  /** The validated config (defaults applied, props merged in), as bundled into every function. */
  readonly config: Config;
  /** The state table: created, or `props.stateTable`. */
  readonly table: dynamodb.ITableV2 | dynamodb.ITable;
  /** The notification topic: created, or `props.topic`. */
  readonly topic: sns.ITopic;
  readonly scaler: ElasticFunction;
  readonly collector: ElasticFunction;
  readonly alarms: JobAlarms[] = [];
  readonly alarmRules: events.Rule[] = [];
  /** 1-minute re-evaluation ticks `{source: "reevaluate", job, time}`, one target per enabled job, 5 jobs per rule. */
  readonly reevaluateRules: events.Rule[] = [];
  readonly dashboards: JobDashboard[] = [];
  readonly schedulerRole?: iam.Role;
  readonly workflow: RescaleWorkflow;
  /** The termination lifecycle hooks and their drain loop; present when an enabled, non-dry-run job uses an ASG. */
  readonly terminationDrain?: TerminationDrain;
  /** The rescale workflow's state machine (`attachWorkflow`). The scaler may start executions of it and nothing else. */
  stateMachine?: sfn.IStateMachine;

  constructor(scope: Construct, id: string, props: FlinkElasticProps) {
    super(scope, id);
    const fromProps = props.vpc !== undefined;
    if (!fromProps && (props.vpcSubnets !== undefined || props.securityGroups !== undefined)) {
      throw new ConfigError([{ path: 'props.vpc', message: 'is required when vpcSubnets or securityGroups are given' }], 'FlinkElastic props');
    }
    const config = resolveFlinkElasticConfig(props.config, { autoScalingGroups: props.autoScalingGroups, eksCluster: props.eksCluster, vpcFromProps: fromProps });
    this.config = config;
    const stack = Stack.of(this);
    const stackName = config.deployment.stackName;
    for (const [k, v] of Object.entries(config.deployment.tags)) Tags.of(this).add(k, v);
    if (!Token.isUnresolved(stack.stackName) && stack.stackName !== stackName) {
      Annotations.of(this).addWarningV2(
        'flink-elastic:stackName',
        `deployment.stackName is "${stackName}" but this stack is "${stack.stackName}": resource names use "${stackName}"; the CLI's deployed mode reads the outputs of the stack named deployment.stackName`,
      );
    }

    // Locks, cooldowns, policy state and history, one partition per job (or the team's own table: same keys and TTL).
    this.table =
      props.stateTable ??
      new dynamodb.TableV2(this, 'StateTable', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: 'expiresAt',
        removalPolicy: RemovalPolicy.RETAIN,
      });

    // Notifications carry job names, parallelism and savepoint paths: encrypted at rest with a key of this stack's
    // (rotated yearly). Every publisher is a Lambda role, which grantPublish also lets use the key.
    this.topic =
      props.topic ??
      new sns.Topic(this, 'Notifications', {
        displayName: 'flink-elastic',
        enforceSSL: true,
        masterKey: new kms.Key(this, 'NotificationsKey', {
          description: 'flink-elastic: encrypts the notification topic',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.DESTROY,
          pendingWindow: Duration.days(30),
        }),
      });
    const emails = new Set([config.deployment.notificationEmail, ...config.jobs.map((j) => j.notificationEmail)].filter((e): e is string => !!e));
    for (const email of emails) this.topic.addSubscription(new subs.EmailSubscription(email));

    const vpc: VpcPlacement | undefined = props.vpc
      ? { vpc: props.vpc, subnets: props.vpc.selectSubnets(props.vpcSubnets).subnets, securityGroups: props.securityGroups ?? [] }
      : importVpcPlacement(this, config);
    const common = {
      STATE_TABLE_NAME: this.table.tableName,
      NOTIFICATION_TOPIC_ARN: this.topic.topicArn,
    };

    // --- the collector: Flink REST -> CloudWatch (EMF), so alarms and dashboards can use Flink's own signals ---
    this.collector = new ElasticFunction(this, 'Collector', {
      entry: 'functions/handlers/collector.ts',
      serviceName: 'flink-elastic-collector',
      description: 'flink-elastic: publishes Flink REST metrics of every job as CloudWatch metrics (EMF)',
      config,
      vpc,
      timeout: Duration.seconds(Math.min(55 * config.deployment.collectorIntervalMinutes, 300)),
      environment: common,
    });
    grantFlinkSecrets(this.collector, stack, config);
    new events.Rule(this, 'CollectorSchedule', {
      description: `flink-elastic ${stackName}: collect Flink metrics every ${config.deployment.collectorIntervalMinutes} min`,
      schedule: events.Schedule.rate(Duration.minutes(config.deployment.collectorIntervalMinutes)),
      targets: [new targets.LambdaFunction(this.collector, { retryAttempts: 0 })],
    });

    // --- the scaler: alarm or schedule in -> decide -> capacity change or workflow execution ---
    this.scaler = new ElasticFunction(this, 'Scaler', {
      entry: 'functions/handlers/scaler.ts',
      serviceName: 'flink-elastic-scaler',
      description: 'flink-elastic: decides and acts on lag/CPU alarms and schedule entries',
      config,
      vpc,
      timeout: Duration.seconds(120),
      environment: common,
    });
    grantStateTable(this.table, this.scaler);
    grantPublish(this.topic, this.scaler);
    grantFlinkSecrets(this.scaler, stack, config);
    grantCapacityTargets(this.scaler, stack, config);
    this.scaler.allowOnAnyResource('ReadScalingMetrics', ['cloudwatch:GetMetricData'], 'cloudwatch:GetMetricData supports no resource-level permissions; read-only');

    // --- alarms per enabled job, and the rule(s) that deliver their ALARM transitions to the scaler ---
    for (const job of config.jobs.filter((j) => j.enabled)) {
      this.alarms.push(new JobAlarms(this, `Alarms-${job.name}`, { stackName, job }));
    }
    const names = this.alarms.flatMap((a) => a.alarms.map((x) => x.spec.alarmName));
    chunkByLength(names, MAX_NAMES_CHARS_PER_RULE).forEach((chunk, i) => {
      this.alarmRules.push(
        new events.Rule(this, i === 0 ? 'AlarmStateChange' : `AlarmStateChange${i + 1}`, {
          description: `flink-elastic ${stackName}: lag/CPU alarms entering ALARM -> scaler`,
          eventPattern: {
            source: ['aws.cloudwatch'],
            detailType: ['CloudWatch Alarm State Change'],
            detail: { alarmName: chunk, state: { value: ['ALARM'] } },
          },
          targets: [new targets.LambdaFunction(this.scaler, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
        }),
      );
    });

    // --- re-evaluation: EventBridge fires only on alarm state CHANGES; an alarm that stays in ALARM while the scaler
    // said "no change" (cooldown, rescale in progress, scale-down delay) would never fire again. Every minute each
    // enabled job (dry-run ones too) gets {source:'reevaluate', job, time}; the scaler reads the job's alarm states
    // (DescribeAlarms) and returns at once unless one is in ALARM. `time` is the event's own time: a re-delivered tick
    // has the same minute, so it acts once.
    const ticked = config.jobs.filter((j) => j.enabled);
    for (let i = 0; i < ticked.length; i += JOBS_PER_REEVALUATE_RULE) {
      const chunk = ticked.slice(i, i + JOBS_PER_REEVALUATE_RULE);
      const n = i / JOBS_PER_REEVALUATE_RULE;
      this.reevaluateRules.push(
        new events.Rule(this, n === 0 ? 'Reevaluate' : `Reevaluate${n + 1}`, {
          description: `flink-elastic ${stackName}: re-evaluate ${chunk.map((j) => j.name).join(', ')} every minute while an alarm stays in ALARM`.slice(0, 512),
          schedule: events.Schedule.rate(Duration.minutes(1)),
          targets: chunk.map(
            (job) =>
              new targets.LambdaFunction(this.scaler, {
                event: events.RuleTargetInput.fromObject({ source: 'reevaluate', job: job.name, time: events.EventField.time }),
                // A late tick is worth nothing: the next one comes a minute later.
                retryAttempts: 2,
                maxEventAge: Duration.minutes(1),
              }),
          ),
        }),
      );
    }
    // DescribeAlarms on exactly this stack's alarms (the action supports alarm ARNs; composite alarms, which would
    // need "*", are not read).
    const alarmArns = this.alarms.flatMap((a) => a.alarms.map((x) => x.alarm.alarmArn));
    if (alarmArns.length > 0) {
      this.scaler.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadAlarmStates', actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }));
    }

    // --- scheduled scaling: EventBridge Scheduler -> scaler {source:'schedule', job, parallelism} ---
    const scheduled = config.jobs.filter((j) => j.enabled && j.schedules.length > 0);
    if (scheduled.length > 0) {
      const role = new iam.Role(this, 'SchedulerRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
        description: 'flink-elastic: lets EventBridge Scheduler invoke the scaler for scheduled scaling',
      });
      role.addToPolicy(new iam.PolicyStatement({ sid: 'InvokeScaler', actions: ['lambda:InvokeFunction'], resources: [this.scaler.functionArn] }));
      this.schedulerRole = role;
      for (const job of scheduled) {
        for (const s of job.schedules) {
          new scheduler.CfnSchedule(this, `Schedule-${job.name}-${s.name}`, {
            description: `flink-elastic ${stackName}: ${job.name} to parallelism ${s.parallelism} (${s.name})`,
            scheduleExpression: s.cron,
            scheduleExpressionTimezone: s.timezone,
            flexibleTimeWindow: { mode: 'OFF' },
            state: 'ENABLED',
            target: {
              arn: this.scaler.functionArn,
              roleArn: role.roleArn,
              // Scheduler fills <aws.scheduler.scheduled-time>: retries of one run share it, so they start one execution.
              input: JSON.stringify({ source: 'schedule', job: job.name, parallelism: s.parallelism, schedule: s.name, scheduledTime: '<aws.scheduler.scheduled-time>' }),
              retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 900 },
            },
          });
        }
      }
    }

    // --- dashboards ---
    for (const job of config.jobs) {
      const alarms = this.alarms.find((a) => a.node.id === `Alarms-${job.name}`)?.alarms.map((a) => a.alarm) ?? [];
      this.dashboards.push(new JobDashboard(this, `Dashboard-${job.name}`, { stackName, job, alarms, scalerLogGroup: this.scaler.logGroup }));
    }

    // --- the rescale workflow (savepoint → cancel → resubmit → wait running → drain), started by the scaler ---
    // Its step function is an ElasticFunction like the others: same VPC placement, bundled config, nag handling.
    this.workflow = new RescaleWorkflow(this, 'RescaleWorkflow', { config, table: this.table, topic: this.topic, vpc });
    this.attachWorkflow(this.workflow.stateMachine);

    // --- ASG termination lifecycle hooks: any termination of a TaskManager instance waits until it holds no slots ---
    if (hookedGroups(config).length > 0) {
      this.terminationDrain = new TerminationDrain(this, 'TerminationDrain', { config, topic: this.topic, vpc });
      this.output('TerminationDrainStateMachineArn', { value: this.terminationDrain.stateMachine.stateMachineArn });
      this.output('LifecycleHookName', { value: this.terminationDrain.hookName, description: 'The termination lifecycle hook on each configured Auto Scaling group' });
    }

    this.output('StateTableName', { value: this.table.tableName });
    this.output('StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    this.output('WorkflowRoleArn', {
      value: this.workflow.stepFunction.role!.roleArn,
      description: 'Grant this role access on EKS clusters of eks-deployment / flink-deployment targets too (docs/deploy.md)',
    });
    this.output('NotificationTopicArn', { value: this.topic.topicArn });
    this.output('ScalerRoleArn', {
      value: this.scaler.role!.roleArn,
      description: 'Grant this role access on EKS clusters of eks-deployment / flink-deployment targets (docs/deploy.md)',
    });
    this.output('CollectorRoleArn', { value: this.collector.role!.roleArn });
    this.output('DashboardsUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${stackName}-`,
    });
  }

  /**
   * A stack output under exactly `key` (no construct-path prefix): the CLI's deployed mode reads these keys from the
   * stack named `deployment.stackName`. Hence one FlinkElastic per stack.
   */
  private output(key: (typeof OUTPUT_KEYS)[number], props: CfnOutputProps): CfnOutput {
    const out = new CfnOutput(this, key, props);
    out.overrideLogicalId(key);
    return out;
  }

  /**
   * Plugs in the rescale workflow: the scaler may start executions of exactly this state machine (its ARN reaches
   * the scaler as STATE_MACHINE_ARN), and the dashboards show its failures.
   */
  attachWorkflow(stateMachine: sfn.IStateMachine): void {
    if (this.stateMachine) throw new Error('a rescale workflow is already attached');
    this.stateMachine = stateMachine;
    stateMachine.grantStartExecution(this.scaler);
    this.scaler.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    for (const d of this.dashboards) {
      d.dashboard.addWidgets(
        new cw.GraphWidget({
          title: 'Rescale workflow executions (all jobs)',
          width: 24,
          left: [
            stateMachine.metricStarted({ period: Duration.minutes(5), statistic: 'Sum' }),
            stateMachine.metricSucceeded({ period: Duration.minutes(5), statistic: 'Sum' }),
            stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
          ],
          right: [stateMachine.metricTime({ period: Duration.minutes(5), statistic: 'Maximum', label: 'execution time (ms)' })],
        }),
      );
    }
  }
}
