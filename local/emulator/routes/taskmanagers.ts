/** TaskManager routes (§3.7): the list, one TaskManager's detail, and its metrics. */
import type { EmuTaskManager, FlinkModel } from '../model';
import { javaDouble, metricList, RouteContext } from './http';

export function taskManagerRoutes(ctx: RouteContext): void {
  const { model: m, profile: p, on } = ctx;
  // §3.7
  on('GET', '/taskmanagers', () => ({ status: 200, body: { taskmanagers: m.taskManagers.map((t) => tmInfo(m, t)) } }));
  on('GET', '/taskmanagers/{id}', ({ params }) => {
    const t = m.requireTaskManager(params[0]);
    const allocated = t.slots
      .filter((s) => s.jobId !== null)
      .map((s) => ({ jobId: s.jobId, resource: slotResource(), ...(p.flink2Wire ? { assignedTasks: assignedTasks(m, t, s) } : {}) }));
    return {
      status: 200,
      body: {
        ...tmInfo(m, t),
        allocatedSlots: allocated,
        metrics: {
          heapUsed: 300_000_000,
          heapCommitted: 500_000_000,
          heapMax: 1_000_000_000,
          nonHeapUsed: 80_000_000,
          nonHeapCommitted: 90_000_000,
          nonHeapMax: -1,
          directCount: 10,
          directUsed: 10_000_000,
          directMax: 10_000_000,
          mappedCount: 0,
          mappedUsed: 0,
          mappedMax: 0,
          ...(p.flink2Wire ? {} : { memorySegmentsAvailable: 4096, memorySegmentsTotal: 4096 }),
          nettyShuffleMemorySegmentsAvailable: 4096,
          nettyShuffleMemorySegmentsUsed: 0,
          nettyShuffleMemorySegmentsTotal: 4096,
          nettyShuffleMemoryAvailable: 134_217_728,
          nettyShuffleMemoryUsed: 0,
          nettyShuffleMemoryTotal: 134_217_728,
          garbageCollectors: [{ name: 'G1_Young_Generation', count: 10, time: 120 }],
        },
      },
    };
  });
  on('GET', '/taskmanagers/{id}/metrics', ({ params, query }) => {
    const t = m.requireTaskManager(params[0]);
    const values: Record<string, string> = {
      'Status.JVM.CPU.Load': javaDouble(m.cpuLoad(t.id)),
      'Status.JVM.CPU.Time': String(Math.round((m.clock.now() - t.registeredAt) * 1e6 * m.cpuLoad(t.id))),
      'Status.JVM.Memory.Heap.Used': '300000000',
      'Status.JVM.Memory.Heap.Max': '1000000000',
    };
    return { status: 200, body: metricList(values, query) };
  });
}

function slotResource() {
  return { cpuCores: 1.0, taskHeapMemory: 256, taskOffHeapMemory: 0, managedMemory: 256, networkMemory: 64, extendedResources: {} };
}

function tmInfo(m: FlinkModel, t: EmuTaskManager): Record<string, unknown> {
  const n = t.slots.length;
  const free = m.freeSlots(t);
  const res = (k: number) => ({ cpuCores: k, taskHeapMemory: 256 * k, taskOffHeapMemory: 0, managedMemory: 256 * k, networkMemory: 64 * k, extendedResources: {} });
  return {
    id: t.id,
    path: `${m.profile.rpcScheme}://flink@${t.host}:6122/user/rpc/taskmanager_0`,
    dataPort: t.dataPort,
    jmxPort: -1,
    timeSinceLastHeartbeat: m.lastHeartbeat(t),
    slotsNumber: n,
    freeSlots: free,
    totalResource: res(n),
    freeResource: res(free),
    hardware: { cpuCores: t.cpuCores, physicalMemory: 8_589_934_592, freeMemory: 1_073_741_824, managedMemory: 268_435_456 * n },
    memoryConfiguration: {
      frameworkHeap: 134_217_728,
      taskHeap: 268_435_456 * n,
      frameworkOffHeap: 134_217_728,
      taskOffHeap: 0,
      networkMemory: 67_108_864 * n,
      managedMemory: 268_435_456 * n,
      jvmMetaspace: 268_435_456,
      jvmOverhead: 201_326_592,
      totalFlinkMemory: 1_073_741_824 * n,
      totalProcessMemory: 1_610_612_736 * n,
    },
    ...(m.profile.features.blocklist && !m.profile.observedWire ? { blocked: false } : {}),
    ...(m.profile.flink2Wire ? { assignedTasks: assignedTasks(m, t) } : {}),
  };
}

/** Tasks in a TaskManager's slots (slot sharing: one task of every vertex of the job per slot). */
function assignedTasks(m: FlinkModel, t: EmuTaskManager, slot?: (typeof t.slots)[number]): number {
  const tasksOf = (jobId: string | null) => (jobId ? (m.jobs.find((j) => j.id === jobId)?.vertices.length ?? 0) : 0);
  return slot ? tasksOf(slot.jobId) : t.slots.reduce((a, s) => a + tasksOf(s.jobId), 0);
}
