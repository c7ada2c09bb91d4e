/**
 * Issue #3 journeys in a real browser (Chromium via playwright-core). Each journey saves a
 * screenshot of every page it visits under test-results/.
 * SPEC: Z3 (login), Z4 (consent, deny), Z11 (untick a scope), A2 (secret shown once), A3 (grid
 * filters, deactivate/activate), A9 (outbox email), A10/U2 (portal), U3 (connected apps,
 * revoke), U4 (back-office, audit log), O7 (consent page cannot be framed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_PASSWORD, basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';
import { describeBrowser, launch, otherOrigin, screenshots, type OtherOrigin } from './support.js';
import { createOrg } from '../../src/services/directory.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** A header of an RFC 5322 message, unfolded, with RFC 2047 Q/B encoded words decoded. */
function mailHeader(eml: string, name: string): string | null {
  const head = eml.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return null;
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}

describeBrowser('issue #3 journeys in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let other: OtherOrigin;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [s, browser, other] = await Promise.all([startTestServer(), launch(), otherOrigin()]);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await other?.close();
    await s?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    contexts.push(context);
    return context.newPage();
  }

  async function signIn(page: Page, shot: (p: Page, n: string) => Promise<string>, email: string, password: string, path: string): Promise<void> {
    await page.goto(`${s.url}${path}`);
    expect(page.url()).toContain('/login?return_to=');
    await shot(page, 'login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  }

  async function apiStatus(token: string, path = '/api/me'): Promise<number> {
    return (await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
  }

  it('1: a developer creates an application in the portal, copies the secret once; a reload no longer shows it; the owner is emailed (A2, A9, U2)', async () => {
    const { shot } = screenshots('journey1');
    await s.createUser('dev@example.com');
    const page = await newPage();
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
    await signIn(page, shot, 'dev@example.com', DEFAULT_PASSWORD, '/developers');
    await expect.poll(() => page.getByRole('heading', { name: 'Your applications' }).isVisible()).toBe(true);
    await shot(page, 'portal-empty');

    await page.getByRole('link', { name: 'Create a new application' }).click();
    await page.getByLabel(/^Name/).fill('Photo Printer');
    await page.getByLabel(/^Description/).fill('Prints your photos');
    await page.getByLabel(/^Website/).fill('https://printer.example/');
    await page.getByLabel(/^Redirect URIs/).fill('https://printer.example/callback');
    await page.getByLabel(/See your email address/).check();
    await shot(page, 'create-form');
    await page.getByRole('button', { name: 'Create application' }).click();

    await page.waitForURL(/\/credentials$/);
    const secret = (await page.locator('#client-secret').textContent())?.trim() ?? '';
    const clientId = (await page.locator('#client-id').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^tgs_[A-Za-z0-9_-]{43}$/);
    expect(clientId).toMatch(/^tgc_/);
    await expect.poll(() => page.getByText('It is shown only this once').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Copy client secret' }).click();
    await expect.poll(() => page.locator('#copy-status').textContent()).toContain('copied');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await shot(page, 'credentials-shown-once');

    // The copied secret works (confidential client authentication at the introspection endpoint).
    const intro = await postForm(`${s.url}/oauth/introspect`, { token: 'tga_nothing' }, { authorization: basic(clientId, secret) });
    expect(intro.status).toBe(200);

    await page.reload();
    expect(await page.locator('#client-secret').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    await expect.poll(() => page.getByText('no longer shown').isVisible()).toBe(true);
    await shot(page, 'credentials-after-reload');

    await page.goto(`${s.url}/developers`);
    await expect.poll(() => page.getByRole('link', { name: 'Photo Printer' }).isVisible()).toBe(true);
    await shot(page, 'portal-list');
    await page.getByRole('link', { name: 'Photo Printer' }).click();
    await shot(page, 'app-details');

    // A9: one message in the outbox, to the owner, without the secret.
    const outbox = join(s.ctx.config.dataDir, 'outbox');
    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const eml = readFileSync(join(outbox, files[0] ?? ''), 'utf8');
    expect(eml).toMatch(/^To: dev@example\.com$/m);
    expect(mailHeader(eml, 'Subject')).toBe('Your application "Photo Printer" was created');
    expect(eml).toContain(clientId);
    expect(eml).not.toContain(secret);
    expect(eml).not.toContain('tgs_');
  });

  it('2: code + PKCE with oauth4webapi; the user unticks an optional scope; the token carries only what was granted; Revoke under Connected applications stops it (Z3, Z4, Z11, U3)', async () => {
    const { shot } = screenshots('journey2');
    await s.createUser('carol@example.com');
    const redirectUri = `${other.url}/callback`;
    const created = await s.createApp({
      name: 'Photo Album',
      description: 'Keeps your albums in sync',
      website: 'https://album.example/',
      redirectUris: [redirectUri],
      scopes: ['profile', 'email'],
    });
    const issuer = new URL(s.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    const client: oauth.Client = { client_id: created.client.clientId };
    const auth = oauth.ClientSecretBasic(created.clientSecret ?? '');
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint ?? '');
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', 'profile email');
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');

    const page = await newPage();
    await page.goto(url.href);
    expect(new URL(page.url()).pathname).toBe('/login');
    await shot(page, 'login');
    await page.getByLabel('Email').fill('carol@example.com');
    await page.getByLabel('Password').fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // After the sign-in, the waiting request continues (src/http/interactions.ts).
    await page.waitForURL((u) => u.pathname === '/oauth/authorize/resume');
    await expect.poll(() => page.getByRole('heading', { name: 'Photo Album wants to access your account' }).isVisible()).toBe(true);
    expect(await page.getByText('Keeps your albums in sync').isVisible()).toBe(true);
    const email = page.getByLabel(/See your email address/);
    expect(await email.isChecked()).toBe(true);
    await shot(page, 'consent');
    await email.uncheck();
    await shot(page, 'consent-unticked');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    await shot(page, 'callback');

    const params = oauth.validateAuthResponse(as, client, new URL(page.url()), state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, insecure),
    );
    expect(tokens.scope).toBe('profile');
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'carol@example.com', scope: 'profile' });

    // The browser signed in on the issuer's host (the metadata's authorization_endpoint).
    await page.goto(`${s.issuer}/account/apps`);
    const card = page.locator('section', { hasText: 'Photo Album' });
    await expect.poll(() => card.isVisible()).toBe(true);
    expect(await card.textContent()).toContain('See your basic profile');
    expect(await card.textContent()).not.toContain('See your email address');
    await shot(page, 'connected-apps');
    await card.getByRole('button', { name: /Revoke access/ }).click();
    // Issue #15 §14: asked first.
    await expect.poll(() => page.getByRole('heading', { name: 'Revoke access for Photo Album?' }).isVisible()).toBe(true);
    await shot(page, 'revoke-confirm');
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.waitForURL(/done=revoked/);
    await expect.poll(() => page.getByText('Access revoked').isVisible()).toBe(true);
    expect(await page.locator('section', { hasText: 'Photo Album' }).count()).toBe(0);
    await shot(page, 'after-revoke');

    expect(await apiStatus(tokens.access_token)).toBe(401);
    const refresh = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' },
      { authorization: basic(created.client.clientId, created.clientSecret ?? '') },
    );
    expect(refresh.json['error']).toBe('invalid_grant');
  });

  it('3: Deny returns error=access_denied with the state (Z4)', async () => {
    const { shot } = screenshots('journey3');
    await s.createUser('dan@example.com');
    const redirectUri = `${other.url}/callback`;
    const created = await s.createApp({ name: 'Nosy App', redirectUris: [redirectUri], scopes: ['profile'] });
    const page = await newPage();
    const authz = `/oauth/authorize?response_type=code&client_id=${created.client.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=profile&state=xyz-123&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
    await signIn(page, shot, 'dan@example.com', DEFAULT_PASSWORD, authz);
    await expect.poll(() => page.getByRole('heading', { name: 'Nosy App wants to access your account' }).isVisible()).toBe(true);
    await shot(page, 'consent');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    await shot(page, 'callback');
    const back = new URL(page.url()).searchParams;
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('state')).toBe('xyz-123');
    expect(back.get('code')).toBeNull();
  });

  it('4: an admin filters the grid by organization and status, deactivates an application (its token is refused at once), reactivates it, and finds both in the audit log (A3, U4)', async () => {
    const { shot } = screenshots('journey4');
    const acme = await createOrg(s.ctx, 'Acme');
    const globex = await createOrg(s.ctx, 'Globex');
    const target = await s.createApp({ name: 'Acme Reports', orgId: acme.id, grantTypes: ['client_credentials'], scopes: ['profile'] });
    await s.createApp({ name: 'Acme Legacy', orgId: acme.id, grantTypes: ['client_credentials'], active: false });
    await s.createApp({ name: 'Globex Sync', orgId: globex.id, grantTypes: ['client_credentials'] });
    const issued = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(target.client.clientId, target.clientSecret ?? '') });
    const token = String(issued.json['access_token']);
    expect(await apiStatus(token, '/api/')).toBe(200);

    const page = await newPage();
    await signIn(page, shot, s.ctx.config.adminEmail, s.adminPassword, '/admin');
    await expect.poll(() => page.getByRole('heading', { name: 'Dashboard' }).isVisible()).toBe(true);
    await shot(page, 'dashboard');
    await page.getByRole('navigation', { name: 'Back-office' }).getByRole('link', { name: 'Applications' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Applications' }).isVisible()).toBe(true);
    await shot(page, 'grid');

    await page.getByLabel('Organization').selectOption({ label: 'Acme' });
    await page.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=active/);
    const rows = page.locator('tbody tr[data-client-id]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Acme Reports');
    await shot(page, 'grid-filtered');

    const row = page.locator(`tr[data-client-id="${target.client.clientId}"]`);
    await row.getByText('More').click();
    await shot(page, 'more-menu');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    // Issue #15 §14: asked first; back to the same filtered grid afterwards.
    await expect.poll(() => page.getByRole('heading', { name: /^Deactivate / }).isVisible()).toBe(true);
    await shot(page, 'deactivate-confirm');
    await page.getByRole('button', { name: 'Deactivate' }).click();
    await page.waitForURL(/done=deactivated/);
    expect(page.url()).toContain('status=active');
    await expect.poll(() => page.getByText('The application was deactivated').isVisible()).toBe(true);
    await shot(page, 'after-deactivate');
    expect(await apiStatus(token, '/api/')).toBe(401);

    await page.getByLabel('Status').selectOption('inactive');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=inactive/);
    await expect.poll(() => rows.count()).toBe(2);
    await shot(page, 'grid-inactive');
    await row.getByText('More').click();
    await row.getByRole('button', { name: 'Activate' }).click();
    await page.waitForURL(/done=activated/);
    await shot(page, 'after-activate');
    expect(await apiStatus(token, '/api/')).toBe(200);

    await page.goto(`${s.url}/admin/audit`);
    await page.getByLabel('Application (client ID)').fill(target.client.clientId);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/client_id=/);
    const audit = (await page.locator('tbody').textContent()) ?? '';
    expect(audit).toContain('app.deactivated');
    expect(audit).toContain('app.activated');
    expect(audit).toContain(s.ctx.config.adminEmail);
    await shot(page, 'audit-log');

    for (const path of ['/admin/users', '/admin/orgs', `/admin/apps/${target.client.clientId}`]) {
      await page.goto(`${s.url}${path}`);
      await shot(page, path.split('/')[2] ?? 'page');
    }
  });

  it('5: a non-admin gets 403 on every admin page and every admin API call (U4, A10)', async () => {
    const { shot } = screenshots('journey5');
    await s.createUser('mallory@example.com');
    const victim = await s.createApp({ name: 'Someone Else’s App', grantTypes: ['client_credentials'] });
    const page = await newPage();
    await signIn(page, shot, 'mallory@example.com', DEFAULT_PASSWORD, '/developers');
    const pages = ['/admin', '/admin/apps', `/admin/apps/${victim.client.clientId}`, `/admin/apps/${victim.client.clientId}/delete`, '/admin/users', '/admin/orgs', '/admin/audit'];
    for (const path of pages) {
      const res = await page.goto(`${s.url}${path}`);
      expect(res?.status(), path).toBe(403);
      expect(await page.getByRole('heading', { name: 'Administrators only' }).isVisible()).toBe(true);
      await shot(page, path.split('/').filter(Boolean).join('-').replace(/tgc_[\w-]+/, 'app'));
    }
    // The admin nav link is not offered.
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);

    // Admin page POSTs, with a valid session and CSRF token, are refused too (and change nothing).
    const cookies = await page.context().cookies(s.url);
    const cookieHeader = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = cookies.find((c) => c.name === 'tg_csrf')?.value ?? '';
    for (const [path, extra] of [
      [`/admin/apps/${victim.client.clientId}/active`, { active: '0' }],
      [`/admin/apps/${victim.client.clientId}/delete`, { confirm: 'yes' }],
      ['/admin/users', { email: 'evil@example.com', password: 'long-enough-pw', admin: '1' }],
      ['/admin/orgs', { name: 'Evil' }],
    ] as const) {
      const res = await fetch(`${s.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, ...extra }).toString(),
      });
      expect(res.status, path).toBe(403);
    }
    expect((await s.ctx.storage.clients.byId(victim.client.clientId))?.active).toBe(true);
    expect(await s.ctx.storage.users.byEmail('evil@example.com')).toBeNull();

    // Admin API: a token with the admin scope acting for a non-admin gets 403 on every call.
    const pw = await s.createApp({ name: 'Mallory CLI', grantTypes: ['password'], scopes: ['admin', 'profile'] });
    const t = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'password', username: 'mallory@example.com', password: DEFAULT_PASSWORD, scope: 'admin' },
      { authorization: basic(pw.client.clientId, pw.clientSecret ?? '') },
    );
    const token = String(t.json['access_token']);
    expect(token).toMatch(/^tga_/);
    const calls: Array<[string, string, Record<string, unknown> | null]> = [
      ['GET', '/admin/api/apps', null],
      ['POST', '/admin/api/apps', { name: 'x' }],
      ['GET', `/admin/api/apps/${victim.client.clientId}`, null],
      ['PATCH', `/admin/api/apps/${victim.client.clientId}`, { name: 'y' }],
      ['DELETE', `/admin/api/apps/${victim.client.clientId}`, null],
      ['POST', `/admin/api/apps/${victim.client.clientId}/deactivate`, null],
      ['POST', `/admin/api/apps/${victim.client.clientId}/rotate-secret`, null],
      ['GET', '/admin/api/users', null],
      ['POST', '/admin/api/users', { email: 'e@example.com', password: 'long-enough-pw' }],
      ['GET', '/admin/api/orgs', null],
      ['POST', '/admin/api/orgs', { name: 'Evil' }],
      ['GET', '/admin/api/scopes', null],
      ['GET', '/admin/api/resource-servers', null],
      ['GET', '/admin/api/keys', null],
      ['POST', '/admin/api/keys/rotate', null],
      ['GET', '/admin/api/audit', null],
      ['POST', '/admin/api/tokens/revoke', { client_id: victim.client.clientId }],
    ];
    for (const [method, path, body] of calls) {
      const res = await fetch(`${s.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await s.ctx.storage.clients.byId(victim.client.clientId))?.active).toBe(true);
  });

  it('6: the consent page refuses to render inside a frame of another origin (O7)', async () => {
    const { shot } = screenshots('journey6');
    await s.createUser('erin@example.com');
    const created = await s.createApp({ name: 'Framed App', redirectUris: [`${other.url}/callback`], scopes: ['profile'] });
    const authz = `/oauth/authorize?response_type=code&client_id=${created.client.clientId}&redirect_uri=${encodeURIComponent(`${other.url}/callback`)}&scope=profile&state=s&code_challenge=${'b'.repeat(43)}&code_challenge_method=S256`;
    const page = await newPage();
    await signIn(page, shot, 'erin@example.com', DEFAULT_PASSWORD, authz);
    // At the top level the consent page renders…
    await expect.poll(() => page.getByRole('heading', { name: 'Framed App wants to access your account' }).isVisible()).toBe(true);
    await shot(page, 'consent-top-level');
    // …but not inside another origin's frame (CSP frame-ancestors 'none' + X-Frame-Options: DENY).
    other.frame(`${s.url}${authz}`);
    const framed = page.waitForResponse((r) => r.url().startsWith(`${s.url}/oauth/authorize`));
    await page.goto(`${other.url}/frame`);
    const res = await framed;
    expect(res.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers()['x-frame-options']).toBe('DENY');
    await page.waitForLoadState('load');
    await page.waitForTimeout(300);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame).toBeDefined();
    const content = frame ? await frame.content().catch(() => '') : '';
    expect(content).not.toContain('wants to access your account');
    expect(content).not.toContain('name="decision"');
    await shot(page, 'framing-blocked');
  });
});
