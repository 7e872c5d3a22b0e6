/**
 * Every flink-elastic Lambda: one place for runtime, architecture, bundling, Powertools settings, VPC placement,
 * logs and the config.
 *
 * The config reaches the function bundled into its code (esbuild `define` of process.env.FLINK_ELASTIC_CONFIG_JSON),
 * not as a Lambda environment variable: Lambda caps all environment variables of a function at 4 KB together, and
 * the example config alone is 4.1 KB before defaults. Bundling also needs no network call at cold start (the
 * functions sit in private subnets) and no extra IAM. A changed config changes the bundle, so its asset hash and the
 * function are updated on deploy. FLINK_ELASTIC_CONFIG_SHA256 (an ordinary environment variable) names the config
 * version in the console and in every log line. The handler validates the bundled config again at cold start.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Config } from '../../functions/core/config';
import { metricsNamespace } from '../../functions/core/signals';
import { acknowledge, acknowledgeWildcard } from './nag';

/**
 * The package root, where functions/ (the handlers' TypeScript, bundled by esbuild) and package-lock.json live: the
 * first directory above this file that has functions/handlers. lib/constructs/ → ../.. in the repo;
 * dist/lib/constructs/ → ../../.. in the compiled library (npm run build:lib).
 */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'functions', 'handlers'))) return dir;
    if (dirname(dir) === dir) throw new Error(`flink-elastic: no functions/handlers/ above ${from}; the package's functions/ sources must ship with it`);
  }
}

export const PROJECT_ROOT = findProjectRoot();

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const CONFIG_ENV = 'FLINK_ELASTIC_CONFIG_JSON';

export interface ElasticFunctionProps {
  /** Handler file relative to the project root, e.g. `functions/handlers/scaler.ts`; it exports `handler`. */
  entry: string;
  /** Powertools service name (log field `service`, tracer segment). */
  serviceName: string;
  config: Config;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
  /** Placement from config.deployment.vpc, shared by all functions of a stack (see `importVpcPlacement`). */
  vpc?: VpcPlacement;
  logRetention?: logs.RetentionDays;
  /** Share another function's execution role (same code, same permissions: e.g. the watchdog and the step function). */
  role?: iam.IRole;
}

export interface VpcPlacement {
  vpc: ec2.IVpc;
  subnets: ec2.ISubnet[];
  securityGroups: ec2.ISecurityGroup[];
}

/** Imports the configured VPC, subnets and security groups by id: no lookups, synthesizes offline. */
export function importVpcPlacement(scope: Construct, config: Config): VpcPlacement | undefined {
  const v = config.deployment.vpc;
  if (!v) return undefined;
  const vpc = ec2.Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: v.vpcId, availabilityZones: Fn.getAzs() });
  acknowledge(vpc, 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones', 'Only used to place Lambdas in explicitly listed subnets; nothing derives subnets from the AZ list');
  const subnet = (id: string) => {
    const s = ec2.Subnet.fromSubnetId(scope, `Subnet-${id}`, id);
    acknowledge(s, 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', 'Only used for Lambda VpcConfig.SubnetIds; no route table is read or changed');
    return s;
  };
  return {
    vpc,
    subnets: v.subnetIds.map(subnet),
    securityGroups: v.securityGroupIds.map((id) => ec2.SecurityGroup.fromSecurityGroupId(scope, `Sg-${id}`, id, { mutable: false })),
  };
}

/** Acknowledges the managed VPC-access policy CDK attaches to a Lambda role placed in a VPC. */
export function acknowledgeVpcAccess(role: iam.IRole): void {
  acknowledge(
    role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    'Lambda needs ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface to run in the configured subnets (reach the JobManagers); these actions support no resource scoping by function',
  );
}

/** Stable short digest of the validated config, shown as FLINK_ELASTIC_CONFIG_SHA256. */
export function configDigest(config: Config): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

export class ElasticFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: ElasticFunctionProps) {
    const { config } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role: props.role,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      ...(props.vpc
        ? { vpc: props.vpc.vpc, vpcSubnets: { subnets: props.vpc.subnets }, securityGroups: props.vpc.securityGroups }
        : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(config.deployment.stackName),
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        FLINK_ELASTIC_STACK: config.deployment.stackName,
        FLINK_ELASTIC_CONFIG_SHA256: configDigest(config),
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        mainFields: ['module', 'main'],
        // The AWS SDK v3 comes with the runtime; everything else is bundled.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
        define: { [`process.env.${CONFIG_ENV}`]: JSON.stringify(JSON.stringify(config)) },
      },
    });
    const role = this.role!;
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Lambda basic execution: CreateLogStream/PutLogEvents for the function\'s own logs (logs:CreateLogGroup unused, the log group is created by this stack)',
    );
    if (props.vpc) acknowledgeVpcAccess(role);
    acknowledgeWildcard(role, '*', 'X-Ray xray:PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions');
  }

  /** Adds a statement whose actions support no resource-level permissions, acknowledging the finding with `reason`. */
  allowOnAnyResource(sid: string, actions: string[], reason: string): void {
    this.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources: ['*'] }));
    acknowledgeWildcard(this.role!, '*', reason);
  }
}
