/**
 * What every route group shares: the context a group registers its routes through, Flink's error shapes, the
 * strict request-body check, and the number formats of metric values.
 */
import { type EmuJob, type FlinkModel, FlinkRestError } from '../model';
import type { VersionProfile } from '../profiles';

export type Handler = (ctx: {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  rawBody: Buffer;
  contentType: string;
}) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

/** What a route group (routes/*.ts) gets from the server. */
export interface RouteContext {
  readonly model: FlinkModel;
  /** The model's version profile (which endpoints and fields this Flink has). */
  readonly profile: VersionProfile;
  /** The server's base URL (known once it listens). */
  url(): string;
  /** Registers a route; `{name}` in the path is a parameter. `available` false → 404, like a Flink without it. */
  on(method: string, path: string, handler: Handler, available?: () => boolean): void;
  /** The job a path names: 400 for a malformed id, 404 for an unknown one. */
  job(id: string): EmuJob;
}

export class HttpError extends FlinkRestError {}

export function badFormat(className: string): FlinkRestError {
  return new FlinkRestError(400, [`Request did not match expected format ${className}.`]);
}

/** Java's Double.toString for the values Flink's metric store keeps as strings (§7.1). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e7 || a < 1e-3)) {
    const [m, e] = x.toExponential().split('e');
    return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** Aggregated metrics are JSON numbers; Jackson writes NaN as the string "NaN" (WRITE_NAN_AS_STRINGS). */
export const aggNumber = (x: number): number | string => (Number.isNaN(x) ? 'NaN' : x);

/** Validates a JSON body the way Flink's strict Jackson mapper does: known fields with the right types only. */
export function readBody(
  raw: unknown,
  className: string,
  allowed: string[],
  types: Record<string, 'string' | 'boolean' | 'integer' | 'string[]' | 'record'>,
): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badFormat(className);
  const body = raw as Record<string, unknown>;
  for (const [k, v] of Object.entries(body)) {
    if (!allowed.includes(k)) throw badFormat(className);
    if (v === null) continue;
    const t = types[k];
    const ok =
      t === 'string'
        ? typeof v === 'string'
        : t === 'boolean'
          ? typeof v === 'boolean'
          : t === 'integer'
            ? typeof v === 'number' && Number.isInteger(v)
            : t === 'string[]'
              ? Array.isArray(v) && v.every((x) => typeof x === 'string')
              : t === 'record'
                ? typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string')
                : true;
    if (!ok) throw badFormat(className);
  }
  return body;
}

/** A metric-store answer: without `get` the ids it has, with `get=a,b` the values of those it has. */
export function metricList(values: Record<string, string>, query: URLSearchParams): { id: string; value?: string }[] {
  const get = query.get('get');
  if (!get) return Object.keys(values).map((id) => ({ id }));
  return get.split(',').filter((id) => id in values).map((id) => ({ id, value: values[id] }));
}
