/**
 * This repo's own app (bin/app.ts): one stack holding one FlinkElastic construct, built from the config file alone.
 * The construct is the stack's `Default` child, which CDK leaves out of logical ids: the template has the same
 * resources and logical ids as when this stack was the whole implementation (only the `aws:cdk:path` metadata gains
 * a `/Default` segment).
 */
import { Stack, StackProps, Tags } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Config } from '../functions/core/config';
import { FlinkElastic, type FlinkElasticProps } from './flink-elastic';

export { chunkByLength } from './constructs/patterns';
export { JOBS_PER_REEVALUATE_RULE } from './flink-elastic';

export interface FlinkElasticStackProps extends StackProps, Omit<FlinkElasticProps, 'config'> {
  /** The config (validated here unless it came from loadFlinkElasticConfig), or the path of its JSON file. */
  config: FlinkElasticProps['config'];
}

export class FlinkElasticStack extends Stack {
  /** The construct that is the whole deployable. */
  readonly elastic: FlinkElastic;

  constructor(scope: Construct, id: string, props: FlinkElasticStackProps) {
    super(scope, id, props);
    const { config, vpc, vpcSubnets, securityGroups, autoScalingGroups, eksCluster, topic, stateTable } = props;
    this.elastic = new FlinkElastic(this, 'Default', { config, vpc, vpcSubnets, securityGroups, autoScalingGroups, eksCluster, topic, stateTable });
    // Stack-level tags too: they also go to the stack itself (the cloud assembly's stack tags), not only its resources.
    for (const [k, v] of Object.entries(this.elastic.config.deployment.tags)) Tags.of(this).add(k, v);
  }

  get config(): Config { return this.elastic.config; }
  get table() { return this.elastic.table; }
  get topic() { return this.elastic.topic; }
  get scaler() { return this.elastic.scaler; }
  get collector() { return this.elastic.collector; }
  get alarms() { return this.elastic.alarms; }
  get alarmRules() { return this.elastic.alarmRules; }
  get reevaluateRules() { return this.elastic.reevaluateRules; }
  get dashboards() { return this.elastic.dashboards; }
  get schedulerRole() { return this.elastic.schedulerRole; }
  get workflow() { return this.elastic.workflow; }
  get terminationDrain() { return this.elastic.terminationDrain; }
  get stateMachine(): sfn.IStateMachine | undefined { return this.elastic.stateMachine; }

  /** See FlinkElastic.attachWorkflow. */
  attachWorkflow(stateMachine: sfn.IStateMachine): void {
    this.elastic.attachWorkflow(stateMachine);
  }
}
