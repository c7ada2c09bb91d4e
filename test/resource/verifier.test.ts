/**
 * R3 / T12 / RFC 6750: the resource-server toolkit's plain function (`createVerifier().verify`)
 * against a live Tollgate: JWT (RFC 9068, local JWKS) and opaque (RFC 7662 introspection)
 * tokens, expiry and not-before with clock skew, revocation after the cache delay, issuer and
 * audience, scopes, malformed headers, query-string tokens, key rotation (unknown kid → one
 * rate-limited refetch) and an unreachable authorization server (503, never a pass).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { createVerifier, metadataUrl, type Verifier, type VerifierOptions } from '../../src/resource/index.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { createResourceServer, setIntrospectors } from '../../src/services/directory.js';
import { rotateSigningKey } from '../../src/services/keys.js';
import { describeEachDb, freePort, startTestServer, type TestServer } from '../helpers/server.js';
import { GENERIC, ccToken, countingFetch, craftJwt, invalidToken, refusal, revoke, sleep } from '../helpers/resource.js';

const DOCS = 'https://documents.example/api';
const OTHER = 'https://other.example/api';

interface Fixture {
  s: TestServer;
  rsClient: CreatedApp;
  opaqueApp: CreatedApp;
  jwtApp: CreatedApp;
}

async function setUp(s: TestServer): Promise<Fixture> {
  await createResourceServer(s.ctx, {
    identifier: DOCS,
    name: 'Documents API',
    scopes: [
      { name: 'documents:read', description: 'Read your documents' },
      { name: 'documents:write', description: 'Create documents' },
    ],
  });
  await createResourceServer(s.ctx, { identifier: OTHER, name: 'Other API', scopes: [{ name: 'other:read', description: 'Other' }] });
  const rsClient = await s.createApp({ name: 'Documents API (introspection)', grantTypes: ['client_credentials'] });
  // Issue #15 §6: the API's own application introspects for it.
  await setIntrospectors(s.ctx, DOCS, [rsClient.client.clientId]);
  const scopes = ['documents:read', 'documents:write', 'other:read', 'profile'];
  const opaqueApp = await s.createApp({ name: 'Opaque client', grantTypes: ['client_credentials'], scopes });
  const jwtApp = await s.createApp({ name: 'JWT client', grantTypes: ['client_credentials'], scopes, tokenFormat: 'jwt' });
  return { s, rsClient, opaqueApp, jwtApp };
}

function verifierFor(f: Fixture, extra: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: f.s.issuer,
    audience: DOCS,
    realm: 'documents',
    introspection: { clientId: f.rsClient.client.clientId, clientSecret: f.rsClient.clientSecret ?? '' },
    ...extra,
  });
}

const READ = { scope: 'documents:read', resource: DOCS };

describe('the toolkit stands alone', () => {
  it('imports only jose, node built-ins, itself, and types from fastify', () => {
    const dir = join(process.cwd(), 'src/resource');
    let seen = 0;
    for (const file of readdirSync(dir)) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
        const [, , typeOnly, spec = ''] = m;
        const ok = spec === 'jose' || spec.startsWith('node:') || /^\.\/[a-z-]+\.js$/.test(spec) || (typeOnly !== undefined && spec === 'fastify');
        expect(ok, `${file}: ${m[0]}`).toBe(true);
        seen++;
      }
      expect(text, file).not.toMatch(/require\(|import\(/);
    }
    expect(seen).toBeGreaterThanOrEqual(19);
  });
});

describe('metadataUrl (RFC 8414 §3.1)', () => {
  it('inserts the well-known path between host and path', () => {
    expect(metadataUrl('https://auth.example.com')).toBe('https://auth.example.com/.well-known/oauth-authorization-server');
    expect(metadataUrl('https://auth.example.com/')).toBe('https://auth.example.com/.well-known/oauth-authorization-server');
    expect(metadataUrl('https://example.com/tenant/a')).toBe('https://example.com/.well-known/oauth-authorization-server/tenant/a');
  });
  it('refuses bad options at construction', () => {
    expect(() => createVerifier({ issuer: 'not a url', audience: DOCS })).toThrow(/issuer must be an absolute URL/);
    expect(() => createVerifier({ issuer: 'https://a.example', audience: [] })).toThrow(/audience/);
    expect(() => createVerifier({ issuer: 'https://a.example', audience: DOCS, cacheTtl: -1 })).toThrow(/cacheTtl/);
  });
});

describeEachDb('R3 resource toolkit: createVerifier().verify', (start) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(await start());
  });
  afterAll(async () => f?.s.close());

  it('a JWT access token is verified locally against the JWKS (metadata and JWKS fetched once)', async () => {
    const counter = countingFetch();
    const v = verifierFor(f, { fetch: counter.fetch });
    const jwt = await ccToken(f.s, f.jwtApp, READ);
    const before = Date.now();
    const t = await v.verify(`Bearer ${jwt}`);
    expect(t).toMatchObject({
      format: 'jwt',
      subject: f.jwtApp.client.clientId,
      clientId: f.jwtApp.client.clientId,
      scopes: ['documents:read'],
      audience: [DOCS],
    });
    expect(t.claims).toMatchObject({ iss: f.s.issuer, aud: DOCS, client_id: f.jwtApp.client.clientId, scope: 'documents:read', jti: expect.any(String) });
    expect(Math.abs((t.expiresAt?.getTime() ?? 0) - (before + 3600_000))).toBeLessThan(10_000);
    await v.verify(`Bearer ${await ccToken(f.s, f.jwtApp, READ)}`);
    expect(counter.calls).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']);
  });

  it('an opaque token is checked by introspection, and the answer reused for cacheTtl', async () => {
    const counter = countingFetch();
    const v = verifierFor(f, { fetch: counter.fetch, cacheTtl: 60 });
    const at = await ccToken(f.s, f.opaqueApp, READ);
    expect(at).toMatch(/^tga_/);
    const t = await v.verify(`Bearer ${at}`);
    expect(t).toMatchObject({ format: 'opaque', subject: f.opaqueApp.client.clientId, clientId: f.opaqueApp.client.clientId, scopes: ['documents:read'], audience: [DOCS] });
    expect(t.claims).toMatchObject({ active: true, iss: f.s.issuer, token_type: 'Bearer' });
    expect(t.expiresAt).toBeInstanceOf(Date);
    await v.verify(`Bearer ${at}`);
    await Promise.all([v.verify(`Bearer ${at}`), v.verify(`Bearer ${at}`)]);
    expect(counter.count('/oauth/introspect')).toBe(1);
    // Concurrent first checks of one token share one introspection call.
    const at2 = await ccToken(f.s, f.opaqueApp, READ);
    await Promise.all([1, 2, 3].map(() => v.verify(`Bearer ${at2}`)));
    expect(counter.count('/oauth/introspect')).toBe(2);
    expect(counter.count('/jwks.json')).toBe(0);
  });

  it('a refresh token or an unknown opaque token is refused, and refusals are not cached', async () => {
    const counter = countingFetch();
    const v = verifierFor(f, { fetch: counter.fetch });
    expect(await refusal(v.verify('Bearer tga_unknown'))).toEqual(invalidToken(GENERIC));
    expect(await refusal(v.verify('Bearer tga_unknown'))).toEqual(invalidToken(GENERIC));
    expect(counter.count('/oauth/introspect')).toBe(2);
  });

  it('revocation: an opaque token is refused once the cache delay has passed', async () => {
    const v = verifierFor(f, { cacheTtl: 0.5 });
    const at = await ccToken(f.s, f.opaqueApp, READ);
    expect((await v.verify(`Bearer ${at}`)).format).toBe('opaque');
    await revoke(f.s, f.opaqueApp, at);
    // Within the delay, the cached answer still stands (the documented revocation delay) …
    expect((await v.verify(`Bearer ${at}`)).clientId).toBe(f.opaqueApp.client.clientId);
    await sleep(600);
    // … then the token is refused, every time.
    expect(await refusal(v.verify(`Bearer ${at}`))).toEqual(invalidToken(GENERIC));
    // With cacheTtl 0 a revocation is honoured on the very next request.
    const now = verifierFor(f, { cacheTtl: 0 });
    const at2 = await ccToken(f.s, f.opaqueApp, READ);
    await now.verify(`Bearer ${at2}`);
    await revoke(f.s, f.opaqueApp, at2);
    expect(await refusal(now.verify(`Bearer ${at2}`))).toEqual(invalidToken(GENERIC));
  });

  it('revocation: a JWT is verified locally, so it stays accepted until it expires (documented)', async () => {
    const v = verifierFor(f);
    const jwt = await ccToken(f.s, f.jwtApp, READ);
    await revoke(f.s, f.jwtApp, jwt);
    expect((await v.verify(`Bearer ${jwt}`)).format).toBe('jwt');
  });

  it('expired and not-yet-valid JWTs are refused, within the clock skew accepted', async () => {
    const v = verifierFor(f);
    const now = Math.floor(Date.now() / 1000);
    const aud = DOCS;
    expect(await refusal(v.verify(`Bearer ${await craftJwt(f.s, { aud, iat: now - 400, exp: now - 60 })}`))).toEqual(invalidToken('The access token has expired'));
    expect(await refusal(v.verify(`Bearer ${await craftJwt(f.s, { aud, nbf: now + 60 })}`))).toEqual(invalidToken('The access token is not yet valid'));
    // Default skew: 5 seconds.
    expect((await v.verify(`Bearer ${await craftJwt(f.s, { aud, iat: now - 400, exp: now - 2 })}`)).subject).toBe('user-1');
    const nbfSoon = await craftJwt(f.s, { aud, nbf: now + 2 });
    expect((await v.verify(`Bearer ${nbfSoon}`)).subject).toBe('user-1');
    const strict = verifierFor(f, { clockSkew: 0 });
    expect(await refusal(strict.verify(`Bearer ${nbfSoon}`))).toEqual(invalidToken('The access token is not yet valid'));
    // The verifier's clock decides: a real token, two hours later.
    const later = verifierFor(f, { now: () => Date.now() + 2 * 3600_000 });
    expect(await refusal(later.verify(`Bearer ${await ccToken(f.s, f.jwtApp, READ)}`))).toEqual(invalidToken('The access token has expired'));
  });

  it('an expired opaque token is refused', async () => {
    const expired = 'tga_expired-resource-toolkit-000000000000000000000';
    const now = Date.now();
    await f.s.ctx.storage.tokens.insert({
      tokenHash: sha256(expired),
      kind: 'access',
      format: 'opaque',
      clientId: f.opaqueApp.client.clientId,
      userId: null,
      scope: 'documents:read',
      audience: DOCS,
      familyId: null,
      parentHash: null,
      expiresAt: now - 1,
      createdAt: now - 3_600_000,
    });
    expect(await refusal(verifierFor(f).verify(`Bearer ${expired}`))).toEqual(invalidToken(GENERIC));
  });

  it('JWTs with the wrong issuer, typ, key or signature are refused', async () => {
    const v = verifierFor(f);
    const aud = DOCS;
    expect(await refusal(v.verify(`Bearer ${await craftJwt(f.s, { aud, iss: 'https://evil.example' })}`))).toEqual(invalidToken('The access token was issued by another issuer'));
    expect(await refusal(v.verify(`Bearer ${await craftJwt(f.s, { aud }, { typ: 'JWT' })}`))).toEqual(invalidToken(GENERIC));
    expect(await refusal(v.verify(`Bearer ${await craftJwt(f.s, { aud, client_id: undefined })}`))).toEqual(invalidToken(GENERIC));
    // Signed by a key that is not in the JWKS: under an unknown kid, and under Tollgate's kid.
    const { privateKey } = await generateKeyPair('ES256');
    const kid = (await f.s.ctx.keys.signingKey()).kid;
    const now = Math.floor(Date.now() / 1000);
    const payload = { client_id: 'tgc_x', scope: 'documents:read', sub: 'u', jti: 'j', iat: now, exp: now + 60, iss: f.s.issuer, aud };
    for (const k of ['foreign-kid', kid]) {
      const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: k, typ: 'at+jwt' }).sign(privateKey);
      expect(await refusal(v.verify(`Bearer ${forged}`)), k).toEqual(invalidToken(GENERIC));
    }
    // alg "none"
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.x`;
    expect(await refusal(v.verify(`Bearer ${none}`))).toEqual(invalidToken(GENERIC));
  });

  it('T12 a token for another resource server, or for Tollgate’s own API, is refused (JWT and opaque)', async () => {
    const v = verifierFor(f);
    const wrong = invalidToken('The access token was issued for another audience');
    // A JWT is verified here and its audience read; an opaque token for another audience is not
    // even described to this API's introspector (issue #15 §6): it is simply not active here.
    const unknown = invalidToken(GENERIC);
    for (const [app, refused] of [[f.jwtApp, wrong], [f.opaqueApp, unknown]] as const) {
      expect(await refusal(v.verify(`Bearer ${await ccToken(f.s, app, { scope: 'other:read', resource: OTHER })}`)), app.client.name).toEqual(refused);
      expect(await refusal(v.verify(`Bearer ${await ccToken(f.s, app, { scope: 'profile' })}`)), app.client.name).toEqual(refused);
    }
    // A verifier for several audiences accepts each.
    const both = verifierFor(f, { audience: [DOCS, OTHER] });
    expect((await both.verify(`Bearer ${await ccToken(f.s, f.jwtApp, { scope: 'other:read', resource: OTHER })}`)).audience).toEqual([OTHER]);
  });

  it('scopes: 403 insufficient_scope with the scope in the challenge; all-of and any-of', async () => {
    const v = verifierFor(f);
    for (const app of [f.jwtApp, f.opaqueApp]) {
      const header = `Bearer ${await ccToken(f.s, app, READ)}`;
      expect(await refusal(v.verify(header, { scopes: ['documents:write'] }))).toEqual({
        type: 'InsufficientScopeError',
        status: 403,
        error: 'insufficient_scope',
        description: 'This endpoint requires the scope: documents:write',
        www: 'Bearer realm="documents", error="insufficient_scope", error_description="This endpoint requires the scope: documents:write", scope="documents:write"',
      });
      expect(await refusal(v.verify(header, { scopes: ['documents:read', 'documents:write'] }))).toMatchObject({
        status: 403,
        description: 'This endpoint requires the scopes: documents:read documents:write',
      });
      expect(await refusal(v.verify(header, { scopes: ['documents:write', 'documents:admin'], mode: 'any' }))).toMatchObject({
        status: 403,
        description: 'This endpoint requires one of the scopes: documents:write documents:admin',
        www: expect.stringContaining('scope="documents:write documents:admin"'),
      });
      expect((await v.verify(header, { scopes: ['documents:write', 'documents:read'], mode: 'any' })).scopes).toEqual(['documents:read']);
      expect((await v.verify(header, { scopes: ['documents:read'] })).scopes).toEqual(['documents:read']);
    }
  });

  it('malformed Authorization headers → 400 invalid_request; none → 401 with the bare challenge', async () => {
    const counter = countingFetch();
    const v = verifierFor(f, { fetch: counter.fetch });
    const at = await ccToken(f.s, f.opaqueApp, READ);
    const malformed = {
      type: 'InvalidRequestError',
      status: 400,
      error: 'invalid_request',
      description: 'Malformed Authorization header: expected "Bearer <token>"',
      www: 'Bearer realm="documents", error="invalid_request", error_description="Malformed Authorization header: expected Bearer <token>"',
    };
    const cases = ['', 'Bearer', 'Bearer ', `Basic ${at}`, `Token ${at}`, `Bearer ${at} ${at}`, `Bearer  ${at}`, `Bearer ${at},${at}`, `Bearer "${at}"`, at, `Bearer ${at}\n`];
    for (const h of cases) expect(await refusal(v.verify(h)), JSON.stringify(h)).toEqual(malformed);
    expect(await refusal(v.verify([`Bearer ${at}`, `Bearer ${at}`]))).toEqual(malformed);
    expect(await refusal(v.verify(`Bearer ${'a'.repeat(9000)}`))).toEqual({
      ...malformed,
      description: 'The Authorization header is too large',
      www: 'Bearer realm="documents", error="invalid_request", error_description="The Authorization header is too large"',
    });
    expect(await refusal(v.verify(undefined))).toEqual({
      type: 'InvalidRequestError',
      status: 401,
      error: 'invalid_request',
      description: 'An access token is required',
      www: 'Bearer realm="documents"',
    });
    // None of these reached the authorization server.
    expect(counter.calls).toEqual([]);
    // The scheme is case-insensitive (RFC 7235 §2.1).
    expect((await v.verify(`bearer ${at}`)).format).toBe('opaque');
    // Without a realm, the challenge has none.
    const bare = createVerifier({ issuer: f.s.issuer, audience: DOCS });
    expect(await refusal(bare.verify(undefined))).toMatchObject({ status: 401, www: 'Bearer' });
    expect(await refusal(bare.verify('Basic x'))).toMatchObject({ www: 'Bearer error="invalid_request", error_description="Malformed Authorization header: expected Bearer <token>"' });
  });

  it('a token in the query string is refused, even with a good header', async () => {
    const v = verifierFor(f);
    const at = await ccToken(f.s, f.opaqueApp, READ);
    const refused = {
      type: 'InvalidRequestError',
      status: 400,
      error: 'invalid_request',
      description: 'Send the access token in the Authorization header, not in the query string',
      www: 'Bearer realm="documents", error="invalid_request", error_description="Send the access token in the Authorization header, not in the query string"',
    };
    for (const url of [`/documents?access_token=${at}`, `/documents?x=1&access_token=${at}`, `/documents?access%5Ftoken=${at}`, `https://documents.example/documents?access_token=${at}`]) {
      expect(await refusal(v.verify(`Bearer ${at}`, { url })), url).toEqual(refused);
      expect(await refusal(v.verify(undefined, { url })), url).toEqual(refused);
    }
    expect(await refusal(v.verify(`Bearer ${at}`, { url: new URLSearchParams({ access_token: at }) }))).toEqual(refused);
    expect((await v.verify(`Bearer ${at}`, { url: '/documents?q=access_token' })).format).toBe('opaque');
  });

  it('T8 signing key rotated in Tollgate: new tokens accepted without a new verifier; unknown kids refetch once, rate-limited', async () => {
    const counter = countingFetch();
    const v = verifierFor(f, { fetch: counter.fetch });
    const oldJwt = await ccToken(f.s, f.jwtApp, READ);
    await v.verify(`Bearer ${oldJwt}`);
    expect(counter.count('/jwks.json')).toBe(1);
    const rotated = await rotateSigningKey(f.s.ctx);
    const newJwt = await ccToken(f.s, f.jwtApp, READ);
    expect(JSON.parse(Buffer.from(newJwt.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ kid: rotated.kid });
    await sleep(1100); // past the default refetch interval (1 s) since the first fetch
    expect((await v.verify(`Bearer ${newJwt}`)).format).toBe('jwt');
    expect(counter.count('/jwks.json')).toBe(2);
    // Both keys are known now; the old key stays published until its tokens expire.
    await v.verify(`Bearer ${oldJwt}`);
    await v.verify(`Bearer ${newJwt}`);
    expect(counter.count('/jwks.json')).toBe(2);
    // Unknown kids: concurrent ones share one refetch, and the next one within the interval none.
    await sleep(1100);
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const forged = (kid: string) =>
      new SignJWT({ client_id: 'x', sub: 'x', jti: kid, iat: now, exp: now + 60, iss: f.s.issuer, aud: DOCS })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .sign(privateKey);
    const results = await Promise.all(['k1', 'k2', 'k3', 'k4', 'k5'].map(async (k) => refusal(v.verify(`Bearer ${await forged(k)}`))));
    for (const r of results) expect(r).toEqual(invalidToken(GENERIC));
    expect(counter.count('/jwks.json')).toBe(3);
    expect(await refusal(v.verify(`Bearer ${await forged('k6')}`))).toEqual(invalidToken(GENERIC));
    expect(counter.count('/jwks.json')).toBe(3);
    expect(counter.count('/.well-known/oauth-authorization-server')).toBe(1);
  });

  it('wrong introspection credentials → 503, never a pass', async () => {
    const v = verifierFor(f, { introspection: { clientId: f.rsClient.client.clientId, clientSecret: 'tgs_wrong' } });
    const at = await ccToken(f.s, f.opaqueApp, READ);
    expect(await refusal(v.verify(`Bearer ${at}`))).toMatchObject({ type: 'ServiceUnavailableError', status: 503, error: 'temporarily_unavailable' });
    // Without introspection credentials, opaque tokens cannot be accepted at all.
    const jwtOnly = createVerifier({ issuer: f.s.issuer, audience: DOCS, realm: 'documents' });
    expect(await refusal(jwtOnly.verify(`Bearer ${at}`))).toEqual(invalidToken(GENERIC));
  });
});

describe('R3 the authorization server unreachable → 503 from the resource server, never a pass', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setUp(await startTestServer());
  });
  afterAll(async () => f?.s.close().catch(() => undefined));

  it('nothing reachable at the issuer: 503 for JWT and opaque tokens', async () => {
    const port = await freePort();
    const v = createVerifier({ issuer: `http://127.0.0.1:${port}`, audience: DOCS, introspection: { clientId: 'a', clientSecret: 'b' }, timeout: 2000 });
    const jwt = await ccToken(f.s, f.jwtApp, READ);
    const at = await ccToken(f.s, f.opaqueApp, READ);
    for (const t of [jwt, at]) {
      expect(await refusal(v.verify(`Bearer ${t}`))).toEqual({
        type: 'ServiceUnavailableError',
        status: 503,
        error: 'temporarily_unavailable',
        description: 'The access token could not be checked, try again later',
        www: 'Bearer error="temporarily_unavailable", error_description="The access token could not be checked, try again later"',
      });
    }
  });

  it('the metadata names another issuer: 503', async () => {
    const counter = countingFetch();
    const v = createVerifier({ issuer: `${f.s.url}`, audience: DOCS, fetch: counter.fetch });
    // The test server's issuer is http://localhost:PORT; asking about http://127.0.0.1:PORT is another issuer.
    expect(f.s.url).not.toBe(f.s.issuer);
    expect(await refusal(v.verify(`Bearer ${await ccToken(f.s, f.jwtApp, READ)}`))).toMatchObject({ status: 503 });
    expect(counter.calls).toEqual(['/.well-known/oauth-authorization-server']);
  });

  it('Tollgate stops after the verifier warmed up: opaque tokens 503, cached JWT keys still verify locally', async () => {
    const v = verifierFor(f, { cacheTtl: 0 });
    const jwt = await ccToken(f.s, f.jwtApp, READ);
    const at = await ccToken(f.s, f.opaqueApp, READ);
    await v.verify(`Bearer ${jwt}`);
    await v.verify(`Bearer ${at}`);
    await f.s.close();
    expect(await refusal(v.verify(`Bearer ${at}`))).toMatchObject({ type: 'ServiceUnavailableError', status: 503 });
    expect((await v.verify(`Bearer ${jwt}`)).format).toBe('jwt');
    // A JWT under a kid the verifier does not know cannot be checked now: 503, not a pass, not a 401.
    const { privateKey } = await generateKeyPair('ES256');
    await sleep(1100);
    const now = Math.floor(Date.now() / 1000);
    const unknownKid = await new SignJWT({ client_id: 'x', sub: 'x', jti: 'x', iat: now, exp: now + 60, iss: f.s.issuer, aud: DOCS })
      .setProtectedHeader({ alg: 'ES256', kid: 'rotated-meanwhile', typ: 'at+jwt' })
      .sign(privateKey);
    expect(await refusal(v.verify(`Bearer ${unknownKid}`))).toMatchObject({ status: 503 });
  });
});
