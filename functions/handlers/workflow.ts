/**
 * Lambda entry point of every rescale workflow step (the state machine passes {"step", "state", "execution"}).
 * Thin: production dependencies (over the config bundled into this function) are built once per container; the steps live in functions/workflow/.
 */
import { logger, metrics, tracer } from './shared/powertools';
import { makeWorkflowHandler, StepEvent } from '../workflow/dispatch';
import { createProductionDeps } from '../workflow/production';
import { bundledConfig } from './shared/bundled-config';

const run = makeWorkflowHandler(() => createProductionDeps({ config: bundledConfig(), logger, tracer, metrics }));

export const handler = async (event: StepEvent): Promise<unknown> => {
  logger.appendKeys({ step: event?.step, execution: event?.execution?.name });
  try {
    return await run(event);
  } finally {
    logger.removeKeys(['step', 'execution']);
  }
};
