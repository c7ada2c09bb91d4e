/**
 * Issue #15, the red-team pass: each class that did not hold, with the variants of it.
 * §1 same-site return targets, §3 bounded registration, §5 proxy trust, §6 who may introspect what.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { purgeExpired } from '../../src/services/purge.js';
import { createResourceServer, setIntrospectors } from '../../src/services/directory.js';
import { bootstrap } from '../../src/services/bootstrap.js';
import { rotateSecret } from '../../src/services/apps.js';
import { Browser, DEFAULT_PASSWORD, basic, describeEachDb, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const RS = 'https://orders.example/api';

describeEachDb('issue #15 hardening', (start) => {
  let s: TestServer;

  beforeAll(async () => {
    s = await start();
    await s.createUser('victim@example.com');
  });
  afterAll(async () => s?.close());

  async function ccToken(clientId: string, secret: string, extra: Record<string, string> = {}): Promise<string> {
    const res = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', ...extra }, { authorization: basic(clientId, secret) });
    expect(res.status).toBe(200);
    return String(res.json['access_token']);
  }

  async function introspect(clientId: string, secret: string, token: string): Promise<Record<string, unknown>> {
    const res = await postForm(`${s.url}/oauth/introspect`, { token }, { authorization: basic(clientId, secret) });
    expect(res.status).toBe(200);
    return res.json;
  }

  // ------------------------------------------------------------------ §6 introspection
  it('§6: a client learns about its own tokens; any other client, even a registered one, gets {"active": false}', async () => {
    const owner = await s.createApp({ name: 'Owner', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const token = await ccToken(owner.client.clientId, owner.clientSecret ?? '');
    expect(await introspect(owner.client.clientId, owner.clientSecret ?? '', token)).toMatchObject({ active: true, client_id: owner.client.clientId });
    // An anonymous self-registration (the default open mode) is a confidential client too.
    const reg = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Curious', redirect_uris: ['https://curious.example/cb'] }),
    });
    const curious = (await reg.json()) as { client_id: string; client_secret: string };
    expect(await introspect(curious.client_id, curious.client_secret, token)).toEqual({ active: false });
    const other = await s.createApp({ name: 'Other', grantTypes: ['client_credentials'] });
    expect(await introspect(other.client.clientId, other.clientSecret ?? '', token)).toEqual({ active: false });
  });

  it('§6: for a resource server\'s tokens, its named introspectors may ask (and see the user); nobody else', async () => {
    await createResourceServer(s.ctx, { identifier: RS, name: 'Orders', scopes: [{ name: 'orders:read', description: 'Read orders' }] });
    const api = await s.createApp({ name: 'Orders API', grantTypes: ['client_credentials'] });
    const client = await s.createApp({ name: 'Orders client', grantTypes: ['password'], scopes: ['orders:read'] });
    const pw = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'password', username: 'victim@example.com', password: DEFAULT_PASSWORD, scope: 'orders:read', resource: RS },
      { authorization: basic(client.client.clientId, client.clientSecret ?? '') },
    );
    const token = String(pw.json['access_token']);
    // Not named yet: only the token's own application.
    expect(await introspect(api.client.clientId, api.clientSecret ?? '', token)).toEqual({ active: false });
    await setIntrospectors(s.ctx, RS, [api.client.clientId]);
    expect(await introspect(api.client.clientId, api.clientSecret ?? '', token)).toMatchObject({ active: true, aud: RS, username: 'victim@example.com' });
    const snoop = await s.createApp({ name: 'Snoop', grantTypes: ['client_credentials'] });
    expect(await introspect(snoop.client.clientId, snoop.clientSecret ?? '', token)).toEqual({ active: false });
    // Tollgate's own audience has no introspectors but the token's own application.
    const own = await ccToken(client.client.clientId, client.clientSecret ?? '').catch(() => null);
    expect(own).toBeNull();
    // A public application cannot be named.
    const pub = await s.createApp({ name: 'SPA', public: true, redirectUris: ['https://spa.example/cb'] });
    await expect(setIntrospectors(s.ctx, RS, [pub.client.clientId])).rejects.toThrow(`${pub.client.clientId} is a public application: it cannot introspect`);
  });

  it('§6: a resource server registered before the rule keeps answering any confidential client, with a warning at start', async () => {
    await createResourceServer(s.ctx, { identifier: 'https://legacy.example/api', name: 'Legacy', scopes: [{ name: 'legacy:read', description: 'Legacy' }] });
    await s.ctx.storage.resourceServers.setIntrospectors('https://legacy.example/api', null);
    const app = await s.createApp({ name: 'Legacy client', grantTypes: ['client_credentials'], scopes: ['legacy:read'] });
    const token = await ccToken(app.client.clientId, app.clientSecret ?? '', { resource: 'https://legacy.example/api' });
    const any = await s.createApp({ name: 'Any', grantTypes: ['client_credentials'] });
    expect(await introspect(any.client.clientId, any.clientSecret ?? '', token)).toMatchObject({ active: true });
    const boot = await bootstrap(s.ctx);
    expect(boot.warnings).toContain(
      'resource server https://legacy.example/api lets any confidential application introspect its tokens (registered before introspectors existed); name its own with: tollgate resource-servers update https://legacy.example/api --introspector <client_id>',
    );
  });

  // ------------------------------------------------------------------ §1 return targets
  it.each([
    ['a TAB browsers drop', '/\t/evil.example'],
    ['a newline', '/\n/evil.example'],
    ['a carriage return', '/\r/evil.example'],
    ['a form feed', '/\f/evil.example'],
    ['a NUL', '/\u0000/evil.example'],
    ['a non-ASCII space', '/\u3000/evil.example'],
    ['non-ASCII letters', '/développeurs'],
    ['a backslash', '/\\evil.example'],
    ['a scheme-relative path', '//evil.example/x'],
    ['dot segments that normalise to //', '/admin/..//evil.example/x'],
    ['an absolute URL', 'https://evil.example/'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['userinfo through @', '/@evil.example'],
  ])('§1: return_to with %s never leaves the site, and never answers 5xx', async (_what, target) => {
    const b = new Browser(s.url);
    const page = await b.fetch(`/login?return_to=${encodeURIComponent(target)}`);
    expect(page.status).toBe(200);
    const res = await b.login('victim@example.com', DEFAULT_PASSWORD, target);
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(new URL(location, s.url).origin).toBe(new URL(s.url).origin);
    expect(location.startsWith('//')).toBe(false);
    expect(location).toMatch(/^\/[^\\/]?/);
  });

  it('§1: a same-site return target survives, normalised', async () => {
    const b = new Browser(s.url);
    const res = await b.login('victim@example.com', DEFAULT_PASSWORD, '/account/../developers?x=1');
    expect(res.headers.get('location')).toBe('/developers?x=1');
  });

  it('§1: the back-office `back` field is checked after normalisation', async () => {
    const admin = new Browser(s.url);
    expect((await admin.login('admin@localhost', s.adminPassword, '/admin/apps')).status).toBe(303);
    const app = await s.createApp({ name: 'Back target', grantTypes: ['client_credentials'] });
    const page = await (await admin.fetch('/admin/apps')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    for (const back of ['/admin/..//evil.example/x', '//evil.example/admin/x', '/admin/\t/evil', '/developers']) {
      const res = await admin.postForm(`/admin/apps/${app.client.clientId}/active`, [['csrf', csrf], ['active', 'false'], ['back', back], ['confirm', 'yes']]);
      expect(res.status, back).toBe(303);
      expect(res.headers.get('location'), back).toBe('/admin/apps?done=deactivated');
    }
  });
});

describe('issue #15 §3: registration is bounded', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_REGISTRATION_RATE_LIMIT: '3', TOLLGATE_COMPAT: 'gancio', TOLLGATE_TRUST_PROXY: '127.0.0.1' } });
  });
  afterAll(async () => s?.close());

  const register = (path: string, ip: string, body: Record<string, unknown> = { client_name: 'Bulk', redirect_uris: ['https://bulk.example/cb'] }) =>
    fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify(body) });

  it('per address, across every registration path (RFC 7591 and Gancio\'s), with Retry-After', async () => {
    expect((await register('/oauth/register', '203.0.113.1')).status).toBe(201);
    expect((await register('/api/client', '203.0.113.1')).status).toBe(200);
    expect((await register('/oauth/register', '203.0.113.1')).status).toBe(201);
    const fourth = await register('/api/client', '203.0.113.1');
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get('retry-after')).toBe('3600');
    expect(await fourth.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many registrations from this address; at most 3 an hour' });
    // Another address is not affected.
    expect((await register('/oauth/register', '203.0.113.2')).status).toBe(201);
  });

  it('a registration stays small: at most 10 redirect URIs of 1000 characters', async () => {
    const many = await register('/oauth/register', '203.0.113.3', { client_name: 'Many', redirect_uris: Array.from({ length: 11 }, (_, i) => `https://m.example/cb${i}`) });
    expect(many.status).toBe(400);
    expect(await many.json()).toEqual({ error: 'invalid_client_metadata', error_description: 'At most 10 redirect_uris' });
    const long = await register('/oauth/register', '203.0.113.4', { client_name: 'Long', redirect_uris: [`https://l.example/${'x'.repeat(1000)}`] });
    expect(long.status).toBe(400);
    expect(await long.json()).toEqual({ error: 'invalid_redirect_uri', error_description: 'A redirect URI is too long (1000 characters max)' });
  });

  it('never-used registrations expire; used ones, and those an administrator created, stay; the audit log has a retention', async () => {
    const body = { client_name: 'Idle', redirect_uris: ['https://idle.example/cb'], grant_types: ['authorization_code'] };
    const idle = (await (await register('/oauth/register', '203.0.113.5', body)).json()) as { client_id: string };
    const used = (await (await register('/oauth/register', '203.0.113.6', { ...body, grant_types: ['authorization_code', 'refresh_token'] })).json()) as {
      client_id: string;
      client_secret: string;
    };
    // "Used": the application obtained a token (here through the refresh of a grant it holds).
    await s.ctx.storage.clients.markUsed(used.client_id, s.ctx.now());
    const made = await s.createApp({ name: 'Admin-made', redirectUris: ['https://admin.example/cb'] });
    await s.ctx.storage.audit.append({ at: s.ctx.now() - 401 * 86_400_000, type: 'login.failed', actorUserId: null, clientId: null, ip: null, details: {} });
    const later = { ...s.ctx, now: () => Date.now() + 8 * 86_400_000 };
    const r = await purgeExpired(later);
    expect(r.unusedClients).toBeGreaterThanOrEqual(1);
    expect(r.auditEvents).toBeGreaterThanOrEqual(1);
    expect(await s.ctx.storage.clients.byId(idle.client_id)).toBeNull();
    expect(await s.ctx.storage.clients.byId(used.client_id)).not.toBeNull();
    expect(await s.ctx.storage.clients.byId(made.client.clientId)).not.toBeNull();
    expect((await s.ctx.storage.audit.list({ type: 'login.failed' })).some((e) => e.at < Date.now() - 400 * 86_400_000)).toBe(false);
  });

  it('the first token marks an application used', async () => {
    const app = await s.createApp({ name: 'Fresh', grantTypes: ['client_credentials'] });
    expect((await s.ctx.storage.clients.byId(app.client.clientId))?.usedAt).toBeNull();
    await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect((await s.ctx.storage.clients.byId(app.client.clientId))?.usedAt).toEqual(expect.any(Number));
  });
});

describe('issue #15 §5: TOLLGATE_TRUST_PROXY trusts only the proxies it names', () => {
  it('"true" is refused with a clear reason; hop counts and addresses are accepted', () => {
    expect(() => loadConfig({ TOLLGATE_TRUST_PROXY: 'true' })).toThrow('TOLLGATE_TRUST_PROXY: "true" would trust every hop');
    expect(() => loadConfig({ TOLLGATE_TRUST_PROXY: '10.0.0.0/33' })).toThrow('TOLLGATE_TRUST_PROXY: "10.0.0.0/33" is neither a hop count nor an IP address or CIDR');
    expect(loadConfig({ TOLLGATE_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TOLLGATE_TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual(['10.0.0.0/8', '::1']);
  });

  it.each([
    ['one proxy in front (a hop count)', '1', '198.51.100.7'],
    ['the proxy by address', '127.0.0.1', '198.51.100.7'],
    ['no proxy trusted', 'false', '127.0.0.1'],
  ])('%s: a client-chosen X-Forwarded-For does not set the address', async (_what, setting, expected) => {
    const s = await startTestServer({ env: { TOLLGATE_TRUST_PROXY: setting } });
    try {
      const app = await s.createApp({ name: 'Legacy', grantTypes: ['password'], scopes: ['profile'] });
      // The client forges a first entry; the proxy (this test, on 127.0.0.1) appends the real one.
      const res = await postForm(
        `${s.url}/oauth/token`,
        { grant_type: 'password', username: 'nobody@example.com', password: 'wrong-password' },
        { authorization: basic(app.client.clientId, app.clientSecret ?? ''), 'x-forwarded-for': '6.6.6.6, 198.51.100.7' },
      );
      expect(res.status).toBe(400);
      const [event] = await s.ctx.storage.audit.list({ type: 'login.failed', limit: 1 });
      expect(event?.ip).toBe(expected);
    } finally {
      await s.close();
    }
  });
});

describeEachDb('issue #15 §8, §9, §14: sessions, deactivation, headers and the consent page', (start) => {
  let s: TestServer;
  let owner: Awaited<ReturnType<TestServer['createUser']>>;

  beforeAll(async () => {
    s = await start();
    owner = await s.createUser('owner@example.com');
  });
  afterAll(async () => s?.close());

  async function signedIn(email: string, password = DEFAULT_PASSWORD): Promise<Browser> {
    const b = new Browser(s.url);
    expect((await b.login(email, password, '/developers')).status).toBe(303);
    return b;
  }

  it('§8: signing in again ends that browser\'s earlier session; "sign out everywhere" ends every browser\'s', async () => {
    const b = await signedIn('owner@example.com');
    const first = b.cookie('tg_session') ?? '';
    await b.login('owner@example.com', DEFAULT_PASSWORD, '/developers');
    expect(b.cookie('tg_session')).not.toBe(first);
    const stale = new Browser(s.url);
    const old = await stale.fetch('/developers', { headers: { cookie: `tg_session=${first}` } });
    expect(old.status).toBe(303);
    // Two browsers; sign out everywhere from one.
    const other = await signedIn('owner@example.com');
    const page = await (await b.fetch('/account/apps')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    expect(page).toContain('Sign out everywhere');
    const out = await b.postForm('/account/sign-out-everywhere', [['csrf', csrf]]);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await other.fetch('/developers')).status).toBe(303);
    expect((await b.fetch('/developers')).status).toBe(303);
  });

  it('§8: an administrator\'s deactivation sticks: the owner can neither activate it nor tick Active in the edit form', async () => {
    const app = await s.createApp({ name: 'Owned', ownerId: owner.id, redirectUris: ['https://owned.example/cb'] });
    const admin = await signedIn('admin@localhost', s.adminPassword);
    const adminPage = await (await admin.fetch(`/admin/apps/${app.client.clientId}`)).text();
    const adminCsrf = /name="csrf" value="([^"]+)"/.exec(adminPage)?.[1] ?? '';
    expect((await admin.postForm(`/admin/apps/${app.client.clientId}/active`, [['csrf', adminCsrf], ['active', '0'], ['confirm', 'yes']])).status).toBe(303);
    expect((await s.ctx.storage.clients.byId(app.client.clientId))?.adminDeactivated).toBe(true);

    const b = await signedIn('owner@example.com');
    const page = await (await b.fetch(`/developers/apps/${app.client.clientId}`)).text();
    expect(page).toContain('An administrator deactivated this application; only an administrator can activate it again.');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const forced = await b.postForm(`/developers/apps/${app.client.clientId}/active`, [['csrf', csrf], ['active', '1']]);
    expect(forced.status).toBe(400);
    expect(await forced.text()).toContain('only an administrator can activate it again');
    const edit = await b.postForm(`/developers/apps/${app.client.clientId}/edit`, [
      ['csrf', csrf],
      ['name', 'Owned'],
      ['redirect_uris', 'https://owned.example/cb'],
      ['grant_types', 'authorization_code'],
      ['active', '1'],
    ]);
    expect(await edit.text()).toContain('only an administrator can activate it again');
    expect((await s.ctx.storage.clients.byId(app.client.clientId))?.active).toBe(false);
    // The owner may still deactivate their own apps and activate them again.
    const mine = await s.createApp({ name: 'Mine', ownerId: owner.id, redirectUris: ['https://mine.example/cb'] });
    for (const active of ['0', '1']) {
      expect((await b.postForm(`/developers/apps/${mine.client.clientId}/active`, [['csrf', csrf], ['active', active], ['confirm', 'yes']])).status).toBe(303);
    }
    expect((await s.ctx.storage.clients.byId(mine.client.clientId))?.active).toBe(true);
    // An administrator lifts it.
    expect((await admin.postForm(`/admin/apps/${app.client.clientId}/active`, [['csrf', adminCsrf], ['active', '1']])).status).toBe(303);
    expect(await s.ctx.storage.clients.byId(app.client.clientId)).toMatchObject({ active: true, adminDeactivated: false });
  });

  it('§9: pages forbid posting anywhere else; the consent page also names its request\'s redirect target (origin or custom scheme)', async () => {
    const login = await fetch(`${s.url}/login`);
    expect(login.headers.get('content-security-policy')).toContain("form-action 'self'");
    const web = await s.createApp({ name: 'Web', redirectUris: ['https://client.example:8443/cb?x=1'], scopes: ['profile'] });
    const native = await s.createApp({ name: 'Native', public: true, redirectUris: ['com.example.app:/oauth2redirect'], scopes: ['profile'] });
    const b = await signedIn('owner@example.com');
    const consent = await b.fetch(`/oauth/authorize?response_type=code&client_id=${web.client.clientId}&redirect_uri=${encodeURIComponent('https://client.example:8443/cb?x=1')}`);
    expect(consent.status).toBe(200);
    expect(consent.headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/client\.example:8443(;|$)/);
    await consent.arrayBuffer();
    const app = await b.fetch(
      `/oauth/authorize?response_type=code&client_id=${native.client.clientId}&redirect_uri=${encodeURIComponent('com.example.app:/oauth2redirect')}&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`,
    );
    expect(app.status).toBe(200);
    expect(app.headers.get('content-security-policy')).toMatch(/form-action 'self' com\.example\.app:(;|$)/);
    await app.arrayBuffer();

    // The login page of a waiting authorization request names its target too: after the sign-in,
    // the form's redirect chain may end at the application (a remembered consent, or an error).
    const anon = new Browser(s.url);
    const detour = await anon.fetch(`/oauth/authorize?response_type=code&client_id=${web.client.clientId}&redirect_uri=${encodeURIComponent('https://client.example:8443/cb?x=1')}&scope=profile`);
    expect(detour.status).toBe(303);
    const loginPage = await anon.fetch(detour.headers.get('location') ?? '');
    expect(loginPage.status).toBe(200);
    expect(loginPage.headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/client\.example:8443(;|$)/);
    const failed = await anon.postForm('/login', [['csrf', anon.cookie('tg_csrf') ?? ''], ['username', 'owner@example.com'], ['password', 'wrong-password'], ['return_to', new URL(detour.headers.get('location') ?? '', s.url).searchParams.get('return_to') ?? '']]);
    expect(failed.status).toBe(401);
    expect(failed.headers.get('content-security-policy')).toMatch(/form-action 'self' https:\/\/client\.example:8443(;|$)/);
    // Another browser's (or an unknown) waiting request names nothing.
    const stranger = await fetch(`${s.url}${detour.headers.get('location') ?? ''}`);
    expect(stranger.headers.get('content-security-policy')).toMatch(/form-action 'self'(;|$)/);
  });

  it('§9 §14: the consent page says where the person will be sent, who registered the app, and that a self-registered one is not verified', async () => {
    const made = await s.createApp({ name: 'Known', ownerId: owner.id, redirectUris: ['https://known.example/cb'], scopes: ['profile'], logoUri: 'https://known.example/logo.png' });
    const reg = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Stranger', redirect_uris: ['https://stranger.example/cb'] }),
    });
    const stranger = (await reg.json()) as { client_id: string };
    const b = await signedIn('owner@example.com');
    const known = await (await b.fetch(`/oauth/authorize?response_type=code&client_id=${made.client.clientId}&redirect_uri=${encodeURIComponent('https://known.example/cb')}`)).text();
    expect(known).toContain('You will be sent to <strong>known.example</strong>');
    expect(known).toContain('Registered by owner@example.com');
    expect(known).not.toContain('has not verified who runs it');
    expect(known).toContain('<img class="app-logo" src="https://known.example/logo.png" alt=""');
    const strange = await (await b.fetch(`/oauth/authorize?response_type=code&client_id=${stranger.client_id}&redirect_uri=${encodeURIComponent('https://stranger.example/cb')}`)).text();
    expect(strange).toContain('This application registered itself: Tollgate has not verified who runs it.');
    expect(strange).toContain('You will be sent to <strong>stranger.example</strong>');
  });

  it('§9: /metrics is served to this machine only, or with TOLLGATE_METRICS_TOKEN', async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    const proxied = await startTestServer({ env: { TOLLGATE_TRUST_PROXY: '127.0.0.1' } });
    const withToken = await startTestServer({ env: { TOLLGATE_METRICS_TOKEN: 'metrics-token-0123456789' } });
    try {
      const remote = await fetch(`${proxied.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(remote.status).toBe(403);
      expect(await remote.json()).toEqual({ error: 'access_denied', error_description: 'The metrics are served to this machine only; set TOLLGATE_METRICS_TOKEN to read them from elsewhere' });
      expect((await fetch(`${withToken.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${withToken.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0000000000' } })).status).toBe(401);
      const ok = await fetch(`${withToken.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('tollgate_http_requests_total');
    } finally {
      await proxied.close();
      await withToken.close();
    }
  });

  it('§14: GET / takes a signed-in person to the portal; error pages have a way back', async () => {
    expect((await fetch(`${s.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/docs');
    const b = await signedIn('owner@example.com');
    expect((await b.fetch('/')).headers.get('location')).toBe('/developers');
    const bad = await (await fetch(`${s.url}/oauth/authorize?client_id=nope`)).text();
    expect(bad).toContain('<a href="/">Back to Tollgate</a>');
  });
});

describeEachDb('issue #15 §14: secret rotation is immediate unless an overlap is chosen', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close());

  const cc = (id: string, secret: string) => postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(id, secret) });

  it('default: the old secret dies at once; with an overlap it works until its end, then not', async () => {
    const app = await s.createApp({ name: 'Rotating', grantTypes: ['client_credentials'] });
    const id = app.client.clientId;
    const first = app.clientSecret ?? '';
    const second = (await rotateSecret(s.ctx, id))?.clientSecret ?? '';
    expect((await cc(id, first)).status).toBe(401);
    expect((await cc(id, second)).status).toBe(200);
    const third = await rotateSecret(s.ctx, id, { overlapSeconds: 3600 });
    expect(third?.client.previousSecretExpiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect((await cc(id, second)).status).toBe(200);
    expect((await cc(id, third?.clientSecret ?? '')).status).toBe(200);
    expect((await cc(id, first)).status).toBe(401);
    // Once the overlap is over, the old one is refused.
    await s.ctx.storage.clients.update(id, { previousSecretExpiresAt: Date.now() - 1 }, Date.now());
    expect((await cc(id, second)).status).toBe(401);
    await expect(rotateSecret(s.ctx, id, { overlapSeconds: 8 * 86_400 })).rejects.toThrow('overlap must be a whole number of seconds from 0 to 604800');
  });
});

describe('issue #15 §13: the database removed under a running server', () => {
  it('is noticed: /readyz 503 with a loud line, and requests answer 503 instead of writing to a lost file', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    const s = await startTestServer();
    try {
      const app = await s.createApp({ name: 'Before', grantTypes: ['client_credentials'] });
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      rmSync(s.ctx.config.dataDir, { recursive: true, force: true });
      const deadline = Date.now() + 6_000;
      let ready = 200;
      while (Date.now() < deadline && ready === 200) {
        await new Promise((r) => setTimeout(r, 250));
        ready = (await fetch(`${s.url}/readyz`)).status;
      }
      expect(ready).toBe(503);
      expect(lines.join('')).toContain(`ERROR: the database file ${s.ctx.config.dataDir}/tollgate.db was removed while Tollgate was running; refusing to go on`);
      const token = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(token.status).toBe(503);
      expect(token.json['error']).toBe('temporarily_unavailable');
    } finally {
      process.stderr.write = write;
      await s.close().catch(() => undefined);
    }
  });
});
