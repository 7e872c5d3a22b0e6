/** The CLI finds a deployed stack's resources by output key: the synthesized stack must publish each of them. */
import { OUTPUTS } from '../../bin/commands/support/deployment';
import { build } from './helpers';

test('the stack publishes every output the CLI reads (state machine, state table, topic)', () => {
  const { template } = build();
  const outputs = template.findOutputs('*');
  for (const key of Object.values(OUTPUTS)) expect(Object.keys(outputs)).toContain(key);
  expect(JSON.stringify(outputs[OUTPUTS.stateMachineArn].Value)).toMatch(/StateMachine/);
  expect(JSON.stringify(outputs[OUTPUTS.tableName].Value)).toMatch(/StateTable/);
});
