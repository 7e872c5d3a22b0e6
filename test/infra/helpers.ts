/* Shared by the infra tests: build the stack from a config, with cdk-nag on, without bundling. */
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Config } from '../../functions/core/config';
import { exampleConfig } from '../support/example-config';
import { FlinkElasticStack } from '../../lib/flink-elastic-stack';

export const ROOT = join(__dirname, '..', '..');

export { exampleConfig, exampleDoc } from '../support/example-config';

export interface Built {
  app: App;
  stack: FlinkElasticStack;
  template: Template;
}

/** Builds the stack with the AwsSolutions checks on (Template.fromStack throws on an unacknowledged finding). */
export function build(config: Config = exampleConfig(), opts: { bundle?: boolean; outdir?: string; mutate?: (stack: FlinkElasticStack) => void } = {}): Built {
  const app = new App({ outdir: opts.outdir, context: opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FlinkElasticStack(app, config.deployment.stackName, { config });
  opts.mutate?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com' };

/** Renders CloudFormation intrinsics into readable strings: Ref X → `{X}`, GetAtt X.Arn → `{X.Arn}`. */
export function render(v: any): any {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(render);
  if (v && typeof v === 'object') {
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as any[]).map(render).join(v['Fn::Join'][0]);
    if ('Ref' in v) return PSEUDO[v.Ref] ?? `{${v.Ref}}`;
    if ('Fn::GetAtt' in v) return `{${v['Fn::GetAtt'].join('.')}}`;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x)]));
  }
  return v;
}

export interface Stmt {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
}

/** Every IAM statement attached to the role with this logical id prefix (e.g. "ScalerServiceRole"). */
export function statementsOf(template: Template, rolePrefix: string): Stmt[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Stmt[] = [];
  for (const p of Object.values(policies)) {
    const roles = (p.Properties.Roles as any[]).map((r) => r.Ref as string);
    if (!roles.some((r) => r.startsWith(rolePrefix))) continue;
    for (const s of p.Properties.PolicyDocument.Statement) {
      const arr = (x: any) => (Array.isArray(x) ? x : [x]);
      out.push({ Sid: s.Sid, Effect: s.Effect, Action: arr(s.Action), Resource: arr(render(s.Resource)) });
    }
  }
  return out;
}

export function fnByLogicalPrefix(template: Template, prefix: string): any {
  const fns = template.findResources('AWS::Lambda::Function');
  const hits = Object.entries(fns).filter(([id]) => id.startsWith(prefix));
  if (hits.length !== 1) throw new Error(`expected one function ${prefix}*, found ${hits.map(([id]) => id).join(', ') || 'none'}`);
  return { id: hits[0][0], ...hits[0][1] };
}
