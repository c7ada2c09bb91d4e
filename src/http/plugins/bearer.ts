/**
 * Bearer-token checks for Tollgate's own protected routes (RFC 6750, R2), on the resource-server
 * toolkit (`src/resource`, one implementation of bearer checks): the same header parsing,
 * query-string refusal, audience and scope checks as any resource server. The token source is
 * local: the toolkit's `resolveToken` reads the database (`lookupActiveToken`) on every request,
 * with no cache, so revocation, a deactivated application and a disabled user stop a token at
 * once, in every process.
 */
import type { FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { OAuthError } from '../../oauth/errors.js';
import { lookupActiveToken } from '../../oauth/tokens/lookup.js';
import {
  BearerError,
  createVerifier,
  type IntrospectionResponse,
  type Verifier,
} from '../../resource/index.js';

/** Who a verified token is for, in Tollgate's terms. */
export interface BearerToken {
  /** `sub`: the user, or the application acting as itself. */
  readonly subject: string;
  readonly clientId: string;
  /** The user the token acts for; null for an application acting as itself. */
  readonly userId: string | null;
  readonly userEmail: string | null;
  /** The granted scopes, space-separated, as issued. */
  readonly scope: string;
  readonly scopes: readonly string[];
}

/** An RFC 7662 answer from the database, plus Tollgate's own `user_id` (null for an app as itself). */
async function resolveLocally(ctx: OAuthContext, token: string): Promise<IntrospectionResponse> {
  const active = await lookupActiveToken(ctx, token);
  if (!active || active.row.kind !== 'access') return { active: false };
  const { row } = active;
  return {
    active: true,
    token_type: 'Bearer',
    iss: ctx.config.issuer,
    sub: active.subject,
    client_id: row.clientId,
    scope: row.scope,
    ...(row.audience !== null ? { aud: row.audience } : {}),
    ...(row.expiresAt !== null ? { exp: Math.floor(row.expiresAt / 1000) } : {}),
    iat: Math.floor(row.createdAt / 1000),
    ...(active.userEmail !== null ? { username: active.userEmail } : {}),
    user_id: row.userId,
  };
}

const verifiers = new WeakMap<OAuthContext, Map<string, Verifier>>();

export function verifierFor(ctx: OAuthContext, audience: string): Verifier {
  let byAudience = verifiers.get(ctx);
  if (!byAudience) verifiers.set(ctx, (byAudience = new Map()));
  let v = byAudience.get(audience);
  if (!v) {
    v = createVerifier({
      issuer: ctx.config.issuer,
      audience,
      realm: 'tollgate',
      // The database answers with the stored expiry; no caching: every check is current (O3).
      cacheTtl: 0,
      // The database already refused expired rows; a second of slack covers `exp` being rounded down.
      clockSkew: 1,
      now: () => ctx.now(),
      resolveToken: (token) => resolveLocally(ctx, token),
      // RFC 9728: Tollgate's own API says where its tokens come from (served by routes/api.ts).
      resourceMetadata: { resource: audience, resourceName: `${ctx.branding.name} API`, resourceDocumentation: `${ctx.config.issuer}/docs` },
    });
    byAudience.set(audience, v);
  }
  return v;
}

/** The toolkit's typed errors as Tollgate's OAuthError, for the one HTTP error handler. */
function toOAuthError(err: BearerError): OAuthError {
  return new OAuthError(err.error, err.description, err.status, err.detail, err.status === 503 ? undefined : err.wwwAuthenticate);
}

export async function requireBearer(
  ctx: OAuthContext,
  request: FastifyRequest,
  opts: { readonly audience: string; readonly scopes: readonly string[] },
): Promise<BearerToken> {
  try {
    const token = await verifierFor(ctx, opts.audience).verify(request.headers.authorization, { scopes: opts.scopes, url: request.url });
    const userId = token.claims['user_id'];
    const username = token.claims['username'];
    return {
      subject: token.subject,
      clientId: token.clientId,
      userId: typeof userId === 'string' ? userId : null,
      userEmail: typeof username === 'string' ? username : null,
      scope: typeof token.claims['scope'] === 'string' ? token.claims['scope'] : '',
      scopes: token.scopes,
    };
  } catch (err) {
    throw err instanceof BearerError ? toOAuthError(err) : err;
  }
}
