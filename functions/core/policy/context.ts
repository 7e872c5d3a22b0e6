/** What the policy's stages share: the decision context (figures, steps, state), per-vertex figures, the plan. */
import type { JobConfig } from '../config';
import { LEVEL_SHIFT_FRACTION, LEVEL_SHIFT_SAMPLES, ewma, fmt, type Trend } from './math';
import type { JobSnapshot, PolicyState, VertexSnapshot } from './snapshot';
import type { Limit, RuleName } from './types';

export interface VertexCalc {
  v: VertexSnapshot;
  key: string;
  pinned: boolean;
  isSource: boolean;
  /** Alignment units (key groups or partitions), when alignment applies to this vertex. */
  units?: number;
  unitsKind?: 'key groups' | 'partitions';
  /** A source's partition count, when known: it never uses more subtasks than that. */
  partitions?: number;
  /** The parallelism the level needs without the backlog's catch-up rate (what a scale-up's catch-up gives back). */
  levelWant?: number;
  lower: number;
  upper: number;
  upperWhy: Limit[];
  lag?: number;
  demand?: number;
  trend?: Trend;
  target?: number;
  catchUp?: number;
  cap?: number;
  need?: number;
  r?: number;
  want?: number;
  capacity?: number;
  outsideUp?: boolean;
  outsideDown?: boolean;
  /** Alignment moved the wanted value away from plain ceil(r). */
  aligned?: boolean;
  /** The wanted value hit the vertex's upper bound. */
  capped?: boolean;
}

export interface Plan {
  p: number;
  perVertex?: Record<string, number>;
  rule: RuleName;
  why: string;
  limits: Limit[];
  /** Scale-ups made while the backlog breaches the SLO skip the min-change rule. */
  urgent?: boolean;
  /** Within the band, but the demand is receding: the parallelism wanted, for the scale-down delay's clock. */
  receding?: number;
  /**
   * No change is wanted now: what the rules would recommend, capped at the current values (job-level and per vertex),
   * recorded in a running scale-down delay's window (a reading inside the band does not restart the delay).
   */
  inBand?: { p: number; perVertex?: Record<string, number> };
  /** The parallelism the level needs without catch-up (recorded with a scale-up, for its planned give-back). */
  level?: number;
  /** The same per vertex (adaptive mode). */
  levelPer?: Record<string, number>;
  /**
   * Sources running more subtasks than partitions (the rest read nothing) are brought down to the partition count:
   * no capacity is lost, so like a bounds repair it waits for no delay. Vertex ids (adaptive) or 'job'.
   */
  repair?: string[];
}

export class Ctx {
  figures: Record<string, number> = {};
  steps: string[] = [];
  missing = new Set<string>();
  /** Demand series whose level shift is not confirmed yet. */
  unconfirmed: string[] = [];
  /** Series whose level shift was confirmed at this decision. */
  shifted = new Set<string>();
  /** Rule 10: the forecast that raised the target rate ("forecast: 14,200 rec/s at 09:30, seen 5 of the last 7 weekdays"). */
  forecast?: string;
  constructor(
    readonly snap: JobSnapshot,
    readonly job: JobConfig,
    readonly prev: PolicyState,
    readonly next: PolicyState,
  ) {}
  fig(name: string, value: number): number {
    this.figures[name] = value;
    return value;
  }
  step(s: string): void {
    this.steps.push(s);
  }
  smooth(key: string, raw: number): number {
    const r = ewma(this.prev.smoothed[key], raw, this.job.policy.ewmaAlpha);
    const { shifted, ...rest } = r;
    this.next.smoothed[key] = rest;
    if (shifted) this.shifted.add(key);
    if (shifted) this.step(`${key}: level shift confirmed, average restarts at ${fmt(r.value)}`);
    if (r.shiftN !== undefined && (key.startsWith('demand:') || key === 'produce')) {
      this.unconfirmed.push(key);
      this.step(`${key}: ${fmt(raw)} is more than ${fmt(LEVEL_SHIFT_FRACTION * 100)}% away from the level ${fmt(r.shiftBase ?? this.prev.smoothed[key]!.value)}; waiting for ${LEVEL_SHIFT_SAMPLES - r.shiftN} more sample(s) to confirm the change`);
    }
    return r.value;
  }
  carry(key: string): number | undefined {
    const p = this.prev.smoothed[key];
    if (p) this.next.smoothed[key] = p;
    return p?.value;
  }
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
export const pct = (x: number) => `${fmt(x * 100)}%`;

/** What the rules hand to the stability stage. */
export interface Finish {
  cur: number;
  curTMs: number;
  curPer: Record<string, number>;
  s: number;
  pinnedSlots: number;
  backlog: boolean;
  boundsRepair: boolean;
  jobUnits?: number;
  measured: VertexCalc[];
  /** vertex id → display name */
  names: Record<string, string>;
}

