/**
 * OpenID Connect RP-Initiated Logout 1.0 (§2–3), the decision part: which application asks, for
 * whom (`id_token_hint`, expired hints accepted), and where the person may be sent afterwards —
 * only a `post_logout_redirect_uri` registered for that application, matched exactly, and only
 * when the application is identified by the hint or by `client_id`. The pages are in
 * src/http/routes/end-session.ts.
 */
import { decodeJwt } from 'jose';
import type { OAuthContext } from '../../oauth/context.js';
import type { ClientRow } from '../../storage/types.js';
import { AuthorizePageError } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { pageParam } from '../../oauth/authorize.js';
import { idTokenSubject } from './id-token.js';

export interface LogoutRequest {
  readonly client: ClientRow | null;
  /** The person the hint names, when it is a valid ID token of this server. */
  readonly hintSubject: string | null;
  /** Where to send the person once signed out (with `state`), or null to show a page. */
  readonly redirect: string | null;
}

export async function resolveLogoutRequest(ctx: OAuthContext, params: Params): Promise<LogoutRequest> {
  const hint = pageParam(params, 'id_token_hint');
  const clientIdParam = pageParam(params, 'client_id');
  const target = pageParam(params, 'post_logout_redirect_uri');
  const state = pageParam(params, 'state');
  if (state !== undefined && state.length > 2048) throw new AuthorizePageError('invalid_request', 'state is too long (2048 max)');

  let clientId = clientIdParam ?? null;
  let hintSubject: string | null = null;
  if (hint !== undefined) {
    let aud: unknown;
    try {
      aud = decodeJwt(hint).aud;
    } catch {
      throw new AuthorizePageError('invalid_request', 'The id_token_hint is not an ID token of this server.');
    }
    const audience = Array.isArray(aud) ? aud[0] : aud;
    if (typeof audience !== 'string') throw new AuthorizePageError('invalid_request', 'The id_token_hint is not an ID token of this server.');
    if (clientId !== null && clientId !== audience) throw new AuthorizePageError('invalid_request', 'The client_id does not match the id_token_hint.');
    hintSubject = await idTokenSubject(ctx, hint, audience);
    if (hintSubject === null) throw new AuthorizePageError('invalid_request', 'The id_token_hint is not an ID token of this server.');
    clientId = audience;
  }
  const client = clientId !== null && clientId.length <= 256 ? await ctx.storage.clients.byId(clientId) : null;
  if (clientId !== null && client === null) throw new AuthorizePageError('invalid_client', 'Unknown application: no application has this client_id.');

  let redirect: string | null = null;
  if (target !== undefined) {
    // §2: never redirect without knowing the application, nor anywhere it did not register.
    if (client === null) throw new AuthorizePageError('invalid_request', 'A post_logout_redirect_uri needs an id_token_hint or a client_id.');
    if (!client.postLogoutRedirectUris.includes(target)) {
      throw new AuthorizePageError('invalid_request', 'The post_logout_redirect_uri is not registered for this application.');
    }
    const q = state !== undefined ? `${target.includes('?') ? '&' : '?'}${new URLSearchParams({ state }).toString()}` : '';
    redirect = `${target}${q}`;
  }
  return { client, hintSubject, redirect };
}
