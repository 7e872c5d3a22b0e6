import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { flinkCaPem, flinkCredentials, SecretsManagerSource } from '../../functions/adapters/secrets';
import { exampleConfig } from '../support/example-config';

const sm = mockClient(SecretsManagerClient);
beforeEach(() => sm.reset());
const [orders, clickstream, billing] = exampleConfig().jobs;
const failure = (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);

test('basic and bearer credentials by the secret names in the config; none when the job has no auth', async () => {
  sm.on(GetSecretValueCommand, { SecretId: 'flink/billing/rest' }).resolves({ SecretString: '{"username":"u","password":"p4ss"}' });
  sm.on(GetSecretValueCommand, { SecretId: 'flink/clickstream/rest-token' }).resolves({ SecretString: '{"token":"t0k"}' });
  const src = new SecretsManagerSource(new SecretsManagerClient({}));
  expect(await flinkCredentials(billing, src)).toEqual({ type: 'basic', username: 'u', password: 'p4ss' });
  expect(await flinkCredentials(clickstream, src)).toEqual({ type: 'bearer', token: 't0k' });
  expect(await flinkCredentials(orders, src)).toBeUndefined();
});

test('cached per container: one GetSecretValue per secret within the TTL', async () => {
  let now = 0;
  sm.on(GetSecretValueCommand).resolves({ SecretString: '{"token":"t"}' });
  const src = new SecretsManagerSource(new SecretsManagerClient({}), 1000, () => now);
  await flinkCredentials(clickstream, src);
  await flinkCredentials(clickstream, src);
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  now = 1001;
  await flinkCredentials(clickstream, src);
  expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
});

test('a malformed secret names the secret and the fields, never the value', async () => {
  sm.on(GetSecretValueCommand).resolves({ SecretString: '{"user":"u","pass":"hunter2"}' });
  const src = new SecretsManagerSource(new SecretsManagerClient({}));
  const err = await failure(flinkCredentials(billing, src));
  expect(err.message).toBe('secret "flink/billing/rest" must have non-empty string fields "username" and "password" (has: user, pass)');
  expect(err.message).not.toContain('hunter2');
  sm.on(GetSecretValueCommand).resolves({ SecretString: 'hunter2' });
  const err2 = await failure(flinkCredentials(billing, new SecretsManagerSource(new SecretsManagerClient({}))));
  expect(err2.message).toContain('must be a JSON object');
  expect(err2.message).not.toContain('hunter2');
});

test('CA bundle must be PEM', async () => {
  sm.on(GetSecretValueCommand, { SecretId: 'flink/clickstream/ca' }).resolves({ SecretString: 'not a cert' });
  await expect(flinkCaPem(clickstream, new SecretsManagerSource(new SecretsManagerClient({})))).rejects.toThrow('secret "flink/clickstream/ca" (caCertSecretName) must hold a PEM certificate bundle');
  expect(await flinkCaPem(orders, new SecretsManagerSource(new SecretsManagerClient({})))).toBeUndefined();
});
