/** Cluster-wide routes: the dashboard config (§3.2), the overview (§3.1) and the JobManager's configuration (§3.6). */
import type { JobStatus } from '../../../functions/adapters/flink/types';
import { isTerminal } from '../../../functions/adapters/flink/wire';
import type { RouteContext } from './http';

export function clusterRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // §3.2
  on('GET', '/config', () => ({
    status: 200,
    body: {
      'refresh-interval': 3000,
      'timezone-name': 'Coordinated Universal Time',
      'timezone-offset': 0,
      'flink-version': p.version,
      'flink-revision': `${p.commit} @ 2024-01-01T00:00:00+01:00`,
      features: { 'web-submit': true, 'web-cancel': true, ...(p.webRescaleFlag ? { 'web-rescale': false } : {}), 'web-history': false },
    },
  }));

  // §3.1: taskmanagers-blocked / slots-free-and-blocked are omitted when 0 (NON_DEFAULT).
  on('GET', '/overview', () => {
    const tms = m.taskManagers;
    const count = (states: JobStatus[]) => m.jobs.filter((j) => states.includes(j.state)).length;
    return {
      status: 200,
      body: {
        taskmanagers: tms.length,
        'slots-total': tms.reduce((a, t) => a + t.slots.length, 0),
        'slots-available': tms.reduce((a, t) => a + m.freeSlots(t), 0),
        'jobs-running': m.jobs.filter((j) => !isTerminal(j.state)).length,
        'jobs-finished': count(['FINISHED']),
        'jobs-cancelled': count(['CANCELED']),
        'jobs-failed': count(['FAILED']),
        'flink-version': p.version,
        'flink-commit': p.commit,
      },
    };
  });

  // §3.6
  const clusterConfig = () => {
    const entries: Record<string, string> = {
      'jobmanager.rpc.address': 'localhost',
      'rest.port': ctx.url().split(':').pop() ?? '8081',
      'taskmanager.numberOfTaskSlots': String(m.slotsPerTaskManager),
      'parallelism.default': String(m.defaultParallelism),
      'heartbeat.timeout': String(m.timings.heartbeatTimeoutMs),
      'slot.idle.timeout': String(m.timings.slotIdleTimeoutMs),
      'jobmanager.scheduler': m.scheduler === 'default' ? 'default' : 'adaptive',
    };
    if (m.scheduler === 'reactive') entries['scheduler-mode'] = 'reactive';
    if (m.savepointDir) entries['state.savepoints.dir'] = m.savepointDir;
    return Object.entries(entries).map(([key, value]) => ({ key, value }));
  };
  on('GET', '/jobmanager/config', () => ({ status: 200, body: clusterConfig() }));
  on(
    'GET',
    '/jobs/{id}/jobmanager/config',
    ({ params }) => {
      const job = ctx.job(params[0]);
      const extra = Object.entries(job.flinkConfiguration ?? {}).map(([key, value]) => ({ key, value }));
      return { status: 200, body: [...clusterConfig().filter((e) => !(job.flinkConfiguration ?? {})[e.key]), ...extra] };
    },
    () => p.features.jobJobManagerConfig,
  );
}

