/**
 * Fuzz surface 3: what wakes the scaler (an EventBridge alarm state change, a schedule entry, a re-evaluation tick),
 * mutated structure-aware from the exact shapes AWS delivers, plus random values, through `parseScalerEvent`.
 * Only ScalerEventError, naming the field; an accepted event is a trigger with sane values.
 */
import fc from 'fast-check';
import { parseScalerEvent, ScalerEventError, type Trigger } from '../../functions/scaler/event';
import { alarmEvent, scheduleEvent } from '../fixtures/events';
import { attempt, expectNamedRefusal, fuzzParams, hostileInProcess, materialize, mutated, randomDoc, surfaceCounts } from '../support/fuzz';

const counts = surfaceCounts();

/** Strings that are almost right for event fields: times, sources, states. */
const almostRight = fc.constantFrom(
  '2026-11-21T10:00:00Z', '2026-02-30T10:00:00Z', '2026-11-21T10:00:00+2500', '2026-11-21T10:00:00.1234567891Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z',
  '2026-11-21T10:00:60Z', '2026-11-21 10:00:00Z', '1', 'March 7', 'aws.cloudwatch', 'schedule', 'reevaluate', 'ALARM', 'OK', 'INSUFFICIENT_DATA', 'alarm',
  'CloudWatch Alarm State Change',
);
const values = fc.oneof({ weight: 4, arbitrary: hostileInProcess }, { weight: 1, arbitrary: almostRight });

const bases: [string, unknown][] = [
  ['an alarm state change', alarmEvent('FlinkElastic-orders-lag-high')],
  ['a schedule entry', scheduleEvent('orders', 4, { reason: 'night' })],
  ['a re-evaluation tick', { source: 'reevaluate', job: 'orders', time: '2026-11-21T10:01:00Z', requireAlarm: false }],
];

const YEAR_2000 = Date.UTC(2000, 0, 1);
const YEAR_2100 = Date.UTC(2100, 0, 1);
/** A time the scaler keys duplicates and cooldowns on: whole milliseconds in this century. */
const saneTime = (t: number | undefined) => t === undefined || (Number.isInteger(t) && t >= YEAR_2000 && t < YEAR_2100);

function violations(t: Trigger): string[] {
  const bad: string[] = [];
  if (t.kind === 'alarm') {
    if (!(typeof t.alarmName === 'string' && t.alarmName.length > 0)) bad.push('alarmName');
    if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(t.state)) bad.push('state');
    if (!saneTime(t.stateChangedAt)) bad.push(`stateChangedAt ${t.stateChangedAt}`);
    if (!(typeof t.eventId === 'string' && t.eventId.length > 0)) bad.push('eventId');
  } else if (t.kind === 'schedule') {
    if (!(typeof t.job === 'string' && t.job.length > 0)) bad.push('job');
    if (!(Number.isInteger(t.parallelism) && t.parallelism >= 1 && t.parallelism <= 32768)) bad.push('parallelism');
    if (!saneTime(t.scheduledAt)) bad.push(`scheduledAt ${t.scheduledAt}`);
  } else {
    if (!(typeof t.job === 'string' && t.job.length > 0)) bad.push('job');
    if (!(saneTime(t.at) && t.at % 1000 === 0)) bad.push(`at ${t.at}`);
    if (typeof t.requireAlarm !== 'boolean') bad.push('requireAlarm');
  }
  return bad;
}

function check(input: unknown, mutatedPaths: string[] | undefined, surface: string): void {
  const c = counts.of(surface);
  c.tried++;
  const r = attempt(1000, 'parseScalerEvent', () => parseScalerEvent(input));
  if (r.ok) {
    c.accepted++;
    expect(violations(r.value)).toEqual([]);
    return;
  }
  c.refused++;
  expectNamedRefusal(r.error, ScalerEventError, mutatedPaths);
}

test.each(bases)('%s, mutated: only ScalerEventErrors naming the field; accepted triggers are sane', (_what, base) => {
  fc.assert(
    fc.property(mutated(base, 3, values), ({ doc, paths }) => check(materialize(doc), paths, 'scaler event (mutated)')),
    fuzzParams(600),
  );
});

test('random values: only ScalerEventErrors, every problem printed with its path', () => {
  fc.assert(
    fc.property(randomDoc(['source', 'job', 'parallelism', 'time', 'detail']), (doc) => check(materialize(doc), undefined, 'scaler event (random)')),
    fuzzParams(400),
  );
});

describe('found by fuzzing (kept as regression examples)', () => {
  test.each([
    ['a 300,000-character source', 'y'.repeat(300_000)],
    ['a BigInt source (in-process caller)', 10n],
  ])('%s: the problem keeps a bounded preview of the value, not the value', (_what, source) => {
    const err = (() => {
      try {
        parseScalerEvent({ source, job: 'orders' });
      } catch (e) {
        return e as ScalerEventError;
      }
      return undefined;
    })();
    expect(JSON.stringify(err!.problems[0].value).length).toBeLessThan(300);
    check({ source, job: 'orders' }, ['source'], 'scaler event (regression examples)');
  });

  test.each(['0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '1970-01-01T00:00:00Z'])('the time %j, outside the years 2000 to 2099, is refused naming the field', (time) => {
    expect(() => parseScalerEvent({ source: 'reevaluate', job: 'orders', time })).toThrow(/time: must be the time of the re-evaluation tick .*in the years 2000 to 2099/);
    check({ source: 'reevaluate', job: 'orders', time }, ['time'], 'scaler event (regression examples)');
  });
});
