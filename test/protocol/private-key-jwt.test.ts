/**
 * Client authentication with `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9;
 * issue #13 item 3; docs/client-authentication.md), over HTTP: openid-client and oauth4webapi
 * sign their assertions the way they do for any server; the refusals are assertions this test
 * builds with jose (wrong aud, expired, replayed jti, unknown kid, alg none, HMAC with the public
 * key, …). Keys come inline (`jwks`), from a `jwks_uri` served by this test on 127.0.0.1
 * (TOLLGATE_OUTBOUND_INSECURE_LOOPBACK, development only), or from a Client ID Metadata Document.
 * Run on SQLite and PostgreSQL.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, adminBearer, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const FAILED = { error: 'invalid_client', error_description: 'Client authentication failed' };

interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function keyPair(alg: 'ES256' | 'RS256' | 'EdDSA', kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

/** Serves JWK Sets by path and counts the fetches. */
class KeyHost {
  readonly sets = new Map<string, { status: number; body: string }>();
  readonly hits = new Map<string, number>();
  private server: Server | null = null;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const r = this.sets.get(path);
      res.writeHead(r?.status ?? 404, { 'content-type': 'application/json' }).end(r?.body ?? '{}');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.origin = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  }

  serve(path: string, keys: readonly JWK[], status = 200): string {
    this.sets.set(path, { status, body: JSON.stringify({ keys }) });
    return `${this.origin}${path}`;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number | null;
  iat?: number;
  jti?: string | null;
}

async function assertion(key: KeyPair, clientId: string, aud: string | string[], claims: Claims = {}, header: { alg?: string; kid?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: clientId, sub: clientId, aud, iat: now, exp: now + 60, jti: randomUUID(), ...claims };
  for (const [k, v] of Object.entries(payload)) if (v === null) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: String(key.jwk.alg), kid: String(key.jwk.kid), ...header }).sign(key.privateKey);
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describeEachDb('private_key_jwt client authentication', (start) => {
  let s: TestServer;
  let keys: KeyHost;
  let es: KeyPair;
  let rsa: KeyPair;
  let stranger: KeyPair;
  let inlineId: string;
  let tokenUrl: string;
  let introspectUrl: string;
  let adminToken: string;

  const cc = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(tokenUrl, { grant_type: 'client_credentials', scope: 'profile', ...params }, headers);
  const withAssertion = (jwt: string, extra: Record<string, string> = {}) => cc({ client_assertion_type: ASSERTION_TYPE, client_assertion: jwt, ...extra });

  beforeAll(async () => {
    keys = new KeyHost();
    await keys.start();
    s = await start({
      env: {
        TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: 'true',
        TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true',
        TOLLGATE_REGISTRATION_GRANT_TYPES: 'authorization_code,refresh_token,client_credentials',
      },
    });
    tokenUrl = `${s.issuer}/oauth/token`;
    introspectUrl = `${s.issuer}/oauth/introspect`;
    es = await keyPair('ES256', 'es-1');
    rsa = await keyPair('RS256', 'rsa-1');
    stranger = await keyPair('ES256', 'es-1');
    const app = await s.createApp({ name: 'Signed service', grantTypes: ['client_credentials'], scopes: ['profile'], privateKeyJwt: { jwks: { keys: [es.jwk, rsa.jwk] } } });
    expect(app.clientSecret).toBeNull();
    inlineId = app.client.clientId;

    adminToken = await adminBearer(s, 'pkj-admin@example.com');
  });
  afterAll(async () => {
    await s?.close();
    await keys?.close();
  });

  it('metadata advertises private_key_jwt with the asymmetric algorithms at the token, introspection and revocation endpoints', async () => {
    const meta = (await (await fetch(`${s.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta['token_endpoint_auth_methods_supported']).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
    expect(meta['token_endpoint_auth_signing_alg_values_supported']).toEqual(ALGS);
    expect(meta['introspection_endpoint_auth_methods_supported']).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    expect(meta['introspection_endpoint_auth_signing_alg_values_supported']).toEqual(ALGS);
    expect(meta['revocation_endpoint_auth_methods_supported']).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
    expect(meta['revocation_endpoint_auth_signing_alg_values_supported']).toEqual(ALGS);
  });

  it('openid-client: client credentials, introspection and revocation, each authenticated by a signed assertion', async () => {
    const config = await client.discovery(new URL(s.issuer), inlineId, { token_endpoint_auth_method: 'private_key_jwt' }, client.PrivateKeyJwt(es.privateKey, { [client.modifyAssertion]: (h) => void (h.kid = 'es-1') }), {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });
    const tokens = await client.clientCredentialsGrant(config, { scope: 'profile' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('profile');
    const info = await client.tokenIntrospection(config, tokens.access_token);
    expect(info).toMatchObject({ active: true, client_id: inlineId, scope: 'profile' });
    await client.tokenRevocation(config, tokens.access_token);
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
  });

  it('oauth4webapi with an RSA key of the same set', async () => {
    const issuer = new URL(s.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    const c: oauth.Client = { client_id: inlineId };
    const auth = oauth.PrivateKeyJwt({ key: rsa.privateKey, kid: 'rsa-1' });
    const res = await oauth.clientCredentialsGrantRequest(as, c, auth, new URLSearchParams({ scope: 'profile' }), { [oauth.allowInsecureRequests]: true });
    const body = await oauth.processClientCredentialsResponse(as, c, res);
    expect(body.access_token).toMatch(/\S{20,}/);
  });

  it('aud: the issuer identifier or the URL of the endpoint called, as one string; anything else is refused', async () => {
    expect((await withAssertion(await assertion(es, inlineId, s.issuer))).status).toBe(200);
    expect((await withAssertion(await assertion(es, inlineId, tokenUrl))).status).toBe(200);
    // The introspection endpoint's URL is not the token endpoint's.
    const wrongEndpoint = await withAssertion(await assertion(es, inlineId, introspectUrl));
    expect(wrongEndpoint.status).toBe(401);
    expect(wrongEndpoint.json).toEqual(FAILED);
    // At the introspection endpoint it is the right one.
    const token = String((await withAssertion(await assertion(es, inlineId, s.issuer))).json['access_token']);
    const intro = await postForm(introspectUrl, { token, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(es, inlineId, introspectUrl) });
    expect(intro.status).toBe(200);
    expect(intro.json['active']).toBe(true);
    for (const aud of [[s.issuer], [s.issuer, 'https://other.example'], 'https://other.example', `${s.issuer}/`]) {
      const r = await withAssertion(await assertion(es, inlineId, aud));
      expect(r.status, JSON.stringify(aud)).toBe(401);
      expect(r.json).toEqual(FAILED);
    }
  });

  it('lifetime: an expired assertion, one without exp, one living longer than five minutes, one issued in the future are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [{ exp: now - 120, iat: now - 180 }, { exp: null }, { exp: now + 3600 }, { iat: now + 600, exp: now + 650 }]) {
      const r = await withAssertion(await assertion(es, inlineId, s.issuer, claims));
      expect(r.status, JSON.stringify(claims)).toBe(401);
      expect(r.json).toEqual(FAILED);
    }
    // Within the skew Tollgate tolerates, a just-expired one still passes.
    expect((await withAssertion(await assertion(es, inlineId, s.issuer, { exp: now - 5 }))).status).toBe(200);
  });

  it('jti: required, and single use — a replay is refused, also when sent in parallel', async () => {
    const once = await assertion(es, inlineId, s.issuer);
    expect((await withAssertion(once)).status).toBe(200);
    const again = await withAssertion(once);
    expect(again.status).toBe(401);
    expect(again.json).toEqual(FAILED);
    const noJti = await withAssertion(await assertion(es, inlineId, s.issuer, { jti: null }));
    expect(noJti.status).toBe(401);
    const race = await assertion(es, inlineId, s.issuer);
    const results = await Promise.all(Array.from({ length: 6 }, () => withAssertion(race)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
  });

  it('keys: an unknown kid, a key that is not the application\'s (same kid), alg none and HMAC signed with the public key are refused', async () => {
    const unknownKid = await withAssertion(await assertion(es, inlineId, s.issuer, {}, { kid: 'nope' }));
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.json).toEqual(FAILED);
    const impostor = await withAssertion(await assertion(stranger, inlineId, s.issuer));
    expect(impostor.status).toBe(401);
    expect(impostor.json).toEqual(FAILED);

    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: inlineId, sub: inlineId, aud: s.issuer, exp: now + 60, iat: now, jti: randomUUID() };
    const none = `${b64({ alg: 'none', kid: 'es-1' })}.${b64(payload)}.`;
    const r1 = await withAssertion(none);
    expect(r1.status).toBe(401);
    expect(r1.json).toEqual(FAILED);
    // Algorithm confusion: an HMAC keyed with the public key (as JSON, and its RSA modulus).
    for (const secret of [JSON.stringify(rsa.jwk), String(rsa.jwk.n)]) {
      const signingInput = `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64({ ...payload, jti: randomUUID() })}`;
      const hs = `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
      const r = await withAssertion(hs);
      expect(r.status).toBe(401);
      expect(r.json).toEqual(FAILED);
    }
    // Not a JWT at all.
    expect((await withAssertion('not.a.jwt')).json).toEqual(FAILED);
  });

  it('who: iss and sub must both be the client_id, and a client_id sent beside it must agree', async () => {
    const other = await withAssertion(await assertion(es, inlineId, s.issuer, { iss: 'someone-else' }));
    expect(other.status).toBe(401);
    expect(other.json).toEqual(FAILED);
    const unknown = await withAssertion(await assertion(es, 'tgc_unknown', s.issuer));
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(FAILED);
    const mismatch = await withAssertion(await assertion(es, inlineId, s.issuer), { client_id: 'tgc_other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json).toEqual({ error: 'invalid_request', error_description: 'client_id does not match the client assertion' });
    expect((await withAssertion(await assertion(es, inlineId, s.issuer), { client_id: inlineId })).status).toBe(200);
  });

  it('one method per request: the assertion with Basic or a client_secret, or without its type, is invalid_request', async () => {
    const jwt = await assertion(es, inlineId, s.issuer);
    const withBasic = await cc({ client_assertion_type: ASSERTION_TYPE, client_assertion: jwt }, { authorization: basic(inlineId, 'x') });
    expect(withBasic.status).toBe(400);
    expect(withBasic.json['error']).toBe('invalid_request');
    const withSecret = await withAssertion(jwt, { client_secret: 'x' });
    expect(withSecret.status).toBe(400);
    expect(withSecret.json['error']).toBe('invalid_request');
    const noType = await cc({ client_assertion: jwt });
    expect(noType.status).toBe(400);
    expect(noType.json).toEqual({ error: 'invalid_request', error_description: 'client_assertion and client_assertion_type must be sent together' });
    const wrongType = await cc({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: jwt });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json['error']).toBe('invalid_request');
  });

  it('the method is the application\'s: a key application cannot use a secret or none, a secret application cannot use an assertion', async () => {
    const noSecret = await cc({ client_id: inlineId });
    expect(noSecret.status).toBe(401);
    expect(noSecret.json).toEqual(FAILED);
    const guessed = await cc({}, { authorization: basic(inlineId, 'tgs_guess') });
    expect(guessed.status).toBe(401);
    const secretApp = await s.createApp({ name: 'Secret service', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const r = await withAssertion(await assertion(es, secretApp.client.clientId, s.issuer));
    expect(r.status).toBe(401);
    expect(r.json).toEqual(FAILED);
  });

  it('jwks_uri: fetched once and cached; a new kid makes Tollgate fetch again (at most once a second); a failing URL refuses', async () => {
    const jwksUri = keys.serve('/rotating.json', [es.jwk]);
    const app = await s.createApp({ name: 'Rotating', grantTypes: ['client_credentials'], scopes: ['profile'], privateKeyJwt: { jwksUri } });
    const id = app.client.clientId;
    expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(200);
    expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(200);
    expect(keys.count('/rotating.json')).toBe(1);

    // The application rotates to a new key: the first assertion with its kid works at once.
    const next = await keyPair('ES256', 'es-2');
    keys.serve('/rotating.json', [es.jwk, next.jwk]);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await withAssertion(await assertion(next, id, s.issuer))).status).toBe(200);
    expect(keys.count('/rotating.json')).toBe(2);

    // A burst of unknown kids within the second after that fetch: no fetch at all.
    const burst = await Promise.all(Array.from({ length: 5 }, async () => withAssertion(await assertion(next, id, s.issuer, {}, { kid: `ghost-${randomUUID()}` }))));
    expect(burst.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(keys.count('/rotating.json')).toBe(2);

    // The key host goes down: the refetch an unknown kid triggers fails, the caller gets the
    // plain 401, and the keys already fetched stay in use.
    await new Promise((r) => setTimeout(r, 1100));
    keys.serve('/rotating.json', [], 500);
    const ghost = await withAssertion(await assertion(next, id, s.issuer, {}, { kid: 'ghost-after-outage' }));
    expect(ghost.status).toBe(401);
    expect(ghost.json).toEqual(FAILED);
    expect(keys.count('/rotating.json')).toBe(3);
    expect((await withAssertion(await assertion(next, id, s.issuer))).status).toBe(200);
    expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(200);

    const brokenUri = keys.serve('/broken.json', [], 500);
    const broken = await s.createApp({ name: 'Broken keys', grantTypes: ['client_credentials'], scopes: ['profile'], privateKeyJwt: { jwksUri: brokenUri } });
    const r = await withAssertion(await assertion(es, broken.client.clientId, s.issuer));
    expect(r.status).toBe(401);
    expect(r.json).toEqual(FAILED);
  });

  it('a deactivated application cannot authenticate', async () => {
    const app = await s.createApp({ name: 'Soon off', grantTypes: ['client_credentials'], scopes: ['profile'], privateKeyJwt: { jwks: { keys: [es.jwk] } }, active: false });
    const r = await withAssertion(await assertion(es, app.client.clientId, s.issuer));
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error: 'invalid_client', error_description: 'This application is deactivated' });
  });

  describe('registration', () => {
    const register = (meta: Record<string, unknown>) =>
      fetch(`${s.issuer}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(meta) }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
    const base = { client_name: 'Agent backend', grant_types: ['client_credentials'], scope: 'profile', token_endpoint_auth_method: 'private_key_jwt' };

    it('dynamic registration (RFC 7591) with jwks: no secret is issued, the keys authenticate; RFC 7592 replaces them', async () => {
      const r = await register({ ...base, jwks: { keys: [es.jwk] }, token_endpoint_auth_signing_alg: 'ES256' });
      expect(r.status).toBe(201);
      expect(r.json).not.toHaveProperty('client_secret');
      expect(r.json).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [es.jwk] } });
      const id = String(r.json['client_id']);
      expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(200);

      const next = await keyPair('EdDSA', 'ed-1');
      const uri = String(r.json['registration_client_uri']);
      const rat = String(r.json['registration_access_token']);
      const put = await fetch(uri, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` }, body: JSON.stringify({ ...base, client_id: id, jwks: { keys: [next.jwk] } }) });
      expect(put.status).toBe(200);
      expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(401);
      expect((await withAssertion(await assertion(next, id, s.issuer))).status).toBe(200);
      // The method itself cannot change.
      const toSecret = await fetch(uri, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` }, body: JSON.stringify({ ...base, client_id: id, token_endpoint_auth_method: 'client_secret_basic' }) });
      expect(toSecret.status).toBe(400);
      expect(((await toSecret.json()) as Record<string, unknown>)['error']).toBe('invalid_client_metadata');
    });

    it('dynamic registration with jwks_uri', async () => {
      const jwksUri = keys.serve('/registered.json', [rsa.jwk]);
      const r = await register({ ...base, jwks_uri: jwksUri });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri });
      expect((await withAssertion(await assertion(rsa, String(r.json['client_id']), s.issuer))).status).toBe(200);
    });

    it('refused: private or symmetric key material, both or neither of jwks and jwks_uri, an internal jwks_uri, keys without private_key_jwt, an HMAC signing alg', async () => {
      const priv = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...base, jwks: { keys: [priv] } }, 'jwks holds private or symmetric key material'],
        [{ ...base, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks holds private or symmetric key material'],
        [{ ...base, jwks: { keys: [] } }, 'jwks holds no key'],
        [{ ...base, jwks: [es.jwk] }, 'jwks must be a JWK Set ({"keys": [...]})'],
        [{ ...base, jwks: { keys: [es.jwk] }, jwks_uri: `${keys.origin}/x.json` }, 'private_key_jwt needs jwks or jwks_uri (exactly one of them)'],
        [{ ...base }, 'private_key_jwt needs jwks or jwks_uri (exactly one of them)'],
        [{ ...base, jwks_uri: 'https://10.0.0.7/jwks.json' }, 'jwks_uri: 10.0.0.7 is not a public address'],
        [{ ...base, jwks_uri: 'https://user:pw@keys.example/jwks.json' }, 'jwks_uri: a URL with credentials is not called'],
        [{ ...base, jwks_uri: 'ftp://keys.example/jwks.json' }, 'jwks_uri: only https URLs are called'],
        [{ ...base, token_endpoint_auth_method: 'client_secret_basic', jwks: { keys: [es.jwk] } }, 'jwks and jwks_uri are used only with token_endpoint_auth_method private_key_jwt'],
        [{ ...base, jwks: { keys: [es.jwk] }, token_endpoint_auth_signing_alg: 'HS256' }, `Unsupported token_endpoint_auth_signing_alg "HS256" (an asymmetric algorithm: ${ALGS.join(', ')})`],
        [{ ...base, token_endpoint_auth_method: 'client_secret_jwt' }, 'Unsupported token_endpoint_auth_method "client_secret_jwt" (client_secret_basic, client_secret_post, private_key_jwt or none)'],
      ];
      for (const [meta, description] of cases) {
        const r = await register(meta);
        expect(r.status, description).toBe(400);
        expect(r.json).toEqual({ error: 'invalid_client_metadata', error_description: description });
      }
    });
  });

  it('admin API: an application created with jwks_uri authenticates with it, has no secret, and cannot rotate one', async () => {
    const jwksUri = keys.serve('/admin.json', [es.jwk]);
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${s.url}/admin/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: 'Batch job', grant_types: ['client_credentials'], scopes: ['profile'], jwks_uri: jwksUri }) });
    expect(created.status).toBe(201);
    const app = (await created.json()) as Record<string, unknown>;
    expect(app).not.toHaveProperty('client_secret');
    expect(app).toMatchObject({ client_type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks_uri: jwksUri, jwks: null });
    const id = String(app['client_id']);
    expect((await withAssertion(await assertion(es, id, s.issuer))).status).toBe(200);
    const rotate = await fetch(`${s.url}/admin/api/apps/${id}/rotate-secret`, { method: 'POST', headers, body: '{}' });
    expect(rotate.status).toBe(400);
    expect(((await rotate.json()) as Record<string, unknown>)['error_description']).toBe('This application authenticates with private_key_jwt: it has no secret to rotate (register new keys instead)');
    // The back-office app page says how it authenticates, and the developer portal offers no secret rotation.
    const person = new Browser(s.url);
    expect((await person.login('pkj-admin@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const backOffice = await (await person.fetch(`/admin/apps/${encodeURIComponent(id)}`)).text();
    expect(backOffice).toContain(`<dt>Authentication</dt><dd>private_key_jwt (signed assertions; no secret) — keys from <code>${jwksUri}</code></dd>`);
    const both = await fetch(`${s.url}/admin/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: 'Both', grant_types: ['client_credentials'], scopes: ['profile'], jwks_uri: jwksUri, jwks: { keys: [es.jwk] } }) });
    expect(both.status).toBe(400);
  });

  it('a Client ID Metadata Document with private_key_jwt: its keys authenticate it, and it may hold the client credentials grant', async () => {
    const docs = createServer((req, res) => {
      const origin = `http://127.0.0.1:${(docs.address() as { port: number }).port}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          client_id: `${origin}${req.url ?? ''}`,
          client_name: 'Signed agent',
          redirect_uris: [`${origin}/callback`],
          grant_types: ['authorization_code', 'client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [es.jwk] },
        }),
      );
    });
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
    try {
      const id = `http://127.0.0.1:${(docs.address() as { port: number }).port}/agent.json`;
      const ok = await withAssertion(await assertion(es, id, s.issuer));
      expect(ok.status).toBe(200);
      expect(ok.json['scope']).toBe('profile');
      const impostor = await withAssertion(await assertion(stranger, id, s.issuer));
      expect(impostor.status).toBe(401);
      expect(impostor.json).toEqual(FAILED);
    } finally {
      docs.closeAllConnections();
      await new Promise<void>((resolve) => docs.close(() => resolve()));
    }
  });
});
