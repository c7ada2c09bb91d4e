/**
 * A credential that can be used once came back: a used authorization code (RFC 6749 §4.1.2:
 * the server "SHOULD revoke … all tokens previously issued based on that authorization code")
 * or a rotated refresh token (RFC 9700 §4.14.2). Either way the whole family it belongs to is
 * revoked and the event recorded, with the number of tokens it revoked.
 */
import type { OAuthContext } from '../context.js';

export async function revokeReplayedFamily(
  ctx: OAuthContext,
  event: 'code.replay_detected' | 'refresh.reuse_detected',
  replayed: { readonly familyId: string; readonly clientId: string; readonly userId: string | null },
  ip: string | null,
): Promise<void> {
  const revoked = await ctx.storage.tokens.revokeFamily(replayed.familyId, ctx.now());
  await ctx.audit.record(event, { clientId: replayed.clientId, actorUserId: replayed.userId, ip, details: { revoked } });
}
