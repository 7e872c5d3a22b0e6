/**
 * What every part of the emulated cluster shares: the options it was built with, the clock, the registries
 * (TaskManagers, jobs, jars, streams, async operations, savepoints), ids, the event log, and the job lifecycle
 * primitives (timers bound to an attempt, state transitions, releasing slots).
 *
 * `ClusterOps` names the operations one part asks of another (the scheduler of the jobs, the savepoints of the
 * scheduler...): the facade (index.ts) wires them, so the parts import this file and not each other.
 */
import type { JobStatus } from '../../../functions/adapters/flink/types';
import { isTerminal } from '../../../functions/adapters/flink/wire';
import { VirtualClock } from '../clock';
import { profileFor, VersionProfile } from '../profiles';
import { Faults } from './faults';
import {
  AsyncOperation,
  defaultTimings,
  EmuJob,
  EmuTaskManager,
  FlinkRestError,
  hex32,
  Jar,
  ModelOptions,
  SavepointRecord,
  SchedulerKind,
  Stream,
  Timings,
} from './types';

/** Why savepoints and checkpoints in flight fail when their job stops running. */
export const SUSPENDING = 'org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending.';

export interface ClusterOps {
  /** Re-plan after slots appeared or vanished (scheduler). */
  slotsChanged(): void;
  /** Start a CREATED job if the slots allow (scheduler). */
  trySchedule(job: EmuJob): void;
  /** Failover or rescale: RESTARTING → CREATED, restoring the latest checkpoint (scheduler). */
  restart(job: EmuJob, cause: string): void;
  /** The job fails for good (jobs). */
  fail(job: EmuJob, className: string, message: string): void;
  /** PATCH /jobs/{id}?mode=cancel (jobs). */
  cancel(jobId: string): void;
  /** Periodic checkpoints of a job that just started running (savepoints). */
  scheduleCheckpoint(job: EmuJob): void;
  /** Savepoints in flight of a job that stops running fail with this message (savepoints). */
  failInProgressOps(job: EmuJob, message: string): void;
}

export class ModelState {
  readonly clock: VirtualClock;
  readonly profile: VersionProfile;
  readonly timings: Timings;
  readonly scheduler: SchedulerKind;
  readonly slotsPerTaskManager: number;
  readonly savepointDir?: string;
  readonly defaultParallelism: number;
  readonly slotAllocation: 'pack' | 'spread';
  readonly seed: string;
  readonly faults = new Faults();
  readonly taskManagers: EmuTaskManager[] = [];
  readonly jobs: EmuJob[] = [];
  readonly jars: Jar[] = [];
  readonly streams = new Map<string, Stream>();
  /** Async savepoint/stop operations by `${jobId}/${triggerId}` (Flink keys them per job). */
  readonly operations = new Map<string, AsyncOperation>();
  readonly savepoints = new Map<string, SavepointRecord>();
  /** Human-readable event log (what happened when), for tests and the CLI. */
  readonly events: { at: number; message: string }[] = [];
  private idCounter = 0;

  /** Validates and keeps the options (the facade then defines the programs and registers the TaskManagers). */
  constructor(opts: ModelOptions) {
    this.profile = profileFor(opts.version ?? '1.19');
    this.clock = opts.clock ?? new VirtualClock();
    this.timings = { ...defaultTimings(this.profile), ...(opts.timings ?? {}) };
    for (const [k, v] of Object.entries(this.timings)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`timings.${k} must be a number >= 0, got ${v}`);
    }
    this.scheduler = opts.scheduler ?? 'default';
    if (!['default', 'adaptive', 'reactive'].includes(this.scheduler)) {
      throw new Error(`scheduler must be one of default, adaptive, reactive; got "${this.scheduler}"`);
    }
    this.slotsPerTaskManager = opts.slotsPerTaskManager ?? 2;
    if (!Number.isInteger(this.slotsPerTaskManager) || this.slotsPerTaskManager < 1 || this.slotsPerTaskManager > 256) {
      throw new Error(`slotsPerTaskManager must be an integer from 1 to 256, got ${this.slotsPerTaskManager}`);
    }
    this.savepointDir = opts.savepointDir;
    this.defaultParallelism = opts.defaultParallelism ?? 1;
    this.slotAllocation = opts.slotAllocation ?? 'pack';
    this.seed = opts.seed ?? 'flink-emulator';
  }

  // ---------------------------------------------------------------- ids, events, lookups

  nextId(kind: string): string {
    return hex32(`${this.seed}/${kind}/${this.idCounter++}`);
  }

  log(message: string): void {
    this.events.push({ at: this.clock.now(), message });
  }

  stream(name: string): Stream {
    let s = this.streams.get(name);
    if (!s) {
      s = { name, produced: 0, rate: 0 };
      this.streams.set(name, s);
    }
    return s;
  }

  requireJob(jobId: string): EmuJob {
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job) throw new FlinkRestError(404, [`Job ${jobId} not found`]);
    return job;
  }

  requireTaskManager(id: string): EmuTaskManager {
    const tm = this.taskManagers.find((t) => t.id === id);
    if (!tm) throw new FlinkRestError(404, [`Could not find TaskExecutor ${id}.`]);
    return tm;
  }

  freeSlots(tm: EmuTaskManager): number {
    return tm.slots.filter((s) => s.jobId === null).length;
  }

  /** A running job whose slots include a killed-but-undetected TaskManager makes no progress. */
  isStuck(job: EmuJob): boolean {
    return job.slots.some((s) => s.tm.dead);
  }

  // ---------------------------------------------------------------- job lifecycle primitives

  /** Runs `fn` after `ms` unless the job has restarted (a new attempt) or ended meanwhile. */
  after(job: EmuJob, ms: number, fn: () => void): void {
    const attempt = job.attempt;
    const t = this.clock.schedule(ms, () => {
      job.timers = job.timers.filter((x) => x !== t);
      if (job.attempt === attempt && !isTerminal(job.state)) fn();
    });
    job.timers.push(t);
  }

  clearTimers(job: EmuJob): void {
    for (const t of job.timers) t.cancel();
    job.timers = [];
    job.waitTimer?.cancel();
    job.waitTimer = undefined;
    job.rescaleTimer?.cancel();
    job.rescaleTimer = undefined;
  }

  setState(job: EmuJob, state: JobStatus): void {
    job.state = state;
    const now = this.clock.now();
    job.timestamps[state] = now;
    job.lastModification = now;
    if (isTerminal(state)) {
      job.endTime = now;
      job.taskState = state === 'FINISHED' ? 'FINISHED' : state === 'CANCELED' ? 'CANCELED' : 'FAILED';
    }
    if (state !== 'RUNNING') {
      job.runningSince = undefined;
      job.metricsReady = false;
      for (const v of job.vertices) v.sample = undefined;
    }
    this.log(`job ${job.name} (${job.id}) → ${state}`);
  }

  /** Every slot the job holds (used or idle) goes back to the free pool. */
  releaseAll(job: EmuJob): void {
    for (const tm of this.taskManagers) {
      tm.slots.forEach((s, i) => {
        if (s.jobId === job.id) tm.slots[i] = { jobId: null };
      });
    }
    job.slots = [];
  }
}
