/**
 * Refresh token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every use returns a new
 * refresh token in the same family; reusing a rotated one revokes the whole family (T3).
 * "The requested scope MUST NOT include any scope not originally granted by the resource owner."
 */
import type { Grant } from '../../oauth/feature.js';
import { normalizeResource } from '../../oauth/audience.js';
import { invalidGrant, invalidScope, invalidTarget } from '../../oauth/errors.js';
import { sha256 } from '../../oauth/crypto.js';
import { single } from '../../oauth/params.js';
import { isSubset, parseScope } from '../../oauth/scope.js';
import { clientIssuesRefresh, prepareTokens, recordFacts, type TokenResponse } from '../../oauth/tokens/issue.js';
import { openResponse, sealResponse } from '../../oauth/tokens/grace.js';
import { revokeReplayedFamily } from '../../oauth/tokens/replay.js';

const INVALID = 'The refresh token is invalid, expired or revoked';

export const refreshTokenGrant: Grant = {
  type: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  publicClients: true,
  async handle(ctx, { client, params, ip }) {
    const token = single(params, 'refresh_token');
    if (token === undefined) throw invalidGrant('Missing "refresh_token"');
    const hash = sha256(token);
    const row = await ctx.storage.tokens.byHash(hash);
    const now = ctx.now();
    if (!row || row.kind !== 'refresh') throw invalidGrant(INVALID, 'unknown refresh token');
    if (row.clientId !== client.clientId) throw invalidGrant(INVALID, 'refresh token of another client');
    if (row.revokedAt !== null) throw invalidGrant(INVALID, 'revoked refresh token');
    if (row.consumedAt !== null) {
      const replay = await graceReplay();
      if (replay) return replay;
      await reuseDetected();
      throw invalidGrant(INVALID, 'refresh token reuse');
    }
    if (row.expiresAt !== null && row.expiresAt <= now) throw invalidGrant(INVALID, 'expired refresh token');

    const granted = parseScope(row.scope);
    const requested = parseScope(single(params, 'scope'));
    if (!isSubset(requested, granted)) throw invalidScope('The requested scope exceeds the scope originally granted');
    // Scopes the application has since lost are dropped.
    // (`openid` and the like are never held: they stay.)
    const scope = (requested.length > 0 ? requested : granted).filter((s) => client.scopes.includes(s) || ctx.features.personScopes.includes(s));
    const resource = single(params, 'resource');
    if (resource !== undefined && (row.audience === null || normalizeResource(resource) !== normalizeResource(row.audience))) {
      throw invalidTarget('The refresh token was not issued for this resource');
    }

    if (row.userId !== null) {
      const user = await ctx.accounts.byId(row.userId);
      if (!user || user.disabled) throw invalidGrant(INVALID, 'user disabled');
    }

    const issued = await prepareTokens(ctx, {
      client,
      userId: row.userId,
      scope,
      audience: row.audience ?? `${ctx.config.issuer}/api`,
      familyId: row.familyId,
      // A7: rotation issues a new refresh token only while the application's policy still
      // grants them (refresh tokens on, access tokens not long-lived); otherwise the family ends.
      // An exchanged token's refresh token also needs the token-exchange policy to still allow them.
      withRefresh: clientIssuesRefresh(client) && (row.exchange === undefined || client.tokenExchange?.refreshTokens === true),
      // Lifetime slides with each rotation, except that a never-expiring refresh token (an
      // internal app's, A6) stays never-expiring.
      ...(row.expiresAt === null ? { refreshExpiresAt: null } : {}),
      // A token exchange's tokens keep its `act` and never outlive its subject token (RFC 8693).
      ...(row.exchange ? { exchange: row.exchange } : {}),
      grantType: 'refresh_token',
    });
    // One commit: the rotated token consumed (only by this request), the consent's last use,
    // the new tokens, and the sealed response kept for the grace window.
    const won = await ctx.storage.grants.redeem({
      consume: { kind: 'refresh', hash },
      now,
      consent: row.userId !== null ? { userId: row.userId, clientId: client.clientId } : null,
      tokens: issued.rows,
      graceResponse: client.refreshGraceSeconds > 0 ? sealResponse(token, issued.response) : null,
    });
    if (!won) {
      const replay = await graceReplay();
      if (replay) return replay;
      await reuseDetected();
      throw invalidGrant(INVALID, 'refresh token reuse (race)');
    }
    ctx.events.tokenIssued('refresh_token', client.clientId);
    return issued.response;

    /**
     * Within the application's grace window, the just-rotated token gets the same new pair back —
     * as long as that pair is still live (not revoked, the new refresh token not yet used).
     */
    async function graceReplay(): Promise<TokenResponse | null> {
      if (client.refreshGraceSeconds <= 0 || token === undefined) return null;
      const current = await ctx.storage.tokens.byHash(hash);
      if (!current || current.revokedAt !== null || current.consumedAt === null) return null;
      if (ctx.now() - current.consumedAt > client.refreshGraceSeconds * 1000) return null;
      const sealed = await ctx.storage.tokens.graceResponse(hash);
      const replay = sealed === null ? null : openResponse(token, sealed);
      if (!replay) return null;
      if (replay.refresh_token !== undefined) {
        const next = await ctx.storage.tokens.byHash(sha256(replay.refresh_token));
        if (!next || next.revokedAt !== null || next.consumedAt !== null) return null;
      }
      // The same grant as the first answer, so features add to it alike (a fresh ID token, OIDC §12.2).
      recordFacts(replay, { userId: current.userId, familyId: current.familyId, scopes: parseScope(typeof replay.scope === 'string' ? replay.scope : current.scope) });
      return replay;
    }

    async function reuseDetected(): Promise<void> {
      if (!row || row.familyId === null) return;
      await revokeReplayedFamily(ctx, 'refresh.reuse_detected', { familyId: row.familyId, clientId: client.clientId, userId: row.userId }, ip);
    }
  },
};
