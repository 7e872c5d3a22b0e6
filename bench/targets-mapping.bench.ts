/**
 * Capacity targets: time to map target members (instances/pods) to Flink TaskManagers, and to plan a release, as the
 * cluster grows. Runs on every describe/protect/release call, so it must stay far below the API round trips (~50 ms).
 */
import type { TaskManagerInfo } from '../functions/adapters/flink/types';
import { mapMembers, planRelease, type RawMember } from '../functions/adapters/targets/common';

function cluster(n: number): { raw: RawMember[]; tms: TaskManagerInfo[] } {
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const raw = Array.from({ length: n }, (_, i) => ({
    id: `i-${i.toString(16).padStart(17, '0')}`,
    state: 'InService',
    addresses: [ip(i), `ip-${ip(i).replace(/\./g, '-')}.eu-west-1.compute.internal`],
  }));
  // Mixed: half the TMs report the IP, half the private DNS name; every tenth is busy.
  const tms = raw.map((m, i) => ({
    id: `${ip(i)}:6122-${i.toString(16)}`,
    host: i % 2 ? m.addresses[0] : m.addresses[1],
    path: '',
    slotsNumber: 4,
    freeSlots: i % 10 === 0 ? 1 : 4,
    lastHeartbeat: 0,
  }));
  return { raw, tms };
}

function time(fn: () => void, minMs = 200): number {
  let runs = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs || runs < 3) {
    fn();
    runs++;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return elapsed / runs;
}

export async function run(): Promise<void> {
  const rows: string[][] = [];
  for (const n of [10, 100, 1000, 5000]) {
    const { raw, tms } = cluster(n);
    let mapped = 0;
    const mapMs = time(() => {
      mapped = mapMembers(raw, tms).members.filter((m) => m.taskManagerId).length;
    });
    const d = { kind: 'asg' as const, name: 'bench', desired: n, min: 0, max: n, ...mapMembers(raw, tms) };
    const ids = d.members.filter((m) => m.idle).slice(0, Math.ceil(n / 2)).map((m) => m.id);
    const planMs = time(() => planRelease(d, ids, { bounds: { minTaskManagers: 1, maxTaskManagers: n }, inService: () => true }));
    const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
    rows.push([String(n), `${mapped}/${n}`, mapMs.toFixed(3), planMs.toFixed(3), heapMb.toFixed(1)]);
  }
  const head = ['members', 'mapped', 'mapMembers ms', 'planRelease ms (n/2 ids)', 'heap MB'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padStart(w[i])).join(' | ') + ' |';
  process.stdout.write([line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n') + '\n');
}
