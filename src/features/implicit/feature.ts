/**
 * Implicit grant (RFC 6749 §4.2): `response_type=token`, only for applications explicitly allowed
 * the `implicit` grant type (Z8). The token travels in the fragment.
 */
import type { Approval, Feature, ResponseType } from '../../oauth/feature.js';
import type { OAuthContext } from '../../oauth/context.js';
import type { AuthorizeRequest } from '../../oauth/authorize.js';
import { issueTokens } from '../../oauth/tokens/issue.js';

/** The implicit grant's access token as response members (also OpenID Connect's `id_token token`). */
export async function implicitAccessToken(
  ctx: OAuthContext,
  req: AuthorizeRequest,
  approval: Approval,
): Promise<{ access_token: string; token_type: string; expires_in: string | undefined; scope: string }> {
  if (req.client.tokenFormat === 'jwt') await ctx.keys.ensureCurrent();
  // RFC 6749 §4.2.2: "The authorization server MUST NOT issue a refresh token."
  const issued = await issueTokens(ctx, {
    client: req.client,
    userId: approval.userId,
    scope: approval.scopes,
    audience: req.audience,
    familyId: null,
    withRefresh: false,
    grantType: 'implicit',
  });
  return {
    access_token: issued.access_token,
    token_type: issued.token_type,
    expires_in: issued.expires_in === undefined ? undefined : String(issued.expires_in),
    scope: issued.scope,
  };
}

const tokenResponse: ResponseType = {
  type: 'token',
  grantType: 'implicit',
  mode: 'fragment',
  pkce: false,
  respond: implicitAccessToken,
};

export const implicitFeature: Feature = {
  name: 'implicit',
  clientGrantTypes: ['implicit'],
  responseTypes: [tokenResponse],
};
