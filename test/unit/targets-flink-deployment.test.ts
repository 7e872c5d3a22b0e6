/** FlinkDeployment target (Flink Kubernetes Operator CR) against the loopback fake Kubernetes API server. */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { parseJob, type JobConfigInput } from '../../functions/core/config';
import { createCapacityTarget } from '../../functions/adapters/targets';
import { FlinkDeploymentTarget } from '../../functions/adapters/targets/flink-deployment';
import { POD_DELETION_COST } from '../../functions/adapters/targets/kube';
import { FakeKubeApi, TEST_CA_PEM } from '../support/fake-kube-api';
import { tm } from '../support/task-managers';

const CLUSTER = 'analytics';
const REGION = 'us-east-1';
const CREDS = { accessKeyId: 'AKIDFLINK', secretAccessKey: 'flink/secret+key' };
const NS = 'flink';
const NAME = 'orders';
const FD_PATH = `/apis/flink.apache.org/v1beta1/namespaces/${NS}/flinkdeployments/${NAME}`;
const SELECTOR = `app=${NAME},component=taskmanager,type=flink-native-kubernetes`;
const POD_LABELS = { app: NAME, component: 'taskmanager', type: 'flink-native-kubernetes' };

const eks = mockClient(EKSClient);
let fake: FakeKubeApi;
let url: string;

function target(over: { operatorOwnsJob?: boolean; dryRun?: boolean } = {}): FlinkDeploymentTarget {
  const input: JobConfigInput = {
    name: 'orders',
    dryRun: over.dryRun ?? false,
    flink: { url: 'http://127.0.0.1:8081' },
    mode: 'savepoint',
    target: { kind: 'flink-deployment', clusterName: CLUSTER, namespace: NS, name: NAME, operatorOwnsJob: over.operatorOwnsJob ?? true },
    slotsPerTaskManager: 4,
    bounds: { minParallelism: 2, maxParallelism: 24, minTaskManagers: 1, maxTaskManagers: 6 },
  };
  const t = createCapacityTarget(parseJob(input), { eks: new EKSClient({}), credentials: async () => CREDS, region: REGION });
  expect(t).toBeInstanceOf(FlinkDeploymentTarget);
  return t as FlinkDeploymentTarget;
}

function flinkDeployment(over: { replicas?: number; parallelism?: number; lifecycleState?: string } = {}) {
  return {
    apiVersion: 'flink.apache.org/v1beta1',
    kind: 'FlinkDeployment',
    metadata: { name: NAME, namespace: NS, generation: 7 },
    spec: {
      image: 'flink:1.20',
      flinkVersion: 'v1_20',
      flinkConfiguration: { 'taskmanager.numberOfTaskSlots': '4' },
      jobManager: { resource: { memory: '2048m', cpu: 1 } },
      taskManager: { replicas: over.replicas ?? 3, resource: { memory: '4096m', cpu: 2 } },
      job: { jarURI: 'local:///opt/flink/usrlib/orders.jar', parallelism: over.parallelism ?? 12, upgradeMode: 'savepoint', state: 'running' },
    },
    status: {
      lifecycleState: over.lifecycleState ?? 'STABLE',
      jobStatus: { state: 'RUNNING' },
      taskManager: { replicas: over.replicas ?? 3, labelSelector: SELECTOR },
    },
  };
}

// Native mode: TaskManager resource id = pod name.
const tms = (busy: number[]) => [1, 2, 3].map((n, i) => tm(`${NAME}-taskmanager-1-${n}`, `10.2.0.${n}`, 4, busy[i]));

beforeAll(async () => {
  fake = new FakeKubeApi({ clusterName: CLUSTER, region: REGION, ...CREDS });
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
  fake.noScaleSubresource = false;
  fake.flinkDeployments.clear();
  fake.flinkDeployments.set(`${NS}/${NAME}`, flinkDeployment());
  for (const n of [1, 2, 3]) fake.addPod(NS, { name: `${NAME}-taskmanager-1-${n}`, labels: POD_LABELS, ip: `10.2.0.${n}` });
  fake.addPod(NS, { name: `${NAME}-7c9d8-jm`, labels: { app: NAME, component: 'jobmanager' }, ip: '10.2.0.100' });
});

test('describe: reads the FlinkDeployment, lists TaskManager pods by its status label selector, maps pod name ↔ TM id', async () => {
  const d = await target().describe(tms([4, 0, 2]));
  expect(fake.requests.map((r) => [r.method, r.path, r.query.labelSelector])).toEqual([
    ['GET', FD_PATH, undefined],
    ['GET', `/api/v1/namespaces/${NS}/pods`, SELECTOR],
  ]);
  expect(d).toMatchObject({ kind: 'flink-deployment', name: `${NS}/${NAME}`, desired: 3, unmappedMembers: [], unmappedTaskManagers: [] });
  expect(d.members.map((m) => [m.id, m.taskManagerId, m.idle, m.busySlots])).toEqual([
    ['orders-taskmanager-1-1', 'orders-taskmanager-1-1', false, 4],
    ['orders-taskmanager-1-2', 'orders-taskmanager-1-2', true, 0],
    ['orders-taskmanager-1-3', 'orders-taskmanager-1-3', false, 2],
  ]);
});

test('setDesired patches the FlinkDeployment scale subresource with a merge patch', async () => {
  const r = await target().setDesired(5);
  expect(r).toMatchObject({ previous: 3, desired: 5, changed: true });
  expect(fake.writes().map((w) => [w.method, w.path, w.contentType, w.body])).toEqual([
    ['PATCH', `${FD_PATH}/scale`, 'application/merge-patch+json', { spec: { replicas: 5 } }],
  ]);
  expect(fake.flinkDeployments.get(`${NS}/${NAME}`).spec.taskManager.replicas).toBe(5);
});

test('already at target: no write; outside the bounds: clamped to maxTaskManagers', async () => {
  expect(await target().setDesired(3)).toMatchObject({ changed: false });
  expect(fake.writes()).toEqual([]);
  const r = await target().setDesired(60);
  expect(r).toMatchObject({ desired: 6, clampedBy: 'requested 60 is above bounds.maxTaskManagers (6)' });
});

test('operators without the scale subresource: spec.taskManager.replicas is patched instead', async () => {
  fake.noScaleSubresource = true;
  await target().setDesired(4);
  expect(fake.writes().map((w) => [w.path, w.status, w.contentType, w.body])).toEqual([
    [`${FD_PATH}/scale`, 404, 'application/merge-patch+json', { spec: { replicas: 4 } }],
    [FD_PATH, 200, 'application/merge-patch+json', { spec: { taskManager: { replicas: 4 } } }],
  ]);
  expect(fake.flinkDeployments.get(`${NS}/${NAME}`).spec.taskManager.replicas).toBe(4);
});

test('setJobParallelism (operator owns the job): one merge patch of spec.job.parallelism and the matching replicas', async () => {
  const r = await target().setJobParallelism(20);
  expect(r).toMatchObject({ previous: { parallelism: 12, replicas: 3 }, parallelism: 20, replicas: 5, changed: true });
  expect(fake.writes().map((w) => [w.method, w.path, w.contentType, w.body])).toEqual([
    ['PATCH', FD_PATH, 'application/merge-patch+json', { spec: { job: { parallelism: 20 }, taskManager: { replicas: 5 } } }],
  ]);
  const spec = fake.flinkDeployments.get(`${NS}/${NAME}`).spec;
  expect(spec.job).toMatchObject({ parallelism: 20, jarURI: 'local:///opt/flink/usrlib/orders.jar', upgradeMode: 'savepoint' });
  fake.requests.length = 0;
  expect(await target().setJobParallelism(20)).toMatchObject({ changed: false });
  expect(fake.writes()).toEqual([]);
});

test('setJobParallelism refuses bad input naming the field and range, and jobs the operator does not own', async () => {
  for (const p of [1, 25, 3.5]) {
    const err = await target().setJobParallelism(p).catch((e) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT', target: `flink-deployment:${NS}/${NAME}` });
    expect(err.message).toMatch(/parallelism must be an integer from 2 to 24 \(bounds.minParallelism..bounds.maxParallelism\)/);
  }
  const notOwned = await target({ operatorOwnsJob: false }).setJobParallelism(8).catch((e) => e);
  expect(notOwned.message).toMatch(/operatorOwnsJob is false/);
  expect(fake.writes()).toEqual([]);
});

test('release: the named idle TM pod gets the lowest deletion cost, busy ones a high one, replicas drop by one', async () => {
  const r = await target().release([`${NAME}-taskmanager-1-2`, `${NAME}-taskmanager-1-3`], tms([4, 0, 2]));
  expect(r).toMatchObject({ released: [`${NAME}-taskmanager-1-2`], previous: 3, desired: 2 });
  expect(r.skipped.map((s) => [s.id, s.code])).toEqual([[`${NAME}-taskmanager-1-3`, 'busy']]);
  const costs = Object.fromEntries(
    fake.writes().filter((w) => w.path.includes('/pods/')).map((w) => [w.path.split('/').pop(), w.body.metadata.annotations[POD_DELETION_COST]]),
  );
  expect(costs).toEqual({ 'orders-taskmanager-1-1': '100000', 'orders-taskmanager-1-2': '-100000', 'orders-taskmanager-1-3': '100000' });
  expect(fake.writes().at(-1)).toMatchObject({ path: `${FD_PATH}/scale`, body: { spec: { replicas: 2 } } });
  expect(fake.podNames(NS).filter((n) => n.includes('taskmanager'))).toEqual(['orders-taskmanager-1-1', 'orders-taskmanager-1-3']);
});

test('no scale-in while the operator is upgrading the deployment', async () => {
  fake.flinkDeployments.set(`${NS}/${NAME}`, flinkDeployment({ lifecycleState: 'UPGRADING' }));
  const r = await target().release([`${NAME}-taskmanager-1-2`], tms([4, 0, 2]));
  expect(r.released).toEqual([]);
  expect(r.skipped[0].reason).toMatch(/is UPGRADING; scale-in waits/);
  expect(fake.writes()).toEqual([]);
});

test('RBAC denial on the scale subresource names the FlinkDeployment rule', async () => {
  fake.deny('PATCH', /flinkdeployments\/orders\/scale$/);
  try {
    const err = await target().setDesired(4).catch((e) => e);
    expect(err).toMatchObject({ code: 'FORBIDDEN', target: `flink-deployment:${NS}/${NAME}` });
    expect(err.message).toContain('"patch" on flinkdeployments/scale (apiGroup flink.apache.org), resourceNames [orders], in namespace flink');
  } finally {
    (fake as any).denied = [];
  }
});

describe("the operator's own autoscaler (job.autoscaler.enabled: true) owns the FlinkDeployment: every change is refused, nothing written", () => {
  const enableAutoscaler = (key = 'job.autoscaler.enabled', value: unknown = 'true') => {
    const fd = fake.flinkDeployments.get(`${NS}/${NAME}`);
    fd.spec.flinkConfiguration[key] = value;
  };

  test('setDesired fails with CONFLICTING_AUTOSCALER, naming the key and what to do; the replicas stay', async () => {
    enableAutoscaler();
    const err = await target().setDesired(5).catch((e) => e);
    expect(err).toMatchObject({ name: 'CapacityTargetError', code: 'CONFLICTING_AUTOSCALER', target: `flink-deployment:${NS}/${NAME}` });
    expect(err.message).toContain('job.autoscaler.enabled: true');
    expect(err.message).toContain('Set job.autoscaler.enabled: false on the FlinkDeployment, or disable this job in flink-elastic');
    expect(fake.writes()).toEqual([]);
    expect(fake.flinkDeployments.get(`${NS}/${NAME}`).spec.taskManager.replicas).toBe(3);
  });

  test('setJobParallelism (operator owns the job) is refused too, before any patch', async () => {
    enableAutoscaler();
    await expect(target().setJobParallelism(20)).rejects.toMatchObject({ code: 'CONFLICTING_AUTOSCALER' });
    expect(fake.writes()).toEqual([]);
    expect(fake.flinkDeployments.get(`${NS}/${NAME}`).spec.job.parallelism).toBe(12);
  });

  test('release releases nothing and says why; no pod-deletion-cost is written', async () => {
    enableAutoscaler();
    const r = await target().release(['orders-taskmanager-1-2'], tms([4, 0, 2]));
    expect(r.released).toEqual([]);
    expect(r.skipped).toEqual([expect.objectContaining({ id: 'orders-taskmanager-1-2', code: 'unsafe', reason: expect.stringContaining("Operator's autoscaler") })]);
    expect(fake.writes()).toEqual([]);
  });

  test('the key of operator 1.4-1.7 and a YAML boolean count too; describe still reads; "false" changes nothing', async () => {
    enableAutoscaler('kubernetes.operator.job.autoscaler.enabled', true);
    await expect(target().setDesired(5)).rejects.toMatchObject({ code: 'CONFLICTING_AUTOSCALER' });
    expect((await target().describe(tms([4, 0, 2]))).desired).toBe(3);
    fake.flinkDeployments.get(`${NS}/${NAME}`).spec.flinkConfiguration = { 'taskmanager.numberOfTaskSlots': '4', 'job.autoscaler.enabled': 'false' };
    expect(await target().setDesired(5)).toMatchObject({ changed: true, desired: 5 });
  });
});
