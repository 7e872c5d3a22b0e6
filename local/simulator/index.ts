/**
 * The simulator: the whole flink-elastic loop (emulated Flink, synthesized alarms and state machine, the real
 * scaler, collector and workflow steps) on one virtual clock. `flink-elastic simulate` and `npm run bench` use it.
 *
 *   const r = await simulate({ scenario: 'step-spike', policy: 'flink-elastic', seed: 1 });
 *   writeFileSync('report.html', renderReport(reportInput(r)));
 */
export { simulate, InvariantViolation, FIDELITIES, POLICY_TRIGGERS, WAKES, isFailedRescale, sourceLag } from './simulate';
export type { Fidelity, Wake, SimulateOptions, SimulationResult, SimulationProgress, JobSummary, ExecutionRecord, FailedRescale } from './simulate';
export { progressLine, summaryText, failuresText, reportInput, clock } from './output';
export { localizeConfig, scenarioConfigDoc, lagThresholds, SIM_TICK_MS } from './config';
export { synthesize, matchesPattern } from './stack';
