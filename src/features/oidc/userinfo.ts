/**
 * The UserInfo endpoint (OpenID Connect Core §5.3): GET or POST with `Authorization: Bearer`, or
 * POST with the form parameter `access_token` (RFC 6750 §2.2); the token must be an active access
 * token for a person, issued for Tollgate's own API with the `openid` scope. The answer is `sub`
 * and only the claims the token's scopes release (§5.4). Errors as RFC 6750 §3.
 */
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import type { EndpointRequest, EndpointResponse } from '../../oauth/feature.js';
import { OAuthError } from '../../oauth/errors.js';
import { lookupActiveToken } from '../../oauth/tokens/lookup.js';
import { scopedClaims } from './claims.js';
import { parseAuthorizationHeader } from '../../resource/header.js';
import { BearerError } from '../../resource/errors.js';

function presentedToken(req: EndpointRequest, method: 'GET' | 'POST'): string {
  const header = req.authorization;
  const form = method === 'POST' ? req.params.get('access_token') : undefined;
  if (req.query.has('access_token')) throw new OAuthError('invalid_request', 'Send the access token in the Authorization header, not in the URL', 400);
  if (header !== undefined && form !== undefined) throw new OAuthError('invalid_request', 'Send the access token one way only', 400);
  if (form !== undefined) {
    if (form.length !== 1 || form[0] === '') throw new OAuthError('invalid_request', 'The parameter "access_token" must appear once', 400);
    return form[0] as string;
  }
  // The resource toolkit's reader: one space, one RFC 6750 b64token, at most 8 KiB.
  try {
    return parseAuthorizationHeader(header);
  } catch (err) {
    if (err instanceof BearerError) throw new OAuthError(err.error, err.description, err.status);
    throw err;
  }
}

export async function handleUserInfo(ctx: OAuthContext, req: EndpointRequest, method: 'GET' | 'POST'): Promise<EndpointResponse> {
  const token = presentedToken(req, method);
  const active = await lookupActiveToken(ctx, token);
  if (!active || active.row.kind !== 'access') throw new OAuthError('invalid_token', 'The access token is invalid, expired or revoked', 401);
  if (active.row.audience !== null && active.row.audience !== defaultAudience(ctx.config)) {
    throw new OAuthError('invalid_token', 'The access token is not for this server', 401);
  }
  const userId = active.row.userId;
  if (userId === null) throw new OAuthError('invalid_token', 'The access token is not for a person', 401);
  if (!active.scopes.includes('openid')) throw new OAuthError('insufficient_scope', 'The access token lacks the openid scope', 403);
  return { status: 200, body: { ...(await scopedClaims(ctx, userId, active.scopes)), sub: userId } };
}
