/**
 * JWT access tokens are signed with node:crypto (issue #5); this checks every algorithm's
 * output against jose, the reference implementation, byte for byte on header and claims.
 */
import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { KeyAlg } from '../../src/config.js';
import { KeyManager, generateKeyRow } from '../../src/oauth/tokens/keys.js';
import { signAccessToken, verifyAccessToken } from '../../src/oauth/tokens/jwt.js';
import type { KeyRepo, SigningKeyRow } from '../../src/storage/types.js';

function memoryKeys(rows: SigningKeyRow[]): KeyRepo {
  return {
    insert: async (row) => void rows.push(row),
    listPublished: async () => rows.filter((r) => r.expiresAt === null),
    listAll: async () => rows,
    currentKid: async () => rows.find((r) => r.retiredAt === null)?.kid ?? null,
    retireAllExcept: async () => {},
  };
}

const NOW = Math.floor(Date.now() / 1000) * 1000;
const claims = {
  iss: 'https://as.example',
  sub: 'user-1',
  aud: 'https://as.example/api',
  client_id: 'tgc_abc',
  scope: 'profile email',
  jti: 'jti-1',
  iat: NOW / 1000,
};

describe('JWT signing with node:crypto, verified by jose', () => {
  for (const alg of ['ES256', 'RS256', 'EdDSA'] as const satisfies readonly KeyAlg[]) {
    for (const exp of [NOW / 1000 + 3600, null]) {
      it(`${alg}, ${exp === null ? 'long-lived (no exp)' : 'with exp'}`, async () => {
        const row = await generateKeyRow(alg, NOW);
        const keys = new KeyManager(memoryKeys([row]), alg, () => NOW);
        await keys.ensureKey();
        const token = await signAccessToken(keys, { ...claims, exp });
        expect(decodeProtectedHeader(token)).toEqual({ alg, kid: row.kid, typ: 'at+jwt' });
        const publicKey = createPublicKey({ key: JSON.parse(row.publicJwk) as import('node:crypto').JsonWebKey, format: 'jwk' });
        const { payload } = await jwtVerify(token, publicKey, {
          issuer: claims.iss,
          audience: claims.aud,
          typ: 'at+jwt',
          algorithms: [alg],
          currentDate: new Date(NOW),
        });
        expect(payload).toEqual({ ...claims, ...(exp === null ? {} : { exp }) });
        // and Tollgate's own verifier agrees
        expect((await verifyAccessToken(keys, token, claims.iss))?.jti).toBe('jti-1');
        // a flipped signature bit is refused by both
        const [h, p, s] = token.split('.') as [string, string, string];
        const sig = Buffer.from(s, 'base64url');
        sig[0] = (sig[0] ?? 0) ^ 1;
        const forged = `${h}.${p}.${sig.toString('base64url')}`;
        await expect(jwtVerify(forged, publicKey, { currentDate: new Date(NOW) })).rejects.toThrow(/signature/);
        expect(await verifyAccessToken(keys, forged, claims.iss)).toBeNull();
      });
    }
  }
});
