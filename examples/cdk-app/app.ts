/**
 * Another team's CDK app using flink-elastic as a construct library: its own stack, its existing VPC, security group,
 * Auto Scaling group, EKS cluster and SNS topic, all imported by attributes (no lookups: synthesizes offline).
 *
 *   cd examples/cdk-app && npx cdk synth        (cdk.json runs this file with tsx)
 *
 * In a real app the import is `from 'flink-elastic'` too: here that name maps to this repo's lib/index.ts
 * (tsconfig.json paths; jest moduleNameMapper), in an installed package to dist/lib/index.js (package.json exports).
 */
import { join } from 'node:path';
import { App, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { FlinkElastic, type FlinkElasticConfigSource } from 'flink-elastic';

export const EXAMPLE_CONFIG_FILE = join(__dirname, 'flink-elastic.config.json');

export interface StreamingPlatformStackProps extends StackProps {
  /** The flink-elastic config (object or file path). */
  config?: FlinkElasticConfigSource;
}

/** The team's stack: its own things first, then flink-elastic wired to them. */
export class StreamingPlatformStack extends Stack {
  readonly elastic: FlinkElastic;

  constructor(scope: Construct, id: string, props: StreamingPlatformStackProps = {}) {
    super(scope, id, props);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0f1e2d3c4b5a69788',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0f1e2d3c4b5a69711', 'subnet-0f1e2d3c4b5a69722'],
      privateSubnetRouteTableIds: ['rtb-0f1e2d3c4b5a69733', 'rtb-0f1e2d3c4b5a69744'],
    });
    const flinkClients = ec2.SecurityGroup.fromSecurityGroupId(this, 'FlinkClients', 'sg-0f1e2d3c4b5a69755', { mutable: false });
    const taskManagers = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(this, 'PaymentsTaskManagers', 'payments-flink-taskmanagers');
    const cluster = eks.Cluster.fromClusterAttributes(this, 'Streaming', { clusterName: 'streaming' });
    const alerts = sns.Topic.fromTopicAttributes(this, 'Alerts', { topicArn: 'arn:aws:sns:eu-west-1:111122223333:payments-alerts' });

    this.elastic = new FlinkElastic(this, 'FlinkElastic', {
      config: props.config ?? EXAMPLE_CONFIG_FILE,
      vpc,
      securityGroups: [flinkClients],
      autoScalingGroups: { 'payments-enrichment': taskManagers },
      eksCluster: cluster,
      topic: alerts,
    });
  }
}

/** The app, with cdk-nag's AwsSolutions checks as in this repo's own app. */
export function exampleApp(opts: { config?: FlinkElasticConfigSource; outdir?: string; bundle?: boolean } = {}): { app: App; stack: StreamingPlatformStack } {
  const app = new App({ outdir: opts.outdir, context: opts.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {} });
  const stack = new StreamingPlatformStack(app, 'StreamingPlatform', { config: opts.config, description: 'Payments streaming platform with flink-elastic' });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (require.main === module) exampleApp().app.synth();
