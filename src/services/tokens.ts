/**
 * Token management shared by the revocation endpoint, the CLI and the admin API: one way to revoke
 * a stored token and record it.
 */
import type { TokenRow } from '../storage/types.js';
import type { OAuthContext } from '../oauth/context.js';
import { invalidRequest } from '../oauth/errors.js';
import { findTokenRow } from '../oauth/tokens/lookup.js';

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

/**
 * T9, for administrators (admin API and CLI): one token (a refresh token takes its family along),
 * every token of an application, or one user's tokens for an application. `notFound` names what
 * was not found; nothing is revoked then.
 */
export async function revokeTokens(
  ctx: OAuthContext,
  target: { readonly token: string | undefined; readonly clientId: string | undefined; readonly userEmail: string | undefined },
  actor: { readonly actorUserId?: string | null; readonly ip?: string | null; readonly via: string },
): Promise<{ revoked: number; what: string } | { notFound: string }> {
  const { token, clientId, userEmail } = target;
  if (token !== undefined && (clientId !== undefined || userEmail !== undefined)) {
    throw invalidRequest('"token" cannot be combined with "client_id" or "user_email"');
  }
  const audit = { actorUserId: actor.actorUserId ?? null, ip: actor.ip ?? null };
  if (token !== undefined) {
    // A JWT is signature-checked and found by its jti; an opaque token by its hash.
    const row = await findTokenRow(ctx, token);
    if (!row) return { notFound: 'Unknown token: not issued by this server, or expired and purged' };
    const revoked = await revokeStoredToken(ctx, row, { via: actor.via, ...audit });
    return { revoked, what: `the ${row.kind} token${row.kind === 'refresh' ? ' and its family' : ''}` };
  }
  if (clientId === undefined) throw invalidRequest('Give "token", "client_id", or "client_id" with "user_email"');
  const client = await ctx.storage.clients.byId(clientId);
  if (!client) return { notFound: `No application with the client_id ${clientId}` };
  const now = ctx.now();
  if (userEmail === undefined) {
    const revoked = await ctx.storage.tokens.revokeByClient(client.clientId, now);
    await ctx.audit.record('token.revoked', { ...audit, clientId: client.clientId, details: { revoked, via: actor.via, scope: 'client' } });
    return { revoked, what: `the tokens of ${client.clientId}` };
  }
  const user = await ctx.storage.users.byEmail(userEmail.trim().toLowerCase());
  if (!user) return { notFound: `No user with the email ${userEmail}` };
  const revoked = await ctx.storage.tokens.revokeByUserAndClient(user.id, client.clientId, now);
  await ctx.audit.record('token.revoked', {
    ...audit,
    clientId: client.clientId,
    details: { revoked, via: actor.via, scope: 'user_and_client', userId: user.id },
  });
  return { revoked, what: `${user.email}'s tokens for ${client.clientId}` };
}
