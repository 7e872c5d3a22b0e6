/**
 * The emulated Flink cluster: TaskManagers with slots, jobs (source → keyed operator → sink), savepoints and
 * checkpoints, schedulers (default, adaptive, reactive), and the load model. Time is the VirtualClock's.
 *
 * The model speaks in Flink's terms but not in its wire format: server.ts turns it into REST responses.
 * Errors a REST call must see are thrown as `FlinkRestError(status, errors[])`.
 *
 * `FlinkModel` is a facade over one part per responsibility, each in its own file of this folder:
 *   state.ts          what they all share (options, clock, registries, ids, events, job lifecycle primitives)
 *   task-managers.ts  registration, stop, kill (heartbeat timeout)
 *   programs.ts       programs and jars
 *   jobs.ts           submission, restore from a savepoint, cancel, failure
 *   scheduler.ts      slots, waiting for resources, restarts and rescales, resource requirements
 *   savepoints.ts     savepoints, stop-with-savepoint, periodic checkpoints
 *   metrics.ts        streams, the load model, metrics as Flink names them, TaskManager CPU
 * The parts call one another only through `ClusterOps` (state.ts), which this facade wires.
 */
import type { ResourceRequirements } from '../../../functions/adapters/flink/types';
import type { VirtualClock } from '../clock';
import type { RateSpec } from '../load';
import type { VersionProfile } from '../profiles';
import { Faults } from './faults';
import { Jobs, RunRequest } from './jobs';
import { Metrics } from './metrics';
import { Programs } from './programs';
import { SavepointRequest, Savepoints } from './savepoints';
import { Scheduler } from './scheduler';
import { ClusterOps, ModelState } from './state';
import { TaskManagers } from './task-managers';
import {
  AsyncOperation,
  DEFAULT_ENTRY_CLASS,
  EmuJob,
  EmuTaskManager,
  Jar,
  ModelOptions,
  ProgramSpec,
  SavepointRecord,
  SchedulerKind,
  Stream,
  Timings,
} from './types';

export { Faults } from './faults';
export { DEFAULT_ENTRY_CLASS, FlinkRestError, hex32 } from './types';
export type {
  AppState,
  AsyncOperation,
  CheckpointRecord,
  EmuJob,
  EmuTaskManager,
  EmuVertex,
  Jar,
  ModelOptions,
  ProgramSpec,
  SavepointRecord,
  SchedulerKind,
  Snapshot,
  SlotState,
  Stream,
  Timings,
} from './types';

export class FlinkModel {
  // What the parts share (ModelState) shows through as read-only properties.
  get clock(): VirtualClock { return this.s.clock; }
  get profile(): VersionProfile { return this.s.profile; }
  get timings(): Timings { return this.s.timings; }
  get scheduler(): SchedulerKind { return this.s.scheduler; }
  get slotsPerTaskManager(): number { return this.s.slotsPerTaskManager; }
  get savepointDir(): string | undefined { return this.s.savepointDir; }
  get defaultParallelism(): number { return this.s.defaultParallelism; }
  get slotAllocation(): 'pack' | 'spread' { return this.s.slotAllocation; }
  get faults(): Faults { return this.s.faults; }
  get taskManagers(): EmuTaskManager[] { return this.s.taskManagers; }
  get jobs(): EmuJob[] { return this.s.jobs; }
  get jars(): Jar[] { return this.s.jars; }
  get streams(): Map<string, Stream> { return this.s.streams; }
  /** Async savepoint/stop operations by `${jobId}/${triggerId}` (Flink keys them per job). */
  get operations(): Map<string, AsyncOperation> { return this.s.operations; }
  get savepoints(): Map<string, SavepointRecord> { return this.s.savepoints; }
  /** Human-readable event log (what happened when), for tests and the CLI. */
  get events(): { at: number; message: string }[] { return this.s.events; }

  private readonly s: ModelState;
  private readonly tms: TaskManagers;
  private readonly programs: Programs;
  private readonly jobsPart: Jobs;
  private readonly sched: Scheduler;
  private readonly sps: Savepoints;
  private readonly metrics: Metrics;

  constructor(opts: ModelOptions = {}) {
    const s = new ModelState(opts);
    this.s = s;
    const ops: ClusterOps = {
      slotsChanged: () => this.sched.slotsChanged(),
      trySchedule: (job) => this.sched.trySchedule(job),
      restart: (job, cause) => this.sched.restart(job, cause),
      fail: (job, className, message) => this.jobsPart.fail(job, className, message),
      cancel: (jobId) => this.jobsPart.cancel(jobId),
      scheduleCheckpoint: (job) => this.sps.scheduleCheckpoint(job),
      failInProgressOps: (job, message) => this.sps.failInProgressOps(job, message),
    };
    this.tms = new TaskManagers(s, ops);
    this.programs = new Programs(s);
    this.jobsPart = new Jobs(s, ops, this.programs);
    this.sched = new Scheduler(s, ops);
    this.sps = new Savepoints(s, ops);
    this.metrics = new Metrics(s);

    this.defineProgram({ entryClass: DEFAULT_ENTRY_CLASS, jobName: 'demo' });
    for (const p of opts.programs ?? []) this.defineProgram(p);
    const n = opts.taskManagers ?? 2;
    if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new Error(`taskManagers must be an integer from 0 to 10000, got ${n}`);
    for (let i = 0; i < n; i++) this.addTaskManager();
    this.clock.onTick((dt, now) => this.metrics.step(dt, now));
  }

  // ---------------------------------------------------------------- streams (the world outside Flink)

  /** Sets the input rate of a stream (records/s; constant, function of elapsed virtual ms, or a trace). */
  setInputRate(stream: string, rate: RateSpec): void {
    this.metrics.setInputRate(stream, rate);
  }

  stream(name: string): Stream {
    return this.s.stream(name);
  }

  /** Records waiting in the stream for this job (produced - consumed offset). */
  backlog(jobId: string): number {
    return this.metrics.backlog(jobId);
  }

  // ---------------------------------------------------------------- task managers

  /** Registers a TaskManager now (boot delays belong to the capacity target). */
  addTaskManager(opts: { host?: string; slots?: number; id?: string } = {}): EmuTaskManager {
    return this.tms.add(opts);
  }

  requireTaskManager(id: string): EmuTaskManager {
    return this.s.requireTaskManager(id);
  }

  /** Graceful stop (SIGTERM): deregisters at once; tasks in its slots fail and their jobs restart. */
  stopTaskManager(id: string): void {
    this.tms.stop(id);
  }

  /** Kill (SIGKILL, instance lost): registered until heartbeat.timeout, its jobs stuck meanwhile, then they restart. */
  killTaskManager(id: string): void {
    this.tms.kill(id);
  }

  isIdle(tm: EmuTaskManager): boolean {
    return this.tms.isIdle(tm);
  }

  freeSlots(tm: EmuTaskManager): number {
    return this.s.freeSlots(tm);
  }

  /** CPU load of a TaskManager (0..1, like Status.JVM.CPU.Load): see Metrics.cpuLoad. */
  cpuLoad(tmId: string): number {
    return this.metrics.cpuLoad(tmId);
  }

  lastHeartbeat(tm: EmuTaskManager): number {
    return this.tms.lastHeartbeat(tm);
  }

  // ---------------------------------------------------------------- jars and programs

  defineProgram(spec: ProgramSpec): void {
    this.programs.defineProgram(spec);
  }

  program(entryClass: string): ProgramSpec | undefined {
    return this.programs.program(entryClass);
  }

  /** Stores an uploaded jar as `<uuid>_<name>`; JSON content defines its programs (see Programs.uploadJar). */
  uploadJar(fileName: string, content: Uint8Array = new Uint8Array(), opts: { id?: string } = {}): Jar {
    return this.programs.uploadJar(fileName, content, opts);
  }

  // ---------------------------------------------------------------- jobs and scheduling

  requireJob(jobId: string): EmuJob {
    return this.s.requireJob(jobId);
  }

  findJob(name: string): EmuJob | undefined {
    return this.jobsPart.findJob(name);
  }

  /** POST /jars/{id}/run. Validation that Flink does in the client/handler throws; restore problems fail the job. */
  runJar(jarId: string, req: RunRequest): EmuJob {
    return this.jobsPart.runJar(jarId, req);
  }

  /** Re-plan after slots appeared or vanished: waiting jobs first (in submission order), then scale-ups. */
  slotsChanged(): void {
    this.sched.slotsChanged();
  }

  /** PATCH /jobs/{id}?mode=cancel. */
  cancel(jobId: string): void {
    this.jobsPart.cancel(jobId);
  }

  /** A running job whose slots include a killed-but-undetected TaskManager makes no progress. */
  isStuck(job: EmuJob): boolean {
    return this.s.isStuck(job);
  }

  // ---------------------------------------------------------------- savepoints

  /** POST /jobs/{id}/savepoints and /stop. Same triggerId for the same job → the same operation (idempotent). */
  triggerSavepoint(jobId: string, req: SavepointRequest): AsyncOperation {
    return this.sps.triggerSavepoint(jobId, req);
  }

  /** GET /jobs/{id}/savepoints/{triggerId}: 404 for unknown or expired ids (endpoints.md §4). */
  savepointStatus(jobId: string, triggerId: string): AsyncOperation | undefined {
    return this.sps.savepointStatus(jobId, triggerId);
  }

  // ---------------------------------------------------------------- adaptive scheduler: resource requirements

  getRequirements(jobId: string): ResourceRequirements {
    return this.sched.getRequirements(jobId);
  }

  /** PUT /jobs/{id}/resource-requirements (endpoints.md §5.4): validate, 200 at once, rescale asynchronously. */
  putRequirements(jobId: string, body: unknown): void {
    this.sched.putRequirements(jobId, body);
  }

  // ---------------------------------------------------------------- metrics as Flink names them

  /** Per-subtask metric values of a vertex by Flink's id without the subtask prefix; empty before the first step. */
  vertexMetricValues(jobId: string, vertexId: string): Map<string, number[]> {
    return this.metrics.vertexMetricValues(jobId, vertexId);
  }

  taskStateCounts(job: EmuJob): Record<string, number> {
    return this.metrics.taskStateCounts(job);
  }

  // ---------------------------------------------------------------- convenience for tests and tools

  /** Uploads a jar for the default program (or the given one) and runs it; returns the job. */
  startJob(opts: { name?: string; parallelism?: number; program?: Partial<ProgramSpec>; inputRate?: RateSpec } = {}): EmuJob {
    const name = opts.name ?? 'demo';
    const entryClass = opts.program?.entryClass ?? `com.example.flink.${name.replace(/[^A-Za-z0-9]/g, '')}Job`;
    const spec: ProgramSpec = { jobName: name, ...opts.program, entryClass };
    const jar = this.uploadJar(`${name}.jar`, Buffer.from(JSON.stringify(spec)));
    if (opts.inputRate !== undefined) this.setInputRate(spec.stream ?? name, opts.inputRate);
    return this.runJar(jar.id, { parallelism: opts.parallelism });
  }
}
