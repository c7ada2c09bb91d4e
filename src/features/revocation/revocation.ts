/**
 * Token revocation (RFC 7009). Client authentication is required (§2.1). Revoking a refresh
 * token also revokes the access tokens of the same grant (T9). "invalid tokens do not cause an
 * error response since the client cannot handle such an error in a reasonable way" (§2.2).
 */
import type { OAuthContext } from '../../oauth/context.js';
import { authenticateClient } from '../../oauth/client-auth.js';
import { unauthorizedClient } from '../../oauth/errors.js';
import { assertNoRepeats, required, single, type Params } from '../../oauth/params.js';
import { findTokenRow } from '../../oauth/tokens/lookup.js';
import { revokeStoredToken } from '../../services/tokens.js';

export async function handleRevocation(
  ctx: OAuthContext,
  req: { params: Params; authorization: string | undefined; ip: string | null },
): Promise<void> {
  assertNoRepeats(req.params);
  const { client } = await authenticateClient(ctx, req.authorization, req.params, '/oauth/revoke');
  const token = required(req.params, 'token');
  const hint = single(req.params, 'token_type_hint');
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
    // §2.2.1 lets us ignore an unknown hint and search everywhere; we do.
  }
  const row = await findTokenRow(ctx, token);
  if (!row || row.revokedAt !== null) return;
  // §2.1: the server "verifies whether the token was issued to the client making the revocation request"
  if (row.clientId !== client.clientId) {
    // The token stays valid; `unauthorized_client`, not `invalid_request`: the request is well formed.
    throw unauthorizedClient('This token was not issued to this client');
  }
  await revokeStoredToken(ctx, row, { via: 'revocation_endpoint', clientId: client.clientId, actorUserId: row.userId, ip: req.ip });
}
