/**
 * The emulator's virtual clock. Nothing in the emulator reads the wall clock: time moves only when the caller
 * calls `advance(ms)` (tests, the simulator) or when a real-time driver does it periodically (the CLI).
 *
 * `advance` moves in steps of at most `tickMs`, stopping exactly at every scheduled event, so the load model
 * integrates over small intervals and events fire in time order (equal times: in scheduling order). Deterministic.
 */

export type TickListener = (dtMs: number, now: number) => void;

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export interface ClockOptions {
  /** Epoch ms at virtual time zero. Default 1_767_225_600_000 (2026-01-01T00:00:00Z). */
  startEpochMs?: number;
  /** Largest integration step of the load model, ms. Default 1000. */
  tickMs?: number;
}

export class VirtualClock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];
  private listeners: TickListener[] = [];
  private advancing = false;
  readonly tickMs: number;
  readonly startEpochMs: number;

  constructor(opts: ClockOptions = {}) {
    this.startEpochMs = opts.startEpochMs ?? 1_767_225_600_000;
    this.current = this.startEpochMs;
    this.tickMs = opts.tickMs ?? 1000;
    if (!(this.tickMs > 0)) throw new Error(`tickMs must be > 0, got ${this.tickMs}`);
  }

  /** Current virtual time, epoch ms. */
  now(): number {
    return this.current;
  }

  /** Virtual ms elapsed since the start. */
  elapsed(): number {
    return this.current - this.startEpochMs;
  }

  /** Runs fn when virtual time reaches now + delayMs (delay 0: at the end of the current/next advance step). */
  schedule(delayMs: number, fn: () => void): { cancel(): void } {
    const t: Timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }

  /** Called for every integration step with the step length. */
  onTick(fn: TickListener): void {
    this.listeners.push(fn);
  }

  /** Fires timers that are due now (used after REST calls that schedule zero-delay work). */
  runDue(): void {
    for (;;) {
      const t = this.nextTimer();
      if (!t || t.at > this.current) return;
      this.timers.splice(this.timers.indexOf(t), 1);
      t.fn();
    }
  }

  /** Moves virtual time forward by ms, integrating the load model and firing timers in order. */
  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new Error(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    if (this.advancing) throw new Error('advance() called re-entrantly from a timer or tick listener');
    this.advancing = true;
    try {
      const end = this.current + ms;
      this.runDue();
      while (this.current < end) {
        const next = this.nextTimer();
        const stepEnd = Math.min(end, this.current + this.tickMs, next ? Math.max(next.at, this.current) : Infinity);
        const dt = stepEnd - this.current;
        this.current = stepEnd;
        if (dt > 0) for (const l of this.listeners) l(dt, this.current);
        this.runDue();
      }
    } finally {
      this.advancing = false;
    }
  }

  /** Moves virtual time to the epoch ms t (>= now): for callers that keep their own clock and step this one along. */
  advanceTo(t: number): void {
    if (t < this.current) throw new Error(`the clock cannot go back (now ${this.current}, asked ${t})`);
    this.advance(t - this.current);
  }

  /** Advances until cond() holds or maxMs elapsed; returns whether cond() held. Checks after every step. */
  advanceUntil(cond: () => boolean, maxMs: number, stepMs = this.tickMs): boolean {
    const end = this.current + maxMs;
    while (!cond()) {
      if (this.current >= end) return false;
      this.advance(Math.min(stepMs, end - this.current));
    }
    return true;
  }

  private nextTimer(): Timer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: Timer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
