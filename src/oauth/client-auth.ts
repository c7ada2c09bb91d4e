/**
 * Client authentication at the token, revocation, introspection and device authorization
 * endpoints (RFC 6749 §2.3.1, §3.2.1): HTTP Basic (`client_secret_basic`), body parameters
 * (`client_secret_post`), a signed assertion (`private_key_jwt`, RFC 7523; ./client-assertion.ts),
 * or none for public clients.
 *
 * - "The client MUST NOT use more than one authentication method in each request."
 * - Secrets are compared in constant time against a SHA-256 hash.
 * - A deactivated application cannot authenticate, so it cannot obtain tokens (A3).
 */
import type { ClientRow } from '../storage/types.js';
import type { OAuthContext } from './context.js';
import { invalidClient, invalidRequest } from './errors.js';
import { secretMatchesHash } from './crypto.js';
import { single, type Params } from './params.js';
import { authenticateAssertion, JWT_BEARER_ASSERTION_TYPE } from './client-assertion.js';

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export interface AuthenticatedClient {
  readonly client: ClientRow;
  readonly method: AuthMethod;
}

interface Presented {
  readonly clientId: string;
  readonly secret: string | undefined;
  readonly method: Exclude<AuthMethod, 'private_key_jwt'>;
}

interface PresentedAssertion {
  readonly method: 'private_key_jwt';
  readonly assertion: string;
  readonly clientId: string | undefined;
}

function decodeBasicPart(part: string): string {
  // RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    throw invalidClient('Malformed HTTP Basic credentials');
  }
}

function presented(authorization: string | undefined, params: Params): Presented | PresentedAssertion | null {
  const bodyId = single(params, 'client_id');
  const bodySecret = single(params, 'client_secret');
  const assertion = single(params, 'client_assertion');
  const assertionType = single(params, 'client_assertion_type');
  if (assertion !== undefined || assertionType !== undefined) {
    // RFC 7521 §4.2: both parameters, and no other method besides.
    if (assertion === undefined || assertionType === undefined) throw invalidRequest('client_assertion and client_assertion_type must be sent together');
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw invalidRequest(`Unsupported client_assertion_type; use ${JWT_BEARER_ASSERTION_TYPE}`);
    if ((authorization !== undefined && authorization !== '') || bodySecret !== undefined) {
      throw invalidRequest('Use only one client authentication method: a client assertion, HTTP Basic or client_secret, not several');
    }
    return { method: 'private_key_jwt', assertion, clientId: bodyId };
  }
  if (authorization !== undefined && authorization !== '') {
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    if (!m) {
      if (/^Basic\b/i.test(authorization)) throw invalidClient('Malformed HTTP Basic credentials');
      throw invalidRequest('Unsupported Authorization scheme at this endpoint; use HTTP Basic');
    }
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('Malformed HTTP Basic credentials');
    const id = decodeBasicPart(decoded.slice(0, colon));
    const secret = decodeBasicPart(decoded.slice(colon + 1));
    if (bodySecret !== undefined) {
      throw invalidRequest('Use only one client authentication method: HTTP Basic or client_secret in the body, not both');
    }
    if (bodyId !== undefined && bodyId !== id) {
      throw invalidRequest('client_id in the body does not match the HTTP Basic credentials');
    }
    if (id === '') throw invalidClient('Malformed HTTP Basic credentials');
    return { clientId: id, secret, method: 'client_secret_basic' };
  }
  if (bodyId === undefined) {
    if (bodySecret !== undefined) throw invalidRequest('client_secret sent without client_id');
    return null;
  }
  return { clientId: bodyId, secret: bodySecret, method: bodySecret === undefined ? 'none' : 'client_secret_post' };
}

/** The current secret, or the previous one while a rotation's overlap lasts (issue #15 §14). */
function secretMatches(ctx: OAuthContext, client: ClientRow, secret: string): boolean {
  const current = client.secretHash !== null && secretMatchesHash(secret, client.secretHash);
  const previous =
    client.previousSecretHash !== null &&
    client.previousSecretExpiresAt !== null &&
    client.previousSecretExpiresAt > ctx.now() &&
    secretMatchesHash(secret, client.previousSecretHash);
  return current || previous;
}

/**
 * Authenticates the client of a request, or throws `invalid_client` (401). With `optional`, a
 * request carrying no client identification at all returns null instead.
 */
export async function authenticateClient(
  ctx: OAuthContext,
  authorization: string | undefined,
  params: Params,
  /** The endpoint's path (`/oauth/token`): an assertion may name its URL as `aud`. */
  endpointPath: string,
): Promise<AuthenticatedClient> {
  const p = presented(authorization, params);
  if (p === null) throw invalidClient('Client authentication is required');
  if (p.method === 'private_key_jwt') {
    const client = await authenticateAssertion(ctx, p.assertion, p.clientId, `${ctx.config.issuer}${endpointPath}`);
    if (!client.active) throw invalidClient('This application is deactivated', 'inactive client');
    return { client, method: p.method };
  }
  const client = await ctx.features.findClient(ctx, p.clientId);
  if (!client) {
    // Spend the same work as a real comparison so timing does not reveal which ids exist.
    secretMatchesHash(p.secret ?? '', 'x'.repeat(43));
    throw invalidClient('Client authentication failed', 'unknown client_id');
  }
  if (client.clientType === 'public') {
    if (p.method !== 'none') throw invalidClient('Client authentication failed', 'public client sent a secret');
  } else if (client.privateKeyJwt !== null) {
    throw invalidClient('Client authentication failed', 'this application authenticates with private_key_jwt');
  } else {
    if (p.secret === undefined || client.secretHash === null || !secretMatches(ctx, client, p.secret)) {
      throw invalidClient('Client authentication failed', p.secret === undefined ? 'confidential client sent no secret' : 'wrong secret');
    }
  }
  if (!client.active) throw invalidClient('This application is deactivated', 'inactive client');
  return { client, method: p.method };
}
