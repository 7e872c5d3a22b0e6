/**
 * Renders the intrinsics a synthesized state machine definition contains (Fn::Join, Fn::GetAtt of functions, Ref of
 * pseudo parameters) into plain ASL JSON, for running the definition CDK synthesized with aws-local-stepfunctions.
 * One renderer for the simulator, the CLI's --local mode and the tests.
 */
export interface RenderEnv {
  account: string;
  region: string;
  /** Value of { Ref: AWS::StackName }, when the definition uses it. */
  stackName?: string;
}

export const DEFAULT_RENDER_ENV: RenderEnv = { account: '123456789012', region: 'us-east-1' };

export function renderIntrinsic(v: unknown, env: RenderEnv = DEFAULT_RENDER_ENV): string {
  if (typeof v === 'string') return v;
  const o = v as Record<string, any>;
  if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map((x) => renderIntrinsic(x, env)).join(o['Fn::Join'][0]);
  if (o['Fn::GetAtt']) return `arn:aws:lambda:${env.region}:${env.account}:function:${o['Fn::GetAtt'][0]}`;
  if (o.Ref === 'AWS::StackName' && env.stackName !== undefined) return env.stackName;
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': env.region, 'AWS::AccountId': env.account, 'AWS::URLSuffix': 'amazonaws.com' };
  if (o.Ref) return pseudo[o.Ref] ?? o.Ref;
  throw new Error(`state machine definition: unsupported intrinsic ${JSON.stringify(v)}`);
}
