/**
 * The deployed workflow makes its SNS client on the first notification, not when the Lambda loads (most steps never
 * notify): production deps expose it through a getter, and notifications are built by publishCommand(), which
 * requires @aws-sdk/client-sns only then.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parseConfig } from '../../functions/core/config';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { notifyOnce, publishCommand } from '../../functions/workflow/finish';
import { createProductionDeps } from '../../functions/workflow/production';
import { exampleDoc } from '../support/example-config';

const sns = mockClient(SNSClient);
beforeEach(() => sns.reset());

test('publishCommand builds the SDK PublishCommand', () => {
  const c = publishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'm' });
  expect(c).toBeInstanceOf(PublishCommand);
  expect(c.input).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'm' });
});

test('production deps: the SNS client is made (and traced) when first read, once', () => {
  const env = { STATE_TABLE_NAME: process.env.STATE_TABLE_NAME, NOTIFICATION_TOPIC_ARN: process.env.NOTIFICATION_TOPIC_ARN, AWS_REGION: process.env.AWS_REGION };
  Object.assign(process.env, { STATE_TABLE_NAME: 'state', NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t', AWS_REGION: 'us-east-1' });
  try {
    const traced: unknown[] = [];
    const tracer = { captureAWSv3Client: <C>(c: C) => (traced.push(c), c) };
    const logger = { info() {}, warn() {}, error() {} };
    const deps = createProductionDeps({ config: parseConfig(exampleDoc()), logger: logger as never, tracer: tracer as never });
    expect(traced.map((c) => c?.constructor)).toEqual([DynamoDBClient]);
    const first = deps.sns;
    expect(first).toBeInstanceOf(SNSClient);
    expect(deps.sns).toBe(first);
    expect(traced.map((c) => c?.constructor)).toEqual([DynamoDBClient, SNSClient]);
  } finally {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('a failed publish keeps the claim and leaves the message in the outbox, its lease given back (the retry or the scaler sends it)', async () => {
  sns.on(PublishCommand).rejects(new Error('throttled'));
  const calls: string[] = [];
  const store = {
    claimOnce: async () => true,
    releaseClaim: async (job: string, claim: string) => void calls.push(`releaseClaim ${job}/${claim}`),
    putOutbox: async (job: string, key: string) => void calls.push(`putOutbox ${job}/${key}`),
    releaseOutboxLease: async (job: string, key: string, error: string) => void calls.push(`releaseOutboxLease ${job}/${key} ${error}`),
    deleteOutbox: async (job: string, key: string) => void calls.push(`deleteOutbox ${job}/${key}`),
  };
  const deps = { sns: new SNSClient({ region: 'us-east-1' }), store, topicArn: 'arn:t', now: () => 0, log: { info() {}, warn() {}, error() {} } } as unknown as WorkflowDeps;
  await expect(notifyOnce(deps, 'orders', 'notify#e2', { subject: 's', message: 'x', attributes: {} })).rejects.toThrow('throttled');
  expect(calls).toEqual(['putOutbox orders/notify#e2', 'releaseOutboxLease orders/notify#e2 Error: throttled']);
});
