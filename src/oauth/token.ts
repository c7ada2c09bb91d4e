/**
 * Token endpoint (RFC 6749 §3.2, §5): picks the grant, authenticates the client, checks the
 * client may use the grant, and hands over to the grant with only its declared parameters.
 */
import { issuedFacts } from './tokens/issue.js';
import type { OAuthContext } from './context.js';
import { authenticateClient } from './client-auth.js';
import { invalidRequest, unauthorizedClient, unsupportedGrantType } from './errors.js';
import { assertNoRepeats, required, type Params } from './params.js';
import type { TokenResponse } from './tokens/issue.js';

export interface TokenRequest {
  readonly params: Params;
  readonly query: Params;
  readonly authorization: string | undefined;
  readonly ip: string | null;
}

const AUTH_PARAMS = ['client_id', 'client_secret'];
/** Secrets that must never travel in a URL (they end up in logs, history and Referer headers). */
const CREDENTIAL_PARAMS = ['client_secret', 'password', 'refresh_token', 'code', 'code_verifier', 'client_assertion', 'assertion', 'device_code', 'subject_token', 'actor_token'];

export async function handleTokenRequest(ctx: OAuthContext, req: TokenRequest): Promise<TokenResponse> {
  // RFC 6749 §2.3.1: the secret "MUST NOT be included in the request URI".
  if (CREDENTIAL_PARAMS.some((name) => req.query.has(name))) {
    throw invalidRequest('Credentials must not be sent in the query string');
  }
  // RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
  assertNoRepeats(req.params);
  const type = required(req.params, 'grant_type');
  const grant = ctx.features.grant(type);
  if (!grant) throw unsupportedGrantType(`Unsupported grant_type "${type.slice(0, 64)}"`);

  const { client, method } = await authenticateClient(ctx, req.authorization, req.params, '/oauth/token');
  if (!client.grantTypes.includes(type) || (!grant.publicClients && client.clientType === 'public')) {
    throw unauthorizedClient(`This application is not allowed the ${type} grant`);
  }

  // A key rotated through another process is used from this very request on.
  if (client.tokenFormat === 'jwt') await ctx.keys.ensureCurrent();

  const declared = new Map<string, readonly string[]>();
  for (const name of grant.parameters) {
    const v = req.params.get(name);
    if (v !== undefined && !AUTH_PARAMS.includes(name)) declared.set(name, v);
  }
  const response = await grant.handle(ctx, { client, authMethod: method, params: declared, ip: req.ip });
  // Issue #15 §3: a registration that never obtains a token expires; this is its first use (one write, ever).
  if (client.usedAt === null) await ctx.storage.clients.markUsed(client.clientId, ctx.now());
  return ctx.features.decorateTokenResponse(ctx, { client, grantType: type, response, facts: issuedFacts(response) });
}
