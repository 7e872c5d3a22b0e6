/**
 * Savepoints (POST /jobs/{id}/savepoints and /stop, their async status) and periodic checkpoints: what a job's
 * state is snapshotted as, how long that takes, and how it fails.
 */
import { SUSPENDING, type ClusterOps, type ModelState } from './state';
import { AsyncOperation, CheckpointRecord, EmuJob, FlinkRestError, hex32, Snapshot } from './types';

/** The body of a savepoint or stop-with-savepoint request, as the model takes it. */
export interface SavepointRequest {
  kind: 'savepoint' | 'stop';
  targetDirectory?: string;
  triggerId?: string;
  formatType?: string;
  cancelJob?: boolean;
  drain?: boolean;
}

export class Savepoints {
  constructor(
    private readonly s: ModelState,
    private readonly ops: ClusterOps,
  ) {}


  /** POST /jobs/{id}/savepoints and /stop. Same triggerId for the same job → the same operation (idempotent). */
  triggerSavepoint(jobId: string, req: SavepointRequest): AsyncOperation {
    const job = this.s.requireJob(jobId);
    if (req.triggerId) {
      const existing = this.s.operations.get(`${jobId}/${req.triggerId}`);
      if (existing) return existing;
    }
    const dir = req.targetDirectory ?? this.s.savepointDir;
    if (!dir) {
      const field = req.kind === 'stop' ? 'targetDirectory' : 'target-directory';
      throw new FlinkRestError(400, [`Config key [state.savepoints.dir] is not set. Property [${field}] must be provided.`]);
    }
    const triggerId = req.triggerId ?? this.s.nextId('trigger');
    const op: AsyncOperation = { triggerId, jobId, kind: req.kind, createdAt: this.s.clock.now(), drain: req.drain };
    this.s.operations.set(`${jobId}/${triggerId}`, op);
    const finishFail = (message: string) => {
      const i = message.indexOf(': ');
      op.failure = { className: message.slice(0, i), message: message.slice(i + 2) };
      op.completedAt = this.s.clock.now();
      this.s.log(`savepoint ${triggerId} of job ${job.name} failed: ${message}`);
    };
    if (job.state !== 'RUNNING' || this.s.isStuck(job)) {
      finishFail(
        `org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint triggering task ${job.vertices[0].name} (1/${job.vertices[0].parallelism || 1}) of job ${jobId} is not being executed at the moment. Aborting checkpoint. Failure reason: Not all required tasks are currently running.`,
      );
      return op;
    }
    const injected = this.s.faults.savepointFailures > 0;
    if (injected) this.s.faults.savepointFailures--;
    const snapshot = this.snapshot(job);
    const duration = this.s.timings.savepointBaseMs + (snapshot.app.stateBytes / this.s.timings.savepointBytesPerSecond) * 1000;
    const cp = this.startCheckpoint(job, snapshot, true);
    this.s.log(`savepoint ${triggerId} of job ${job.name} triggered (${Math.round(duration)} ms)`);
    const attempt = job.attempt;
    (op as AsyncOperation & { cp?: CheckpointRecord }).cp = cp;
    this.s.clock.schedule(duration, () => {
      if (op.completedAt !== undefined) return;
      if (job.attempt !== attempt || job.state !== 'RUNNING') {
        cp.status = 'FAILED';
        return finishFail(SUSPENDING);
      }
      if (this.s.isStuck(job)) {
        cp.status = 'FAILED';
        return finishFail('org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing.');
      }
      if (injected) {
        cp.status = 'FAILED';
        cp.failureMessage = this.s.faults.savepointFailureMessage;
        return finishFail(`org.apache.flink.runtime.checkpoint.CheckpointException: ${this.s.faults.savepointFailureMessage}`);
      }
      const path = `${dir.replace(/\/+$/, '')}/savepoint-${jobId.slice(0, 6)}-${hex32(`${triggerId}/path`).slice(0, 12)}`;
      cp.status = 'COMPLETED';
      cp.ackAt = this.s.clock.now();
      cp.externalPath = path;
      this.s.savepoints.set(path, { path, jobId, completedAt: this.s.clock.now(), snapshot, formatType: req.formatType ?? 'CANONICAL' });
      op.location = path;
      op.completedAt = this.s.clock.now();
      this.s.log(`savepoint ${triggerId} of job ${job.name} completed: ${path}`);
      if (req.kind === 'stop') {
        this.s.clearTimers(job);
        this.s.releaseAll(job);
        this.s.setState(job, 'FINISHED');
        this.ops.slotsChanged();
      } else if (req.cancelJob) {
        this.ops.cancel(jobId);
      }
    });
    return op;
  }

  /** GET /jobs/{id}/savepoints/{triggerId}: 404 for unknown or expired ids (endpoints.md §4). */
  savepointStatus(jobId: string, triggerId: string): AsyncOperation | undefined {
    const op = this.s.operations.get(`${jobId}/${triggerId}`);
    if (!op) return undefined;
    if (op.completedAt !== undefined && this.s.clock.now() - op.completedAt > this.s.timings.asyncStoreMs) return undefined;
    return op;
  }

  failInProgressOps(job: EmuJob, message: string): void {
    for (const op of this.s.operations.values()) {
      if (op.jobId === job.id && op.completedAt === undefined) {
        const i = message.indexOf(': ');
        op.failure = { className: message.slice(0, i), message: message.slice(i + 2) };
        op.completedAt = this.s.clock.now();
        const cp = (op as AsyncOperation & { cp?: CheckpointRecord }).cp;
        if (cp) cp.status = 'FAILED';
      }
    }
  }

  /** A new in-progress checkpoint or savepoint of the job's current state, recorded in its history. */
  private startCheckpoint(job: EmuJob, snapshot: Snapshot, isSavepoint: boolean): CheckpointRecord {
    const cp: CheckpointRecord = {
      id: job.nextCheckpointId++,
      isSavepoint,
      status: 'IN_PROGRESS',
      triggeredAt: this.s.clock.now(),
      stateSize: snapshot.app.stateBytes,
      numSubtasks: job.vertices.reduce((a, v) => a + v.parallelism, 0),
      snapshot,
    };
    job.checkpoints.push(cp);
    return cp;
  }

  private snapshot(job: EmuJob): Snapshot {
    return {
      app: { ...job.app },
      entryClass: job.program.entryClass,
      maxParallelismByVertex: Object.fromEntries(job.vertices.map((v) => [v.id, v.maxParallelism])),
    };
  }

  scheduleCheckpoint(job: EmuJob): void {
    const interval = job.checkpointIntervalMs;
    if (interval === null || interval <= 0) return;
    this.s.after(job, interval, () => {
      if (job.state !== 'RUNNING') return;
      this.scheduleCheckpoint(job);
      if (this.s.isStuck(job) || job.checkpoints.some((c) => c.status === 'IN_PROGRESS' && !c.isSavepoint)) return;
      const snapshot = this.snapshot(job);
      const cp = this.startCheckpoint(job, snapshot, false);
      const duration = this.s.timings.checkpointBaseMs + (snapshot.app.stateBytes / this.s.timings.checkpointBytesPerSecond) * 1000;
      this.s.after(job, duration, () => {
        if (cp.status !== 'IN_PROGRESS') return;
        if (job.state !== 'RUNNING' || this.s.isStuck(job)) {
          cp.status = 'FAILED';
          cp.failureMessage = 'Checkpoint expired before completing.';
          return;
        }
        cp.status = 'COMPLETED';
        cp.ackAt = this.s.clock.now();
        cp.externalPath = `file:/tmp/flink-checkpoints/${job.id}/chk-${cp.id}`;
      });
      if (job.checkpoints.length > 50) job.checkpoints.splice(0, job.checkpoints.length - 50);
    });
  }
}
