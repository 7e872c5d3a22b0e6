/**
 * Jobs: submission (POST /jars/{id}/run: validation, the job graph, restoring from a savepoint), cancellation and
 * terminal failure. Where and when a job's tasks run is the scheduler's; its checkpoints are the savepoints'.
 */
import { isTerminal } from '../../../functions/adapters/flink/wire';
import { KEYED_CPU_PER_BUSY_SECOND, parseArgs, Programs, SOURCE_SINK_CPU_PER_BUSY_SECOND } from './programs';
import { SUSPENDING, type ClusterOps, type ModelState } from './state';
import { EmuJob, EmuVertex, FlinkRestError, hex32, Program, Snapshot } from './types';

/** The body of POST /jars/{id}/run, as the model takes it. */
export interface RunRequest {
  entryClass?: string;
  programArgs?: string[];
  parallelism?: number;
  jobId?: string;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  restoreMode?: string;
  flinkConfiguration?: Record<string, string>;
}

const couldNot = (cause: string) => new FlinkRestError(400, ['Could not execute application.', cause]);

export class Jobs {
  private submitCounter = 0;

  constructor(
    private readonly s: ModelState,
    private readonly ops: ClusterOps,
    private readonly programs: Programs,
  ) {}

  findJob(name: string): EmuJob | undefined {
    return [...this.s.jobs].reverse().find((j) => j.name === name && !isTerminal(j.state));
  }

  /** POST /jars/{id}/run. Validation that Flink does in the client/handler throws; restore problems fail the job. */
  runJar(jarId: string, req: RunRequest): EmuJob {
    const prog = this.programFor(jarId, req);
    const args = parseArgs(req.programArgs ?? []);
    const name = args['job-name'] ?? prog.jobName;
    const stream = args.stream ?? prog.stream ?? name;
    const parallelism = req.parallelism ?? this.s.defaultParallelism;
    if (!Number.isInteger(parallelism) || parallelism < 1) throw couldNot(`java.lang.IllegalArgumentException: The parallelism of an operator must be at least 1.`);
    const { vertices, configured } = this.jobGraph(prog, name, parallelism, req.flinkConfiguration);
    const jobId = req.jobId ?? this.s.nextId('job');
    // Flink remembers finished jobs (JobResultStore): any id it has seen is a duplicate.
    if (this.s.jobs.some((j) => j.id === jobId)) {
      throw couldNot(`org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted. JobID: ${jobId}`);
    }
    const job = this.newJob(jobId, name, prog, jarId, stream, vertices, configured, req);
    this.s.jobs.push(job);
    this.s.log(`job ${name} (${jobId}) submitted at parallelism ${parallelism}${req.savepointPath ? ` from ${req.savepointPath}` : ''}`);
    const restoreError = req.savepointPath ? this.restore(job, req.savepointPath, req.allowNonRestoredState) : undefined;
    this.s.after(job, this.s.timings.initMs, () => {
      if (restoreError) return this.fail(job, 'org.apache.flink.runtime.client.JobInitializationException', `Could not start the JobMaster. ${restoreError}`);
      this.s.setState(job, 'CREATED');
      job.taskState = 'SCHEDULED';
      this.ops.trySchedule(job);
    });
    return job;
  }

  /** The program a run request names, or the error Flink answers (an injected run fault first). */
  private programFor(jarId: string, req: RunRequest): Program {
    const jar = this.s.jars.find((j) => j.id === jarId);
    if (!jar) throw new FlinkRestError(400, [`Jar file /tmp/flink-web-upload/${jarId} does not exist`]);
    if (this.s.faults.runFailures > 0) {
      this.s.faults.runFailures--;
      throw couldNot('org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: injected fault (run fails)');
    }
    const entryClass = req.entryClass ?? jar.entryClasses[0];
    const prog = this.programs.inJar(jarId, entryClass);
    // Real Flink builds the program before running it and answers a class the jar lacks with HTTP 500 (seen on
    // 1.20.5 and 2.3.0: test/flink/faults.test.ts), not with the 400 of a main method that failed.
    if (!prog) {
      throw new FlinkRestError(500, [
        'Internal server error.',
        `org.apache.flink.client.program.ProgramInvocationException: The program's entry point class '${entryClass}' was not found in the jar file.`,
      ]);
    }
    return prog;
  }

  /** The three vertices and their configured parallelism (per-vertex overrides, then the code's, then the request's). */
  private jobGraph(prog: Program, name: string, parallelism: number, conf?: Record<string, string>): { vertices: EmuVertex[]; configured: number[] } {
    const overrides = this.vertexOverrides(conf);
    const vertexDefs = [
      // w: CPU cost share (cores per busy second): the keyed operator is CPU-bound, source and sink half I/O
      { kind: 'source' as const, name: prog.sourceName, cap: prog.sourceCapacityPerSubtask, w: SOURCE_SINK_CPU_PER_BUSY_SECOND },
      { kind: 'keyed' as const, name: prog.operatorName, cap: prog.operatorCapacityPerSubtask, w: KEYED_CPU_PER_BUSY_SECOND },
      { kind: 'sink' as const, name: prog.sinkName, cap: prog.sinkCapacityPerSubtask, w: SOURCE_SINK_CPU_PER_BUSY_SECOND },
    ];
    const vertices: EmuVertex[] = vertexDefs.map((d) => ({
      id: hex32(`${prog.entryClass}/${name}/${d.kind}`),
      name: d.name,
      kind: d.kind,
      operatorNames: d.name.split(' -> '),
      maxParallelism: prog.maxParallelism,
      parallelism: 0,
      capacityPerSubtask: d.cap,
      cpuPerBusySecond: d.w,
      totals: { recordsIn: 0, recordsOut: 0, busyMs: 0, backPressuredMs: 0, idleMs: 0 },
    }));
    const configured = vertices.map((v) => overrides[v.id] ?? prog.vertexParallelism[v.name] ?? parallelism);
    vertices.forEach((v, i) => (v.parallelism = configured[i]));
    vertices.forEach((v, i) => {
      if (configured[i] > v.maxParallelism) {
        throw couldNot(
          `java.lang.IllegalArgumentException: The parallelism (${configured[i]}) of vertex ${v.name} is larger than its max parallelism (${v.maxParallelism}).`,
        );
      }
    });
    return { vertices, configured };
  }

  private vertexOverrides(conf?: Record<string, string>): Record<string, number> {
    const raw = conf?.['pipeline.jobvertex-parallelism-overrides'];
    if (!raw || !this.s.profile.vertexParallelismOverrides) return {};
    const out: Record<string, number> = {};
    for (const part of raw.split(',')) {
      const [id, p] = part.split(':').map((x) => x.trim());
      const n = Number(p);
      if (!id || !Number.isInteger(n) || n < 1) {
        throw new FlinkRestError(400, ['Could not execute application.', `java.lang.IllegalArgumentException: Could not parse pipeline.jobvertex-parallelism-overrides entry "${part}".`]);
      }
      out[id] = n;
    }
    return out;
  }

  /** A submitted job in INITIALIZING with fresh state (where its source starts reading: the program's startFrom). */
  private newJob(
    jobId: string,
    name: string,
    prog: Program,
    jarId: string,
    stream: string,
    vertices: EmuVertex[],
    configured: number[],
    req: RunRequest,
  ): EmuJob {
    const now = this.s.clock.now();
    const s = this.s.stream(stream);
    const fresh: Snapshot = {
      app: { offset: prog.startFrom === 'earliest' ? 0 : s.produced, count: 0, stateBytes: prog.initialStateBytes },
      entryClass: prog.entryClass,
      maxParallelismByVertex: Object.fromEntries(vertices.map((v) => [v.id, v.maxParallelism])),
    };
    return {
      id: jobId,
      name,
      program: prog,
      jarId,
      scheduler: this.s.scheduler,
      state: 'INITIALIZING',
      taskState: 'INITIALIZING',
      timestamps: { INITIALIZING: now },
      startTime: now,
      endTime: -1,
      lastModification: now,
      vertices,
      configured,
      stream,
      app: { ...fresh.app },
      restoreBase: fresh,
      slots: [],
      attempt: 0,
      checkpoints: [],
      nextCheckpointId: 1,
      checkpointIntervalMs: prog.checkpointIntervalMs,
      lastRescaleAt: now,
      metricsReady: false,
      timers: [],
      submitSeq: this.submitCounter++,
      restoreMode: req.restoreMode,
      flinkConfiguration: req.flinkConfiguration,
    };
  }

  /** Restores the job from a savepoint; returns why it cannot (the job then fails on initialization). */
  private restore(job: EmuJob, savepointPath: string, allowNonRestoredState?: boolean): string | undefined {
    const sp = this.s.savepoints.get(savepointPath.replace(/\/+$/, ''));
    const prog = job.program;
    if (!sp) {
      return `java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '${savepointPath}' on file system 'file'.`;
    } else if (sp.snapshot.entryClass !== prog.entryClass && !allowNonRestoredState) {
      return `java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint ${savepointPath}. Cannot map checkpoint/savepoint state for operator ${Object.keys(sp.snapshot.maxParallelismByVertex)[0]} to the new program, because the operator is not available in the new program. If you want to allow to skip this, you can set the --allowNonRestoredState option on the CLI.`;
    } else if (sp.snapshot.entryClass === prog.entryClass) {
      const changed = job.vertices.find((v) => sp.snapshot.maxParallelismByVertex[v.id] !== undefined && sp.snapshot.maxParallelismByVertex[v.id] !== v.maxParallelism);
      if (changed) {
        return `java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint ${savepointPath}. The max parallelism changed from ${sp.snapshot.maxParallelismByVertex[changed.id]} to ${changed.maxParallelism} for vertex ${changed.name}; restoring keyed state needs the same max parallelism.`;
      }
      job.restoreBase = { ...sp.snapshot, app: { ...sp.snapshot.app } };
      job.app = { ...sp.snapshot.app };
      job.restoredFrom = { path: sp.path, isSavepoint: true, at: this.s.clock.now(), id: 0 };
    }
    return undefined;
  }

  fail(job: EmuJob, className: string, message: string): void {
    this.s.clearTimers(job);
    job.failure = { className, message };
    this.s.releaseAll(job);
    this.ops.failInProgressOps(job, SUSPENDING);
    this.s.setState(job, 'FAILED');
    this.ops.slotsChanged();
  }

  /** PATCH /jobs/{id}?mode=cancel. */
  cancel(jobId: string): void {
    const job = this.s.requireJob(jobId);
    if (this.s.faults.cancelFailures > 0) {
      this.s.faults.cancelFailures--;
      throw new FlinkRestError(500, [`Job cancellation failed: java.util.concurrent.TimeoutException: injected fault (cancel fails) for job ${jobId}`]);
    }
    if (isTerminal(job.state) || job.state === 'CANCELLING') {
      if (this.s.profile.cancelTerminalConflict && (job.state === 'FINISHED' || job.state === 'FAILED')) {
        throw new FlinkRestError(409, [`Job cancellation failed: Job ${jobId} has already reached the terminal state ${job.state}.`]);
      }
      return;
    }
    this.s.clearTimers(job);
    this.ops.failInProgressOps(job, SUSPENDING);
    this.s.setState(job, 'CANCELLING');
    job.taskState = 'CANCELING';
    this.s.after(job, this.s.timings.cancelMs, () => {
      this.s.releaseAll(job);
      this.s.setState(job, 'CANCELED');
      this.ops.slotsChanged();
    });
  }
}
