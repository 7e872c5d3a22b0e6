import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { followExecution, resolveDeployment } from '../../../bin/commands/support/deployment';

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
beforeEach(() => {
  cfn.reset();
  sfn.reset();
});

test('resolves the state machine, table and topic from the stack outputs', async () => {
  cfn.on(DescribeStacksCommand, { StackName: 'FlinkElastic' }).resolves({
    Stacks: [{ StackName: 'FlinkElastic', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
      { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:us-east-1:1:stateMachine:Rescale' },
      { OutputKey: 'StateTableName', OutputValue: 'tbl' },
      { OutputKey: 'NotificationTopicArn', OutputValue: 'arn:aws:sns:us-east-1:1:t' },
    ] }],
  });
  await expect(resolveDeployment('FlinkElastic', new CloudFormationClient({}))).resolves.toEqual({
    stackName: 'FlinkElastic', stateMachineArn: 'arn:aws:states:us-east-1:1:stateMachine:Rescale', tableName: 'tbl', topicArn: 'arn:aws:sns:us-east-1:1:t',
  });
});

test('a missing stack or output says what to do', async () => {
  cfn.on(DescribeStacksCommand).rejectsOnce(new Error('Stack with id Nope does not exist'));
  await expect(resolveDeployment('Nope', new CloudFormationClient({}))).rejects.toThrow(/stack "Nope" does not exist.*cdk deploy.*--local/);
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'X', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
  await expect(resolveDeployment('X', new CloudFormationClient({}))).rejects.toThrow(/has no output StateMachineArn/);
});

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

test.each([
  ['no region', new Error('Region is missing'), {}, /no AWS region is set: pass --region REGION or set AWS_REGION/],
  ['no credentials', named('CredentialsProviderError', 'Could not load credentials from any providers'), { region: 'eu-west-1' }, /no AWS credentials found: pass --profile NAME or set AWS_PROFILE/],
  ['an unknown profile', named('CredentialsProviderError', 'Could not resolve credentials using profile: [ops] in configuration/credentials file(s).'), { profile: 'ops' }, /no AWS credentials found \(profile "ops"\)/],
  ['expired credentials', named('ExpiredToken', 'The security token included in the request is expired'), { profile: 'ops' }, /have expired: refresh them \(for SSO: `aws sso login --profile ops`\)/],
  ['rejected credentials', named('InvalidClientTokenId', 'The security token included in the request is invalid.'), {}, /AWS rejected your credentials .*AWS_ACCESS_KEY_ID/],
  ['no permission', named('AccessDenied', 'User: arn:aws:iam::1:user/bob is not authorized to perform: cloudformation:DescribeStacks'), { region: 'eu-west-1' }, /in region eu-west-1: access denied .*cloudformation:DescribeStacks/],
  ['no network', new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com'), { region: 'eu-west-1' }, /CloudFormation is not reachable from here .*--region/],
  ['no stack', named('ValidationError', 'Stack with id FlinkElastic does not exist'), { region: 'eu-west-1' }, /stack "FlinkElastic" does not exist in region eu-west-1 of this AWS account: deploy it with `npx cdk deploy`/],
])('%s: one line saying what to set', async (_what, error, hints, expected) => {
  cfn.on(DescribeStacksCommand).rejects(error);
  const e: Error = await resolveDeployment('FlinkElastic', new CloudFormationClient({}), hints).catch((x) => x);
  expect(e.message).toMatch(expected);
  expect(e.message).not.toContain('\n');
});

test('follows an execution to its end, printing each state with its duration, reading history only once per event', async () => {
  const t0 = new Date('2026-01-01T00:00:00Z').getTime();
  const ev = (id: number, s: number, e: object) => ({ id, timestamp: new Date(t0 + s * 1000), type: 'X' as any, ...e });
  sfn
    .on(GetExecutionHistoryCommand)
    .resolvesOnce({ events: [ev(1, 0, { stateEnteredEventDetails: { name: 'Savepoint' } })] })
    .resolves({ events: [ev(1, 0, { stateEnteredEventDetails: { name: 'Savepoint' } }), ev(2, 12, { stateExitedEventDetails: { name: 'Savepoint' } })] });
  sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING', executionArn: 'a', stateMachineArn: 's', startDate: new Date() })
    .resolves({ status: 'SUCCEEDED', output: '{"parallelism":8}', executionArn: 'a', stateMachineArn: 's', startDate: new Date() });
  const lines: string[] = [];
  const out = await followExecution(new SFNClient({}), 'a', { onProgress: (l) => lines.push(l), sleep: async () => {} });
  expect(out).toMatchObject({ status: 'SUCCEEDED', output: { parallelism: 8 }, steps: [{ state: 'Savepoint', ms: 12_000 }] });
  expect(lines).toEqual(['… Savepoint', '✓ Savepoint (12.0 s)']);
});
