/** Authorization server metadata (RFC 8414 §2), listing every endpoint and capability (T11). */
import type { Config } from '../config.js';
import { grantTypes } from './grants/registry.js';
import './grants/index.js';

export function serverMetadata(config: Config, scopes: readonly string[]): Record<string, unknown> {
  const base = config.issuer;
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    ...(config.registration !== 'off' ? { registration_endpoint: `${base}/oauth/register` } : {}),
    scopes_supported: scopes,
    response_types_supported: ['code', 'token'],
    response_modes_supported: ['query', 'fragment'],
    grant_types_supported: [...grantTypes(), 'implicit'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint: `${base}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint: `${base}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: config.allowPlainPkce ? ['S256', 'plain'] : ['S256'],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${base}/docs`,
    ui_locales_supported: ['en'],
  };
}
