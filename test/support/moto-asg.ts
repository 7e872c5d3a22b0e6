/**
 * A real Auto Scaling group on moto (test/support/moto.ts): a launch configuration with moto's example AMI and a
 * group whose instances moto starts InService at once. Instance ids are moto's, so tests read them back.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';

/** moto's EXAMPLE_AMI_ID (an AMI its EC2 model knows without being registered). */
const AMI = 'ami-12c6146b';

export async function createGroup(
  asg: AutoScalingClient,
  name: string,
  size: { desired: number; min?: number; max?: number; protectedFromScaleIn?: boolean },
): Promise<string[]> {
  await asg.send(new CreateLaunchConfigurationCommand({ LaunchConfigurationName: `${name}-lc`, ImageId: AMI, InstanceType: 't3.micro' }));
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchConfigurationName: `${name}-lc`,
      AvailabilityZones: ['us-east-1a'],
      MinSize: size.min ?? 0,
      MaxSize: size.max ?? 20,
      DesiredCapacity: size.desired,
      NewInstancesProtectedFromScaleIn: size.protectedFromScaleIn ?? false,
    }),
  );
  return (await describeGroup(asg, name)).Instances!.map((i) => i.InstanceId!).sort();
}

export async function describeGroup(asg: AutoScalingClient, name: string): Promise<AutoScalingGroup> {
  const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
  if (!g) throw new Error(`moto has no group ${name}`);
  return g;
}

/** The group as [instance id, ProtectedFromScaleIn], sorted by id; and its DesiredCapacity. */
export async function groupState(asg: AutoScalingClient, name: string): Promise<{ desired: number; instances: Array<[string, boolean]> }> {
  const g = await describeGroup(asg, name);
  return { desired: g.DesiredCapacity!, instances: g.Instances!.map((i): [string, boolean] => [i.InstanceId!, i.ProtectedFromScaleIn === true]).sort((a, b) => a[0].localeCompare(b[0])) };
}
