/** TaskManagerInfo builders for capacity-target tests. */
import type { TaskManagerInfo } from '../../functions/adapters/flink/types';

/** A TaskManager on `host` with `slots` slots of which `busy` are in use. */
export function tm(id: string, host: string, slots: number, busy: number): TaskManagerInfo {
  return {
    id,
    host,
    path: `pekko.tcp://flink@${host}:6122/user/rpc/taskmanager_0`,
    slotsNumber: slots,
    freeSlots: slots - busy,
    lastHeartbeat: 1_700_000_000_000,
  };
}
