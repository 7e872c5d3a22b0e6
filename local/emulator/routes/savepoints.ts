/**
 * Savepoint and checkpoint routes: trigger a savepoint or a stop-with-savepoint (§5.2, §5.3), its status (§4), and
 * the checkpoint statistics (§3.5).
 */
import { HEX32 } from '../../../functions/adapters/flink/wire';
import type { EmuJob, FlinkModel } from '../model';
import { badFormat, Handler, HttpError, readBody, RouteContext } from './http';

export function savepointRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // §5.2 / §5.3: one operation; the two bodies name the directory differently and carry cancel-job or drain.
  const trigger =
    (kind: 'savepoint' | 'stop', className: string, fields: string[], dirField: string, flag: 'cancel-job' | 'drain'): Handler =>
    ({ params, body }) => {
      const b = readBody(body, className, fields, { [dirField]: 'string', [flag]: 'boolean', triggerId: 'string', formatType: 'string' });
      if (b.formatType != null && !['CANONICAL', 'NATIVE'].includes(b.formatType as string)) throw badFormat(className);
      if (b.triggerId != null && !HEX32.test(b.triggerId as string)) throw badFormat(className);
      const job = ctx.job(params[0]);
      const op = m.triggerSavepoint(job.id, {
        kind,
        targetDirectory: (b[dirField] as string) ?? undefined,
        triggerId: (b.triggerId as string) ?? undefined,
        formatType: (b.formatType as string) ?? undefined,
        ...(kind === 'stop' ? { drain: (b.drain as boolean) ?? false } : { cancelJob: (b['cancel-job'] as boolean) ?? false }),
      });
      return { status: 202, body: { 'request-id': op.triggerId } };
    };
  on('POST', '/jobs/{id}/savepoints', trigger('savepoint', 'SavepointTriggerRequestBody', p.requestFields.savepoint, 'target-directory', 'cancel-job'));
  on('POST', '/jobs/{id}/stop', trigger('stop', 'StopWithSavepointRequestBody', p.requestFields.stop, 'targetDirectory', 'drain'));
  // §4: operation null while in progress; exactly one of location / failure-cause when completed; 404 unknown.
  on('GET', '/jobs/{id}/savepoints/{trigger}', ({ params }) => {
    const job = ctx.job(params[0]);
    const triggerId = params[1];
    if (!HEX32.test(triggerId)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid TriggerId string '${triggerId}'.`]);
    const op = m.savepointStatus(job.id, triggerId);
    if (!op) throw new HttpError(404, [`There is no savepoint operation with triggerId=${triggerId} for job ${job.id}.`]);
    if (op.completedAt === undefined) return { status: 200, body: { status: { id: 'IN_PROGRESS' }, operation: null } };
    const operation = op.location
      ? { location: op.location }
      : {
          'failure-cause': {
            class: op.failure!.className,
            'stack-trace': `${op.failure!.className}: ${op.failure!.message}\n\tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.triggerSavepoint(CheckpointCoordinator.java)\n`,
            'serialized-throwable': Buffer.from(`${op.failure!.className}: ${op.failure!.message}`).toString('base64'),
          },
        };
    return { status: 200, body: { status: { id: 'COMPLETED' }, operation } };
  });

  // §3.5
  on('GET', '/jobs/{id}/checkpoints', ({ params }) => ({ status: 200, body: checkpointStats(m, ctx.job(params[0])) }));
}

function checkpointStats(m: FlinkModel, j: EmuJob): Record<string, unknown> {
  if (j.checkpointIntervalMs === null && !j.checkpoints.some((c) => c.isSavepoint)) {
    throw new HttpError(404, ['Checkpointing has not been enabled.']);
  }
  const stat = (c: (typeof j.checkpoints)[number]) => {
    const base: Record<string, unknown> = {
      className: c.status === 'COMPLETED' ? 'completed' : c.status === 'FAILED' ? 'failed' : 'in_progress',
      id: c.id,
      status: c.status,
      is_savepoint: c.isSavepoint,
      savepointFormat: c.isSavepoint ? 'CANONICAL' : null,
      trigger_timestamp: c.triggeredAt,
      latest_ack_timestamp: c.ackAt ?? -1,
      state_size: c.stateSize,
      checkpointed_size: c.stateSize,
      end_to_end_duration: (c.ackAt ?? m.clock.now()) - c.triggeredAt,
      alignment_buffered: 0,
      processed_data: 0,
      persisted_data: 0,
      num_subtasks: c.numSubtasks,
      num_acknowledged_subtasks: c.status === 'COMPLETED' ? c.numSubtasks : 0,
      checkpoint_type: c.isSavepoint ? 'SAVEPOINT' : 'CHECKPOINT',
      tasks: {},
    };
    if (base.savepointFormat === null && !m.profile.observedWire) delete base.savepointFormat;
    if (c.status === 'COMPLETED') Object.assign(base, { external_path: c.externalPath, discarded: false });
    if (c.status === 'FAILED') Object.assign(base, { failure_timestamp: c.ackAt ?? c.triggeredAt, failure_message: c.failureMessage ?? 'Checkpoint was aborted.' });
    return base;
  };
  const completed = j.checkpoints.filter((c) => c.status === 'COMPLETED');
  const latestOf = (f: (c: (typeof j.checkpoints)[number]) => boolean) => {
    const c = [...j.checkpoints].reverse().find(f);
    return c ? stat(c) : null;
  };
  const sizes = completed.map((c) => c.stateSize);
  const durations = completed.map((c) => c.ackAt! - c.triggeredAt);
  const summary = (xs: number[]) => {
    if (xs.length === 0) return { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
    const sorted = [...xs].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
    return {
      min: sorted[0],
      max: sorted[sorted.length - 1],
      avg: Math.round(xs.reduce((a, x) => a + x, 0) / xs.length),
      p50: q(0.5),
      p90: q(0.9),
      p95: q(0.95),
      p99: q(0.99),
      p999: q(0.999),
    };
  };
  const zero = summary([]);
  const r = j.restoredFrom;
  return {
    counts: {
      restored: r ? 1 : 0,
      total: j.checkpoints.length,
      in_progress: j.checkpoints.filter((c) => c.status === 'IN_PROGRESS').length,
      completed: completed.length,
      failed: j.checkpoints.filter((c) => c.status === 'FAILED').length,
    },
    summary: {
      checkpointed_size: summary(sizes),
      state_size: summary(sizes),
      end_to_end_duration: summary(durations),
      alignment_buffered: zero,
      processed_data: zero,
      persisted_data: zero,
    },
    latest: {
      completed: latestOf((c) => c.status === 'COMPLETED' && !c.isSavepoint),
      savepoint: latestOf((c) => c.status === 'COMPLETED' && c.isSavepoint),
      failed: latestOf((c) => c.status === 'FAILED'),
      restored: r ? { id: r.id, restore_timestamp: r.at, is_savepoint: r.isSavepoint, external_path: r.path } : null,
    },
    history: [...j.checkpoints].reverse().slice(0, 10).map(stat),
  };
}
