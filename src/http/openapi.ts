/**
 * The OpenAPI 3.1 document (O6, R4): every endpoint, with the scope each protected operation
 * requires (`security: [{ bearer: [scope] }]`).
 */
import type { Config } from '../config.js';

export function openApiDocument(config: Config): Record<string, unknown> {
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
