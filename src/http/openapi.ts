/**
 * The OpenAPI 3.1 document (O6, R4) served at /openapi.json and rendered at /docs.
 *
 * The admin API's operations are not written here: @fastify/swagger collects them from the
 * routes' own schemas (src/http/schemas/admin.ts, src/http/schemas/operation.ts), the same
 * schemas that check the requests. The protocol endpoints are described here by hand: they read
 * their parameters with the strict RFC 6749 reader (src/oauth/params.ts), not with schemas — a
 * repeated parameter is refused, an unknown one ignored, nothing coerced (RFC 6749 §3.1–3.2).
 */
import type { Config } from '../config.js';

type Schema = Record<string, unknown>;

/** The name under which @fastify/swagger's document function is decorated on a Tollgate context. */
export const OPENAPI_DECORATOR = 'tollgateOpenApi';

/** What @fastify/swagger starts the document from (`openapi` option): everything but the admin operations. */
export function openApiBase(config: Config): Schema {
  const err = { $ref: '#/components/schemas/Error' };
  const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: err } } });
  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate', version: '0.1.0', description: 'OAuth 2.0 authorization server' },
    servers: [{ url: config.issuer }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token issued by this server (RFC 6750)' },
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret (RFC 6749 §2.3.1)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
      },
    },
    paths: {
      '/oauth/authorize': {
        get: { summary: 'Authorization endpoint (RFC 6749 §4.1.1, §4.2.1)', responses: { '303': { description: 'Redirect to the client' }, '400': { description: 'Error page' } } },
      },
      '/oauth/token': {
        post: {
          summary: 'Token endpoint (RFC 6749 §3.2)',
          security: [{ clientBasic: [] }, {}],
          responses: { '200': { description: 'Tokens' }, '400': jsonError('OAuth error'), '401': jsonError('invalid_client') },
        },
      },
      '/oauth/revoke': { post: { summary: 'Revocation (RFC 7009)', security: [{ clientBasic: [] }], responses: { '200': { description: 'Revoked (or unknown)' } } } },
      '/oauth/introspect': { post: { summary: 'Introspection (RFC 7662)', security: [{ clientBasic: [] }], responses: { '200': { description: 'Token state' } } } },
      '/oauth/device_authorization': {
        post: {
          summary: 'Device authorization (RFC 8628 §3.1): a device code and a user code for a device that cannot receive a redirect',
          security: [{ clientBasic: [] }, {}],
          responses: { '200': { description: 'device_code, user_code, verification_uri(_complete), expires_in, interval' }, '400': jsonError('OAuth error'), '401': jsonError('invalid_client') },
        },
      },
      '/oauth/register': { post: { summary: 'Dynamic client registration (RFC 7591)', responses: { '201': { description: 'Registered' }, '400': jsonError('invalid_client_metadata') } } },
      '/.well-known/oauth-authorization-server': { get: { summary: 'Metadata (RFC 8414)', responses: { '200': { description: 'Metadata' } } } },
      '/.well-known/jwks.json': { get: { summary: 'Signing keys (RFC 7517)', responses: { '200': { description: 'JWK set' } } } },
      '/api/': {
        get: { summary: 'Who this token is for (R1); no scope needed', security: [{ bearer: [] }], responses: { '200': { description: 'Token owner' }, '401': jsonError('invalid_token') } },
      },
      '/api/me': {
        get: {
          summary: 'The signed-in user',
          security: [{ bearer: ['profile'] }],
          'x-required-scopes': ['profile'],
          responses: { '200': { description: 'User' }, '401': jsonError('invalid_token'), '403': jsonError('insufficient_scope') },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness (database reachable)', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
    },
  };
}
