/**
 * Finding out whether a presented token is active: one implementation used by introspection
 * (RFC 7662), revocation (RFC 7009) and the protected API (RFC 6750). A token is active only if
 * it is known, unexpired, unrevoked, its application is active and its user is not disabled —
 * checked against the database on every call, so every process agrees at once (O3).
 */
import type { TokenRow } from '../../storage/types.js';
import type { OAuthContext } from '../context.js';
import { sha256 } from '../crypto.js';
import { looksLikeJwt, verifyAccessToken } from './jwt.js';

export interface ActiveToken {
  readonly row: TokenRow;
  readonly subject: string;
  readonly userEmail: string | null;
  readonly scopes: readonly string[];
}

/** The stored row a presented token refers to (signature-checked for JWTs), active or not. */
export async function findTokenRow(ctx: OAuthContext, token: string): Promise<TokenRow | null> {
  if (token.length > 8192) return null;
  if (looksLikeJwt(token)) {
    // verifyAccessToken returns null for a bad token; anything it throws (a storage failure while
    // loading keys) must surface as a 5xx, never as an inactive answer.
    const claims = await verifyAccessToken(ctx.keys, token, ctx.config.issuer);
    if (claims) {
      const row = await ctx.storage.tokens.byHash(sha256(claims.jti));
      return row && row.format === 'jwt' && row.clientId === claims.client_id ? row : null;
    }
    // Not one of Tollgate's JWTs: an imported token of another system may still look like one
    // (Oro issued JWTs), and is then stored as an opaque value (services/import.ts).
  }
  const row = await ctx.storage.tokens.byHash(sha256(token));
  return row && row.format === 'opaque' ? row : null;
}

export async function lookupActiveToken(ctx: OAuthContext, token: string): Promise<ActiveToken | null> {
  const row = await findTokenRow(ctx, token);
  if (!row) return null;
  const now = ctx.now();
  if (row.revokedAt !== null) return null;
  if (row.expiresAt !== null && row.expiresAt <= now) return null;
  if (row.kind === 'refresh' && row.consumedAt !== null) return null;
  const client = await ctx.storage.clients.byId(row.clientId);
  if (!client || !client.active) return null;
  let userEmail: string | null = null;
  if (row.userId !== null) {
    const user = await ctx.accounts.byId(row.userId);
    if (!user || user.disabled) return null;
    userEmail = user.email;
  }
  // A token exchanged from an application's own token acts for that application: active only while it is.
  const appSubject = row.exchange?.subject ?? null;
  if (appSubject !== null && appSubject !== row.clientId) {
    const subjectApp = await ctx.storage.clients.byId(appSubject);
    if (!subjectApp || !subjectApp.active) return null;
  }
  return {
    row,
    subject: row.userId ?? appSubject ?? row.clientId,
    userEmail,
    scopes: row.scope === '' ? [] : row.scope.split(' '),
  };
}
