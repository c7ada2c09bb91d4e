/**
 * Authorization server metadata (RFC 8414 §2), listing every endpoint and capability (T11). The
 * kernel's members come first; each enabled feature adds its own (grant types, response types,
 * endpoints), so the document always says exactly what this instance serves.
 */
import type { OAuthContext } from './context.js';
import { ASSERTION_ALGORITHMS } from './client-assertion.js';

export function serverMetadata(ctx: OAuthContext, scopes: readonly string[]): Record<string, unknown> {
  const base = ctx.config.issuer;
  const features = ctx.features;
  const modes = new Set(features.responseTypes().map((t) => features.responseType(t)?.mode ?? 'query'));
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    scopes_supported: scopes,
    response_types_supported: features.responseTypes(),
    response_modes_supported: ['query', 'fragment'].filter((m) => modes.has(m as 'query' | 'fragment')),
    grant_types_supported: [...features.clientGrantTypes()],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${base}/docs`,
    ui_locales_supported: ['en'],
    ...features.metadata(ctx),
  };
}
