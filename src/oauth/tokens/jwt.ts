/**
 * JWT access tokens (RFC 9068), signed with the server's current key. Header `typ: at+jwt`
 * (§2.1); claims iss, exp, aud, sub, client_id, iat, jti (§2.2) and scope (§2.2.3).
 */
import { sign, type KeyObject } from 'node:crypto';
import { jwtVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { KeyAlg } from '../../config.js';
import type { ActClaim } from '../../storage/types.js';
import type { KeyManager, LoadedKey } from './keys.js';

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
  /** RFC 8693 §4.1: who acts for `sub` (a token made by a token exchange with an actor token). */
  readonly act?: ActClaim;
}

/** The encoded protected header of each loaded key, computed once. */
const headers = new WeakMap<LoadedKey, string>();

/**
 * Signs with `node:crypto` and the key's reused KeyObject: synchronous, about three times the
 * rate of a WebCrypto signature through jose (issue #5). Only the compact serialization is done
 * here (RFC 7515 §7.1: BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)); every
 * algorithm's output is verified with jose in test/protocol/jwt-sign.test.ts and the token tests.
 */
export async function signAccessToken(keys: KeyManager, claims: AccessTokenClaims): Promise<string> {
  const key = await keys.signingKey();
  let header = headers.get(key);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })).toString('base64url');
    headers.set(key, header);
  }
  const payload = {
    client_id: claims.client_id,
    scope: claims.scope,
    iss: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    iat: claims.iat,
    jti: claims.jti,
    ...(claims.exp !== null ? { exp: claims.exp } : {}),
    ...(claims.act !== undefined ? { act: claims.act } : {}),
  };
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${jwsSignature(key.alg, key.privateKey, Buffer.from(input)).toString('base64url')}`;
}

/** Header encodings of other token types (`typ`), per key, computed once. */
const typedHeaders = new WeakMap<LoadedKey, Map<string, string>>();

/**
 * Any other JWT Tollgate signs (OpenID Connect ID tokens, logout tokens): the same compact
 * serialization and signer as access tokens, with its own `typ` (or none).
 */
export function signJwt(key: LoadedKey, typ: string | null, payload: Readonly<Record<string, unknown>>): string {
  let byTyp = typedHeaders.get(key);
  if (!byTyp) typedHeaders.set(key, (byTyp = new Map()));
  const name = typ ?? '';
  let header = byTyp.get(name);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, ...(typ !== null ? { typ } : {}) })).toString('base64url');
    byTyp.set(name, header);
  }
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${jwsSignature(key.alg, key.privateKey, Buffer.from(input)).toString('base64url')}`;
}

/** RFC 7518 §3.4: ES256 signatures are R || S (IEEE P1363), not DER; EdDSA per RFC 8037. */
function jwsSignature(alg: KeyAlg, privateKey: KeyObject, input: Buffer): Buffer {
  switch (alg) {
    case 'ES256':
      return sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', input, privateKey);
    case 'EdDSA':
      return sign(null, input, privateKey);
  }
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
