/**
 * H3: delegated login. With TOLLGATE_LOGIN_URL, Tollgate sends the browser to the platform with
 * a login challenge; the platform (an application holding the built-in `login` scope, through
 * client credentials) reads it, accepts or rejects it over the admin API, and sends the browser to
 * the `redirect_to` it got. Challenges are single-use, bound to the browser, and every replay or
 * mix-up is refused with a clear error.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, authorize, basic, describeEachDb, hiddenField, postForm, type TestServer } from '../helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'https://client.example/cb';
const LOGIN_URL = 'https://platform.example/oauth-login?lang=en';

describeEachDb('H3: delegated login (TOLLGATE_LOGIN_URL, login challenge)', (start) => {
  let s: TestServer;
  let web: Awaited<ReturnType<TestServer['createApp']>>;
  let platformToken: string;
  let as: oauth.AuthorizationServer;

  beforeAll(async () => {
    s = await start({ env: { TOLLGATE_LOGIN_URL: LOGIN_URL, TOLLGATE_ADMIN_SUBJECTS: 'frappe-admin' } });
    web = await s.createApp({ name: 'Web App', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
    // The platform's own application: given the `login` scope by an administrator.
    const platform = await s.createApp({ name: 'The platform', grantTypes: ['client_credentials'], scopes: ['login'] });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'login' }, { authorization: basic(platform.client.clientId, platform.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    platformToken = String(tok.json['access_token']);
    as = await oauth.processDiscoveryResponse(new URL(s.issuer), await oauth.discoveryRequest(new URL(s.issuer), { algorithm: 'oauth2', ...insecure }));
  });
  afterAll(async () => s?.close());

  function authzUrl(extra: Record<string, string> = {}): string {
    const u = new URL(`${s.url}/oauth/authorize`);
    const params = { response_type: 'code', client_id: web.client.clientId, redirect_uri: REDIRECT, scope: 'profile email', state: 'st-9', ...extra };
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.href;
  }

  /** The browser's first leg: a 303 to the platform with the challenge. */
  async function challengeFor(b: Browser, url: string): Promise<string> {
    const res = await b.fetch(url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://platform.example/oauth-login');
    expect(location.searchParams.get('lang')).toBe('en');
    const challenge = location.searchParams.get('login_challenge') ?? '';
    expect(challenge).toMatch(/^tgl_[A-Za-z0-9_-]{43}$/);
    return challenge;
  }

  async function platformCall(method: 'GET' | 'POST', path: string, body?: unknown, token = platformToken): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${s.url}/admin/api/login-requests/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('the whole journey: challenge → platform reads and accepts → consent → tokens for the platform\'s subject', async () => {
    const b = new Browser(s.url);
    const verifier = oauth.generateRandomCodeVerifier();
    const url = authzUrl({ code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', login_hint: 'ann@frappe.example', ui_locales: 'fr' });
    const challenge = await challengeFor(b, url);

    const info = await platformCall('GET', challenge);
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({
      client: { client_id: web.client.clientId, name: 'Web App', redirect_uri_host: 'client.example' },
      requested_scope: ['profile', 'email'],
      prompt: [],
      max_age: null,
      login_hint: 'ann@frappe.example',
      ui_locales: 'fr',
      skip: false,
      answered: false,
      session_subject: null,
    });

    const accepted = await platformCall('POST', `${challenge}/accept`, {
      subject: 'frappe:ann',
      email: 'ann@frappe.example',
      email_verified: true,
      name: 'Ann',
      claims: { department: 'Sales' },
      auth_time: Math.floor(Date.now() / 1000) - 5,
      amr: ['pwd'],
      remember: true,
    });
    expect(accepted.status).toBe(200);
    const redirectTo = String(accepted.json['redirect_to']);
    expect(redirectTo).toMatch(new RegExp(`^${s.issuer}/oauth/authorize/resume\\?interaction=${challenge}&verifier=[A-Za-z0-9_-]{43}$`));

    // Replays and mix-ups: a second answer, and the link in another browser (which burns nothing).
    expect(await platformCall('POST', `${challenge}/accept`, { subject: 'frappe:eve' })).toEqual({
      status: 409,
      json: { error: 'invalid_request', error_description: 'This login request was already answered or used' },
    });
    const elsewhere = await new Browser(s.url).fetch(redirectTo);
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.text()).toContain('This sign-in was started in another browser');
    const wrongVerifier = await b.fetch(redirectTo.replace(/verifier=[^&]+/, 'verifier=x'));
    expect(wrongVerifier.status).toBe(400);

    const consent = await b.fetch(redirectTo);
    const html = await consent.text();
    expect(consent.status).toBe(200);
    // Browsers apply form-action to the redirects after a POST: if the session ends before Allow,
    // the form leads to the platform's sign-in page, so every page names it beside the redirect target.
    expect(consent.headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/platform\.example https:\/\/client\.example(;|$)/);
    expect((await b.fetch('/logout')).headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/platform\.example(;|$)/);
    // The request asked for ui_locales=fr: the consent page after the platform's sign-in is French.
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('Connecté en tant que ann@frappe.example.');
    const session = consent.headers.getSetCookie().find((c) => c.startsWith('tg_session='));
    expect(session).toMatch(/Max-Age=\d+/);
    // The link is used once; the challenge is gone for the platform too.
    expect((await b.fetch(redirectTo)).status).toBe(400);
    expect((await platformCall('GET', challenge)).status).toBe(404);

    const allow = await b.postForm('/oauth/authorize', [
      ['csrf', hiddenField(html, 'csrf')],
      ['authorization_request', hiddenField(html, 'authorization_request')],
      ['scope', 'profile'],
      ['scope', 'email'],
      ['decision', 'allow'],
    ]);
    const params = oauth.validateAuthResponse(as, { client_id: web.client.clientId }, new URL(allow.headers.get('location') ?? ''), 'st-9');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      { client_id: web.client.clientId },
      await oauth.authorizationCodeGrantRequest(as, { client_id: web.client.clientId }, oauth.ClientSecretBasic(web.clientSecret ?? ''), params, REDIRECT, verifier, insecure),
    );
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await api.json()).toMatchObject({ user_id: 'frappe:ann', user_email: 'ann@frappe.example' });
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await me.json()).toMatchObject({ sub: 'frappe:ann', email: 'ann@frappe.example' });
    expect(await s.ctx.storage.users.byId('frappe:ann')).toMatchObject({
      external: true,
      passwordHash: '',
      isAdmin: false,
      profile: { department: 'Sales', email: 'ann@frappe.example', email_verified: true, name: 'Ann' },
    });

    // Remembered: the next request does not leave for the platform.
    const second = await authorize(b, authzUrl({ code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }));
    expect(second.status).toBe(303);
    expect(new URL(second.location ?? '').searchParams.get('code')).toMatch(/^tgo_/);
  });

  it('a rejection reaches the client with its error and state; remember=false gives a browser-session cookie', async () => {
    const b = new Browser(s.url);
    const challenge = await challengeFor(b, authzUrl({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    const rejected = await platformCall('POST', `${challenge}/reject`, { error: 'access_denied', error_description: 'The account is suspended' });
    expect(rejected.status).toBe(200);
    const res = await b.fetch(String(rejected.json['redirect_to']));
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'access_denied', error_description: 'The account is suspended', state: 'st-9', iss: s.issuer });

    const bad = await platformCall('POST', `${(await challengeFor(b, authzUrl({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })))}/reject`, { error: 'invalid_grant' });
    expect(bad.status).toBe(400);
    expect(bad.json['error']).toBe('invalid_request');

    const c = new Browser(s.url);
    const ch2 = await challengeFor(c, authzUrl({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    const ok = await platformCall('POST', `${ch2}/accept`, { subject: 'frappe:bob', remember: false });
    const resumed = await c.fetch(String(ok.json['redirect_to']));
    expect(resumed.status).toBe(200);
    const cookie = resumed.headers.getSetCookie().find((x) => x.startsWith('tg_session=')) ?? '';
    expect(cookie).not.toMatch(/Max-Age/i);
    expect(cookie).not.toMatch(/Expires/i);
    expect(await resumed.text()).toContain('Signed in as frappe:bob');
  });

  it('prompt=none never leaves for the platform; prompt=login asks the platform again and tells it who was signed in', async () => {
    const b = new Browser(s.url);
    const none = await b.fetch(authzUrl({ prompt: 'none', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    expect(none.status).toBe(303);
    expect(new URL(none.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');

    const ch = await challengeFor(b, authzUrl({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    const ok = await platformCall('POST', `${ch}/accept`, { subject: 'frappe:cy', auth_time: Math.floor(Date.now() / 1000) - 3600 });
    expect((await b.fetch(String(ok.json['redirect_to']))).status).toBe(200);
    const again = await challengeFor(b, authzUrl({ prompt: 'login', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    expect((await platformCall('GET', again)).json).toMatchObject({ prompt: ['login'], session_subject: 'frappe:cy' });
    // The platform answers with the old sign-in time: not a new sign-in.
    const stale = await platformCall('POST', `${again}/accept`, { subject: 'frappe:cy', auth_time: Math.floor(Date.now() / 1000) - 3600 });
    const page = await b.fetch(String(stale.json['redirect_to']));
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('The sign-in was not renewed');
  });

  it('the admin API refuses wrong callers and bad bodies with clear errors', async () => {
    const b = new Browser(s.url);
    const ch = await challengeFor(b, authzUrl({ code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }));
    // No token, a token without `login`, a token acting for a person.
    expect((await fetch(`${s.url}/admin/api/login-requests/${ch}`)).status).toBe(401);
    const plain = await s.createApp({ name: 'Plain', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const plainTok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(plain.client.clientId, plain.clientSecret ?? '') });
    const forbidden = await platformCall('GET', ch, undefined, String(plainTok.json['access_token']));
    expect(forbidden.status).toBe(403);
    expect(forbidden.json['error']).toBe('insufficient_scope');
    expect((await platformCall('GET', 'tgl_unknownunknownunknownunknownunknownunknow')).status).toBe(404);
    expect((await platformCall('GET', 'nonsense')).status).toBe(404);
    for (const [body, message] of [
      [{}, '"subject" is required'],
      [{ subject: 'x', admin: true }, 'Unknown field "admin"; expected subject, email, email_verified, name, claims, auth_time, amr, acr, remember, remember_for'],
      [{ subject: 'x', email: 'not-an-email' }, '"email" is not an email address'],
      [{ subject: 'x', auth_time: Math.floor(Date.now() / 1000) + 3600 }, '"auth_time" is in the future'],
      [{ subject: 'x', claims: { sub: 'other' } }, '"claims" must not set "sub"'],
      [{ subject: 'x', remember_for: 5 }, '"remember_for" must be between 60 and 28800 seconds (TOLLGATE_SESSION_TTL)'],
    ] as const) {
      expect(await platformCall('POST', `${ch}/accept`, body)).toEqual({ status: 400, json: { error: 'invalid_request', error_description: message } });
    }
  });

  it('the login scope is for applications only: never through a person\'s grant', async () => {
    const both = await s.createApp({ name: 'Greedy', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'client_credentials'], scopes: ['profile', 'login'] });
    const b = new Browser(s.url);
    const res = await b.fetch(
      new URL(`/oauth/authorize?response_type=code&client_id=${both.client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=login&state=x`, s.url).href,
    );
    expect(res.status).toBe(303);
    expect(Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams)).toMatchObject({ error: 'invalid_scope', error_description: 'Scope not allowed for this client: login' });
  });

  it('issue #14: the device verification page signs the person in through the platform\'s challenge, the code kept on the server', async () => {
    const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
    const tv = await s.createApp({ name: 'Kiosk', public: true, scopes: ['profile'], grantTypes: [GRANT] });
    const started = await postForm(`${s.url}/oauth/device_authorization`, { client_id: tv.client.clientId, scope: 'profile' });
    expect(started.status).toBe(200);
    const userCode = String(started.json['user_code']);
    const b = new Browser(s.url);
    const ch = await challengeFor(b, String(started.json['verification_uri_complete']));
    expect((await platformCall('GET', ch)).json).toMatchObject({ client: null, requested_scope: [] });
    const ok = await platformCall('POST', `${ch}/accept`, { subject: 'frappe:dora', email: 'dora@frappe.example' });
    expect(ok.status).toBe(200);
    const back = await b.fetch(String(ok.json['redirect_to']));
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(`/device?user_code=${userCode}`);
    const page = await b.fetch(back.headers.get('location') ?? '');
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(`<strong class="user-code">${userCode}</strong>`);
    expect(html).toContain('Signed in as dora@frappe.example');
    expect((await b.postForm('/device/decision', [['csrf', hiddenField(html, 'csrf')], ['user_code', userCode], ['scope', 'profile'], ['decision', 'allow']])).status).toBe(200);
    const tokens = await postForm(`${s.url}/oauth/token`, { grant_type: GRANT, device_code: String(started.json['device_code']), client_id: tv.client.clientId });
    expect(tokens.status).toBe(200);
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${String(tokens.json['access_token'])}` } });
    expect(await me.json()).toMatchObject({ sub: 'frappe:dora' });
  });

  it('portal pages sign in through the platform too; TOLLGATE_ADMIN_SUBJECTS names the administrators', async () => {
    const b = new Browser(s.url);
    const ch = await challengeFor(b, `${s.url}/admin`);
    expect((await platformCall('GET', ch)).json).toMatchObject({ client: null, requested_scope: [] });
    const ok = await platformCall('POST', `${ch}/accept`, { subject: 'frappe-admin', name: 'Admin' });
    const back = await b.fetch(String(ok.json['redirect_to']));
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/admin');
    expect((await b.fetch('/admin')).status).toBe(200);
    // No Tollgate password form in this mode.
    expect((await b.postForm('/login', [['username', 'admin@localhost'], ['password', s.adminPassword]])).status).toBe(404);
  });
});
