/**
 * Device authorization grant (RFC 8628; issue #14), over HTTP: openid-client as the device
 * (initiate, poll), a cookie-keeping client as the person on the verification page, and raw
 * requests for every error of §3.5 and RFC 6749 §5.2. Run on SQLite and PostgreSQL, including
 * parallel polls of one approved code (exactly one gets tokens).
 */
import * as oidc from 'openid-client';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, basic, describeEachDb, hiddenField, postForm, startTestServer, type TestServer } from '../helpers/server.js';
import { sha256 } from '../../src/oauth/crypto.js';
import { normalizeUserCode, userCodeHash } from '../../src/features/device-code/user-code.js';
import type { DeviceAuthorizationResponse } from '../../src/features/device-code/device.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

type Started = DeviceAuthorizationResponse;

/** The person's side: open the code's page, then Allow (with the ticked scopes) or Deny. */
async function answer(browser: Browser, complete: string, decision: 'allow' | 'deny', scopes?: readonly string[]): Promise<{ status: number; body: string }> {
  const page = await browser.fetch(complete);
  const html = await page.text();
  expect(page.status).toBe(200);
  const shown = [...html.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1] ?? '');
  const res = await browser.postForm('/device/decision', [
    ['csrf', hiddenField(html, 'csrf')],
    ['user_code', hiddenField(html, 'user_code')],
    ...(scopes ?? shown).map((s) => ['scope', s] as const),
    ['decision', decision],
  ]);
  return { status: res.status, body: await res.text() };
}

describeEachDb('Device authorization grant (RFC 8628)', (start) => {
  let s: TestServer;
  let person: Browser;
  let userId: string;
  let device: { clientId: string };
  let confidential: { clientId: string; secret: string };
  let other: { clientId: string };
  let config: oidc.Configuration;

  beforeAll(async () => {
    // A one-second interval keeps openid-client's polling short.
    s = await start({ env: { TOLLGATE_DEVICE_POLL_INTERVAL: '1' } });
    userId = (await s.createUser('tv@example.com')).id;
    person = new Browser(s.url);
    expect((await person.login('tv@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const tv = await s.createApp({ name: 'Living-room TV', public: true, scopes: ['profile', 'email'], grantTypes: [GRANT, 'refresh_token'] });
    device = { clientId: tv.client.clientId };
    const cli = await s.createApp({ name: 'Deploy CLI', scopes: ['profile'], grantTypes: [GRANT] });
    confidential = { clientId: cli.client.clientId, secret: cli.clientSecret ?? '' };
    other = { clientId: (await s.createApp({ name: 'Other TV', public: true, scopes: ['profile'], grantTypes: [GRANT] })).client.clientId };
    config = await oidc.discovery(new URL(s.issuer), device.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  });
  afterAll(async () => s?.close());

  async function begin(fields: Record<string, string> = {}, clientId = device.clientId): Promise<Started> {
    const res = await postForm(`${s.url}/oauth/device_authorization`, { client_id: clientId, ...fields });
    expect(res.status).toBe(200);
    return res.json as unknown as Started;
  }
  const poll = (deviceCode: string, clientId = device.clientId) => postForm(`${s.url}/oauth/token`, { grant_type: GRANT, device_code: deviceCode, client_id: clientId });

  it('§4: both metadata documents advertise the endpoint and the grant', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = (await (await fetch(`${s.url}${path}`)).json()) as Record<string, unknown>;
      expect(doc['device_authorization_endpoint']).toBe(`${s.issuer}/oauth/device_authorization`);
      expect(doc['grant_types_supported']).toContain(GRANT);
    }
  });

  it('openid-client end to end: the person confirms the code, the device gets tokens and an ID token', async () => {
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    expect(started.user_code).toMatch(USER_CODE);
    expect(started.device_code).toMatch(/^tgd_[A-Za-z0-9_-]{43}$/);
    expect(started.verification_uri).toBe(`${s.issuer}/device`);
    expect(started.verification_uri_complete).toBe(`${s.issuer}/device?user_code=${started.user_code}`);
    expect(started.expires_in).toBe(600);
    expect(started.interval).toBe(1);

    // §3.3.1: the complete URI shows the code for the person to compare; nothing is submitted for them.
    const page = await person.fetch(started.verification_uri_complete ?? '');
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain(`<strong class="user-code">${started.user_code}</strong>`);
    expect(html).toContain('Only continue if you started this yourself, on your own device.');
    expect(html).toContain('Living-room TV wants to access your account');
    expect(html).toContain('<form method="post" action="/device/decision">');
    expect((await s.ctx.storage.deviceCodes.byDeviceCode(sha256(started.device_code)))?.status).toBe('pending');

    const polling = oidc.pollDeviceAuthorizationGrant(config, started);
    const decided = await answer(person, started.verification_uri_complete ?? '', 'allow');
    expect(decided.status).toBe(200);
    expect(decided.body).toContain('You may return to your device');
    const tokens = await polling;
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('openid profile');
    expect(tokens.refresh_token).toMatch(/^tgr_/);
    const claims = tokens.claims();
    expect(claims?.sub).toBe(userId);
    expect(claims?.aud).toBe(device.clientId);
    expect(claims?.nonce).toBeUndefined();
    const jwks = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    await jwtVerify(tokens.id_token ?? '', createLocalJWKSet(jwks), { issuer: s.issuer, audience: device.clientId });

    // The token works, the consent lists the application under Connected applications.
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as Record<string, unknown>)['sub']).toBe(userId);
    expect((await s.ctx.storage.consents.get(userId, device.clientId))?.scope).toBe('openid profile');
    const apps = await person.fetch('/account/apps');
    expect(await apps.text()).toContain('Living-room TV');

    // A refresh keeps working, with the ID token's original sign-in.
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(refreshed.claims()?.auth_time).toBe(claims?.auth_time);

    // §3.5 / RFC 6749 §5.2: a device code redeems once.
    const again = await poll(started.device_code);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: 'invalid_grant', error_description: 'The device code has already been used' });
  });

  it('§3.5: authorization_pending, then slow_down when polled sooner than the interval (which grows by 5 s)', async () => {
    const started = await begin({ scope: 'profile' });
    const first = await poll(started.device_code);
    expect(first.status).toBe(400);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.json).toEqual({ error: 'authorization_pending', error_description: 'The person has not answered yet' });
    const second = await poll(started.device_code);
    expect(second.status).toBe(400);
    expect(second.json).toEqual({ error: 'slow_down', error_description: 'Polling too often: wait at least 6 seconds between requests' });
    const third = await poll(started.device_code);
    expect(third.json).toEqual({ error: 'slow_down', error_description: 'Polling too often: wait at least 11 seconds between requests' });
    expect((await s.ctx.storage.deviceCodes.byDeviceCode(sha256(started.device_code)))?.interval).toBe(11);
  });

  it('§3.5: a denial answers access_denied; unticking every scope is a denial too', async () => {
    const denied = await begin({ scope: 'profile' });
    const res = await answer(person, denied.verification_uri_complete, 'deny');
    expect(res.status).toBe(200);
    expect(res.body).toContain('The device was not connected');
    expect((await poll(denied.device_code)).json).toEqual({ error: 'access_denied', error_description: 'The person denied the request' });
    expect((await poll(denied.device_code)).status).toBe(400);

    const unticked = await begin({ scope: 'profile email' });
    expect((await answer(person, unticked.verification_uri_complete, 'allow', [])).body).toContain('The device was not connected');
    expect((await poll(unticked.device_code)).json).toEqual({ error: 'access_denied', error_description: 'The person denied the request' });
  });

  it('the person may untick a scope: the tokens carry only what they left ticked', async () => {
    const client = await s.ctx.storage.clients.byId(device.clientId);
    await s.ctx.storage.consents.upsert({ userId, clientId: device.clientId, scope: 'profile', scopesVersion: client?.scopesVersion ?? 1 }, Date.now());
    const started = await begin({ scope: 'profile email' });
    expect((await answer(person, started.verification_uri_complete, 'allow', ['email'])).status).toBe(200);
    const res = await poll(started.device_code);
    expect(res.status).toBe(200);
    expect(res.json['scope']).toBe('email');
    // Z5, as on the consent page: a scope granted before, asked about again and unticked now
    // (profile) is forgotten.
    expect((await s.ctx.storage.consents.get(userId, device.clientId))?.scope).toBe('email');
  });

  it('§3.5: an expired device code answers expired_token; the page says the code expired', async () => {
    const code = 'tgd_expired-device-code-for-the-test-0000000000';
    const now = Date.now();
    await s.ctx.storage.deviceCodes.create({
      deviceCodeHash: sha256(code),
      userCodeHash: userCodeHash(normalizeUserCode('XXXX-XXXX') as string),
      clientId: device.clientId,
      scope: 'profile',
      audience: `${s.issuer}/api`,
      interval: 5,
      createdAt: now - 700_000,
      expiresAt: now - 100_000,
    });
    const res = await poll(code);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'expired_token', error_description: 'The device code has expired: start again on the device' });
    const page = await person.fetch('/device?user_code=xxxxxxxx');
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('This code has expired. Start again on your device to get a new one.');
  });

  it('RFC 6749 §5.2: every other bad poll gets its exact error', async () => {
    const started = await begin({ scope: 'profile' });
    expect((await poll(started.device_code, other.clientId)).json).toEqual({ error: 'invalid_grant', error_description: 'The device code is invalid' });
    expect((await poll('tgd_unknown')).json).toEqual({ error: 'invalid_grant', error_description: 'The device code is invalid' });
    expect((await poll('x'.repeat(500))).json).toEqual({ error: 'invalid_grant', error_description: 'The device code is invalid' });
    const missing = await postForm(`${s.url}/oauth/token`, { grant_type: GRANT, client_id: device.clientId });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: 'invalid_request', error_description: 'Missing "device_code"' });
    const inQuery = await postForm(`${s.url}/oauth/token?device_code=${started.device_code}`, { grant_type: GRANT, client_id: device.clientId, device_code: started.device_code });
    expect(inQuery.json).toEqual({ error: 'invalid_request', error_description: 'Credentials must not be sent in the query string' });
    const repeated = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${encodeURIComponent(GRANT)}&client_id=${device.clientId}&device_code=a&device_code=b`,
    });
    expect(repeated.status).toBe(400);
    expect(((await repeated.json()) as Record<string, unknown>)['error']).toBe('invalid_request');
    // Not a grant of this application.
    const plain = await s.createApp({ name: 'No device flow', public: true, redirectUris: ['https://plain.example/cb'], scopes: ['profile'], grantTypes: ['authorization_code'] });
    const refused = await postForm(`${s.url}/oauth/device_authorization`, { client_id: plain.client.clientId });
    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'unauthorized_client', error_description: `This application is not allowed the ${GRANT} grant` });
    const refusedPoll = await poll(started.device_code, plain.client.clientId);
    expect(refusedPoll.json).toEqual({ error: 'unauthorized_client', error_description: `This application is not allowed the ${GRANT} grant` });
  });

  it('§3.1: the device authorization request authenticates the client and checks scope and resource', async () => {
    const ok = await postForm(`${s.url}/oauth/device_authorization`, {}, { authorization: basic(confidential.clientId, confidential.secret) });
    expect(ok.status).toBe(200);
    expect(ok.json['user_code']).toMatch(USER_CODE);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    const wrong = await postForm(`${s.url}/oauth/device_authorization`, {}, { authorization: basic(confidential.clientId, 'wrong') });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
    const none = await postForm(`${s.url}/oauth/device_authorization`, { scope: 'profile' });
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication is required' });
    const scope = await postForm(`${s.url}/oauth/device_authorization`, { client_id: device.clientId, scope: 'admin' });
    expect(scope.status).toBe(400);
    expect(scope.json).toEqual({ error: 'invalid_scope', error_description: 'Scope not allowed for this client: admin' });
    const target = await postForm(`${s.url}/oauth/device_authorization`, { client_id: device.clientId, resource: 'https://unknown.example/api' });
    expect(target.status).toBe(400);
    expect(target.json['error']).toBe('invalid_target');
    const secretInQuery = await postForm(`${s.url}/oauth/device_authorization?client_secret=x`, { client_id: device.clientId });
    expect(secretInQuery.json).toEqual({ error: 'invalid_request', error_description: 'Credentials must not be sent in the query string' });
    // A confidential client polls with its secret.
    const res = await postForm(`${s.url}/oauth/token`, { grant_type: GRANT, device_code: String(ok.json['device_code']) }, { authorization: basic(confidential.clientId, confidential.secret) });
    expect(res.json).toEqual({ error: 'authorization_pending', error_description: 'The person has not answered yet' });
  });

  it('a device code redeems once under parallel polls: one gets the tokens, the others invalid_grant', async () => {
    const started = await begin({ scope: 'profile' });
    expect((await answer(person, started.verification_uri_complete, 'allow')).status).toBe(200);
    const results = await Promise.all(Array.from({ length: 12 }, () => poll(started.device_code)));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_grant', error_description: 'The device code has already been used' });
    }
    const familyId = (await s.ctx.storage.deviceCodes.byDeviceCode(sha256(started.device_code)))?.familyId ?? '';
    const issued = await s.ctx.storage.tokens.byHash(sha256(String(won[0]?.json['access_token'])));
    expect(issued?.familyId).toBe(familyId);
    expect(issued?.userId).toBe(userId);
  });

  it('a person disabled after approving: the device gets invalid_grant, never tokens', async () => {
    const bob = await s.createUser('bob-tv@example.com');
    const bobBrowser = new Browser(s.url);
    expect((await bobBrowser.login('bob-tv@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const started = await begin({ scope: 'profile' });
    expect((await answer(bobBrowser, started.verification_uri_complete, 'allow')).status).toBe(200);
    await s.ctx.storage.users.update(bob.id, { disabled: true });
    expect((await poll(started.device_code)).json).toEqual({ error: 'invalid_grant', error_description: 'The person who approved this device is no longer active' });
  });

  describe('the verification page', () => {
    it('typing the code: any case, with or without the dash; a wrong one is said plainly and kept in the field', async () => {
      const started = await begin({ scope: 'profile' });
      const entry = await person.fetch('/device');
      const html = await entry.text();
      expect(entry.status).toBe(200);
      expect(html).toContain('Enter the code shown on your device');
      const csrf = hiddenField(html, 'csrf');
      const typed = started.user_code.replace('-', '').toLowerCase();
      const ok = await person.postForm('/device', [['csrf', csrf], ['user_code', typed]]);
      expect(ok.status).toBe(303);
      expect(ok.headers.get('location')).toBe(`/device?user_code=${started.user_code}`);

      const malformed = await person.postForm('/device', [['csrf', csrf], ['user_code', 'ABC']]);
      expect(malformed.status).toBe(400);
      const malformedHtml = await malformed.text();
      expect(malformedHtml).toContain('That is not a device code: it has eight letters, like WDJB-MJHT.');
      expect(malformedHtml).toContain('value="ABC"');
      const unknown = await person.postForm('/device', [['csrf', csrf], ['user_code', 'BBBB-BBBB']]);
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toContain('No device is waiting for this code.');
      const noCsrf = await person.postForm('/device', [['user_code', typed]]);
      expect(noCsrf.status).toBe(403);
      const script = await person.postForm('/device', [['csrf', csrf], ['user_code', '<script>alert(1)</script>']]);
      expect(await script.text()).not.toContain('<script>alert(1)</script>');
    });

    it('nobody signed in: the code waits through the sign-in, then the confirmation page', async () => {
      const started = await begin({ scope: 'profile' });
      const fresh = new Browser(s.url);
      const res = await fresh.fetch(`/device?user_code=${started.user_code}`);
      expect(res.status).toBe(303);
      const location = res.headers.get('location') ?? '';
      expect(location).toBe(`/login?return_to=${encodeURIComponent(`/device?user_code=${started.user_code}`)}`);
      const signedIn = await fresh.login('tv@example.com', DEFAULT_PASSWORD, `/device?user_code=${started.user_code}`);
      expect(signedIn.status).toBe(303);
      expect(signedIn.headers.get('location')).toBe(`/device?user_code=${started.user_code}`);
      const page = await fresh.fetch(signedIn.headers.get('location') ?? '');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`<strong class="user-code">${started.user_code}</strong>`);
      // Deciding without a session sends the person to sign in, and decides nothing.
      const anonymous = new Browser(s.url);
      const csrfPage = await anonymous.fetch('/device');
      const post = await anonymous.postForm('/device/decision', [['csrf', hiddenField(await csrfPage.text(), 'csrf')], ['user_code', started.user_code], ['decision', 'allow']]);
      expect(post.status).toBe(303);
      expect((await s.ctx.storage.deviceCodes.byDeviceCode(sha256(started.device_code)))?.status).toBe('pending');
    });

    it('a code already answered cannot be answered again (another tab)', async () => {
      const started = await begin({ scope: 'profile' });
      const page = await person.fetch(started.verification_uri_complete);
      const html = await page.text();
      expect((await answer(person, started.verification_uri_complete, 'allow')).status).toBe(200);
      const late = await person.postForm('/device/decision', [['csrf', hiddenField(html, 'csrf')], ['user_code', started.user_code], ['scope', 'profile'], ['decision', 'deny']]);
      expect(late.status).toBe(410);
      expect(await late.text()).toContain('This code has already been used.');
      expect((await s.ctx.storage.deviceCodes.byDeviceCode(sha256(started.device_code)))?.status).toBe('approved');
    });

    it('in the person\'s language', async () => {
      const started = await begin({ scope: 'profile' });
      const page = await person.fetch(started.verification_uri_complete, { headers: { 'accept-language': 'fr' } });
      const html = await page.text();
      expect(html).toContain('Ne continuez que si vous avez lancé cette connexion vous-même');
      expect(html).toContain('Refuser');
    });
  });
});

describe('Device authorization grant: guessing user codes is limited per address (RFC 8628 §5.1)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_DEVICE_RATE_LIMIT: '3' } });
  });
  afterAll(async () => s?.close());

  it('the fourth code tried within a minute gets 429 with Retry-After; the plain page stays free', async () => {
    const b = new Browser(s.url);
    for (let i = 0; i < 5; i++) expect((await b.fetch('/device')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await b.fetch('/device?user_code=BBBB-BBBB')).status).toBe(400);
    const limited = await b.fetch('/device?user_code=BBBB-BBBB');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('content-type')).toContain('text/html');
    expect(await limited.text()).toContain('Too many device codes tried from this address; try again in');
    // The form's posts count too.
    const csrf = hiddenField(await (await b.fetch('/device')).text(), 'csrf');
    for (let i = 0; i < 3; i++) expect((await b.postForm('/device', [['csrf', csrf], ['user_code', 'BBBB-BBBB']])).status).toBe(400);
    expect((await b.postForm('/device', [['csrf', csrf], ['user_code', 'BBBB-BBBB']])).status).toBe(429);
  });
});
