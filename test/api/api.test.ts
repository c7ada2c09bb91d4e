/**
 * Tollgate's own protected API (R1, R2; RFC 6750): `GET /api/` (who the token is for, AnyFetch's
 * shape) and `GET /api/me` (scope `profile`); bearer-header parsing; tokens that stop being
 * valid (expired, revoked, deactivated application, disabled user) are refused at once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const REDIRECT = 'https://client.example/cb';
const INVALID_TOKEN = {
  status: 401,
  body: { error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' },
  www: 'Bearer realm="tollgate", error="invalid_token", error_description="The access token is invalid, expired or revoked"',
};
const MALFORMED = { error: 'invalid_request', error_description: 'Malformed Authorization header: expected "Bearer <token>"' };

interface Got {
  readonly status: number;
  readonly body: unknown;
  readonly www: string | null;
}

async function get(s: TestServer, path: string, authorization?: string): Promise<Got> {
  const res = await fetch(`${s.url}${path}`, { headers: authorization === undefined ? {} : { authorization } });
  let www = res.headers.get('www-authenticate');
  if (www !== null) {
    // RFC 9728 §5.1 (issue #13): every challenge names the API's metadata, and a 401 the scope the
    // route needs; checked here exactly, then taken off so each test compares the RFC 6750 part.
    const tail = `${res.status === 401 && path === '/api/me' ? ', scope="profile"' : ''}, resource_metadata="${s.issuer}/.well-known/oauth-protected-resource/api"`;
    expect(www.endsWith(tail), www).toBe(true);
    expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
    www = www.slice(0, -tail.length);
  }
  return { status: res.status, body: await res.json(), www };
}

describeEachDb('R1/R2 protected API', (start) => {
  let s: TestServer;
  let browser: Browser;
  let user: { id: string; email: string };

  beforeAll(async () => {
    s = await start();
    const u = await s.createUser('api@example.com');
    user = { id: u.id, email: u.email };
    browser = new Browser(s.url);
    expect((await browser.login('api@example.com', DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  async function userToken(app: CreatedApp, scope: string, b = browser): Promise<{ access: string; refresh: string }> {
    const out = await authorize(b, `/oauth/authorize?response_type=code&client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=${encodeURIComponent(scope)}&state=z`);
    expect(out.status).toBe(303);
    const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    return { access: String(tok.json['access_token']), refresh: String(tok.json['refresh_token']) };
  }

  it('R1 GET /api/ tells who the token is for', async () => {
    const app = await s.createApp({ name: 'Who', redirectUris: [REDIRECT], scopes: ['email'] });
    const { access } = await userToken(app, 'email');
    const res = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${access}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      user_id: user.id,
      user_email: user.email,
      client_id: app.client.clientId,
      scope: 'email',
      urls: {
        self: `${s.issuer}/api/`,
        me: `${s.issuer}/api/me`,
        documentation: `${s.issuer}/docs`,
        openapi: `${s.issuer}/openapi.json`,
      },
      server_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(Math.abs(Date.parse(String(body['server_time'])) - Date.now())).toBeLessThan(10_000);
    // A lowercase scheme is the same scheme (RFC 7235 §2.1).
    expect((await get(s, '/api/', `bearer ${access}`)).status).toBe(200);
  });

  it('R2 /api/me needs `profile`: 403 insufficient_scope otherwise', async () => {
    const app = await s.createApp({ name: 'Scopes', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
    const { access: emailOnly } = await userToken(app, 'email');
    expect(await get(s, '/api/me', `Bearer ${emailOnly}`)).toEqual({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'This endpoint requires the scope: profile' },
      // RFC 6750 §3: an insufficient_scope challenge names the scope needed.
      www: 'Bearer realm="tollgate", error="insufficient_scope", error_description="This endpoint requires the scope: profile", scope="profile"',
    });
    const { access } = await userToken(app, 'profile');
    expect(await get(s, '/api/me', `Bearer ${access}`)).toEqual({
      status: 200,
      body: { sub: user.id, user_id: user.id, email: user.email, client_id: app.client.clientId, scope: 'profile' },
      www: null,
    });
  });

  it('RFC 9728 (issue #13): the API publishes its protected resource metadata, readable from any origin', async () => {
    const res = await fetch(`${s.url}/.well-known/oauth-protected-resource/api`, { headers: { origin: 'https://inspector.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({
      resource: `${s.issuer}/api`,
      authorization_servers: [s.issuer],
      bearer_methods_supported: ['header'],
      resource_name: 'Tollgate API',
      resource_documentation: `${s.issuer}/docs`,
      scopes_supported: ['openid', 'offline_access', 'admin', 'email', 'profile'],
    });
  });

  it('R2 a missing header → 401 with the bare challenge', async () => {
    for (const path of ['/api/', '/api/me']) {
      expect(await get(s, path)).toEqual({
        status: 401,
        body: { error: 'invalid_request', error_description: 'An access token is required' },
        www: 'Bearer realm="tollgate"',
      });
    }
  });

  it('R2 malformed Authorization headers → 400 invalid_request', async () => {
    const app = await s.createApp({ name: 'Malformed', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    const at = String(tok.json['access_token']);
    const cases = ['', 'Bearer', 'Bearer ', `Basic ${at}`, `Token ${at}`, `Bearer ${at} ${at}`, `Bearer  ${at}`, `Bearer ${at},${at}`, `Bearer "${at}"`, at];
    for (const h of cases) {
      const r = await get(s, '/api/', h);
      expect(r.status, JSON.stringify(h)).toBe(400);
      expect(r.body, JSON.stringify(h)).toEqual(MALFORMED);
      expect(r.www).toBe(`Bearer realm="tollgate", error="invalid_request", error_description="${MALFORMED.error_description.replace(/"/g, '')}"`);
    }
    expect(await get(s, '/api/', `Bearer ${'a'.repeat(9000)}`)).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_description: 'The Authorization header is too large' },
    });
    // The well-formed header still works.
    expect((await get(s, '/api/', `Bearer ${at}`)).status).toBe(200);
  });

  it('R2 a token in the query string is refused, even with a good header', async () => {
    const app = await s.createApp({ name: 'Query', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    const at = String(tok.json['access_token']);
    const refused = { error: 'invalid_request', error_description: 'Send the access token in the Authorization header, not in the query string' };
    for (const q of [`?access_token=${at}`, `?x=1&access_token=${at}`, `?access%5Ftoken=${at}`]) {
      expect(await get(s, `/api/${q}`), q).toMatchObject({ status: 400, body: refused });
      expect(await get(s, `/api/me${q}`, `Bearer ${at}`), q).toMatchObject({ status: 400, body: refused });
    }
  });

  it('R2 unknown, expired, revoked and refresh tokens → 401 invalid_token', async () => {
    const app = await s.createApp({ name: 'Dead', redirectUris: [REDIRECT], scopes: ['profile'] });
    expect(await get(s, '/api/', 'Bearer tga_unknown')).toEqual({ ...INVALID_TOKEN, body: INVALID_TOKEN.body });
    // Expired: a row whose expiry has passed.
    const expired = 'tga_expired-0000000000000000000000000000000000000';
    const now = Date.now();
    await s.ctx.storage.tokens.insert({
      tokenHash: sha256(expired),
      kind: 'access',
      format: 'opaque',
      clientId: app.client.clientId,
      userId: user.id,
      scope: 'profile',
      audience: `${s.issuer}/api`,
      familyId: null,
      parentHash: null,
      expiresAt: now - 1,
      createdAt: now - 3_600_000,
    });
    expect(await get(s, '/api/', `Bearer ${expired}`)).toEqual(INVALID_TOKEN);
    // Revoked.
    const { access, refresh } = await userToken(app, 'profile');
    expect((await get(s, '/api/', `Bearer ${access}`)).status).toBe(200);
    expect(await get(s, '/api/', `Bearer ${refresh}`)).toEqual(INVALID_TOKEN);
    const rev = await postForm(`${s.url}/oauth/revoke`, { token: access }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(rev.status).toBe(200);
    expect(await get(s, '/api/', `Bearer ${access}`)).toEqual(INVALID_TOKEN);
    expect(await get(s, '/api/me', `Bearer ${access}`)).toEqual(INVALID_TOKEN);
  });

  it('A3 a deactivated application’s tokens stop at once, and work again when reactivated', async () => {
    const app = await s.createApp({ name: 'Deactivated', redirectUris: [REDIRECT], scopes: ['profile'], tokenFormat: 'jwt' });
    const { access } = await userToken(app, 'profile');
    expect((await get(s, '/api/', `Bearer ${access}`)).status).toBe(200);
    await s.ctx.storage.clients.update(app.client.clientId, { active: false }, Date.now());
    expect(await get(s, '/api/', `Bearer ${access}`)).toEqual(INVALID_TOKEN);
    await s.ctx.storage.clients.update(app.client.clientId, { active: true }, Date.now());
    expect((await get(s, '/api/', `Bearer ${access}`)).status).toBe(200);
  });

  it('a disabled user’s tokens stop at once', async () => {
    const u = await s.createUser('disabled@example.com');
    const b = new Browser(s.url);
    expect((await b.login('disabled@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const app = await s.createApp({ name: 'Disabled user', redirectUris: [REDIRECT], scopes: ['profile'] });
    const { access } = await userToken(app, 'profile', b);
    expect((await get(s, '/api/me', `Bearer ${access}`)).status).toBe(200);
    await s.ctx.storage.users.update(u.id, { disabled: true });
    expect(await get(s, '/api/', `Bearer ${access}`)).toEqual(INVALID_TOKEN);
    expect(await get(s, '/api/me', `Bearer ${access}`)).toEqual(INVALID_TOKEN);
  });
});
