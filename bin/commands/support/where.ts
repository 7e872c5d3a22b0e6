/** Resolves, for read-only commands (status, history), the state store and the Flink/capacity views of a job. */
import type { Command } from 'commander';
import type { CliIo } from './io';
import { configPath, loadConfig } from '../../../functions/adapters/config-file';
import type { Config, JobConfig } from '../../../functions/core/config';
import type { FlinkApi } from '../../../functions/adapters/flink/types';
import type { StateStore } from '../../../functions/adapters/state/types';
import type { CapacityTarget } from '../../../functions/adapters/targets/types';
import { awsOf, checkWhere, defaultServices, deployedStore, localFlink, localStore, localTarget, type CliServices, type WhereOptions } from './context';
import { resolveDeployment } from './deployment';

export interface Where {
  services: CliServices;
  config: Config;
  jobs: JobConfig[];
  store: StateStore;
  flink(job: JobConfig): Promise<FlinkApi>;
  target(job: JobConfig, flink: FlinkApi): Promise<CapacityTarget>;
  stackName?: string;
}

export async function resolveWhere(program: Command, cmd: Command, io: CliIo, o: WhereOptions & { job?: string }): Promise<Where> {
  checkWhere(cmd, o);
  const services: CliServices = { ...defaultServices, ...io.services };
  const config = loadConfig(configPath(program.opts().config));
  let jobs = config.jobs;
  if (o.job) {
    jobs = config.jobs.filter((j) => j.name === o.job);
    if (!jobs.length) cmd.error(`error: --job "${o.job}" is not in the config; configured jobs: ${config.jobs.map((j) => j.name).join(', ')}`, { exitCode: 2 });
  }
  if (o.local) {
    return {
      services,
      config,
      jobs,
      store: localStore(o),
      flink: async (job) => localFlink(o.flinkUrl!, job),
      target: async (job, flink) => (await localTarget(o, job, flink, services, false)).target,
    };
  }
  const aws = awsOf(o);
  const stackName = o.stack ?? config.deployment.stackName;
  const dep = await resolveDeployment(stackName, services.cloudFormation(aws), aws);
  return {
    services,
    config,
    jobs,
    stackName,
    store: deployedStore(dep.tableName, o, services),
    flink: (job) => services.flinkForJob(job, aws),
    target: async (job) => services.capacityTarget(job, aws),
  };
}

export const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
export const errorOf = (e: unknown) => ({ error: (e as Error)?.message ?? String(e) });
