/**
 * H4: compatibility profiles (TOLLGATE_COMPAT, docs/compat.md). A client written against each
 * seed platform's own document, with only the host name changed, works: AnyFetch, Fyle, Oro,
 * Gancio and Frappe paths and shapes, each waiver only on that profile's requests; under an issuer
 * with a path the paths stay at the host's root.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';
import { createApp } from '../../src/services/apps.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, freePort, postForm, type TestServer } from '../helpers/server.js';
import { hostEnv } from '../helpers/host.js';

const CB = 'https://client.example/cb';

describeEachDb('H4 compatibility profiles (TOLLGATE_COMPAT=all)', (start) => {
  let s: TestServer;
  let b: Browser;

  beforeAll(async () => {
    s = await start({ env: { TOLLGATE_COMPAT: 'all' } });
    await s.createUser('compat@example.com');
    b = new Browser(s.url);
    expect((await b.login('compat@example.com', DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  it('AnyFetch: authorize without response_type, POST /oauth/access_token without redirect_uri, Bearer GET /', async () => {
    const app = await s.createApp({ name: 'AnyFetch client', redirectUris: [CB], scopes: ['profile'] });
    // Its document: /oauth/authorize?client_id=…&redirect_uri=… (no response_type).
    const out = await authorize(b, `/oauth/authorize?client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent(CB)}&return_to=${encodeURIComponent('https://provider.example/after')}`);
    expect(out.status).toBe(303);
    const back = new URL(out.location ?? '');
    expect(back.searchParams.get('return_to')).toBe('https://provider.example/after');
    const code = back.searchParams.get('code') ?? '';
    expect(code).toMatch(/^tgo_/);
    const tok = await postForm(`${s.url}/oauth/access_token`, { client_id: app.client.clientId, client_secret: app.clientSecret ?? '', code, grant_type: 'authorization_code' });
    expect(tok.status).toBe(200);
    expect(tok.json).toMatchObject({ token_type: 'Bearer', scope: 'profile' });
    const root = await fetch(`${s.url}/`, { headers: { authorization: `Bearer ${String(tok.json['access_token'])}` } });
    expect(root.status).toBe(200);
    expect(await root.json()).toMatchObject({ user_email: 'compat@example.com', client_id: app.client.clientId });
    // Without a token, / is still the documentation; a bad token is a proper RFC 6750 401.
    expect((await fetch(`${s.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/docs');
    const bad = await fetch(`${s.url}/`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('Fyle: POST /api/oauth/token with an internal app\'s refresh token', async () => {
    const owner = await s.createUser('fyle-owner@example.com');
    const internal = await s.createApp({ name: 'Fyle internal', internal: true, ownerId: owner.id, scopes: ['profile'], grantTypes: ['refresh_token'] });
    const res = await postForm(`${s.url}/api/oauth/token`, { grant_type: 'refresh_token', refresh_token: internal.refreshToken ?? '', client_id: internal.client.clientId, client_secret: internal.clientSecret ?? '' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  });

  it('Oro: POST /oauth2-token with a JSON body (client credentials and password)', async () => {
    const cc = await s.createApp({ name: 'Oro cron', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
    const res = await fetch(`${s.url}/oauth2-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: cc.client.clientId, client_secret: cc.clientSecret }),
    });
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(String(json['access_token']).split('.')).toHaveLength(3);
    const pw = await s.createApp({ name: 'Oro first party', grantTypes: ['password', 'refresh_token'], scopes: ['profile'] });
    const pres = await fetch(`${s.url}/oauth2-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', client_id: pw.client.clientId, client_secret: pw.clientSecret, username: 'compat@example.com', password: DEFAULT_PASSWORD }),
    });
    expect(pres.status).toBe(200);
    expect(Object.keys((await pres.json()) as object).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
  });

  it('Gancio: POST /api/client in its shape, GET /authorize, POST /oauth/token without redirect_uri', async () => {
    const reg = await fetch(`${s.url}/api/client`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_name: 'Wordpress Event Manager', redirect_uris: CB, website: 'https://myapp.example' }).toString(),
    });
    expect(reg.status).toBe(200);
    const app = (await reg.json()) as Record<string, string>;
    expect(Object.keys(app).sort()).toEqual(['client_id', 'client_secret', 'name', 'redirect_uris', 'scopes', 'website']);
    expect(app).toMatchObject({ name: 'Wordpress Event Manager', scopes: 'profile', website: 'https://myapp.example', redirect_uris: CB });
    const redirect = await b.fetch(`/authorize?response_type=code&redirect_uri=${encodeURIComponent(CB)}&scope=profile&client_id=${app['client_id']}`);
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('location')).toBe(`/oauth/authorize?response_type=code&redirect_uri=${encodeURIComponent(CB)}&scope=profile&client_id=${app['client_id']}`);
    const out = await authorize(b, redirect.headers.get('location') ?? '');
    const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
    const tok = await postForm(`${s.url}/oauth/token`, { client_id: app['client_id'] ?? '', client_secret: app['client_secret'] ?? '', scope: 'profile', grant_type: 'authorization_code', code });
    expect(tok.status).toBe(200);
    // The same registration policy as RFC 7591: a scope not offered is refused.
    const refused = await postForm(`${s.url}/api/client`, { client_name: 'X', redirect_uris: CB, scopes: 'admin' });
    expect(refused).toMatchObject({ status: 400, json: { error: 'invalid_client_metadata' } });
  });

  it('Frappe: its authorize and get_token paths; PKCE still required for public clients; revoke_token with the token alone', async () => {
    const pub = await s.createApp({ name: 'Frappe SPA', public: true, redirectUris: [CB], scopes: ['profile'] });
    const path = `/api/method/frappe.integrations.oauth2.authorize?client_id=${pub.client.clientId}&scope=profile&response_type=code&redirect_uri=${encodeURIComponent(CB)}`;
    const noPkce = await b.fetch(path);
    expect(noPkce.status).toBe(303);
    const next = await b.fetch(noPkce.headers.get('location') ?? '');
    expect(new URL(next.headers.get('location') ?? '').searchParams.get('error_description')).toBe('PKCE is required for this client: send code_challenge with code_challenge_method=S256');

    const conf = await s.createApp({ name: 'Frappe server', redirectUris: [CB], scopes: ['profile'] });
    const out = await authorize(b, `/oauth/authorize?client_id=${conf.client.clientId}&scope=profile&response_type=code&redirect_uri=${encodeURIComponent(CB)}`);
    const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
    const tok = await postForm(`${s.url}/api/method/frappe.integrations.oauth2.get_token`, { grant_type: 'authorization_code', code, redirect_uri: CB, client_id: conf.client.clientId }, { authorization: basic(conf.client.clientId, conf.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    expect(tok.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'profile' });
    const access = String(tok.json['access_token']);
    const revoke = await postForm(`${s.url}/api/method/frappe.integrations.oauth2.revoke_token`, { token: access });
    expect(revoke).toMatchObject({ status: 200, json: { message: 'success' } });
    expect((await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${access}` } })).status).toBe(401);
    expect(await postForm(`${s.url}/api/method/frappe.integrations.oauth2.revoke_token`, {})).toMatchObject({ status: 400, json: { message: 'bad request' } });
    const twice = await fetch(`${s.url}/api/method/frappe.integrations.oauth2.revoke_token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=a&token=b' });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toEqual({ message: 'bad request' });
    // An unknown token is "success", as RFC 7009 says.
    expect(await postForm(`${s.url}/api/method/frappe.integrations.oauth2.revoke_token`, { token: 'tga_unknown' })).toMatchObject({ status: 200, json: { message: 'success' } });
  });
});

describe('H4: off by default; under an issuer with a path the profiles keep the platforms\' root paths', () => {
  let s: TestServer | undefined;
  let dir: string;
  let tollgate: Tollgate;
  let host: FastifyInstance;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-compat-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    tollgate = await createTollgate({ config: { ...hostEnv(dir, `${origin}/oauth`), TOLLGATE_COMPAT: 'anyfetch,oro' } });
    host = Fastify();
    host.get('/', async () => ({ host: 'home' }));
    await host.register(tollgate.plugin);
    await host.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await host?.close();
    await tollgate?.close();
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without TOLLGATE_COMPAT, none of the paths exist and response_type is required', async () => {
    const { startTestServer } = await import('../helpers/server.js');
    s = await startTestServer();
    for (const path of ['/oauth2-token', '/api/oauth/token', '/api/client', '/oauth/access_token', '/api/method/frappe.integrations.oauth2.get_token']) {
      expect((await fetch(`${s.url}${path}`, { method: 'POST' })).status).toBe(404);
    }
    const app = await s.createApp({ name: 'Plain', redirectUris: [CB], scopes: ['profile'] });
    const res = await fetch(`${s.url}/oauth/authorize?client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent(CB)}`, { redirect: 'manual' });
    expect(new URL(res.headers.get('location') ?? '').searchParams.get('error_description')).toBe('Missing response_type');
  });

  it('Oro\'s /oauth2-token at the host root; AnyFetch\'s /oauth/authorize redirects to the issuer\'s authorize with code', async () => {
    const cc = await createApp(tollgate.context, { name: 'Oro cron', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const res = await fetch(`${origin}/oauth2-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: cc.client.clientId, client_secret: cc.clientSecret }),
    });
    expect(res.status).toBe(200);
    const web = await createApp(tollgate.context, { name: 'AnyFetch client', redirectUris: [CB], scopes: ['profile'] });
    const a = await fetch(`${origin}/oauth/authorize?client_id=${web.client.clientId}&redirect_uri=${encodeURIComponent(CB)}`, { redirect: 'manual' });
    expect(a.status).toBe(303);
    expect(a.headers.get('location')).toBe(`/oauth/oauth/authorize?client_id=${web.client.clientId}&redirect_uri=${encodeURIComponent(CB)}&response_type=code`);
    // The host's own home page stays the host's.
    expect(await (await fetch(`${origin}/`)).json()).toEqual({ host: 'home' });
  });
});
