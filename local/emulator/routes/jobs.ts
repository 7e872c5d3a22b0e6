/**
 * Job routes: overview and list (§3.3), details (§3.4), vertex detail, config, cancel (§5.1), resource requirements
 * (§5.4), the disabled rescaling endpoints (§5.5).
 */
import { isTerminal, JOB_STATES } from '../../../functions/adapters/flink/wire';
import { EmuJob, FlinkModel, hex32 } from '../model';
import { badFormat, HttpError, RouteContext } from './http';

export function jobRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // §3.3
  on('GET', '/jobs/overview', () => ({ status: 200, body: { jobs: m.jobs.map((j) => jobOverview(m, j)) } }));
  on('GET', '/jobs', () => ({ status: 200, body: { jobs: m.jobs.map((j) => ({ id: j.id, status: j.state })) } }));
  // §3.4
  on('GET', '/jobs/{id}', ({ params }) => ({ status: 200, body: jobDetails(m, ctx.job(params[0])) }));
  on('GET', '/jobs/{id}/status', ({ params }) => ({ status: 200, body: { status: ctx.job(params[0]).state } }), () => p.features.jobStatusEndpoint);

  // Vertex detail and job config (job metrics: metrics.ts): seen on real 1.20.5 / 2.3.0 (test/flink/emulator-diff.test.ts).
  on('GET', '/jobs/{id}/vertices/{vid}', ({ params }) => ({ status: 200, body: vertexDetail(m, ctx.job(params[0]), params[1]) }));
  on('GET', '/jobs/{id}/config', ({ params }) => {
    const j = ctx.job(params[0]);
    return {
      status: 200,
      body: {
        jid: j.id,
        name: j.name,
        'execution-config': {
          ...(p.flink2Wire ? {} : { 'execution-mode': 'PIPELINED' }),
          'restart-strategy': 'Cluster level default restart strategy',
          'job-parallelism': Math.max(...j.configured, 1),
          'object-reuse-mode': false,
          'user-config': {},
        },
      },
    };
  });

  // §5.1: PATCH /jobs/{id}?mode=cancel; mode=stop → 308.
  on('PATCH', '/jobs/{id}', ({ params, query }) => {
    const mode = (query.get('mode') ?? 'cancel').toLowerCase();
    if (mode === 'stop') {
      throw new HttpError(308, [
        'The termination mode "stop" has been removed. For an ungraceful shutdown, please use "cancel" instead. For a graceful shutdown, please use "jobs/:jobId/stop" instead.',
      ]);
    }
    if (mode !== 'cancel') throw new HttpError(400, [`Bad request, could not parse parameters: Invalid value '${query.get('mode')}' for parameter mode.`]);
    const job = ctx.job(params[0]);
    m.cancel(job.id);
    return { status: 202, body: {} };
  });

  // §5.4 (Flink >= 1.18)
  on(
    'GET',
    '/jobs/{id}/resource-requirements',
    ({ params }) => ({ status: 200, body: m.getRequirements(ctx.job(params[0]).id) }),
    () => p.features.resourceRequirements,
  );
  on(
    'PUT',
    '/jobs/{id}/resource-requirements',
    ({ params, body }) => {
      const job = ctx.job(params[0]);
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) throw badFormat('JobResourceRequirementsBody');
      for (const v of Object.values((body ?? {}) as Record<string, unknown>)) {
        const ok =
          typeof v === 'object' &&
          v !== null &&
          Object.keys(v).every((k) => k === 'parallelism') &&
          typeof (v as { parallelism?: unknown }).parallelism === 'object' &&
          Object.keys((v as { parallelism: object }).parallelism ?? {}).every((k) => k === 'lowerBound' || k === 'upperBound');
        if (!ok) throw badFormat('JobResourceRequirementsBody');
      }
      m.putRequirements(job.id, body ?? {});
      return { status: 200, body: {} };
    },
    () => p.features.resourceRequirements,
  );

  // §5.5: the legacy rescaling endpoints are listed but disabled → 503.
  const rescaleDisabled = () => {
    throw new HttpError(503, ['Rescaling is temporarily disabled. See FLINK-12312.']);
  };
  on('PATCH', '/jobs/{id}/rescaling', rescaleDisabled);
  on('GET', '/jobs/{id}/rescaling/{trigger}', rescaleDisabled);
}

function jobTasks(m: FlinkModel, job: EmuJob): Record<string, number> {
  const counts = m.taskStateCounts(job);
  const lower: Record<string, number> = { total: job.vertices.reduce((a, v) => a + Math.max(v.parallelism, 1), 0) };
  for (const [k, v] of Object.entries(counts)) lower[k.toLowerCase()] = v;
  return lower;
}

function jobOverview(m: FlinkModel, j: EmuJob): Record<string, unknown> {
  const now = m.clock.now();
  return {
    jid: j.id,
    name: j.name,
    'start-time': j.startTime,
    'end-time': j.endTime,
    duration: (j.endTime === -1 ? now : j.endTime) - j.startTime,
    state: j.state,
    'last-modification': j.lastModification,
    tasks: jobTasks(m, j),
    ...(m.profile.flink2Wire ? { jobType: 'STREAMING', schedulerType: schedulerType(m), 'pending-operators': 0 } : {}),
  };
}

/** Flink 2.x's schedulerType (JobManagerOptions.SchedulerType). */
function schedulerType(m: FlinkModel): string {
  return m.scheduler === 'default' ? 'Default' : 'Adaptive';
}

function jobDetails(m: FlinkModel, j: EmuJob): Record<string, unknown> {
  const now = m.clock.now();
  const timestamps: Record<string, number> = {};
  for (const s of JOB_STATES) {
    timestamps[s] = j.timestamps[s] ?? 0;
  }
  const vertexStatus = j.taskState;
  const vertices = j.vertices.map((v) => {
    const tasks: Record<string, number> = {};
    for (const s of ['CREATED', 'SCHEDULED', 'DEPLOYING', 'RUNNING', 'FINISHED', 'CANCELING', 'CANCELED', 'FAILED', 'RECONCILING', 'INITIALIZING']) tasks[s] = 0;
    tasks[vertexStatus] = Math.max(v.parallelism, 1);
    return {
      id: v.id,
      ...(m.profile.observedWire ? { slotSharingGroupId: hex32(`${j.id}/slot-sharing-group`) } : {}),
      name: v.name,
      maxParallelism: v.maxParallelism,
      parallelism: v.parallelism,
      status: vertexStatus,
      'start-time': j.runningSince ?? -1,
      'end-time': isTerminal(j.state) ? j.endTime : -1,
      duration: j.runningSince ? (isTerminal(j.state) ? j.endTime : now) - j.runningSince : -1,
      tasks,
      metrics: {
        'read-bytes': Math.round(v.totals.recordsIn * 100),
        'read-bytes-complete': true,
        'write-bytes': Math.round(v.totals.recordsOut * 100),
        'write-bytes-complete': true,
        'read-records': Math.round(v.totals.recordsIn),
        'read-records-complete': true,
        'write-records': Math.round(v.totals.recordsOut),
        'write-records-complete': true,
        'accumulated-backpressured-time': Math.round(v.totals.backPressuredMs),
        'accumulated-idle-time': Math.round(v.totals.idleMs),
        'accumulated-busy-time': v.totals.busyMs,
      },
    };
  });
  const [src, keyed, sink] = j.vertices;
  const node = (v: typeof src, inputs: { id: string; strategy: string }[]) => ({
    id: v.id,
    parallelism: v.parallelism,
    operator: '',
    operator_strategy: '',
    description: v.name.replace(/ -> /g, '<br/>+- '),
    ...(inputs.length
      ? { inputs: inputs.map((x, num) => ({ num, id: x.id, ship_strategy: x.strategy, exchange: 'pipelined_bounded' })) }
      : {}),
    optimizer_properties: {},
  });
  return {
    jid: j.id,
    name: j.name,
    isStoppable: false,
    state: j.state,
    ...(m.profile.observedWire ? { 'job-type': 'STREAMING' } : {}),
    ...(m.profile.flink2Wire ? { 'application-id': j.id, schedulerType: schedulerType(m), 'pending-operators': 0 } : {}),
    'start-time': j.startTime,
    'end-time': j.endTime,
    duration: (j.endTime === -1 ? now : j.endTime) - j.startTime,
    maxParallelism: j.program.maxParallelism,
    now,
    timestamps,
    vertices,
    'status-counts': m.taskStateCounts(j),
    plan: {
      jid: j.id,
      name: j.name,
      type: 'STREAMING',
      nodes: [node(src, []), node(keyed, [{ id: src.id, strategy: 'HASH' }]), node(sink, [{ id: keyed.id, strategy: 'REBALANCE' }])],
    },
  };
}

/** GET /jobs/{id}/vertices/{vid}: one entry per subtask (slot sharing: subtask i of every vertex in slot i). */
function vertexDetail(m: FlinkModel, j: EmuJob, vid: string): Record<string, unknown> {
  const v = j.vertices.find((x) => x.id === vid);
  if (!v) throw new HttpError(404, [`No vertex with ID '${vid}' exists.`]);
  const now = m.clock.now();
  const n = Math.max(v.parallelism, 1);
  const running = j.runningSince ?? -1;
  const end = isTerminal(j.state) ? j.endTime : -1;
  const per = (x: number) => Math.round(x / n);
  const metrics = {
    'read-bytes': per(v.totals.recordsIn * 100),
    'read-bytes-complete': true,
    'write-bytes': per(v.totals.recordsOut * 100),
    'write-bytes-complete': true,
    'read-records': per(v.totals.recordsIn),
    'read-records-complete': true,
    'write-records': per(v.totals.recordsOut),
    'write-records-complete': true,
    'accumulated-backpressured-time': per(v.totals.backPressuredMs),
    'accumulated-idle-time': per(v.totals.idleMs),
    'accumulated-busy-time': per(v.totals.busyMs),
  };
  const statusDuration: Record<string, number> = {
    CREATED: 10,
    SCHEDULED: 10,
    DEPLOYING: m.timings.deployMs,
    INITIALIZING: m.timings.initMs,
    RUNNING: running === -1 ? 0 : (end === -1 ? now : end) - running,
  };
  const subtasks = Array.from({ length: n }, (_, i) => {
    const tm = j.slots[i]?.tm;
    const host = tm?.host ?? '(unassigned)';
    return {
      subtask: i,
      status: j.taskState,
      attempt: j.attempt,
      // `host` was removed in Flink 2.0 (the endpoint carries it)
      ...(m.profile.flink2Wire ? {} : { host }),
      endpoint: tm ? `${host}:${tm.dataPort}` : '(unassigned)',
      'start-time': running,
      'end-time': end,
      duration: running === -1 ? -1 : (end === -1 ? now : end) - running,
      metrics,
      'taskmanager-id': tm?.id ?? '(unassigned)',
      'status-duration': statusDuration,
      start_time: running,
    };
  });
  const stats = (x: number) => ({ min: x, max: x, avg: x, sum: x * n, median: x, p25: x, p75: x, p95: x });
  const numeric = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === 'number').map(([k, x]) => [k, stats(x as number)]));
  return {
    id: v.id,
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: v.maxParallelism,
    now,
    subtasks,
    aggregated: { metrics: numeric(metrics), 'status-duration': numeric(statusDuration) },
  };
}
