/**
 * The device verification page (RFC 8628 §3.3; issue #14) in a real browser (Chromium via
 * playwright-core), with openid-client as the device: the person types the code shown on the
 * device, signs in, sees the code and the warning, allows, and is told to return to their device
 * while the device's poll gets the tokens. Then the `verification_uri_complete` journey, where the
 * code is only shown, never submitted for the person, and a denial. Screenshots under
 * test-results/. See docs/device-flow.md.
 */
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { describeBrowser, launch, screenshots } from './support.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describeBrowser('Device authorization: the verification page in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let config: oidc.Configuration;
  let userId: string;

  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_DEVICE_POLL_INTERVAL: '1' } });
    userId = (await s.createUser('viewer@example.com')).id;
    const tv = await s.createApp({ name: 'Living-room TV', description: 'Streams your library.', public: true, scopes: ['profile', 'email'], grantTypes: [GRANT] });
    config = await oidc.discovery(new URL(s.issuer), tv.client.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function signIn(page: Page): Promise<void> {
    // By field id: the form is in the browser's language.
    await page.locator('#username').fill('viewer@example.com');
    await page.locator('#password').fill(DEFAULT_PASSWORD);
    await page.locator('form button[type=submit]').click();
  }

  it('typing the code: sign in, compare the code, read the warning, allow; the device gets its tokens', async () => {
    const { shot } = screenshots('device-typed');
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'profile email' });
    const polling = oidc.pollDeviceAuthorizationGrant(config, started);
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(started.verification_uri);
      await expect(page.getByRole('heading', { name: 'Connect a device' }).isVisible()).resolves.toBe(true);
      await shot(page, 'enter-code');
      // A typo first: said plainly, and the field keeps what was typed.
      await page.getByLabel('Code').fill('WDJB-MJH');
      await page.getByRole('button', { name: 'Continue' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('That is not a device code');
      expect(await page.getByLabel('Code').inputValue()).toBe('WDJB-MJH');
      await shot(page, 'typo');
      // Lower case, no dash: accepted.
      await page.getByLabel('Code').fill(started.user_code.replace('-', '').toLowerCase());
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(/\/login\?return_to=/);
      await shot(page, 'sign-in');
      await signIn(page);
      await page.waitForURL(`${s.issuer}/device?user_code=${started.user_code}`);
      await expect(page.locator('strong.user-code').textContent()).resolves.toBe(started.user_code);
      const warning = await page.getByRole('alert').textContent();
      expect(warning).toContain('Only continue if you started this yourself, on your own device.');
      await expect(page.getByRole('heading', { name: 'Living-room TV wants to access your account' }).isVisible()).resolves.toBe(true);
      await shot(page, 'confirm');
      await page.locator('input[name=scope][value=email]').uncheck();
      await page.getByRole('button', { name: 'Allow' }).click();
      await expect(page.getByRole('heading', { name: 'You may return to your device' }).isVisible()).resolves.toBe(true);
      await shot(page, 'done');
      const tokens = await polling;
      expect(tokens.scope).toBe('profile');
      const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(((await me.json()) as Record<string, unknown>)['sub']).toBe(userId);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('verification_uri_complete: the code is shown, nothing is submitted until the person answers; Deny tells the device', async () => {
    const { shot } = screenshots('device-complete');
    const started = await oidc.initiateDeviceAuthorization(config, { scope: 'profile' });
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
    });
    try {
      await page.goto(started.verification_uri_complete ?? '');
      await signIn(page);
      await page.waitForURL(`${s.issuer}/device?user_code=${started.user_code}`);
      await expect(page.locator('strong.user-code').textContent()).resolves.toBe(started.user_code);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Fahren Sie nur fort, wenn Sie dies selbst');
      await page.waitForTimeout(300);
      // Only the sign-in form was posted: the code page waits for the person.
      expect(posts).toEqual(['/login']);
      await shot(page, 'confirm-de');
      await page.getByRole('button', { name: 'Ablehnen' }).click();
      await expect(page.getByRole('heading', { name: 'Das Gerät wurde nicht verbunden' }).isVisible()).resolves.toBe(true);
      await shot(page, 'denied-de');
      await expect(oidc.pollDeviceAuthorizationGrant(config, started)).rejects.toMatchObject({ error: 'access_denied' });
    } finally {
      await context.close();
    }
  }, 60_000);
});
