/**
 * The small Kubernetes client (functions/adapters/targets/kube-client.ts) against the loopback fake API server:
 * TLS is verified with the cluster CA only, and the answers Kubernetes gives reach the targets as CapacityTargetErrors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapacityTargetError } from '../../functions/adapters/targets';
import { createEksToken } from '../../functions/adapters/targets/eks-auth';
import { EksDeploymentTarget } from '../../functions/adapters/targets/eks-deployment';
import { fixedKubeConfig } from '../../functions/adapters/targets/kube';
import { KubeApiError, KubeClient, KubeConfig, namespacedPath } from '../../functions/adapters/targets/kube-client';
import { FakeKubeApi, TEST_CA_PEM } from '../support/fake-kube-api';

const CLUSTER = 'kc-test';
const REGION = 'eu-west-1';
const CREDS = { accessKeyId: 'AKIDKC', secretAccessKey: 'kc-secret' };
const NS = 'streaming';
const b64 = (pem: string) => Buffer.from(pem).toString('base64');
/** A CA that did not sign the fake server's certificate (the Flink emulator's self-signed test certificate). */
const OTHER_CA = readFileSync(join(__dirname, '..', 'fixtures', 'tls', 'localhost-cert.pem'), 'utf8');

let fake: FakeKubeApi;
let url: string;

beforeAll(async () => {
  fake = new FakeKubeApi({ clusterName: CLUSTER, region: REGION, ...CREDS });
  url = await fake.start();
  fake.deployments.set(`${NS}/tm`, { replicas: 2, matchLabels: { app: 'tm' } });
});
afterAll(() => fake.stop());

async function config(caPem: string): Promise<KubeConfig> {
  const { token } = await createEksToken({ clusterName: CLUSTER, region: REGION, credentials: CREDS });
  return new KubeConfig({ name: CLUSTER, server: url, caData: b64(caPem), skipTLSVerify: false }, { name: 'u', token });
}

test('paths: core group under /api, named groups under /apis, names encoded', () => {
  expect(namespacedPath('', 'v1', NS, 'pods')).toBe(`/api/v1/namespaces/${NS}/pods`);
  expect(namespacedPath('apps', 'v1', NS, 'deployments', 'tm', 'scale')).toBe(`/apis/apps/v1/namespaces/${NS}/deployments/tm/scale`);
  expect(namespacedPath('flink.apache.org', 'v1beta1', NS, 'flinkdeployments', 'a b')).toBe(`/apis/flink.apache.org/v1beta1/namespaces/${NS}/flinkdeployments/a%20b`);
});

test('with the cluster CA: GET answers parsed JSON; a 404 is a KubeApiError with the Status body', async () => {
  const kube = new KubeClient(await config(TEST_CA_PEM));
  await expect(kube.get(namespacedPath('apps', 'v1', NS, 'deployments', 'tm'))).resolves.toMatchObject({ kind: 'Deployment', spec: { replicas: 2 } });
  const err = (await kube.get(namespacedPath('apps', 'v1', NS, 'deployments', 'missing')).catch((e: unknown) => e)) as KubeApiError;
  expect(err).toBeInstanceOf(KubeApiError);
  expect(err.code).toBe(404);
  expect(JSON.parse(err.body)).toMatchObject({ kind: 'Status', message: 'deployments.apps "missing" not found' });
});

test('a server whose certificate the cluster CA did not sign is refused before any request is sent', async () => {
  fake.requests.length = 0;
  const target = new EksDeploymentTarget({ namespace: NS, deploymentName: 'tm', bounds: { minTaskManagers: 1, maxTaskManagers: 4 }, kube: fixedKubeConfig(await config(OTHER_CA)) });
  const err = await target.describe([]).catch((e) => e);
  expect(err).toBeInstanceOf(CapacityTargetError);
  expect(err).toMatchObject({ code: 'API', operation: 'read deployment' });
  expect(err.message).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  expect(fake.requests).toEqual([]);
});
