/**
 * Issue #3 pages over HTTP (no browser): the portal only shows a person's own applications, every
 * POST needs the CSRF field and ends with a 303, the secret is shown once, admin pages need an
 * administrator, pages carry the security headers, and the application-created email (A9).
 * SPEC: A2, A3, A9, A10, U2, U3, U4, O7.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, hiddenField, postForm, type TestServer } from '../helpers/server.js';

describeEachDb('pages: portal, connected applications, back-office', (start) => {
  let s: TestServer;
  let alice: Browser;
  let bob: Browser;
  let admin: Browser;

  beforeAll(async () => {
    s = await start({ env: { TOLLGATE_MAIL_TO: '' } });
    await s.createUser('alice@example.com');
    await s.createUser('bob@example.com');
    alice = new Browser(s.url);
    bob = new Browser(s.url);
    admin = new Browser(s.url);
    expect((await alice.login('alice@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    expect((await bob.login('bob@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    expect((await admin.login(s.ctx.config.adminEmail, s.adminPassword)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  async function csrfOf(b: Browser, path: string): Promise<string> {
    return hiddenField(await (await b.fetch(path)).text(), 'csrf');
  }

  async function createViaPortal(b: Browser, name: string, extra: Array<[string, string]> = []): Promise<Response> {
    const csrf = await csrfOf(b, '/developers/new');
    return b.postForm('/developers/new', [
      ['csrf', csrf],
      ['name', name],
      ['redirect_uris', 'https://app.example/cb\nhttps://app.example/cb2'],
      ['scopes', 'profile'],
      ['grant_types', 'authorization_code'],
      ['grant_types', 'refresh_token'],
      ['client_type', 'confidential'],
      ['active', '1'],
      ...extra,
    ]);
  }

  it('U2: anonymous visitors are sent to sign in and come back afterwards', async () => {
    const anon = new Browser(s.url);
    for (const path of ['/developers', '/developers/new', '/account/apps', '/admin', '/admin/apps']) {
      const res = await anon.fetch(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent(path)}`);
    }
  });

  it('A2/U2: create → 303 to the credentials page, which shows the secret once; A9: the owner gets an email without it', async () => {
    const res = await createViaPortal(alice, 'Alice Tool');
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^\/developers\/apps\/tgc_[\w-]+\/credentials$/);
    const first = await (await alice.fetch(location)).text();
    const secret = /<code id="client-secret" data-secret>(tgs_[\w-]+)<\/code>/.exec(first)?.[1] ?? '';
    expect(secret).toMatch(/^tgs_[\w-]{43}$/);
    expect(first).toContain('/assets/copy.js');
    const again = await (await alice.fetch(location)).text();
    expect(again).not.toContain(secret);
    expect(again).toContain('no longer shown');
    // Another person cannot see it, even with the page's address.
    expect((await bob.fetch(location)).status).toBe(404);

    const outbox = join(s.ctx.config.dataDir, 'outbox');
    const mails = readdirSync(outbox).map((f) => readFileSync(join(outbox, f), 'utf8'));
    const mine = mails.filter((m) => /^To: alice@example\.com\r?$/m.test(m));
    expect(mine).toHaveLength(1);
    expect(mine[0]).not.toContain(secret);
  });

  it('U2: the portal lists only my own applications; someone else’s are 404 and cannot be changed', async () => {
    await createViaPortal(bob, 'Bob Secret Project');
    const bobApp = (await s.ctx.storage.clients.list({ name: 'Bob Secret Project' })).items[0];
    expect(bobApp).toBeDefined();
    const list = await (await alice.fetch('/developers')).text();
    expect(list).toContain('Alice Tool');
    expect(list).not.toContain('Bob Secret Project');
    const id = bobApp?.clientId ?? '';
    for (const path of [`/developers/apps/${id}`, `/developers/apps/${id}/edit`, `/developers/apps/${id}/delete`]) {
      expect((await alice.fetch(path)).status, path).toBe(404);
    }
    const csrf = await csrfOf(alice, '/developers');
    for (const [path, fields] of [
      [`/developers/apps/${id}/active`, [['active', '0']]],
      [`/developers/apps/${id}/rotate`, []],
      [`/developers/apps/${id}/delete`, [['confirm', 'yes']]],
      [`/developers/apps/${id}/edit`, [['name', 'Hijacked']]],
    ] as const) {
      const res = await alice.postForm(path, [['csrf', csrf], ...fields]);
      expect(res.status, path).toBe(404);
    }
    const after = await s.ctx.storage.clients.byId(id);
    expect(after?.active).toBe(true);
    expect(after?.name).toBe('Bob Secret Project');
    expect(after?.secretHash).toBe(bobApp?.secretHash);
  });

  it('every POST needs the CSRF field (403 without it) and answers 303 with it', async () => {
    await createViaPortal(alice, 'Csrf App');
    const app = (await s.ctx.storage.clients.list({ name: 'Csrf App' })).items[0];
    const base = `/developers/apps/${app?.clientId ?? ''}`;
    const csrf = await csrfOf(alice, base);
    const bad = await alice.postForm(`${base}/active`, [['csrf', 'x'.repeat(32)], ['active', '0']]);
    expect(bad.status).toBe(403);
    expect((await alice.postForm(`${base}/active`, [['active', '0']])).status).toBe(403);
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.active).toBe(true);

    // Issue #15 §14: deactivating asks first; nothing changes until it is confirmed.
    const ask = await alice.postForm(`${base}/active`, [['csrf', csrf], ['active', '0']]);
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain('Its tokens stop working at once');
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.active).toBe(true);
    const off = await alice.postForm(`${base}/active`, [['csrf', csrf], ['active', '0'], ['confirm', 'yes']]);
    expect(off.status).toBe(303);
    expect(off.headers.get('location')).toBe(`${base}?done=deactivated`);
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.active).toBe(false);

    const edit = await alice.postForm(`${base}/edit`, [['csrf', csrf], ['name', 'Csrf App 2'], ['redirect_uris', 'https://app.example/cb'], ['scopes', 'profile'], ['grant_types', 'authorization_code'], ['active', '1']]);
    expect(edit.status).toBe(303);
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.name).toBe('Csrf App 2');

    // Issue #12: the OpenID Connect settings are on the same form, shown as stored.
    const base12: Array<[string, string]> = [['csrf', csrf], ['name', 'Csrf App 2'], ['redirect_uris', 'https://app.example/cb'], ['scopes', 'profile'], ['grant_types', 'authorization_code'], ['active', '1']];
    const oidcEdit = await alice.postForm(`${base}/edit`, [
      ...base12, ['id_token_alg', 'ES256'], ['post_logout_redirect_uris', 'https://app.example/bye\r\nhttps://app.example/bye2'],
      ['backchannel_logout_uri', 'https://app.example/bc'], ['default_max_age', '600'], ['contacts', 'ops@app.example'],
    ]);
    expect(oidcEdit.status).toBe(303);
    expect(await s.ctx.storage.clients.byId(app?.clientId ?? '')).toMatchObject({
      idTokenSignedResponseAlg: 'ES256',
      postLogoutRedirectUris: ['https://app.example/bye', 'https://app.example/bye2'],
      oidc: { applicationType: 'web', backchannelLogoutUri: 'https://app.example/bc', defaultMaxAge: 600, contacts: ['ops@app.example'], backchannelLogoutSessionRequired: false },
    });
    const form = await (await alice.fetch(`${base}/edit`)).text();
    expect(form).toContain('<option value="ES256" selected>ES256</option>');
    expect(form).toContain('value="https://app.example/bc"');
    expect(form).toContain('https://app.example/bye\nhttps://app.example/bye2</textarea>');
    for (const [field, value, message] of [
      ['backchannel_logout_uri', 'https://10.0.0.1/bc', 'backchannel_logout_uri: 10.0.0.1 is not a public address'],
      ['default_max_age', 'soon', 'default_max_age must be a whole number of seconds from 0 to 31622400'],
      ['post_logout_redirect_uris', 'https://app.example/bye#x', 'A redirect URI must not contain a fragment'],
      // A tampered algorithm is refused, never replaced by the default.
      ['id_token_alg', 'HS256', 'id_token_signed_response_alg must be one of ES256, RS256, EdDSA'],
    ] as const) {
      const bad12 = await alice.postForm(`${base}/edit`, [...base12, ...(field === 'id_token_alg' ? [] : [['id_token_alg', 'RS256'] as [string, string]]), [field, value]]);
      expect([field, bad12.status]).toEqual([field, 400]);
      const page = await bad12.text();
      expect(page).toContain(message);
      if (field !== 'default_max_age' && field !== 'id_token_alg') expect(page).toContain(value); // the form keeps what was typed
    }
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.oidc.backchannelLogoutUri).toBe('https://app.example/bc');

    const before = (await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.secretHash;
    const askRotate = await alice.postForm(`${base}/rotate`, [['csrf', csrf]]);
    expect(askRotate.status).toBe(200);
    expect(await askRotate.text()).toContain('the current secret stops working at once');
    expect((await s.ctx.storage.clients.byId(app?.clientId ?? ''))?.secretHash).toBe(before);
    const rotate = await alice.postForm(`${base}/rotate`, [['csrf', csrf], ['confirm', 'yes'], ['overlap', '3600']]);
    expect(rotate.status).toBe(303);
    const rotated = await (await alice.fetch(rotate.headers.get('location') ?? '')).text();
    expect(rotated).toContain('New client secret');
    expect(rotated).toMatch(/tgs_[\w-]{43}/);
    // The opt-in overlap: the previous secret's end is shown, and it still authenticates until then.
    expect(rotated).toContain('The previous secret keeps working until');
    const row = await s.ctx.storage.clients.byId(app?.clientId ?? '');
    expect(row?.previousSecretHash).toBe(before);
    expect((row?.previousSecretExpiresAt ?? 0) - Date.now()).toBeGreaterThan(3_500_000);

    const del = await alice.postForm(`${base}/delete`, [['csrf', csrf], ['confirm', 'yes']]);
    expect(del.status).toBe(303);
    expect(del.headers.get('location')).toBe('/developers?done=deleted');
    expect(await s.ctx.storage.clients.byId(app?.clientId ?? '')).toBeNull();
  });

  it('validation errors re-render the form with the message and the values typed', async () => {
    const res = await createViaPortal(alice, 'Bad <URI>', [['website', 'ftp://files.example/']]);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).toContain('role="alert"');
    expect(body).toContain('Bad &lt;URI&gt;');
    expect(body).not.toContain('Bad <URI>');
    expect(body).toContain('website must be an http(s) URL');
  });

  it('non-admins cannot give their app the admin scope or the password grant from the portal', async () => {
    expect((await createViaPortal(alice, 'Sneaky', [['scopes', 'admin']])).status).toBe(400);
    // Issue #11: nor the delegated-login scope.
    const login = await createViaPortal(alice, 'Sneaky', [['scopes', 'login'], ['grant_types', 'client_credentials']]);
    expect(login.status).toBe(400);
    expect(await login.text()).toContain('Only administrators may give an application the admin or login scope.');
    expect((await createViaPortal(alice, 'Sneaky', [['grant_types', 'password']])).status).toBe(400);
    expect((await s.ctx.storage.clients.list({ name: 'Sneaky' })).total).toBe(0);
  });

  it('issue #14: a developer may turn on the device authorization grant for their own app; the form offers it, off by default', async () => {
    const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
    const form = await (await alice.fetch('/developers/new')).text();
    expect(form).toContain(`<input type="checkbox" name="grant_types" value="${GRANT}"> <span>Device authorization (TVs, command-line tools and agents sign in with a code)</span>`);
    const created = await createViaPortal(alice, 'My CLI', [['grant_types', GRANT]]);
    expect(created.status).toBe(303);
    const app = (await s.ctx.storage.clients.list({ name: 'My CLI' })).items[0];
    expect(app?.grantTypes).toEqual(['authorization_code', 'refresh_token', GRANT]);
    const page = await (await alice.fetch(`/developers/apps/${app?.clientId ?? ''}`)).text();
    expect(page).toContain(GRANT);
  });

  it('U3: connected applications list what I authorized; Revoke forgets the consent and revokes the tokens', async () => {
    const created = await s.createApp({ name: 'Connected One', redirectUris: ['https://one.example/cb'], scopes: ['profile', 'email'] });
    const url = `/oauth/authorize?response_type=code&client_id=${created.client.clientId}&redirect_uri=${encodeURIComponent('https://one.example/cb')}&scope=profile&state=s1&code_challenge=${'c'.repeat(43)}&code_challenge_method=S256`;
    const out = await authorize(alice, url);
    expect(out.status).toBe(303);
    const page = await (await alice.fetch('/account/apps')).text();
    expect(page).toContain('Connected One');
    expect(page).toContain('See your basic profile');
    expect(await (await bob.fetch('/account/apps')).text()).not.toContain('Connected One');
    const csrf = hiddenField(page, 'csrf');
    // Issue #15 §14: asked first.
    const ask = await alice.postForm(`/account/apps/${created.client.clientId}/revoke`, [['csrf', csrf]]);
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain('Revoke access for Connected One?');
    const res = await alice.postForm(`/account/apps/${created.client.clientId}/revoke`, [['csrf', csrf], ['confirm', 'yes']]);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/apps?done=revoked');
    const alicesId = (await s.ctx.storage.users.byEmail('alice@example.com'))?.id ?? '';
    expect(await s.ctx.storage.consents.get(alicesId, created.client.clientId)).toBeNull();
    // The code issued just before the revocation is gone too: it can no longer be redeemed.
    const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
    expect(code).toMatch(/^tgo_/);
    expect(await s.ctx.storage.codes.byHash(sha256(code))).toBeNull();
    expect(await (await alice.fetch('/account/apps')).text()).not.toContain('Connected One');
  });

  it('U4: admin pages are 403 for non-admins and render for admins; actions are audited', async () => {
    for (const path of ['/admin', '/admin/apps', '/admin/users', '/admin/orgs', '/admin/audit']) {
      const res = await alice.fetch(path);
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain('Administrators only');
      const ok = await admin.fetch(path);
      expect(ok.status, path).toBe(200);
    }
    const csrf = await csrfOf(admin, '/admin/orgs');
    expect((await admin.postForm('/admin/orgs', [['csrf', csrf], ['name', 'Initech']])).status).toBe(303);
    const org = await s.ctx.storage.organizations.byName('Initech');
    expect(org).not.toBeNull();
    const create = await admin.postForm('/admin/users', [['csrf', csrf], ['email', 'peter@example.com'], ['password', 'long-enough-pw'], ['org', org?.id ?? ''], ['role', 'admin']]);
    expect(create.status).toBe(303);
    const peter = await s.ctx.storage.users.byEmail('peter@example.com');
    expect(await s.ctx.storage.users.memberships(peter?.id ?? '')).toEqual([{ userId: peter?.id, orgId: org?.id, role: 'admin' }]);
    expect((await admin.postForm(`/admin/users/${peter?.id ?? ''}/admin`, [['csrf', csrf], ['admin', '1']])).status).toBe(303);
    expect((await s.ctx.storage.users.byId(peter?.id ?? ''))?.isAdmin).toBe(true);
    expect((await admin.postForm(`/admin/users/${peter?.id ?? ''}/disabled`, [['csrf', csrf], ['disabled', '1']])).status).toBe(303);
    expect((await s.ctx.storage.users.byId(peter?.id ?? ''))?.disabled).toBe(true);
    // Issue #12: the OpenID Connect profile (names, email_verified) is edited here too.
    const profile = await admin.postForm('/admin/users/profile', [['csrf', csrf], ['email', 'peter@example.com'], ['name', 'Peter <Gibbons>'], ['given_name', 'Peter'], ['family_name', ''], ['email_verified', '1']]);
    expect(profile.status).toBe(303);
    expect(profile.headers.get('location')).toBe('/admin/users?done=profile_updated');
    expect((await s.ctx.storage.users.byId(peter?.id ?? ''))?.profile).toEqual({ name: 'Peter <Gibbons>', given_name: 'Peter', email_verified: true, updated_at: expect.any(Number) });
    expect(await (await admin.fetch('/admin/users?q=peter')).text()).toContain('Peter &lt;Gibbons&gt;');
    const unknown = await admin.postForm('/admin/users/profile', [['csrf', csrf], ['email', 'nobody@example.com'], ['name', 'X']]);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('No user with the email nobody@example.com');
    expect((await admin.postForm('/admin/users/profile', [['email', 'peter@example.com'], ['name', 'No CSRF']])).status).toBe(403);

    const grid = await (await admin.fetch(`/admin/apps?org=${org?.id ?? ''}`)).text();
    expect(grid).toContain('0 applications');
    const named = await (await admin.fetch('/admin/apps?name=alice&sort=name&dir=asc')).text();
    expect(named).toContain('Alice Tool');
    expect(named).not.toContain('Bob Secret Project');
    const audit = await (await admin.fetch('/admin/audit?type=org.created')).text();
    expect(audit).toContain('org.created');
    expect(audit).toContain(s.ctx.config.adminEmail);
    const cc = await s.createApp({ name: 'Chart App', grantTypes: ['client_credentials'] });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(cc.client.clientId, cc.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    const dash = await (await admin.fetch('/admin')).text();
    expect(dash).toContain('Chart App');
    expect(dash).toContain('Tokens issued per application per day');
    expect(dash).toContain('<svg');
  });

  it('O7: pages carry the security headers and no inline script or style', async () => {
    for (const path of ['/login', '/developers', '/developers/new', '/account/apps']) {
      const res = await alice.fetch(path);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = await res.text();
      expect(body).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(body).not.toMatch(/\sstyle=/);
      expect(body).not.toMatch(/<style/);
    }
    const js = await fetch(`${s.url}/assets/copy.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
  });
  it('token exchange: only an administrator, in the back-office, grants it and sets its policy; the portal never reads the policy', async () => {
    const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const own = `${s.issuer}/api`;
    const crafted: Array<[string, string]> = [['token_exchange_form', '1'], ['token_exchange_enabled', '1'], ['token_exchange_audiences', own], ['token_exchange_impersonation', '1']];
    // A person may not give their application the grant...
    const refused = await createViaPortal(alice, 'Exchanger', [['grant_types', TE]]);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('The password and implicit grants (and extension grants) can only be enabled by an administrator.');
    // ...and a crafted policy is ignored, on creation and on edit.
    const form = await (await alice.fetch('/developers/new')).text();
    expect(form).not.toContain('token_exchange');
    const created = await createViaPortal(alice, 'Crafted policy', crafted);
    expect(created.status).toBe(303);
    const clientId = decodeURIComponent(/\/developers\/apps\/([^/?]+)/.exec(created.headers.get('location') ?? '')?.[1] ?? '');
    expect((await s.ctx.storage.clients.byId(clientId))?.tokenExchange).toBeNull();
    const editCsrf = await csrfOf(alice, `/developers/apps/${encodeURIComponent(clientId)}/edit`);
    const edited = await alice.postForm(`/developers/apps/${encodeURIComponent(clientId)}/edit`, [
      ['csrf', editCsrf], ['name', 'Crafted policy'], ['redirect_uris', 'https://app.example/cb'], ['scopes', 'profile'],
      ['grant_types', 'authorization_code'], ['active', '1'], ...crafted,
    ]);
    expect(edited.status).toBe(303);
    expect((await s.ctx.storage.clients.byId(clientId))?.tokenExchange).toBeNull();

    // The back-office shows the policy and saves it.
    const page = await (await admin.fetch(`/admin/apps/${encodeURIComponent(clientId)}`)).text();
    expect(page).toContain('Token exchange (services acting for a person; administrators only)');
    expect(page).toContain('name="token_exchange_audiences"');
    const fields = (extra: Array<[string, string]>): Array<[string, string]> => [
      ['name', 'Crafted policy'], ['redirect_uris', 'https://app.example/cb'], ['scopes', 'profile'],
      ['grant_types', 'authorization_code'], ['grant_types', TE], ['active', '1'], ['token_exchange_form', '1'], ...extra,
    ];
    const csrf = hiddenField(page, 'csrf');
    const saved = await admin.postForm(`/admin/apps/${encodeURIComponent(clientId)}/edit`, [['csrf', csrf], ...fields([['token_exchange_enabled', '1'], ['token_exchange_audiences', own], ['token_exchange_refresh_tokens', '1']])]);
    expect(saved.status).toBe(303);
    const after = await s.ctx.storage.clients.byId(clientId);
    expect(after?.grantTypes).toEqual(['authorization_code', TE]);
    expect(after?.tokenExchange).toEqual({ audiences: [own], impersonation: false, refreshTokens: true });
    const bad = await admin.postForm(`/admin/apps/${encodeURIComponent(clientId)}/edit`, [['csrf', csrf], ...fields([['token_exchange_enabled', '1'], ['token_exchange_audiences', 'https://nowhere.example']])]);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Unknown token-exchange audience &quot;https://nowhere.example&quot;');
    const off = await admin.postForm(`/admin/apps/${encodeURIComponent(clientId)}/edit`, [['csrf', csrf], ...fields([['token_exchange_audiences', own]])]);
    expect(off.status).toBe(303);
    expect((await s.ctx.storage.clients.byId(clientId))?.tokenExchange).toBeNull();
  });
});
