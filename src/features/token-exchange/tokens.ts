/**
 * The tokens a token exchange reads (RFC 8693 §2.1): the subject token and the actor token, each
 * checked and reduced to what the exchange needs. Refused with `invalid_grant` (§2.2.2) when not
 * active or not addressed to the exchanging application; an unsupported type is `invalid_request`.
 *
 * Addressing (docs/token-exchange.md, "Which tokens an application may exchange"): an access
 * token is accepted when it was issued to the exchanging application, or when its audience is
 * that application — its client_id, or a resource server that names it among its introspectors
 * (the applications that serve that resource server). An ID token is accepted only when its
 * audience is the exchanging application. A token meant for anyone else is refused, so a leaked
 * token cannot be laundered into a token for another audience.
 */
import { decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import type { OAuthContext } from '../../oauth/context.js';
import { sha256 } from '../../oauth/crypto.js';
import { invalidGrant, invalidRequest } from '../../oauth/errors.js';
import { lookupActiveToken } from '../../oauth/tokens/lookup.js';
import { exchangeFamilyOf, type ActClaim, type ClientRow, type TokenRow } from '../../storage/types.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';

/** What the exchange needs of a subject or actor token. */
export interface ReadToken {
  readonly type: 'access_token' | 'id_token';
  /** The person, or null when the subject is an application. */
  readonly userId: string | null;
  /** The application, when the token acts for no person (a client-credentials token). */
  readonly appId: string | null;
  /** `sub`: the person's id or the application's client_id. */
  readonly sub: string;
  /** The application the token was issued to. */
  readonly clientId: string;
  /** Its scopes; an ID token's are the person's consent to the exchanging application. */
  readonly scopes: readonly string[];
  /** Epoch ms; null for a long-lived token. */
  readonly expiresAt: number | null;
  /** The family exchanged tokens join: the token's own, or the one named after it. */
  readonly familyId: string;
  /** The delegation it already carries (it was itself exchanged with an actor). */
  readonly act: ActClaim | null;
}

/** Which token the message is about, for the error descriptions. */
type Role = 'subject' | 'actor';

function notUsable(role: Role, detail: string): Error {
  return invalidGrant(`The ${role} token is invalid, expired or revoked`, detail);
}

/** Refuses a token type the exchange does not accept (`invalid_request`, before any token is read). */
export function assertTokenType(role: Role, type: string): void {
  if (type === ACCESS_TOKEN_TYPE || type === ID_TOKEN_TYPE) return;
  if (type === REFRESH_TOKEN_TYPE) throw invalidRequest(`Refresh tokens are not accepted as ${role} tokens`);
  throw invalidRequest(`Unsupported ${role}_token_type: use ${ACCESS_TOKEN_TYPE} or ${ID_TOKEN_TYPE}`);
}

/** Checks `type`, then reads the token as that type. */
export async function readToken(ctx: OAuthContext, client: ClientRow, role: Role, token: string, type: string): Promise<ReadToken> {
  assertTokenType(role, type);
  return type === ACCESS_TOKEN_TYPE ? readAccessToken(ctx, client, role, token) : readIdToken(ctx, client, role, token);
}

async function readAccessToken(ctx: OAuthContext, client: ClientRow, role: Role, token: string): Promise<ReadToken> {
  const active = await lookupActiveToken(ctx, token);
  if (!active) throw notUsable(role, 'unknown, expired, revoked or inactive');
  const { row } = active;
  if (row.kind !== 'access') throw notUsable(role, 'a refresh token presented as an access token');
  if (!(await addressedTo(ctx, row, client))) {
    throw invalidGrant(`The ${role} token is not addressed to this application`, `issued to ${row.clientId} for ${row.audience ?? '(none)'}`);
  }
  const appId = row.userId === null ? active.subject : null;
  return {
    type: 'access_token',
    userId: row.userId,
    appId,
    sub: active.subject,
    clientId: row.clientId,
    scopes: active.scopes,
    expiresAt: row.expiresAt,
    familyId: row.familyId ?? exchangeFamilyOf(row.tokenHash),
    act: row.exchange?.act ?? null,
  };
}

/** Issued to the exchanging application, or for an audience that is that application. */
async function addressedTo(ctx: OAuthContext, row: TokenRow, client: ClientRow): Promise<boolean> {
  if (row.clientId === client.clientId) return true;
  if (row.audience === null) return false;
  if (row.audience === client.clientId) return true;
  const rs = await ctx.storage.resourceServers.byIdentifier(row.audience);
  // A resource server registered before introspectors existed (null: anyone) names nobody.
  return rs !== null && rs.introspectors !== null && rs.introspectors.includes(client.clientId);
}

async function readIdToken(ctx: OAuthContext, client: ClientRow, role: Role, token: string): Promise<ReadToken> {
  if (token.length > 8192) throw notUsable(role, 'too long');
  let kid: string;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== 'string' || header.typ !== 'JWT') throw notUsable(role, 'not an ID token header');
    kid = header.kid;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw notUsable(role, 'not a JWT');
    throw err;
  }
  // Outside the try: a storage failure while loading keys is a 5xx, never "invalid token".
  const key = await ctx.keys.publicKey(kid);
  if (!key) throw notUsable(role, 'unknown key');
  let sub: string;
  let exp: number;
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      issuer: ctx.config.issuer,
      typ: 'JWT',
      algorithms: [key.alg],
      clockTolerance: 5,
      requiredClaims: ['sub', 'exp', 'aud'],
    });
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    // OIDC Core §2: with several audiences, azp names the one it was issued to.
    const addressed = aud.length === 1 ? aud[0] === client.clientId : aud.includes(client.clientId) && payload['azp'] === client.clientId;
    if (!addressed) throw invalidGrant(`The ${role} token is not addressed to this application`, 'ID token for another audience');
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw notUsable(role, 'ID token without sub or exp');
    sub = payload.sub;
    exp = payload.exp;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) throw notUsable(role, `ID token: ${err.message}`);
    throw err;
  }
  const user = await ctx.accounts.byId(sub);
  if (!user || user.disabled) throw notUsable(role, 'the person is disabled or deleted');
  // An ID token carries no scope: what the person approved for this application stands for it.
  const consent = role === 'subject' ? await ctx.storage.consents.get(sub, client.clientId) : null;
  if (role === 'subject' && consent === null) throw invalidGrant('The person has not authorized this application', 'no consent');
  return {
    type: 'id_token',
    userId: sub,
    appId: null,
    sub,
    clientId: client.clientId,
    scopes: consent === null || consent.scope === '' ? [] : consent.scope.split(' '),
    expiresAt: exp * 1000,
    familyId: exchangeFamilyOf(sha256(token)),
    act: null,
  };
}
