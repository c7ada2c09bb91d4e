/**
 * OpenID Connect journeys (issue #12) in a real browser (Chromium via playwright-core), with
 * openid-client as the relying party: it builds the authorization and end-session URLs and
 * validates the ID tokens; its redirect URI is a loopback HTTP server on 127.0.0.1 started here.
 * Each journey saves a screenshot of every page it visits under test-results/ and records the
 * browser's main-frame navigations (status and place), so "no page was shown" is asserted, not
 * assumed. See docs/openid-connect.md.
 */
import { createServer, type Server } from 'node:http';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_PASSWORD, freePort, startTestServer, type TestServer } from '../helpers/server.js';
import type { AppInput } from '../../src/services/apps.js';
import { describeBrowser, launch, screenshots } from './support.js';

type Shot = (page: Page, name: string) => Promise<string>;

/** The relying party's side: GET /callback (redirect URI) and GET /signed-out (post-logout URI). */
interface RpServer {
  readonly url: string;
  /** Every request it received, in order (but /favicon.ico). */
  readonly hits: URL[];
  close(): Promise<void>;
}

async function rpServer(): Promise<RpServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const hits: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    // Chromium asks every origin for its icon: not a request of the journey.
    if (url.pathname !== '/favicon.ico') hits.push(url);
    const title = url.pathname === '/callback' ? 'Back at the application' : url.pathname === '/signed-out' ? 'Signed out of the application' : null;
    if (req.method !== 'GET' || title === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>RP</title><h1>${title}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: base, hits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface RelyingParty {
  readonly clientId: string;
  readonly config: oidc.Configuration;
}

interface PendingRequest {
  readonly url: URL;
  readonly verifier: string;
  readonly nonce: string;
  readonly state: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeBrowser('OpenID Connect journeys in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let rp: RpServer;
  let callback: string;
  let signedOut: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [s, browser, rp] = await Promise.all([startTestServer(), launch(), rpServer()]);
    callback = `${rp.url}/callback`;
    signedOut = `${rp.url}/signed-out`;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await rp?.close();
    await s?.close();
  });

  /** A fresh browser profile (its own cookies), and the list of its main-frame navigations. */
  async function newPage(): Promise<{ page: Page; trail: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    // A stuck navigation fails at its Playwright step, well inside the test's 30 s.
    page.setDefaultTimeout(10_000);
    const trail: string[] = [];
    page.on('response', (res) => {
      const req = res.request();
      if (!req.isNavigationRequest() || req.frame() !== page.mainFrame()) return;
      trail.push(`${res.status()} ${place(res.url())}`);
    });
    return { page, trail };
  }

  /** "tollgate/path" or "rp/path" (the query left out), to compare navigations exactly. */
  function place(href: string): string {
    const u = new URL(href);
    if (u.origin === new URL(s.issuer).origin) return `tollgate${u.pathname}`;
    if (u.origin === rp.url) return `rp${u.pathname}`;
    return u.href;
  }

  async function relyingParty(name: string, extra: Partial<AppInput> = {}): Promise<RelyingParty> {
    const app = await s.createApp({
      name,
      redirectUris: [callback],
      scopes: ['profile', 'email'],
      grantTypes: ['authorization_code', 'refresh_token'],
      ...extra,
    });
    const config = await oidc.discovery(new URL(s.issuer), app.client.clientId, app.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    return { clientId: app.client.clientId, config };
  }

  /** openid-client builds the request: code + PKCE (S256) + nonce + state. */
  async function authorizationRequest(party: RelyingParty, params: Record<string, string> = {}): Promise<PendingRequest> {
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(party.config, {
      redirect_uri: callback,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...params,
    });
    return { url, verifier, nonce, state };
  }

  /** The callback the browser is on: exactly code, state and iss (RFC 9207). */
  function expectCodeCallback(page: Page, pending: PendingRequest): URL {
    const at = new URL(page.url());
    expect(`${at.origin}${at.pathname}`).toBe(callback);
    expect([...at.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(at.searchParams.get('state')).toBe(pending.state);
    expect(at.searchParams.get('iss')).toBe(s.issuer);
    expect(at.searchParams.get('code')).toMatch(/\S{20,}/);
    // The loopback server saw the very same request.
    expect(rp.hits.at(-1)?.search).toBe(at.search);
    return at;
  }

  /** The callback is an error: exactly error, error_description, state and iss, and no code. */
  function expectErrorCallback(page: Page, pending: PendingRequest, error: string, description: string): void {
    const at = new URL(page.url());
    expect(`${at.origin}${at.pathname}`).toBe(callback);
    expect([...at.searchParams.keys()].sort()).toEqual(['error', 'error_description', 'iss', 'state']);
    expect(at.searchParams.get('error')).toBe(error);
    expect(at.searchParams.get('error_description')).toBe(description);
    expect(at.searchParams.get('state')).toBe(pending.state);
    expect(at.searchParams.get('iss')).toBe(s.issuer);
    expect(rp.hits.at(-1)?.search).toBe(at.search);
  }

  /** The RP redeems the code; openid-client checks iss, state, PKCE, the ID token's signature, aud, exp and nonce. */
  async function redeem(party: RelyingParty, page: Page, pending: PendingRequest) {
    const at = expectCodeCallback(page, pending);
    const tokens = await oidc.authorizationCodeGrant(party.config, at, {
      pkceCodeVerifier: pending.verifier,
      expectedNonce: pending.nonce,
      expectedState: pending.state,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).toBeDefined();
    expect(claims?.iss).toBe(s.issuer);
    expect(claims?.aud).toBe(party.clientId);
    expect(claims?.['nonce']).toBe(pending.nonce);
    expect(typeof claims?.auth_time).toBe('number');
    return { tokens, claims: claims as oidc.IDToken & { auth_time: number } };
  }

  /** Fills Tollgate's login form; returns the time (epoch ms) once signed in: the sign-in happened before it. */
  async function signInOnLoginPage(page: Page, shot: Shot, email: string, name: string): Promise<number> {
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    await shot(page, name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname !== '/login');
    return Date.now();
  }

  async function expectConsentPage(page: Page, appName: string, email: string): Promise<void> {
    await expect.poll(() => page.getByRole('heading', { name: `${appName} wants to access your account` }).isVisible()).toBe(true);
    expect(await page.getByText(`Signed in as ${email}.`).isVisible()).toBe(true);
    const boxes = page.locator('input[name="scope"]');
    const shown: Array<[string | null, boolean]> = [];
    for (let i = 0; i < (await boxes.count()); i++) shown.push([await boxes.nth(i).getAttribute('value'), await boxes.nth(i).isChecked()]);
    expect(shown).toEqual([
      ['openid', true],
      ['profile', true],
      ['email', true],
    ]);
  }

  /** First visit: login page, consent page, Allow, callback, redemption. */
  async function firstSignIn(page: Page, shot: Shot, party: RelyingParty, appName: string, email: string) {
    const pending = await authorizationRequest(party);
    await page.goto(pending.url.href);
    const signedInBy = await signInOnLoginPage(page, shot, email, 'login');
    await expectConsentPage(page, appName, email);
    await shot(page, 'consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(callback));
    await shot(page, 'callback');
    return { ...(await redeem(party, page, pending)), signedInBy };
  }

  /** A request answered straight back at the callback, with no page in between. */
  async function direct(page: Page, trail: string[], party: RelyingParty, params: Record<string, string> = {}): Promise<PendingRequest> {
    const pending = await authorizationRequest(party, params);
    trail.length = 0;
    const res = await page.goto(pending.url.href);
    expect(res?.status()).toBe(200);
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 rp/callback']);
    return pending;
  }

  /** A `prompt=none` request (never a page). */
  const silent = (page: Page, trail: string[], party: RelyingParty) => direct(page, trail, party, { prompt: 'none' });

  it('1: code + PKCE + nonce with scope "openid profile email": login page, consent page, the callback gets code and iss; openid-client validates the ID token (nonce, auth_time)', async () => {
    const { shot } = screenshots('oidc1');
    const user = await s.createUser('olivia@example.com');
    const party = await relyingParty('Journal RP', { description: 'Keeps your journal' });
    expect(party.config.serverMetadata().issuer).toBe(s.issuer);
    expect(party.config.serverMetadata().authorization_response_iss_parameter_supported).toBe(true);

    const { page, trail } = await newPage();
    const pending = await authorizationRequest(party);
    expect(pending.url.origin + pending.url.pathname).toBe(`${s.issuer}/oauth/authorize`);
    const before = Math.floor(Date.now() / 1000);
    await page.goto(pending.url.href);
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login']);
    await signInOnLoginPage(page, shot, 'olivia@example.com', 'login');
    await page.waitForURL((u) => u.pathname === '/oauth/authorize/resume');
    await expectConsentPage(page, 'Journal RP', 'olivia@example.com');
    expect(await page.getByText('Keeps your journal').isVisible()).toBe(true);
    expect(await page.getByText('You will be sent to').textContent()).toContain(new URL(rp.url).host);
    await shot(page, 'consent');
    const hitsBefore = rp.hits.length;
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(callback));
    await expect.poll(() => page.getByRole('heading', { name: 'Back at the application' }).isVisible()).toBe(true);
    await shot(page, 'callback');
    const after = Math.ceil(Date.now() / 1000);
    expect(trail).toEqual([
      '303 tollgate/oauth/authorize',
      '200 tollgate/login',
      '303 tollgate/login',
      '200 tollgate/oauth/authorize/resume',
      '303 tollgate/oauth/authorize',
      '200 rp/callback',
    ]);
    expect(rp.hits.length).toBe(hitsBefore + 1);

    const { tokens, claims } = await redeem(party, page, pending);
    expect(claims.sub).toBe(user.id);
    expect(claims['azp']).toBe(party.clientId);
    expect(claims['amr']).toEqual(['pwd']);
    expect(typeof claims['sid']).toBe('string');
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.auth_time).toBeLessThanOrEqual(after);
    expect(tokens.scope).toBe('openid profile email');
    expect(await oidc.fetchUserInfo(party.config, tokens.access_token, user.id)).toEqual({ sub: user.id, email: 'olivia@example.com', email_verified: false });

    // The code was spent: the same callback redeemed again is invalid_grant.
    await expect(
      oidc.authorizationCodeGrant(party.config, new URL(page.url()), { pkceCodeVerifier: pending.verifier, expectedNonce: pending.nonce, expectedState: pending.state }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('2: prompt=none with a live session answers a code with no page; after signing out it answers error=login_required at the redirect URI', async () => {
    const { shot } = screenshots('oidc2');
    const user = await s.createUser('paul@example.com');
    const party = await relyingParty('Silent RP');
    const { page, trail } = await newPage();
    const first = await firstSignIn(page, shot, party, 'Silent RP', 'paul@example.com');

    const pending = await silent(page, trail, party);
    await shot(page, 'silent-code');
    const again = await redeem(party, page, pending);
    expect(again.claims.sub).toBe(user.id);
    expect(again.claims.auth_time).toBe(first.claims.auth_time);
    expect(again.claims['sid']).toBe(first.claims['sid']);

    // Signing out on Tollgate's own page.
    await page.goto(`${s.issuer}/logout`);
    expect(await page.getByText('You are signed in as paul@example.com.').isVisible()).toBe(true);
    await shot(page, 'logout-page');
    trail.length = 0;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    expect(trail).toEqual(['303 tollgate/logout', '200 tollgate/login']);

    const after = await silent(page, trail, party);
    expectErrorCallback(page, after, 'login_required', 'The user is not signed in');
    await shot(page, 'login-required');
  });

  it('3: prompt=login with a session shows the login page again and yields a later auth_time; prompt="login consent" shows the consent page for an approved application', async () => {
    const { shot } = screenshots('oidc3');
    const user = await s.createUser('quinn@example.com');
    const party = await relyingParty('Strict RP');
    const { page, trail } = await newPage();
    const first = await firstSignIn(page, shot, party, 'Strict RP', 'quinn@example.com');
    // auth_time is in whole seconds: make sure the next sign-in is in a later second.
    const nextSecond = (first.claims.auth_time + 1) * 1000;
    if (Date.now() < nextSecond) await sleep(nextSecond - Date.now() + 20);

    const login = await authorizationRequest(party, { prompt: 'login' });
    trail.length = 0;
    await page.goto(login.url.href);
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login']);
    await signInOnLoginPage(page, shot, 'quinn@example.com', 'login-again');
    await page.waitForURL((u) => u.href.startsWith(callback));
    // The consent is remembered: from the sign-in straight back to the application.
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login', '303 tollgate/login', '303 tollgate/oauth/authorize/resume', '200 rp/callback']);
    await shot(page, 'callback-after-login');
    const second = await redeem(party, page, login);
    expect(second.claims.sub).toBe(user.id);
    expect(second.claims.auth_time).toBeGreaterThan(first.claims.auth_time);

    // Without a prompt now: silent, with the renewed sign-in's auth_time.
    const plain = await direct(page, trail, party);
    expect((await redeem(party, page, plain)).claims.auth_time).toBe(second.claims.auth_time);

    const both = await authorizationRequest(party, { prompt: 'login consent' });
    trail.length = 0;
    await page.goto(both.url.href);
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login']);
    await signInOnLoginPage(page, shot, 'quinn@example.com', 'login-for-consent');
    await page.waitForURL((u) => u.pathname === '/oauth/authorize/resume');
    await expectConsentPage(page, 'Strict RP', 'quinn@example.com');
    await shot(page, 'consent-again');
    const hitsBefore = rp.hits.length;
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(callback));
    expect(rp.hits.length).toBe(hitsBefore + 1);
    const third = await redeem(party, page, both);
    expect(third.claims.sub).toBe(user.id);
    expect(third.claims.auth_time).toBeGreaterThanOrEqual(second.claims.auth_time);
    expect(third.claims.auth_time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });

  it('4: max_age=1 more than a second after the sign-in shows the login page and yields a fresh auth_time; a large max_age passes silently with auth_time', async () => {
    const { shot } = screenshots('oidc4');
    const user = await s.createUser('rosa@example.com');
    const party = await relyingParty('Recent RP');
    const { page, trail } = await newPage();
    const first = await firstSignIn(page, shot, party, 'Recent RP', 'rosa@example.com');
    const wait = first.signedInBy + 1200 - Date.now();
    if (wait > 0) await sleep(wait);

    const recent = await authorizationRequest(party, { max_age: '1' });
    trail.length = 0;
    await page.goto(recent.url.href);
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login']);
    await signInOnLoginPage(page, shot, 'rosa@example.com', 'login-max-age');
    await page.waitForURL((u) => u.href.startsWith(callback));
    expect(trail).toEqual(['303 tollgate/oauth/authorize', '200 tollgate/login', '303 tollgate/login', '303 tollgate/oauth/authorize/resume', '200 rp/callback']);
    await shot(page, 'callback');
    const fresh = await redeem(party, page, recent);
    expect(fresh.claims.sub).toBe(user.id);
    expect(fresh.claims.auth_time).toBeGreaterThan(first.claims.auth_time);

    // A generous max_age: no page at all, and the ID token says when the person signed in.
    const generous = await direct(page, trail, party, { max_age: '3600' });
    const passed = await redeem(party, page, generous);
    expect(passed.claims.auth_time).toBe(fresh.claims.auth_time);
  });

  it('5: RP-initiated logout: a hint naming the person signs out at once to the registered URI with state; without a hint the person confirms (cancel keeps the session); an unregistered URI is a 400 page', async () => {
    const { shot } = screenshots('oidc5');
    await s.createUser('sam@example.com');
    const party = await relyingParty('Leaving RP', { postLogoutRedirectUris: [signedOut] });
    expect(party.config.serverMetadata().end_session_endpoint).toBe(`${s.issuer}/oauth/logout`);
    const { page, trail } = await newPage();
    const first = await firstSignIn(page, shot, party, 'Leaving RP', 'sam@example.com');
    const hint = first.tokens.id_token ?? '';
    expect(hint).not.toBe('');

    // An unregistered post_logout_redirect_uri, even with a valid hint: a 400 page, no redirect, and the session stays.
    const elsewhere = `${rp.url}/elsewhere`;
    const unregistered: Array<Record<string, string>> = [
      { id_token_hint: hint, post_logout_redirect_uri: elsewhere, state: 'x-1' },
      { client_id: party.clientId, post_logout_redirect_uri: elsewhere, state: 'x-2' },
    ];
    for (const params of unregistered) {
      const hitsBefore = rp.hits.length;
      trail.length = 0;
      const res = await page.goto(`${s.issuer}/oauth/logout?${new URLSearchParams(params)}`);
      expect(res?.status()).toBe(400);
      expect(trail).toEqual(['400 tollgate/oauth/logout']);
      expect(await page.getByRole('heading', { name: 'This sign-out request is not valid' }).isVisible()).toBe(true);
      expect(await page.getByRole('alert').textContent()).toBe('The post_logout_redirect_uri is not registered for this application.');
      await shot(page, 'unregistered-uri');
      expect(rp.hits.length).toBe(hitsBefore);
    }
    await redeem(party, page, await silent(page, trail, party));

    // With the hint (openid-client builds the URL): no page; the registered URI with the state; signed out.
    const end = oidc.buildEndSessionUrl(party.config, { id_token_hint: hint, post_logout_redirect_uri: signedOut, state: 'bye-1' });
    trail.length = 0;
    await page.goto(end.href);
    expect(trail).toEqual(['303 tollgate/oauth/logout', '200 rp/signed-out']);
    expect(page.url()).toBe(`${signedOut}?state=bye-1`);
    expect(rp.hits.at(-1)?.href).toBe(`${signedOut}?state=bye-1`);
    await expect.poll(() => page.getByRole('heading', { name: 'Signed out of the application' }).isVisible()).toBe(true);
    await shot(page, 'signed-out-with-hint');
    expectErrorCallback(page, await silent(page, trail, party), 'login_required', 'The user is not signed in');

    // Without a hint: the confirmation page. "Stay signed in" keeps the session.
    const confirmUrl = `${s.issuer}/oauth/logout?${new URLSearchParams({ client_id: party.clientId, post_logout_redirect_uri: signedOut, state: 'bye-2' })}`;
    const signInAgain = await authorizationRequest(party);
    await page.goto(signInAgain.url.href);
    await signInOnLoginPage(page, shot, 'sam@example.com', 'login-again');
    await page.waitForURL((u) => u.href.startsWith(callback));
    await redeem(party, page, signInAgain);

    const ask = await page.goto(confirmUrl);
    expect(ask?.status()).toBe(200);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign out' }).isVisible()).toBe(true);
    expect(await page.getByText('Leaving RP asks to sign you out of').isVisible()).toBe(true);
    expect(await page.getByText('You are signed in as sam@example.com.').isVisible()).toBe(true);
    await shot(page, 'confirm-page');
    await page.getByRole('link', { name: 'Stay signed in' }).click();
    await page.waitForURL((u) => u.pathname === '/developers');
    await expect.poll(() => page.getByRole('heading', { name: 'Your applications' }).isVisible()).toBe(true);
    await shot(page, 'stayed-signed-in');
    await redeem(party, page, await silent(page, trail, party));

    // Confirming signs out and follows the registered URI with the state (the page's CSP form-action allows it).
    await page.goto(confirmUrl);
    await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    trail.length = 0;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.href.startsWith(signedOut));
    expect(trail).toEqual(['303 tollgate/oauth/logout', '200 rp/signed-out']);
    expect(page.url()).toBe(`${signedOut}?state=bye-2`);
    await shot(page, 'signed-out-confirmed');
    expectErrorCallback(page, await silent(page, trail, party), 'login_required', 'The user is not signed in');
  });
});
