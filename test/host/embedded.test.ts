/**
 * H2: embedded login. The example platform (examples/host-platform: its own users, sign-in form
 * and cookie) mounts Tollgate under /oauth with `login.currentUser` / `login.loginUrl` and
 * `accounts.byId`. Tollgate sends people to the platform's sign-in page and back, judges
 * `prompt=login` and `max_age` against the sign-in time the host reports, answers `prompt=none`
 * without leaving, keeps no password, and stops trusting a session the host ended or a person the
 * host disabled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostPlatform, type HostPlatform } from '../../examples/host-platform/app.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { createApp } from '../../src/services/apps.js';
import { backchannelDrained } from '../../src/features/oidc/backchannel.js';
import { Browser, authorize, basic, freePort, hiddenField, postForm } from '../helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'https://client.example/cb';
const PASSWORD = 'platform-password-1';

describe('H2: embedded — the host platform\'s session is the login', () => {
  let dir: string;
  let platform: HostPlatform;
  let origin: string;
  let issuer: string;
  let as: oauth.AuthorizationServer;
  let web: Awaited<ReturnType<typeof createApp>>;
  let ann: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-embedded-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    issuer = `${origin}/oauth`;
    // Loopback back-channel URIs are allowed here (the issuer is on loopback) for the logout test.
    platform = await buildHostPlatform({ origin, dataDir: dir, tollgateSettings: { TOLLGATE_LOG_LEVEL: 'silent', TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: 'true' } });
    ann = await platform.addUser({ email: 'ann@acme.example', name: 'Ann Example', password: PASSWORD, admin: true });
    await platform.addUser({ email: 'bob@acme.example', name: 'Bob', password: PASSWORD });
    await platform.app.listen({ port, host: '127.0.0.1' });
    as = await oauth.processDiscoveryResponse(new URL(issuer), await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }));
    web = await createApp(platform.tollgate.context, { name: 'Third-party notes app', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
  });
  afterAll(async () => {
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(extra: Record<string, string> = {}): { url: string; verifier: string } {
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint ?? '');
    const params = { response_type: 'code', client_id: web.client.clientId, redirect_uri: REDIRECT, scope: 'profile email', state: 'st', code_challenge_method: 'S256', ...extra };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { url: url.href, verifier };
  }

  async function withChallenge(r: { url: string; verifier: string }): Promise<{ url: string; verifier: string }> {
    const u = new URL(r.url);
    u.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(r.verifier));
    return { url: u.href, verifier: r.verifier };
  }

  /** The platform's own sign-in form. */
  async function platformSignIn(b: Browser, email: string, next: string): Promise<Response> {
    return b.postForm('/login', [
      ['email', email],
      ['password', PASSWORD],
      ['next', next],
    ]);
  }

  it('no password admin is created; the password grant finds nobody', () => {
    expect(platform.tollgate.bootstrapped.admin).toBeNull();
    expect(platform.tollgate.context.loginMode).toBe('embedded');
  });

  it('a person is sent to the platform\'s sign-in page and back, consents, and the app gets tokens for the platform user', async () => {
    const b = new Browser(origin, '/oauth');
    const r = await withChallenge(request());
    const first = await b.fetch(r.url);
    expect(first.status).toBe(303);
    const loginUrl = new URL(first.headers.get('location') ?? '', origin);
    expect(loginUrl.pathname).toBe('/login');
    const back = loginUrl.searchParams.get('next') ?? '';
    expect(back).toMatch(/^\/oauth\/oauth\/authorize\/resume\?interaction=tgl_/);
    const signIn = await platformSignIn(b, 'ann@acme.example', back);
    expect(signIn.headers.get('location')).toBe(back);
    const consent = await b.fetch(back);
    const html = await consent.text();
    expect(consent.status).toBe(200);
    expect(html).toContain('Third-party notes app wants to access your account');
    expect(html).toContain('Signed in as ann@acme.example');
    // The way back works once.
    expect((await b.fetch(back)).status).toBe(400);
    const allow = await b.postForm('/oauth/oauth/authorize', [
      ['csrf', hiddenField(html, 'csrf')],
      ['authorization_request', hiddenField(html, 'authorization_request')],
      ['scope', 'profile'],
      ['scope', 'email'],
      ['decision', 'allow'],
    ]);
    expect(allow.status).toBe(303);
    const params = oauth.validateAuthResponse(as, { client_id: web.client.clientId }, new URL(allow.headers.get('location') ?? ''), 'st');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      { client_id: web.client.clientId },
      await oauth.authorizationCodeGrantRequest(as, { client_id: web.client.clientId }, oauth.ClientSecretBasic(web.clientSecret ?? ''), params, REDIRECT, r.verifier, insecure),
    );
    const api = await fetch(`${issuer}/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await api.json()).toMatchObject({ user_id: ann, user_email: 'ann@acme.example', client_id: web.client.clientId });
    const me = await fetch(`${issuer}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await me.json()).toMatchObject({ sub: ann, email: 'ann@acme.example' });
    // Tollgate keeps a row for the platform user: no password, the platform's profile.
    const row = await platform.tollgate.context.storage.users.byId(ann);
    expect(row).toMatchObject({ id: ann, external: true, passwordHash: '', isAdmin: true, profile: { email: 'ann@acme.example', email_verified: true, name: 'Ann Example' } });
    // Nobody has a Tollgate password here.
    const pw = await createApp(platform.tollgate.context, { name: 'Legacy', grantTypes: ['password'], scopes: ['profile'] });
    const grant = await postForm(`${issuer}/oauth/token`, { grant_type: 'password', username: 'ann@acme.example', password: PASSWORD }, { authorization: basic(pw.client.clientId, pw.clientSecret ?? '') });
    expect(grant).toMatchObject({ status: 400, json: { error: 'invalid_grant', error_description: 'Invalid username or password' } });
  });

  it('issue #14: the device verification page signs the person in on the platform too, then shows the code to confirm', async () => {
    const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
    const tv = await createApp(platform.tollgate.context, { name: 'Office TV', public: true, scopes: ['profile'], grantTypes: [GRANT] });
    const started = await postForm(`${issuer}/oauth/device_authorization`, { client_id: tv.client.clientId, scope: 'profile' });
    expect(started.status).toBe(200);
    const userCode = String(started.json['user_code']);
    expect(started.json['verification_uri_complete']).toBe(`${issuer}/device?user_code=${userCode}`);
    const b = new Browser(origin, '/oauth');
    const first = await b.fetch(String(started.json['verification_uri_complete']));
    expect(first.status).toBe(303);
    const loginUrl = new URL(first.headers.get('location') ?? '', origin);
    expect(loginUrl.pathname).toBe('/login');
    expect(loginUrl.searchParams.get('next')).toBe(`/oauth/device?user_code=${userCode}`);
    const signIn = await platformSignIn(b, 'bob@acme.example', `/oauth/device?user_code=${userCode}`);
    expect(signIn.headers.get('location')).toBe(`/oauth/device?user_code=${userCode}`);
    const page = await b.fetch(`/oauth/device?user_code=${userCode}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(`<strong class="user-code">${userCode}</strong>`);
    expect(html).toContain('Signed in as bob@acme.example');
    const decided = await b.postForm('/oauth/device/decision', [['csrf', hiddenField(html, 'csrf')], ['user_code', userCode], ['scope', 'profile'], ['decision', 'allow']]);
    expect(decided.status).toBe(200);
    const tokens = await postForm(`${issuer}/oauth/token`, { grant_type: GRANT, device_code: String(started.json['device_code']), client_id: tv.client.clientId });
    expect(tokens.status).toBe(200);
    const me = await fetch(`${issuer}/api/me`, { headers: { authorization: `Bearer ${String(tokens.json['access_token'])}` } });
    expect(await me.json()).toMatchObject({ email: 'bob@acme.example' });
  });

  it('prompt=none never leaves for the platform: login_required without a session', async () => {
    const b = new Browser(origin, '/oauth');
    const r = await withChallenge(request({ prompt: 'none' }));
    const res = await b.fetch(r.url);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'login_required', error_description: 'The user is not signed in', state: 'st', iss: issuer });
  });

  it('prompt=login: a host that sends the person back with the old sign-in time gets a clear page, never a loop', async () => {
    const b = new Browser(origin, '/oauth');
    await platformSignIn(b, 'bob@acme.example', '/');
    // Sign-in times are whole seconds: wait for the next one so "old" is really older.
    await new Promise((r) => setTimeout(r, 1100));
    const r = await withChallenge(request({ prompt: 'login' }));
    const res = await b.fetch(r.url);
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location') ?? '', origin).searchParams.get('next') ?? '';
    // The host does not sign Bob in again and sends him straight back.
    const again = await b.fetch(back);
    expect(again.status).toBe(400);
    const page = await again.text();
    expect(page).toContain('The sign-in was not renewed');
    // A real new sign-in on the platform passes.
    const r2 = await withChallenge(request({ prompt: 'login' }));
    const back2 = new URL((await b.fetch(r2.url)).headers.get('location') ?? '', origin).searchParams.get('next') ?? '';
    await platformSignIn(b, 'bob@acme.example', back2);
    const consent = await b.fetch(back2);
    expect(consent.status).toBe(200);
    expect(new URLSearchParams(hiddenField(await consent.text(), 'authorization_request')).get('prompt')).toBeNull();
  });

  it('max_age: a sign-in older than max_age sends the person to the platform again', async () => {
    const b = new Browser(origin, '/oauth');
    await platformSignIn(b, 'bob@acme.example', '/');
    await new Promise((r) => setTimeout(r, 2100));
    const fresh = await b.fetch((await withChallenge(request({ max_age: '60' }))).url);
    expect(fresh.status).toBe(200);
    const stale = await b.fetch((await withChallenge(request({ max_age: '1' }))).url);
    expect(stale.status).toBe(303);
    expect(new URL(stale.headers.get('location') ?? '', origin).pathname).toBe('/login');
    const none = await b.fetch((await withChallenge(request({ max_age: '1', prompt: 'none' }))).url);
    expect(new URL(none.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');
  });

  it('signing out of the platform ends Tollgate\'s view of that session, even if the host still reported it', async () => {
    const b = new Browser(origin, '/oauth');
    await platformSignIn(b, 'bob@acme.example', '/');
    const sid = b.cookie('acme_session') ?? '';
    expect((await b.fetch((await withChallenge(request())).url)).status).toBe(200);
    // Tollgate is told the session ended; the platform (wrongly) keeps the row alive.
    await platform.tollgate.endSession(sid);
    const after = await b.fetch((await withChallenge(request())).url);
    expect(after.status).toBe(303);
    expect(new URL(after.headers.get('location') ?? '', origin).pathname).toBe('/login');
    // The platform's own sign-out calls endSession.
    const c = new Browser(origin, '/oauth');
    await platformSignIn(c, 'bob@acme.example', '/');
    expect((await c.postForm('/logout', [])).status).toBe(303);
    expect((await c.fetch((await withChallenge(request())).url)).status).toBe(303);
  });

  it('the host\'s endSession sends the back-channel logout token for that session (sid) to the applications that signed the person in', async () => {
    const received: string[] = [];
    const rx = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    try {
      const rp = await createApp(platform.tollgate.context, {
        name: 'Back-channel RP', redirectUris: [REDIRECT], scopes: ['profile'],
        oidc: { backchannelLogoutUri: `http://127.0.0.1:${(rx.address() as AddressInfo).port}/bc` },
      });
      const b = new Browser(origin, '/oauth');
      await platformSignIn(b, 'bob@acme.example', '/');
      const verifier = oauth.generateRandomCodeVerifier();
      const url = new URL(as.authorization_endpoint ?? '');
      const params = { response_type: 'code', client_id: rp.client.clientId, redirect_uri: REDIRECT, scope: 'openid', nonce: 'n-bc', code_challenge_method: 'S256', code_challenge: await oauth.calculatePKCECodeChallenge(verifier) };
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const done = await authorize(b, url.href);
      const client = { client_id: rp.client.clientId };
      const cb = oauth.validateAuthResponse(as, client, new URL(done.location ?? ''), oauth.expectNoState);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as, client,
        await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(rp.clientSecret ?? ''), cb, REDIRECT, verifier, insecure),
        { expectedNonce: 'n-bc', requireIdToken: true },
      );
      const sid = oauth.getValidatedIdTokenClaims(tokens)?.['sid'];
      expect(typeof sid).toBe('string');
      await platform.tollgate.endSession(b.cookie('acme_session') ?? '');
      await backchannelDrained(platform.tollgate.context);
      expect(received).toHaveLength(1);
      expect(decodeJwt(received[0] ?? '')).toMatchObject({ iss: issuer, aud: rp.client.clientId, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    } finally {
      await new Promise((r) => rx.close(r));
    }
  });

  it('a person the platform disables loses every token at once (revokeSubject)', async () => {
    const carol = await platform.addUser({ email: 'carol@acme.example', name: 'Carol', password: PASSWORD });
    const b = new Browser(origin, '/oauth');
    await platformSignIn(b, 'carol@acme.example', '/');
    const r = await withChallenge(request());
    const done = await authorize(b, r.url);
    const params = oauth.validateAuthResponse(as, { client_id: web.client.clientId }, new URL(done.location ?? ''), 'st');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      { client_id: web.client.clientId },
      await oauth.authorizationCodeGrantRequest(as, { client_id: web.client.clientId }, oauth.ClientSecretBasic(web.clientSecret ?? ''), params, REDIRECT, r.verifier, insecure),
    );
    const call = () => fetch(`${issuer}/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await call()).status).toBe(200);
    await platform.disableUser(carol);
    expect((await call()).status).toBe(401);
    const refresh = await postForm(`${issuer}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }, { authorization: basic(web.client.clientId, web.clientSecret ?? '') });
    expect(refresh.status).toBe(400);
    expect(refresh.json['error']).toBe('invalid_grant');
  });

  it('the platform\'s administrators reach the back-office; others get 403; Tollgate\'s sign-in page sends to the platform\'s', async () => {
    const admin = new Browser(origin, '/oauth');
    await platformSignIn(admin, 'ann@acme.example', '/');
    expect((await admin.fetch('/oauth/admin')).status).toBe(200);
    const bob = new Browser(origin, '/oauth');
    await platformSignIn(bob, 'bob@acme.example', '/');
    expect((await bob.fetch('/oauth/admin')).status).toBe(403);
    const anon = await new Browser(origin, '/oauth').fetch('/oauth/developers');
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/oauth/developers')}`);
    const login = await new Browser(origin, '/oauth').fetch('/oauth/login?return_to=/oauth/account/apps');
    expect(login.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/oauth/account/apps')}`);
    const post = await new Browser(origin, '/oauth').postForm('/oauth/login', [['username', 'ann@acme.example'], ['password', PASSWORD]]);
    expect(post.status).toBe(404);
  });
});
