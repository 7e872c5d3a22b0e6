/**
 * Extracts the rescale state machine's definition from the synthesized CDK template (not a hand-written copy):
 * renders DefinitionString's Fn::Join / Fn::GetAtt / Ref into plain ASL JSON.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Config } from '../../functions/core/config';
import { RescaleWorkflow } from '../../lib/constructs/rescale-workflow';
import { renderIntrinsic } from '../../local/asl';

export { renderIntrinsic } from '../../local/asl';

/** The stack's own StateMachine resources, rendered to ASL. */
export function aslFromTemplate(template: Template): any[] {
  return Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map((sm: any) => JSON.parse(renderIntrinsic(sm.Properties.DefinitionString)));
}

/** A minimal stack holding the workflow construct (table + topic like the real stack); bundling skipped. */
export function synthWorkflowStack(config: Config): { app: App; stack: Stack; workflow: RescaleWorkflow } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'WorkflowTest');
  const table = new dynamodb.TableV2(stack, 'StateTable', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: 'expiresAt',
  });
  const topic = new sns.Topic(stack, 'Notifications', { enforceSSL: true });
  const workflow = new RescaleWorkflow(stack, 'Rescale', { config, table, topic });
  return { app, stack, workflow };
}
