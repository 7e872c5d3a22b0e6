/**
 * One configured instance of each, shared by every handler: the Powertools Logger and Metrics, and the AWS SDK
 * tracer (SDK calls as X-Ray subsegments: functions/adapters/xray.ts, in place of the Powertools Tracer).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { xrayTracer } from '../../adapters/xray';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'flink-elastic';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'FlinkElastic', serviceName });
export const tracer = xrayTracer();
