/**
 * Authorization code grant, token request (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5–4.6).
 * The code is consumed atomically together with issuing the tokens, so that a concurrent replay
 * sees the winner's tokens and revokes them (RFC 6749 §4.1.2: "If an authorization code is used
 * more than once, the authorization server MUST deny the request and SHOULD revoke (when
 * possible) all tokens previously issued based on that authorization code.").
 */
import type { Grant } from '../../oauth/feature.js';
import { invalidGrant } from '../../oauth/errors.js';
import { sha256 } from '../../oauth/crypto.js';
import { single } from '../../oauth/params.js';
import { verifyPkce } from '../../oauth/pkce.js';
import { parseScope } from '../../oauth/scope.js';
import { normalizeResource } from '../../oauth/audience.js';
import { clientIssuesRefresh, prepareTokens } from '../../oauth/tokens/issue.js';
import { revokeReplayedFamily } from '../../oauth/tokens/replay.js';

export const authorizationCodeGrant: Grant = {
  type: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  publicClients: true,
  async handle(ctx, { client, params, ip }) {
    const code = single(params, 'code');
    if (code === undefined) throw invalidGrant('Missing "code"');
    const redirectUri = single(params, 'redirect_uri');
    const verifier = single(params, 'code_verifier');
    const resource = single(params, 'resource');
    const codeHash = sha256(code);
    const row = await ctx.storage.codes.byHash(codeHash);
    const now = ctx.now();

    // Validate (pure checks; nothing consumed yet).
    if (!row) throw invalidGrant('The authorization code is invalid, expired or already used');
    // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client"
    if (row.clientId !== client.clientId) {
      throw invalidGrant('The authorization code is invalid, expired or already used', 'code of another client');
    }
    if (row.consumedAt !== null) {
      await replayDetected();
      throw invalidGrant('The authorization code is invalid, expired or already used', 'code replay');
    }
    if (row.expiresAt <= now) throw invalidGrant('The authorization code is invalid, expired or already used', 'expired code');
    // RFC 6749 §4.1.3: "ensure that the "redirect_uri" parameter is present if the "redirect_uri"
    // parameter was included in the initial authorization request ..., and if included ensure
    // that their values are identical." The code row does not record whether it was included, so
    // omitting it is accepted only when the code was issued for the client's one registered URI,
    // exactly (not a loopback port variant, not a URI registered since).
    const omissionAllowed = client.redirectUris.length === 1 && client.redirectUris[0] === row.redirectUri;
    if (redirectUri !== undefined ? redirectUri !== row.redirectUri : !omissionAllowed) {
      throw invalidGrant('redirect_uri does not match the authorization request');
    }
    // The same resource as at the authorization endpoint, compared as resource indicators are.
    if (resource !== undefined && (row.resource === null || normalizeResource(resource) !== normalizeResource(row.resource))) {
      throw invalidGrant('resource does not match the authorization request');
    }
    verifyPkce({ challenge: row.codeChallenge, method: row.codeChallengeMethod }, verifier);
    const user = await ctx.accounts.byId(row.userId);
    if (!user || user.disabled) throw invalidGrant('The user of this authorization code is no longer active');

    // Issue: the code consumed (only by this request), the consent's last use and the tokens,
    // in one commit.
    const issued = await prepareTokens(ctx, {
      client,
      userId: row.userId,
      scope: parseScope(row.scope),
      audience: row.resource ?? `${ctx.config.issuer}/api`,
      familyId: row.familyId,
      withRefresh: clientIssuesRefresh(client),
      grantType: 'authorization_code',
    });
    const won = await ctx.storage.grants.redeem({
      consume: { kind: 'code', hash: codeHash },
      now,
      consent: { userId: row.userId, clientId: client.clientId },
      tokens: issued.rows,
      graceResponse: null,
    });
    if (!won) {
      await replayDetected();
      throw invalidGrant('The authorization code is invalid, expired or already used', 'code replay (race)');
    }
    if (row.replaceExisting) {
      // Z6, at redemption (issue #15 §7): the user's earlier tokens for this application go now
      // that the application holds the new ones.
      const revoked = await ctx.storage.tokens.revokeByUserAndClient(row.userId, client.clientId, now, row.familyId);
      await ctx.audit.record('tokens.replaced', { actorUserId: row.userId, clientId: client.clientId, ip, details: { revoked } });
    }
    ctx.events.tokenIssued('authorization_code', client.clientId);
    return issued.response;

    async function replayDetected(): Promise<void> {
      if (!row) return;
      await revokeReplayedFamily(ctx, 'code.replay_detected', { familyId: row.familyId, clientId: client.clientId, userId: row.userId }, ip);
    }
  },
};
