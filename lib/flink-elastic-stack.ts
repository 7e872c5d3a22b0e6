/**
 * The whole deployable: built from the validated config (core schema), nothing else.
 */
import { CfnOutput, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Config } from '../functions/core/config';

export interface FlinkElasticStackProps extends StackProps {
  config: Config;
}

export class FlinkElasticStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: FlinkElasticStackProps) {
    super(scope, id, props);
    const { config } = props;
    for (const [k, v] of Object.entries(config.deployment.tags)) Tags.of(this).add(k, v);

    // Locks, cooldowns, policy state and history, one partition per job.
    this.table = new dynamodb.TableV2(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.topic = new sns.Topic(this, 'Notifications', { displayName: 'flink-elastic', enforceSSL: true });
    const emails = new Set([config.deployment.notificationEmail, ...config.jobs.map((j) => j.notificationEmail)].filter((e): e is string => !!e));
    for (const email of emails) this.topic.addSubscription(new subs.EmailSubscription(email));

    new CfnOutput(this, 'StateTableName', { value: this.table.tableName });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
  }
}
