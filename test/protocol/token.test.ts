/**
 * Token endpoint over HTTP (RFC 6749 §3.2, §4.1.3, §4.3, §4.4, §5; SPEC T1–T6, A3, A5, A7), on
 * SQLite and PostgreSQL: request encodings, client authentication methods, grant selection,
 * response shape and per-application token policy. The attack classes (code replay, PKCE,
 * refresh reuse, …) are in security.test.ts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CreatedApp } from '../../src/services/apps.js';
import type { UserRow } from '../../src/storage/types.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const CB = 'https://client.example/cb';
const LOOPBACK = 'http://127.0.0.1/cb';
// RFC 7636 Appendix B
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

type Reply = { status: number; headers: Headers; json: Record<string, unknown> };

const BAD_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };
const BAD_PASSWORD = { error: 'invalid_grant', error_description: 'Invalid username or password' };

describeEachDb('token endpoint (RFC 6749 §5; SPEC T1–T6)', (start) => {
  let s: TestServer;
  let alice: UserRow & { readonly email: string };
  let b: Browser;
  let web: CreatedApp;
  let pub: CreatedApp;
  let cc: CreatedApp;
  let pw: CreatedApp;

  beforeAll(async () => {
    s = await start();
    alice = await s.createUser('alice@example.com');
    web = await s.createApp({ name: 'Web', redirectUris: [CB], scopes: ['profile', 'email'] });
    pub = await s.createApp({ name: 'Public', public: true, redirectUris: [CB], scopes: ['profile'] });
    cc = await s.createApp({ name: 'Service', grantTypes: ['client_credentials'], scopes: ['profile'] });
    pw = await s.createApp({ name: 'Legacy', grantTypes: ['password', 'refresh_token'], scopes: ['profile', 'email'] });
    b = new Browser(s.url);
    expect((await b.login(alice.email, DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  const url = (): string => `${s.url}/oauth/token`;
  const auth = (app: CreatedApp): Record<string, string> => ({ authorization: basic(app.client.clientId, app.clientSecret ?? '') });

  async function raw(body: string, headers: Record<string, string>, query = ''): Promise<Reply> {
    const res = await fetch(`${url()}${query}`, { method: 'POST', headers, body });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
  }

  async function code(app: CreatedApp, extra: Record<string, string> = {}, redirectUri = CB): Promise<string> {
    const qs = new URLSearchParams({ response_type: 'code', client_id: app.client.clientId, redirect_uri: redirectUri, state: 's', ...extra });
    const out = await authorize(b, `/oauth/authorize?${qs.toString()}`);
    expect(out.status).toBe(303);
    const c = new URL(out.location ?? '').searchParams.get('code');
    expect(c).toMatch(/^tgo_/);
    return c ?? '';
  }

  function expectError(r: Reply, status: number, body: { error: string; error_description: string }): void {
    expect({ status: r.status, json: r.json }).toEqual({ status, json: body });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  }

  /** T6: the exact response shape, with Cache-Control: no-store. */
  function expectTokens(r: Reply, opts: { scope: string; expiresIn?: number | null; refresh: boolean }): void {
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.headers.get('pragma')).toBe('no-cache');
    const keys = ['access_token', 'scope', 'token_type'];
    if (opts.expiresIn !== null) keys.push('expires_in');
    if (opts.refresh) keys.push('refresh_token');
    expect(Object.keys(r.json).sort()).toEqual(keys.sort());
    expect(r.json['token_type']).toBe('Bearer');
    expect(r.json['scope']).toBe(opts.scope);
    if (opts.expiresIn !== null) expect(r.json['expires_in']).toBe(opts.expiresIn ?? 3600);
    expect(r.json['access_token']).toMatch(/^tga_[A-Za-z0-9_-]{43}$/);
    if (opts.refresh) expect(r.json['refresh_token']).toMatch(/^tgr_[A-Za-z0-9_-]{43}$/);
  }

  // --------------------------------------------------------------- T1: encodings, auth methods

  it('T1/T2: form body with HTTP Basic (client_secret_basic)', async () => {
    const r = await postForm(url(), { grant_type: 'authorization_code', code: await code(web), redirect_uri: CB }, auth(web));
    expectTokens(r, { scope: 'profile email', refresh: true });
  });

  it('T1: form body with client_id and client_secret (client_secret_post)', async () => {
    const r = await postForm(url(), { grant_type: 'authorization_code', code: await code(web), redirect_uri: CB, client_id: web.client.clientId, client_secret: web.clientSecret ?? '' });
    expectTokens(r, { scope: 'profile email', refresh: true });
  });

  it('T1: JSON body, with body credentials and with Basic', async () => {
    const body = { grant_type: 'authorization_code', code: await code(web), redirect_uri: CB, client_id: web.client.clientId, client_secret: web.clientSecret };
    expectTokens(await raw(JSON.stringify(body), { 'content-type': 'application/json' }), { scope: 'profile email', refresh: true });
    const r = await raw(JSON.stringify({ grant_type: 'client_credentials', scope: 'profile' }), { 'content-type': 'application/json', ...auth(cc) });
    expectTokens(r, { scope: 'profile', refresh: false });
  });

  it('T1: JSON body with a repeated key is not silently merged into an array', async () => {
    const r = await raw('{"grant_type":"client_credentials","scope":["profile","profile"]}', { 'content-type': 'application/json', ...auth(cc) });
    expectError(r, 400, { error: 'invalid_request', error_description: 'Parameter "scope" must be a string' });
  });

  it('T1: a public client authenticates with client_id only (none) and PKCE', async () => {
    const c = await code(pub, { code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    const r = await postForm(url(), { grant_type: 'authorization_code', code: c, redirect_uri: CB, client_id: pub.client.clientId, code_verifier: VERIFIER });
    expectTokens(r, { scope: 'profile', refresh: true });
    // Rotation works for the public client too, still without a secret.
    const again = await postForm(url(), { grant_type: 'refresh_token', refresh_token: String(r.json['refresh_token']), client_id: pub.client.clientId });
    expectTokens(again, { scope: 'profile', refresh: true });
  });

  it('RFC 6749 §2.3.1: client authentication failures → 401 invalid_client', async () => {
    const FAILED = 'Client authentication failed';
    const MALFORMED = 'Malformed HTTP Basic credentials';
    const cases: Array<[string, Record<string, string>, Record<string, string>, string]> = [
      ['confidential client without a secret', { client_id: web.client.clientId }, {}, FAILED],
      ['wrong secret in the body', { client_id: web.client.clientId, client_secret: 'tgs_wrong' }, {}, FAILED],
      ["another client's secret in the body", { client_id: web.client.clientId, client_secret: cc.clientSecret ?? '' }, {}, FAILED],
      ['unknown client', { client_id: 'tgc_nobody', client_secret: 'x' }, {}, FAILED],
      ['public client sending a secret', { client_id: pub.client.clientId, client_secret: 'anything' }, {}, FAILED],
      ['public client via Basic', {}, { authorization: basic(pub.client.clientId, '') }, FAILED],
      ['no client at all', {}, {}, 'Client authentication is required'],
      ['malformed Basic', {}, { authorization: 'Basic !!!' }, MALFORMED],
      ['Basic without a colon', {}, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }, MALFORMED],
      ['Basic with an empty client_id', {}, { authorization: `Basic ${Buffer.from(':secret').toString('base64')}` }, MALFORMED],
    ];
    for (const [label, fields, headers, description] of cases) {
      const r = await postForm(url(), { grant_type: 'client_credentials', ...fields }, headers);
      expect({ label, status: r.status, json: r.json }).toEqual({ label, status: 401, json: { error: 'invalid_client', error_description: description } });
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="tollgate", charset="UTF-8"');
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('RFC 6749 §2.3: Basic plus a different client_id in the body → invalid_request', async () => {
    expectError(await postForm(url(), { grant_type: 'client_credentials', client_id: web.client.clientId }, auth(cc)), 400, {
      error: 'invalid_request',
      error_description: 'client_id in the body does not match the HTTP Basic credentials',
    });
    // The same client_id in both is fine.
    expect((await postForm(url(), { grant_type: 'client_credentials', client_id: cc.client.clientId }, auth(cc))).status).toBe(200);
  });

  it('RFC 6749 §2.3: another Authorization scheme → invalid_request', async () => {
    expectError(await postForm(url(), { grant_type: 'client_credentials' }, { authorization: 'Bearer abc' }), 400, {
      error: 'invalid_request',
      error_description: 'Unsupported Authorization scheme at this endpoint; use HTTP Basic',
    });
  });

  // ---------------------------------------------------------------- grant selection (§4, §5.2)

  it('RFC 6749 §5.2: grant_type=foo → unsupported_grant_type; missing → invalid_request', async () => {
    for (const g of ['foo', 'AUTHORIZATION_CODE', 'implicit', 'urn:ietf:params:oauth:grant-type:saml2-bearer']) {
      expectError(await postForm(url(), { grant_type: g }, auth(web)), 400, { error: 'unsupported_grant_type', error_description: `Unsupported grant_type "${g}"` });
    }
    expectError(await postForm(url(), {}, auth(web)), 400, { error: 'invalid_request', error_description: 'Missing required parameter "grant_type"' });
  });

  it('RFC 6749 §5.2: a grant the client is not allowed → unauthorized_client', async () => {
    const cases: Array<[CreatedApp, Record<string, string>, string]> = [
      [web, { grant_type: 'client_credentials' }, 'client_credentials'],
      [web, { grant_type: 'password', username: alice.email, password: DEFAULT_PASSWORD }, 'password'],
      [cc, { grant_type: 'authorization_code', code: 'tgo_x', redirect_uri: CB }, 'authorization_code'],
      [cc, { grant_type: 'refresh_token', refresh_token: 'tgr_x' }, 'refresh_token'],
    ];
    for (const [app, fields, g] of cases) {
      expectError(await postForm(url(), fields, auth(app)), 400, { error: 'unauthorized_client', error_description: `This application is not allowed the ${g} grant` });
    }
  });

  it('T4: a public client cannot use client_credentials (nor password)', async () => {
    for (const g of ['client_credentials', 'password']) {
      expectError(await postForm(url(), { grant_type: g, client_id: pub.client.clientId, username: alice.email, password: DEFAULT_PASSWORD }), 400, {
        error: 'unauthorized_client',
        error_description: `This application is not allowed the ${g} grant`,
      });
    }
  });

  it.each([
    ['grant_type', 'grant_type=client_credentials&grant_type=client_credentials'],
    ['scope', 'grant_type=client_credentials&scope=profile&scope=profile'],
    ['scope', 'grant_type=client_credentials&scope=&scope=profile'],
    ['client_id', 'grant_type=client_credentials&client_id=a&client_id=b'],
    ['foo', 'grant_type=client_credentials&foo=1&foo=2'],
  ])('RFC 6749 §3.2: a repeated parameter (%s) → invalid_request', async (name, body) => {
    expectError(await raw(body, { 'content-type': 'application/x-www-form-urlencoded', ...auth(cc) }), 400, {
      error: 'invalid_request',
      error_description: `Parameter "${name}" must not be repeated`,
    });
  });

  // ------------------------------------------------------------------------- T2 details

  it('RFC 6749 §4.1.3: redirect_uri may be omitted only when it was the single registered URI', async () => {
    const ok = await postForm(url(), { grant_type: 'authorization_code', code: await code(web) }, auth(web));
    expectTokens(ok, { scope: 'profile email', refresh: true });
  });

  it('RFC 6749 §4.1.3: a loopback code issued for another port needs redirect_uri at the token endpoint', async () => {
    const native = await s.createApp({ name: 'Native', redirectUris: [LOOPBACK], scopes: ['profile'] });
    const withPort = 'http://127.0.0.1:4567/cb';
    const c1 = await code(native, {}, withPort);
    expectError(await postForm(url(), { grant_type: 'authorization_code', code: c1 }, auth(native)), 400, {
      error: 'invalid_grant',
      error_description: 'redirect_uri does not match the authorization request',
    });
    expectError(await postForm(url(), { grant_type: 'authorization_code', code: c1, redirect_uri: LOOPBACK }, auth(native)), 400, {
      error: 'invalid_grant',
      error_description: 'redirect_uri does not match the authorization request',
    });
    const c2 = await code(native, {}, withPort);
    expectTokens(await postForm(url(), { grant_type: 'authorization_code', code: c2, redirect_uri: withPort }, auth(native)), { scope: 'profile', refresh: true });
  });

  it('A3: a deactivated application gets invalid_client, even with a valid code', async () => {
    const app = await s.createApp({ name: 'Soon off', redirectUris: [CB], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const c = await code(app);
    await s.ctx.storage.clients.update(app.client.clientId, { active: false }, Date.now());
    const requests: Array<Record<string, string>> = [{ grant_type: 'authorization_code', code: c, redirect_uri: CB }, { grant_type: 'client_credentials' }];
    for (const fields of requests) {
      const r = await postForm(url(), fields, auth(app));
      expectError(r, 401, { error: 'invalid_client', error_description: 'This application is deactivated' });
    }
    // A wrong secret for a deactivated app reveals nothing more than for an active one.
    expectError(await postForm(url(), { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, 'tgs_wrong') }), 401, BAD_CLIENT);
  });

  // ------------------------------------------------------------------- T4: client credentials

  it('T4: client_credentials → an access token for the app, no refresh token (RFC 6749 §4.4.3)', async () => {
    const r = await postForm(url(), { grant_type: 'client_credentials' }, auth(cc));
    expectTokens(r, { scope: 'profile', refresh: false });
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${String(r.json['access_token'])}` } });
    expect(await api.json()).toMatchObject({ user_id: null, client_id: cc.client.clientId, scope: 'profile' });
  });

  it('T4: client_credentials with a scope the client lacks → invalid_scope', async () => {
    for (const scope of ['email', 'profile email', 'admin', 'Profile']) {
      const bad = scope.split(' ').filter((x) => x !== 'profile').join(' ');
      expectError(await postForm(url(), { grant_type: 'client_credentials', scope }, auth(cc)), 400, {
        error: 'invalid_scope',
        error_description: `Scope not allowed for this client: ${bad}`,
      });
    }
  });

  it('A5: client_credentials acting as a chosen user', async () => {
    const app = await s.createApp({ name: 'As Alice', grantTypes: ['client_credentials'], scopes: ['profile'], actsAsUserId: alice.id });
    const r = await postForm(url(), { grant_type: 'client_credentials' }, auth(app));
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${String(r.json['access_token'])}` } });
    expect(await api.json()).toMatchObject({ user_id: alice.id, user_email: alice.email });
  });

  // ------------------------------------------------------------------------- T5: password

  it('T5: the password grant works for an application allowed it', async () => {
    const r = await postForm(url(), { grant_type: 'password', username: alice.email, password: DEFAULT_PASSWORD, scope: 'profile' }, auth(pw));
    expectTokens(r, { scope: 'profile', refresh: true });
  });

  it('T5: unknown user and wrong password get the same error', async () => {
    const wrong = await postForm(url(), { grant_type: 'password', username: alice.email, password: 'wrong password' }, auth(pw));
    const unknown = await postForm(url(), { grant_type: 'password', username: 'nobody@example.com', password: DEFAULT_PASSWORD }, auth(pw));
    const tooLong = await postForm(url(), { grant_type: 'password', username: alice.email, password: 'x'.repeat(1025) }, auth(pw));
    for (const r of [wrong, unknown, tooLong]) expectError(r, 400, BAD_PASSWORD);
    expectError(await postForm(url(), { grant_type: 'password', username: alice.email }, auth(pw)), 400, {
      error: 'invalid_request',
      error_description: 'username and password are required',
    });
  });

  it('O7: the password grant shares the account lockout; then even the right password fails', async () => {
    const carol = await s.createUser('carol@example.com');
    for (let i = 0; i < 5; i++) {
      expectError(await postForm(url(), { grant_type: 'password', username: carol.email, password: `wrong-${i}` }, auth(pw)), 400, BAD_PASSWORD);
    }
    expectError(await postForm(url(), { grant_type: 'password', username: carol.email, password: DEFAULT_PASSWORD }, auth(pw)), 400, BAD_PASSWORD);
  });

  it("T3: scopes the application has lost since are dropped on refresh", async () => {
    const app = await s.createApp({ name: 'Shrinking', grantTypes: ['password', 'refresh_token'], scopes: ['profile', 'email'] });
    const r = await postForm(url(), { grant_type: 'password', username: alice.email, password: DEFAULT_PASSWORD }, auth(app));
    expect(r.json['scope']).toBe('profile email');
    await s.ctx.storage.clients.update(app.client.clientId, { scopes: ['email'] }, Date.now());
    const again = await postForm(url(), { grant_type: 'refresh_token', refresh_token: String(r.json['refresh_token']) }, auth(app));
    expectTokens(again, { scope: 'email', refresh: true });
  });

  // -------------------------------------------------------------- T6, A7: response and policy

  it('A7: per-application access_ttl sets expires_in', async () => {
    const app = await s.createApp({ name: 'Short', grantTypes: ['client_credentials'], scopes: ['profile'], accessTtl: 120 });
    expectTokens(await postForm(url(), { grant_type: 'client_credentials' }, auth(app)), { scope: 'profile', expiresIn: 120, refresh: false });
  });

  it('A7: long-lived mode: no expires_in and no refresh_token', async () => {
    const app = await s.createApp({ name: 'Long', redirectUris: [CB], scopes: ['profile'], accessTtl: null });
    const r = await postForm(url(), { grant_type: 'authorization_code', code: await code(app), redirect_uri: CB }, auth(app));
    expectTokens(r, { scope: 'profile', expiresIn: null, refresh: false });
    const intro = await postForm(`${s.url}/oauth/introspect`, { token: String(r.json['access_token']) }, auth(app));
    expect(intro.json['active']).toBe(true);
    expect(intro.json).not.toHaveProperty('exp');
  });

  it('A7: refresh tokens off (--no-refresh) → no refresh_token', async () => {
    const app = await s.createApp({ name: 'NoRefresh', redirectUris: [CB], scopes: ['profile'], refreshEnabled: false });
    expectTokens(await postForm(url(), { grant_type: 'authorization_code', code: await code(app), redirect_uri: CB }, auth(app)), { scope: 'profile', refresh: false });
    const noGrant = await s.createApp({ name: 'NoRefreshGrant', redirectUris: [CB], scopes: ['profile'], grantTypes: ['authorization_code'] });
    expectTokens(await postForm(url(), { grant_type: 'authorization_code', code: await code(noGrant), redirect_uri: CB }, auth(noGrant)), { scope: 'profile', refresh: false });
  });

  it('A7: once refresh tokens are turned off for an application, a refresh ends the family (no new refresh_token)', async () => {
    const app = await s.createApp({ name: 'Turned off', grantTypes: ['password', 'refresh_token'], scopes: ['profile'] });
    const r = await postForm(url(), { grant_type: 'password', username: alice.email, password: DEFAULT_PASSWORD }, auth(app));
    expectTokens(r, { scope: 'profile', refresh: true });
    await s.ctx.storage.clients.update(app.client.clientId, { refreshEnabled: false }, Date.now());
    const last = await postForm(url(), { grant_type: 'refresh_token', refresh_token: String(r.json['refresh_token']) }, auth(app));
    expectTokens(last, { scope: 'profile', refresh: false });
    expectError(await postForm(url(), { grant_type: 'refresh_token', refresh_token: String(r.json['refresh_token']) }, auth(app)), 400, {
      error: 'invalid_grant',
      error_description: 'The refresh token is invalid, expired or revoked',
    });
  });

  it('T6: Cache-Control: no-store on every token endpoint response, success or error', async () => {
    const replies = [
      await postForm(url(), { grant_type: 'client_credentials' }, auth(cc)),
      await postForm(url(), { grant_type: 'client_credentials' }, { authorization: basic(cc.client.clientId, 'x') }),
      await postForm(url(), { grant_type: 'foo' }, auth(cc)),
      await raw('{not json', { 'content-type': 'application/json' }),
    ];
    for (const r of replies) expect(r.headers.get('cache-control')).toBe('no-store');
  });
});
