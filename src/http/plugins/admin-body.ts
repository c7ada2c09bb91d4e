/**
 * Reading admin API requests (JSON or form bodies, snake_case fields): unknown fields and query
 * parameters are refused with 400 `invalid_request`, so a typo never silently does nothing.
 */
import type { FastifyRequest } from 'fastify';
import { invalidClientMetadata, invalidRequest } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { bodyObject, queryParams } from './body.js';

export type Body = Readonly<Record<string, unknown>>;

/** The body as an object holding only `allowed` fields. */
export function readBody(request: FastifyRequest, allowed: readonly string[]): Body {
  const raw = request.body;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw invalidRequest('The request body must be a JSON object');
  }
  const body = bodyObject(request);
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalidRequest(`Unknown field "${key}"; expected ${allowed.join(', ')}`);
  }
  return body;
}

/** The query parameters, refusing unknown and repeated ones. */
export function readQuery(request: FastifyRequest, allowed: readonly string[]): Params {
  const params = queryParams(request);
  for (const key of params.keys()) {
    if (!allowed.includes(key)) throw invalidRequest(`Unknown query parameter "${key}"; expected ${allowed.join(', ') || 'none'}`);
  }
  return params;
}

export function str(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidRequest(`"${key}" must be a string`);
  return v;
}

export function requiredStr(body: Body, key: string): string {
  const v = str(body, key);
  if (v === undefined || v.trim() === '') throw invalidRequest(`"${key}" is required`);
  return v;
}

/** A string, or null (JSON null or an empty string) to clear the value. */
export function nullableStr(body: Body, key: string): string | null | undefined {
  const v = body[key];
  if (v === null) return null;
  const s = str(body, key);
  return s === '' ? null : s;
}

/** A boolean; form bodies may send "true" / "false". */
export function bool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw invalidRequest(`"${key}" must be true or false`);
}

/** A number of seconds or null; form bodies may send digits, or "" for null. The service checks the range. */
export function secondsOrNull(body: Body, key: string): number | null | undefined {
  const v = body[key];
  if (v === undefined || v === null || typeof v === 'number') return v;
  if (v === '') return null;
  if (typeof v === 'string' && /^\d{1,12}$/.test(v)) return Number(v);
  throw invalidClientMetadata(`${key} must be a whole number of seconds, or null`);
}

/** A list of strings; a single string (one form field) counts as a list of one. */
export function strList(body: Body, key: string): string[] | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return v;
  throw invalidRequest(`"${key}" must be an array of strings`);
}

export function oneOf<T extends string>(body: Body, key: string, values: readonly T[]): T | undefined {
  const v = str(body, key);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw invalidRequest(`"${key}" must be one of: ${values.join(', ')}`);
  return v as T;
}

/** `scopes` (array) or `scope` (space-separated string, RFC 6749 style), not both. */
