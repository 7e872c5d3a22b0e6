/**
 * docs/capacity-targets.md must stay true to the code: the RBAC Role it documents is enforced by the fake API server
 * while the Kubernetes targets do all their work, and the IAM policy it documents lists every AWS action the ASG target
 * and the lifecycle hook send.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { load } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJob } from '../../functions/core/config';
import { createCapacityTarget } from '../../functions/adapters/targets';
import { FlinkDeploymentTarget } from '../../functions/adapters/targets/flink-deployment';
import { checkLifecycleAction } from '../../functions/adapters/targets/lifecycle-hook';
import type { FlinkApi } from '../../functions/adapters/flink/types';
import { FakeKubeApi, rbacAllows, TEST_CA_PEM, type RbacRule } from '../support/fake-kube-api';
import { tm } from '../support/task-managers';

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'capacity-targets.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const eks = mockClient(EKSClient);
const CREDS = { accessKeyId: 'AKIDDOCS', secretAccessKey: 'docs-secret' };

test('the documented RBAC Role is enough for everything both Kubernetes targets do', async () => {
  const role = blocks('yaml')
    .flatMap((b) => b.split(/^---$/m))
    .map((y) => load(y) as { kind: string; metadata: { namespace: string }; rules: RbacRule[] })
    .find((o) => o.kind === 'Role')!;
  const ns = role.metadata.namespace;
  const fake = new FakeKubeApi({ clusterName: 'flink-prod', region: 'eu-west-1', ...CREDS });
  const url = await fake.start();
  try {
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'flink-prod', endpoint: url, certificateAuthority: { data: Buffer.from(TEST_CA_PEM).toString('base64') } } });
    fake.rbac = role.rules;
    const labels = { app: 'flink', component: 'taskmanager' };
    fake.deployments.set(`${ns}/flink-taskmanager`, { replicas: 2, matchLabels: labels });
    fake.flinkDeployments.set(`${ns}/orders`, { apiVersion: 'flink.apache.org/v1beta1', kind: 'FlinkDeployment', metadata: { name: 'orders' }, spec: { taskManager: { replicas: 2 }, job: { parallelism: 4 } }, status: { lifecycleState: 'STABLE' } });
    fake.addPod(ns, { name: 'tm-a', labels, ip: '10.1.0.1' });
    fake.addPod(ns, { name: 'tm-b', labels, ip: '10.1.0.2' });
    fake.addPod(ns, { name: 'orders-taskmanager-1-1', labels: { app: 'orders', component: 'taskmanager' }, ip: '10.2.0.1' });
    fake.addPod(ns, { name: 'orders-taskmanager-1-2', labels: { app: 'orders', component: 'taskmanager' }, ip: '10.2.0.2' });
    const deps = { eks: new EKSClient({}), credentials: async () => CREDS, region: 'eu-west-1' };
    const base = { flink: { url: 'http://127.0.0.1:8081' }, mode: 'reactive', slotsPerTaskManager: 2, bounds: { maxParallelism: 8, maxTaskManagers: 4 } };

    const dep = createCapacityTarget(parseJob({ ...base, name: 'a', target: { kind: 'eks-deployment', clusterName: 'flink-prod', namespace: ns, deploymentName: 'flink-taskmanager' } }), deps);
    const depTms = [tm('x', '10.1.0.1', 2, 2), tm('y', '10.1.0.2', 2, 0)];
    await dep.protectBusy(depTms);
    expect((await dep.release(['tm-b'], depTms)).released).toEqual(['tm-b']);
    await dep.setDesired(3);

    const fd = createCapacityTarget(
      parseJob({ ...base, name: 'b', target: { kind: 'flink-deployment', clusterName: 'flink-prod', namespace: ns, name: 'orders', operatorOwnsJob: true } }),
      deps,
    ) as FlinkDeploymentTarget;
    const fdTms = [tm('orders-taskmanager-1-1', '10.2.0.1', 2, 2), tm('orders-taskmanager-1-2', '10.2.0.2', 2, 0)];
    expect((await fd.release(['orders-taskmanager-1-2'], fdTms)).released).toEqual(['orders-taskmanager-1-2']);
    await fd.setDesired(3);
    await fd.setJobParallelism(2);

    expect(fake.requests.filter((r) => r.status === 403)).toEqual([]);
    // And the Role is not wider than needed: every verb of every rule was used.
    for (const rule of role.rules) {
      for (const verb of rule.verbs) {
        const used = fake.requests.some((r) => rbacAllows([{ ...rule, verbs: [verb] }], r));
        expect({ rule, verb, used }).toEqual({ rule, verb, used: true });
      }
    }
  } finally {
    await fake.stop();
  }
});

test('the documented IAM policy lists every AWS action the ASG target and the lifecycle hook send', async () => {
  const policy = blocks('json')
    .map((b) => JSON.parse(b))
    .find((p) => Array.isArray(p.Statement) && JSON.stringify(p).includes('autoscaling:'));
  const documented = new Set<string>(policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()));
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'g',
        DesiredCapacity: 2,
        MinSize: 0,
        MaxSize: 4,
        Instances: [
          { InstanceId: 'i-00000001', LifecycleState: 'InService', ProtectedFromScaleIn: false },
          { InstanceId: 'i-00000002', LifecycleState: 'InService', ProtectedFromScaleIn: true },
        ] as any,
      } as any,
    ],
  });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  for (const c of [SetDesiredCapacityCommand, SetInstanceProtectionCommand, TerminateInstanceInAutoScalingGroupCommand, CompleteLifecycleActionCommand, RecordLifecycleActionHeartbeatCommand]) {
    asg.on(c as any).resolves({});
  }
  const job = parseJob({ name: 'g', flink: { url: 'http://127.0.0.1:8081' }, mode: 'reactive', target: { kind: 'asg', autoScalingGroupName: 'g' }, slotsPerTaskManager: 2, bounds: { maxParallelism: 8, maxTaskManagers: 4 } });
  const target = createCapacityTarget(job, { autoScaling: new AutoScalingClient({}), ec2: new EC2Client({}) });
  const tms = [tm('i-00000001', 'a', 2, 2), tm('i-00000002', 'b', 2, 0)];
  await target.setDesired(3);
  await target.release(['i-00000002'], tms);
  const action = { autoScalingGroupName: 'g', lifecycleHookName: 'h', instanceId: 'i-00000001', lifecycleActionToken: 't', startedAt: 0 };
  const flink = { baseUrl: 'x', taskManagers: async () => tms } as Partial<FlinkApi> as FlinkApi;
  const hookDeps = { autoScaling: new AutoScalingClient({}), flink, target: target as any, drainTimeoutSeconds: 60 };
  await checkLifecycleAction(action, { ...hookDeps, now: () => 1000 }); // heartbeat
  await checkLifecycleAction(action, { ...hookDeps, now: () => 120_000 }); // complete
  const sent = [
    ...asg.calls().map((c) => `autoscaling:${(c.args[0] as any).constructor.name.replace(/Command$/, '')}`),
    ...ec2.calls().map((c) => `ec2:${(c.args[0] as any).constructor.name.replace(/Command$/, '')}`),
  ];
  expect(new Set(sent).size).toBe(7); // Describe, SetDesired, SetInstanceProtection, Terminate, Heartbeat, Complete, ec2:DescribeInstances
  for (const a of new Set(sent)) expect({ action: a, documented: documented.has(a) }).toEqual({ action: a, documented: true });
});
