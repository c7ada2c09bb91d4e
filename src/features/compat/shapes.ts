/**
 * The two compatibility endpoints whose answers are not Tollgate's own shape (docs/compat.md):
 * Gancio's `POST /api/client` and Frappe's `revoke_token`.
 */
import type { OAuthContext } from '../../oauth/context.js';
import { single, type Params } from '../../oauth/params.js';
import { findTokenRow } from '../../oauth/tokens/lookup.js';
import { revokeStoredToken } from '../../services/tokens.js';
import { register, type RawMetadata } from '../registration/registration.js';

/**
 * Gancio: `client_name`, `redirect_uris` (a string), `scopes` (space-separated), `website`, form or
 * JSON; answers `{ client_id, client_secret, name, scopes, website, redirect_uris }` with the lists
 * as the strings its document shows. Underneath it is RFC 7591 registration, under the same policy
 * (TOLLGATE_REGISTRATION, its scopes and grant types).
 */
export async function gancioRegister(ctx: OAuthContext, meta: RawMetadata, authorization: string | undefined, ip: string | null): Promise<Record<string, unknown>> {
  const created = await register(ctx, meta, authorization, ip);
  const scope = typeof created['scope'] === 'string' ? created['scope'] : '';
  const uris = Array.isArray(created['redirect_uris']) ? (created['redirect_uris'] as string[]) : [];
  return {
    client_id: created['client_id'],
    ...(created['client_secret'] ? { client_secret: created['client_secret'] } : {}),
    name: created['client_name'],
    scopes: scope,
    ...(typeof created['client_uri'] === 'string' ? { website: created['client_uri'] } : {}),
    redirect_uris: uris.join(' '),
  };
}

/**
 * Frappe's `revoke_token`: `token` alone — possession is the proof, as in Frappe, so the token's
 * own application is the one recorded; an unknown token is "success" too (RFC 7009 §2.2). Only a
 * malformed request (no token, repeated parameters) is a failure.
 */
export async function frappeRevoke(ctx: OAuthContext, params: Params, ip: string | null): Promise<boolean> {
  for (const values of params.values()) if (values.length > 1) return false;
  const token = single(params, 'token');
  if (token === undefined) return false;
  const row = await findTokenRow(ctx, token);
  if (row && row.revokedAt === null) await revokeStoredToken(ctx, row, { via: 'frappe_revoke_token', clientId: row.clientId, actorUserId: row.userId, ip });
  return true;
}
