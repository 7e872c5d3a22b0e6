/** Secrets Manager against moto on loopback (test/support/moto.ts): real GetSecretValue answers, real errors. */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { flinkCaPem, flinkCredentials, SecretsManagerSource } from '../../functions/adapters/secrets';
import { exampleConfig } from '../support/example-config';
import { useMoto } from '../support/moto';

const moto = useMoto();
let sm: SecretsManagerClient;
beforeEach(() => {
  sm = new SecretsManagerClient(moto.config);
});
const [orders, clickstream, billing] = exampleConfig().jobs;
const failure = (p: Promise<unknown>): Promise<Error> => p.then(() => { throw new Error('expected a failure'); }, (e: Error) => e);
const secret = (Name: string, SecretString: string) => sm.send(new CreateSecretCommand({ Name, SecretString }));

test('basic and bearer credentials by the secret names in the config; none when the job has no auth', async () => {
  await secret('flink/billing/rest', '{"username":"u","password":"p4ss"}');
  await secret('flink/clickstream/rest-token', '{"token":"t0k"}');
  const src = new SecretsManagerSource(sm);
  expect(await flinkCredentials(billing, src)).toEqual({ type: 'basic', username: 'u', password: 'p4ss' });
  expect(await flinkCredentials(clickstream, src)).toEqual({ type: 'bearer', token: 't0k' });
  expect(await flinkCredentials(orders, src)).toBeUndefined();
});

test('cached per container: a rotated value is seen only after the TTL', async () => {
  let now = 0;
  await secret('flink/clickstream/rest-token', '{"token":"old"}');
  const src = new SecretsManagerSource(sm, 1000, () => now);
  expect(await flinkCredentials(clickstream, src)).toEqual({ type: 'bearer', token: 'old' });
  await sm.send(new PutSecretValueCommand({ SecretId: 'flink/clickstream/rest-token', SecretString: '{"token":"new"}' }));
  now = 999;
  expect(await flinkCredentials(clickstream, src)).toEqual({ type: 'bearer', token: 'old' });
  now = 1001;
  expect(await flinkCredentials(clickstream, src)).toEqual({ type: 'bearer', token: 'new' });
});

test('a malformed secret names the secret and the fields, never the value', async () => {
  await secret('flink/billing/rest', '{"user":"u","pass":"hunter2"}');
  const err = await failure(flinkCredentials(billing, new SecretsManagerSource(sm)));
  expect(err.message).toBe('secret "flink/billing/rest" must have non-empty string fields "username" and "password" (has: user, pass)');
  expect(err.message).not.toContain('hunter2');
  await sm.send(new PutSecretValueCommand({ SecretId: 'flink/billing/rest', SecretString: 'hunter2' }));
  const err2 = await failure(flinkCredentials(billing, new SecretsManagerSource(sm)));
  expect(err2.message).toContain('must be a JSON object');
  expect(err2.message).not.toContain('hunter2');
});

test("a secret that does not exist, or holds only binary, is an error naming it (Secrets Manager's own answer)", async () => {
  const missing = await failure(flinkCredentials(billing, new SecretsManagerSource(sm)));
  expect(missing.message).toMatch(/^cannot read secret "flink\/billing\/rest": ResourceNotFoundException: /);
  await sm.send(new CreateSecretCommand({ Name: 'flink/billing/rest', SecretBinary: Buffer.from('{"username":"u","password":"p"}') }));
  const binary = await failure(flinkCredentials(billing, new SecretsManagerSource(sm)));
  expect(binary.message).toBe('secret "flink/billing/rest" has no SecretString (binary secrets are not supported)');
});

test('CA bundle must be PEM', async () => {
  await secret('flink/clickstream/ca', 'not a cert');
  await expect(flinkCaPem(clickstream, new SecretsManagerSource(sm))).rejects.toThrow('secret "flink/clickstream/ca" (caCertSecretName) must hold a PEM certificate bundle');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  await sm.send(new PutSecretValueCommand({ SecretId: 'flink/clickstream/ca', SecretString: pem }));
  expect(await flinkCaPem(clickstream, new SecretsManagerSource(sm))).toBe(pem);
  expect(await flinkCaPem(orders, new SecretsManagerSource(sm))).toBeUndefined();
});
