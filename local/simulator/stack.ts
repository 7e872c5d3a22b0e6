/**
 * The deployable, synthesized in-process from the simulated config: the same FlinkElasticStack `cdk deploy` would
 * create (alarms, rules, the rescale workflow). The simulator runs what the template says, not a hand-written copy:
 *  - the CloudWatch alarms (metric, statistic, period, M of N, threshold, comparison, missing data) → AlarmEvaluator;
 *  - the EventBridge rules that deliver alarm state changes to the scaler (their event patterns filter what the
 *    simulated EventBridge delivers);
 *  - the rescale state machine's definition (intrinsics rendered, Wait states turned into virtual-clock sleeps).
 * Bundling is skipped (no esbuild): only the template is needed.
 */
import { App, CfnElement } from 'aws-cdk-lib';
import type { Config } from '../../functions/core/config';
import { FlinkElasticStack } from '../../lib/flink-elastic-stack';
import { alarmsFromTemplate, type AlarmDefinition } from '../alarms';
import { renderIntrinsic as renderShared } from '../asl';
import { virtualizeWaits } from '../virtual-time';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const VIRTUAL_WAIT_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:VirtualWait`;

/** Renders the definition's intrinsics for this simulated account, region and stack. */
export function renderIntrinsic(v: unknown, stackName: string): string {
  return renderShared(v, { account: ACCOUNT, region: REGION, stackName });
}

/** An EventBridge rule pattern, as far as alarm state-change events need it. */
export interface AlarmRule {
  logicalId: string;
  pattern: Record<string, any>;
}

export interface SynthesizedStack {
  stackName: string;
  template: Record<string, any>;
  alarms: AlarmDefinition[];
  /** Rules whose pattern matches CloudWatch alarm state changes (delivered to the scaler). */
  alarmRules: AlarmRule[];
  /** The rescale state machine as synthesized (ASL JSON). */
  asl: any;
  /** The same definition with every Wait state turned into a Task that sleeps on the virtual clock. */
  virtualAsl: any;
  /** Names of the Wait states that were virtualized. */
  waits: string[];
  stateMachineName: string;
}

const cache = new Map<string, SynthesizedStack>();

/**
 * Synthesizes once per config shape in a process: the template does not depend on the Flink URLs (emulator ports),
 * so runs that differ only in those (the benchmark's policies) share one synthesis.
 */
export function synthesizeCached(config: Config): SynthesizedStack {
  const key = JSON.stringify({ ...config, jobs: config.jobs.map((j) => ({ ...j, flink: { ...j.flink, url: '' } })) });
  let s = cache.get(key);
  if (!s) {
    s = synthesize(config);
    cache.set(key, s);
    if (cache.size > 16) cache.delete(cache.keys().next().value!);
  }
  return s;
}

export function synthesize(config: Config): SynthesizedStack {
  const stackName = config.deployment.stackName;
  // No bundling (only the template is needed) and no built-in template validation (seconds of wasm start-up; the
  // template is the same either way: `cdk synth` and the infra tests validate it).
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  // the stack builds and attaches its rescale workflow itself
  const stack = new FlinkElasticStack(app, stackName, { config });
  const template = app.synth().getStackArtifact(stack.artifactId).template as Record<string, any>;
  const resources = Object.entries<any>(template.Resources ?? {});
  // The rescale workflow's state machine (the stack may also hold the termination-drain one for ASG targets).
  if (!stack.stateMachine) throw new Error('the synthesized stack has no rescale workflow');
  const rescaleId = stack.getLogicalId(stack.stateMachine.node.defaultChild as CfnElement);
  const sm = template.Resources?.[rescaleId];
  if (sm?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`rescale state machine ${rescaleId} not found in the synthesized template`);
  const asl = JSON.parse(renderIntrinsic(sm.Properties.DefinitionString, stackName));
  const { asl: virtualAsl, waits } = virtualizeWaits(asl, VIRTUAL_WAIT_ARN);
  const alarmRules = resources
    .filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern?.source?.includes('aws.cloudwatch'))
    .map(([logicalId, r]) => ({ logicalId, pattern: r.Properties.EventPattern }));
  return {
    stackName,
    template,
    alarms: alarmsFromTemplate(template, stackName),
    alarmRules,
    asl,
    virtualAsl,
    waits,
    stateMachineName: typeof sm.Properties.StateMachineName === 'string' ? sm.Properties.StateMachineName : renderIntrinsic(sm.Properties.StateMachineName ?? `${stackName}-rescale`, stackName),
  };
}

/**
 * EventBridge content matching for the pattern forms the stack uses: arrays of exact values, nested objects.
 * (Prefix/numeric/anything-but filters are not used by flink-elastic's rules and are refused.)
 */
export function matchesPattern(pattern: Record<string, any>, event: Record<string, any>): boolean {
  for (const [k, want] of Object.entries(pattern)) {
    const got = event?.[k];
    if (Array.isArray(want)) {
      if (want.some((w) => w !== null && typeof w === 'object')) throw new Error(`event pattern field "${k}": content filters are not supported by the simulator`);
      if (!want.includes(got)) return false;
    } else if (want && typeof want === 'object') {
      if (!got || typeof got !== 'object' || !matchesPattern(want, got)) return false;
    } else return false;
  }
  return true;
}
