/**
 * T8: a configured signing-key file becomes the signing key; a missing one gives a clear warning
 * and Tollgate keeps signing with its own key.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { basic, postForm, startTestServer } from '../helpers/server.js';

describe('T8 signing key file', () => {
  it('a missing key file is a clear warning at start, and tokens are still signed', async () => {
    const lines: string[] = [];
    const missing = join(tmpdir(), 'tollgate-no-such-key.pem');
    const s = await startTestServer({ env: { TOLLGATE_SIGNING_KEY_FILE: missing }, logLines: lines });
    try {
      expect(lines).toContain(`WARNING: TOLLGATE_SIGNING_KEY_FILE: ${missing} does not exist; signing with the key kept in the database instead`);
      const jwks = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      // The access-token key and OpenID Connect's RS256 key.
      expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    } finally {
      await s.close();
    }
  });

  it('a PEM key file becomes the signing key; the generated key stays published', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-key-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, 'signing.pem');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const kid = await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK);
    const s = await startTestServer({ env: { TOLLGATE_SIGNING_KEY_FILE: file } });
    try {
      const jwks = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
      expect(jwks.keys.map((k) => k.kid)).toContain(kid);
      // The generated ES256 key stays published, beside OpenID Connect's RS256 key.
      expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
      const app = await s.createApp({ name: 'jwt', grantTypes: ['client_credentials'], tokenFormat: 'jwt' });
      const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(r.status).toBe(200);
      expect(decodeProtectedHeader(String(r.json['access_token']))).toEqual({ alg: 'EdDSA', kid, typ: 'at+jwt' });
    } finally {
      await s.close();
    }
  });
});
