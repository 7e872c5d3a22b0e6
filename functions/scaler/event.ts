/**
 * What wakes the scaler, validated: an EventBridge "CloudWatch Alarm State Change" event for one of this stack's
 * alarms, a schedule entry `{source: "schedule", job, parallelism}` from EventBridge Scheduler (or a person), or a
 * re-evaluation tick `{source: "reevaluate", job, time}`. EventBridge delivers an alarm only when its state CHANGES:
 * an alarm that stays in ALARM while the scaler answered "no change" (cooldown, a rescale in progress, a scale-down
 * delay) never fires again, so a 1-minute tick per job asks the scaler to decide again while one of the job's alarms
 * is still in ALARM (with `requireAlarm: false`: whatever the alarms say). Anything else is rejected with an error that names the field and what is allowed; nothing is changed.
 */
import * as z from 'zod';
import { ConfigError, problemsFrom, type ConfigProblem } from '../core/config';
import { boundedValue } from '../core/preview';

export class ScalerEventError extends ConfigError {
  constructor(problems: ConfigProblem[]) {
    super(problems, 'scaler event');
    this.name = 'ScalerEventError';
  }
}

const nonEmpty = (what: string) => z.string({ error: `must be ${what} (a non-empty string)` }).min(1, { error: `must be ${what} (a non-empty string)` });
const ALARM_STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
const isoTime = (what: string) =>
  z
    .string({ error: `must be ${what} (an ISO-8601 time such as "2026-11-21T10:00:00.000+0000", in the years 2000 to 2099)` })
    .refine(isIsoTime, { error: `must be ${what} (an ISO-8601 time such as "2026-11-21T10:00:00.000+0000", in the years 2000 to 2099)` });

/**
 * An ISO-8601 date-time with a zone, as EventBridge and CloudWatch write them: "2026-11-21T10:00:00Z",
 * "2026-11-21T10:00:00.000+0000", "...+01:00", in the years 2000 to 2099. Date.parse alone also takes "1" (the year
 * 2001) or "March 7".
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;
export function isIsoTime(s: string): boolean {
  const m = ISO_TIME.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, se] = m.map(Number);
  // the years the policy's clock knows (snapshot `now`: 2000 to 2099); "0000-01-01T00:00:00Z" is no event time (found by fuzzing)
  if (y < 2000 || y > 2099) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return false;
  // the day must exist in that month (no "2026-02-30")
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return false;
  return !Number.isNaN(Date.parse(normalizeIso(s.replace(/(\.\d{3})\d+/, '$1'))));
}

/** Epoch ms of a time isIsoTime accepted (fractions beyond milliseconds cut). */
function parseIso(s: string): number {
  return Date.parse(normalizeIso(s.replace(/(\.\d{3})\d+/, '$1')));
}

/** CloudWatch writes "+0000" offsets, which Date.parse accepts only as "+00:00". */
export function normalizeIso(s: string): string {
  return s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

const AlarmState = z.object(
  {
    value: z.enum(ALARM_STATES, { error: `must be one of: ${ALARM_STATES.map((s) => `"${s}"`).join(', ')}` }),
    reason: z.string().optional(),
    timestamp: isoTime('the time of the state change'),
  },
  { error: 'must be an object {value, reason, timestamp}' },
);

export const AlarmEventSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change', { error: 'must be "CloudWatch Alarm State Change"' }),
  id: nonEmpty('the EventBridge event id'),
  time: isoTime('the event time'),
  account: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.object(
    {
      alarmName: nonEmpty('the alarm name'),
      state: AlarmState,
      previousState: AlarmState.partial().optional(),
    },
    { error: 'must be an object with alarmName and state' },
  ),
});

export const ScheduleEventSchema = z.strictObject(
  {
    source: z.literal('schedule'),
    job: nonEmpty('a job name from the config'),
    parallelism: z
      .number({ error: 'must be an integer from 1 to 32768' })
      .int({ error: 'must be an integer from 1 to 32768' })
      .min(1, { error: 'must be an integer from 1 to 32768' })
      .max(32768, { error: 'must be an integer from 1 to 32768' }),
    schedule: z.string().regex(/^[a-zA-Z0-9-_]{1,40}$/, { error: 'must be 1-40 letters, digits, - or _' }).optional(),
    /** EventBridge Scheduler fills `<aws.scheduler.scheduled-time>`: retries of one run share it. */
    scheduledTime: isoTime('the scheduled time').optional(),
    reason: z.string().max(500, { error: 'must be at most 500 characters' }).optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field(s) ${iss.keys.map((k) => `"${k}"`).join(', ')}; allowed: source, job, parallelism, schedule, scheduledTime, reason`
        : 'must be an object',
  },
);

export const ReevaluateEventSchema = z.strictObject(
  {
    source: z.literal('reevaluate'),
    job: nonEmpty('a job name from the config'),
    /** The tick's time (EventBridge `$.time`): re-deliveries of one tick share it, so they act once. */
    time: isoTime('the time of the re-evaluation tick'),
    requireAlarm: z.boolean({ error: 'must be true or false' }).optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field(s) ${iss.keys.map((k) => `"${k}"`).join(', ')}; allowed: source, job, time, requireAlarm`
        : 'must be an object',
  },
);

export type AlarmTrigger = {
  kind: 'alarm';
  alarmName: string;
  state: (typeof ALARM_STATES)[number];
  /** Epoch ms of the state change: the same change delivered twice has the same value. */
  stateChangedAt: number;
  stateReason?: string;
  eventId: string;
};
export type ScheduleTrigger = {
  kind: 'schedule';
  job: string;
  parallelism: number;
  schedule?: string;
  /** Epoch ms of the scheduled run, when the scheduler told us. */
  scheduledAt?: number;
  reason?: string;
};
export type ReevaluateTrigger = {
  kind: 'reevaluate';
  job: string;
  /** Epoch ms of the tick, truncated to the minute. */
  at: number;
  /** Decide only while one of the job's alarms is in ALARM (default true). */
  requireAlarm: boolean;
  /** Alarm states the scaler looked up for this tick (alarm name → state); filled by the scaler, not the event. */
  alarmStates?: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>;
};
export type Trigger = AlarmTrigger | ScheduleTrigger | ReevaluateTrigger;

/** Validates a scaler event. Throws ScalerEventError naming every bad field. */
export function parseScalerEvent(input: unknown): Trigger {
  const source = input && typeof input === 'object' ? (input as { source?: unknown }).source : undefined;
  if (source === 'aws.cloudwatch') {
    const r = AlarmEventSchema.safeParse(input);
    if (!r.success) throw new ScalerEventError(problemsFrom(r.error, input));
    const d = r.data.detail;
    return {
      kind: 'alarm',
      alarmName: d.alarmName,
      state: d.state.value,
      stateChangedAt: parseIso(d.state.timestamp),
      stateReason: d.state.reason,
      eventId: r.data.id,
    };
  }
  if (source === 'schedule') {
    const r = ScheduleEventSchema.safeParse(input);
    if (!r.success) throw new ScalerEventError(problemsFrom(r.error, input));
    const e = r.data;
    return {
      kind: 'schedule',
      job: e.job,
      parallelism: e.parallelism,
      schedule: e.schedule,
      scheduledAt: e.scheduledTime ? parseIso(e.scheduledTime) : undefined,
      reason: e.reason,
    };
  }
  if (source === 'reevaluate') {
    const r = ReevaluateEventSchema.safeParse(input);
    if (!r.success) throw new ScalerEventError(problemsFrom(r.error, input));
    const at = parseIso(r.data.time);
    // a duplicate delivery carries the same scheduled time; floored to the second (not the minute), so a faster local
    // re-evaluation (`run --local`, the real bench) is not taken for a duplicate
    return { kind: 'reevaluate', job: r.data.job, at: Math.floor(at / 1000) * 1000, requireAlarm: r.data.requireAlarm ?? true };
  }
  throw new ScalerEventError([
    {
      path: 'source',
      message:
        'must be "aws.cloudwatch" (a CloudWatch Alarm State Change event from EventBridge), "schedule" ({source: "schedule", job, parallelism}) or "reevaluate" ({source: "reevaluate", job, time})',
      // bounded like every problem's value: a 300,000-character "source" was kept whole (found by fuzzing)
      value: boundedValue(source),
    },
  ]);
}
