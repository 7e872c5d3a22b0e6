/**
 * One virtual clock for the whole local world (emulator, alarms, scaler, workflow), and a way to know when every
 * asynchronous activity (a running Step Functions execution, a scaler invocation) is blocked on virtual time, so
 * the simulator can advance the clock without racing them.
 */

interface Sleeper {
  until: number;
  seq: number;
  resolve: () => void;
}

export class VirtualClock {
  private nowMs: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  /** Activities that are running (not sleeping on the clock). The clock only moves when this is 0. */
  private busy = 0;

  constructor(start = 0) {
    this.nowMs = start;
  }

  now(): number {
    return this.nowMs;
  }

  /** Resolves when the clock reaches now + ms. The caller's activity counts as idle meanwhile. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    this.busy--;
    return new Promise<void>((resolve) => {
      this.sleepers.push({
        until: this.nowMs + ms,
        seq: this.seq++,
        resolve: () => {
          this.busy++;
          resolve();
        },
      });
    });
  }

  /** Runs an activity; it counts as busy except while it sleeps on the clock. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await fn();
    } finally {
      this.busy--;
    }
  }

  get activeCount(): number {
    return this.busy;
  }

  get sleeping(): number {
    return this.sleepers.length;
  }

  /** The earliest time a sleeper wakes, if any. */
  nextWake(): number | undefined {
    return this.sleepers.length ? Math.min(...this.sleepers.map((s) => s.until)) : undefined;
  }

  /** Waits (in real time, without moving the clock) until no tracked activity is running. */
  async settle(maxRealMs = 30_000): Promise<void> {
    const start = Date.now();
    while (this.busy > 0) {
      if (Date.now() - start > maxRealMs) throw new Error(`simulation stalled: ${this.busy} activity(ies) still running after ${maxRealMs} ms of real time`);
      await new Promise((r) => setImmediate(r));
      if (this.busy > 0) await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Moves the clock to `t`, waking sleepers in time order; after each wake it lets the woken activities run until
   * they sleep again or finish, so every activity sees the clock at the time it asked for.
   */
  async advanceTo(t: number, onTime?: (t: number) => void): Promise<void> {
    if (t < this.nowMs) throw new Error(`the clock cannot go back (now ${this.nowMs}, asked ${t})`);
    await this.settle();
    for (;;) {
      const due = this.sleepers.filter((s) => s.until <= t).sort((a, b) => a.until - b.until || a.seq - b.seq);
      if (due.length === 0) break;
      const first = due[0];
      if (first.until > this.nowMs) {
        this.nowMs = first.until;
        onTime?.(this.nowMs);
      }
      const wake = due.filter((s) => s.until === first.until);
      this.sleepers = this.sleepers.filter((s) => !wake.includes(s));
      for (const s of wake) s.resolve();
      await this.settle();
    }
    if (t > this.nowMs) {
      this.nowMs = t;
      onTime?.(t);
    }
  }
}

type Asl = { StartAt: string; States: Record<string, any> };

/**
 * For the simulator only: returns a copy of a state machine definition in which every Wait state becomes a Task
 * that sleeps on the virtual clock for the same duration (Seconds or SecondsPath), keeping its name, paths and
 * Next/End. Everything else is the synthesized definition unchanged. Nested Parallel/Map branches are transformed too.
 */
export function virtualizeWaits(asl: Asl, sleepResource = 'arn:aws:lambda:us-east-1:123456789012:function:VirtualWait'): { asl: Asl; waits: string[] } {
  const waits: string[] = [];
  const walk = (def: Asl): Asl => {
    const states: Record<string, any> = {};
    for (const [name, st] of Object.entries(def.States)) {
      if (st.Type === 'Wait') {
        if (st.Timestamp !== undefined || st.TimestampPath !== undefined) throw new Error(`Wait state "${name}": Timestamp waits are not supported by the simulator`);
        waits.push(name);
        const { Type: _t, Seconds, SecondsPath, Comment, ...rest } = st;
        states[name] = {
          ...rest,
          Type: 'Task',
          Comment: `virtual wait (was: ${Comment ?? 'Wait'})`,
          Resource: sleepResource,
          Parameters: SecondsPath !== undefined ? { 'seconds.$': SecondsPath } : { seconds: Seconds },
          ResultPath: null,
        };
      } else if (st.Type === 'Parallel') {
        states[name] = { ...st, Branches: st.Branches.map(walk) };
      } else if (st.Type === 'Map' && (st.ItemProcessor || st.Iterator)) {
        states[name] = st.ItemProcessor ? { ...st, ItemProcessor: { ...st.ItemProcessor, ...walk(st.ItemProcessor) } } : { ...st, Iterator: walk(st.Iterator) };
      } else states[name] = st;
    }
    return { ...def, States: states };
  };
  return { asl: walk(asl), waits };
}
