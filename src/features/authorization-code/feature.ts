/**
 * Authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636): the `code` response type of the
 * authorization endpoint, and the `authorization_code` grant of the token endpoint (./grant.ts).
 */
import type { Feature, ResponseType } from '../../oauth/feature.js';
import { PREFIX, randomToken, sha256 } from '../../oauth/crypto.js';
import { formatScope } from '../../oauth/scope.js';
import { authorizationCodeGrant } from './grant.js';

/** RFC 6749 §4.1.2: a short-lived, single-use code bound to the client, redirect URI, PKCE challenge and scope. */
const codeResponse: ResponseType = {
  type: 'code',
  grantType: 'authorization_code',
  mode: 'query',
  pkce: true,
  async respond(ctx, req, approval) {
    const now = ctx.now();
    const code = randomToken(PREFIX.code);
    await ctx.storage.codes.create({
      codeHash: sha256(code),
      clientId: req.client.clientId,
      userId: approval.userId,
      redirectUri: req.redirectUri,
      scope: formatScope(approval.scopes),
      resource: req.audience,
      codeChallenge: req.pkce?.challenge ?? null,
      codeChallengeMethod: req.pkce?.method ?? null,
      familyId: approval.familyId,
      expiresAt: now + ctx.config.codeTtl * 1000,
      consumedAt: null,
      createdAt: now,
      replaceExisting: approval.replaceExisting,
    });
    return { code };
  },
};

export const authorizationCodeFeature: Feature = {
  name: 'authorization-code',
  grants: [authorizationCodeGrant],
  responseTypes: [codeResponse],
  authorizeParameters: ['code_challenge', 'code_challenge_method'],
  metadata: (ctx) => ({
    code_challenge_methods_supported: ctx.config.allowPlainPkce ? ['S256', 'plain'] : ['S256'],
  }),
};
