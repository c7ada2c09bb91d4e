/**
 * Resource owner password credentials grant (RFC 6749 §4.3), only for applications allowed it
 * (T5). Unknown users and wrong passwords get the same error; failures count towards the
 * account lockout (O7).
 */
import type { Grant } from '../../oauth/feature.js';
import { invalidGrant, invalidRequest } from '../../oauth/errors.js';
import { single } from '../../oauth/params.js';
import { parseScope, resolveScopes } from '../../oauth/scope.js';
import { resolveAudience } from '../../oauth/audience.js';
import { clientIssuesRefresh, issueTokens } from '../../oauth/tokens/issue.js';

const BAD_CREDENTIALS = 'Invalid username or password';

export const passwordGrant: Grant = {
  type: 'password',
  parameters: ['username', 'password', 'scope', 'resource'],
  publicClients: false,
  signIn: true,
  async handle(ctx, { client, params, ip }) {
    const username = single(params, 'username');
    const password = single(params, 'password');
    if (username === undefined || password === undefined) throw invalidRequest('username and password are required');
    if (username.length > 320 || password.length > 1024) throw invalidGrant(BAD_CREDENTIALS);
    const scope = resolveScopes(parseScope(single(params, 'scope')), client.scopes, { forPerson: true });
    const audience = await resolveAudience(ctx, single(params, 'resource'), scope);
    const result = await ctx.accounts.login(username, password, ctx.now());
    if (!result.ok) {
      await ctx.audit.record(result.reason === 'locked' ? 'login.locked' : 'login.failed', {
        clientId: client.clientId,
        ip,
        details: { via: 'password_grant', reason: result.reason },
      });
      throw invalidGrant(BAD_CREDENTIALS, `login failed: ${result.reason}`);
    }
    return issueTokens(ctx, {
      client,
      userId: result.account.id,
      scope,
      audience,
      familyId: null,
      withRefresh: clientIssuesRefresh(client),
      grantType: 'password',
    });
  },
};
