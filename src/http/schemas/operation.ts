/**
 * The route options of one /admin/api operation: its schemas (read by
 * src/http/plugins/schema-reader.ts, typed for the handler, collected by @fastify/swagger into
 * /openapi.json) and what the OpenAPI document says about it — summary, the scope the Bearer
 * token needs (`security`, repeated as `x-required-scopes`), and the error answers every admin
 * operation can give.
 */
import type { TSchema } from 'typebox';
import { ErrorBody } from './admin.js';

export type AdminScope = 'admin' | 'login';

export interface OperationSpec<B extends TSchema | undefined, Q extends TSchema | undefined, P extends TSchema | undefined> {
  readonly summary: string;
  /** [status, description, schema?] of the success answer; no schema: an empty body. */
  readonly ok: readonly [number, string, TSchema?];
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** The operation can answer 404 `not_found`. */
  readonly notFound?: boolean;
  /** The scope the token needs (default `admin`, acting for an administrator). */
  readonly scope?: AdminScope;
}

const answer = (description: string, schema: TSchema | null): Record<string, unknown> =>
  schema === null ? { 'x-response-description': description, type: 'null' } : { ...schema, 'x-response-description': description };

/** Route options for an admin operation (Fastify `schema` + the `bearer` route flag). */
export function operation<B extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, P extends TSchema | undefined = undefined>(
  spec: OperationSpec<B, Q, P>,
) {
  const scope = spec.scope ?? 'admin';
  const [status, description, schema] = spec.ok;
  const options = {
    config: { bearer: true },
    schema: {
      summary: spec.summary,
      tags: ['admin'],
      security: [{ bearer: [scope] }],
      'x-required-scopes': [scope],
      ...(spec.body !== undefined ? { consumes: ['application/json', 'application/x-www-form-urlencoded'] } : {}),
      body: spec.body as B,
      querystring: spec.query as Q,
      params: spec.params as P,
      response: {
        [status]: answer(description, schema ?? null),
        400: answer('invalid_request, invalid_client_metadata or invalid_redirect_uri (unknown fields are refused)', ErrorBody),
        401: answer('No token (challenge only), or invalid_token: unknown, expired, revoked, or for another audience', ErrorBody),
        403: answer(
          scope === 'login'
            ? "insufficient_scope: the token lacks the login scope, or acts for a person instead of the platform's application"
            : 'insufficient_scope: the token lacks the admin scope, or acts for no user or a user who is not an administrator',
          ErrorBody,
        ),
        ...(spec.notFound ? { 404: answer('not_found: no such resource', ErrorBody) } : {}),
      },
    },
  };
  // A part without a schema is left out (Fastify warns about a part given as undefined).
  for (const part of ['body', 'querystring', 'params'] as const) if (options.schema[part] === undefined) delete options.schema[part];
  return options;
}
