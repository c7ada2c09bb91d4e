/**
 * `tollgate/resource`: protect your own API with tokens issued by Tollgate (R3, RFC 6750).
 *
 *   import { createVerifier, fastifyBearer, bearer } from 'tollgate/resource';
 *   const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com',
 *                                     introspection: { clientId, clientSecret } });
 *
 * Depends only on `jose` and Node built-ins; `fastify` and `express` are never loaded.
 */
export {
  createVerifier,
  metadataUrl,
  type IntrospectionResponse,
  type VerifiedToken,
  type Verifier,
  type VerifierOptions,
  type VerifyOptions,
} from './verifier.js';
export {
  BearerError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
  errorResponse,
  type BearerErrorCode,
  type BearerErrorOptions,
  type ErrorResponse,
} from './errors.js';
export {
  buildResourceMetadata,
  protectedResourceMetadataUrl,
  resourceMetadataResponse,
  RESOURCE_METADATA_PREFLIGHT,
  type ResourceMetadata,
  type ResourceMetadataOptions,
} from './metadata.js';
export { assertNoTokenInQuery, parseAuthorizationHeader, MAX_AUTHORIZATION_LENGTH } from './header.js';
export { requireScopes, type RequireScopesOptions, type ScopeMode } from './scopes.js';
export { fastifyBearer, sendBearerError, type FastifyBearerOptions, type RouteOAuthConfig } from './fastify.js';
export { bearer, resourceMetadata, type BearerMiddleware, type BearerMiddlewareOptions, type BearerRequest, type BearerResponse } from './connect.js';
