/**
 * The simulator: the whole flink-elastic loop (emulated Flink, synthesized alarms and state machine, the real
 * scaler, collector and workflow steps) on one virtual clock. `flink-elastic simulate` and `npm run bench` use it.
 *
 *   const r = await simulate({ scenario: 'step-spike', policy: 'flink-elastic', seed: 1 });
 *   writeFileSync('report.html', renderReport(reportInput(r)));
 */
export { simulate, InvariantViolation, POLICY_TRIGGERS, WAKES, isFailedRescale, sourceLag } from './simulate';
export type { Wake, SimulateOptions, SimulationResult, SimulationProgress, JobSummary, ExecutionRecord, FailedRescale } from './simulate';
export { progressLine, summaryText, failuresText, reportInput, clock } from './output';
export { localizeConfig, scenarioConfigDoc, lagThresholds } from './config';
export { synthesize, matchesPattern } from './stack';
