/**
 * Flink's REST spec (test/fixtures/flink-rest/rest_v1_dispatcher.yml, Apache-2.0) as ajv validators.
 *
 * OpenAPI 3.0 → JSON Schema: $refs are inlined, allOf is merged, discriminators become anyOf over the mapped
 * schemas, int32/int64/double/binary formats are checked as numbers/strings. In strict mode every object schema
 * that lists properties rejects other properties: Flink's Jackson mapper rejects unknown request fields
 * (endpoints.md §1), and an emulator must not invent response fields.
 *
 * Where Flink's wire format differs from the generated spec, `WIRE_OVERRIDES` below replaces the spec's schema,
 * each entry citing endpoints.md. Nothing else is relaxed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';

type Schema = Record<string, any>;

const SPEC_FILE = join(__dirname, '..', 'fixtures', 'flink-rest', 'rest_v1_dispatcher.yml');
export const spec = load(readFileSync(SPEC_FILE, 'utf8')) as { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };

const components = spec.components.schemas;

/**
 * Component schemas replaced because the wire differs from the generated spec. Each cites endpoints.md.
 */
const COMPONENT_OVERRIDES: Record<string, Schema> = {
  // endpoints.md §1 (IDs): ResourceID is documented as 32 hex, but TaskManager ids are opaque strings in practice
  // (e.g. "10.0.0.5:37123-abc123" on standalone clusters).
  ResourceID: { type: 'string', minLength: 1 },
  // endpoints.md §4: SerializedThrowable is sent with "class" and "stack-trace" besides "serialized-throwable".
  SerializedThrowable: {
    type: 'object',
    properties: { class: { type: 'string' }, 'stack-trace': { type: 'string' }, 'serialized-throwable': { type: 'string' } },
    required: ['class', 'stack-trace', 'serialized-throwable'],
  },
  // endpoints.md §4: savepoint / stop results are SavepointInfo with exactly one of location and failure-cause.
  // The spec's oneOf over three operation types is not a usable discriminator ({failure-cause} matches two).
  SavepointInfo: {
    type: 'object',
    properties: { location: { type: 'string' }, 'failure-cause': { $ref: '#/components/schemas/SerializedThrowable' } },
    oneOf: [{ required: ['location'] }, { required: ['failure-cause'] }],
  },
  // endpoints.md §3.5: latest.completed / savepoint / failed / restored are null when there is none.
  LatestCheckpoints: {
    type: 'object',
    properties: {
      completed: { anyOf: [{ $ref: '#/components/schemas/CompletedCheckpointStatistics' }, { type: 'null' }] },
      savepoint: { anyOf: [{ $ref: '#/components/schemas/CompletedCheckpointStatistics' }, { type: 'null' }] },
      failed: { anyOf: [{ $ref: '#/components/schemas/FailedCheckpointStatistics' }, { type: 'null' }] },
      restored: { anyOf: [{ $ref: '#/components/schemas/RestoredCheckpointStatistics' }, { type: 'null' }] },
    },
  },
};

/** Metric arrays (endpoints.md §1 wire difference 1, §7.1): bare arrays, string values. */
const METRIC_ARRAY: Schema = {
  type: 'array',
  items: { type: 'object', properties: { id: { type: 'string' }, value: { type: 'string' } }, required: ['id'] },
};
/**
 * Aggregated metrics (endpoints.md §1 wire difference 1, §7.1): a bare array of {id,min,max,avg,sum}, numbers, each
 * aggregate omitted when not requested. The spec has no AggregatedMetric schema at all. A NaN aggregate is written
 * by Jackson as the string "NaN" (WRITE_NAN_AS_STRINGS; §7.1 says values "may be NaN").
 */
const AGG_NUMBER: Schema = { anyOf: [{ type: 'number' }, { const: 'NaN' }] };
const AGGREGATED_ARRAY: Schema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { id: { type: 'string' }, min: AGG_NUMBER, max: AGG_NUMBER, avg: AGG_NUMBER, sum: AGG_NUMBER },
    required: ['id'],
    additionalProperties: false,
  },
};

/** Per-operation response overrides (by operationId and status). */
const RESPONSE_OVERRIDES: Record<string, Schema> = {
  getJobVertexMetrics: METRIC_ARRAY,
  getTaskManagerMetrics: METRIC_ARRAY,
  getAggregatedSubtaskMetrics: AGGREGATED_ARRAY,
  // endpoints.md §1 wire difference 3 and §4: while IN_PROGRESS, "operation" is present and null.
  getSavepointStatus: {
    type: 'object',
    properties: {
      status: { $ref: '#/components/schemas/QueueStatus' },
      operation: { anyOf: [{ $ref: '#/components/schemas/SavepointInfo' }, { type: 'null' }] },
    },
    required: ['status'],
    if: { properties: { status: { properties: { id: { const: 'COMPLETED' } } } } },
    then: { properties: { operation: { $ref: '#/components/schemas/SavepointInfo' } }, required: ['operation'] },
  },
};

/** Error bodies (endpoints.md §1): {"errors": [string, ...]} with any non-2xx status. Not in the spec. */
export const ERROR_BODY: Schema = {
  type: 'object',
  properties: { errors: { type: 'array', items: { type: 'string' }, minItems: 1 } },
  required: ['errors'],
  additionalProperties: false,
};

function deref(ref: string): Schema {
  const name = ref.replace('#/components/schemas/', '');
  const s = COMPONENT_OVERRIDES[name] ?? components[name];
  if (!s) throw new Error(`unknown schema ${ref}`);
  // Subtask details carry two fields the spec leaves out: `start_time` (Flink's deprecated duplicate of start-time,
  // hidden from the generated spec) and `endpoint` (host:port, what replaces `host` in Flink 2.0).
  if (name === 'SubtaskExecutionAttemptDetailsInfo') return { ...s, properties: { ...s.properties, start_time: { type: 'integer' }, endpoint: { type: 'string' } } };
  return s;
}

/** Inline refs, merge allOf, turn discriminators into anyOf, optionally close objects. */
export function toJsonSchema(s: Schema, strict: boolean, seen: string[] = []): Schema {
  if (s === null || typeof s !== 'object') return s;
  if (Array.isArray(s)) return s.map((x) => toJsonSchema(x, strict, seen)) as unknown as Schema;
  if (s.$ref) {
    // A schema that contains itself (SubtaskExecutionAttemptDetailsInfo.other-concurrent-attempts): checked one level
    // deep; below that anything is accepted (inlining it would never end).
    if (seen.includes(s.$ref)) return {};
    return toJsonSchema(deref(s.$ref), strict, [...seen, s.$ref]);
  }
  if (s.discriminator?.mapping) {
    const prop = s.discriminator.propertyName;
    const branches = Object.entries(s.discriminator.mapping as Record<string, string>).map(([value, ref]) => {
      const sub = toJsonSchema(deref(ref), strict, [...seen, ref]);
      return { ...sub, properties: { ...sub.properties, [prop]: { const: value } }, required: [...new Set([...(sub.required ?? []), prop])] };
    });
    return { anyOf: branches };
  }
  if (s.allOf) {
    const parts = (s.allOf as Schema[]).map((p) => {
      const { discriminator: _d, ...rest } = p.$ref ? deref(p.$ref) : p;
      return toJsonSchema(rest, false, seen);
    });
    const merged: Schema = { type: 'object', properties: {}, required: [] as string[] };
    for (const p of parts) {
      Object.assign(merged.properties, p.properties ?? {});
      merged.required.push(...(p.required ?? []));
    }
    if (merged.required.length === 0) delete merged.required;
    if (strict) merged.additionalProperties = false;
    return merged;
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'discriminator' || k === 'description' || k === 'example' || k === 'nullable') continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, toJsonSchema(pv as Schema, strict, seen)]));
    else if (k === 'items' || k === 'additionalProperties' || k === 'if' || k === 'then') out[k] = typeof v === 'object' ? toJsonSchema(v as Schema, strict, seen) : v;
    else if (k === 'oneOf' || k === 'anyOf') out[k] = (v as Schema[]).map((x) => toJsonSchema(x, strict, seen));
    else out[k] = v;
  }
  if (s.nullable) return { anyOf: [out, { type: 'null' }] };
  if (strict && out.properties && out.additionalProperties === undefined && !out.oneOf && !out.anyOf) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const INT32 = { type: 'number' as const, validate: (x: number) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31 };
ajv.addFormat('int32', INT32);
ajv.addFormat('int64', { type: 'number', validate: (x: number) => Number.isInteger(x) });
ajv.addFormat('double', { type: 'number', validate: () => true });
ajv.addFormat('binary', { type: 'string', validate: () => true });

const cache = new Map<string, ValidateFunction>();
export function validator(key: string, schema: Schema): ValidateFunction {
  let v = cache.get(key);
  if (!v) {
    v = ajv.compile(schema);
    cache.set(key, v);
  }
  return v;
}

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  op: any;
}

const templates = Object.entries(spec.paths).flatMap(([template, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    template,
    method: method.toUpperCase(),
    op,
    re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`),
    names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
  })),
);

/** The spec operation for a method and concrete path (a "/v1" prefix is allowed, endpoints.md §1). */
export function findOperation(method: string, path: string): (Operation & { params: Record<string, string> }) | undefined {
  const p = path.replace(/^\/v1(?=\/)/, '');
  for (const t of templates) {
    if (t.method !== method) continue;
    const m = t.re.exec(p);
    if (m) return { operationId: t.op.operationId, method, template: t.template, op: t.op, params: Object.fromEntries(t.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return undefined;
}

export function allOperations(): Operation[] {
  return templates.map((t) => ({ operationId: t.op.operationId, method: t.method, template: t.template, op: t.op }));
}

export function responseSchema(op: Operation, status: number): Schema | undefined {
  if (status >= 300) return ERROR_BODY;
  const o = RESPONSE_OVERRIDES[op.operationId];
  if (o) return toJsonSchema(o, true);
  const r = op.op.responses?.[String(status)];
  const s = r?.content?.['application/json']?.schema;
  // "The request was successful." with no content = EmptyResponseBody, serialised as {} (endpoints.md §1).
  if (!s) return r ? { type: 'object', maxProperties: 0 } : undefined;
  return toJsonSchema(s, true);
}

export function requestSchema(op: Operation): Schema | undefined {
  const s = op.op.requestBody?.content?.['application/json']?.schema;
  return s ? toJsonSchema(s, true) : undefined;
}

/** Path and query parameter schemas of an operation. */
export function parameterSchemas(op: Operation): { name: string; in: string; required: boolean; schema: Schema }[] {
  return (op.op.parameters ?? []).map((p: any) => ({ name: p.name, in: p.in, required: !!p.required, schema: toJsonSchema(p.schema, true) }));
}

export function describeErrors(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}
