/**
 * The oracle floor of the benches: a policy that knows the whole input-rate trace in advance, holds each minute the
 * fewest TaskManagers whose nominal capacity covers that minute's peak rate at a given utilization, and pays nothing
 * for a rescale (no downtime, no backlog). No real policy can use fewer TaskManager-hours without falling behind; the
 * benches print each policy's TM-hours as a ratio to it.
 */

export interface OracleJob {
  /** Input rate, records/s, at virtual ms `tMs` from the start. */
  rate: (tMs: number) => number;
  /** Records/s one subtask of the bottleneck vertex handles at 100 % busy. */
  perSubtaskCapacity: number;
  slotsPerTaskManager: number;
  minParallelism: number;
  maxParallelism: number;
}

export interface OracleFigures {
  taskManagerHours: number;
  slotHours: number;
}

/** The fewest subtasks whose capacity covers `rate` at `utilization`, within the job's bounds, and the TaskManagers they need. */
export function fit(job: Omit<OracleJob, 'rate'>, rate: number, utilization: number): { parallelism: number; taskManagers: number } {
  const raw = Math.ceil(rate / (job.perSubtaskCapacity * utilization) - 1e-9);
  const parallelism = Math.min(job.maxParallelism, Math.max(job.minParallelism, raw, 1));
  return { parallelism, taskManagers: Math.ceil(parallelism / job.slotsPerTaskManager) };
}

/** The highest rate of a job in [fromMs, toMs), sampled every `stepMs`. */
export function peakRate(job: Pick<OracleJob, 'rate'>, fromMs: number, toMs: number, stepMs = 1000): number {
  let peak = 0;
  for (let t = fromMs; t < toMs; t += stepMs) peak = Math.max(peak, job.rate(t));
  return peak;
}

/** TaskManager-hours and slot-hours of the oracle over `durationMs`, every job summed, minute by minute. */
export function oracleFloor(jobs: OracleJob[], durationMs: number, utilization: number, opts: { windowMs?: number; stepMs?: number } = {}): OracleFigures {
  const windowMs = opts.windowMs ?? 60_000;
  let tm = 0;
  let slot = 0;
  for (const job of jobs) {
    for (let t = 0; t < durationMs; t += windowMs) {
      const len = Math.min(windowMs, durationMs - t);
      const n = fit(job, peakRate(job, t, t + len, opts.stepMs), utilization);
      tm += (n.taskManagers * len) / 3_600_000;
      slot += (n.parallelism * len) / 3_600_000;
    }
  }
  return { taskManagerHours: Math.round(tm * 10_000) / 10_000, slotHours: Math.round(slot * 10_000) / 10_000 };
}
