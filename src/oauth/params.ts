/**
 * Request parameters for the protocol endpoints, from a query string, a form-encoded body
 * (RFC 6749 Appendix B) or a JSON body (T1). One strict reader for all of them:
 * - RFC 6749 §3.1/§3.2: "Request and response parameters MUST NOT be included more than once."
 * - RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted."
 */
import { invalidRequest } from './errors.js';

export type Params = ReadonlyMap<string, readonly string[]>;

const MAX_PARAMS = 64;

export function paramsFromSearch(search: URLSearchParams): Params {
  const out = new Map<string, string[]>();
  let count = 0;
  for (const [key, value] of search) {
    if (++count > MAX_PARAMS) throw invalidRequest('Too many parameters');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

export function paramsFromForm(body: string): Params {
  return paramsFromSearch(new URLSearchParams(body));
}

/** JSON bodies: an object whose values are strings (numbers and booleans are stringified). */
export function paramsFromJson(body: unknown): Params {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object');
  }
  const out = new Map<string, string[]>();
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length > MAX_PARAMS) throw invalidRequest('Too many parameters');
  for (const [key, value] of entries) {
    if (typeof value === 'string') out.set(key, [value]);
    else if (typeof value === 'number' || typeof value === 'boolean') out.set(key, [String(value)]);
    else if (value === null) continue;
    else throw invalidRequest(`Parameter "${key}" must be a string`);
  }
  return out;
}

/** The single value of `name`, or undefined when absent or empty; a repeated parameter is refused. */
export function single(params: Params, name: string): string | undefined {
  const values = params.get(name);
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw invalidRequest(`Parameter "${name}" must not be repeated`);
  const v = values[0];
  return v === undefined || v === '' ? undefined : v;
}

export function required(params: Params, name: string): string {
  const v = single(params, name);
  if (v === undefined) throw invalidRequest(`Missing required parameter "${name}"`);
  return v;
}

/** Refuses any repeated parameter at all (the token endpoint checks every parameter, not only known ones). */
export function assertNoRepeats(params: Params): void {
  for (const [key, values] of params) {
    if (values.length > 1) throw invalidRequest(`Parameter "${key}" must not be repeated`);
  }
}
