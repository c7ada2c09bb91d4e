/**
 * Body parsing for the protocol endpoints. Form bodies are kept as the raw string and parsed by
 * the core's one strict parameter reader (src/oauth/params.ts), so repeated parameters are
 * detected rather than silently merged. JSON uses Fastify's parser. Bodies are capped.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { paramsFromForm, paramsFromJson, paramsFromSearch, type Params } from '../../oauth/params.js';

export const BODY_LIMIT = 64 * 1024;

/**
 * Installs Tollgate's parsers in its own (encapsulated) context, replacing whatever the host's
 * context had for these types: forms stay raw for the strict reader; JSON is Fastify's parser
 * with Tollgate's size limit.
 */
export function installBodyParsers(app: FastifyInstance): void {
  for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  }
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, app.getDefaultJsonParser('error', 'error'));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    done(null, { __form: body as string });
  });
}

function isForm(body: unknown): body is { __form: string } {
  return typeof body === 'object' && body !== null && typeof (body as { __form?: unknown }).__form === 'string';
}

/** The body's parameters (form or JSON); an absent body is empty. */
/** Parsed once per body: the rate limiter, the failure limiter and the route all read it. */
const parsed = new WeakMap<object, Params>();

export function bodyParams(request: FastifyRequest): Params {
  const body = request.body;
  if (body === undefined || body === null) return new Map();
  if (typeof body === 'object') {
    const hit = parsed.get(body);
    if (hit) return hit;
  }
  const params = isForm(body) ? paramsFromForm(body.__form) : paramsFromJson(body);
  if (typeof body === 'object') parsed.set(body, params);
  return params;
}

/**
 * A form body as a plain object (fields as strings, repeated ones as arrays); undefined for any
 * other body. fromEntries defines own properties, so a field named "__proto__" stays a field.
 */
export function formObject(body: unknown): Record<string, unknown> | undefined {
  if (!isForm(body)) return undefined;
  return Object.fromEntries([...paramsFromForm(body.__form)].map(([k, v]) => [k, v.length === 1 ? v[0] : [...v]]));
}

/** The body as a plain object (JSON as is; form fields as strings, repeated ones as arrays). */
export function bodyObject(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === undefined || body === null) return {};
  const form = formObject(body);
  if (form) return form;
  if (typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  return {};
}

export function queryParams(request: FastifyRequest): Params {
  const i = request.url.indexOf('?');
  return paramsFromSearch(new URLSearchParams(i < 0 ? '' : request.url.slice(i + 1)));
}
