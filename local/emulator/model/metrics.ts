/**
 * The load model and metrics as Flink names them: streams produce at their input rate, running jobs consume
 * (load.ts), and the samples become per-subtask task and operator metrics and TaskManager CPU load.
 */
import { metricOperatorName } from '../../../functions/adapters/flink/wire';
import { checkRateSpec, rateAt, RateSpec, stepJobLoad } from '../load';
import { JVM_BASELINE_LOAD } from './programs';
import type { ModelState } from './state';
import { EmuJob, FlinkRestError } from './types';

const TASK_STATES = ['CREATED', 'SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED', 'RECONCILING', 'INITIALIZING'];

export class Metrics {
  constructor(private readonly s: ModelState) {}

  /** Sets the input rate of a stream (records/s; constant, function of elapsed virtual ms, or a trace). */
  setInputRate(stream: string, rate: RateSpec): void {
    checkRateSpec(rate, `input rate of stream "${stream}"`);
    const s = this.s.stream(stream);
    s.rate = rate;
  }

  /** Records waiting in the stream for this job (produced - consumed offset). */
  backlog(jobId: string): number {
    const job = this.s.requireJob(jobId);
    return this.s.stream(job.stream).produced - job.app.offset;
  }

  /**
   * CPU load of a TaskManager (0..1, like Status.JVM.CPU.Load), as a real TaskManager shows it: every subtask runs in
   * its own thread, and a busy thread uses a core. With slot sharing, slot i holds subtask i of every vertex, so
   *   load = min(1, JVM_BASELINE_LOAD + Σ over its subtasks (busy/1000 × cpuPerBusySecond) ÷ cores)
   * with one core per slot (cpuCores = slots). A job saturated on its keyed operator drives its slots to ~100 %
   * (1 core for the keyed subtask alone); an idle job shows the JVM baseline (2 %).
   */
  cpuLoad(tmId: string): number {
    const tm = this.s.requireTaskManager(tmId);
    if (tm.dead) return 0;
    let busyCores = 0;
    for (const job of this.s.jobs) {
      if (job.state !== 'RUNNING') continue;
      job.slots.forEach((ref, i) => {
        if (ref.tm !== tm) return;
        for (const v of job.vertices) {
          if (i < v.parallelism && v.sample) busyCores += (v.sample.busyMsPerSecond / 1000) * v.cpuPerBusySecond;
        }
      });
    }
    return Math.min(1, JVM_BASELINE_LOAD + busyCores / tm.cpuCores);
  }

  /** One load-model step of `dtMs` (the clock's tick): streams produce, running jobs consume, samples update. */
  step(dtMs: number, now: number): void {
    const elapsed = now - this.s.clock.startEpochMs;
    for (const s of this.s.streams.values()) s.produced += rateAt(s.rate, elapsed - dtMs / 2) * (dtMs / 1000);
    for (const job of this.s.jobs) {
      if (job.state !== 'RUNNING') continue;
      const s = this.s.stream(job.stream);
      if (this.s.isStuck(job)) {
        for (const v of job.vertices) {
          v.sample = { inPerSubtask: 0, outPerSubtask: 0, busyMsPerSecond: 0, backPressuredMsPerSecond: 0, idleMsPerSecond: 1000 };
        }
        job.metricsReady = true;
        continue;
      }
      const r = stepJobLoad(
        job.vertices.map((v) => ({ parallelism: v.parallelism, capacityPerSubtask: v.capacityPerSubtask })),
        s.produced - job.app.offset,
        dtMs,
      );
      job.app.offset += r.processed;
      job.app.count += r.processed;
      job.app.stateBytes = Math.min(job.program.maxStateBytes, job.app.stateBytes + r.processed * job.program.stateBytesPerRecord);
      job.vertices.forEach((v, i) => {
        const smp = r.samples[i];
        v.sample = smp;
        const secs = dtMs / 1000;
        v.totals.recordsIn += smp.inPerSubtask * v.parallelism * secs;
        v.totals.recordsOut += smp.outPerSubtask * v.parallelism * secs;
        v.totals.busyMs += smp.busyMsPerSecond * secs * v.parallelism;
        v.totals.backPressuredMs += smp.backPressuredMsPerSecond * secs * v.parallelism;
        v.totals.idleMs += smp.idleMsPerSecond * secs * v.parallelism;
      });
      job.metricsReady = true;
    }
  }

  // ---------------------------------------------------------------- metrics as Flink names them

  /**
   * Per-subtask metric values of a vertex by Flink's id without the subtask prefix (task metrics "busyTimeMsPerSecond",
   * operator metrics "<Operator_Name>.pendingRecords"). Empty until the job's first load step (a fresh job has none).
   */
  vertexMetricValues(jobId: string, vertexId: string): Map<string, number[]> {
    const job = this.s.requireJob(jobId);
    const v = job.vertices.find((x) => x.id === vertexId);
    if (!v) throw new FlinkRestError(404, [`No vertex with ID '${vertexId}' exists.`]);
    const out = new Map<string, number[]>();
    if (!job.metricsReady || !v.sample) return out;
    const p = v.parallelism;
    const each = (x: number) => Array.from({ length: p }, () => x);
    const smp = v.sample;
    const busy = v.kind === 'source' && job.program.legacySource ? NaN : smp.busyMsPerSecond;
    out.set('numRecordsInPerSecond', each(smp.inPerSubtask));
    out.set('numRecordsOutPerSecond', each(smp.outPerSubtask));
    out.set('numRecordsIn', each(v.totals.recordsIn / p));
    out.set('numRecordsOut', each(v.totals.recordsOut / p));
    out.set('busyTimeMsPerSecond', each(busy));
    out.set('backPressuredTimeMsPerSecond', each(smp.backPressuredMsPerSecond));
    out.set('idleTimeMsPerSecond', each(smp.idleMsPerSecond));
    const ops = v.operatorNames.map(metricOperatorName);
    if (v.kind === 'source') {
      const backlog = this.s.stream(job.stream).produced - job.app.offset;
      out.set(`${ops[0]}.pendingRecords`, each(backlog / p));
      out.set(`${ops[0]}.numRecordsOutPerSecond`, each(smp.outPerSubtask));
    }
    for (const op of ops) out.set(`${op}.numRecordsInPerSecond`, each(v.kind === 'source' ? 0 : smp.inPerSubtask));
    return out;
  }

  taskStateCounts(job: EmuJob): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
    for (const v of job.vertices) counts[job.taskState] = (counts[job.taskState] ?? 0) + Math.max(v.parallelism, 1);
    return counts;
  }
}
