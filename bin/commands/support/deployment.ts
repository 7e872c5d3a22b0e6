/**
 * How the CLI finds and drives a deployed flink-elastic stack: resources from the stack's CloudFormation outputs,
 * executions started and followed through Step Functions. Standard AWS credential chain and region.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { ProgressPrinter, readableCause, type StepTiming } from './progress';

/** CloudFormation output keys the stack publishes (lib/flink-elastic-stack.ts). */
export const OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  tableName: 'StateTableName',
  topicArn: 'NotificationTopicArn',
} as const;

export interface Deployment {
  stackName: string;
  stateMachineArn: string;
  tableName: string;
  topicArn: string;
}

export class DeploymentError extends Error {}

/** Where the CLI looked for the stack (for error messages): the --region / --profile given, if any. */
export interface LookupHints {
  region?: string;
  profile?: string;
}

/**
 * One line saying what to set or do, for the errors a first deployed-mode call meets: no region, no (or expired, or
 * rejected) credentials, no permission, no network, no stack. Anything else keeps the SDK's message.
 */
export function readableAwsError(stackName: string, e: unknown, hints: LookupHints = {}): string {
  const err = e as { name?: string; message?: string; code?: string; Code?: string };
  const msg = err?.message ?? String(e);
  const kind = `${err?.name ?? ''} ${err?.code ?? ''} ${err?.Code ?? ''} ${msg}`;
  const where = hints.region ? ` in region ${hints.region}` : '';
  const profile = hints.profile ? ` (profile "${hints.profile}")` : '';
  const local = 'or run against a cluster directly with --local --flink-url URL';
  if (/Region is missing/i.test(kind)) {
    return `cannot read stack "${stackName}": no AWS region is set: pass --region REGION or set AWS_REGION (or give your AWS profile a region), ${local}`;
  }
  if (/CredentialsProviderError|Could not load credentials|Could not resolve credentials|credentials.*(not found|missing)|Unable to find.*profile|profile .* (could not be found|not found)/i.test(kind)) {
    return `cannot read stack "${stackName}": no AWS credentials found${profile}: pass --profile NAME or set AWS_PROFILE (after \`aws configure\` or \`aws sso login\`), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; ${local}`;
  }
  if (/ExpiredToken|token .*expired|session .*expired/i.test(kind)) {
    return `cannot read stack "${stackName}": your AWS credentials${profile} have expired: refresh them (for SSO: \`aws sso login${hints.profile ? ` --profile ${hints.profile}` : ''}\`) and run the command again`;
  }
  if (/InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|security token included in the request is invalid/i.test(kind)) {
    return `cannot read stack "${stackName}": AWS rejected your credentials${profile} (${msg}): check --profile / AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  }
  if (/AccessDenied|not authorized/i.test(kind)) {
    return `cannot read stack "${stackName}"${where}: access denied (${msg}): the CLI needs cloudformation:DescribeStacks on the stack (and states:*, dynamodb reads for the commands; see docs/cli.md)`;
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|socket hang up|TimeoutError/i.test(kind)) {
    return `cannot read stack "${stackName}"${where}: CloudFormation is not reachable from here (${msg}): check the network and --region, ${local}`;
  }
  if (/does not exist/i.test(msg)) {
    return `stack "${stackName}" does not exist in ${hints.region ? `region ${hints.region}` : 'this region'} of this AWS account: deploy it with \`npx cdk deploy\`, set deployment.stackName in the config (or pass --stack NAME, --region REGION), or use --local`;
  }
  return `cannot read stack "${stackName}"${where}: ${msg}`;
}

export async function resolveDeployment(stackName: string, cfn: Pick<CloudFormationClient, 'send'>, hints: LookupHints = {}): Promise<Deployment> {
  let outputs: Record<string, string>;
  try {
    const r = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = r.Stacks?.[0];
    if (!stack) throw new DeploymentError(`stack "${stackName}" not found`);
    outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (e) {
    if (e instanceof DeploymentError) throw e;
    throw new DeploymentError(readableAwsError(stackName, e, hints));
  }
  const get = (key: string) => {
    const v = outputs[key];
    if (!v) throw new DeploymentError(`stack "${stackName}" has no output ${key}: is it a flink-elastic stack, and up to date (\`npx cdk deploy\`)?`);
    return v;
  };
  return { stackName, stateMachineArn: get(OUTPUTS.stateMachineArn), tableName: get(OUTPUTS.tableName), topicArn: get(OUTPUTS.topicArn) };
}

export interface ExecutionOutcome {
  status: string;
  output?: unknown;
  error?: string;
  cause?: string;
  /** Each task state the execution went through, with its duration in ms. */
  steps: StepTiming[];
  /** The state machine's state when it reached its Succeed/Fail state (also for failed executions, which have no output). */
  finalState?: unknown;
}

const parseJson = (s: string | undefined): unknown => {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};

/** "TaskStateEntered" → "Task"; unknown event types count as tasks. */
const stateTypeOf = (t: string | undefined) => /^(Task|Wait|Choice|Pass|Succeed|Fail|Parallel|Map)State(Entered|Exited)$/.exec(t ?? '')?.[1] ?? 'Task';

/**
 * Follows an execution until it ends, reporting each task as it is entered and left (progress for people, with what
 * each step found). `sleep` is injectable so tests do not wait.
 */
export async function followExecution(
  sfn: Pick<SFNClient, 'send'>,
  executionArn: string,
  opts: { onProgress?: (line: string) => void; pollMs?: number; sleep?: (ms: number) => Promise<void>; maxPolls?: number } = {},
): Promise<ExecutionOutcome> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const seen = new Set<number>();
  const progress = new ProgressPrinter(opts.onProgress);
  let current: string | undefined;
  let finalState: unknown;
  const handle = (ev: HistoryEvent) => {
    if (seen.has(ev.id ?? -1)) return;
    seen.add(ev.id ?? -1);
    const t = ev.timestamp ? new Date(ev.timestamp).getTime() : 0;
    const type = stateTypeOf(ev.type);
    if (ev.stateEnteredEventDetails?.name) {
      current = ev.stateEnteredEventDetails.name;
      if (type === 'Succeed' || type === 'Fail') finalState = parseJson(ev.stateEnteredEventDetails.input);
      progress.enter(current, type, t);
    } else if (ev.stateExitedEventDetails?.name) {
      progress.exit(ev.stateExitedEventDetails.name, type, t, parseJson(ev.stateExitedEventDetails.output));
    } else if (ev.taskFailedEventDetails || ev.lambdaFunctionFailedEventDetails || ev.taskTimedOutEventDetails) {
      const d = ev.taskFailedEventDetails ?? ev.lambdaFunctionFailedEventDetails ?? ev.taskTimedOutEventDetails;
      progress.fail(current, t, d?.error ?? 'error', readableCause(d?.cause));
    }
  };
  for (let i = 0; i < (opts.maxPolls ?? 100_000); i++) {
    let token: string | undefined;
    do {
      const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken: token, maxResults: 1000 }));
      for (const ev of h.events ?? []) handle(ev);
      token = h.nextToken;
    } while (token);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status && d.status !== 'RUNNING' && d.status !== 'PENDING_REDRIVE') {
      let output: unknown = d.output;
      try {
        output = d.output ? JSON.parse(d.output) : undefined;
      } catch {
        /* keep the raw string */
      }
      return { status: d.status, output, error: d.error, cause: d.cause, steps: progress.steps, finalState: finalState ?? (d.status === 'SUCCEEDED' ? output : undefined) };
    }
    await sleep(opts.pollMs ?? 3000);
  }
  throw new DeploymentError(`stopped following ${executionArn} after ${opts.maxPolls} polls; it is still running`);
}
