/**
 * The schedulers (default, adaptive, reactive): which slots a job gets and when, waiting for resources, restarts
 * (failover and rescale, restoring the latest checkpoint), slot.idle.timeout, and the adaptive scheduler's
 * resource requirements (PUT /jobs/{id}/resource-requirements, endpoints.md §5.4).
 */
import type { ResourceRequirements } from '../../../functions/adapters/flink/types';
import { SUSPENDING, type ClusterOps, type ModelState } from './state';
import { EmuJob, FlinkRestError, SlotRef } from './types';

export class Scheduler {
  constructor(
    private readonly s: ModelState,
    private readonly ops: ClusterOps,
  ) {}

  /** Bounds [lower, upper] per vertex for adaptive / reactive scheduling. */
  private bounds(job: EmuJob): { lo: number; hi: number }[] {
    return job.vertices.map((v, i) => {
      if (job.scheduler === 'reactive') return { lo: 1, hi: v.maxParallelism };
      const r = job.requirements?.[v.id]?.parallelism;
      if (r) {
        return { lo: r.lowerBound === -1 ? 1 : r.lowerBound, hi: r.upperBound === -1 ? v.maxParallelism : r.upperBound };
      }
      return { lo: 1, hi: job.configured[i] };
    });
  }

  private totalFree(): number {
    return this.s.taskManagers.filter((t) => !t.dead).reduce((a, t) => a + this.s.freeSlots(t), 0);
  }

  /** Slots this job holds but leaves idle (they count as usable when it re-plans). */
  private heldIdle(job: EmuJob): SlotRef[] {
    const refs: SlotRef[] = [];
    for (const tm of this.s.taskManagers) {
      if (tm.dead) continue;
      tm.slots.forEach((s, index) => {
        if (s.jobId === job.id && !job.slots.some((r) => r.tm === tm && r.index === index)) refs.push({ tm, index });
      });
    }
    return refs;
  }

  /** Decide the parallelism a waiting job can start with now; undefined = keep waiting. */
  private plan(job: EmuJob, allowPartial: boolean): number[] | undefined {
    const usable = this.totalFree() + job.slots.length + this.heldIdle(job).length;
    if (job.scheduler === 'default') {
      const need = Math.max(...job.configured);
      return usable >= need ? [...job.configured] : undefined;
    }
    const b = this.bounds(job);
    const want = Math.max(...b.map((x) => x.hi));
    const min = Math.max(...b.map((x) => x.lo));
    if (usable >= want) return b.map((x) => x.hi);
    if (usable >= min && (allowPartial || job.scheduler === 'reactive')) return b.map((x) => Math.max(x.lo, Math.min(x.hi, usable)));
    return undefined;
  }

  trySchedule(job: EmuJob): void {
    if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
    const p = this.plan(job, false);
    if (p) return this.deploy(job, p);
    if (job.waitTimer) return;
    if (job.scheduler === 'adaptive') {
      // Sufficient-but-not-desired resources: wait resource-stabilization-timeout, then run with what is there.
      const stab = this.s.clock.schedule(this.s.timings.resourceStabilizationMs, () => {
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const partial = this.plan(job, true);
        if (partial) {
          job.waitTimer?.cancel();
          job.waitTimer = undefined;
          this.deploy(job, partial);
        }
      });
      job.timers.push(stab);
      job.waitTimer = this.s.clock.schedule(this.s.timings.resourceWaitTimeoutMs, () => {
        job.waitTimer = undefined;
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const partial = this.plan(job, true);
        if (partial) return this.deploy(job, partial);
        this.ops.fail(job, 'org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException', 'Could not acquire the minimum required resources.');
      });
    } else if (job.scheduler === 'default') {
      job.waitTimer = this.s.clock.schedule(this.s.timings.slotRequestTimeoutMs, () => {
        job.waitTimer = undefined;
        if (job.state !== 'CREATED' || job.taskState === 'DEPLOYING') return;
        const msg = `Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout`;
        if (job.checkpointIntervalMs !== null) {
          // With checkpointing the default restart strategy is fixed-delay with unlimited attempts: try again.
          this.restart(job, `org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: ${msg}`);
        } else {
          this.ops.fail(job, 'org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException', msg);
        }
      });
    }
    // reactive waits for resources forever (resource-wait-timeout -1).
  }

  private pickSlots(job: EmuJob, n: number): SlotRef[] {
    const chosen: SlotRef[] = [...job.slots];
    for (const r of this.heldIdle(job)) if (chosen.length < n) chosen.push(r);
    const live = this.s.taskManagers.filter((t) => !t.dead);
    if (this.s.slotAllocation === 'spread') {
      while (chosen.length < n) {
        const tm = live.filter((t) => this.s.freeSlots(t) > 0 && !t.slots.every((_, i) => chosen.some((c) => c.tm === t && c.index === i)));
        const cand = tm
          .map((t) => ({ t, free: t.slots.filter((s, i) => s.jobId === null && !chosen.some((c) => c.tm === t && c.index === i)).length }))
          .filter((x) => x.free > 0)
          .sort((a, b) => b.free - a.free)[0];
        if (!cand) break;
        const index = cand.t.slots.findIndex((s, i) => s.jobId === null && !chosen.some((c) => c.tm === cand.t && c.index === i));
        chosen.push({ tm: cand.t, index });
      }
    } else {
      // Pack: fill the TaskManagers that already hold slots of this job, then in registration order.
      const order = [...live].sort((a, b) => Number(chosen.some((c) => c.tm === b)) - Number(chosen.some((c) => c.tm === a)));
      for (const tm of order) {
        tm.slots.forEach((s, index) => {
          if (chosen.length < n && s.jobId === null) chosen.push({ tm, index });
        });
      }
    }
    return chosen.slice(0, n);
  }

  private deploy(job: EmuJob, parallelism: number[]): void {
    job.waitTimer?.cancel();
    job.waitTimer = undefined;
    const need = Math.max(...parallelism);
    const previouslyHeld = [...job.slots, ...this.heldIdle(job)];
    const slots = this.pickSlots(job, need);
    for (const r of slots) r.tm.slots[r.index] = { jobId: job.id };
    // Slots it held but no longer needs stay allocated until slot.idle.timeout.
    for (const r of previouslyHeld) {
      if (!slots.some((s) => s.tm === r.tm && s.index === r.index)) this.holdIdle(job, r);
    }
    job.slots = slots;
    job.vertices.forEach((v, i) => (v.parallelism = parallelism[i]));
    job.taskState = 'DEPLOYING';
    this.s.log(`job ${job.name} deploying at parallelism ${parallelism.join('/')} on ${need} slot(s)`);
    this.s.after(job, this.s.timings.deployMs, () => {
      if (job.state !== 'CREATED') return;
      this.s.setState(job, 'RUNNING');
      job.taskState = 'RUNNING';
      job.runningSince = this.s.clock.now();
      this.ops.scheduleCheckpoint(job);
      this.maybeScaleUp(job);
    });
  }

  private holdIdle(job: EmuJob, r: SlotRef): void {
    const releaseAt = this.s.clock.now() + this.s.timings.slotIdleTimeoutMs;
    r.tm.slots[r.index] = { jobId: job.id, idleReleaseAt: releaseAt };
    this.s.clock.schedule(this.s.timings.slotIdleTimeoutMs, () => {
      const s = r.tm.slots[r.index];
      if (s && s.jobId === job.id && s.idleReleaseAt === releaseAt) {
        r.tm.slots[r.index] = { jobId: null };
        this.s.log(`slot ${r.index} of TaskManager ${r.tm.id} released by job ${job.name} (slot.idle.timeout)`);
        this.slotsChanged();
      }
    });
  }

  /** Restart (failover or rescale): RESTARTING → CREATED after the restart delay, restoring the latest checkpoint. */
  restart(job: EmuJob, cause: string): void {
    this.s.clearTimers(job);
    this.ops.failInProgressOps(job, SUSPENDING);
    for (const c of job.checkpoints) if (c.status === 'IN_PROGRESS') c.status = 'FAILED';
    job.attempt++;
    // Slots stay with the job (its slot pool) while it restarts; they are reused or released when it re-plans.
    for (const r of job.slots) if (this.s.taskManagers.includes(r.tm)) r.tm.slots[r.index] = { jobId: job.id };
    job.slots = [];
    this.s.setState(job, 'RESTARTING');
    job.taskState = 'CANCELING';
    this.s.log(`job ${job.name} restarting: ${cause}`);
    const latest = [...job.checkpoints].reverse().find((c) => c.status === 'COMPLETED' && !c.isSavepoint) ??
      [...job.checkpoints].reverse().find((c) => c.status === 'COMPLETED');
    const restoreFrom = latest && (!job.restoredFrom || latest.ackAt! >= job.restoredFrom.at) ? latest : undefined;
    if (restoreFrom) {
      job.app = { ...restoreFrom.snapshot.app };
      job.restoredFrom = { path: restoreFrom.externalPath ?? `<checkpoint ${restoreFrom.id}>`, isSavepoint: restoreFrom.isSavepoint, at: this.s.clock.now(), id: restoreFrom.id };
    } else {
      job.app = { ...job.restoreBase.app };
    }
    this.s.after(job, this.s.timings.restartDelayMs, () => {
      this.s.setState(job, 'CREATED');
      job.taskState = 'SCHEDULED';
      job.lastRescaleAt = this.s.clock.now();
      this.trySchedule(job);
    });
  }

  /** Re-plan after slots appeared or vanished: waiting jobs first (in submission order), then scale-ups. */
  slotsChanged(): void {
    const jobs = [...this.s.jobs].sort((a, b) => a.submitSeq - b.submitSeq);
    for (const j of jobs) if (j.state === 'CREATED' && j.taskState !== 'DEPLOYING') this.trySchedule(j);
    for (const j of jobs) if (j.state === 'RUNNING') this.maybeScaleUp(j);
  }

  /** Adaptive / reactive: more slots than in use and the bounds allow more → rescale (after stabilization). */
  private maybeScaleUp(job: EmuJob): void {
    if (job.scheduler === 'default' || job.state !== 'RUNNING' || job.rescaleTimer) return;
    const target = this.desiredNow(job);
    if (!target || target.every((p, i) => p === job.vertices[i].parallelism)) return;
    // Desired resources available → rescale at once; only sufficient ones → wait resource-stabilization-timeout.
    const partial = this.bounds(job).some((b, i) => target[i] < b.hi);
    const stabilization = job.scheduler === 'reactive' || !partial ? 0 : this.s.timings.resourceStabilizationMs;
    const cooldown = Math.max(0, job.lastRescaleAt + this.s.timings.scalingIntervalMinMs - this.s.clock.now());
    const delay = Math.max(stabilization, job.scheduler === 'reactive' ? 0 : cooldown);
    const attempt = job.attempt;
    job.rescaleTimer = this.s.clock.schedule(delay, () => {
      job.rescaleTimer = undefined;
      if (job.attempt !== attempt || job.state !== 'RUNNING') return;
      const t = this.desiredNow(job);
      if (!t || t.every((p, i) => p === job.vertices[i].parallelism)) return;
      this.restart(job, `rescaling from ${job.vertices.map((v) => v.parallelism).join('/')} to ${t.join('/')}`);
    });
  }

  /** Parallelism an adaptive/reactive job could run with now (bounds ∩ usable slots); undefined if below bounds. */
  private desiredNow(job: EmuJob): number[] | undefined {
    const usable = this.totalFree() + job.slots.filter((s) => !s.tm.dead).length + this.heldIdle(job).length;
    const b = this.bounds(job);
    if (usable < Math.max(...b.map((x) => x.lo))) return undefined;
    return b.map((x) => Math.max(x.lo, Math.min(x.hi, usable)));
  }

  // ---------------------------------------------------------------- adaptive scheduler: resource requirements

  getRequirements(jobId: string): ResourceRequirements {
    const job = this.s.requireJob(jobId);
    this.requireAdaptive(job, 'requestJobResourceRequirements');
    const out: ResourceRequirements = {};
    job.vertices.forEach((v, i) => {
      const r = job.requirements?.[v.id];
      out[v.id] = { parallelism: r ? { ...r.parallelism } : { lowerBound: 1, upperBound: job.scheduler === 'reactive' ? v.maxParallelism : job.configured[i] } };
    });
    return out;
  }

  private requireAdaptive(job: EmuJob, method: string): void {
    if (job.scheduler === 'default') {
      throw new FlinkRestError(500, [
        'Internal server error.',
        `<Exception on server side:\njava.lang.UnsupportedOperationException: The DefaultScheduler does not support changing the parallelism without a job restart. This feature is currently only expected to work with the AdaptiveScheduler.\n\tat org.apache.flink.runtime.scheduler.SchedulerNG.${method}(SchedulerNG.java)\n\nEnd of exception on server side>`,
      ]);
    }
  }

  /** PUT /jobs/{id}/resource-requirements (endpoints.md §5.4): validate, 200 at once, rescale asynchronously. */
  putRequirements(jobId: string, body: unknown): void {
    const job = this.s.requireJob(jobId);
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length === 0) {
      throw new FlinkRestError(400, ['Request body does not specify resource requirements.']);
    }
    if (job.scheduler === 'reactive') throw new FlinkRestError(400, ['Cannot change the parallelism of a job running in reactive mode.']);
    this.requireAdaptive(job, 'updateJobResourceRequirements');
    const req = body as Record<string, { parallelism?: { lowerBound?: unknown; upperBound?: unknown } }>;
    const errors: string[] = [];
    for (const id of Object.keys(req)) if (!job.vertices.some((v) => v.id === id)) errors.push(`Job vertex [${id}] was not found in the JobGraph.`);
    for (const v of job.vertices) {
      const r = req[v.id];
      if (!r) {
        errors.push(`The request is incomplete, missing job vertex [${v.id}] resource requirements.`);
        continue;
      }
      const lo = r.parallelism?.lowerBound;
      const hi = r.parallelism?.upperBound;
      if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isInteger(lo) || !Number.isInteger(hi)) {
        errors.push(`The parallelism of job vertex [${v.id}] needs integer lowerBound and upperBound.`);
        continue;
      }
      const l = lo === -1 ? 1 : lo;
      const h = hi === -1 ? v.maxParallelism : hi;
      if (l < 1) errors.push(`The lower bound of job vertex [${v.id}] must be greater than zero.`);
      if (h < 1) errors.push(`The upper bound of job vertex [${v.id}] must be greater than zero.`);
      if (l > h) errors.push(`The lower bound ${l} of job vertex [${v.id}] must be less than or equal to the upper bound ${h}.`);
      if (h > v.maxParallelism) {
        errors.push(`The newly requested parallelism ${h} for the job vertex ${v.id} exceeds its maximum parallelism ${v.maxParallelism}.`);
      }
    }
    if (errors.length) throw new FlinkRestError(400, [errors.join('\n')]);
    const now = this.s.clock.now();
    if (job.requirementsUpdateUntil !== undefined && now < job.requirementsUpdateUntil) {
      throw new FlinkRestError(409, [`Another update to the job [${jobId}] resource requirements is in progress.`]);
    }
    job.requirementsUpdateUntil = now + this.s.timings.requirementsUpdateMs;
    job.requirements = Object.fromEntries(
      job.vertices.map((v) => [v.id, { parallelism: { lowerBound: Number(req[v.id].parallelism!.lowerBound), upperBound: Number(req[v.id].parallelism!.upperBound) } }]),
    );
    this.s.log(`job ${job.name} resource requirements updated: ${job.vertices.map((v) => `${v.name} ${JSON.stringify(job.requirements![v.id].parallelism)}`).join(', ')}`);
    this.s.clock.schedule(this.s.timings.requirementsUpdateMs, () => {
      if (job.state === 'RUNNING') {
        job.rescaleTimer?.cancel();
        job.rescaleTimer = undefined;
        this.maybeScaleUp(job);
      } else if (job.state === 'CREATED') this.trySchedule(job);
    });
  }

}
