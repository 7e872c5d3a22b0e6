/**
 * Re-evaluation ticks: EventBridge delivers an alarm only on a state change, so a per-job 1-minute tick
 * `{source: "reevaluate", job, time}` asks the scaler to decide again while one of the job's alarms stays in ALARM.
 * The scaler runs against the Flink emulator over loopback; the store is an in-memory ScalerStore.
 */
import type { Config } from '../../functions/core/config';
import { parseScalerEvent, ScalerEventError } from '../../functions/scaler/event';
import { handleScalerEvent } from '../../functions/scaler/scaler';
import { dayTypeOf } from '../../functions/core/policy/forecast';
import { startEmulator, type Emulator } from '../../local/emulator';
import { memoryScalerDeps, reactiveOrdersConfig } from '../support/memory-scaler-store';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ taskManagers: 2, slotsPerTaskManager: 2 });
  emu.model.startJob({ name: 'orders', parallelism: 2, inputRate: 1000 });
  emu.clock.advance(20_000);
});
afterAll(() => emu.close());


function deps(config: Config, alarms: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> | undefined) {
  const { deps: d, snapshots, store } = memoryScalerDeps(config, () => emu.clock.now(), alarms ? { alarmStates: async () => alarms } : {});
  return { d, snapshots, store };
}

const config = (): Config => reactiveOrdersConfig(emu.url);

const tick = (time: string, extra: Record<string, unknown> = {}) => ({ source: 'reevaluate', job: 'orders', time, ...extra });

test('a re-evaluation tick parses to a trigger at its scheduled second (a duplicate delivery carries the same time)', () => {
  expect(parseScalerEvent(tick('2026-01-01T00:05:42.731Z'))).toEqual({ kind: 'reevaluate', job: 'orders', at: Date.parse('2026-01-01T00:05:42Z'), requireAlarm: true });
  expect(parseScalerEvent(tick('2026-01-01T00:05:42.000+0000', { requireAlarm: false }))).toMatchObject({ requireAlarm: false });
});

test.each([
  ['no job', { source: 'reevaluate', time: '2026-01-01T00:00:00Z' }, 'job: must be a job name from the config'],
  ['bad time', tick('soon'), 'time: must be the time of the re-evaluation tick'],
  ['unknown field', tick('2026-01-01T00:00:00Z', { parallelism: 3 }), 'unknown field(s) "parallelism"; allowed: source, job, time, requireAlarm'],
  ['requireAlarm not boolean', tick('2026-01-01T00:00:00Z', { requireAlarm: 'yes' }), 'requireAlarm: must be true or false'],
])('a malformed tick (%s) is rejected naming the field', (_n, input, message) => {
  try {
    parseScalerEvent(input);
    throw new Error('expected a ScalerEventError');
  } catch (e) {
    expect(e).toBeInstanceOf(ScalerEventError);
    expect((e as ScalerEventError).problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n')).toContain(message);
  }
});

test('with no alarm of the job in ALARM, a tick is ignored without reading Flink or deciding', async () => {
  const { d, snapshots, store } = deps(config(), { 'FlinkElastic-orders-lag-high': 'OK', 'FlinkElastic-orders-cpu-low': 'INSUFFICIENT_DATA' });
  d.flink = async () => {
    throw new Error('Flink must not be read');
  };
  const r = await handleScalerEvent(tick('2026-01-01T00:05:00Z'), d);
  expect(r).toMatchObject({ job: 'orders', outcome: 'ignored', reason: 'no alarm of job orders is in ALARM; nothing to re-evaluate' });
  expect(snapshots).toHaveLength(0);
  expect(store.entries).toHaveLength(0);
});

test('while an alarm stays in ALARM, a tick decides again with every alarm state in the snapshot, once per tick', async () => {
  const { d, snapshots, store } = deps(config(), {
    'FlinkElastic-orders-lag-high': 'ALARM',
    'FlinkElastic-orders-lag-low': 'OK',
    'FlinkElastic-orders-cpu-high': 'OK',
    'FlinkElastic-orders-cpu-low': 'INSUFFICIENT_DATA',
  });
  const r = await handleScalerEvent(tick('2026-01-01T00:05:00Z'), d);
  expect(r).toMatchObject({ outcome: 'no-change', trigger: 'reevaluate:orders@2026-01-01T00:05:00.000Z' });
  expect(snapshots).toHaveLength(1);
  expect(snapshots[0].signals.alarms).toEqual({ lagHigh: true, lagLow: false, cpuHigh: false, cpuLow: false });
  // the same tick delivered again (EventBridge delivers at least once: the same scheduled time) acts once
  const again = await handleScalerEvent(tick('2026-01-01T00:05:00Z'), d);
  expect(again.outcome).toBe('duplicate');
  expect(snapshots).toHaveLength(1);
  // the next tick decides again (the stack's rule ticks every minute; `run --local` may tick faster)
  expect((await handleScalerEvent(tick('2026-01-01T00:06:00Z'), d)).outcome).toBe('no-change');
  expect(snapshots).toHaveLength(2);
  expect(store.entries.map((e) => e.detail.trigger)).toEqual(['reevaluate:orders@2026-01-01T00:05:00.000Z', 'reevaluate:orders@2026-01-01T00:06:00.000Z']);
});

test('requireAlarm: false decides whatever the alarms say (baselines with their own cadence)', async () => {
  const { d, snapshots } = deps(config(), { 'FlinkElastic-orders-lag-high': 'OK' });
  expect((await handleScalerEvent(tick('2026-01-01T00:07:00Z', { requireAlarm: false }), d)).outcome).toBe('no-change');
  expect(snapshots).toHaveLength(1);
});

test('a decision that started an execution stops counting as in progress once the execution recorded its outcome', async () => {
  const { d, snapshots, store } = deps(config(), { 'FlinkElastic-orders-lag-high': 'ALARM' });
  const at = emu.clock.now() - 120_000;
  await store.appendHistory({ kind: 'decision', job: 'orders', at, id: 'd1', detail: { trigger: 't1', action: 'rescale', outcome: 'in-progress', fromParallelism: 2, toParallelism: 4, executionName: 'orders-up-aaaa' } });
  await store.appendHistory({ kind: 'decision', job: 'orders', at: at + 1, id: 'd2', detail: { trigger: 't2', action: 'rescale', outcome: 'in-progress', fromParallelism: 4, toParallelism: 6, executionName: 'orders-up-bbbb' } });
  await store.appendHistory({ kind: 'rescale', job: 'orders', at, id: 'orders-up-aaaa', detail: { outcome: 'succeeded' } });
  await handleScalerEvent(tick('2026-01-01T00:09:00Z'), d);
  expect(snapshots[0].history.decisions.map((x: any) => x.outcome)).toEqual(['succeeded', 'in-progress']);
});

test('dry run: every tick in ALARM is decided and recorded, nothing changes, and the same would-be change is notified once', async () => {
  const cfg = config();
  cfg.jobs[0].dryRun = true;
  const { d, store } = deps(cfg, { 'FlinkElastic-orders-lag-high': 'ALARM' });
  const notes: string[] = [];
  d.notify = async (subject) => void notes.push(subject);
  let to = 4;
  d.decide = () => ({
    decision: { action: 'scale-out-capacity', direction: 'up', currentParallelism: 2, targetParallelism: 2, currentTaskManagers: 2, targetTaskManagers: to, rule: 'lag', reason: 'lag high', steps: [], limitedBy: [], missing: [] },
    state: {},
  });
  // d.target throws: a dry run must never touch the capacity target
  const outcomes = [];
  for (const t of ['00:20', '00:21', '00:22']) outcomes.push(await handleScalerEvent(tick(`2026-01-01T${t}:00Z`), d));
  expect(outcomes.map((r) => r.outcome)).toEqual(['dry-run', 'dry-run', 'dry-run']);
  expect(outcomes[1].reason).toMatch(/same as the dry-run decision at 2026-.*; not notified again/);
  expect(store.entries.map((e) => e.detail.scalerOutcome)).toEqual(['dry-run', 'dry-run', 'dry-run']);
  expect(notes).toEqual(['[dry run] orders: would TaskManagers 2 → 4']);
  // a different would-be change is news
  to = 3;
  await handleScalerEvent(tick('2026-01-01T00:23:00Z'), d);
  expect(notes).toEqual(['[dry run] orders: would TaskManagers 2 → 4', '[dry run] orders: would TaskManagers 2 → 3']);
});

test('rule 10: for a job with policy.forecast on, a tick with no alarm in ALARM takes a demand sample for the profile, and decides only when the forecast expects more than now', async () => {
  const c = config();
  // (a copy: the parsed defaults are shared objects)
  const j = c.jobs[0];
  c.jobs[0] = { ...j, policy: { ...j.policy, forecast: { ...j.policy.forecast, enabled: true } } };
  const { d, snapshots, store } = deps(c, { 'FlinkElastic-orders-lag-high': 'OK' });
  const t0 = emu.clock.now();
  const r1 = await handleScalerEvent(tick(new Date(t0).toISOString()), d);
  emu.clock.advance(60_000);
  const r2 = await handleScalerEvent(tick(new Date(emu.clock.now()).toISOString()), d);
  // no history yet: no forecast, so no decision (as without rule 10), but each tick added its sample
  for (const r of [r1, r2]) expect(r).toMatchObject({ outcome: 'ignored', reason: 'no alarm of job orders is in ALARM and the forecast expects no more than now; demand sample taken, nothing to re-evaluate' });
  expect(snapshots).toHaveLength(0);
  expect(store.entries).toHaveLength(0);
  const profile = (await store.getForecastProfile('orders')) as any;
  expect(profile).toMatchObject({ version: 1, bucketMinutes: 15, utcOffsetMinutes: 0, open: { at: emu.clock.now() } });
  expect(profile.open.max).toBeGreaterThan(0);

  // a profile whose next buckets held 50,000 rec/s on the last 3 days of this day type: the quiet tick decides, with
  // the profile in the snapshot
  const bucket = profile.open.bucket;
  const type = dayTypeOf(profile.open.day);
  const days = [profile.open.day - 7, profile.open.day - 6, profile.open.day - 1].filter((x) => dayTypeOf(x) === type);
  const peak = { e: 50_000, d: days, v: days.map(() => 50_000) };
  await store.putForecastProfile('orders', { ...profile, buckets: { [`${type}:${bucket}`]: peak, [`${type}:${bucket + 1}`]: peak } }, emu.clock.now());
  emu.clock.advance(60_000);
  const r3 = await handleScalerEvent(tick(new Date(emu.clock.now()).toISOString()), d);
  expect(r3.outcome).toBe('no-change');
  expect(snapshots).toHaveLength(1);
  expect(snapshots[0].forecast.buckets[`${type}:${bucket}`]).toEqual(peak);
  expect(snapshots[0].forecast.open.at).toBe(emu.clock.now());

  // off (the default): the profile is neither read nor stored, and the tick is ignored as before
  const off = deps(config(), { 'FlinkElastic-orders-lag-high': 'OK' });
  const r4 = await handleScalerEvent(tick(new Date(emu.clock.now() + 60_000).toISOString()), off.d);
  expect(r4).toMatchObject({ outcome: 'ignored', reason: 'no alarm of job orders is in ALARM; nothing to re-evaluate' });
  expect(await off.store.getForecastProfile('orders')).toBeUndefined();
});
