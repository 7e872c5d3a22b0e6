/**
 * CDK app: `npx cdk synth` / `npx cdk deploy`. One user of the FlinkElastic construct (lib/flink-elastic.ts): a stack
 * holding just that construct. Reads the config file named by $FLINK_ELASTIC_CONFIG, or
 * `-c config=FILE`, or ./flink-elastic.config.json. Env-agnostic: synthesizes with no AWS account.
 * cdk-nag (AwsSolutions, v3 policy-validation plugin) checks the synthesized template; any unacknowledged finding
 * fails the synth. Acknowledgements, each with its reason, live next to the resources (lib/constructs/nag.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configPath } from '../functions/adapters/config-file';
import { loadFlinkElasticConfig } from '../lib/config-source';
import { FlinkElasticStack } from '../lib/flink-elastic-stack';

const app = new App();
// Read and validated once (every problem listed); the stack's FlinkElastic construct takes it as it is.
const config = loadFlinkElasticConfig(configPath(app.node.tryGetContext('config')));
new FlinkElasticStack(app, config.deployment.stackName, {
  config,
  description: 'flink-elastic: elastic scaling for Apache Flink jobs (alarms, scaler, rescale workflow)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
