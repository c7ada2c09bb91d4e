/**
 * Dynamic client registration (A8): RFC 7591 (register) and RFC 7592 (read, update, delete with
 * the registration access token), in Gancio's shape (`scopes`/`scope`, `website`/`client_uri`,
 * JSON or form-encoded), under the configured policy (open / token / off, scopes, grant types).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const REDIRECT = 'https://app.example/callback';
const INITIAL_TOKEN = 'initial-access-token-0123456789';

interface Res {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Record<string, unknown>;
}

async function call(url: string, method: string, body: unknown, opts: { form?: boolean; auth?: string } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.auth !== undefined) headers['authorization'] = opts.auth;
  let payload: string | undefined;
  if (body !== undefined) {
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Record<string, string | string[]>)) {
        for (const item of Array.isArray(v) ? v : [v]) p.append(k, item);
      }
      payload = p.toString();
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const res = await fetch(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const register = (s: TestServer, body: unknown, opts: { form?: boolean; auth?: string } = {}) => call(`${s.url}/oauth/register`, 'POST', body, opts);

describeEachDb('A8 dynamic registration (RFC 7591/7592), open', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close());

  it('JSON body: returns generated client_id, secret and registration access token', async () => {
    const r = await register(s, {
      client_name: 'Gancio mobile',
      redirect_uris: [REDIRECT],
      scope: 'profile email',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      client_id: 'tgc_i-choose-my-id',
      client_secret: 'i-choose-my-secret',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const clientId = String(r.json['client_id']);
    expect(clientId).toMatch(/^tgc_[A-Za-z0-9_-]{22}$/);
    expect(clientId).not.toBe('tgc_i-choose-my-id');
    expect(r.json['client_secret']).toMatch(/^tgs_[A-Za-z0-9_-]{43}$/);
    expect(r.json['client_secret']).not.toBe('i-choose-my-secret');
    expect(r.json['registration_access_token']).toMatch(/^tgreg_[A-Za-z0-9_-]{43}$/);
    expect(r.json).toMatchObject({
      client_name: 'Gancio mobile',
      redirect_uris: [REDIRECT],
      scope: 'profile email',
      client_uri: 'https://app.example',
      logo_uri: 'https://app.example/logo.png',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_expires_at: 0,
      registration_client_uri: `${s.issuer}/oauth/register/${clientId}`,
    });
    expect(typeof r.json['client_id_issued_at']).toBe('number');
    // The secret is stored only as a hash; the client is marked as dynamic.
    const row = await s.ctx.storage.clients.byId(clientId);
    expect(row).toMatchObject({ dynamic: true, secretHash: sha256(String(r.json['client_secret'])), website: 'https://app.example' });
    expect(row?.registrationTokenHash).toBe(sha256(String(r.json['registration_access_token'])));
    const audit = await s.ctx.storage.audit.list({ limit: 1000 });
    expect(audit.some((e) => e.type === 'app.registered' && e.clientId === clientId)).toBe(true);
  });

  it('form body, Gancio names: `scopes`, `website`, repeated redirect_uris', async () => {
    const r = await register(
      s,
      { client_name: 'Gancio web', redirect_uris: [REDIRECT, 'http://127.0.0.1:9999/cb'], scopes: 'email', website: 'https://gancio.example' },
      { form: true },
    );
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ client_name: 'Gancio web', redirect_uris: [REDIRECT, 'http://127.0.0.1:9999/cb'], scope: 'email', client_uri: 'https://gancio.example' });
  });

  it('the default scope when none is asked; a public client (none) gets no secret', async () => {
    const r = await register(s, { client_name: 'Default', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
    expect(r.status).toBe(201);
    expect(r.json['scope']).toBe('profile');
    expect(r.json['token_endpoint_auth_method']).toBe('none');
    expect(r.json['client_secret']).toBeUndefined();
    expect(r.json['registration_access_token']).toMatch(/^tgreg_/);
  });

  it('a scope outside TOLLGATE_REGISTRATION_SCOPES → 400 invalid_client_metadata', async () => {
    const r = await register(s, { client_name: 'Greedy', redirect_uris: [REDIRECT], scope: 'profile admin' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'invalid_client_metadata', error_description: 'Scope not available to registered applications: admin' });
    const missing = await register(s, { redirect_uris: [REDIRECT] });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: 'invalid_client_metadata', error_description: 'client_name is required' });
  });

  it('grant types password / client_credentials are refused unless configured', async () => {
    for (const g of ['password', 'client_credentials']) {
      const r = await register(s, { client_name: 'Grants', redirect_uris: [REDIRECT], grant_types: ['authorization_code', g] });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_client_metadata', error_description: `Grant type not available to registered applications: ${g}` });
    }
  });

  it('bad redirect URIs → 400 invalid_redirect_uri', async () => {
    const cases: Array<[string, string]> = [
      ['https://app.example/cb#frag', 'A redirect URI must not contain a fragment'],
      ['javascript:alert(1)', 'The scheme javascript: is not allowed'],
      ['data:text/html,hi', 'The scheme data: is not allowed'],
      ['http://app.example/cb', 'Plain http is only allowed for loopback redirect URIs (127.0.0.1, [::1], localhost)'],
      ['https://user:pw@app.example/cb', 'A redirect URI must not contain user information'],
      ['/relative/cb', 'Not an absolute URI: /relative/cb'],
    ];
    for (const [uri, description] of cases) {
      const r = await register(s, { client_name: 'Bad URI', redirect_uris: [REDIRECT, uri] });
      expect(r.status, uri).toBe(400);
      expect(r.json, uri).toEqual({ error: 'invalid_redirect_uri', error_description: description });
    }
    const none = await register(s, { client_name: 'No URI' });
    expect(none.status).toBe(400);
    expect(none.json).toEqual({ error: 'invalid_client_metadata', error_description: 'authorization_code and implicit need at least one redirect URI' });
  });

  it('RFC 7592: GET, PUT, DELETE with the registration access token; 401 with a wrong one', async () => {
    const created = await register(s, { client_name: 'Managed', redirect_uris: [REDIRECT], scope: 'profile' });
    const clientId = String(created.json['client_id']);
    const rat = String(created.json['registration_access_token']);
    const uri = `${s.url}/oauth/register/${clientId}`;

    const read = await call(uri, 'GET', undefined, { auth: `Bearer ${rat}` });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ client_id: clientId, client_name: 'Managed', scope: 'profile', redirect_uris: [REDIRECT] });
    expect(read.json['client_secret']).toBeUndefined();
    expect(read.json['registration_access_token']).toBeUndefined();

    for (const auth of [undefined, 'Bearer tgreg_wrong', `Bearer ${String(created.json['client_secret'])}`, `Basic ${rat}`]) {
      const r = await call(uri, 'GET', undefined, auth === undefined ? {} : { auth });
      expect(r.status, String(auth)).toBe(401);
      expect(r.json['error']).toBe('invalid_token');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="tollgate", error="invalid_token"/);
    }
    // Another client's registration token does not open this one.
    const other = await register(s, { client_name: 'Other', redirect_uris: [REDIRECT] });
    expect((await call(uri, 'GET', undefined, { auth: `Bearer ${String(other.json['registration_access_token'])}` })).status).toBe(401);

    const put = await call(uri, 'PUT', { client_id: clientId, client_name: 'Managed v2', redirect_uris: [REDIRECT, 'https://app.example/cb2'], scope: 'profile email' }, { auth: `Bearer ${rat}` });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ client_id: clientId, client_name: 'Managed v2', redirect_uris: [REDIRECT, 'https://app.example/cb2'], scope: 'profile email' });
    const wrongPut = await call(uri, 'PUT', { client_name: 'Hijack', redirect_uris: ['https://evil.example/cb'] }, { auth: 'Bearer tgreg_wrong' });
    expect(wrongPut.status).toBe(401);
    expect((await s.ctx.storage.clients.byId(clientId))?.name).toBe('Managed v2');
    const mismatch = await call(uri, 'PUT', { client_id: 'tgc_other', client_name: 'X', redirect_uris: [REDIRECT] }, { auth: `Bearer ${rat}` });
    expect(mismatch.status).toBe(400);
    expect(mismatch.json).toEqual({ error: 'invalid_request', error_description: 'client_id does not match' });
    const secret = await call(uri, 'PUT', { client_name: 'X', redirect_uris: [REDIRECT], client_secret: 'mine' }, { auth: `Bearer ${rat}` });
    expect(secret.status).toBe(400);
    expect(secret.json).toEqual({ error: 'invalid_client_metadata', error_description: 'client_secret cannot be chosen by the client' });

    expect((await call(uri, 'DELETE', undefined, { auth: 'Bearer tgreg_wrong' })).status).toBe(401);
    const del = await call(uri, 'DELETE', undefined, { auth: `Bearer ${rat}` });
    expect(del.status).toBe(204);
    expect(await s.ctx.storage.clients.byId(clientId)).toBeNull();
    expect((await call(uri, 'GET', undefined, { auth: `Bearer ${rat}` })).status).toBe(401);
  });

  it('a registered application completes a code flow', async () => {
    const reg = await register(s, { client_name: 'Flow', redirect_uris: [REDIRECT], scope: 'profile' });
    const clientId = String(reg.json['client_id']);
    await s.createUser('reg-flow@example.com');
    const b = new Browser(s.url);
    expect((await b.login('reg-flow@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const out = await authorize(b, `/oauth/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=profile&state=st`);
    expect(out.status).toBe(303);
    const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { authorization: basic(clientId, String(reg.json['client_secret'])) });
    expect(tok.status).toBe(200);
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${String(tok.json['access_token'])}` } });
    expect(await api.json()).toMatchObject({ client_id: clientId, user_email: 'reg-flow@example.com', scope: 'profile' });
  });

  it('metadata lists the registration endpoint', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta['registration_endpoint']).toBe(`${s.issuer}/oauth/register`);
  });
});

describeEachDb('A8 registration protected by an initial access token', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start({
      env: {
        TOLLGATE_REGISTRATION: 'token',
        TOLLGATE_REGISTRATION_TOKEN: INITIAL_TOKEN,
        TOLLGATE_REGISTRATION_GRANT_TYPES: 'authorization_code refresh_token client_credentials',
      },
    });
  });
  afterAll(async () => s?.close());

  it('401 without or with a wrong initial token, 201 with it', async () => {
    const body = { client_name: 'Protected', redirect_uris: [REDIRECT] };
    for (const auth of [undefined, 'Bearer wrong-initial-access-token', `Basic ${INITIAL_TOKEN}`, `Bearer ${INITIAL_TOKEN}x`]) {
      const r = await register(s, body, auth === undefined ? {} : { auth });
      expect(r.status, String(auth)).toBe(401);
      expect(r.json).toEqual({ error: 'invalid_token', error_description: 'A valid initial access token is required to register' });
    }
    const ok = await register(s, body, { auth: `Bearer ${INITIAL_TOKEN}` });
    expect(ok.status).toBe(201);
    expect(ok.json['client_id']).toMatch(/^tgc_/);
  });

  it('client_credentials is accepted when configured; password still refused', async () => {
    const cc = await register(s, { client_name: 'Machine', grant_types: ['client_credentials'], scope: 'profile' }, { auth: `Bearer ${INITIAL_TOKEN}` });
    expect(cc.status).toBe(201);
    expect(cc.json).toMatchObject({ grant_types: ['client_credentials'], response_types: [] });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(String(cc.json['client_id']), String(cc.json['client_secret'])) });
    expect(tok.status).toBe(200);
    expect(tok.json['scope']).toBe('profile');
    const pw = await register(s, { client_name: 'Pw', redirect_uris: [REDIRECT], grant_types: ['password'] }, { auth: `Bearer ${INITIAL_TOKEN}` });
    expect(pw.status).toBe(400);
    expect(pw.json).toEqual({ error: 'invalid_client_metadata', error_description: 'Grant type not available to registered applications: password' });
  });
});

describe('A8 registration off', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_REGISTRATION: 'off' } });
  });
  afterAll(async () => s?.close());

  it('refuses registration and the metadata omits registration_endpoint', async () => {
    const r = await register(s, { client_name: 'Nope', redirect_uris: [REDIRECT] });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: 'access_denied', error_description: 'Dynamic registration is disabled on this server' });
    const meta = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta['registration_endpoint']).toBeUndefined();
    expect(meta['token_endpoint']).toBe(`${s.issuer}/oauth/token`);
  });
});
