/**
 * Bearer-token checks for Tollgate's own protected routes (RFC 6750, R2): the token comes only
 * from the Authorization header (§2.1; query-string tokens are refused), must be active, issued
 * for this API's audience (T12), and carry the route's scopes.
 */
import type { FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { OAuthError, insufficientScope, invalidRequest, invalidToken } from '../../oauth/errors.js';
import { lookupActiveToken, type ActiveToken } from '../../oauth/tokens/lookup.js';

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// The scheme name is case-insensitive (RFC 7235 §2.1); exactly one space, exactly one token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function extractBearer(request: FastifyRequest): string {
  const i = request.url.indexOf('?');
  // RFC 6750 §2.3 is not supported: a token in the URI ends up in logs and Referer headers.
  // Parsed (not pattern-matched), so `access%5Ftoken=` is caught too.
  if (i >= 0 && new URLSearchParams(request.url.slice(i + 1)).has('access_token')) {
    throw invalidRequest('Send the access token in the Authorization header, not in the query string');
  }
  const header = request.headers.authorization;
  // RFC 6750 §3.1: a request without any authentication information gets the bare challenge.
  if (header === undefined) throw new OAuthError('invalid_request', 'An access token is required', 401);
  if (header.length > 8192) throw invalidRequest('The Authorization header is too large');
  const m = BEARER.exec(header);
  if (!m) throw invalidRequest('Malformed Authorization header: expected "Bearer <token>"');
  return m[1] as string;
}

export async function requireBearer(
  ctx: OAuthContext,
  request: FastifyRequest,
  opts: { readonly audience: string; readonly scopes: readonly string[] },
): Promise<ActiveToken> {
  const token = extractBearer(request);
  const active = await lookupActiveToken(ctx, token);
  if (!active || active.row.kind !== 'access') throw invalidToken();
  if (active.row.audience !== opts.audience) throw invalidToken('The access token was issued for another audience');
  const missing = opts.scopes.filter((s) => !active.scopes.includes(s));
  if (missing.length > 0) throw insufficientScope(`This endpoint requires the scope: ${opts.scopes.join(' ')}`);
  return active;
}
