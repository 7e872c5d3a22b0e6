/**
 * FlinkElastic as a library: another team's app (examples/cdk-app) adds it to its own stack with its imported VPC,
 * security group, Auto Scaling group, EKS cluster and topic; cdk-nag runs as in this repo's app (Template.fromStack
 * throws on an unacknowledged finding). An invalid config fails the synth with every problem listed.
 */
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { ConfigError, FlinkElastic, loadFlinkElasticConfig, OUTPUT_KEYS, type FlinkElasticProps } from 'flink-elastic';
import { exampleApp, EXAMPLE_CONFIG_FILE } from '../../examples/cdk-app/app';
import { fnByLogicalPrefix, render, statementsOf } from './helpers';

const exampleDoc = () => JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8'));

describe('examples/cdk-app: FlinkElastic in a team\'s own stack', () => {
  let template: Template;
  let built: ReturnType<typeof exampleApp>;
  beforeAll(() => {
    built = exampleApp({ bundle: false });
    template = Template.fromStack(built.stack);
  });

  test('the team\'s topic is used: no topic created, the config\'s email subscribed to theirs, the scaler may publish to it', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'payments-oncall@example.com', TopicArn: 'arn:aws:sns:eu-west-1:111122223333:payments-alerts' });
    const publish = statementsOf(template, 'FlinkElasticScalerServiceRole').find((s) => s.Action.includes('sns:Publish'));
    expect(publish?.Resource).toEqual(['arn:aws:sns:eu-west-1:111122223333:payments-alerts']);
  });

  test('every function runs in the team\'s private subnets with its security group', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(fns.length).toBeGreaterThanOrEqual(5);
    for (const f of fns) {
      expect(f.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0f1e2d3c4b5a69711', 'subnet-0f1e2d3c4b5a69722'], SecurityGroupIds: ['sg-0f1e2d3c4b5a69755'] });
    }
  });

  test('the imported Auto Scaling group gets the termination hook and is the only group the scaler may scale', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { AutoScalingGroupName: 'payments-flink-taskmanagers', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' });
    const scale = statementsOf(template, 'FlinkElasticScalerServiceRole').find((s) => s.Sid === 'ScaleNamedAutoScalingGroups');
    expect(scale?.Resource).toEqual(['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/payments-flink-taskmanagers']);
  });

  test('the EKS cluster passed in becomes the flink-deployment target\'s cluster (bundled config and IAM)', () => {
    const eks = statementsOf(template, 'FlinkElasticScalerServiceRole').find((s) => s.Sid === 'DescribeNamedEksClusters');
    expect(eks?.Resource).toEqual(['arn:aws:eks:us-east-1:123456789012:cluster/streaming']);
    const job = built.stack.elastic.config.jobs.find((j) => j.name === 'ledger-aggregation')!;
    expect(job.target).toMatchObject({ kind: 'flink-deployment', clusterName: 'streaming', namespace: 'ledger' });
    expect(built.stack.elastic.config.jobs[0].target).toEqual({ kind: 'asg', autoScalingGroupName: 'payments-flink-taskmanagers' });
  });

  test('alarms, rescale workflow, retained state table and the outputs the CLI reads, under their plain keys', () => {
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(8);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'StreamingPlatform-payments-enrichment-lag-high', Namespace: 'AWS/Kafka' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'StreamingPlatform-rescale' });
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const outputs = Object.keys(template.findOutputs('*'));
    for (const k of OUTPUT_KEYS) expect(outputs).toContain(k);
    // the team's own stack name matches deployment.stackName: no warning
    Annotations.fromStack(built.stack).hasNoWarning('*', Match.stringLikeRegexp('deployment.stackName'));
  });
});

describe('props', () => {
  const stackWith = (props: Partial<FlinkElasticProps>) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'StreamingPlatform');
    const elastic = new FlinkElastic(stack, 'FlinkElastic', { config: EXAMPLE_CONFIG_FILE, autoScalingGroups: { 'payments-enrichment': 'payments-flink-taskmanagers' }, eksCluster: 'streaming', ...props });
    return { stack, elastic, template: Template.fromStack(stack) };
  };

  test('an existing state table replaces the created one; the functions are granted on it', () => {
    const { template } = stackWith({});
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'StreamingPlatform');
    const table = dynamodb.TableV2.fromTableName(stack, 'History', 'payments-flink-elastic-state');
    new FlinkElastic(stack, 'FlinkElastic', { config: EXAMPLE_CONFIG_FILE, autoScalingGroups: { 'payments-enrichment': 'payments-flink-taskmanagers' }, eksCluster: 'streaming', stateTable: table });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    t.resourceCountIs('AWS::DynamoDB::Table', 0);
    const grant = statementsOf(t, 'FlinkElasticScalerServiceRole').find((s) => s.Action.includes('dynamodb:UpdateItem'));
    expect(grant?.Resource).toContain('arn:aws:dynamodb:us-east-1:123456789012:table/payments-flink-elastic-state');
    expect(render(fnByLogicalPrefix(t, 'FlinkElasticScaler').Properties.Environment.Variables.STATE_TABLE_NAME)).toBe('payments-flink-elastic-state');
  });

  test('without a VPC from props or config, the functions run outside a VPC; a stack named otherwise than deployment.stackName gets a warning', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Payments');
    new FlinkElastic(stack, 'FlinkElastic', { config: EXAMPLE_CONFIG_FILE, autoScalingGroups: { 'payments-enrichment': 'payments-flink-taskmanagers' }, eksCluster: 'streaming' });
    const t = Template.fromStack(stack);
    for (const f of Object.values(t.findResources('AWS::Lambda::Function')) as any[]) expect(f.Properties.VpcConfig).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('deployment.stackName is "StreamingPlatform" but this stack is "Payments"'));
  });

  test('a config validated by loadFlinkElasticConfig is used as it is', () => {
    const config = loadFlinkElasticConfig('flink-elastic.config.json');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const elastic = new FlinkElastic(new Stack(app, 'FlinkElastic'), 'Default', { config });
    expect(elastic.config).toBe(config);
  });
});

describe('an invalid config fails the synth once, with every problem listed', () => {
  const attempt = (config: unknown, extra: object = {}): ConfigError => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'StreamingPlatform');
    try {
      new FlinkElastic(stack, 'FlinkElastic', { config: config as any, autoScalingGroups: { 'payments-enrichment': 'payments-flink-taskmanagers' }, eksCluster: 'streaming', ...extra });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect(stack.node.findAll().some((c) => c instanceof FlinkElastic && c.node.children.length > 0)).toBe(false);
      return e as ConfigError;
    }
    throw new Error('the construct accepted an invalid config');
  };

  test('schema, cross-field and props problems together, each with its path', () => {
    const doc = exampleDoc();
    doc.jobs[0].slotsPerTaskManager = 0;
    doc.jobs[0].bounds.minParallelism = 40; // above maxParallelism 32
    doc.jobs[1].flink.url = 'not a url';
    doc.jobs[1].target.clusterName = 'analytics'; // the props name "streaming"
    doc.deployment.notificationEmail = 'nobody';
    const err = attempt(doc, { autoScalingGroups: { 'payments-enrichment': 'payments-flink-taskmanagers', 'no-such-job': 'x' } });
    const paths = err.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      'props.autoScalingGroups.no-such-job',
      'props.eksCluster',
      'deployment.notificationEmail',
      'jobs[0].slotsPerTaskManager',
      'jobs[1].flink.url',
    ]));
    // one message a person reads at `cdk synth`, naming each problem
    for (const p of ['props.autoScalingGroups.no-such-job', 'props.eksCluster', 'jobs[0].slotsPerTaskManager', 'jobs[1].flink.url', 'deployment.notificationEmail']) {
      expect(err.message).toContain(`- ${p}:`);
    }
    expect(err.message).toMatch(new RegExp(`^FlinkElastic config is invalid \\(${err.problems.length} problems\\)`));
  });

  test('a job whose target is another kind than the group passed for it; a VPC both in props and config', () => {
    const doc = exampleDoc();
    doc.deployment.vpc = { vpcId: 'vpc-0a1b2c3d4e5f60718', subnetIds: ['subnet-0a1b2c3d4e5f60711'], securityGroupIds: ['sg-0a1b2c3d4e5f60733'] };
    const app = new App();
    const vpc = ec2.Vpc.fromVpcAttributes(new Stack(app, 'X'), 'Vpc', { vpcId: 'vpc-0f1e2d3c4b5a69788', availabilityZones: ['a'], privateSubnetIds: ['subnet-0f1e2d3c4b5a69711'] });
    const err = attempt(doc, { autoScalingGroups: { 'payments-enrichment': 'g', 'ledger-aggregation': 'h' }, vpc });
    // payments-enrichment names no group in the config: "g" fills it, no problem
    expect(err.problems.map((p) => p.path)).toEqual(['props.autoScalingGroups.ledger-aggregation', 'props.vpc']);
    expect(err.message).toContain('job "ledger-aggregation" has a "flink-deployment" target, not "asg"');
  });

  test('a config file that is not JSON names the file', () => {
    const err = attempt(__filename);
    expect(err.message).toContain(__filename);
    expect(err.problems[0].message).toMatch(/^not valid JSON/);
  });
});
