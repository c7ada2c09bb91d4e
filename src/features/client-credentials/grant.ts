/**
 * Client credentials grant (RFC 6749 §4.4). Confidential clients only. The token acts as the
 * application itself, or as the user chosen for it (A5, Oro's "Users" field).
 * RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
 */
import type { Grant } from '../../oauth/feature.js';
import { invalidGrant } from '../../oauth/errors.js';
import { single } from '../../oauth/params.js';
import { parseScope, resolveScopes } from '../../oauth/scope.js';
import { resolveAudience } from '../../oauth/audience.js';
import { issueTokens } from '../../oauth/tokens/issue.js';

export const clientCredentialsGrant: Grant = {
  type: 'client_credentials',
  parameters: ['scope', 'resource'],
  publicClients: false,
  async handle(ctx, { client, params }) {
    const scope = resolveScopes(parseScope(single(params, 'scope')), client.scopes);
    const audience = await resolveAudience(ctx, single(params, 'resource'), scope);
    if (client.actsAsUserId !== null) {
      const user = await ctx.accounts.byId(client.actsAsUserId);
      if (!user || user.disabled) throw invalidGrant('The user this application acts as is disabled or deleted');
    }
    return issueTokens(ctx, {
      client,
      userId: client.actsAsUserId,
      scope,
      audience,
      familyId: null,
      withRefresh: false,
      grantType: 'client_credentials',
    });
  },
};
