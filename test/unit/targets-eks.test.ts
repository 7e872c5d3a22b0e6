/**
 * EKS Deployment target and EKS credentials against a loopback fake Kubernetes API server (HTTPS, test CA), reached the
 * production way: eks:DescribeCluster gives the endpoint and CA, a presigned STS token is the bearer. DescribeCluster
 * is mocked here (aws-sdk-client-mock) because it must name the fake server's loopback URL and test CA, and moto
 * invents its clusters' endpoint and CA; DescribeCluster itself runs against moto in eks-describe-cluster-moto.test.ts.
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { parseJob, type JobConfigInput } from '../../functions/core/config';
import { CapacityTargetError, createCapacityTarget, type CapacityTarget } from '../../functions/adapters/targets';
import { createEksToken, EksKubeConfigProvider } from '../../functions/adapters/targets/eks-auth';
import { POD_DELETION_COST } from '../../functions/adapters/targets/kube';
import { FakeKubeApi, TEST_CA_PEM } from '../support/fake-kube-api';
import { amzDateMs, decodeEksToken, verifyEksToken } from '../support/sigv4-verify';
import { tm } from '../support/task-managers';

const CLUSTER = 'flink-prod';
const REGION = 'eu-west-1';
const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjE+/session==' };
const NS = 'streaming';
const LABELS = { app: 'flink', component: 'taskmanager' };

const eks = mockClient(EKSClient);
let fake: FakeKubeApi;
let url: string;

function job(over: Partial<JobConfigInput> = {}) {
  return parseJob({
    name: 'orders',
    flink: { url: 'http://127.0.0.1:8081' },
    mode: 'reactive',
    target: { kind: 'eks-deployment', clusterName: CLUSTER, namespace: NS, deploymentName: 'flink-taskmanager' },
    slotsPerTaskManager: 2,
    bounds: { maxParallelism: 16, minTaskManagers: 1, maxTaskManagers: 8 },
    ...over,
  });
}

function target(over: Partial<JobConfigInput> = {}): CapacityTarget {
  return createCapacityTarget(job(over), { eks: new EKSClient({ region: REGION }), credentials: async () => CREDS, region: REGION });
}

beforeAll(async () => {
  fake = new FakeKubeApi({ clusterName: CLUSTER, region: REGION, accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey });
  url = await fake.start();
});
afterAll(() => fake.stop());

beforeEach(() => {
  eks.reset();
  eks.on(DescribeClusterCommand, { name: CLUSTER }).resolves({
    cluster: { name: CLUSTER, endpoint: url, status: 'ACTIVE', certificateAuthority: { data: Buffer.from(TEST_CA_PEM).toString('base64') } },
  });
  fake.requests.length = 0;
  fake.pods.clear();
  fake.deployments.clear();
  fake.deployments.set(`${NS}/flink-taskmanager`, { replicas: 4, matchLabels: LABELS });
  fake.addPod(NS, { name: 'flink-taskmanager-7d9f-a', labels: LABELS, ip: '10.1.0.11' });
  fake.addPod(NS, { name: 'flink-taskmanager-7d9f-b', labels: LABELS, ip: '10.1.0.12' });
  fake.addPod(NS, { name: 'flink-taskmanager-7d9f-c', labels: LABELS, ip: '10.1.0.13' });
  fake.addPod(NS, { name: 'flink-taskmanager-7d9f-d', labels: LABELS, ip: '10.1.0.14' });
  fake.addPod(NS, { name: 'jobmanager-0', labels: { app: 'flink', component: 'jobmanager' }, ip: '10.1.0.2' });
});

// Standalone TaskManagers: resource id "<ip>:<port>-<hex>", host = pod IP.
const tms = (busy: number[]) => [11, 12, 13, 14].map((n, i) => tm(`10.1.0.${n}:6122-${n}ab`, `10.1.0.${n}`, 2, busy[i]));

describe('EKS token', () => {
  test('is k8s-aws-v1. + base64url (no padding) of a presigned STS GetCallerIdentity URL bound to the cluster', async () => {
    const now = new Date('2025-03-04T05:06:07Z');
    const { token } = await createEksToken({ clusterName: CLUSTER, region: REGION, credentials: CREDS, now });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token.slice(11)).toMatch(/^[A-Za-z0-9_-]+$/); // url-safe alphabet, no "=" padding
    const t = decodeEksToken(token);
    expect(t.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(t.url.protocol).toBe('https:');
    expect(t.action).toBe('GetCallerIdentity');
    expect(t.version).toBe('2011-06-15');
    expect(t.signedHeaders).toEqual(['host', 'x-k8s-aws-id']);
    expect(t.expires).toBe(60);
    expect(t.amzDate).toBe('20250304T050607Z');
    expect(t.credential).toEqual({ accessKeyId: 'AKIDEXAMPLE', date: '20250304', region: REGION, service: 'sts', terminator: 'aws4_request' });
    expect(t.url.searchParams.get('X-Amz-Security-Token')).toBe(CREDS.sessionToken);
    expect(token.length).toBeLessThan(4096); // the authenticator rejects larger tokens
    const check = { region: REGION, accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey };
    // Valid for 15 minutes after X-Amz-Date, only for this cluster.
    expect(verifyEksToken(token, { ...check, clusterName: CLUSTER, nowMs: amzDateMs(t.amzDate) + 14 * 60_000 })).toBeUndefined();
    expect(verifyEksToken(token, { ...check, clusterName: CLUSTER, nowMs: amzDateMs(t.amzDate) + 16 * 60_000 })).toMatch(/expired/);
    expect(verifyEksToken(token, { ...check, clusterName: 'other-cluster', nowMs: now.getTime() })).toMatch(/signature does not match/);
  });

  test('China regions sign for the .amazonaws.com.cn STS host', async () => {
    const { token } = await createEksToken({ clusterName: CLUSTER, region: 'cn-north-1', credentials: CREDS });
    expect(decodeEksToken(token).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  test('provider reads the cluster once and renews the token after 10 minutes', async () => {
    let now = new Date('2025-03-04T05:00:00Z');
    const p = new EksKubeConfigProvider({ clusterName: CLUSTER, target: { kind: 'eks-deployment', name: 'x' }, eks: new EKSClient({}), credentials: async () => CREDS, region: REGION, now: () => now });
    const bearer = (kc: any) => kc.getCurrentUser().token as string;
    const first = bearer(await p.get());
    now = new Date(now.getTime() + 9 * 60_000);
    expect(bearer(await p.get())).toBe(first);
    now = new Date(now.getTime() + 2 * 60_000);
    const renewed = bearer(await p.get());
    expect(renewed).not.toBe(first);
    expect(decodeEksToken(renewed).amzDate).toBe('20250304T051100Z');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    expect((await p.get()).getCurrentCluster()).toMatchObject({ server: url, skipTLSVerify: false });
  });

  test('a token the API server rejects becomes UNAUTHORIZED naming the target (after one fresh-token retry)', async () => {
    const stale = new Date(Date.now() - 20 * 60_000);
    const t = createCapacityTarget(job(), { eks: new EKSClient({}), credentials: async () => CREDS, region: REGION, kube: undefined });
    // A provider whose clock is 20 minutes behind signs tokens that have already expired.
    const kube = new EksKubeConfigProvider({ clusterName: CLUSTER, target: { kind: 'eks-deployment', name: `${NS}/flink-taskmanager` }, eks: new EKSClient({}), credentials: async () => CREDS, region: REGION, now: () => stale });
    const stuck = createCapacityTarget(job(), { kube });
    const err = await stuck.describe([]).catch((e) => e);
    expect(err).toBeInstanceOf(CapacityTargetError);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', target: `eks-deployment:${NS}/flink-taskmanager` });
    expect(fake.requests.filter((r) => r.status === 401)).toHaveLength(2);
    expect((await t.describe([])).desired).toBe(4); // the same server accepts a fresh token
  });
});

describe('EksDeploymentTarget', () => {
  test('describe: reads the Deployment, lists its pods by selector, maps pod IP ↔ TaskManager', async () => {
    const d = await target().describe([...tms([2, 0, 1, 0]), tm('stray', '10.9.9.9', 2, 0)]);
    expect(fake.requests.map((r) => [r.method, r.path, r.query.labelSelector])).toEqual([
      ['GET', `/apis/apps/v1/namespaces/${NS}/deployments/flink-taskmanager`, undefined],
      ['GET', `/api/v1/namespaces/${NS}/pods`, 'app=flink,component=taskmanager'],
    ]);
    expect(d).toMatchObject({ kind: 'eks-deployment', name: `${NS}/flink-taskmanager`, desired: 4, min: 0, max: Infinity });
    expect(d.members.map((m) => [m.id, m.state, m.taskManagerId, m.idle])).toEqual([
      ['flink-taskmanager-7d9f-a', 'Running', '10.1.0.11:6122-11ab', false],
      ['flink-taskmanager-7d9f-b', 'Running', '10.1.0.12:6122-12ab', true],
      ['flink-taskmanager-7d9f-c', 'Running', '10.1.0.13:6122-13ab', false],
      ['flink-taskmanager-7d9f-d', 'Running', '10.1.0.14:6122-14ab', true],
    ]);
    expect(d.unmappedTaskManagers).toEqual(['stray']);
  });

  test('setDesired patches the scale subresource with a merge patch; already there is a no-op', async () => {
    const r = await target().setDesired(6);
    expect(r).toMatchObject({ previous: 4, desired: 6, changed: true });
    expect(fake.writes().map((w) => [w.method, w.path, w.contentType, w.body])).toEqual([
      ['PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/flink-taskmanager/scale`, 'application/merge-patch+json', { spec: { replicas: 6 } }],
    ]);
    fake.requests.length = 0;
    expect(await target().setDesired(6)).toMatchObject({ changed: false });
    expect(fake.writes()).toEqual([]);
  });

  test('setDesired outside the bounds is clamped; below what jobs need is refused with nothing written', async () => {
    expect((await target().setDesired(50)).desired).toBe(8);
    expect(fake.deployments.get(`${NS}/flink-taskmanager`)!.replicas).toBe(8);
    fake.requests.length = 0;
    const err = await target().setDesired(2, { minRequired: 5 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'BELOW_REQUIRED', target: `eks-deployment:${NS}/flink-taskmanager` });
    expect(fake.writes()).toEqual([]);
  });

  test('protectBusy: high pod-deletion-cost on busy pods, removed from idle ones, with merge-patch', async () => {
    fake.pods.get(NS)!.get('flink-taskmanager-7d9f-d')!.annotations = { [POD_DELETION_COST]: '100000' };
    const r = await target().protectBusy(tms([2, 0, 1, 0]));
    expect(fake.writes().map((w) => [w.path, w.contentType, w.body])).toEqual([
      [`/api/v1/namespaces/${NS}/pods/flink-taskmanager-7d9f-a`, 'application/merge-patch+json', { metadata: { annotations: { [POD_DELETION_COST]: '100000' } } }],
      [`/api/v1/namespaces/${NS}/pods/flink-taskmanager-7d9f-c`, 'application/merge-patch+json', { metadata: { annotations: { [POD_DELETION_COST]: '100000' } } }],
      [`/api/v1/namespaces/${NS}/pods/flink-taskmanager-7d9f-d`, 'application/merge-patch+json', { metadata: { annotations: { [POD_DELETION_COST]: null } } }],
    ]);
    expect(r).toMatchObject({ protected: ['flink-taskmanager-7d9f-a', 'flink-taskmanager-7d9f-c'], unprotected: ['flink-taskmanager-7d9f-d'] });
    expect(fake.pods.get(NS)!.get('flink-taskmanager-7d9f-d')!.annotations).toEqual({});
    fake.requests.length = 0;
    await target().protectBusy(tms([2, 0, 1, 0]));
    expect(fake.writes()).toEqual([]); // idempotent
  });

  test('release: lowest cost on the named idle pods, then scale down by exactly that many; the controller removes exactly them', async () => {
    const r = await target().release(['flink-taskmanager-7d9f-b', 'flink-taskmanager-7d9f-d'], tms([2, 0, 1, 0]));
    expect(r).toMatchObject({ released: ['flink-taskmanager-7d9f-b', 'flink-taskmanager-7d9f-d'], skipped: [], previous: 4, desired: 2 });
    const writes = fake.writes();
    expect(writes.at(-1)).toMatchObject({ path: `/apis/apps/v1/namespaces/${NS}/deployments/flink-taskmanager/scale`, contentType: 'application/merge-patch+json', body: { spec: { replicas: 2 } } });
    expect(writes.filter((w) => w.body?.metadata?.annotations?.[POD_DELETION_COST] === '-100000').map((w) => w.path.split('/').pop())).toEqual([
      'flink-taskmanager-7d9f-b',
      'flink-taskmanager-7d9f-d',
    ]);
    expect(fake.podNames(NS).filter((n) => n.startsWith('flink-taskmanager'))).toEqual(['flink-taskmanager-7d9f-a', 'flink-taskmanager-7d9f-c']);
  });

  test('a busy pod is never released, even when named', async () => {
    const r = await target().release(['flink-taskmanager-7d9f-a', 'flink-taskmanager-7d9f-b'], tms([2, 0, 1, 0]));
    expect(r.released).toEqual(['flink-taskmanager-7d9f-b']);
    expect(r.skipped).toEqual([{ id: 'flink-taskmanager-7d9f-a', code: 'busy', reason: 'flink-taskmanager-7d9f-a runs TaskManager 10.1.0.11:6122-11ab, which holds 2 slot(s)' }]);
    expect(fake.podNames(NS)).toContain('flink-taskmanager-7d9f-a');
    expect(fake.podNames(NS)).not.toContain('flink-taskmanager-7d9f-b');
    expect(fake.deployments.get(`${NS}/flink-taskmanager`)!.replicas).toBe(3);
  });

  test('no scale-in while a busy pod is not ready (the controller would delete it first): nothing written', async () => {
    fake.pods.get(NS)!.get('flink-taskmanager-7d9f-c')!.ready = false;
    const r = await target().release(['flink-taskmanager-7d9f-b'], tms([2, 0, 1, 0]));
    expect(r.released).toEqual([]);
    expect(r.skipped[0]).toMatchObject({ id: 'flink-taskmanager-7d9f-b', code: 'unsafe' });
    expect(r.skipped[0].reason).toMatch(/busy pod\(s\) flink-taskmanager-7d9f-c \(NotReady\) are not ready/);
    expect(fake.writes()).toEqual([]);
  });

  test('no scale-in while the Deployment is rolling out', async () => {
    fake.deployments.get(`${NS}/flink-taskmanager`)!.updatedReplicas = 2;
    const r = await target().release(['flink-taskmanager-7d9f-b'], tms([2, 0, 1, 0]));
    expect(r.skipped[0]).toMatchObject({ code: 'unsafe' });
    expect(r.skipped[0].reason).toMatch(/not settled/);
    expect(fake.writes()).toEqual([]);
  });

  test('dry run plans the release and writes nothing', async () => {
    const r = await target({ dryRun: true }).release(['flink-taskmanager-7d9f-b'], tms([2, 0, 1, 0]));
    expect(r).toMatchObject({ dryRun: true, released: [], selected: ['flink-taskmanager-7d9f-b'], desired: 4 });
    expect(r.actions.join('\n')).toMatch(/dry run: would patch scale replicas 4 → 3/);
    expect(fake.writes()).toEqual([]);
  });

  test('RBAC denial is FORBIDDEN, names the target and the missing rule', async () => {
    fake.deny('PATCH', /\/deployments\/flink-taskmanager\/scale$/);
    try {
      const err = await target().setDesired(5).catch((e) => e);
      expect(err).toBeInstanceOf(CapacityTargetError);
      expect(err).toMatchObject({ code: 'FORBIDDEN', target: `eks-deployment:${NS}/flink-taskmanager`, operation: 'patch deployment scale' });
      expect(err.message).toContain(`"patch" on deployments/scale, resourceNames [flink-taskmanager], in namespace ${NS}`);
    } finally {
      (fake as any).denied = [];
    }
  });

  test('a missing Deployment is NOT_FOUND', async () => {
    fake.deployments.clear();
    const err = await target().describe([]).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND', operation: 'read deployment' });
    expect(err.message).toMatch(/deployments.apps "flink-taskmanager" not found/);
  });
});
