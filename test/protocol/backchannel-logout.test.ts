/**
 * OpenID Connect Back-Channel Logout 1.0 (issue #12): when a session ends, each application that
 * received an ID token for it and registered a `backchannel_logout_uri` gets a logout token
 * (§2.4–2.5), retried on failure, never holding up the sign-out; and the OIDC Registration
 * metadata that goes with it (application_type, default_max_age, contacts…). The receivers are
 * on 127.0.0.1, allowed by TOLLGATE_OUTBOUND_INSECURE_LOOPBACK (a second, strict server shows
 * that without it a loopback URL is never called).
 */
import * as oidc from 'openid-client';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, authorize, describeEachDb, startTestServer, type TestServer } from '../helpers/server.js';
import { backchannelDrained } from '../../src/features/oidc/backchannel.js';
import { endAllSessions, updateUser } from '../../src/services/directory.js';

const REDIRECT = 'https://rp.example/cb';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Received {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly token: string;
}

/** An application's back-channel endpoint: records what it receives; behaviour per path. */
class Receiver {
  readonly received: Received[] = [];
  /** Answers for the next calls, per path (default 200). `hang` never answers. */
  readonly script = new Map<string, Array<number | 'hang'>>();
  readonly hanging: ServerResponse[] = [];
  private server!: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '';
        this.received.push({ path, contentType: req.headers['content-type'], token: new URLSearchParams(body).get('logout_token') ?? '' });
        const next = this.script.get(path)?.shift() ?? 200;
        if (next === 'hang') this.hanging.push(res);
        else res.writeHead(next, { 'Cache-Control': 'no-store' }).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  for(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

describeEachDb('OpenID Connect back-channel logout', (start) => {
  let s: TestServer;
  let rx: Receiver;
  let n = 0;

  beforeAll(async () => {
    rx = new Receiver();
    await rx.start();
    s = await start({ env: { TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: 'true', TOLLGATE_REGISTRATION_GRANT_TYPES: 'authorization_code refresh_token implicit' } });
  });
  afterAll(async () => {
    await s?.close();
    await rx?.stop();
  });
  beforeEach(() => {
    rx.received.length = 0;
  });

  async function jwks(): Promise<JSONWebKeySet> {
    return (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  }

  /** An application with a back-channel endpoint at `path` (none when null). */
  async function app(path: string | null, extra: Record<string, unknown> = {}) {
    const created = await s.createApp({
      name: `BC RP ${++n}`,
      redirectUris: [REDIRECT],
      scopes: ['profile'],
      grantTypes: ['authorization_code', 'refresh_token'],
      ...(path !== null ? { oidc: { backchannelLogoutUri: `${rx.base}${path}`, ...extra } } : {}),
    });
    const cfg = await oidc.discovery(new URL(s.issuer), created.client.clientId, created.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    return { clientId: created.client.clientId, cfg };
  }

  /** The code flow with openid as the person in `browser`; returns the ID token. */
  async function signInTo(browser: Browser, cfg: oidc.Configuration): Promise<string> {
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce });
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const tokens = await oidc.authorizationCodeGrant(cfg, new URL(out.location ?? ''), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
    return tokens.id_token ?? '';
  }

  async function person(email: string): Promise<{ id: string; browser: Browser; signIn: () => Promise<void> }> {
    const user = await s.createUser(email);
    const browser = new Browser(s.url);
    const signIn = async () => expect((await browser.login(email, DEFAULT_PASSWORD)).status).toBe(303);
    await signIn();
    return { id: user.id, browser, signIn };
  }

  it('Discovery: back-channel logout and its sid are advertised', async () => {
    const meta = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(meta['backchannel_logout_supported']).toBe(true);
    expect(meta['backchannel_logout_session_supported']).toBe(true);
  });

  it('§2.4–2.5: signing out sends each application of the session one logout token, signed like its ID tokens, and none to the others', async () => {
    const a = await app('/a');
    const b = await app('/b', { backchannelLogoutSessionRequired: true });
    const c = await app(null);
    const p = await person('bc-one@example.com');
    const idA = await signInTo(p.browser, a.cfg);
    await signInTo(p.browser, a.cfg); // a second grant in the same session: still one logout token
    const idB = await signInTo(p.browser, b.cfg);
    await signInTo(p.browser, c.cfg);
    const sid = decodeJwt(idA)['sid'];
    expect(typeof sid).toBe('string');
    expect(decodeJwt(idB)['sid']).toBe(sid);
    expect(rx.received).toEqual([]);

    const out = await p.browser.fetch(`/oauth/logout?${new URLSearchParams({ id_token_hint: idA })}`);
    expect(out.status).toBe(200); // no post_logout_redirect_uri: the signed-out page
    await backchannelDrained(s.ctx);
    expect(rx.received.map((r) => r.path).sort()).toEqual(['/a', '/b']);

    const keys = createLocalJWKSet(await jwks());
    for (const [r, clientId] of [[rx.for('/a')[0], a.clientId], [rx.for('/b')[0], b.clientId]] as const) {
      expect(r?.contentType).toBe('application/x-www-form-urlencoded');
      const token = r?.token ?? '';
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'logout+jwt', alg: 'RS256' });
      const { payload } = await jwtVerify(token, keys, { issuer: s.issuer, audience: clientId, typ: 'logout+jwt' });
      expect(Object.keys(payload).sort()).toEqual(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
      expect(payload).toMatchObject({ sub: p.id, sid, events: { [EVENT]: {} } });
      expect(payload['nonce']).toBeUndefined();
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120);
    }
    // An ID token is not a logout token and a logout token is not an ID token (different typ).
    expect(decodeProtectedHeader(idA).typ).toBe('JWT');
  });

  it('every way a session ends sends the logout: the sign-out page, a new sign-in in the same browser, "sign out everywhere", a disabled person', async () => {
    const a = await app('/ways');
    const p = await person('bc-ways@example.com');
    const sidOf = (t: string) => decodeJwt(t)['sid'];

    // The sign-out page (without a hint: the person confirms).
    const first = await signInTo(p.browser, a.cfg);
    const page = await p.browser.fetch('/oauth/logout');
    const csrf = /name="csrf" value="([^"]*)"/.exec(await page.text())?.[1] ?? '';
    expect((await p.browser.postForm('/oauth/logout', [['csrf', csrf], ['confirm', 'yes']])).status).toBe(200);
    await backchannelDrained(s.ctx);
    expect(rx.for('/ways').map((r) => decodeJwt(r.token)['sid'])).toEqual([sidOf(first)]);

    // Signing in again in the same browser ends the previous session.
    await p.signIn();
    const second = await signInTo(p.browser, a.cfg);
    await p.signIn();
    await backchannelDrained(s.ctx);
    expect(rx.for('/ways').map((r) => decodeJwt(r.token)['sid'])).toEqual([sidOf(first), sidOf(second)]);

    // "Sign out everywhere" ends the sessions of two browsers: one token per session.
    rx.received.length = 0;
    const third = await signInTo(p.browser, a.cfg);
    const other = new Browser(s.url);
    expect((await other.login('bc-ways@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const fourth = await signInTo(other, a.cfg);
    await endAllSessions(s.ctx, p.id);
    await backchannelDrained(s.ctx);
    expect(rx.for('/ways').map((r) => decodeJwt(r.token)['sid']).sort()).toEqual([sidOf(third), sidOf(fourth)].sort());

    // A disabled person.
    rx.received.length = 0;
    await p.signIn();
    const fifth = await signInTo(p.browser, a.cfg);
    await updateUser(s.ctx, p.id, { disabled: true });
    await backchannelDrained(s.ctx);
    expect(rx.for('/ways').map((r) => decodeJwt(r.token)['sid'])).toEqual([sidOf(fifth)]);
  });

  it('never holds up the sign-out: an application that does not answer does not delay it', async () => {
    const a = await app('/hang');
    const p = await person('bc-hang@example.com');
    const id = await signInTo(p.browser, a.cfg);
    rx.script.set('/hang', ['hang']);
    const out = await p.browser.fetch(`/oauth/logout?${new URLSearchParams({ id_token_hint: id })}`);
    expect(out.status).toBe(200);
    // The sign-out answered while the application still holds the delivery open.
    await expect.poll(() => rx.hanging.length, { timeout: 5000 }).toBe(1);
    const portal = await p.browser.fetch('/developers');
    expect(portal.status).toBe(303);
    expect(portal.headers.get('location')).toBe('/login?return_to=%2Fdevelopers');
    rx.hanging.splice(0).forEach((res) => res.destroy());
  });

  it('retries a failed delivery (5xx) with a fresh token; a refusal (400) is not retried and is in the audit log, without the token', async () => {
    const a = await app('/flaky');
    const b = await app('/refuses');
    const p = await person('bc-retry@example.com');
    const idA = await signInTo(p.browser, a.cfg);
    await signInTo(p.browser, b.cfg);
    rx.script.set('/flaky', [503]);
    rx.script.set('/refuses', [400]);
    expect((await p.browser.fetch(`/oauth/logout?${new URLSearchParams({ id_token_hint: idA })}`)).status).toBe(200);
    await backchannelDrained(s.ctx);
    const flaky = rx.for('/flaky');
    expect(flaky).toHaveLength(2);
    expect(decodeJwt(flaky[0]?.token ?? '')['jti']).not.toBe(decodeJwt(flaky[1]?.token ?? '')['jti']);
    expect(rx.for('/refuses')).toHaveLength(1);
    const failed = (await s.ctx.storage.audit.list()).filter((e) => e.type === 'logout.delivery_failed');
    const refusal = failed.find((e) => e.clientId === b.clientId);
    expect(refusal?.details).toEqual({ userId: p.id, attempts: 1, reason: 'the application answered 400' });
    expect(failed.find((e) => e.clientId === a.clientId)).toBeUndefined();
    expect(JSON.stringify(failed)).not.toContain(rx.for('/refuses')[0]?.token ?? 'x');
  });

  it('Registration §2: application_type, default_max_age, contacts and back-channel metadata are kept; what cannot be honoured is refused', async () => {
    const register = async (meta: Record<string, unknown>) => {
      const res = await fetch(`${s.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: 'Reg RP', redirect_uris: [REDIRECT], ...meta }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ok = await register({
      application_type: 'native',
      default_max_age: 3600,
      contacts: ['dev@rp.example'],
      backchannel_logout_uri: `${rx.base}/registered`,
      backchannel_logout_session_required: true,
      require_auth_time: true,
      subject_type: 'public',
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      application_type: 'native',
      default_max_age: 3600,
      contacts: ['dev@rp.example'],
      backchannel_logout_uri: `${rx.base}/registered`,
      backchannel_logout_session_required: true,
      require_auth_time: true,
      subject_type: 'public',
    });
    const plain = await register({});
    expect(plain.status).toBe(201);
    expect(plain.body['application_type']).toBe('web');
    expect(plain.body['backchannel_logout_uri']).toBeUndefined();

    // The web default does not refuse loopback redirect URIs for the code flow (MCP and native clients omit the field)...
    expect((await register({ redirect_uris: ['http://127.0.0.1:33418/callback'] })).status).toBe(201);
    expect((await register({ application_type: 'web', redirect_uris: ['http://localhost:8976/cb'] })).status).toBe(201);
    // ...only a web application using implicit (§2).
    const implicitWeb = await register({ grant_types: ['implicit'], response_types: ['token'], redirect_uris: ['http://localhost:8976/cb'] });
    expect(implicitWeb.status).toBe(400);
    expect(implicitWeb.body['error']).toBe('invalid_redirect_uri');
    expect((await register({ application_type: 'native', grant_types: ['implicit'], response_types: ['token'], redirect_uris: ['http://localhost:8976/cb'] })).status).toBe(201);
    expect((await register({ grant_types: ['implicit'], response_types: ['token'], redirect_uris: ['https://rp.example/cb'] })).status).toBe(201);

    const refused: Array<[Record<string, unknown>, string]> = [
      [{ application_type: 'desktop' }, 'application_type must be web or native'],
      [{ default_max_age: -1 }, 'default_max_age must be a whole number of seconds from 0 to 31622400'],
      [{ default_max_age: 'soon' }, 'default_max_age must be a whole number of seconds'],
      [{ contacts: ['not-an-email'] }, 'Each contact must be an email address'],
      [{ backchannel_logout_uri: 'ftp://rp.example/bc' }, 'backchannel_logout_uri: only https URLs are called'],
      [{ backchannel_logout_uri: 'https://rp.example/bc#frag' }, 'backchannel_logout_uri: a URL with a fragment is not called'],
      [{ backchannel_logout_uri: 'https://169.254.169.254/bc' }, 'backchannel_logout_uri: 169.254.169.254 is not a public address'],
      [{ backchannel_logout_session_required: 'maybe' }, 'backchannel_logout_session_required must be true or false'],
      [{ id_token_encrypted_response_alg: 'RSA-OAEP' }, 'id_token_encrypted_response_alg: encrypted ID tokens are not supported'],
      [{ userinfo_signed_response_alg: 'RS256' }, 'userinfo_signed_response_alg: UserInfo answers plain JSON only'],
      [{ subject_type: 'pairwise' }, 'Unsupported subject_type "pairwise" (public only)'],
    ];
    for (const [meta, message] of refused) {
      expect([meta, await register(meta)]).toEqual([meta, { status: 400, body: { error: 'invalid_client_metadata', error_description: message } }]);
    }
  });

  it('default_max_age: an older sign-in is asked again (so prompt=none answers login_required), and max_age overrides it', async () => {
    const created = await s.createApp({ name: 'Max age RP', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code'], oidc: { defaultMaxAge: 0 } });
    const p = await person('bc-maxage@example.com');
    await new Promise((r) => setTimeout(r, 1100));
    const q = (extra: Record<string, string>) =>
      `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: created.client.clientId, redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', prompt: 'none', ...extra })}`;
    const stale = await p.browser.fetch(q({}));
    expect(stale.status).toBe(303);
    expect(new URL(stale.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');
    // The request's max_age wins over the application's default.
    const overridden = await p.browser.fetch(q({ max_age: '3600' }));
    expect(new URL(overridden.headers.get('location') ?? '').searchParams.get('error')).toBe('consent_required');
    // Without openid it is not an OpenID Connect request: the default does not apply.
    const oauthOnly = await p.browser.fetch(q({ scope: 'profile' }));
    expect(new URL(oauthOnly.headers.get('location') ?? '').searchParams.get('error')).toBe('consent_required');
  });
});

it('without TOLLGATE_OUTBOUND_INSECURE_LOOPBACK, a back-channel URL on loopback is never called (checked at connect time), and the failure is audited', async () => {
  const rx = new Receiver();
  await rx.start();
  const s = await startTestServer();
  try {
    // Registration refuses the address literal outright...
    const res = await fetch(`${s.url}/oauth/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ client_name: 'x', redirect_uris: [REDIRECT], backchannel_logout_uri: 'https://127.0.0.1/bc' }) });
    expect(res.status).toBe(400);
    // ...and a name resolving to loopback passes the shape check but is refused when connecting.
    const port = new URL(rx.base).port;
    const created = await s.createApp({ name: 'Strict RP', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code'], oidc: { backchannelLogoutUri: `https://localhost:${port}/bc` } });
    const cfg = await oidc.discovery(new URL(s.issuer), created.client.clientId, created.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    const user = await s.createUser('strict@example.com');
    const browser = new Browser(s.url);
    expect((await browser.login('strict@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(cfg, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const out = await authorize(browser, url.href);
    await oidc.authorizationCodeGrant(cfg, new URL(out.location ?? ''), { pkceCodeVerifier: verifier, idTokenExpected: true });
    await endAllSessions(s.ctx, user.id);
    await backchannelDrained(s.ctx);
    expect(rx.received).toEqual([]);
    const failed = (await s.ctx.storage.audit.list()).filter((e) => e.type === 'logout.delivery_failed');
    expect(failed.map((e) => e.details)).toEqual([{ userId: user.id, attempts: 1, reason: expect.stringMatching(/^localhost resolves to (127\.0\.0\.1|::1), which is not a public address$/) }]);
  } finally {
    await s.close();
    await rx.stop();
  }
});
