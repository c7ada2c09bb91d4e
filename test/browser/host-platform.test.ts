/**
 * H2 in a real browser: the example platform (examples/host-platform) with Tollgate mounted under
 * /oauth. A person signs in on the platform's own page, consents on Tollgate's page, the
 * third-party application gets tokens, `GET /oauth/api/` answers with the platform's user; after
 * signing out of the platform, Tollgate sends them to the platform's sign-in again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHostPlatform, type HostPlatform } from '../../examples/host-platform/app.js';
import { createApp } from '../../src/services/apps.js';
import { freePort } from '../helpers/server.js';
import { describeBrowser, launch, otherOrigin, screenshots, type OtherOrigin } from './support.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describeBrowser('H2 journey in Chromium: sign in on the host platform, consent on Tollgate', () => {
  let dir: string;
  let platform: HostPlatform;
  let origin: string;
  let browser: Browser;
  let other: OtherOrigin;
  let annId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-host-browser-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    platform = await buildHostPlatform({ origin, dataDir: dir, tollgateSettings: { TOLLGATE_LOG_LEVEL: 'silent' } });
    annId = await platform.addUser({ email: 'ann@acme.example', name: 'Ann Example', password: 'ann-password-1' });
    await platform.app.listen({ port, host: '127.0.0.1' });
    [browser, other] = await Promise.all([launch(), otherOrigin()]);
  });
  afterAll(async () => {
    await browser?.close();
    await other?.close();
    await platform?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the platform\'s sign-in, Tollgate\'s consent, tokens for the platform user; signing out of the platform ends it', async () => {
    const { shot } = screenshots('host-platform');
    const redirectUri = `${other.url}/callback`;
    const app = await createApp(platform.tollgate.context, { name: 'Notes Sync', description: 'Syncs your notes', redirectUris: [redirectUri], scopes: ['profile', 'email'] });
    const issuer = new URL(platform.tollgate.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const client: oauth.Client = { client_id: app.client.clientId };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint ?? '');
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope: 'profile email',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);

    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    const page = await context.newPage();
    await page.goto(url.href);
    // The platform's own sign-in page, not Tollgate's.
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.getByRole('heading', { name: 'Sign in to Acme Notes' }).isVisible()).toBe(true);
    await shot(page, 'platform-sign-in');
    await page.getByLabel('Email').fill('ann@acme.example');
    await page.getByLabel('Password').fill('ann-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL((u) => u.pathname === '/oauth/oauth/authorize/resume');
    await expect.poll(() => page.getByRole('heading', { name: 'Notes Sync wants to access your account' }).isVisible()).toBe(true);
    expect(await page.getByText('Signed in as ann@acme.example').isVisible()).toBe(true);
    await shot(page, 'consent');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));

    const params = oauth.validateAuthResponse(as, client, new URL(page.url()), state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(app.clientSecret ?? ''), params, redirectUri, verifier, insecure),
    );
    const api = await fetch(`${issuer.href}/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await api.json()).toMatchObject({ user_id: annId, user_email: 'ann@acme.example', client_id: client.client_id });

    // Connected applications, under the platform's session and Tollgate's prefix.
    await page.goto(`${origin}/oauth/account/apps`);
    expect(await page.getByRole('heading', { name: 'Notes Sync' }).isVisible()).toBe(true);
    await shot(page, 'connected-apps');

    // Sign out of the platform (its own button): Tollgate no longer sees Ann as signed in.
    await page.goto(`${origin}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${origin}/`);
    await page.goto(url.href);
    expect(new URL(page.url()).pathname).toBe('/login');
    await shot(page, 'after-sign-out');
    await context.close();
  });
});
