/**
 * Everything a workflow step needs from the outside world, injected: production wiring lives in
 * functions/handlers/workflow.ts; tests pass a FlinkRestClient pointing at the emulator, a simulated capacity
 * target, a dynalite-backed store, an SNS client under aws-sdk-client-mock, and a virtual clock.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Config, JobConfig } from '../core/config';
import type { FlinkApi } from '../adapters/flink/types';
import type { CapacityTarget } from '../adapters/targets/types';
import type { StateStore } from '../adapters/state/types';
import type { JarSource } from '../adapters/jar-source';

export interface StepLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface WorkflowDeps {
  config: Config;
  store: StateStore;
  flink(job: JobConfig): FlinkApi | Promise<FlinkApi>;
  target(job: JobConfig): CapacityTarget | Promise<CapacityTarget>;
  /** (production: a getter, so the client and @aws-sdk/client-sns are made on the first notification) */
  sns: SNSClient;
  /** Reads `submit.jarPath` (local path or s3://) when the JobManager lacks the jar; without it such a rescale is refused. */
  jars?: JarSource;
  topicArn: string;
  /** ARN of the rescale state machine: the watchdog acts only on this state machine's executions. */
  stateMachineArn?: string;
  /** Epoch ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
  log: StepLogger;
  /** Publishes one metric with the Job dimension (production: EMF through Powertools Metrics). Optional. */
  publishMetric?(job: string, name: string, value: number, unit: 'Seconds' | 'Count'): void;
  /** Inline polling inside one Check task (defaults from functions/core/rescale-timing.ts). */
  inlinePollSeconds?: number;
  inlinePollIntervalSeconds?: number;
}

export const silentLogger: StepLogger = { info: () => {}, warn: () => {}, error: () => {} };
