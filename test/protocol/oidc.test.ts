/**
 * OpenID Connect (issue #12), driven by openid-client as a relying party: discovery (OIDC
 * Discovery §4), the code flow with PKCE and nonce (Core §3.1), ID-token contents and signature
 * (§2, §3.1.3.6), UserInfo (§5.3, RFC 6750 errors), refresh (§12.2), the implicit `id_token`
 * response types (§3.2), prompt (§3.1.2.1), per-application algorithms and key rotation, dynamic
 * registration of OIDC metadata, and ID tokens refused as access tokens (RFC 9068 §4).
 */
import * as oidc from 'openid-client';
import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';
import { rotateSigningKey } from '../../src/services/keys.js';

const REDIRECT = 'https://rp.example/cb';

function leftHalf(value: string): string {
  const d = createHash('sha256').update(value).digest();
  return d.subarray(0, 16).toString('base64url');
}

describeEachDb('OpenID Connect', (start) => {
  let s: TestServer;
  let browser: Browser;
  let userId: string;
  let rp: { clientId: string; secret: string };
  let config: oidc.Configuration;

  beforeAll(async () => {
    s = await start();
    userId = (await s.createUser('oidc@example.com')).id;
    browser = new Browser(s.url);
    expect((await browser.login('oidc@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const app = await s.createApp({ name: 'Sign-in RP', redirectUris: [REDIRECT], scopes: ['profile', 'email'], grantTypes: ['authorization_code', 'refresh_token'] });
    rp = { clientId: app.client.clientId, secret: app.clientSecret ?? '' };
    config = await oidc.discovery(new URL(s.issuer), rp.clientId, rp.secret, undefined, { execute: [oidc.allowInsecureRequests] });
  });
  afterAll(async () => s?.close());

  async function jwks(): Promise<JSONWebKeySet> {
    return (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  }

  /** The code flow as a signed-in person; returns openid-client's token response. */
  async function signIn(scope: string, extra: Record<string, string> = {}, cfg = config) {
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(cfg, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...extra,
    });
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const tokens = await oidc.authorizationCodeGrant(cfg, new URL(out.location ?? ''), { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    return { tokens, nonce };
  }

  it('Discovery §4: the OpenID configuration lists every endpoint of the RFC 8414 document, and what OIDC requires', async () => {
    const res = await fetch(`${s.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const doc = (await res.json()) as Record<string, unknown>;
    const oauthDoc = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(doc).toEqual(oauthDoc);
    expect(doc['issuer']).toBe(s.issuer);
    expect(doc['userinfo_endpoint']).toBe(`${s.issuer}/oauth/userinfo`);
    expect(doc['subject_types_supported']).toEqual(['public']);
    expect(doc['id_token_signing_alg_values_supported']).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(doc['response_types_supported']).toEqual(['code', 'token', 'id_token', 'id_token token']);
    expect(doc['scopes_supported']).toEqual(expect.arrayContaining(['openid', 'offline_access', 'profile', 'email']));
    expect(doc['claims_supported']).toEqual(expect.arrayContaining(['sub', 'auth_time', 'nonce', 'email', 'email_verified', 'name', 'given_name', 'sid']));
    expect(doc['prompt_values_supported']).toEqual(['none', 'login', 'consent', 'select_account']);
    expect(doc['authorization_response_iss_parameter_supported']).toBe(true);
    expect(doc['code_challenge_methods_supported']).toEqual(['S256']);
    expect(config.serverMetadata().userinfo_endpoint).toBe(`${s.issuer}/oauth/userinfo`);
  });

  it('Core §3.1: code + PKCE + nonce; the ID token carries iss, sub, aud, azp, exp, iat, auth_time, nonce, at_hash, sid, amr, and is RS256 with typ JWT', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { tokens, nonce } = await signIn('openid profile email');
    const idToken = tokens.id_token ?? '';
    expect(decodeProtectedHeader(idToken)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(await jwks()), { issuer: s.issuer, audience: rp.clientId, algorithms: ['RS256'] });
    expect(payload.sub).toBe(userId);
    expect(payload['azp']).toBe(rp.clientId);
    expect(payload['nonce']).toBe(nonce);
    expect(payload['at_hash']).toBe(leftHalf(tokens.access_token));
    expect(payload['amr']).toEqual(['pwd']);
    expect(typeof payload['sid']).toBe('string');
    expect(payload['auth_time']).toBeLessThanOrEqual(before + 1);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(tokens.claims()?.sub).toBe(userId);
    expect(tokens.scope).toBe('openid profile email');
  });

  it('Core §5.3: UserInfo by GET and POST answers sub and only the claims the scopes release', async () => {
    const { tokens } = await signIn('openid email');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    expect(info).toEqual({ sub: userId, email: 'oidc@example.com', email_verified: false });
    const post = await postForm(`${s.url}/oauth/userinfo`, { access_token: tokens.access_token });
    expect(post.status).toBe(200);
    expect(post.json).toEqual({ sub: userId, email: 'oidc@example.com', email_verified: false });
    const only = await signIn('openid');
    expect(await oidc.fetchUserInfo(config, only.tokens.access_token, userId)).toEqual({ sub: userId });
  });

  it('Core §5.1: a user created with a name (and a verified email) has profile claims, each only with its scope', async () => {
    const { createUser } = await import('../../src/services/directory.js');
    const named = await createUser(s.ctx, { email: 'named@example.com', password: DEFAULT_PASSWORD, name: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace', emailVerified: true });
    const other = new Browser(s.url);
    expect((await other.login('named@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const previous = browser;
    browser = other;
    try {
      const full = await signIn('openid profile email');
      const info = await oidc.fetchUserInfo(config, full.tokens.access_token, named.id);
      expect(info).toEqual({ sub: named.id, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', updated_at: expect.any(Number), email: 'named@example.com', email_verified: true });
      const profileOnly = await signIn('openid profile');
      expect(await oidc.fetchUserInfo(config, profileOnly.tokens.access_token, named.id)).toEqual({ sub: named.id, name: 'Ada Lovelace', given_name: 'Ada', family_name: 'Lovelace', updated_at: expect.any(Number) });

      // An administrator changes the name (admin pages, API, CLI all use setUserProfile): UserInfo follows, "" removes a claim.
      const { setUserProfile } = await import('../../src/services/directory.js');
      await setUserProfile(s.ctx, named.id, { name: 'Ada King', familyName: '', emailVerified: false });
      expect(await oidc.fetchUserInfo(config, full.tokens.access_token, named.id)).toEqual({ sub: named.id, name: 'Ada King', given_name: 'Ada', updated_at: expect.any(Number), email: 'named@example.com', email_verified: false });
      await expect(setUserProfile(s.ctx, named.id, { name: 'x'.repeat(201) })).rejects.toThrow('The name is too long (200 max)');
    } finally {
      browser = previous;
    }
  });

  it('Core §5.5 claims parameter: claims asked for in the ID token are put there (only within the granted scopes), also after a refresh; malformed ones are invalid_request', async () => {
    expect(config.serverMetadata()['claims_parameter_supported']).toBe(true);
    const { createUser, setUserProfile } = await import('../../src/services/directory.js');
    const person = await createUser(s.ctx, { email: 'claims@example.com', password: DEFAULT_PASSWORD, name: 'Grace Hopper', emailVerified: true });
    const other = new Browser(s.url);
    expect((await other.login('claims@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const previous = browser;
    browser = other;
    try {
      const claims = JSON.stringify({ id_token: { email: { essential: true }, name: null, birthdate: null }, userinfo: { name: null } });
      const { tokens } = await signIn('openid email', { claims });
      const payload = tokens.claims();
      // email is granted (email scope); name is not (no profile scope): left out; birthdate unknown.
      expect(payload?.['email']).toBe('claims@example.com');
      expect(payload?.['email_verified']).toBeUndefined();
      expect(payload?.['name']).toBeUndefined();
      const both = await signIn('openid email profile', { claims });
      expect(both.tokens.claims()).toMatchObject({ email: 'claims@example.com', name: 'Grace Hopper' });
      // A refresh keeps putting them in, with what the person's profile says now.
      await setUserProfile(s.ctx, person.id, { name: 'Grace B. Hopper' });
      const refreshed = await oidc.refreshTokenGrant(config, both.tokens.refresh_token ?? '');
      expect(refreshed.claims()).toMatchObject({ email: 'claims@example.com', name: 'Grace B. Hopper' });
      // Without the parameter, the ID token carries no profile claim (they are at UserInfo).
      expect((await signIn('openid email profile')).tokens.claims()?.['name']).toBeUndefined();

      // §5.5.1: a sub value is answered only for that person.
      const forMe = await signIn('openid', { claims: JSON.stringify({ id_token: { sub: { value: person.id } } }) });
      expect(forMe.tokens.claims()?.sub).toBe(person.id);
      const forOther = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', prompt: 'none', claims: JSON.stringify({ id_token: { sub: { value: userId } } }) });
      const refused = await other.fetch(forOther.href);
      expect(new URL(refused.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');
    } finally {
      browser = previous;
    }
    for (const [bad, message] of [
      ['not json', 'claims must be a JSON object'],
      ['[1]', 'claims must be a JSON object'],
      ['{"id_token":[]}', 'claims.id_token must be a JSON object'],
      ['{"id_token":{"email":true}}', 'claims.id_token.email must be null or an object'],
      ['{"userinfo":{"email":{"essential":"yes"}}}', 'claims.userinfo.email.essential must be true or false'],
      ['{"id_token":{"sub":{"value":"a"}},"userinfo":{"sub":{"value":"b"}}}', 'claims names two different sub values'],
      [`{"id_token":{"x":"${'y'.repeat(4100)}"}}`, 'claims is too long (4096 max)'],
    ] as const) {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'st', claims: bad });
      const res = await browser.fetch(url.href);
      expect(res.status).toBe(303);
      const back = new URL(res.headers.get('location') ?? '').searchParams;
      expect([bad.slice(0, 40), back.get('error'), back.get('error_description'), back.get('state')]).toEqual([bad.slice(0, 40), 'invalid_request', message, 'st']);
    }
  });

  it('UserInfo errors are RFC 6750: no token, bad token, no openid scope, two tokens, a token in the URL, an application token', async () => {
    const none = await fetch(`${s.url}/oauth/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tollgate"');
    const bad = await fetch(`${s.url}/oauth/userinfo`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' });
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const noOpenid = await signIn('openid profile');
    // A token without openid: the plain OAuth flow of the same application.
    const plain = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: noOpenid.tokens.refresh_token ?? '', scope: 'profile' }, { authorization: basic(rp.clientId, rp.secret) });
    expect(plain.status).toBe(200);
    expect(plain.json['id_token']).toBeUndefined();
    const scoped = await fetch(`${s.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${String(plain.json['access_token'])}` } });
    expect(scoped.status).toBe(403);
    expect(await scoped.json()).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks the openid scope' });
    const both = await fetch(`${s.url}/oauth/userinfo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${noOpenid.tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `access_token=${noOpenid.tokens.access_token}`,
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toEqual({ error: 'invalid_request', error_description: 'Send the access token one way only' });
    // The resource toolkit's header reader: exactly one space and one token.
    for (const header of [`Bearer  ${noOpenid.tokens.access_token}`, `Bearer ${noOpenid.tokens.access_token} extra`, `Basic ${noOpenid.tokens.access_token}`]) {
      const malformed = await fetch(`${s.url}/oauth/userinfo`, { headers: { authorization: header } });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toEqual({ error: 'invalid_request', error_description: 'Malformed Authorization header: expected "Bearer <token>"' });
    }
    const inUrl = await fetch(`${s.url}/oauth/userinfo?access_token=${noOpenid.tokens.access_token}`);
    expect(inUrl.status).toBe(400);
    const machine = await s.createApp({ name: 'machine', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const cc = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(machine.client.clientId, machine.clientSecret ?? '') });
    const app = await fetch(`${s.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${String(cc.json['access_token'])}` } });
    expect(app.status).toBe(401);
    expect(await app.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is not for a person' });
  });

  it('Core §12.2: a refresh that keeps openid returns a new ID token with the original auth_time and no nonce', async () => {
    const first = await signIn('openid profile');
    const original = first.tokens.claims();
    await new Promise((r) => setTimeout(r, 1100));
    const refreshed = await oidc.refreshTokenGrant(config, first.tokens.refresh_token ?? '');
    const claims = refreshed.claims();
    expect(claims?.sub).toBe(userId);
    expect(claims?.auth_time).toBe(original?.auth_time);
    expect(claims?.['nonce']).toBeUndefined();
    expect(claims?.iat).toBeGreaterThan(original?.iat ?? 0);
    expect(JSON.parse(Buffer.from((refreshed.id_token ?? '').split('.')[1] ?? '', 'base64url').toString())['at_hash']).toBe(leftHalf(refreshed.access_token));
  });

  it('refresh grace window: the replayed answer (the same pair) comes with an ID token too', async () => {
    const app = await s.createApp({ name: 'Grace RP', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token'], refreshGraceSeconds: 60 });
    const cfg = await oidc.discovery(new URL(s.issuer), app.client.clientId, app.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    const first = await signIn('openid profile', {}, cfg);
    const rt = first.tokens.refresh_token ?? '';
    const a = await oidc.refreshTokenGrant(cfg, rt);
    const b = await oidc.refreshTokenGrant(cfg, rt);
    expect(b.access_token).toBe(a.access_token);
    expect(b.refresh_token).toBe(a.refresh_token);
    for (const r of [a, b]) {
      expect(r.claims()).toMatchObject({ sub: userId, aud: app.client.clientId, auth_time: first.tokens.claims()?.auth_time });
      expect(JSON.parse(Buffer.from((r.id_token ?? '').split('.')[1] ?? '', 'base64url').toString())['at_hash']).toBe(leftHalf(r.access_token));
    }
  });

  it('RFC 9068 §4: an ID token is refused where an access token is expected', async () => {
    const { tokens } = await signIn('openid profile');
    for (const path of ['/api/me', '/oauth/userinfo']) {
      const r = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${tokens.id_token ?? ''}` } });
      expect(r.status, path).toBe(401);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_token');
    }
  });

  it('prompt=none without a session answers login_required; prompt=select_account asks for a sign-in', async () => {
    const stranger = new Browser(s.url);
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'none', nonce: 'n', state: 'st', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const res = await stranger.fetch(url.href);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('login_required');
    expect(location.searchParams.get('state')).toBe('st');
    const select = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', prompt: 'select_account', nonce: 'n', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const again = await browser.fetch(select.href);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toMatch(/\/login\?/);
    const badDisplay = await browser.fetch(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', display: 'hologram', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).href);
    expect(new URL(badDisplay.headers.get('location') ?? '').searchParams.get('error')).toBe('invalid_request');
  });

  it('Core §3.1.2.1: an authorization request sent as a form POST works like the GET; a repeated parameter is refused', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const fields: Array<[string, string]> = [
      ['response_type', 'code'], ['client_id', rp.clientId], ['redirect_uri', REDIRECT], ['scope', 'openid email'],
      ['state', 'post-st'], ['nonce', 'post-n'], ['code_challenge', await oidc.calculatePKCECodeChallenge(verifier)], ['code_challenge_method', 'S256'],
    ];
    // The consent for openid email was remembered by an earlier test: the answer is the redirect.
    const res = await browser.postForm('/oauth/authorize', fields);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('post-st');
    const tokens = await oidc.authorizationCodeGrant(config, location, { pkceCodeVerifier: verifier, expectedNonce: 'post-n', expectedState: 'post-st', idTokenExpected: true });
    expect(tokens.claims()?.sub).toBe(userId);
    const repeated = await browser.postForm('/oauth/authorize', [...fields, ['client_id', rp.clientId]]);
    expect(repeated.status).toBe(400);
    expect(await repeated.text()).toContain('must not be repeated');
  });

  it('Core §3.1.2.1 id_token_hint: the named person passes silently, another one gets login_required (or a sign-in), a forged or foreign hint is invalid_request', async () => {
    const { tokens } = await signIn('openid');
    const hint = tokens.id_token ?? '';
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
    const url = (extra: Record<string, string>, cfg = config) =>
      oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid', state: 'h-st', code_challenge: challenge, code_challenge_method: 'S256', ...extra }).href;
    const errorOf = (res: Response) => new URL(res.headers.get('location') ?? '').searchParams;

    const same = await browser.fetch(url({ prompt: 'none', id_token_hint: hint }));
    expect(same.status).toBe(303);
    expect(errorOf(same).get('code')).not.toBeNull();

    const { createUser } = await import('../../src/services/directory.js');
    await createUser(s.ctx, { email: 'someone-else@example.com', password: DEFAULT_PASSWORD });
    const other = new Browser(s.url);
    expect((await other.login('someone-else@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const silent = await other.fetch(url({ prompt: 'none', id_token_hint: hint }));
    expect(errorOf(silent).get('error')).toBe('login_required');
    expect(errorOf(silent).get('error_description')).toBe('The signed-in user is not the one id_token_hint names');
    const asks = await other.fetch(url({ id_token_hint: hint }));
    expect(asks.status).toBe(303);
    expect(asks.headers.get('location')).toMatch(/\/login\?/);

    const forged = await browser.fetch(url({ id_token_hint: `${hint.slice(0, -4)}AAAA` }));
    expect(errorOf(forged).get('error')).toBe('invalid_request');
    expect(errorOf(forged).get('error_description')).toBe('id_token_hint is not an ID token this server issued to this application');
    const app2 = await s.createApp({ name: 'Other RP', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code'] });
    const cfg2 = await oidc.discovery(new URL(s.issuer), app2.client.clientId, app2.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    const foreign = await browser.fetch(url({ id_token_hint: hint }, cfg2));
    expect(errorOf(foreign).get('error')).toBe('invalid_request');
  });

  it('RP-Initiated Logout §2–3: a hint naming the person signs out at once and returns to the registered URI with state; otherwise the person confirms first', async () => {
    const BYE = 'https://rp.example/bye';
    const app = await s.createApp({ name: 'Logout RP', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code'], postLogoutRedirectUris: [BYE] });
    const cfg = await oidc.discovery(new URL(s.issuer), app.client.clientId, app.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    expect(cfg.serverMetadata().end_session_endpoint).toBe(`${s.issuer}/oauth/logout`);
    const { createUser } = await import('../../src/services/directory.js');
    await createUser(s.ctx, { email: 'leaver@example.com', password: DEFAULT_PASSWORD });
    const person = new Browser(s.url);
    const signInAs = async () => expect((await person.login('leaver@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    await signInAs();
    const previous = browser;
    browser = person;
    let hint = '';
    try {
      hint = (await signIn('openid', {}, cfg)).tokens.id_token ?? '';
    } finally {
      browser = previous;
    }
    const signedIn = async () => (await person.fetch('/developers')).status === 200;
    expect(await signedIn()).toBe(true);

    // With the hint: no page, the session ends, back to the registered URI with state (openid-client builds the URL).
    const end = oidc.buildEndSessionUrl(cfg, { id_token_hint: hint, post_logout_redirect_uri: BYE, state: 'bye-st' });
    const out = await person.fetch(end.href);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe(`${BYE}?state=bye-st`);
    expect(await signedIn()).toBe(false);

    // Without a hint: a confirmation page; its POST ends the session and redirects.
    await signInAs();
    const ask = await person.fetch(`/oauth/logout?${new URLSearchParams({ client_id: app.client.clientId, post_logout_redirect_uri: BYE, state: 's2' })}`);
    expect(ask.status).toBe(200);
    expect(ask.headers.get('content-security-policy')).toContain("form-action 'self' https://rp.example");
    const html = await ask.text();
    expect(html).toContain('Logout RP');
    expect(await signedIn()).toBe(true);
    const noCsrf = await person.postForm('/oauth/logout', [['confirm', 'yes'], ['client_id', app.client.clientId]]);
    expect(noCsrf.status).toBe(403);
    expect(await signedIn()).toBe(true);
    const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
    const confirmed = await person.postForm('/oauth/logout', [['csrf', csrf], ['confirm', 'yes'], ['client_id', app.client.clientId], ['post_logout_redirect_uri', BYE], ['state', 's2']]);
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get('location')).toBe(`${BYE}?state=s2`);
    expect(await signedIn()).toBe(false);

    // Never a redirect to an unregistered URI, nor without knowing the application.
    const unregistered = await person.fetch(`/oauth/logout?${new URLSearchParams({ client_id: app.client.clientId, post_logout_redirect_uri: 'https://evil.example/' })}`);
    expect(unregistered.status).toBe(400);
    expect(await unregistered.text()).toContain('The post_logout_redirect_uri is not registered for this application.');
    const anonymous = await person.fetch(`/oauth/logout?${new URLSearchParams({ post_logout_redirect_uri: BYE })}`);
    expect(anonymous.status).toBe(400);
    const mismatch = await person.fetch(`/oauth/logout?${new URLSearchParams({ id_token_hint: hint, client_id: rp.clientId })}`);
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('The client_id does not match the id_token_hint.');
    // A hint whose person is not signed in here: nothing to end; the registered return still works.
    const notSignedIn = await person.fetch(end.href);
    expect(notSignedIn.headers.get('location')).toBe(`${BYE}?state=bye-st`);
  });

  it('id_token_signed_response_alg: an application may choose ES256 or EdDSA; its key is in the JWKS before the first token', async () => {
    for (const alg of ['ES256', 'EdDSA'] as const) {
      const app = await s.createApp({ name: `RP ${alg}`, redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code'], idTokenSignedResponseAlg: alg });
      const keysNow = await jwks();
      expect(keysNow.keys.some((k) => k.alg === alg)).toBe(true);
      const cfg = await oidc.discovery(new URL(s.issuer), app.client.clientId, { client_secret: app.clientSecret ?? '', id_token_signed_response_alg: alg }, undefined, { execute: [oidc.allowInsecureRequests] });
      const { tokens } = await signIn('openid', {}, cfg);
      expect(decodeProtectedHeader(tokens.id_token ?? '').alg).toBe(alg);
      await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(keysNow), { issuer: s.issuer, audience: app.client.clientId });
    }
  });

  it('key rotation: an ID token signed before the rotation still validates against the JWKS after it', async () => {
    const { tokens } = await signIn('openid');
    const oldKid = decodeProtectedHeader(tokens.id_token ?? '').kid;
    await rotateSigningKey(s.ctx, 'RS256');
    const after = await jwks();
    expect(after.keys.filter((k) => k.alg === 'RS256').map((k) => k.kid)).toContain(oldKid);
    await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(after), { issuer: s.issuer, audience: rp.clientId });
    const next = await signIn('openid');
    expect(decodeProtectedHeader(next.tokens.id_token ?? '').kid).not.toBe(oldKid);
  });

  it('Core §3.2: id_token and id_token token for an application allowed implicit; the nonce is required', async () => {
    const app = await s.createApp({ name: 'Implicit RP', redirectUris: [REDIRECT], scopes: ['profile', 'email'], grantTypes: ['implicit'], public: true });
    const base = { client_id: app.client.clientId, redirect_uri: REDIRECT, scope: 'openid email', state: 'st' };
    const noNonce = await browser.fetch(`/oauth/authorize?${new URLSearchParams({ ...base, response_type: 'id_token' })}`);
    expect(noNonce.status).toBe(303);
    const err = new URLSearchParams(new URL(noNonce.headers.get('location') ?? '').hash.slice(1));
    expect(err.get('error')).toBe('invalid_request');
    expect(err.get('error_description')).toBe('response_type=id_token requires a nonce');

    const out = await authorize(browser, `${s.url}/oauth/authorize?${new URLSearchParams({ ...base, response_type: 'id_token token', nonce: 'n-1' })}`);
    const frag = new URLSearchParams(new URL(out.location ?? '').hash.slice(1));
    const { payload } = await jwtVerify(frag.get('id_token') ?? '', createLocalJWKSet(await jwks()), { issuer: s.issuer, audience: app.client.clientId });
    expect(payload['nonce']).toBe('n-1');
    expect(payload['at_hash']).toBe(leftHalf(frag.get('access_token') ?? ''));
    expect(frag.get('token_type')).toBe('Bearer');

    const only = await authorize(browser, `${s.url}/oauth/authorize?${new URLSearchParams({ ...base, response_type: 'id_token', nonce: 'n-2' })}`);
    const onlyFrag = new URLSearchParams(new URL(only.location ?? '').hash.slice(1));
    expect(onlyFrag.get('access_token')).toBeNull();
    const claims = (await jwtVerify(onlyFrag.get('id_token') ?? '', createLocalJWKSet(await jwks()), { issuer: s.issuer, audience: app.client.clientId })).payload;
    // §5.4: with no access token, the claims travel in the ID token.
    expect(claims['email']).toBe('oidc@example.com');
    expect(claims['at_hash']).toBeUndefined();

    const codeApp = await fetch(`${s.url}/oauth/authorize?${new URLSearchParams({ ...base, client_id: rp.clientId, response_type: 'id_token', nonce: 'n' })}`, { redirect: 'manual' });
    expect(new URLSearchParams(new URL(codeApp.headers.get('location') ?? '').hash.slice(1)).get('error')).toBe('unsupported_response_type');
  });

  it('Registration: openid and offline_access need not be held; id_token_signed_response_alg is kept or refused clearly', async () => {
    const reg = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Registered RP', redirect_uris: [REDIRECT], scope: 'openid offline_access profile', id_token_signed_response_alg: 'ES256', post_logout_redirect_uris: ['https://rp.example/bye'] }),
    });
    expect(reg.status).toBe(201);
    const body = (await reg.json()) as Record<string, unknown>;
    expect(body['id_token_signed_response_alg']).toBe('ES256');
    expect(body['scope']).toBe('profile');
    expect(body['post_logout_redirect_uris']).toEqual(['https://rp.example/bye']);
    const bad = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Bad RP', redirect_uris: [REDIRECT], id_token_signed_response_alg: 'HS256' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'Unsupported id_token_signed_response_alg "HS256" (RS256, ES256 or EdDSA)' });
  });
});
