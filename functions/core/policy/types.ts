/** The policy's output, and the signature every policy (the real one and the baselines) shares. */
import type { JobConfig } from '../config';
import type { JobSnapshot, PolicyState } from './snapshot';

export type Action = 'none' | 'scale-out-capacity' | 'rescale' | 'scale-in-capacity';

/** What held a decision back (or shaped it). */
export type Limit =
  | 'bounds'
  | 'cooldown'
  | 'alignment'
  | 'scale-down-delay'
  | 'backlog-freeze'
  | 'min-change'
  | 'ineffective-scale-up'
  | 'scale-up-max-factor'
  | 'scale-down-max-factor'
  | 'max-task-managers'
  | 'min-task-managers'
  | 'pinned'
  | 'in-progress'
  | 'smoothing'
  | 'source-partitions';

/** Which rule sized the change. */
export type RuleName = 'rate' | 'lag' | 'cpu' | 'slots' | 'bounds' | 'capacity' | 'baseline' | 'none';

export interface Decision {
  /** Name of the policy that decided (a key of POLICIES). */
  policy: string;
  action: Action;
  /** Set for every action but 'none'. */
  direction?: 'up' | 'down';
  currentParallelism: number;
  /** Job-level parallelism after the decision (equals currentParallelism for 'none'). */
  targetParallelism: number;
  /** adaptive mode only: vertex id → parallelism for every unpinned vertex. */
  perVertex?: Record<string, number>;
  currentTaskManagers: number;
  /** Capacity follows parallelism: ceil(slots needed / slots per TM) within min/max TaskManagers. */
  targetTaskManagers: number;
  /** What the rules asked for before the stability limits (cooldown, delay, min change, ...). */
  wantedParallelism: number;
  rule: RuleName;
  /** One line, for people. */
  reason: string;
  /** Every number the decision used. */
  figures: Record<string, number>;
  /** The arithmetic, one line per step, for `decide --explain` and the logs. */
  steps: string[];
  limitedBy: Limit[];
  /** Signals the policy lacked (it used what was there). */
  missing: string[];
}

export interface PolicyResult {
  decision: Decision;
  state: PolicyState;
}

export type PolicyFn = (snapshot: JobSnapshot, job: JobConfig, state?: PolicyState) => PolicyResult;
