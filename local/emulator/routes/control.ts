/**
 * Non-Flink endpoints under /emulator/ to drive the model from outside (documented in docs/emulator.md): advance
 * the clock, add or remove TaskManagers, set input rates, inject faults, and a compact view of the state.
 */
import type { FlinkModel } from '../model';
import type { RouteContext } from './http';

export function controlRoutes(ctx: RouteContext): void {
  const { model: m, on } = ctx;
  const num = (v: string | null, what: string) => {
    const n = Number(v);
    if (v === null || !Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number >= 0`);
    return n;
  };
  on('GET', '/emulator/state', () => ({ status: 200, body: emulatorState(m) }));
  on('POST', '/emulator/advance', ({ query }) => {
    m.clock.advance(num(query.get('ms'), 'ms'));
    return { status: 200, body: { now: m.clock.now(), elapsedMs: m.clock.elapsed() } };
  });
  on('POST', '/emulator/taskmanagers', ({ query }) => {
    const n = query.get('count') === null ? 1 : num(query.get('count'), 'count');
    const added = Array.from({ length: n }, () => m.addTaskManager().id);
    return { status: 200, body: { added } };
  });
  on('DELETE', '/emulator/taskmanagers/{id}', ({ params, query }) => {
    const mode = query.get('mode') ?? 'stop';
    if (mode === 'kill') m.killTaskManager(params[0]);
    else if (mode === 'stop') m.stopTaskManager(params[0]);
    else throw new Error('mode must be "stop" (graceful) or "kill" (heartbeat timeout)');
    return { status: 200, body: { id: params[0], mode } };
  });
  on('PUT', '/emulator/streams/{name}/rate', ({ params, query }) => {
    m.setInputRate(params[0], num(query.get('recordsPerSecond'), 'recordsPerSecond'));
    return { status: 200, body: { stream: params[0], recordsPerSecond: Number(query.get('recordsPerSecond')) } };
  });
  on('POST', '/emulator/faults', ({ query }) => {
    const f = m.faults;
    const n = query.get('count') === null ? 1 : num(query.get('count'), 'count');
    const kind = query.get('kind');
    if (kind === 'savepoint') f.failNextSavepoints(n);
    else if (kind === 'cancel') f.failNextCancels(n);
    else if (kind === 'run') f.failNextRuns(n);
    else if (kind === 'unavailable') f.unavailableFor(n);
    else if (kind === 'slow') f.slowResponses(num(query.get('ms'), 'ms'), n);
    else throw new Error('kind must be one of savepoint, cancel, run, unavailable, slow');
    return { status: 200, body: { kind, count: n } };
  });
}

/** A compact view of the model, for people (GET /emulator/state). */
export function emulatorState(m: FlinkModel): unknown {
  return {
    now: m.clock.now(),
    elapsedMs: m.clock.elapsed(),
    flinkVersion: m.profile.version,
    scheduler: m.scheduler,
    taskManagers: m.taskManagers.map((t) => ({ id: t.id, host: t.host, slots: t.slots.length, freeSlots: m.freeSlots(t), dead: t.dead, cpuLoad: m.cpuLoad(t.id) })),
    jobs: m.jobs.map((j) => ({
      id: j.id,
      name: j.name,
      state: j.state,
      parallelism: j.vertices.map((v) => v.parallelism),
      backlog: m.stream(j.stream).produced - j.app.offset,
      processed: j.app.count,
      offset: j.app.offset,
    })),
    streams: [...m.streams.values()].map((s) => ({ name: s.name, produced: s.produced })),
  };
}
