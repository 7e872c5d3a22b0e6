/**
 * TaskManagers: registration, graceful stop, kill (the heartbeat timeout decides when it is noticed), and what the
 * REST API shows of them. What their slots run is the scheduler's.
 */
import type { ClusterOps, ModelState } from './state';
import { EmuTaskManager, hex32 } from './types';

export class TaskManagers {
  private tmCounter = 0;

  constructor(
    private readonly s: ModelState,
    private readonly ops: ClusterOps,
  ) {}

  /** Registers a TaskManager now (boot delays belong to the capacity target). */
  add(opts: { host?: string; slots?: number; id?: string } = {}): EmuTaskManager {
    const n = this.tmCounter++;
    const host = opts.host ?? `10.0.${1 + Math.floor(n / 250)}.${10 + (n % 250)}`;
    const port = 40000 + n;
    const id = opts.id ?? `${host}:${port}-${hex32(`${this.s.seed}/tm/${n}`).slice(0, 6)}`;
    if (this.s.taskManagers.some((t) => t.id === id)) throw new Error(`a TaskManager with id ${id} is already registered`);
    const slots = opts.slots ?? this.s.slotsPerTaskManager;
    const tm: EmuTaskManager = {
      id,
      host,
      dataPort: 6121,
      slots: Array.from({ length: slots }, () => ({ jobId: null })),
      registeredAt: this.s.clock.now(),
      dead: false,
      cpuCores: slots,
    };
    this.s.taskManagers.push(tm);
    this.s.log(`TaskManager ${id} registered (${slots} slots)`);
    this.ops.slotsChanged();
    return tm;
  }

  /** Graceful stop (SIGTERM): deregisters at once; tasks in its slots fail and their jobs restart. */
  stop(id: string): void {
    const tm = this.s.requireTaskManager(id);
    this.remove(tm, 'stopped');
  }

  /**
   * Kill (SIGKILL, instance lost): the TaskManager stays registered until heartbeat.timeout; jobs with tasks on it
   * make no progress meanwhile; then it is removed and those jobs restart.
   */
  kill(id: string): void {
    const tm = this.s.requireTaskManager(id);
    if (tm.dead) return;
    tm.dead = true;
    tm.diedAt = this.s.clock.now();
    this.s.log(`TaskManager ${id} killed; heartbeat timeout in ${this.s.timings.heartbeatTimeoutMs} ms`);
    this.s.clock.schedule(this.s.timings.heartbeatTimeoutMs, () => {
      if (this.s.taskManagers.includes(tm)) this.remove(tm, `heartbeat of TaskManager with id ${id} timed out`);
    });
  }

  private remove(tm: EmuTaskManager, reason: string): void {
    this.s.taskManagers.splice(this.s.taskManagers.indexOf(tm), 1);
    this.s.log(`TaskManager ${tm.id} left: ${reason}`);
    const affected = this.s.jobs.filter((j) => j.slots.some((s) => s.tm === tm));
    for (const job of affected) {
      job.slots = job.slots.filter((s) => s.tm !== tm);
      if (job.state === 'RUNNING' || job.state === 'CREATED') {
        this.ops.restart(job, `org.apache.flink.runtime.jobmaster.JobMasterException: TaskManager with id ${tm.id} is no longer reachable (${reason}).`);
      }
    }
    this.ops.slotsChanged();
  }

  isIdle(tm: EmuTaskManager): boolean {
    return tm.slots.every((s) => s.jobId === null);
  }

  lastHeartbeat(tm: EmuTaskManager): number {
    const now = tm.dead ? tm.diedAt! : this.s.clock.now();
    const i = this.s.timings.heartbeatIntervalMs;
    return Math.max(tm.registeredAt, i > 0 ? Math.floor(now / i) * i : now);
  }
}
