/**
 * Reading admin API requests against their route schemas (issue #16 §3). The schemas
 * (src/http/schemas/admin.ts) are plain JSON Schema built with TypeBox; this reader is the
 * Fastify validator compiler of the admin contexts, so the schema a route declares is what is
 * checked, what the handler's `request.body` / `request.query` types say (`Static<…>` through
 * `SchemaTypes`), and what the OpenAPI document shows.
 *
 * Why not Ajv with Fastify's defaults: those coerce types and silently drop unknown fields
 * (`removeAdditional`). The admin API refuses unknown fields and query parameters with 400
 * `invalid_request` — a typo never silently does nothing — accepts form bodies (every value a
 * string: "true", digits, one field per list item, "" to clear), and answers in its own words
 * ("\"internal\" must be true or false"). The protocol endpoints do not use this: they keep the
 * strict RFC 6749 parameter reader (src/oauth/params.ts).
 *
 * What it checks: types, enums, required fields (a blank string counts as missing), unknown
 * fields, patterns (with `errorMessage` as the message), repeated query parameters. Ranges and
 * lengths are the services' (their messages name the range). A schema marked
 * `x-checked-by: service` is passed through untouched.
 */
import type { FastifyInstance, FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from 'typebox';
import { invalidClientMetadata, invalidRequest, OAuthError } from '../../oauth/errors.js';
import { formObject } from './body.js';

/** The type provider of the admin contexts: handlers see the schema's `Static` type. */
export interface SchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: unknown;
}

/** What the reader looks at in a schema (JSON Schema keywords TypeBox writes). */
interface Shape {
  readonly type?: string;
  readonly anyOf?: readonly Shape[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, Shape>>;
  readonly patternProperties?: Readonly<Record<string, Shape>>;
  readonly additionalProperties?: boolean | Shape;
  readonly required?: readonly string[];
  readonly items?: Shape;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly errorMessage?: string;
  readonly 'x-checked-by'?: string;
}

type Part = 'body' | 'querystring' | 'params' | 'headers';
const fail = (message: string): never => {
  throw invalidRequest(message);
};

const patterns = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNull = (s: Shape): boolean => s.type === 'null';
/** The values of an enum schema (`enum`, or `anyOf` of `const`s), else null. */
function enumValues(s: Shape): readonly unknown[] | null {
  if (s.enum) return s.enum;
  if (s.anyOf && s.anyOf.length > 0 && s.anyOf.every((m) => m.const !== undefined)) return s.anyOf.map((m) => m.const);
  return null;
}

/** `value` read as `schema` says; `name` is used in messages, `path` in unknown-field messages. */
function read(schema: Shape, value: unknown, name: string, path: string): unknown {
  if (schema['x-checked-by'] === 'service') return value;
  const values = enumValues(schema);
  if (values) {
    if (typeof value !== 'string') return fail(`"${name}" must be a string`);
    if (!values.includes(value)) return fail(`"${name}" must be one of: ${values.join(', ')}`);
    return value;
  }
  if (schema.anyOf) {
    const inner = schema.anyOf.filter((m) => !isNull(m));
    const nullable = inner.length < schema.anyOf.length;
    const only = inner[0];
    if (inner.length !== 1 || !only) throw new Error(`schema-reader: unsupported union at ${path}`);
    if (nullable && value === null) return null;
    if (nullable && value === '' && (only.type === 'string' || only.type === 'integer')) return null;
    if (nullable && only.type === 'integer') {
      // Whole seconds or null (form bodies send digits); the services check the range.
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && /^\d{1,12}$/.test(value)) return Number(value);
      throw invalidClientMetadata(`${name} must be a whole number of seconds, or null`);
    }
    if (nullable && only.type === 'object' && !isObject(value)) return fail(`"${name}" must be an object or null`);
    return read(only, value, name, path);
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return fail(`"${name}" must be a string`);
      if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) return fail(schema.errorMessage ?? `"${name}" is not in the expected form`);
      return value;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return fail(`"${name}" must be true or false`);
    case 'integer': {
      const n = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : value;
      const { minimum, maximum } = schema;
      const inRange = typeof n === 'number' && Number.isInteger(n) && (minimum === undefined || n >= minimum) && (maximum === undefined || n <= maximum);
      if (inRange) return n;
      return fail(minimum !== undefined && maximum !== undefined ? `"${name}" must be a whole number from ${minimum} to ${maximum}` : `"${name}" must be a whole number`);
    }
    case 'array': {
      const items = schema.items ?? {};
      if (items.type === 'string' || (items.type === undefined && enumValues(items))) {
        // One form field is a list of one; an empty one is the empty list.
        const list = typeof value === 'string' ? (value === '' ? [] : [value]) : value;
        if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) return fail(`"${name}" must be an array of strings`);
        return list.map((x: string, i) => read(items, x, `${name}[${i}]`, `${path}[${i}]`));
      }
      if (!Array.isArray(value)) return fail(`"${name}" must be an array`);
      return value.map((x: unknown, i) => read(items, x, `${name}[${i}]`, `${path}[${i}]`));
    }
    case 'object':
      if (!isObject(value)) return fail(schema.errorMessage ?? `"${name}" must be a JSON object`);
      return readObject(schema, value, `${path}.`);
    default:
      return value;
  }
}

/** An object's members: unknown ones refused, required ones present (a blank string is none). */
function readObject(schema: Shape, value: Record<string, unknown>, prefix: string, unknown = 'field'): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const record = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  const open = schema.additionalProperties === true;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // Own members only: "constructor", "toString" or "__proto__" are unknown fields, not
    // Object.prototype's.
    const member = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (member) {
      if (v !== undefined) out[key] = read(member, v, key, `${prefix}${key}`);
    } else if (record) {
      out[key] = read(record, v, `${prefix}${key}`, `${prefix}${key}`);
    } else if (open) {
      out[key] = v;
    } else {
      fail(`Unknown ${unknown} "${prefix}${key}"; expected ${Object.keys(properties).join(', ') || 'none'}`);
    }
  }
  for (const key of schema.required ?? []) {
    const v = out[key];
    if (v === undefined || (typeof v === 'string' && v.trim() === '')) fail(`"${key}" is required`);
  }
  return out;
}

/**
 * The query string as Fastify parsed it (a null-prototype object, repeated names as arrays): a
 * repeated parameter is refused, an empty one is absent. fromEntries keeps "__proto__" a name.
 */
function readQuery(schema: Shape, value: unknown): Record<string, unknown> {
  const entries = Object.entries(isObject(value) ? value : {});
  for (const [key, v] of entries) if (Array.isArray(v)) fail(`Parameter "${key}" must not be repeated`);
  return readObject(schema, Object.fromEntries(entries.filter(([, v]) => v !== '')), '', 'query parameter');
}

function readPart(part: Part, schema: Shape, data: unknown): unknown {
  switch (part) {
    case 'body': {
      if (schema['x-checked-by'] === 'service') return data ?? {};
      if (data === undefined || data === null) return readObject(schema, {}, '');
      if (!isObject(data)) return fail('The request body must be a JSON object');
      return readObject(schema, formObject(data) ?? data, '');
    }
    case 'querystring':
      return readQuery(schema, data);
    default:
      // Path parameters are strings by construction; the schema types them and documents them.
      return data;
  }
}

const compiler: FastifySchemaCompiler<Shape> = ({ schema, httpPart }) => {
  const part = (httpPart ?? 'body') as Part;
  return (data: unknown) => {
    try {
      return { value: readPart(part, schema, data) };
    } catch (err) {
      if (err instanceof OAuthError) return { error: err };
      throw err;
    }
  };
};

/**
 * Makes `api` (an admin context) read requests with its route schemas, and send responses as
 * plain JSON (response schemas document the answer and are checked by the tests; they never
 * filter what is sent).
 */
export function useRouteSchemas(api: FastifyInstance) {
  api.setValidatorCompiler(compiler);
  api.setSerializerCompiler(() => (data) => JSON.stringify(data));
  return api.withTypeProvider<SchemaTypes>();
}

/** An admin context after `useRouteSchemas`. */
export type SchemaApi = ReturnType<typeof useRouteSchemas>;
