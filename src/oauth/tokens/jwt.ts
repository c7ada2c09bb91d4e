/**
 * JWT access tokens (RFC 9068), signed with the server's current key. Header `typ: at+jwt`
 * (§2.1); claims iss, exp, aud, sub, client_id, iat, jti (§2.2) and scope (§2.2.3).
 */
import { SignJWT, jwtVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { KeyManager } from './keys.js';

export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly client_id: string;
  readonly scope: string;
  readonly jti: string;
  readonly iat: number;
  /** Absent for long-lived tokens (A7). */
  readonly exp: number | null;
}

export async function signAccessToken(keys: KeyManager, claims: AccessTokenClaims): Promise<string> {
  const key = await keys.signingKey();
  const jwt = new SignJWT({ client_id: claims.client_id, scope: claims.scope })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(claims.iat)
    .setJti(claims.jti);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp);
  return jwt.sign(key.privateKey);
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/** Verifies signature, typ, issuer and expiry; returns the claims or null when invalid. */
export async function verifyAccessToken(
  keys: KeyManager,
  token: string,
  issuer: string,
): Promise<(AccessTokenClaims & Record<string, unknown>) | null> {
  let kid: string;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.kid !== 'string' || header.typ !== 'at+jwt') return null;
    kid = header.kid;
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) return null;
    throw err;
  }
  // Outside the try: a storage failure while loading keys must not read as "invalid token".
  const key = await keys.publicKey(kid);
  if (!key) return null;
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      issuer,
      typ: 'at+jwt',
      algorithms: [key.alg],
      clockTolerance: 5,
    });
    if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload['client_id'] !== 'string') {
      return null;
    }
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    return {
      ...payload,
      iss: issuer,
      sub: payload.sub,
      aud: typeof aud === 'string' ? aud : '',
      client_id: payload['client_id'],
      scope: typeof payload['scope'] === 'string' ? payload['scope'] : '',
      jti: payload.jti,
      iat: typeof payload.iat === 'number' ? payload.iat : 0,
      exp: typeof payload.exp === 'number' ? payload.exp : null,
    };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) return null;
    throw err;
  }
}
