/**
 * SimulatedCapacityTarget: the local world's "ASG" over the emulator model, described through the real client.
 */
import { FlinkRestClient } from '../../functions/adapters/flink/client';
import { Emulator, SimulatedCapacityTarget, startEmulator } from '../../local/emulator';

let emu: Emulator;
afterEach(async () => emu?.close());

async function setup(opts: { tms?: number; max?: number } = {}) {
  emu = await startEmulator({ taskManagers: opts.tms ?? 2, slotsPerTaskManager: 2 });
  const target = new SimulatedCapacityTarget(emu.model, { bootDelayMs: 30_000, max: opts.max ?? 10 });
  const api = new FlinkRestClient({ baseUrl: emu.url, timeoutMs: 2000, retryDelayMs: 1 });
  const describe = async () => target.describe(await api.taskManagers());
  return { target, api, describe, tms: () => api.taskManagers(), m: emu.model };
}

test('adopts running TaskManagers and maps each member to its TaskManager by host', async () => {
  const { describe, m } = await setup();
  const d = await describe();
  expect(d).toMatchObject({ kind: 'asg', desired: 2, min: 0, max: 10, unmappedMembers: [], unmappedTaskManagers: [], notes: [] });
  expect(d.members.map((x) => x.taskManagerId)).toEqual(m.taskManagers.map((t) => t.id));
  expect(d.members.every((x) => x.idle === true && x.state === 'InService' && x.id.startsWith('i-'))).toBe(true);
});

test('scale out: new members boot, then their TaskManagers register and a waiting job takes the slots', async () => {
  const { target, describe, api, m } = await setup();
  const job = m.startJob({ name: 'orders', parallelism: 6 });
  emu.clock.advance(5000);
  expect(job.state).toBe('CREATED'); // 4 slots, needs 6
  const r = await target.setDesired(3);
  expect(r).toMatchObject({ previous: 2, desired: 3, changed: true, dryRun: false });
  expect(r.actions).toEqual(['set desired 2 → 3', expect.stringMatching(/^launched member i-[0-9a-f]+ \(10\.1\.0\.\d+\)/)]);
  let d = await describe();
  expect(d.members.map((x) => x.state)).toEqual(['InService', 'InService', 'Pending']);
  expect(d.unmappedMembers).toEqual([d.members[2].id]);
  emu.clock.advance(29_000);
  expect((await api.overview()).taskManagers).toBe(2);
  emu.clock.advance(1000);
  d = await describe();
  expect(d.members[2]).toMatchObject({ state: 'InService', idle: expect.any(Boolean), taskManagerId: expect.any(String) });
  emu.clock.advance(5000);
  expect(job.state).toBe('RUNNING');
  expect((await target.setDesired(3)).changed).toBe(false);
});

test('clamping to the target max; below what running jobs need is refused and nothing changes', async () => {
  const { target } = await setup({ max: 4 });
  expect(await target.setDesired(9)).toMatchObject({ previous: 2, desired: 4, changed: true, clampedBy: "requested 9 is above the target's maximum (4)" });
  await expect(target.setDesired(1, { minRequired: 3 })).rejects.toMatchObject({ name: 'CapacityTargetError', code: 'BELOW_REQUIRED' });
  expect(target.desiredCount).toBe(4);
  await expect(target.setDesired(-1)).rejects.toThrow('count must be an integer from 0 to 100000');
});

test('dry run: decides and reports, changes nothing', async () => {
  emu = await startEmulator({ taskManagers: 2 });
  const target = new SimulatedCapacityTarget(emu.model, { dryRun: true });
  const r = await target.setDesired(5);
  expect(r).toMatchObject({ previous: 2, desired: 5, changed: true, dryRun: true, actions: ['would set desired 2 → 5'] });
  emu.clock.advance(60_000);
  expect(emu.model.taskManagers).toHaveLength(2);
  expect(target.desiredCount).toBe(2);
});

test('scale in never removes busy members; release removes exactly the named idle ones', async () => {
  const { target, describe, api, m, tms } = await setup({ tms: 3 });
  const job = m.startJob({ name: 'orders', parallelism: 2 }); // packs onto the first TaskManager
  emu.clock.advance(5000);
  let d = await describe();
  expect(d.members.map((x) => x.idle)).toEqual([false, true, true]);
  const p = await target.protectBusy(await tms());
  expect(p).toMatchObject({ protected: [d.members[0].id], unprotected: [], untouched: [] });
  expect((await target.protectBusy(await tms())).protected).toEqual([]); // idempotent
  d = await describe();
  expect(d.members.map((x) => x.protected)).toEqual([true, false, false]);

  await target.setDesired(0);
  d = await describe();
  expect(d.members).toHaveLength(1); // the busy (protected) member stays; the idle ones went
  expect(job.state).toBe('RUNNING');
  expect((await api.taskManagers()).length).toBe(1);

  await target.setDesired(3);
  emu.clock.advance(30_000);
  d = await describe();
  const idle = d.members.filter((x) => x.idle).map((x) => x.id);
  expect(idle).toHaveLength(2);
  const busyId = d.members.find((x) => x.idle === false)!.id;
  const refused = await target.release([busyId], await tms());
  expect(refused).toMatchObject({ released: [], skipped: [{ id: busyId, code: 'busy' }], desired: 3 });
  expect((await describe()).members).toHaveLength(3); // nothing released
  const r = await target.release([idle[1], 'i-unknown'], await tms());
  expect(r).toMatchObject({ released: [idle[1]], selected: [idle[1]], previous: 3, desired: 2, skipped: [{ id: 'i-unknown', code: 'not-found' }] });
  d = await describe();
  expect(d.members.map((x) => x.id)).toEqual([busyId, idle[0]]);
  expect((await api.taskManagers()).length).toBe(2); // its TaskManager deregistered cleanly (graceful stop)
});

test('a dead member is noticed after the heartbeat timeout and replaced', async () => {
  const { target, describe, api } = await setup();
  const d0 = await describe();
  target.killMember(d0.members[1].id);
  emu.clock.advance(49_000);
  expect((await api.taskManagers()).length).toBe(2);
  emu.clock.advance(2000);
  const d1 = await describe();
  expect(d1.members.map((x) => x.state)).toEqual(['InService', 'Pending']);
  emu.clock.advance(30_000);
  expect((await api.taskManagers()).length).toBe(2);
  expect((await describe()).desired).toBe(2);
});
