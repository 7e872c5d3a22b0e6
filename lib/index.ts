/**
 * flink-elastic as a CDK construct library: `import { FlinkElastic } from 'flink-elastic'`.
 * Built with `npm run build:lib` (tsconfig.lib.json → dist/); see docs/construct.md.
 */
export { FlinkElastic, OUTPUT_KEYS, type FlinkElasticProps } from './flink-elastic';
export { FlinkElasticStack, type FlinkElasticStackProps } from './flink-elastic-stack';
export { loadFlinkElasticConfig, resolveFlinkElasticConfig, type FlinkElasticConfigInput, type FlinkElasticConfigSource } from './config-source';
export {
  ConfigError,
  parseConfig,
  validateConfig,
  type CapacityTargetConfig,
  type Config,
  type ConfigInput,
  type ConfigProblem,
  type JobConfig,
  type JobConfigInput,
  type LagSource,
} from '../functions/core/config';
