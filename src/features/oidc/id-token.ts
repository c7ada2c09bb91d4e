/**
 * ID tokens (OpenID Connect Core §2, §3.1.3.6, §3.2.2.10, §12.2), signed with the application's
 * `id_token_signed_response_alg` (RS256 by default; the key store keeps one current key per
 * algorithm) and `typ: JWT`, so no access-token check (which requires `at+jwt`, RFC 9068 §4) ever
 * accepts one.
 */
import { createHash } from 'node:crypto';
import type { KeyAlg } from '../../config.js';
import type { OAuthContext } from '../../oauth/context.js';
import type { ClientRow, OidcGrantRow } from '../../storage/types.js';
import { signJwt } from '../../oauth/tokens/jwt.js';
import { decodeJwt, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';


export function idTokenAlg(client: ClientRow): KeyAlg {
  return client.idTokenSignedResponseAlg ?? 'RS256';
}

/**
 * `at_hash` / `c_hash` (§3.1.3.6, §3.3.2.11): the left half of the hash of the value, with the
 * hash of the signing algorithm (SHA-256 for RS256 and ES256; SHA-512 for Ed25519).
 */
export function halfHash(alg: KeyAlg, value: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export interface IdTokenInput {
  readonly client: ClientRow;
  readonly grant: OidcGrantRow;
  /** Echo the nonce (not on a refresh, §12.2). */
  readonly withNonce: boolean;
  readonly accessToken?: string;
  readonly code?: string;
  /** Claims carried in the token itself (when no access token lets the application ask UserInfo, §5.4). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export async function signIdToken(ctx: OAuthContext, input: IdTokenInput): Promise<string> {
  const alg = idTokenAlg(input.client);
  const key = await ctx.keys.signingKeyFor(alg);
  const now = Math.floor(ctx.now() / 1000);
  const { grant, client } = input;
  return signJwt(key, 'JWT', {
    ...input.claims,
    iss: ctx.config.issuer,
    sub: grant.userId,
    aud: client.clientId,
    exp: now + ctx.config.idTokenTtl,
    iat: now,
    auth_time: Math.floor(grant.authTime / 1000),
    ...(input.withNonce && grant.nonce !== null ? { nonce: grant.nonce } : {}),
    ...(grant.acr !== null ? { acr: grant.acr } : {}),
    ...(grant.amr !== null && grant.amr.length > 0 ? { amr: grant.amr } : {}),
    azp: client.clientId,
    ...(grant.sid !== null ? { sid: grant.sid } : {}),
    ...(input.accessToken !== undefined ? { at_hash: halfHash(key.alg, input.accessToken) } : {}),
    ...(input.code !== undefined ? { c_hash: halfHash(key.alg, input.code) } : {}),
  });
}

/**
 * The `sub` of an ID token this server signed for `clientId`, expired or not (a hint, OIDC Core
 * §3.1.2.1 and RP-Initiated Logout §2); null for anything else. A storage failure still throws.
 */
export async function idTokenSubject(ctx: OAuthContext, token: string, clientId: string): Promise<string | null> {
  let kid: string;
  let iat: number;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== 'string' || header.typ !== 'JWT') return null;
    kid = header.kid;
    const claims = decodeJwt(token);
    if (typeof claims.iat !== 'number') return null;
    iat = claims.iat;
  } catch {
    return null;
  }
  const key = await ctx.keys.publicKey(kid);
  if (!key) return null;
  try {
    // Checked as of its own issue time: an expired hint still names the person.
    const { payload } = await jwtVerify(token, key.publicKey, {
      issuer: ctx.config.issuer,
      audience: clientId,
      typ: 'JWT',
      algorithms: [key.alg],
      currentDate: new Date(iat * 1000),
    });
    return typeof payload.sub === 'string' ? payload.sub : null;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return null;
    throw err;
  }
}
