/**
 * Admin REST API (A10): /admin/api/* with a Bearer token carrying `admin`, acting for an
 * administrator. Tokens are obtained the real way (client_credentials at /oauth/token).
 */
import { sha256 } from '../../src/oauth/crypto.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

interface Res {
  readonly status: number;
  readonly headers: Headers;
  readonly json: Json;
  readonly text: string;
}

const ADMIN_PATHS = [
  'get /admin/api/apps',
  'post /admin/api/apps',
  'get /admin/api/apps/{clientId}',
  'patch /admin/api/apps/{clientId}',
  'delete /admin/api/apps/{clientId}',
  'post /admin/api/apps/{clientId}/activate',
  'post /admin/api/apps/{clientId}/deactivate',
  'post /admin/api/apps/{clientId}/rotate-secret',
  'get /admin/api/users',
  'post /admin/api/users',
  'patch /admin/api/users/{id}',
  'get /admin/api/orgs',
  'post /admin/api/orgs',
  'get /admin/api/scopes',
  'post /admin/api/scopes',
  'get /admin/api/resource-servers',
  'post /admin/api/resource-servers',
  'get /admin/api/client-metadata/blocks',
  'post /admin/api/client-metadata/blocks',
  'delete /admin/api/client-metadata/blocks',
  'get /admin/api/keys',
  'post /admin/api/keys/rotate',
  'get /admin/api/audit',
  'post /admin/api/tokens/revoke',
  'post /admin/api/import',
];
/** The delegated-login operations: their own scope (`login`), served only with TOLLGATE_LOGIN_URL. */
const LOGIN_PATHS = [
  'get /admin/api/login-requests/{challenge}',
  'post /admin/api/login-requests/{challenge}/accept',
  'post /admin/api/login-requests/{challenge}/reject',
];

describeEachDb('admin REST API', (start) => {
  let s: TestServer;
  let adminId: string;
  let admin: string;
  /** Every secret and token the tests saw, to prove none reaches the audit log. */
  const secrets: string[] = [];

  async function call(method: string, path: string, opts: { token?: string | null; body?: unknown; form?: Record<string, string> } = {}): Promise<Res> {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? admin : opts.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${s.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Json) : {}, text };
  }

  async function clientCredentials(clientId: string, secret: string, scope?: string): Promise<{ status: number; json: Json }> {
    const res = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, { authorization: basic(clientId, secret) });
    if (typeof res.json['access_token'] === 'string') secrets.push(res.json['access_token']);
    return res;
  }

  /** A token from a client_credentials app with `scopes`, acting for `actsAsUserId` (or itself). */
  async function tokenFor(scopes: string[], actsAsUserId: string | null): Promise<string> {
    const app = await s.createApp({ name: 'Token source', grantTypes: ['client_credentials'], scopes, actsAsUserId });
    secrets.push(app.clientSecret ?? '');
    const res = await clientCredentials(app.client.clientId, app.clientSecret ?? '', scopes.join(' '));
    expect(res.status).toBe(200);
    return String(res.json['access_token']);
  }

  async function apiStatus(token: string): Promise<number> {
    return (await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${token}` } })).status;
  }

  beforeAll(async () => {
    s = await start();
    const user = await s.ctx.storage.users.byEmail('admin@localhost');
    if (!user) throw new Error('no bootstrap admin');
    adminId = user.id;
    admin = await tokenFor(['admin'], adminId);
  });
  afterAll(async () => s?.close());

  it('refuses a request without a token: 401 with the bare Bearer challenge', async () => {
    const res = await call('GET', '/admin/api/apps', { token: null });
    expect(res.status).toBe(401);
    // Issue #13: the scope the admin API needs, and where the API's metadata is (RFC 9728 §5.1).
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="tollgate", scope="admin", resource_metadata="${s.issuer}/.well-known/oauth-protected-resource/api"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({ error: 'invalid_request', error_description: 'An access token is required' });
  });

  it('refuses an invalid token: 401 invalid_token', async () => {
    const res = await call('GET', '/admin/api/apps', { token: 'tga_not-a-real-token' });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="tollgate", error="invalid_token", error_description="The access token is invalid, expired or revoked", scope="admin", resource_metadata="${s.issuer}/.well-known/oauth-protected-resource/api"`,
    );
  });

  it('refuses a token without the admin scope: 403 insufficient_scope', async () => {
    const token = await tokenFor(['profile'], adminId);
    const res = await call('GET', '/admin/api/users', { token });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: 'insufficient_scope', error_description: 'This endpoint requires the scope: admin' });
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses an admin-scoped token acting for a non-admin user, or for no user: 403', async () => {
    const bob = await s.createUser('bob@example.com');
    const asBob = await tokenFor(['admin'], bob.id);
    const res = await call('GET', '/admin/api/apps', { token: asBob });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: 'insufficient_scope', error_description: 'The user this token acts for is not an administrator' });

    const asApp = await tokenFor(['admin'], null);
    const res2 = await call('POST', '/admin/api/orgs', { token: asApp, body: { name: 'Nope' } });
    expect(res2.status).toBe(403);
    expect(res2.json).toEqual({
      error: 'insufficient_scope',
      error_description: 'The admin API needs a token acting for an administrator; this token acts for no user',
    });
    expect(await s.ctx.storage.organizations.byName('Nope')).toBeNull();
  });

  it('stops honouring a token as soon as its user loses admin rights', async () => {
    const dave = await s.createUser('dave@example.com', undefined, true);
    const asDave = await tokenFor(['admin'], dave.id);
    expect((await call('GET', '/admin/api/orgs', { token: asDave })).status).toBe(200);
    const patch = await call('PATCH', `/admin/api/users/${dave.id}`, { body: { is_admin: false } });
    expect(patch.status).toBe(200);
    expect(patch.json).toMatchObject({ id: dave.id, is_admin: false, disabled: false });
    expect((await call('GET', '/admin/api/orgs', { token: asDave })).status).toBe(403);
  });

  it('runs the full application lifecycle', async () => {
    const org = await call('POST', '/admin/api/orgs', { body: { name: 'Acme' } });
    expect(org.status).toBe(201);
    const orgId = String(org.json['id']);

    const created = await call('POST', '/admin/api/apps', {
      body: { name: 'Lifecycle One', description: 'First', grant_types: ['client_credentials'], scopes: ['profile'], org: 'Acme', owner: 'admin@localhost' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const clientId = String(created.json['client_id']);
    const secret = String(created.json['client_secret']);
    secrets.push(secret);
    expect(clientId).toMatch(/^tgc_/);
    expect(secret).toMatch(/^tgs_/);
    expect(created.json).toMatchObject({
      name: 'Lifecycle One',
      description: 'First',
      grant_types: ['client_credentials'],
      scopes: ['profile'],
      client_type: 'confidential',
      org_id: orgId,
      owner_id: adminId,
      acts_as_user_id: null,
      active: true,
      token_format: 'opaque',
    });
    expect(created.json).not.toHaveProperty('refresh_token');
    expect(created.json).not.toHaveProperty('secret_hash');

    // The secret works at the token endpoint.
    const tok = await clientCredentials(clientId, secret);
    expect(tok.status).toBe(200);
    const accessToken = String(tok.json['access_token']);
    expect(await apiStatus(accessToken)).toBe(200);

    // More apps for the filters: one more in Acme (scope as a string), one inactive elsewhere.
    const two = await call('POST', '/admin/api/apps', { body: { name: 'Lifecycle Two', grant_types: ['client_credentials'], scope: 'profile email', org: orgId } });
    expect(two.status).toBe(201);
    expect(two.json['scopes']).toEqual(['profile', 'email']);
    secrets.push(String(two.json['client_secret']));
    const other = await call('POST', '/admin/api/apps', {
      body: { name: 'Other', client_type: 'public', redirect_uris: ['https://other.example/cb'], active: false, access_ttl: null, refresh_enabled: false },
    });
    expect(other.status).toBe(201);
    expect(other.json).toMatchObject({ client_type: 'public', active: false, access_ttl: null, redirect_uris: ['https://other.example/cb'] });
    expect(other.json).not.toHaveProperty('client_secret');

    const byName = await call('GET', '/admin/api/apps?name=lifecycle');
    expect(byName.status).toBe(200);
    expect(byName.headers.get('cache-control')).toBe('no-store');
    expect(byName.json).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect((byName.json['items'] as Json[]).map((a) => a['name']).sort()).toEqual(['Lifecycle One', 'Lifecycle Two']);

    for (const q of ['org=Acme', `org=${orgId}`]) {
      const byOrg = await call('GET', `/admin/api/apps?${q}`);
      expect(byOrg.json['total']).toBe(2);
    }
    const inactive = await call('GET', '/admin/api/apps?status=inactive');
    expect(inactive.json['total']).toBe(1);
    expect((inactive.json['items'] as Json[])[0]?.['client_id']).toBe(other.json['client_id']);
    const owned = await call('GET', '/admin/api/apps?owner=admin@localhost');
    expect(owned.json['total']).toBe(1);

    const page1 = await call('GET', '/admin/api/apps?name=Lifecycle&limit=1');
    const page2 = await call('GET', '/admin/api/apps?name=Lifecycle&limit=1&offset=1');
    const page3 = await call('GET', '/admin/api/apps?name=Lifecycle&limit=1&offset=2');
    expect(page1.json).toMatchObject({ total: 2, limit: 1, offset: 0, next: '1' });
    expect(page2.json).toMatchObject({ total: 2, limit: 1, offset: 1, next: null });
    expect(page3.json).toEqual({ items: [], next: null, total: 2, limit: 1, offset: 2 });
    // The same pages by cursor (the one pagination shape of every list).
    const byCursor = await call('GET', `/admin/api/apps?name=Lifecycle&limit=1&cursor=${String(page1.json['next'])}`);
    expect(byCursor.json['items']).toEqual(page2.json['items']);
    const paged = [...(page1.json['items'] as Json[]), ...(page2.json['items'] as Json[])].map((a) => a['client_id']);
    expect(new Set(paged)).toEqual(new Set([clientId, two.json['client_id']]));

    for (const bad of ['limit=0', 'limit=201', 'offset=-1', 'limit=abc', 'status=paused', 'colour=red', 'cursor=abc']) {
      const res = await call('GET', `/admin/api/apps?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.json['error'], bad).toBe('invalid_request');
    }

    // Show and update.
    const shown = await call('GET', `/admin/api/apps/${clientId}`);
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual({ ...created.json, client_secret: undefined, updated_at: shown.json['updated_at'] });
    expect(shown.text).not.toContain(secret);
    const patched = await call('PATCH', `/admin/api/apps/${clientId}`, { body: { name: 'Renamed', website: 'https://renamed.example', access_ttl: 600, org: null } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ client_id: clientId, name: 'Renamed', website: 'https://renamed.example', access_ttl: 600, org_id: null, description: 'First' });
    const typeChange = await call('PATCH', `/admin/api/apps/${clientId}`, { body: { client_type: 'public' } });
    expect(typeChange.status).toBe(400);
    expect(typeChange.json).toEqual({ error: 'invalid_client_metadata', error_description: 'The client type cannot be changed after creation' });

    // Deactivate: the token already issued fails at once, and no new one is issued.
    const off = await call('POST', `/admin/api/apps/${clientId}/deactivate`);
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ client_id: clientId, active: false });
    expect(await apiStatus(accessToken)).toBe(401);
    const refused = await clientCredentials(clientId, secret);
    expect(refused.status).toBe(401);
    expect(refused.json['error']).toBe('invalid_client');

    const on = await call('POST', `/admin/api/apps/${clientId}/activate`);
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ client_id: clientId, active: true });
    expect((await clientCredentials(clientId, secret)).status).toBe(200);

    // Rotate the secret: the old one fails, the new one works.
    const rotated = await call('POST', `/admin/api/apps/${clientId}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = String(rotated.json['client_secret']);
    secrets.push(newSecret);
    expect(rotated.json).toEqual({ client_id: clientId, client_secret: newSecret });
    expect(newSecret).not.toBe(secret);
    const old = await clientCredentials(clientId, secret);
    expect(old.status).toBe(401);
    expect(old.json['error']).toBe('invalid_client');
    expect((await clientCredentials(clientId, newSecret)).status).toBe(200);
    const publicRotate = await call('POST', `/admin/api/apps/${String(other.json['client_id'])}/rotate-secret`);
    expect(publicRotate.status).toBe(400);
    expect(publicRotate.json['error']).toBe('invalid_client_metadata');

    // Delete, then everything about it is 404.
    const del = await call('DELETE', `/admin/api/apps/${clientId}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const notFound = { error: 'not_found', error_description: `No application with the client_id ${clientId}` };
    for (const [method, path] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['POST', '/activate'],
      ['POST', '/deactivate'],
      ['POST', '/rotate-secret'],
    ] as const) {
      const res = await call(method, `/admin/api/apps/${clientId}${path}`, method === 'PATCH' ? { body: { name: 'x' } } : {});
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json).toEqual(notFound);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect((await clientCredentials(clientId, newSecret)).status).toBe(401);
  });

  it('OpenID Connect settings: set at creation, changed by PATCH one field at a time, validated', async () => {
    const created = await call('POST', '/admin/api/apps', {
      body: {
        name: 'OIDC admin RP', redirect_uris: ['https://rp.example/cb'], id_token_signed_response_alg: 'ES256', post_logout_redirect_uris: ['https://rp.example/bye'],
        application_type: 'native', default_max_age: 900, contacts: ['ops@rp.example'], backchannel_logout_uri: 'https://rp.example/bc', backchannel_logout_session_required: true,
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id_token_signed_response_alg: 'ES256', post_logout_redirect_uris: ['https://rp.example/bye'], application_type: 'native', default_max_age: 900,
      contacts: ['ops@rp.example'], backchannel_logout_uri: 'https://rp.example/bc', backchannel_logout_session_required: true,
    });
    const id = String(created.json['client_id']);
    const patched = await call('PATCH', `/admin/api/apps/${id}`, { body: { backchannel_logout_uri: null, default_max_age: null } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ application_type: 'native', default_max_age: null, contacts: ['ops@rp.example'], backchannel_logout_uri: null, backchannel_logout_session_required: true });
    const bad = await call('PATCH', `/admin/api/apps/${id}`, { body: { backchannel_logout_uri: 'http://rp.example/bc' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ error: 'invalid_client_metadata', error_description: 'backchannel_logout_uri: only https URLs are called' });
    const badType = await call('PATCH', `/admin/api/apps/${id}`, { body: { application_type: 'desktop' } });
    expect(badType.status).toBe(400);
    expect(badType.json).toEqual({ error: 'invalid_request', error_description: '"application_type" must be one of: web, native' });
  });

  it('token exchange (RFC 8693): the policy set at creation, changed field by field, removed with null, validated', async () => {
    const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const own = `${s.issuer}/api`;
    const created = await call('POST', '/admin/api/apps', {
      body: { name: 'Exchanging gateway', grant_types: ['client_credentials', TE], scope: 'profile', token_exchange: { audiences: [own], impersonation: true } },
    });
    expect(created.status).toBe(201);
    expect(created.json['token_exchange']).toEqual({ audiences: [own], impersonation: true, refresh_tokens: false });
    const id = String(created.json['client_id']);
    expect((await s.ctx.storage.clients.byId(id))?.tokenExchange).toEqual({ audiences: [own], impersonation: true, refreshTokens: false });
    const patched = await call('PATCH', `/admin/api/apps/${id}`, { body: { token_exchange: { refresh_tokens: true, impersonation: false } } });
    expect(patched.status).toBe(200);
    expect(patched.json['token_exchange']).toEqual({ audiences: [own], impersonation: false, refresh_tokens: true });
    const untouched = await call('PATCH', `/admin/api/apps/${id}`, { body: { name: 'Renamed gateway' } });
    expect(untouched.json['token_exchange']).toEqual({ audiences: [own], impersonation: false, refresh_tokens: true });
    const emptied = await call('PATCH', `/admin/api/apps/${id}`, { body: { token_exchange: { audiences: [] } } });
    expect(emptied.json['token_exchange']).toEqual({ audiences: [], impersonation: false, refresh_tokens: true });
    const removed = await call('PATCH', `/admin/api/apps/${id}`, { body: { token_exchange: null } });
    expect(removed.status).toBe(200);
    expect(removed.json['token_exchange']).toBeNull();
    expect((await call('GET', `/admin/api/apps/${id}`)).json['token_exchange']).toBeNull();

    const cases: Array<[unknown, number, { error: string; error_description: string }]> = [
      [{ audiences: ['https://unknown.admin.example'] }, 400, { error: 'invalid_client_metadata', error_description: `Unknown token-exchange audience "https://unknown.admin.example": register the resource server first (or use ${own})` }],
      [{ audience: [own] }, 400, { error: 'invalid_request', error_description: 'Unknown field "token_exchange.audience"; expected audiences, impersonation, refresh_tokens' }],
      [{ impersonation: 'yes' }, 400, { error: 'invalid_request', error_description: '"impersonation" must be true or false' }],
      [[own], 400, { error: 'invalid_request', error_description: '"token_exchange" must be an object or null' }],
    ];
    for (const [policy, status, body] of cases) {
      const r = await call('PATCH', `/admin/api/apps/${id}`, { body: { token_exchange: policy } });
      expect({ status: r.status, json: r.json }).toEqual({ status, json: body });
    }
    const pub = await call('POST', '/admin/api/apps', { body: { name: 'Public exchanger', client_type: 'public', redirect_uris: ['https://p.example/cb'], grant_types: ['authorization_code', TE] } });
    expect({ status: pub.status, json: pub.json }).toEqual({ status: 400, json: { error: 'invalid_client_metadata', error_description: 'Public applications cannot use token exchange (it needs client authentication)' } });
  });

  it('reports validation errors from the service as they are', async () => {
    const badUri = await call('POST', '/admin/api/apps', { body: { name: 'Bad', redirect_uris: ['https://client.example/cb#frag'] } });
    expect(badUri.status).toBe(400);
    expect(badUri.json).toEqual({ error: 'invalid_redirect_uri', error_description: 'A redirect URI must not contain a fragment' });

    const http = await call('POST', '/admin/api/apps', { body: { name: 'Bad', redirect_uris: ['http://client.example/cb'] } });
    expect(http.status).toBe(400);
    expect(http.json['error']).toBe('invalid_redirect_uri');

    const badScope = await call('POST', '/admin/api/apps', { body: { name: 'Bad', redirect_uris: ['https://client.example/cb'], scopes: ['nope'] } });
    expect(badScope.status).toBe(400);
    expect(badScope.json).toEqual({ error: 'invalid_client_metadata', error_description: 'Unknown scope "nope"; create it first' });

    const noName = await call('POST', '/admin/api/apps', { body: { redirect_uris: ['https://client.example/cb'] } });
    expect(noName.status).toBe(400);
    expect(noName.json).toEqual({ error: 'invalid_request', error_description: '"name" is required' });

    const unknownField = await call('POST', '/admin/api/apps', { body: { name: 'Typo', redirect_uri: 'https://client.example/cb' } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json['error']).toBe('invalid_request');
    expect(String(unknownField.json['error_description'])).toMatch(/^Unknown field "redirect_uri"/);

    const wrongType = await call('POST', '/admin/api/apps', { body: { name: 'Typed', grant_types: 'client_credentials', internal: 'yes' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json).toEqual({ error: 'invalid_request', error_description: '"internal" must be true or false' });

    const badTtl = await call('POST', '/admin/api/apps', { body: { name: 'TTL', grant_types: ['client_credentials'], access_ttl: -5 } });
    expect(badTtl.status).toBe(400);
    expect(badTtl.json['error']).toBe('invalid_client_metadata');

    const unknownOrg = await call('POST', '/admin/api/apps', { body: { name: 'Orgless', grant_types: ['client_credentials'], org: 'No Such Org' } });
    expect(unknownOrg.status).toBe(400);
    expect(unknownOrg.json).toEqual({ error: 'invalid_request', error_description: 'No organization named "No Such Org"' });

    const notObject = await call('POST', '/admin/api/apps', { body: ['name'] });
    expect(notObject.status).toBe(400);
    expect(notObject.json).toEqual({ error: 'invalid_request', error_description: 'The request body must be a JSON object' });

    const badJson = await fetch(`${s.url}/admin/api/apps`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{nope' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({ error: 'invalid_request', error_description: 'The request body is not valid JSON' });

    // Form bodies work too (repeated fields are lists).
    const form = await fetch(`${s.url}/admin/api/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Form+App&grant_types=authorization_code&grant_types=refresh_token&redirect_uris=https%3A%2F%2Fform.example%2Fcb&scope=profile+email&access_ttl=900',
    });
    expect(form.status).toBe(201);
    const formJson = (await form.json()) as Json;
    secrets.push(String(formJson['client_secret']));
    expect(formJson).toMatchObject({
      name: 'Form App',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://form.example/cb'],
      scopes: ['profile', 'email'],
      access_ttl: 900,
    });
  });

  it('creates an internal app whose owner gets a refresh token, shown once', async () => {
    const res = await call('POST', '/admin/api/apps', {
      body: { name: 'Internal', internal: true, owner: 'admin@localhost', grant_types: ['refresh_token', 'client_credentials'], scopes: ['profile'] },
    });
    expect(res.status).toBe(201);
    const refresh = String(res.json['refresh_token']);
    secrets.push(refresh, String(res.json['client_secret']));
    expect(refresh).toMatch(/^tgr_/);
    const shown = await call('GET', `/admin/api/apps/${String(res.json['client_id'])}`);
    expect(shown.json).not.toHaveProperty('refresh_token');
  });

  it('creates, lists and disables users; a disabled user’s tokens fail at once', async () => {
    await call('POST', '/admin/api/orgs', { body: { name: 'Carol Co' } });
    const created = await call('POST', '/admin/api/users', { body: { email: 'Carol@Example.com', password: 'carol-password-1', org: 'Carol Co', role: 'admin' } });
    expect(created.status).toBe(201);
    const carolId = String(created.json['id']);
    expect(created.json).toMatchObject({ email: 'carol@example.com', is_admin: false, disabled: false, organizations: [{ name: 'Carol Co', role: 'admin' }] });
    expect(created.text).not.toContain('carol-password-1');
    expect(created.json).not.toHaveProperty('password_hash');
    const named = await call('PATCH', `/admin/api/users/${carolId}`, { body: { name: 'Carol Danvers', given_name: 'Carol', email_verified: true } });
    expect(named.status).toBe(200);
    expect(named.json).toMatchObject({ name: 'Carol Danvers', given_name: 'Carol', family_name: null, email_verified: true });
    const unnamed = await call('PATCH', `/admin/api/users/${carolId}`, { body: { name: null } });
    expect(unnamed.json).toMatchObject({ name: null, given_name: 'Carol', email_verified: true });
    const tooLong = await call('PATCH', `/admin/api/users/${carolId}`, { body: { family_name: 'x'.repeat(201) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toEqual({ error: 'invalid_request', error_description: 'The family name is too long (200 max)' });

    const dup = await call('POST', '/admin/api/users', { body: { email: 'carol@example.com', password: 'carol-password-1' } });
    expect(dup.status).toBe(400);
    expect(dup.json).toEqual({ error: 'invalid_request', error_description: 'A user with the email carol@example.com already exists' });
    const short = await call('POST', '/admin/api/users', { body: { email: 'eve@example.com', password: 'short' } });
    expect(short.status).toBe(400);
    expect(short.json['error']).toBe('invalid_request');
    const roleOnly = await call('POST', '/admin/api/users', { body: { email: 'eve@example.com', password: 'long-enough-1', role: 'member' } });
    expect(roleOnly.status).toBe(400);

    // A token acting for Carol works at /api/ until she is disabled.
    const app = await call('POST', '/admin/api/apps', { body: { name: 'Carol bot', grant_types: ['client_credentials'], scopes: ['profile'], acts_as: 'carol@example.com' } });
    expect(app.status).toBe(201);
    expect(app.json['acts_as_user_id']).toBe(carolId);
    secrets.push(String(app.json['client_secret']));
    const tok = await clientCredentials(String(app.json['client_id']), String(app.json['client_secret']));
    const carolToken = String(tok.json['access_token']);
    expect(await apiStatus(carolToken)).toBe(200);

    const disabled = await call('PATCH', `/admin/api/users/${carolId}`, { body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.json).toMatchObject({ id: carolId, email: 'carol@example.com', disabled: true });
    expect(await apiStatus(carolToken)).toBe(401);

    const list = await call('GET', '/admin/api/users');
    expect(list.status).toBe(200);
    const items = list.json['items'] as Json[];
    expect(items.find((u) => u['email'] === 'carol@example.com')).toMatchObject({ disabled: true });
    expect(items.find((u) => u['email'] === 'admin@localhost')).toMatchObject({ id: adminId, is_admin: true, disabled: false });
    expect(list.text).not.toContain('password');

    const enabled = await call('PATCH', `/admin/api/users/${carolId}`, { form: { disabled: 'false' } });
    expect(enabled.status).toBe(200);
    expect(enabled.json['disabled']).toBe(false);
    // Issue #15 §8: disabling revoked her tokens; enabling her again brings none of them back.
    expect(await apiStatus(carolToken)).toBe(401);
    expect((await s.ctx.storage.tokens.byHash(sha256(carolToken)))?.revokedAt).not.toBeNull();
    const fresh = await clientCredentials(String(app.json['client_id']), String(app.json['client_secret']));
    expect(await apiStatus(String(fresh.json['access_token']))).toBe(200);

    const unknown = await call('PATCH', '/admin/api/users/no-such-user', { body: { disabled: true } });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'not_found', error_description: 'No user with the id no-such-user' });

    const self = await call('PATCH', `/admin/api/users/${adminId}`, { body: { disabled: true } });
    expect(self.status).toBe(400);
    expect(self.json['error']).toBe('invalid_request');
    expect((await s.ctx.storage.users.byId(adminId))?.disabled).toBe(false);
  });

  it('creates and lists organizations', async () => {
    const res = await call('POST', '/admin/api/orgs', { body: { name: '  Globex  ' } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ id: expect.any(String), name: 'Globex', created_at: expect.any(String) });
    const form = await call('POST', '/admin/api/orgs', { form: { name: 'Initech' } });
    expect(form.status).toBe(201);
    const dup = await call('POST', '/admin/api/orgs', { body: { name: 'Globex' } });
    expect(dup.status).toBe(400);
    expect(dup.json).toEqual({ error: 'invalid_request', error_description: 'The organization "Globex" already exists' });
    const missing = await call('POST', '/admin/api/orgs', { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ error: 'invalid_request', error_description: '"name" is required' });
    const list = await call('GET', '/admin/api/orgs');
    expect((list.json['items'] as Json[]).map((o) => o['name'])).toEqual(expect.arrayContaining(['Globex', 'Initech']));
  });

  it('creates scopes and resource servers', async () => {
    const scope = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', description: 'Read reports' } });
    expect(scope.status).toBe(201);
    expect(scope.json).toEqual({ name: 'reports:read', description: 'Read reports', descriptions: {}, resource_server: null, is_default: false, created_at: expect.any(String) });
    const again = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', description: 'Read all reports', is_default: true } });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ description: 'Read all reports', is_default: true, created_at: scope.json['created_at'] });
    // Descriptions per locale (issue #12 item 8): given ones replace, omitted ones are kept.
    const localized = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', description: 'Read all reports', descriptions: { fr: 'Lire les rapports', de: 'Berichte lesen', es: '' } } });
    expect(localized.status).toBe(200);
    expect(localized.json['descriptions']).toEqual({ de: 'Berichte lesen', fr: 'Lire les rapports' });
    const kept = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', description: 'Read every report' } });
    expect(kept.json).toMatchObject({ description: 'Read every report', descriptions: { de: 'Berichte lesen', fr: 'Lire les rapports' } });
    const badLocale = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', descriptions: { xx: 'Nope' } } });
    expect(badLocale.status).toBe(400);
    expect(badLocale.json).toEqual({ error: 'invalid_request', error_description: 'Unknown locale "xx" for a scope description; shipped: en, fr, de, es, it' });
    const notMap = await call('POST', '/admin/api/scopes', { body: { name: 'reports:read', descriptions: ['fr'] } });
    expect(notMap.status).toBe(400);
    expect(notMap.json).toEqual({ error: 'invalid_request', error_description: '"descriptions" must be a JSON object of texts by locale, e.g. {"fr": "text"}' });
    const bad = await call('POST', '/admin/api/scopes', { body: { name: 'bad scope' } });
    expect(bad.status).toBe(400);
    expect(bad.json['error']).toBe('invalid_request');
    const noRs = await call('POST', '/admin/api/scopes', { body: { name: 'x:y', resource_server: 'https://nowhere.example' } });
    expect(noRs.status).toBe(400);
    expect(noRs.json).toEqual({ error: 'invalid_request', error_description: 'No resource server with the identifier https://nowhere.example' });

    const rs = await call('POST', '/admin/api/resource-servers', {
      body: { identifier: 'https://reports.example/api', name: 'Reports', scopes: [{ name: 'reports:write', description: 'Write reports' }] },
    });
    expect(rs.status).toBe(201);
    expect(rs.json).toEqual({ identifier: 'https://reports.example/api', name: 'Reports', scopes: ['reports:write'], introspectors: [], created_at: expect.any(String) });
    const dup = await call('POST', '/admin/api/resource-servers', { body: { identifier: 'https://reports.example/api', name: 'Again' } });
    expect(dup.status).toBe(400);
    const badId = await call('POST', '/admin/api/resource-servers', { body: { identifier: 'not a uri', name: 'Bad' } });
    expect(badId.status).toBe(400);
    expect(badId.json['error']).toBe('invalid_request');
    const badScopes = await call('POST', '/admin/api/resource-servers', { body: { identifier: 'https://x.example', scopes: ['a'] } });
    expect(badScopes.status).toBe(400);

    const servers = await call('GET', '/admin/api/resource-servers');
    expect(servers.json['items']).toEqual([{ identifier: 'https://reports.example/api', name: 'Reports', scopes: ['reports:write'], introspectors: [], created_at: expect.any(String) }]);
    // Issue #15 §6: its introspectors are named on creation (confidential applications only).
    const api = await call('POST', '/admin/api/apps', { body: { name: 'Analytics API', grant_types: ['client_credentials'] } });
    secrets.push(String(api.json['client_secret']));
    const named = await call('POST', '/admin/api/resource-servers', { body: { identifier: 'https://analytics.example/api', introspectors: [api.json['client_id']] } });
    expect(named.status).toBe(201);
    expect(named.json['introspectors']).toEqual([api.json['client_id']]);
    const unknown = await call('POST', '/admin/api/resource-servers', { body: { identifier: 'https://b.example/api', introspectors: ['tgc_nobody'] } });
    expect(unknown.json).toEqual({ error: 'invalid_request', error_description: 'No application with the client_id tgc_nobody' });
    const scopes = await call('GET', '/admin/api/scopes');
    const names = (scopes.json['items'] as Json[]).map((x) => x['name']);
    expect(names).toEqual(expect.arrayContaining(['profile', 'email', 'admin', 'reports:read', 'reports:write']));
    expect((scopes.json['items'] as Json[]).find((x) => x['name'] === 'reports:write')).toMatchObject({ resource_server: 'https://reports.example/api' });
    // An app may now use the resource server's scope.
    const app = await call('POST', '/admin/api/apps', { body: { name: 'Reports app', grant_types: ['client_credentials'], scopes: ['reports:write'] } });
    expect(app.status).toBe(201);
    secrets.push(String(app.json['client_secret']));
  });

  it('rotates the signing key: the JWKS then publishes both keys (and the ID-token key, untouched)', async () => {
    const before = await call('GET', '/admin/api/keys');
    expect(before.status).toBe(200);
    // One current key per algorithm: the access tokens' (ES256) and OpenID Connect's (RS256).
    expect(before.json['items']).toEqual([
      expect.objectContaining({ status: 'active', retired_at: null }),
      expect.objectContaining({ status: 'active', retired_at: null }),
    ]);
    const oldKid = String((before.json['items'] as Json[]).find((k) => k['alg'] === 'ES256')?.['kid']);
    const rsaKid = String((before.json['items'] as Json[]).find((k) => k['alg'] === 'RS256')?.['kid']);

    const badAlg = await call('POST', '/admin/api/keys/rotate', { body: { alg: 'HS256' } });
    expect(badAlg.status).toBe(400);
    expect(badAlg.json).toEqual({ error: 'invalid_request', error_description: '"alg" must be one of: ES256, RS256, EdDSA' });

    const rotated = await call('POST', '/admin/api/keys/rotate', { body: {} });
    expect(rotated.status).toBe(201);
    expect(rotated.json).toMatchObject({ alg: 'ES256', status: 'active', retired_at: null });
    expect(rotated.json['kid']).not.toBe(oldKid);
    expect(JSON.stringify(rotated.json)).not.toMatch(/"d"|private/i);

    const jwks = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: Json[] };
    expect(jwks.keys).toHaveLength(3);
    expect(jwks.keys.map((k) => k['kid']).sort()).toEqual([oldKid, rsaKid, rotated.json['kid']].sort());

    const after = await call('GET', '/admin/api/keys');
    const items = after.json['items'] as Json[];
    expect(items).toHaveLength(3);
    expect(items.find((k) => k['kid'] === oldKid)).toMatchObject({ status: 'retired (published)' });
    expect(items.find((k) => k['kid'] === rsaKid)).toMatchObject({ status: 'active' });
  });

  it('lists audit events newest first, attributed to the admin, with no secret values', async () => {
    const created = await call('POST', '/admin/api/apps', { body: { name: 'Audited', grant_types: ['client_credentials'] } });
    const clientId = String(created.json['client_id']);
    secrets.push(String(created.json['client_secret']));
    await call('POST', `/admin/api/apps/${clientId}/rotate-secret`).then((r) => secrets.push(String(r.json['client_secret'])));
    await call('POST', `/admin/api/apps/${clientId}/deactivate`);

    const res = await call('GET', `/admin/api/audit?client_id=${clientId}`);
    expect(res.status).toBe(200);
    const events = res.json['items'] as Json[];
    expect(events.map((e) => e['type'])).toEqual(['app.deactivated', 'app.secret_rotated', 'app.created']);
    for (const e of events) expect(e).toMatchObject({ actor_user_id: adminId, client_id: clientId, ip: '127.0.0.1' });
    const times = events.map((e) => Date.parse(String(e['at'])));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const onlyCreated = await call('GET', '/admin/api/audit?type=app.created&limit=2');
    expect(onlyCreated.json['items']).toHaveLength(2);
    expect((onlyCreated.json['items'] as Json[]).every((e) => e['type'] === 'app.created')).toBe(true);
    expect((onlyCreated.json['items'] as Json[])[0]?.['client_id']).toBe(clientId);

    const all = await call('GET', '/admin/api/audit?limit=1000');
    expect((all.json['items'] as Json[]).length).toBeGreaterThan(10);
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(all.text).not.toContain(secret);
    expect(all.text).not.toMatch(/tg[sar]_/);
    expect((await call('GET', '/admin/api/audit?limit=1001')).status).toBe(400);
  });

  it('pages every list the same way: limit and cursor in, { items, next } out (issue #15 §12)', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await call('POST', '/admin/api/users', { body: { email: `pager-${i}@example.com`, password: 'pager-password-1' } })).status).toBe(201);
      expect((await call('POST', '/admin/api/orgs', { body: { name: `Pager Org ${i}` } })).status).toBe(201);
    }
    // Walks a list to the end by `next`, two at a time; every item once.
    const walk = async (path: string, key: string): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let guard = 0; guard < 100; guard++) {
        const sep = path.includes('?') ? '&' : '?';
        const res = await call('GET', `${path}${sep}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status, path).toBe(200);
        const items = res.json['items'] as Json[];
        expect(items.length, path).toBeLessThanOrEqual(2);
        seen.push(...items.map((x) => String(x[key])));
        cursor = res.json['next'] as string | null;
        if (cursor === null) return seen;
        expect(typeof cursor).toBe('string');
      }
      throw new Error(`${path} never ended`);
    };
    const users = await walk('/admin/api/users?q=pager-', 'email');
    expect(users).toEqual([0, 1, 2, 3, 4].map((i) => `pager-${i}@example.com`));
    expect(await walk('/admin/api/orgs?q=pager org', 'name')).toEqual([0, 1, 2, 3, 4].map((i) => `Pager Org ${i}`));
    const allUsers = await walk('/admin/api/users', 'id');
    expect(new Set(allUsers).size).toBe(allUsers.length);
    expect(allUsers.length).toBeGreaterThanOrEqual(6);
    const scopes = await walk('/admin/api/scopes', 'name');
    expect(scopes).toEqual([...scopes].sort());
    expect(scopes).toContain('admin');
    expect(new Set(await walk('/admin/api/keys', 'kid')).size).toBeGreaterThanOrEqual(1);
    await walk('/admin/api/resource-servers', 'identifier');
    const audit = await walk('/admin/api/audit?type=user.created', 'id');
    expect(audit.length).toBeGreaterThanOrEqual(5);
    expect(new Set(audit).size).toBe(audit.length);
    // The users page carries each user's organizations.
    const one = await call('GET', `/admin/api/users?q=${encodeURIComponent('admin@localhost')}`);
    expect(one.json).toMatchObject({ items: [{ email: 'admin@localhost', organizations: expect.any(Array) }], next: null });
    for (const path of ['/admin/api/users', '/admin/api/orgs', '/admin/api/scopes', '/admin/api/keys', '/admin/api/resource-servers', '/admin/api/audit']) {
      for (const bad of ['cursor=%25%25', 'limit=0', 'limit=x']) {
        const res = await call('GET', `${path}?${bad}`);
        expect(res.status, `${path}?${bad}`).toBe(400);
        expect(res.json['error'], `${path}?${bad}`).toBe('invalid_request');
      }
    }
  });

  it('revokes one token, an app’s tokens, or a user’s tokens for an app', async () => {
    const app = await s.createApp({ name: 'Revokable', grantTypes: ['client_credentials'], scopes: ['profile'], actsAsUserId: adminId });
    const secret = app.clientSecret ?? '';
    const clientId = app.client.clientId;
    const issue = async (): Promise<string> => String((await clientCredentials(clientId, secret)).json['access_token']);
    const [t1, t2, t3] = [await issue(), await issue(), await issue()];

    const one = await call('POST', '/admin/api/tokens/revoke', { body: { token: t1 } });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ revoked: 1 });
    expect(await apiStatus(t1)).toBe(401);
    expect(await apiStatus(t2)).toBe(200);

    const forUser = await call('POST', '/admin/api/tokens/revoke', { body: { client_id: clientId, user_email: 'admin@localhost' } });
    expect(forUser.status).toBe(200);
    expect(forUser.json).toEqual({ revoked: 2 });
    expect(await apiStatus(t2)).toBe(401);
    expect(await apiStatus(t3)).toBe(401);

    const t4 = await issue();
    const all = await call('POST', '/admin/api/tokens/revoke', { form: { client_id: clientId } });
    expect(all.status).toBe(200);
    expect(all.json).toEqual({ revoked: 1 });
    expect(await apiStatus(t4)).toBe(401);

    const unknownToken = await call('POST', '/admin/api/tokens/revoke', { body: { token: 'tga_unknown' } });
    expect(unknownToken.status).toBe(404);
    expect(unknownToken.json).toEqual({ error: 'not_found', error_description: 'Unknown token: not issued by this server, or expired and purged' });
    const unknownClient = await call('POST', '/admin/api/tokens/revoke', { body: { client_id: 'tgc_nope' } });
    expect(unknownClient.status).toBe(404);
    expect(unknownClient.json).toEqual({ error: 'not_found', error_description: 'No application with the client_id tgc_nope' });
    const unknownUser = await call('POST', '/admin/api/tokens/revoke', { body: { client_id: clientId, user_email: 'ghost@example.com' } });
    expect(unknownUser.status).toBe(404);
    const both = await call('POST', '/admin/api/tokens/revoke', { body: { token: t4, client_id: clientId } });
    expect(both.status).toBe(400);
    expect(both.json).toEqual({ error: 'invalid_request', error_description: '"token" cannot be combined with "client_id" or "user_email"' });
    const none = await call('POST', '/admin/api/tokens/revoke', { body: {} });
    expect(none.status).toBe(400);
    expect(none.json).toEqual({ error: 'invalid_request', error_description: 'Give "token", "client_id", or "client_id" with "user_email"' });
    const userOnly = await call('POST', '/admin/api/tokens/revoke', { body: { user_email: 'admin@localhost' } });
    expect(userOnly.status).toBe(400);

    // The admin's own token was not touched.
    expect((await call('GET', '/admin/api/orgs')).status).toBe(200);
  });

  it('documents every admin operation in the OpenAPI document with the admin scope', async () => {
    const res = await fetch(`${s.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, unknown> } };
    const documented: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/admin/api')) continue;
      for (const [method, op] of Object.entries(ops)) {
        documented.push(`${method} ${path}`);
        const scope = LOGIN_PATHS.includes(`${method} ${path}`) ? 'login' : 'admin';
        expect(op['security'], `${method} ${path}`).toEqual([{ bearer: [scope] }]);
        expect(op['x-required-scopes'], `${method} ${path}`).toEqual([scope]);
        const responses = op['responses'] as Record<string, unknown>;
        expect(Object.keys(responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
      }
    }
    expect(documented.sort()).toEqual([...ADMIN_PATHS, ...LOGIN_PATHS].sort());
    // The protocol entries are still there, and every $ref resolves.
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/oauth/token', '/oauth/authorize', '/api/', '/api/me', '/.well-known/jwks.json']));
    for (const m of JSON.stringify(doc).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g)) {
      expect(doc.components.schemas, m[1]).toHaveProperty(m[1] ?? '');
    }
    // Every documented operation is a real route that wants the admin token.
    for (const entry of ADMIN_PATHS) {
      const [method = '', path = ''] = entry.split(' ');
      const real = await call(method.toUpperCase(), path.replace('{clientId}', 'tgc_x').replace('{id}', 'x'), { token: null });
      expect(real.status, entry).toBe(401);
      expect(real.headers.get('www-authenticate'), entry).toBe(`Bearer realm="tollgate", scope="admin", resource_metadata="${s.issuer}/.well-known/oauth-protected-resource/api"`);
    }
    const docs = await (await fetch(`${s.url}/docs`)).text();
    expect(docs).toContain('/admin/api/apps/{clientId}/rotate-secret');
  });
});
