/**
 * The synthesized stack for the repo's example config: alarms, rule wiring, IAM, Lambdas, table, topic, dashboards,
 * schedules. cdk-nag (AwsSolutions) runs on every build: Template.fromStack throws on an unacknowledged finding.
 */
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { parseConfig } from '../../functions/core/config';
import { allAlarmSpecs, parseAlarmName } from '../../functions/core/signals';
import { parseScalerEvent } from '../../functions/scaler/event';
import { chunkByLength } from '../../lib/flink-elastic-stack';
import { STATE_TABLE_ACTIONS } from '../../lib/constructs/job-access';
import { alarmsFromTemplate } from '../../local/alarms';
import { build, exampleConfig, exampleDoc, fnByLogicalPrefix, render, statementsOf, type Built } from './helpers';

let b: Built;
beforeAll(() => {
  b = build();
});

const alarms = () => Object.values(b.template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties);
const alarmNamed = (name: string) => {
  const hit = alarms().find((a) => a.AlarmName === name);
  if (!hit) throw new Error(`no alarm ${name}; have ${alarms().map((a) => a.AlarmName).join(', ')}`);
  return hit;
};
const dims = (a: any) => Object.fromEntries((a.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]));

describe('alarms', () => {
  test('four per job (lag high/low, CPU high/low), named <stack>-<job>-<signal>-<direction>', () => {
    const names = alarms().map((a) => a.AlarmName).sort();
    const jobs = exampleConfig().jobs.map((j) => j.name);
    expect(names).toEqual(jobs.flatMap((j) => ['cpu-high', 'cpu-low', 'lag-high', 'lag-low'].map((s) => `FlinkElastic-${j}-${s}`)).sort());
    for (const n of names) expect(parseAlarmName('FlinkElastic', n)).toMatchObject({ job: expect.stringMatching(/^(orders-enrichment|clickstream-sessions|tenant-billing|fraud-scoring)$/) });
  });

  test('MSK lag: AWS/Kafka metric by cluster, consumer group and topic; threshold and M-of-N from job.lag', () => {
    const high = alarmNamed('FlinkElastic-orders-enrichment-lag-high');
    expect(high).toMatchObject({
      Namespace: 'AWS/Kafka', MetricName: 'SumOffsetLag', Statistic: 'Maximum', Period: 60,
      Threshold: 50000, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching',
    });
    expect(dims(high)).toEqual({ 'Cluster Name': 'orders-msk', 'Consumer Group': 'orders-enrichment', Topic: 'orders' });
    expect(alarmNamed('FlinkElastic-orders-enrichment-lag-low')).toMatchObject({ Threshold: 1000, ComparisonOperator: 'LessThanOrEqualToThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2 });
  });

  test('Kinesis lag: iterator age by stream; defaults 3 periods, 2 to alarm', () => {
    const high = alarmNamed('FlinkElastic-clickstream-sessions-lag-high');
    expect(high).toMatchObject({ Namespace: 'AWS/Kinesis', MetricName: 'GetRecords.IteratorAgeMilliseconds', Threshold: 60000, EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    expect(dims(high)).toEqual({ StreamName: 'clickstream' });
  });

  test('Flink pendingRecords lag reads the collector metric in our namespace; any-CloudWatch-metric lag keeps its dims and statistic', () => {
    const fraud = alarmNamed('FlinkElastic-fraud-scoring-lag-high');
    expect(fraud).toMatchObject({ Namespace: 'FlinkElastic/FlinkElastic', MetricName: 'PendingRecords', Threshold: 100000 });
    expect(dims(fraud)).toEqual({ Job: 'fraud-scoring' });
    const billing = alarmNamed('FlinkElastic-tenant-billing-lag-high');
    expect(billing).toMatchObject({ Namespace: 'Billing/Ingest', MetricName: 'QueueBacklog', Statistic: 'Maximum', Threshold: 20000 });
    expect(dims(billing)).toEqual({ Tenant: 'all' });
    expect(alarmNamed('FlinkElastic-tenant-billing-lag-low')).toMatchObject({ Threshold: 0, ComparisonOperator: 'LessThanOrEqualToThreshold' });
  });

  test('CPU: ASG CPUUtilization, Container Insights pod CPU for EKS, collector JVM CPU; thresholds and 5-of-5 by default', () => {
    const asg = alarmNamed('FlinkElastic-orders-enrichment-cpu-high');
    expect(asg).toMatchObject({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', Statistic: 'Average', Threshold: 75, EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    expect(dims(asg)).toEqual({ AutoScalingGroupName: 'flink-taskmanagers-orders' });
    const eks = alarmNamed('FlinkElastic-clickstream-sessions-cpu-high');
    expect(eks).toMatchObject({ Namespace: 'ContainerInsights', MetricName: 'pod_cpu_utilization', Threshold: 80 });
    expect(dims(eks)).toEqual({ ClusterName: 'analytics', Namespace: 'flink', PodName: 'clickstream-taskmanager' });
    expect(alarmNamed('FlinkElastic-clickstream-sessions-cpu-low')).toMatchObject({ Threshold: 25, ComparisonOperator: 'LessThanOrEqualToThreshold' });
    const jvm = alarmNamed('FlinkElastic-tenant-billing-cpu-high');
    expect(jvm).toMatchObject({ Namespace: 'FlinkElastic/FlinkElastic', MetricName: 'TaskManagerCpuPercent' });
    expect(dims(jvm)).toEqual({ Job: 'tenant-billing' });
    // fraud-scoring has an asg target and no cpu.source: ASG CPU by default
    expect(dims(alarmNamed('FlinkElastic-fraud-scoring-cpu-low'))).toEqual({ AutoScalingGroupName: 'flink-taskmanagers-fraud' });
  });

  test('the template alarms are exactly the core alarm specs (what the scaler and the simulator map back)', () => {
    const specs = allAlarmSpecs(exampleConfig());
    expect(alarms().map((a) => [a.AlarmName, a.MetricName, a.Threshold, a.EvaluationPeriods, a.DatapointsToAlarm]).sort()).toEqual(
      specs.map((s) => [s.alarmName, s.metric.metricName, s.threshold, s.evaluationPeriods, s.datapointsToAlarm]).sort(),
    );
  });

  test('a disabled job gets no alarms, no schedules, and is not in the rule; it keeps its dashboard', () => {
    const doc = exampleDoc();
    doc.jobs[0].enabled = false;
    const { template } = build(parseConfig(doc));
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmName as string);
    expect(names.filter((n) => n.includes('orders-enrichment'))).toEqual([]);
    expect(names).toHaveLength(12);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r: any) => r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch');
    expect(JSON.stringify(rule)).not.toContain('orders-enrichment');
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'FlinkElastic-orders-enrichment' });
  });
});

describe('rule wiring', () => {
  test('ALARM transitions of exactly these alarms reach the scaler', () => {
    const rules = Object.values(b.template.findResources('AWS::Events::Rule')).filter((r: any) => r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch');
    expect(rules).toHaveLength(1);
    const [rule] = rules as any[];
    const scaler = fnByLogicalPrefix(b.template, 'Scaler');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: expect.any(Array), state: { value: ['ALARM'] } },
    });
    expect([...rule.Properties.EventPattern.detail.alarmName].sort()).toEqual(alarms().map((a) => a.AlarmName).sort());
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [scaler.id, 'Arn'] } })]);
    b.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [scaler.id, 'Arn'] },
    });
  });

  test('many jobs: alarm names are split across rules, each pattern under EventBridge\'s 2048-character limit', () => {
    const doc = exampleDoc();
    const base = doc.jobs[3];
    doc.jobs = Array.from({ length: 16 }, (_, i) => ({ ...base, name: `fraud-scoring-tenant-${String(i).padStart(2, '0')}`, schedules: [] }));
    const { template } = build(parseConfig(doc));
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r: any) => r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch') as any[];
    expect(rules.length).toBeGreaterThan(1);
    const all = rules.flatMap((r) => r.Properties.EventPattern.detail.alarmName as string[]);
    expect(all).toHaveLength(64);
    expect(new Set(all).size).toBe(64);
    for (const r of rules) expect(JSON.stringify(r.Properties.EventPattern).length).toBeLessThan(2048);
  });

  test('re-evaluation: every minute each enabled job sends {source: "reevaluate", job, time: <event time>} to the scaler', () => {
    const scaler = fnByLogicalPrefix(b.template, 'Scaler');
    const rules = Object.values(b.template.findResources('AWS::Events::Rule')).filter((r: any) => (r.Properties.Description as string).includes('re-evaluate')) as any[];
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
    const targets = rules.flatMap((r) => r.Properties.Targets as any[]);
    for (const t of targets) {
      expect(t.Arn).toEqual({ 'Fn::GetAtt': [scaler.id, 'Arn'] });
      expect(t.InputTransformer.InputPathsMap).toEqual({ time: '$.time' });
      expect(t.RetryPolicy.MaximumEventAgeInSeconds).toBe(60);
    }
    const inputs = targets.map((t) => JSON.parse(t.InputTransformer.InputTemplate.replace('<time>', '"2026-01-01T00:00:00Z"')));
    const enabled = exampleConfig().jobs.filter((j) => j.enabled);
    expect(inputs).toEqual(enabled.map((j) => ({ source: 'reevaluate', job: j.name, time: '2026-01-01T00:00:00Z' })));
    // what the rule sends is what the scaler accepts
    for (const i of inputs) expect(parseScalerEvent(i)).toMatchObject({ kind: 'reevaluate', job: i.job, requireAlarm: true });
    b.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [scaler.id, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [Object.entries(b.template.findResources('AWS::Events::Rule')).find(([, r]) => r === rules[0])![0], 'Arn'] },
    });
  });

  test('re-evaluation with many jobs: at most 5 targets per rule (EventBridge\'s limit), every enabled job (dry-run ones too) exactly once, disabled jobs none', () => {
    const doc = exampleDoc();
    const base = doc.jobs[3];
    doc.jobs = Array.from({ length: 12 }, (_, i) => ({ ...base, name: `tenant-${String(i).padStart(2, '0')}`, enabled: i !== 7, dryRun: i % 3 === 0, schedules: [] }));
    const { template } = build(parseConfig(doc));
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r: any) => (r.Properties.Description as string).includes('re-evaluate')) as any[];
    expect(rules).toHaveLength(3);
    for (const r of rules) expect(r.Properties.Targets.length).toBeLessThanOrEqual(5);
    const jobs = rules.flatMap((r) => r.Properties.Targets.map((t: any) => JSON.parse(t.InputTransformer.InputTemplate.replace('<time>', '"x"')).job));
    expect(jobs).toEqual(doc.jobs.filter((j: any) => j.enabled).map((j: any) => j.name));
    expect(new Set(rules.flatMap((r) => r.Properties.Targets.map((t: any) => t.Id))).size).toBe(5);
  });

  test('chunkByLength keeps order and never splits a single long name', () => {
    expect(chunkByLength(['aaaa', 'bb', 'cccccc', 'd'], 15)).toEqual([['aaaa', 'bb'], ['cccccc', 'd']]);
    expect(chunkByLength(['x'.repeat(50)], 10)).toEqual([['x'.repeat(50)]]);
    expect(chunkByLength([], 10)).toEqual([]);
  });

  test('the collector runs on the configured interval', () => {
    const collector = fnByLogicalPrefix(b.template, 'Collector');
    b.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [collector.id, 'Arn'] } })],
    });
    const doc = exampleDoc();
    doc.deployment.collectorIntervalMinutes = 5;
    build(parseConfig(doc)).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });
});

describe('IAM least privilege', () => {
  const ANY_RESOURCE_OK = new Set([
    'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'cloudwatch:GetMetricData',
    'autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances',
  ]);

  test('no "*" resource except for actions that support no resource-level permissions', () => {
    for (const role of ['ScalerServiceRole', 'CollectorServiceRole', 'SchedulerRole', 'TerminationDrainFunctionServiceRole']) {
      for (const s of statementsOf(b.template, role)) {
        if (s.Resource.includes('*')) expect({ role, actions: s.Action.filter((a) => !ANY_RESOURCE_OK.has(a)) }).toEqual({ role, actions: [] });
      }
    }
  });

  test('scaler: Auto Scaling changes on the named groups only, eks:DescribeCluster on the named cluster', () => {
    const st = statementsOf(b.template, 'ScalerServiceRole');
    const asg = st.filter((s) => s.Action.some((a) => /^autoscaling:(Set|Terminate|Update)/.test(a)));
    expect(asg).toHaveLength(1);
    expect(asg[0].Resource.sort()).toEqual([
      'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/flink-taskmanagers-fraud',
      'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/flink-taskmanagers-orders',
    ]);
    const eks = st.filter((s) => s.Action.some((a) => a.startsWith('eks:')));
    expect(eks).toEqual([expect.objectContaining({ Action: ['eks:DescribeCluster'], Resource: ['arn:aws:eks:us-east-1:123456789012:cluster/analytics'] })]);
  });

  test('jars: s3:GetObject on exactly the configured submit.jarPath objects, for the workflow steps only', () => {
    const reads = (role: string) => statementsOf(b.template, role).filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(reads('RescaleWorkflowStepFunctionServiceRole')).toEqual([
      { Sid: 'ReadJobJars', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::example-flink-artifacts/fraud-scoring-2.3.1.jar'] },
    ]);
    for (const role of ['ScalerServiceRole', 'CollectorServiceRole']) expect(reads(role)).toEqual([]);
  });

  test('secrets: GetSecretValue on the named Flink REST secrets only, for both functions', () => {
    for (const role of ['ScalerServiceRole', 'CollectorServiceRole']) {
      const st = statementsOf(b.template, role).filter((s) => s.Action.includes('secretsmanager:GetSecretValue'));
      expect(st).toHaveLength(1);
      expect(st[0].Action).toEqual(['secretsmanager:GetSecretValue']);
      expect(st[0].Resource.sort()).toEqual(
        ['flink/billing/rest', 'flink/clickstream/ca', 'flink/clickstream/rest-token'].map((n) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${n}-??????`),
      );
    }
  });

  test('scaler: cloudwatch:DescribeAlarms on exactly the stack\'s alarms (ARNs, no wildcard)', () => {
    const st = statementsOf(b.template, 'ScalerServiceRole').filter((s) => s.Action.includes('cloudwatch:DescribeAlarms'));
    expect(st).toHaveLength(1);
    expect(st[0].Action).toEqual(['cloudwatch:DescribeAlarms']);
    const logicalIds = Object.keys(b.template.findResources('AWS::CloudWatch::Alarm'));
    expect([...st[0].Resource].sort()).toEqual(logicalIds.map((id) => `{${id}.Arn}`).sort());
    expect(st[0].Resource).toHaveLength(alarms().length);
  });

  test('scaler: table read/write on the state table only, publish on the topic only', () => {
    const st = statementsOf(b.template, 'ScalerServiceRole');
    const ddb = st.filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap((s) => s.Resource).every((r) => r.startsWith('{StateTable'))).toBe(true);
    // exactly the store's item operations: no Scan, no batch calls, no stream reads on the table ARN (which never match)
    expect(ddb.flatMap((s) => s.Action).sort()).toEqual([...STATE_TABLE_ACTIONS].sort());
    expect(statementsOf(b.template, 'RescaleWorkflowStepFunctionServiceRole').flatMap((s) => s.Action).filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([...STATE_TABLE_ACTIONS].sort());
    expect(st.filter((s) => s.Action.includes('sns:Publish')).flatMap((s) => s.Resource)).toEqual([expect.stringMatching(/^\{Notifications/)]);
  });

  test('collector: no Auto Scaling, EKS, table, topic or metric-read permissions (it only publishes EMF logs)', () => {
    const actions = statementsOf(b.template, 'CollectorServiceRole').flatMap((s) => s.Action);
    expect(actions.filter((a) => /^(autoscaling|eks|dynamodb|sns|cloudwatch|states):/.test(a))).toEqual([]);
  });

  test('scheduler role: may invoke the scaler and nothing else; trusted by EventBridge Scheduler of this account only', () => {
    const scaler = fnByLogicalPrefix(b.template, 'Scaler');
    expect(statementsOf(b.template, 'SchedulerRole')).toEqual([
      expect.objectContaining({ Action: ['lambda:InvokeFunction'], Resource: [`{${scaler.id}.Arn}`] }),
    ]);
    b.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })] },
    });
  });
});

describe('cdk-nag (AwsSolutions, v3)', () => {
  test('the example stack has no unacknowledged finding, and every acknowledgement carries a reason', () => {
    expect(() => b.app.synth()).not.toThrow();
    const acks = b.stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'));
    expect(acks.length).toBeGreaterThan(0);
    for (const m of acks) for (const [id, reason] of Object.entries(m.data as Record<string, string>)) expect({ id, reason }).toEqual({ id, reason: expect.stringMatching(/\w{3,}.*\s\w{3,}.*\s\w{3,}/) });
  });

  test('an unacknowledged finding fails the synth (the gate can fail)', () => {
    // cdk-nag keys IAM5 by resource, so an extra "*" statement on an acknowledged role would pass it: the
    // "no * resource except ..." test above guards that. A new resource with findings must fail the synth:
    expect(() => build(exampleConfig(), { mutate: (stack) => new sns.Topic(stack, 'Loose') })).toThrow(/AwsSolutions-SNS3/);
    expect(() =>
      build(exampleConfig(), { mutate: (stack) => new iam.Role(stack, 'Wide', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })) }),
    ).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });
});

describe('Lambdas', () => {
  test.each(['Scaler', 'Collector'])('%s: Node.js 24, ARM64, active tracing, source maps, Powertools env, configured VPC', (name) => {
    const fn = fnByLogicalPrefix(b.template, name).Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Handler: 'index.handler' });
    expect(fn.Environment.Variables).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: `flink-elastic-${name.toLowerCase()}`,
      POWERTOOLS_METRICS_NAMESPACE: 'FlinkElastic/FlinkElastic',
      FLINK_ELASTIC_STACK: 'FlinkElastic',
      FLINK_ELASTIC_CONFIG_SHA256: expect.stringMatching(/^[0-9a-f]{16}$/),
      STATE_TABLE_NAME: expect.anything(),
      NOTIFICATION_TOPIC_ARN: expect.anything(),
    });
    expect(fn.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'], SecurityGroupIds: ['sg-0a1b2c3d4e5f60733'] });
  });

  test('no credentials or config in environment variables (the config is bundled; secrets are read at run time)', () => {
    for (const fn of Object.values(b.template.findResources('AWS::Lambda::Function')) as any[]) {
      const env = JSON.stringify(fn.Properties.Environment ?? {});
      expect(env).not.toMatch(/password|token|FLINK_ELASTIC_CONFIG_JSON|secretName|flink\/billing/i);
      expect(env.length).toBeLessThan(4096);
    }
  });

  test('without deployment.vpc the functions are not placed in a VPC', () => {
    const doc = exampleDoc();
    delete doc.deployment.vpc;
    const { template } = build(parseConfig(doc));
    expect(fnByLogicalPrefix(template, 'Scaler').Properties.VpcConfig).toBeUndefined();
  });

  test('every log group has a retention', () => {
    const groups = Object.values(b.template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
  });
});

describe('rescale workflow wiring', () => {
  test('the scaler may start executions of this state machine only, and knows its ARN', () => {
    const sms = Object.keys(b.template.findResources('AWS::StepFunctions::StateMachine')).filter((id) => id.startsWith('RescaleWorkflow'));
    expect(sms).toHaveLength(1);
    const st = statementsOf(b.template, 'ScalerServiceRole').filter((s) => s.Action.some((a) => a.startsWith('states:')));
    expect(st).toEqual([expect.objectContaining({ Action: ['states:StartExecution'], Resource: [`{${sms[0]}}`] })]);
    expect(fnByLogicalPrefix(b.template, 'Scaler').Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: sms[0] });
  });

  test('the workflow function runs in the configured VPC too; outputs name the roles to map into EKS', () => {
    const wf = Object.entries(b.template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('RescaleWorkflowStepFunction'))![1] as any;
    expect(wf.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d4e5f60711', 'subnet-0a1b2c3d4e5f60722'], SecurityGroupIds: ['sg-0a1b2c3d4e5f60733'] });
    const outputs = b.template.toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ScalerRoleArn', 'CollectorRoleArn', 'WorkflowRoleArn', 'StateMachineArn', 'StateTableName', 'NotificationTopicArn']));
  });

  test('dashboards show the workflow\'s executions', () => {
    const d = Object.values(b.template.findResources('AWS::CloudWatch::Dashboard'))[0] as any;
    const body = JSON.parse(render(d.Properties.DashboardBody));
    const w = body.widgets.find((x: any) => x.properties.title === 'Rescale workflow executions (all jobs)');
    expect(JSON.stringify(w.properties.metrics)).toContain('ExecutionsFailed');
  });

  test('attaching a second workflow is refused', () => {
    expect(() => b.stack.attachWorkflow(b.stack.workflow.stateMachine)).toThrow('a rescale workflow is already attached');
  });
});

describe('state, notifications, dashboards, schedules', () => {
  test('table: pk/sk, on demand, point-in-time recovery, TTL on expiresAt, retained', () => {
    b.template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      }),
    });
  });

  test('topic: TLS enforced, one email subscription per distinct address', () => {
    b.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    const subs = Object.values(b.template.findResources('AWS::SNS::Subscription')).map((s: any) => s.Properties.Endpoint).sort();
    expect(subs).toEqual(['flink-oncall@example.com', 'orders-team@example.com']);
  });

  test('topic: encrypted at rest with a rotated key of the stack, which every publisher may use and nothing else', () => {
    const keys = b.template.findResources('AWS::KMS::Key');
    expect(Object.keys(keys)).toHaveLength(1);
    const [keyId, key] = Object.entries(keys)[0] as [string, any];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const topics = Object.values(b.template.findResources('AWS::SNS::Topic')) as any[];
    expect(topics.map((t) => t.Properties.KmsMasterKeyId)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    // the workflow's step function and its watchdog share a role
    const publishers = ['ScalerServiceRole', 'RescaleWorkflowStepFunctionServiceRole', 'TerminationDrainFunctionServiceRole'];
    for (const role of publishers) {
      const stmts = statementsOf(b.template, role);
      expect({ role, publishes: stmts.some((s) => s.Action.includes('sns:Publish')) }).toEqual({ role, publishes: true });
      const useKey = stmts.find((s) => JSON.stringify(s.Resource) === JSON.stringify([`{${keyId}.Arn}`]));
      expect({ role, actions: [useKey?.Action ?? []].flat().sort() }).toEqual({ role, actions: ['kms:Decrypt', 'kms:GenerateDataKey*'] });
    }
  });

  test('one dashboard per job with input rate, lag with thresholds, parallelism, TMs, CPU, decisions, rescale durations', () => {
    const dashboards = Object.values(b.template.findResources('AWS::CloudWatch::Dashboard')) as any[];
    expect(dashboards.map((d) => d.Properties.DashboardName).sort()).toEqual(
      ['clickstream-sessions', 'fraud-scoring', 'orders-enrichment', 'tenant-billing'].map((j) => `FlinkElastic-${j}`),
    );
    const d = dashboards.find((x) => x.Properties.DashboardName === 'FlinkElastic-orders-enrichment');
    const body = JSON.parse(render(d.Properties.DashboardBody));
    const titles = body.widgets.map((w: any) => w.properties.title).filter(Boolean);
    expect(titles).toEqual(expect.arrayContaining([
      'Input rate vs capacity', expect.stringMatching(/^Lag: MSK SumOffsetLag/), 'Parallelism and TaskManagers', expect.stringMatching(/^CPU: EC2 CPU/),
      'Scaling decisions', 'Rescale duration (s)', 'Alarms', 'Decisions and their reasons (scaler log)',
    ]));
    const lag = body.widgets.find((w: any) => String(w.properties.title).startsWith('Lag'));
    expect(lag.properties.metrics[0].slice(0, 8)).toEqual(['AWS/Kafka', 'SumOffsetLag', 'Cluster Name', 'orders-msk', 'Consumer Group', 'orders-enrichment', 'Topic', 'orders']);
    expect(lag.properties.annotations.horizontal.map((h: any) => h.value)).toEqual([50000, 1000]);
    const str = JSON.stringify(body);
    for (const m of ['InputRecordsPerSecond', 'SlotsTotal', 'Parallelism', 'TaskManagers', 'DesiredParallelism', 'ScaleOutDecisions', 'RescaleDurationSeconds']) expect(str).toContain(`"${m}"`);
    const log = body.widgets.find((w: any) => w.type === 'log');
    expect(log.properties.query).toContain('job = "orders-enrichment"');
  });

  test('schedules: EventBridge Scheduler with the time zone, invoking the scaler with {source, job, parallelism}', () => {
    const scaler = fnByLogicalPrefix(b.template, 'Scaler');
    const schedules = Object.values(b.template.findResources('AWS::Scheduler::Schedule')).map((s: any) => s.Properties);
    expect(schedules).toHaveLength(2);
    const byName = Object.fromEntries(schedules.map((s) => [JSON.parse(s.Target.Input).schedule, s]));
    expect(byName['business-hours']).toMatchObject({
      ScheduleExpression: 'cron(0 7 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: { 'Fn::GetAtt': [scaler.id, 'Arn'] }, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^SchedulerRole/), 'Arn'] } },
    });
    expect(JSON.parse(byName['business-hours'].Target.Input)).toEqual({ source: 'schedule', job: 'orders-enrichment', parallelism: 16, schedule: 'business-hours', scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(JSON.parse(byName.night.Target.Input)).toMatchObject({ parallelism: 4 });
  });
});

describe('local simulator', () => {
  test('the alarm evaluator reads every alarm of the synthesized template, as the core specs define them', () => {
    const defs = alarmsFromTemplate(b.template.toJSON(), 'FlinkElastic');
    const specs = allAlarmSpecs(exampleConfig());
    expect(defs.map((d) => ({ name: d.alarmName, ns: d.namespace, metric: d.metricName, dims: d.dimensions, stat: d.statistic, period: d.periodSeconds, n: d.evaluationPeriods, m: d.datapointsToAlarm, threshold: d.threshold, cmp: d.comparison, missing: d.treatMissingData })).sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      specs.map((s) => ({ name: s.alarmName, ns: s.metric.namespace, metric: s.metric.metricName, dims: s.metric.dimensions, stat: s.metric.statistic, period: s.periodSeconds, n: s.evaluationPeriods, m: s.datapointsToAlarm, threshold: s.threshold, cmp: s.comparison, missing: s.treatMissingData })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });
});
