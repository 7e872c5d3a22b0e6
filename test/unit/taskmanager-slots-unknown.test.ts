/**
 * A TaskManager whose answer has no (valid) slot counts (issue 17, defect 3): its slots are unknown, and an unknown
 * TaskManager is never idle, never released, and kept protected, both as the Flink client reads it from the wire
 * and as the capacity targets map it to members.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import type { TaskManagerInfo } from '../../functions/adapters/flink/types';
import { isIdle, mapMembers } from '../../functions/adapters/targets/common';
import { AsgCapacityTarget } from '../../functions/adapters/targets';
import { drainStateOf } from '../../functions/adapters/targets/lifecycle-hook';
import { useMoto } from '../support/moto';
import { createGroup, groupState } from '../support/moto-asg';
import { tm } from '../support/task-managers';

const moto = useMoto();

const ID = 'i-000000a1';

let server: Server;
let body: unknown;
let url: string;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const entry = (extra: Record<string, unknown>) => ({ id: ID, path: 'pekko.tcp://flink@10.0.0.1:6122/user/rpc/taskmanager_0', timeSinceLastHeartbeat: 1, ...extra });

describe('the Flink client reads missing or malformed slot counts as unknown', () => {
  const api = () => new FlinkRestClient({ baseUrl: url, timeoutMs: 2000, retries: 0, version: '1.19' });
  test.each([
    ['no slot fields', {}],
    ['only freeSlots', { freeSlots: 0 }],
    ['null counts', { slotsNumber: null, freeSlots: null }],
    ['string counts', { slotsNumber: '4', freeSlots: '4' }],
    ['negative counts', { slotsNumber: -1, freeSlots: -1 }],
    ['fractional counts', { slotsNumber: 2.5, freeSlots: 2.5 }],
    ['more free than total', { slotsNumber: 2, freeSlots: 3 }],
  ])('%s: no slot counts, and not idle', async (_what, extra) => {
    body = { taskmanagers: [entry(extra)] };
    const [t] = await api().taskManagers();
    expect(t.id).toBe(ID);
    expect(t.slotsNumber).toBeUndefined();
    expect(t.freeSlots).toBeUndefined();
    expect(isIdle(t)).toBe(false);
  });

  test('valid counts still read as they are: 4 of 4 free is idle, 3 of 4 free is not', async () => {
    body = { taskmanagers: [entry({ slotsNumber: 4, freeSlots: 4 }), { ...entry({ slotsNumber: 4, freeSlots: 3 }), id: 'b' }] };
    const [a, b] = await api().taskManagers();
    expect(a).toMatchObject({ slotsNumber: 4, freeSlots: 4 });
    expect(isIdle(a)).toBe(true);
    expect(isIdle(b)).toBe(false);
  });
});

describe('capacity targets never take an unknown TaskManager for idle', () => {
  const unknown: TaskManagerInfo = { id: ID, host: '10.0.0.1', path: '', lastHeartbeat: 1 };
  const raw = [{ id: ID, state: 'InService', addresses: ['10.0.0.1'] }];

  test('isIdle: 0 of 0 free (the old reading of a bare answer) is not idle, nor NaN', () => {
    expect(isIdle(unknown)).toBe(false);
    expect(isIdle({ ...unknown, slotsNumber: Number.NaN, freeSlots: Number.NaN })).toBe(false);
    expect(isIdle(tm(ID, 'h', 0, 0))).toBe(true); // a TaskManager with no slots at all holds none
  });

  test('mapMembers: the member is mapped, not idle, with no slot count, and a note says why', () => {
    const d = mapMembers(raw, [unknown]);
    expect(d.members[0]).toMatchObject({ taskManagerId: ID, idle: false });
    expect(d.members[0].busySlots).toBeUndefined();
    expect(d.notes.join('\n')).toMatch(/no valid slot counts: treated as busy/);
  });

  test('the lifecycle hook calls its drain state unknown, not idle', () => {
    const d = { kind: 'asg' as const, name: 'g', desired: 1, min: 0, max: 2, ...mapMembers(raw, [unknown]) };
    expect(drainStateOf(ID, d, [unknown])).toMatchObject({ state: 'unknown' });
  });

  test('an ASG release named on it terminates nothing; protectBusy protects it like a busy member (Auto Scaling on moto)', async () => {
    const asg = new AutoScalingClient(moto.config);
    const [a, b] = await createGroup(asg, 'g', { desired: 2 });
    const target = new AsgCapacityTarget({ autoScalingGroupName: 'g', bounds: { minTaskManagers: 0, maxTaskManagers: 4 }, client: asg });
    const tms = [{ ...unknown, id: a, host: a }, tm(b, b, 2, 0)];
    const r = await target.release([a], tms);
    expect(r.released).toEqual([]);
    expect(r.skipped).toEqual([{ id: a, code: 'busy', reason: expect.stringMatching(/slot counts are unknown/) }]);
    await target.protectBusy(tms);
    expect(await groupState(asg, 'g')).toEqual({ desired: 2, instances: [[a, true], [b, false]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))) });
  });
});
