/**
 * CDK app: `npx cdk synth` / `npx cdk deploy`. Reads the config file named by $FLINK_ELASTIC_CONFIG, or
 * `-c config=FILE`, or ./flink-elastic.config.json. Env-agnostic: synthesizes with no AWS account.
 */
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../functions/adapters/config-file';
import { FlinkElasticStack } from '../lib/flink-elastic-stack';

const app = new App();
const config = loadConfig(app.node.tryGetContext('config'));
new FlinkElasticStack(app, config.deployment.stackName, {
  config,
  description: 'flink-elastic: elastic scaling for Apache Flink jobs (alarms, scaler, rescale workflow)',
});
app.synth();
