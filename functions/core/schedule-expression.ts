/**
 * EventBridge Scheduler expressions and IANA time zones, checked before deploy (CloudFormation would refuse them
 * only at deploy time, far from the config line). Pure.
 *
 * cron(minutes hours day-of-month month day-of-week year): exactly one of day-of-month / day-of-week is "?".
 * rate(value unit): value ≥ 1, unit minute(s) / hour(s) / day(s), singular exactly when value is 1.
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Extra single tokens allowed (L, W forms, #). */
  extra?: RegExp;
  question?: boolean;
}

const FIELDS: FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, extra: /^(L|LW|L-\d{1,2}|\d{1,2}W)$/, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, extra: /^(L|[1-7]L|[1-7]#[1-5]|(SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i, question: true },
  { name: 'year', min: 1970, max: 2199 },
];

function value(tok: string, f: FieldSpec): number | undefined {
  if (/^\d{1,4}$/.test(tok)) {
    const n = Number(tok);
    return n >= f.min && n <= f.max ? n : undefined;
  }
  const i = f.names?.indexOf(tok.toUpperCase()) ?? -1;
  return i >= 0 ? i + f.min : undefined;
}

/** One cron field; undefined when valid, else what is wrong. */
function fieldProblem(text: string, f: FieldSpec): string | undefined {
  const bad = `${f.name} "${text}" is not valid (${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}, *, lists, ranges, /steps${f.question ? ', ?' : ''})`;
  if (text === '*') return undefined;
  if (text === '?') return f.question ? undefined : `${f.name} cannot be "?"`;
  if (f.extra?.test(text)) return undefined;
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d{1,4}))?$/.exec(part);
    if (!m) return bad;
    const [, range, step] = m;
    if (step !== undefined && Number(step) < 1) return bad;
    if (range === '*') continue;
    const ends = range.split('-');
    if (ends.length > 2) return bad;
    const vs = ends.map((e) => value(e, f));
    if (vs.some((v) => v === undefined)) return bad;
  }
  return undefined;
}

/** Undefined when `expr` is a valid EventBridge Scheduler cron(...) or rate(...) expression, else the reason. */
export function scheduleExpressionProblem(expr: string): string | undefined {
  const rate = /^rate\((\d{1,6}) (minute|minutes|hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return 'rate value must be at least 1';
    const singular = !rate[2].endsWith('s');
    if (singular !== (n === 1)) return `rate(${n} ${rate[2]}): use "${rate[2].replace(/s$/, '')}" for 1 and the plural otherwise`;
    return undefined;
  }
  const cron = /^cron\(([^()]*)\)$/.exec(expr);
  if (!cron) return 'must be "cron(minutes hours day-of-month month day-of-week year)" or "rate(value unit)"';
  const parts = cron[1].trim().split(/\s+/);
  if (parts.length !== 6) return `cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`;
  for (let i = 0; i < 6; i++) {
    const p = fieldProblem(parts[i], FIELDS[i]);
    if (p) return p;
  }
  if ((parts[2] === '?') === (parts[4] === '?')) return 'exactly one of day-of-month and day-of-week must be "?"';
  return undefined;
}

/** True when `tz` is an IANA time zone this runtime knows ("UTC", "Europe/Berlin"); "Mars/Olympus" is not. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
