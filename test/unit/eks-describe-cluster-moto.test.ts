/**
 * eks:DescribeCluster against EKS on moto (loopback): the provider builds its KubeConfig from the endpoint and CA the
 * cluster really reports, and a cluster that does not exist is NOT_FOUND from moto's own ResourceNotFoundException.
 * The Kubernetes side stays on the loopback fake API server (targets-eks.test.ts), which is why that file still mocks
 * DescribeCluster: moto invents its clusters' endpoint and CA, so it cannot point a client at a server a test runs.
 */
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { createCapacityTarget } from '../../functions/adapters/targets';
import { EksKubeConfigProvider } from '../../functions/adapters/targets/eks-auth';
import { parseJob } from '../../functions/core/config';
import { MOTO_ACCOUNT, MOTO_REGION, useMoto } from '../support/moto';
import { decodeEksToken } from '../support/sigv4-verify';

const moto = useMoto();
const CLUSTER = 'flink-prod';
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function createCluster(eks: EKSClient, name: string) {
  const { cluster } = await eks.send(
    new CreateClusterCommand({ name, roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks`, resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }),
  );
  return cluster!;
}

test("the KubeConfig points at the cluster's own endpoint with its CA, TLS verified, and a token bound to the cluster", async () => {
  const eks = new EKSClient(moto.config);
  const created = await createCluster(eks, CLUSTER);
  await createCluster(eks, 'another-cluster');
  expect(created.endpoint).toMatch(/^https:\/\//);
  const p = new EksKubeConfigProvider({ clusterName: CLUSTER, target: { kind: 'eks-deployment', name: 'x' }, eks, credentials: async () => CREDS, region: MOTO_REGION });
  const kc = await p.get();
  expect(kc.getCurrentCluster()).toMatchObject({ name: CLUSTER, server: created.endpoint, caData: created.certificateAuthority!.data, skipTLSVerify: false });
  const token = decodeEksToken((kc.getCurrentUser() as { token: string }).token);
  expect(token.host).toBe(`sts.${MOTO_REGION}.amazonaws.com`);
  expect(token.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
});

test('a cluster that does not exist is NOT_FOUND naming the cluster (moto ResourceNotFoundException)', async () => {
  const eks = new EKSClient(moto.config);
  await createCluster(eks, 'another-cluster');
  const job = parseJob({
    name: 'orders', flink: { url: 'http://127.0.0.1:8081' }, mode: 'reactive',
    target: { kind: 'eks-deployment', clusterName: CLUSTER, namespace: 'streaming', deploymentName: 'flink-taskmanager' },
    slotsPerTaskManager: 2, bounds: { maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
  });
  const err = await createCapacityTarget(job, { eks, credentials: async () => CREDS, region: MOTO_REGION }).describe([]).catch((e) => e);
  expect(err).toMatchObject({ name: 'CapacityTargetError', code: 'NOT_FOUND', operation: `eks:DescribeCluster ${CLUSTER}`, retryable: false });
  expect(err.message).toContain(`no EKS cluster "${CLUSTER}"`);
});
