/**
 * Compatibility profiles (issue #11 §4, docs/compat.md): with TOLLGATE_COMPAT, Tollgate also
 * answers at the paths and in the shapes each seed platform documents, so a third-party
 * application written against that platform's document works with only the host name changed.
 * Each path is served at the host's root (where the platform's own was), mapped to one of
 * Tollgate's endpoints. Waivers of RFC rules apply only to that profile's requests and only where
 * they add no risk; they are listed here and in docs/compat.md.
 */
import type { CompatProfile } from '../../config.js';

export type CompatTarget =
  /** The authorization endpoint (a browser is redirected there, parameters kept). */
  | { readonly kind: 'authorize'; readonly defaultResponseType?: 'code' }
  /** The token endpoint, same grants and client authentication, form or JSON body. */
  | { readonly kind: 'token' }
  /** Gancio's registration: RFC 7591 underneath, Gancio's request and response shape. */
  | { readonly kind: 'gancio-register' }
  /** Frappe's revocation: the token alone, `{"message": "success"}`. */
  | { readonly kind: 'frappe-revoke' }
  /** AnyFetch's `GET /` with a Bearer token: the same answer as `/api/`. */
  | { readonly kind: 'api-root' };

export interface CompatRoute {
  readonly profile: CompatProfile;
  readonly method: 'GET' | 'POST';
  /** At the host's root. */
  readonly path: string;
  readonly target: CompatTarget;
}

export const COMPAT_ROUTES: readonly CompatRoute[] = [
  // AnyFetch: its authorize has no response_type (code is meant); its token request no redirect_uri
  // (allowed anyway when the application has exactly one, RFC 6749 §3.1.2.3).
  { profile: 'anyfetch', method: 'GET', path: '/oauth/authorize', target: { kind: 'authorize', defaultResponseType: 'code' } },
  { profile: 'anyfetch', method: 'POST', path: '/oauth/access_token', target: { kind: 'token' } },
  { profile: 'anyfetch', method: 'GET', path: '/', target: { kind: 'api-root' } },
  // Fyle: the token URL (its authorize URL is a fragment route of its web app, not a server path).
  { profile: 'fyle', method: 'POST', path: '/api/oauth/token', target: { kind: 'token' } },
  // Oro: one token URL, JSON bodies.
  { profile: 'oro', method: 'POST', path: '/oauth2-token', target: { kind: 'token' } },
  // Gancio: registration, authorize and token at its paths.
  { profile: 'gancio', method: 'POST', path: '/api/client', target: { kind: 'gancio-register' } },
  { profile: 'gancio', method: 'GET', path: '/authorize', target: { kind: 'authorize' } },
  { profile: 'gancio', method: 'POST', path: '/oauth/token', target: { kind: 'token' } },
  // Frappe: its three methods. Its public clients predate PKCE: Tollgate still requires it.
  { profile: 'frappe', method: 'GET', path: '/api/method/frappe.integrations.oauth2.authorize', target: { kind: 'authorize' } },
  { profile: 'frappe', method: 'POST', path: '/api/method/frappe.integrations.oauth2.get_token', target: { kind: 'token' } },
  { profile: 'frappe', method: 'POST', path: '/api/method/frappe.integrations.oauth2.revoke_token', target: { kind: 'frappe-revoke' } },
];

/** The routes of the enabled profiles. */
export function compatRoutes(profiles: readonly CompatProfile[]): CompatRoute[] {
  return COMPAT_ROUTES.filter((r) => profiles.includes(r.profile));
}
