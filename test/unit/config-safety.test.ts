/**
 * Config that must be refused, each with an error naming the field (issue 17, defect 7), and `validate` reporting
 * every problem, cross-field ones included, in one run.
 */
import { validateConfig, type ConfigProblem } from '../../functions/core/config';
import { parseScalerEvent, ScalerEventError } from '../../functions/scaler/event';
import { alarmEvent, scheduleEvent } from '../fixtures/events';
import { exampleDoc } from '../support/example-config';

const minimal = (): any => ({
  jobs: [
    {
      name: 'orders',
      flink: { url: 'https://flink.example:8081' },
      submit: { jarId: 'abc_orders.jar' },
      savepoint: { directory: 's3://b/sp' },
      target: { kind: 'asg', autoScalingGroupName: 'tms' },
      slotsPerTaskManager: 2,
      bounds: { maxParallelism: 8, maxTaskManagers: 4 },
    },
  ],
});

function problems(mutate: (c: any) => void): ConfigProblem[] {
  const c = minimal();
  mutate(c);
  const r = validateConfig(c);
  return r.ok ? [] : r.problems;
}

type Case = [string, (c: any) => void, string, RegExp];
const refused: Case[] = [
  ['credentials in flink.url', (c) => (c.jobs[0].flink.url = 'https://admin:secret@flink.example:8081'), 'jobs[0].flink.url', /must not contain credentials/],
  ['a user name in flink.url', (c) => (c.jobs[0].flink.url = 'http://admin@flink.example:8081'), 'jobs[0].flink.url', /must not contain credentials/],
  ['credentials in savepoint.directory', (c) => (c.jobs[0].savepoint.directory = 's3://AKIA:secret@b/sp'), 'jobs[0].savepoint.directory', /must not contain credentials/],
  ['credentials in submit.jarPath', (c) => (c.jobs[0].submit = { jarPath: 'https://u:p@artifacts.example/orders.jar' }), 'jobs[0].submit.jarPath', /must not contain credentials/],
  ['bearer auth over plain http', (c) => Object.assign(c.jobs[0].flink, { url: 'http://flink.example:8081', auth: { type: 'bearer', secretName: 's' } }), 'jobs[0].flink.auth', /plain http/],
  ['basic auth over plain http', (c) => Object.assign(c.jobs[0].flink, { url: 'http://flink.example:8081', auth: { type: 'basic', secretName: 's' } }), 'jobs[0].flink.auth', /allowInsecure/],
  ['cron(a b c d e f)', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'cron(a b c d e f)', parallelism: 2 }]), 'jobs[0].schedules[0].cron', /minutes "a" is not valid/],
  ['cron with both day fields set', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'cron(0 8 * * MON *)', parallelism: 2 }]), 'jobs[0].schedules[0].cron', /exactly one of day-of-month and day-of-week/],
  ['cron hour 25', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'cron(0 25 ? * * *)', parallelism: 2 }]), 'jobs[0].schedules[0].cron', /hours "25"/],
  ['rate(0 minutes)', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'rate(0 minutes)', parallelism: 2 }]), 'jobs[0].schedules[0].cron', /at least 1/],
  ['rate(5 fortnights)', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'rate(5 fortnights)', parallelism: 2 }]), 'jobs[0].schedules[0].cron', /EventBridge Scheduler expression/],
  ['time zone Mars/Olympus', (c) => (c.jobs[0].schedules = [{ name: 'n', cron: 'cron(0 8 ? * * *)', timezone: 'Mars/Olympus', parallelism: 2 }]), 'jobs[0].schedules[0].timezone', /IANA time zone/],
  ['savepoint.directory that is not a URI', (c) => (c.jobs[0].savepoint.directory = 'my savepoints'), 'jobs[0].savepoint.directory', /savepoint directory URI/],
  ['savepoint.directory "NaN"', (c) => (c.jobs[0].savepoint.directory = 'NaN'), 'jobs[0].savepoint.directory', /savepoint directory URI/],
  ['duplicate schedule names', (c) => (c.jobs[0].schedules = [1, 2].map((p) => ({ name: 'night', cron: 'cron(0 22 ? * * *)', parallelism: p }))), 'jobs[0].schedules[1].name', /duplicate schedule name "night"/],
  ['pinnedVertices key __proto__', (c) => (c.jobs[0].policy = JSON.parse('{"pinnedVertices": {"__proto__": 1}}')), 'jobs[0].policy.pinnedVertices.__proto__', /must not be a key: "__proto__"/],
  ['pinnedVertices key constructor', (c) => (c.jobs[0].policy = { pinnedVertices: { constructor: 1 } }), 'jobs[0].policy.pinnedVertices.constructor', /must not be a key/],
  ['a tag key __proto__', (c) => (c.deployment = JSON.parse('{"tags": {"__proto__": "x"}}')), 'deployment.tags.__proto__', /must not be a key/],
  ['a 10 MB programArgs string', (c) => (c.jobs[0].submit.programArgs = ['x'.repeat(10 * 1024 * 1024)]), 'jobs[0].submit.programArgs[0]', /at most 4096 characters/],
  ['100,000 programArgs', (c) => (c.jobs[0].submit.programArgs = Array.from({ length: 100_000 }, () => 'a')), 'jobs[0].submit.programArgs', /at most 500 arguments/],
  ['a 1 MB tag value', (c) => (c.deployment = { tags: { team: 'x'.repeat(1 << 20) } }), 'deployment.tags.team', /at most 256 characters/],
  [
    'waits longer than the execution timeout',
    (c) => Object.assign(c.jobs[0], { drainTimeoutSeconds: 7200, policy: { restartSeconds: 1200 }, savepoint: { directory: 's3://b/sp', timeoutSeconds: 3600 } }),
    'jobs[0].drainTimeoutSeconds',
    /add up to 17400 s .* more than the execution timeout of 14400 s/,
  ],
  [
    'stop-pending retries tipping the sum over',
    (c) => Object.assign(c.jobs[0], { drainTimeoutSeconds: 6000, savepoint: { directory: 's3://b/sp', timeoutSeconds: 7200, stopWithSavepoint: true } }),
    'jobs[0].drainTimeoutSeconds',
    /stop-pending 1000/,
  ],
];

test.each(refused)('%s is refused, naming the field', (_what, mutate, path, message) => {
  const ps = problems(mutate);
  const p = ps.find((x) => x.path === path);
  expect({ path, found: p?.message ?? ps.map((x) => `${x.path}: ${x.message}`) }).toEqual({ path, found: expect.stringMatching(message) });
  // the bad value shown is bounded, whatever its size
  expect(JSON.stringify(p!.value ?? null).length).toBeLessThan(500);
});

test.each([
  ['basic auth over https', (c: any) => (c.jobs[0].flink.auth = { type: 'basic', secretName: 's' })],
  ['bearer auth over http with allowInsecure: true', (c: any) => Object.assign(c.jobs[0].flink, { url: 'http://10.0.0.1:8081', allowInsecure: true, auth: { type: 'bearer', secretName: 's' } })],
  ['cron and rate schedules in a real time zone', (c: any) => (c.jobs[0].schedules = [{ name: 'day', cron: 'cron(0 8 ? * MON-FRI *)', timezone: 'Europe/Berlin', parallelism: 4 }, { name: 'tick', cron: 'rate(1 hour)', parallelism: 2 }])],
  ['file:/// and hdfs:// savepoint directories', (c: any) => (c.jobs[0].savepoint.directory = 'file:///data/savepoints')],
  ['hdfs default name node', (c: any) => (c.jobs[0].savepoint.directory = 'hdfs:///flink/savepoints')],
  ['a long but sane programArgs', (c: any) => (c.jobs[0].submit.programArgs = Array.from({ length: 100 }, (_, i) => `--arg${i}=${'v'.repeat(100)}`))],
])('%s is accepted', (_what, mutate) => {
  expect(problems(mutate)).toEqual([]);
});

test('validate reports shape and cross-field problems of one job in the same run', () => {
  const ps = problems((c) => {
    c.jobs[0].slotsPerTaskManager = 'two'; // shape
    c.jobs[0].bounds.minParallelism = 9; // cross-field: > maxParallelism 8
    c.jobs[0].flink = { url: 'http://flink.example:8081', auth: { type: 'basic', secretName: 's' } }; // cross-field: auth over http
    c.jobs[0].schedules = [{ name: 'x', cron: 'cron(a b c d e f)', parallelism: 2 }, { name: 'x', cron: 'cron(0 8 ? * * *)', parallelism: 2 }]; // shape + duplicate name
  });
  expect(ps.map((p) => p.path).sort()).toEqual(
    [
      'jobs[0].slotsPerTaskManager',
      'jobs[0].bounds.minParallelism',
      'jobs[0].flink.auth',
      'jobs[0].schedules[0].cron',
      'jobs[0].schedules[1].name',
      // schedule parallelism 2 is below bounds.minParallelism 9: checked also on the schedule whose cron is bad
      'jobs[0].schedules[0].parallelism',
      'jobs[0].schedules[1].parallelism',
    ].sort(),
  );
});

test('the example config stays valid', () => {
  const r = validateConfig(exampleDoc());
  expect(r.ok ? [] : r.problems).toEqual([]);
});

describe('scaler event timestamps must be ISO-8601', () => {
  test.each(['1', 'March 7', '2026', 'Tue, 21 Nov 2026 10:00:00 GMT', '2026-13-01T00:00:00Z', '2026-11-21', '2026-11-21T25:00:00Z', ''])('%j is refused, naming the field', (ts) => {
    const expectRefused = (event: unknown, field: string) => {
      let err: unknown;
      try {
        parseScalerEvent(event);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScalerEventError);
      expect((err as Error).message).toContain(`${field}: must be`);
    };
    expectRefused(alarmEvent('FlinkElastic-orders-lag-high', { timestamp: ts }), 'detail.state.timestamp');
    expectRefused({ source: 'reevaluate', job: 'orders', time: ts }, 'time');
    expectRefused(scheduleEvent('orders', 4, { scheduledTime: ts }), 'scheduledTime');
  });

  test.each(['2026-11-21T10:00:00.000+0000', '2026-11-21T10:00:00Z', '2026-11-21T10:00:00+01:00', '2026-11-21T10:00:00.123456Z'])('%s is accepted', (ts) => {
    expect(parseScalerEvent({ source: 'reevaluate', job: 'orders', time: ts })).toMatchObject({ kind: 'reevaluate' });
    expect(parseScalerEvent(alarmEvent('FlinkElastic-orders-lag-high', { timestamp: ts }))).toMatchObject({ kind: 'alarm' });
  });
});
