/** Metric routes (§7.1): job-scope metrics, per-subtask vertex metrics and their aggregates. */
import type { JobStatus } from '../../../functions/adapters/flink/types';
import type { EmuJob, FlinkModel } from '../model';
import { aggNumber, HttpError, javaDouble, metricList, RouteContext } from './http';

export function metricRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // Job metrics: seen on real 1.20.5 / 2.3.0 (test/flink/emulator-diff.test.ts).
  on('GET', '/jobs/{id}/metrics', ({ params, query }) => ({ status: 200, body: metricList(jobMetricValues(m, ctx.job(params[0])), query) }));

  // §7.1: bare arrays; plain values are strings, aggregated values numbers.
  on('GET', '/jobs/{id}/vertices/{vid}/metrics', ({ params, query }) => {
    const job = ctx.job(params[0]);
    const values = m.vertexMetricValues(job.id, params[1]);
    const flat: { id: string; value: string }[] = [];
    for (const [name, arr] of values) arr.forEach((x, i) => flat.push({ id: `${i}.${name}`, value: javaDouble(x) }));
    const get = query.get('get');
    if (!get) return { status: 200, body: flat.map((f) => ({ id: f.id })) };
    const want = new Set(get.split(','));
    return { status: 200, body: flat.filter((f) => want.has(f.id)) };
  });
  on('GET', '/jobs/{id}/vertices/{vid}/subtasks/metrics', ({ params, query }) => {
    const job = ctx.job(params[0]);
    const values = m.vertexMetricValues(job.id, params[1]);
    const get = query.get('get');
    if (!get) return { status: 200, body: [...values.keys()].map((id) => ({ id })) };
    const known = p.observedWire ? ['min', 'max', 'avg', 'sum', 'skew'] : ['min', 'max', 'avg', 'sum'];
    const aggs = (query.get('agg') ?? known.join(',')).split(',').map((a) => a.trim().toLowerCase());
    for (const a of aggs) {
      if (!known.includes(a)) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${a}' for parameter agg.`]);
    }
    const subtasks = parseSubtasks(query.get('subtasks'));
    const out: Record<string, unknown>[] = [];
    for (const id of get.split(',')) {
      let arr = values.get(id);
      if (!arr) continue;
      if (subtasks) arr = arr.filter((_, i) => subtasks.has(i));
      if (arr.length === 0) continue;
      const sum = arr.reduce((a, x) => a + x, 0);
      const entry: Record<string, unknown> = { id };
      if (aggs.includes('min')) entry.min = aggNumber(Math.min(...arr));
      if (aggs.includes('max')) entry.max = aggNumber(Math.max(...arr));
      if (aggs.includes('avg')) entry.avg = aggNumber(sum / arr.length);
      if (aggs.includes('sum')) entry.sum = aggNumber(sum);
      // skew: how far the busiest subtask is above the average, % of the average (0 when the average is 0)
      if (aggs.includes('skew')) {
        const avg = sum / arr.length;
        entry.skew = aggNumber(avg === 0 ? 0 : Math.round(((Math.max(...arr) - avg) / avg) * 100));
      }
      out.push(entry);
    }
    return { status: 200, body: out };
  });
}

/** Job-scope metrics (GET /jobs/{id}/metrics): plain values as strings, like every metric-store value. */
function jobMetricValues(m: FlinkModel, j: EmuJob): Record<string, string> {
  const now = m.clock.now();
  const completed = j.checkpoints.filter((c) => c.status === 'COMPLETED');
  const last = completed[completed.length - 1];
  const inState = (s: JobStatus) => (j.state === s && j.timestamps[s] ? now - j.timestamps[s]! : 0);
  const uptime = j.state === 'RUNNING' && j.runningSince ? now - j.runningSince : 0;
  return {
    uptime: String(uptime),
    downtime: '0',
    numRestarts: String(j.attempt),
    fullRestarts: String(j.attempt),
    runningTime: String(uptime),
    restartingTime: String(inState('RESTARTING')),
    cancellingTime: String(inState('CANCELLING')),
    failingTime: String(inState('FAILING')),
    initializingTime: String(inState('INITIALIZING')),
    createdTime: String(inState('CREATED')),
    deployingTime: '0',
    totalNumberOfCheckpoints: String(j.checkpoints.length),
    numberOfCompletedCheckpoints: String(completed.length),
    numberOfFailedCheckpoints: String(j.checkpoints.filter((c) => c.status === 'FAILED').length),
    numberOfInProgressCheckpoints: String(j.checkpoints.filter((c) => c.status === 'IN_PROGRESS').length),
    lastCompletedCheckpointId: String(last?.id ?? -1),
    lastCheckpointSize: String(last?.stateSize ?? -1),
    lastCheckpointFullSize: String(last?.stateSize ?? -1),
    lastCheckpointDuration: String(last ? last.ackAt! - last.triggeredAt : -1),
    lastCheckpointProcessedData: String(last ? 0 : -1),
    lastCheckpointPersistedData: String(last ? 0 : -1),
    lastCheckpointExternalPath: last?.externalPath ?? 'n/a',
    lastCheckpointRestoreTimestamp: String(j.restoredFrom?.at ?? -1),
    ...(m.profile.flink2Wire
      ? { numRescales: '0', lastCheckpointMetadataSize: String(last ? 4096 : -1), lastCheckpointCompletedTimestamp: String(last?.ackAt ?? -1) }
      : {}),
  };
}

function parseSubtasks(s: string | null): Set<number> | undefined {
  if (!s) return undefined;
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${part}' for parameter subtasks.`]);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}
