/**
 * O5 / docs/security.md "Logs": a full run of flows (login with a password, code + PKCE, refresh,
 * client credentials, revocation, introspection, registration, a failed login, a bad secret,
 * credentials put where they do not belong) writes no secret, password, code or token issued
 * during the run to any log line or audit event.
 */
import * as oauth from 'oauth4webapi';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePg } from '../helpers/pg.js';
import { Browser, authorize, basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const REDIRECT = 'https://client.example/cb';
const PASSWORD = 'hygiene-password-Zq81x';
const WRONG_PASSWORD = 'wrong-password-Kd72m';
const REG_TOKEN = 'initial-registration-token-Pw93';


function eachDb(name: string, fn: (start: (lines: string[], env: Record<string, string>) => Promise<TestServer>) => void): void {
  describe(`${name} [sqlite]`, () => fn((lines, env) => startTestServer({ logLines: lines, env })));
  describePg(`${name} [postgres]`, (url) => fn((lines, env) => startTestServer({ logLines: lines, env, db: 'postgres', pgUrl: url })));
}

eachDb('O5 log hygiene', (start) => {
  const lines: string[] = [];
  const secrets = new Map<string, string>();
  let s: TestServer;

  const keep = (label: string, value: unknown): string => {
    const v = String(value ?? '');
    expect(v.length, label).toBeGreaterThanOrEqual(8);
    secrets.set(label, v);
    return v;
  };

  beforeAll(async () => {
    s = await start(lines, { TOLLGATE_REGISTRATION: 'token', TOLLGATE_REGISTRATION_TOKEN: REG_TOKEN });
    keep('admin password', s.adminPassword);
    keep('user password', PASSWORD);
    keep('wrong password', WRONG_PASSWORD);
    keep('registration token', REG_TOKEN);
  });
  afterAll(async () => s?.close());

  it('runs every flow, then finds no secret in the logs or the audit log', async () => {
    await s.createUser('hygiene@example.com', PASSWORD);
    const conf = await s.createApp({ name: 'Hygiene conf', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
    const pub = await s.createApp({ name: 'Hygiene public', redirectUris: [REDIRECT], scopes: ['profile'], public: true });
    const jwtApp = await s.createApp({ name: 'Hygiene jwt', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
    keep('conf secret', conf.clientSecret);
    keep('jwt app secret', jwtApp.clientSecret);

    // A failed login, then a real one.
    const b = new Browser(s.url);
    expect((await b.login('hygiene@example.com', WRONG_PASSWORD)).status).toBe(401);
    expect((await b.login('nobody@example.com', WRONG_PASSWORD)).status).toBe(401);
    expect((await b.login('hygiene@example.com', PASSWORD)).status).toBe(303);
    keep('session cookie', b.cookie('tg_session'));
    keep('csrf cookie', b.cookie('tg_csrf'));

    // Authorization code + PKCE, confidential and public.
    for (const app of [conf, pub]) {
      const verifier = keep(`verifier ${app.client.name}`, oauth.generateRandomCodeVerifier());
      const challenge = await oauth.calculatePKCECodeChallenge(verifier);
      const state = keep(`state ${app.client.name}`, oauth.generateRandomState());
      const out = await authorize(
        b,
        `/oauth/authorize?response_type=code&client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=profile&state=${state}&code_challenge=${challenge}&code_challenge_method=S256`,
      );
      expect(out.status).toBe(303);
      const code = keep(`code ${app.client.name}`, new URL(out.location ?? '').searchParams.get('code'));
      const auth: Record<string, string> = app.clientSecret ? { authorization: basic(app.client.clientId, app.clientSecret) } : {};
      const body: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, ...(app.clientSecret ? {} : { client_id: app.client.clientId }) };
      const tok = await postForm(`${s.url}/oauth/token`, body, auth);
      expect(tok.status).toBe(200);
      keep(`access ${app.client.name}`, tok.json['access_token']);
      const rt = keep(`refresh ${app.client.name}`, tok.json['refresh_token']);
      // Refresh, then replay the old refresh token.
      const refreshBody = { grant_type: 'refresh_token', refresh_token: rt, ...(app.clientSecret ? {} : { client_id: app.client.clientId }) };
      const ref = await postForm(`${s.url}/oauth/token`, refreshBody, auth);
      expect(ref.status).toBe(200);
      keep(`refreshed access ${app.client.name}`, ref.json['access_token']);
      const rt2 = keep(`refreshed refresh ${app.client.name}`, ref.json['refresh_token']);
      expect((await postForm(`${s.url}/oauth/token`, refreshBody, auth)).status).toBe(400);
      void rt2;
      // Replaying the code fails (Z10; logged as an error, without the code).
      expect((await postForm(`${s.url}/oauth/token`, body, auth)).status).toBe(400);
    }

    // Client credentials, a JWT, introspection and revocation.
    const cc = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(jwtApp.client.clientId, jwtApp.clientSecret ?? '') });
    expect(cc.status).toBe(200);
    const jwt = keep('jwt access', cc.json['access_token']);
    const jwtAuth = { authorization: basic(jwtApp.client.clientId, jwtApp.clientSecret ?? '') };
    expect((await postForm(`${s.url}/oauth/introspect`, { token: jwt }, jwtAuth)).json['active']).toBe(true);
    expect((await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);
    expect((await postForm(`${s.url}/oauth/revoke`, { token: jwt }, jwtAuth)).status).toBe(200);
    expect((await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(401);

    // A bad secret (Basic and body), a secret in the query string, a token in the query string.
    expect((await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(jwtApp.client.clientId, 'tgs_bad-secret-Lm39q') })).status).toBe(401);
    keep('bad secret', 'tgs_bad-secret-Lm39q');
    expect((await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', client_id: jwtApp.client.clientId, client_secret: 'tgs_bad-secret-Lm39q' })).status).toBe(401);
    expect((await postForm(`${s.url}/oauth/token?client_secret=${jwtApp.clientSecret ?? ''}`, { grant_type: 'client_credentials' })).status).toBe(400);
    const confAccess = secrets.get(`access ${conf.client.name}`) ?? '';
    expect((await fetch(`${s.url}/api/?access_token=${confAccess}`)).status).toBe(400);
    expect((await fetch(`${s.url}/api/`, { headers: { authorization: `Basic ${confAccess}` } })).status).toBe(400);
    // A page request carrying a code-like value in its query.
    const page = await fetch(`${s.url}/oauth/authorize?client_id=${conf.client.clientId}&code=${secrets.get(`code ${conf.client.name}`) ?? ''}`, { redirect: 'manual' });
    expect(page.status).toBe(303);

    // Device authorization (RFC 8628): the codes, the verification page (code in the query), a poll, the tokens.
    const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
    const tv = await s.createApp({ name: 'Hygiene TV', public: true, scopes: ['profile'], grantTypes: [GRANT] });
    const started = await postForm(`${s.url}/oauth/device_authorization`, { client_id: tv.client.clientId, scope: 'profile' });
    const deviceCode = keep('device code', started.json['device_code']);
    const userCode = keep('user code', started.json['user_code']);
    keep('user code typed', userCode.replace('-', ''));
    const poll = () => postForm(`${s.url}/oauth/token`, { grant_type: GRANT, device_code: deviceCode, client_id: tv.client.clientId });
    expect((await poll()).json['error']).toBe('authorization_pending');
    const devicePage = await b.fetch(`/device?user_code=${userCode}`);
    const deviceHtml = await devicePage.text();
    expect(devicePage.status).toBe(200);
    const csrfField = /name="csrf" value="([^"]+)"/.exec(deviceHtml)?.[1] ?? '';
    expect((await b.postForm('/device', [['csrf', csrfField], ['user_code', userCode.replace('-', '')]])).status).toBe(303);
    expect((await b.postForm('/device/decision', [['csrf', csrfField], ['user_code', userCode], ['scope', 'profile'], ['decision', 'allow']])).status).toBe(200);
    const deviceTokens = await poll();
    expect(deviceTokens.status).toBe(200);
    keep('device access token', deviceTokens.json['access_token']);
    expect((await poll()).json['error']).toBe('invalid_grant');

    // Registration (protected), read with the registration access token, then a wrong one.
    const reg = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REG_TOKEN}` },
      body: JSON.stringify({ client_name: 'Hygiene registered', redirect_uris: [REDIRECT] }),
    });
    expect(reg.status).toBe(201);
    const regJson = (await reg.json()) as Record<string, unknown>;
    keep('registered secret', regJson['client_secret']);
    const rat = keep('registration access token', regJson['registration_access_token']);
    const read = await fetch(`${s.url}/oauth/register/${String(regJson['client_id'])}`, { headers: { authorization: `Bearer ${rat}` } });
    expect(read.status).toBe(200);
    expect((await fetch(`${s.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong-registration-token-Qx' }, body: '{}' })).status).toBe(401);
    keep('wrong registration token', 'wrong-registration-token-Qx');

    // private_key_jwt: an accepted assertion, the same one replayed, and one signed by another key.
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const signedApp = await s.createApp({ name: 'Signed', grantTypes: ['client_credentials'], scopes: ['profile'], privateKeyJwt: { jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k' }] } } });
    const signedId = signedApp.client.clientId;
    const assertionOf = async (key: CryptoKey) =>
      new SignJWT({ jti: oauth.generateRandomState() }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setIssuer(signedId).setSubject(signedId).setAudience(s.issuer).setExpirationTime('1m').sign(key);
    const assertionParams = (a: string) => ({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a });
    const good = keep('client assertion', await assertionOf(privateKey));
    const signedTok = await postForm(`${s.url}/oauth/token`, assertionParams(good));
    expect(signedTok.status).toBe(200);
    keep('assertion-authenticated access', signedTok.json['access_token']);
    expect((await postForm(`${s.url}/oauth/token`, assertionParams(good))).status).toBe(401);
    const forged = keep('forged assertion', await assertionOf((await generateKeyPair('ES256')).privateKey));
    expect((await postForm(`${s.url}/oauth/token`, assertionParams(forged))).status).toBe(401);

    // Let pino flush, then look.
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes('"url":"/oauth/token"'))).toBe(true);
    const audit = await s.ctx.storage.audit.list({ limit: 1000 });
    expect(audit.map((e) => e.type)).toEqual(
      expect.arrayContaining(['login.failed', 'login.succeeded', 'app.created', 'app.registered', 'token.revoked', 'consent.granted', 'refresh.reuse_detected']),
    );
    const auditText = audit.map((e) => JSON.stringify(e));
    const leaks: string[] = [];
    for (const [label, value] of secrets) {
      for (const l of lines) if (l.includes(value)) leaks.push(`log: ${label} in ${l.slice(0, 300)}`);
      for (const e of auditText) if (e.includes(value)) leaks.push(`audit: ${label} in ${e.slice(0, 300)}`);
    }
    expect(leaks).toEqual([]);
  });
});

describe('O5 log hygiene with a caller-supplied logger (harness `logLines`)', () => {
  // buildApp merges a caller's logger options over loggerOptions(), keeping redaction and the
  // safe request serializer, so an embedding app's logger cannot leak query strings either.
  it('request lines never carry query-string values', async () => {
    const lines: string[] = [];
    const s = await startTestServer({ logLines: lines });
    try {
      const marker = 'tga_query-string-token-Vb58s';
      expect((await fetch(`${s.url}/api/?access_token=${marker}`)).status).toBe(400);
      await new Promise((r) => setTimeout(r, 20));
      expect(lines.filter((l) => l.includes(marker))).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
