/** The scaling policy: `decide` (flink-elastic's own), the baselines it is compared with, and the snapshot format. */
export { decide, EFFECTIVENESS_THRESHOLD, RESTART_SAMPLES, lastChangeAt } from './decide';
export { POLICIES, policyNames, policyFor, msfCpuPolicy, awsStepThroughputPolicy, seedRulesPolicy, AWS_STEP, type AwsStepParams } from './baselines';
export { explainDecision } from './explain';
export {
  ForecastProfileSchema,
  ProfileBucketSchema,
  FORECAST_HISTORY_DAYS,
  FORECAST_SEEN_FRACTION,
  observe as observeForecast,
  forecastAhead,
  describeForecast,
  dayNumber,
  dayTypeOf,
  bucketOf,
  emptyProfile,
  seenDays,
  type ForecastProfile,
  type ForecastView,
  type ForecastResult,
  type DayType,
} from './forecast';
export {
  alignUp,
  alignDown,
  isAligned,
  busiestShare,
  ewma,
  trendStep,
  risingForecast,
  LEVEL_SHIFT_FRACTION,
  LEVEL_SHIFT_SAMPLES,
  TREND_SAMPLES,
  TREND_MAX_GAP_SECONDS,
  TREND_MIN_FRACTION,
  CAPACITY_LEAD_SECONDS,
  type Trend,
} from './math';
export {
  JobSnapshotSchema,
  PolicyStateSchema,
  parseSnapshot,
  parsePolicyState,
  emptyState,
  topoOrder,
  SnapshotError,
  type JobSnapshot,
  type JobSnapshotInput,
  type VertexSnapshot,
  type PolicyState,
} from './snapshot';
export type { Action, Decision, Limit, PolicyFn, PolicyResult, RuleName } from './types';
