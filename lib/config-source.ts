/**
 * The construct's config: an object (the shape of flink-elastic.config.json) or a JSON file path, merged with the
 * constructs a team passes in (its Auto Scaling groups, EKS cluster, VPC), then validated ONCE with the core schema.
 * Every problem, of the file, of the schema, of the cross-field rules and of the props, is reported in one
 * ConfigError. lib/ may use the core's schema, never functions/adapters: the file is read here.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { ConfigError, validateConfig, type Config, type ConfigInput, type ConfigProblem } from '../functions/core/config';

/** A config object as written in flink-elastic.config.json (defaults may be left out), or an already validated one. */
export type FlinkElasticConfigInput = ConfigInput | Config;

/** Where the construct's config comes from: the object itself, or the path of a JSON file (relative to the cwd). */
export type FlinkElasticConfigSource = FlinkElasticConfigInput | string;

/** Configs this module validated: passing one on (bin/app.ts → FlinkElasticStack → FlinkElastic) does not validate again. */
const validated = new WeakSet<object>();

/** Anything with a name: a CDK `IAutoScalingGroup`, an EKS `ICluster`, or just the name. */
export type Named = string | { readonly autoScalingGroupName: string } | { readonly clusterName: string };

/** What the props add to the config before it is validated. */
export interface ConfigOverlay {
  /** Job name → its Auto Scaling group (the job's `target.autoScalingGroupName`). */
  autoScalingGroups?: Record<string, Named>;
  /** The EKS cluster of every `eks-deployment` / `flink-deployment` target (their `target.clusterName`). */
  eksCluster?: Named;
  /** True when the VPC placement comes from props (then `deployment.vpc` must be absent). */
  vpcFromProps?: boolean;
}

const nameOf = (n: Named): string => (typeof n === 'string' ? n : 'autoScalingGroupName' in n ? n.autoScalingGroupName : n.clusterName);

/** Reads a JSON config file; an unreadable or non-JSON file is a ConfigError naming the file. */
export function readConfigFile(path: string): unknown {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '', message: `cannot read config file: ${(e as Error).message}` }], file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }], file);
  }
}

/** Reads and validates a config file once; the result passed to FlinkElastic / FlinkElasticStack is not validated again. */
export function loadFlinkElasticConfig(path: string): Config {
  return resolveFlinkElasticConfig(path);
}

/**
 * The validated config for a construct: reads `source` when it is a path, applies `overlay`, validates, and throws
 * one ConfigError listing every problem (schema, cross-field rules and props together).
 */
export function resolveFlinkElasticConfig(source: FlinkElasticConfigSource, overlay: ConfigOverlay = {}): Config {
  const hasOverlay = !!overlay.autoScalingGroups || overlay.eksCluster !== undefined || !!overlay.vpcFromProps;
  if (typeof source === 'object' && source !== null && validated.has(source) && !hasOverlay) return source as Config;
  const where = typeof source === 'string' ? resolve(source) : 'FlinkElastic config';
  const doc: any = structuredClone(typeof source === 'string' ? readConfigFile(source) : source);
  const problems: ConfigProblem[] = applyOverlay(doc, overlay);
  const r = validateConfig(doc);
  if (!r.ok) problems.push(...r.problems);
  if (problems.length > 0 || !r.ok) throw new ConfigError(problems, where);
  validated.add(r.config);
  return r.config;
}

/** Writes the names of the passed constructs into `doc` (a plain JSON document); returns what does not fit. */
function applyOverlay(doc: any, overlay: ConfigOverlay): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const jobs: any[] = Array.isArray(doc?.jobs) ? doc.jobs : [];
  const concrete = (name: string, path: string) => {
    if (!Token.isUnresolved(name)) return true;
    problems.push({ path, message: 'must have a concrete name at synth (the name is bundled into the functions): import the resource by name, or give it an explicit name' });
    return false;
  };

  for (const [jobName, group] of Object.entries(overlay.autoScalingGroups ?? {})) {
    const path = `props.autoScalingGroups.${jobName}`;
    const i = jobs.findIndex((j) => j?.name === jobName);
    if (i < 0) {
      problems.push({ path, message: `names no job of the config (jobs: ${jobs.map((j) => j?.name).join(', ') || 'none'})` });
      continue;
    }
    const name = nameOf(group);
    if (!concrete(name, path)) continue;
    const job = jobs[i];
    if (job.target === undefined) job.target = { kind: 'asg', autoScalingGroupName: name };
    else if (job.target?.kind !== 'asg') problems.push({ path, message: `job "${jobName}" has a ${JSON.stringify(job.target?.kind)} target, not "asg"`, value: name });
    else if (job.target.autoScalingGroupName === undefined) job.target.autoScalingGroupName = name;
    else if (job.target.autoScalingGroupName !== name) {
      problems.push({ path, message: `is "${name}" but jobs[${i}].target.autoScalingGroupName is "${job.target.autoScalingGroupName}": name one group (or leave the config's out)` });
    }
  }

  if (overlay.eksCluster !== undefined) {
    const path = 'props.eksCluster';
    const name = nameOf(overlay.eksCluster);
    const eksJobs = jobs.map((j, i) => [j, i] as const).filter(([j]) => j?.target?.kind === 'eks-deployment' || j?.target?.kind === 'flink-deployment');
    if (eksJobs.length === 0) problems.push({ path, message: 'is set but no job has an "eks-deployment" or "flink-deployment" target' });
    if (concrete(name, path)) {
      for (const [j, i] of eksJobs) {
        if (j.target.clusterName === undefined) j.target.clusterName = name;
        else if (j.target.clusterName !== name) problems.push({ path, message: `is "${name}" but jobs[${i}].target.clusterName is "${j.target.clusterName}": name one cluster (or leave the config's out)` });
      }
    }
  }

  if (overlay.vpcFromProps && doc?.deployment?.vpc !== undefined) {
    problems.push({ path: 'props.vpc', message: 'is set and so is deployment.vpc in the config: give the VPC placement in one place' });
  }
  return problems;
}
