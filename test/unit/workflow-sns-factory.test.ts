/**
 * The deployed workflow gives its steps the SNS client as a factory (the client and @aws-sdk/client-sns are made on
 * the first notification, not when the Lambda loads): a claimed notification is published through it, and a failed
 * publish still gives the claim back.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { WorkflowDeps } from '../../functions/workflow/deps';
import { publishCommand, publishOrReleaseClaim } from '../../functions/workflow/finish';

const sns = mockClient(SNSClient);
beforeEach(() => sns.reset());

function deps(factory: () => SNSClient, released: string[]): WorkflowDeps {
  const store = { releaseClaim: async (job: string, claim: string) => void released.push(`${job}/${claim}`) };
  return { sns: factory, store, log: { info() {}, warn() {}, error() {} } } as unknown as WorkflowDeps;
}

test('publishCommand builds the SDK PublishCommand', () => {
  const c = publishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'm' });
  expect(c).toBeInstanceOf(PublishCommand);
  expect(c.input).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'm' });
});

test('a factory is asked for the client only when a notification is published', async () => {
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  let made = 0;
  const d = deps(() => (made++, new SNSClient({ region: 'us-east-1' })), []);
  expect(made).toBe(0);
  await expect(publishOrReleaseClaim(d, 'orders', 'notify#e1', publishCommand({ TopicArn: 'arn:t', Message: 'hello' }))).resolves.toMatchObject({ MessageId: 'm-1' });
  expect(made).toBe(1);
  expect(sns).toHaveReceivedCommandWith(PublishCommand, { TopicArn: 'arn:t', Message: 'hello' });
});

test('a failed publish through the factory gives the claim back', async () => {
  sns.on(PublishCommand).rejects(new Error('throttled'));
  const released: string[] = [];
  const d = deps(() => new SNSClient({ region: 'us-east-1' }), released);
  await expect(publishOrReleaseClaim(d, 'orders', 'notify#e2', publishCommand({ TopicArn: 'arn:t', Message: 'x' }))).rejects.toThrow('throttled');
  expect(released).toEqual(['orders/notify#e2']);
});
