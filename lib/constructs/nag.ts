/**
 * cdk-nag v3 acknowledgements, always with a reason, always on the narrowest construct that carries the finding.
 * (cdk-nag v3 is a policy-validation plugin: `Validations.of(construct).acknowledge(...)`, not NagSuppressions.)
 */
import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The construct that owns a principal's policies (a Role), when there is one. */
function principalScope(grantee: iam.IGrantable): IConstruct | undefined {
  const p = grantee.grantPrincipal as unknown;
  return Construct.isConstruct(p) ? p : Construct.isConstruct(grantee) ? grantee : undefined;
}

/**
 * Acknowledges AwsSolutions-IAM5 for one wildcard resource of a principal's policy. `resource` is written the way
 * cdk-nag prints it (`*`, or an ARN with `<AWS::Partition>` etc.).
 */
export function acknowledgeWildcard(grantee: iam.IGrantable, resource: string, reason: string): void {
  const scope = principalScope(grantee);
  if (scope) acknowledge(scope, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
}

/**
 * `topic.grantPublish(grantee)`; when the topic is KMS-encrypted, CDK also grants `kms:Decrypt` and
 * `kms:GenerateDataKey*` on its key (what SNS requires of a publisher), acknowledged here for that one key.
 */
export function grantPublish(topic: sns.ITopic, grantee: iam.IGrantable): void {
  topic.grantPublish(grantee);
  const scope = principalScope(grantee);
  if (topic.masterKey && scope) {
    acknowledge(scope, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'SNS requires kms:GenerateDataKey* and kms:Decrypt of a publisher to an encrypted topic; granted on the topic\'s key only');
  }
}
