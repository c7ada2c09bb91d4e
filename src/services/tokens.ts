/**
 * Token management shared by the revocation endpoint, the CLI and the admin API: one way to revoke
 * a stored token and record it.
 */
import type { TokenRow } from '../storage/types.js';
import type { OAuthContext } from '../oauth/context.js';

/**
 * Revokes a stored token and records it: a refresh token with its whole family (the access tokens
 * issued with it too, T9), an access token alone. Shared by the endpoint, the CLI and the admin API.
 */
export async function revokeStoredToken(
  ctx: OAuthContext,
  row: TokenRow,
  audit: { readonly via: string; readonly clientId?: string; readonly actorUserId?: string | null; readonly ip?: string | null },
): Promise<number> {
  const now = ctx.now();
  const revoked =
    row.kind === 'refresh' && row.familyId !== null
      ? await ctx.storage.tokens.revokeFamily(row.familyId, now)
      : await ctx.storage.tokens.revoke(row.tokenHash, now);
  await ctx.audit.record('token.revoked', {
    clientId: audit.clientId ?? row.clientId,
    actorUserId: audit.actorUserId ?? null,
    ip: audit.ip ?? null,
    details: { kind: row.kind, revoked, via: audit.via, userId: row.userId },
  });
  return revoked;
}
