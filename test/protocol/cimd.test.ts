/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; issue #13 items 1–2),
 * over HTTP: oauth4webapi as an MCP-style public client whose client_id is the URL of a document
 * served by this test on 127.0.0.1 (TOLLGATE_CIMD_INSECURE_LOOPBACK, development only), a
 * cookie-keeping client as the person. The SSRF classes run against an instance with the
 * production rules and a stub DNS resolver, so that nothing leaves this machine.
 * Run on SQLite and PostgreSQL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LookupAddress } from 'node:dns';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, adminBearer, authorize, describeEachDb, hiddenField, postForm, startTestServer, type TestServer } from '../helpers/server.js';
import { outboundClient } from '../../src/net/outbound.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import { cacheSeconds } from '../../src/net/outbound.js';
import { clientIdUrlProblem } from '../../src/features/client-id-metadata/policy.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e70000000049454e44ae426082', 'hex');

interface Served {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  delayMs?: number;
}

/** The documents' host: a route table, and how often each path was fetched (with what headers). */
class DocumentHost {
  readonly routes = new Map<string, Served>();
  readonly hits = new Map<string, number>();
  readonly lastHeaders = new Map<string, IncomingMessage['headers']>();
  private server: Server | null = null;
  origin = '';

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      this.lastHeaders.set(path, req.headers);
      const r = this.routes.get(path);
      const send = (): void => {
        if (!r) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers }).end(r.body);
      };
      if (r?.delayMs) setTimeout(send, r.delayMs).unref();
      else send();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.origin = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  }

  /** Serves a document at `path` whose client_id is its own URL (unless `fields` says otherwise). */
  document(path: string, fields: Record<string, unknown> = {}, served: Omit<Served, 'body'> = {}): string {
    const clientId = `${this.origin}${path}`;
    this.routes.set(path, {
      ...served,
      body: JSON.stringify({ client_id: clientId, client_name: 'Research Agent', redirect_uris: [`${this.origin}/callback`], ...fields }),
    });
    return clientId;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function authorizeUrl(s: TestServer, clientId: string, redirectUri: string, extra: Record<string, string> = {}): Promise<{ url: string; verifier: string; state: string }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  return oauth.calculatePKCECodeChallenge(verifier).then((challenge) => {
    const url = new URL(`${s.issuer}/oauth/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'profile', state, code_challenge: challenge, code_challenge_method: 'S256', ...extra })) {
      url.searchParams.set(k, v);
    }
    return { url: url.href, verifier, state };
  });
}

describeEachDb('Client ID Metadata Documents', (start) => {
  let s: TestServer;
  let host: DocumentHost;
  let person: Browser;
  let userId: string;
  let as: oauth.AuthorizationServer;
  let adminToken: string;

  beforeAll(async () => {
    host = new DocumentHost();
    await host.start();
    s = await start({
      env: {
        TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true',
        TOLLGATE_CIMD_TIMEOUT_MS: '400',
        TOLLGATE_CIMD_MAX_BYTES: '2048',
        TOLLGATE_CIMD_CACHE_MIN: '60',
        TOLLGATE_CIMD_CACHE_MAX: '3600',
      },
    });
    userId = (await s.createUser('agent-user@example.com')).id;
    person = new Browser(s.url);
    expect((await person.login('agent-user@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const issuer = new URL(s.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    // An administrator's token for the admin API (the block-list).
    adminToken = await adminBearer(s, 'cimd-admin@example.com');
  });
  afterAll(async () => {
    await s?.close();
    await host?.close();
  });

  const page = async (url: string): Promise<{ status: number; body: string }> => {
    const res = await person.fetch(url);
    return { status: res.status, body: await res.text() };
  };

  it('metadata advertises client_id_metadata_document_supported', async () => {
    expect(as['client_id_metadata_document_supported']).toBe(true);
  });

  it('end to end: the document is fetched once, the consent page names its host, the code flow and refresh work, the app is listed', async () => {
    const clientId = host.document('/agents/research.json', { logo_uri: `${host.origin}/logo.png`, client_uri: 'https://agent.example/' }, { headers: { 'cache-control': 'max-age=600', etag: '"v1"' } });
    host.routes.set('/logo.png', { body: PNG, headers: { 'content-type': 'image/png' } });
    const redirectUri = `${host.origin}/callback`;
    const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: 'none' };
    const { url, verifier, state } = await authorizeUrl(s, clientId, redirectUri);

    const consent = await page(url);
    expect(consent.status).toBe(200);
    expect(host.count('/agents/research.json')).toBe(1);
    expect(host.lastHeaders.get('/agents/research.json')?.['accept']).toBe('application/json');
    expect(consent.body).toContain('Research Agent wants to access your account');
    // The two things a person can check: where the document lives, where they will be sent.
    expect(consent.body).toContain(`This application identifies itself with a document published at <strong>${new URL(clientId).host}</strong>.`);
    expect(consent.body).toContain(`You will be sent to <strong>${new URL(redirectUri).host}</strong>`);
    // Every redirect URI is on this computer: the impersonation warning.
    expect(consent.body).toContain('Every address this application returns to is on your own computer (localhost)');
    // The logo is Tollgate's own copy, never the document's URL.
    const logoSrc = `${s.issuer}/client-logo?client_id=${encodeURIComponent(clientId)}`;
    expect(consent.body).toContain(`src="${logoSrc.replace(/&/g, '&amp;')}"`);
    expect(consent.body).not.toContain(`${host.origin}/logo.png`);
    const logo = await fetch(logoSrc);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await logo.arrayBuffer()).equals(PNG)).toBe(true);

    const out = await authorize(person, url);
    expect(out.status).toBe(303);
    const params = oauth.validateAuthResponse(as, client, new URL(out.location ?? ''), state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure));
    expect(tokens.scope).toBe('profile');
    expect(tokens.refresh_token).toMatch(/^tgr_/);
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', insecure));
    expect(refreshed.access_token).toMatch(/^tga_/);
    // Cached: one fetch for the whole flow (page, approval, token, refresh).
    expect(host.count('/agents/research.json')).toBe(1);
    expect(host.count('/logo.png')).toBe(1);

    const stored = await s.ctx.storage.clients.byId(clientId);
    expect(stored).toMatchObject({ clientType: 'public', grantTypes: ['authorization_code', 'refresh_token'], website: 'https://agent.example/', dynamic: false, ownerId: null });
    expect(stored?.metadataDocument?.etag).toBe('"v1"');
    expect((stored?.metadataDocument?.expiresAt ?? 0) - (stored?.metadataDocument?.fetchedAt ?? 0)).toBe(600_000);
    expect((await s.ctx.storage.audit.list({ type: 'app.registered', clientId }))[0]?.details).toMatchObject({ via: 'metadata document' });
    // Listed like any other application: Connected applications and the admin API (with its URL).
    expect(await (await person.fetch('/account/apps')).text()).toContain('Research Agent');
    const listed = await fetch(`${s.url}/admin/api/apps/${encodeURIComponent(clientId)}`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as Record<string, unknown>)['metadata_document']).toMatchObject({ url: clientId, logo_source: `${host.origin}/logo.png` });
    expect((await s.ctx.storage.consents.get(userId, clientId))?.scope).toBe('profile');
  });

  it('Connected applications: the app shows its URL, and the person can revoke it (the URL as a path segment)', async () => {
    const clientId = `${host.origin}/agents/research.json`;
    const apps = await (await person.fetch('/account/apps')).text();
    expect(apps).toContain(`<p class="muted"><code>${clientId}</code></p>`);
    const action = `/account/apps/${encodeURIComponent(clientId)}/revoke`;
    expect(apps).toContain(`<form method="post" action="${action}">`);
    const csrf = hiddenField(apps, 'csrf');
    const ask = await person.postForm(action, [['csrf', csrf]]);
    expect(ask.status).toBe(200);
    expect(await ask.text()).toContain('Research Agent');
    const res = await person.postForm(action, [['csrf', csrf], ['confirm', 'yes']]);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/account/apps?done=revoked');
    expect(await s.ctx.storage.consents.get(userId, clientId)).toBeNull();
  });

  it('a stale copy is fetched again with If-None-Match; 304 only extends it; a changed document updates the app', async () => {
    const path = '/agents/stale.json';
    const clientId = host.document(path, {}, { headers: { etag: '"a"' } });
    const { url } = await authorizeUrl(s, clientId, `${host.origin}/callback`);
    expect((await page(url)).status).toBe(200);
    expect(host.count(path)).toBe(1);
    const expire = async (): Promise<void> => {
      const c = await s.ctx.storage.clients.byId(clientId);
      await s.ctx.storage.clients.update(clientId, { metadataDocument: { ...(c?.metadataDocument ?? { etag: null, logoSource: null, fetchedAt: 0 }), expiresAt: Date.now() - 1 } }, Date.now());
    };
    await expire();
    host.routes.set(path, { status: 304, body: '', headers: { etag: '"a"', 'cache-control': 'max-age=120' } });
    expect((await page(url)).status).toBe(200);
    expect(host.count(path)).toBe(2);
    expect(host.lastHeaders.get(path)?.['if-none-match']).toBe('"a"');
    const after304 = await s.ctx.storage.clients.byId(clientId);
    expect((after304?.metadataDocument?.expiresAt ?? 0) - (after304?.metadataDocument?.fetchedAt ?? 0)).toBe(120_000);
    expect(after304?.name).toBe('Research Agent');

    await expire();
    host.document(path, { client_name: 'Research Agent v2' });
    expect((await page(url)).body).toContain('Research Agent v2 wants to access your account');
    expect(host.count(path)).toBe(3);
  });

  it('HTTP caching is honoured within the configured bounds (60–3600 s here)', () => {
    const now = Date.now();
    expect(cacheSeconds({ 'cache-control': 'max-age=5' }, 60, 3600, now)).toBe(60);
    expect(cacheSeconds({ 'cache-control': 'public, max-age=1200' }, 60, 3600, now)).toBe(1200);
    expect(cacheSeconds({ 'cache-control': 'max-age=999999999' }, 60, 3600, now)).toBe(3600);
    expect(cacheSeconds({ 'cache-control': 'no-store' }, 60, 3600, now)).toBe(60);
    expect(cacheSeconds({ expires: new Date(now + 900_000).toUTCString() }, 60, 3600, now)).toBeGreaterThanOrEqual(899);
    expect(cacheSeconds({}, 60, 3600, now)).toBe(60);
  });

  it('errors are never cached: a failing document is fetched again on the next use, and then works', async () => {
    const path = '/agents/flaky.json';
    const clientId = `${host.origin}${path}`;
    host.routes.set(path, { status: 500, body: '{}' });
    const { url } = await authorizeUrl(s, clientId, `${host.origin}/callback`);
    const first = await page(url);
    expect(first.status).toBe(400);
    expect(first.body).toContain('The application&#39;s metadata document cannot be used: its URL answered 500');
    expect(await s.ctx.storage.clients.byId(clientId)).toBeNull();
    host.document(path);
    expect((await page(url)).status).toBe(200);
    expect(host.count(path)).toBe(2);
  });

  const refusals: Array<[string, (path: string, clientId: string) => Served, string]> = [
    ['client_id mismatch (a trailing slash)', (_p, id) => ({ body: JSON.stringify({ client_id: `${id}/`, client_name: 'X', redirect_uris: ['https://x.example/cb'] }) }), 'its client_id is not exactly the URL it was fetched from'],
    ['client_id mismatch (case)', (_p, id) => ({ body: JSON.stringify({ client_id: id.toUpperCase(), client_name: 'X', redirect_uris: ['https://x.example/cb'] }) }), 'its client_id is not exactly the URL it was fetched from'],
    ['no client_name', (_p, id) => ({ body: JSON.stringify({ client_id: id, redirect_uris: ['https://x.example/cb'] }) }), 'client_name is required'],
    ['no redirect_uris', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X' }) }), 'redirect_uris is required'],
    ['a symmetric method', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }) }), 'token_endpoint_auth_method client_secret_basic needs a shared secret, which a public document cannot hold'],
    ['client_secret_jwt', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'client_secret_jwt' }) }), 'token_endpoint_auth_method client_secret_jwt needs a shared secret, which a public document cannot hold'],
    ['a client_secret', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], client_secret: 'shh' }) }), 'it carries a client_secret, which a public document cannot keep secret'],
    ['a private key', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } }) }), 'jwks holds private or symmetric key material'],
    ['a symmetric key', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }) }), 'jwks holds private or symmetric key material'],
    ['a bad redirect URI', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['javascript:alert(1)'] }) }), 'redirect_uris: The scheme javascript: is not allowed'],
    ['not JSON', () => ({ body: 'hello' }), 'it is not valid JSON'],
    ['a JSON array', () => ({ body: '[]' }), 'it is not a JSON object'],
    ['served as text/html', (_p, id) => ({ headers: { 'content-type': 'text/html' }, body: JSON.stringify({ client_id: id }) }), 'it is not served as application/json'],
    ['a redirect (not followed)', () => ({ status: 302, headers: { location: '/agents/target.json' }, body: '' }), 'its URL answered with a redirect (302), which is not followed'],
    ['oversize (2 KiB bound)', (_p, id) => ({ body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'], padding: 'x'.repeat(3000) }) }), 'it is larger than this server accepts'],
    ['slow (400 ms bound)', (_p, id) => ({ delayMs: 1500, body: JSON.stringify({ client_id: id, client_name: 'X', redirect_uris: ['https://x.example/cb'] }) }), 'its host did not answer in time'],
  ];
  for (const [name, served, message] of refusals) {
    it(`refused: ${name}`, async () => {
      const path = `/refused/${name.replace(/[^a-z]+/gi, '-')}.json`;
      const clientId = `${host.origin}${path}`;
      host.routes.set(path, served(path, clientId));
      const { url } = await authorizeUrl(s, clientId, 'https://x.example/cb');
      const res = await page(url);
      expect(res.status).toBe(400);
      expect(res.body.replace(/&#39;/g, "'")).toContain(`The application's metadata document cannot be used: ${message}`);
      expect(await s.ctx.storage.clients.byId(clientId)).toBeNull();
      expect(host.count('/agents/target.json')).toBe(0);
      // The token endpoint says the same, as RFC 6749 §5.2 JSON.
      const token = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'tgr_x', client_id: clientId });
      expect(token.status).toBe(401);
      expect(token.json).toEqual({ error: 'invalid_client', error_description: `The application's metadata document cannot be used: ${message}` });
    });
  }

  it('client_id URLs that are refused before any fetch: userinfo, fragment, dot segments, no path, a query-less root', async () => {
    const o = host.origin;
    const cases: Array<[string, string]> = [
      [o.replace('http://', 'http://user:pw@') + '/a.json', 'a client_id URL must not contain a user name or password'],
      [`${o}/a.json#frag`, 'a client_id URL must not contain a fragment'],
      [`${o}/agents/../a.json`, 'a client_id URL must not contain dot segments'],
      [`${o}/agents/./a.json`, 'a client_id URL must not contain dot segments'],
      [`${o}/agents/%2e%2e/a.json`, 'a client_id URL must not contain dot segments'],
      [`${o}/`, 'a client_id URL must have a path (https://host/path)'],
      [o, 'a client_id URL must have a path (https://host/path)'],
      ['http://agents.example/a.json', 'a client_id URL must use https'],
    ];
    const before = [...host.hits.values()].reduce((a, b) => a + b, 0);
    for (const [clientId, message] of cases) {
      const res = await page((await authorizeUrl(s, clientId, 'https://x.example/cb')).url);
      expect(res.status, clientId).toBe(400);
      expect(res.body.replace(/&#39;/g, "'"), clientId).toContain(`The application's metadata document cannot be used: ${message}`);
    }
    expect([...host.hits.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });

  it('grants such a client may not hold are dropped, not failed: no client credentials or device flow without private_key_jwt', async () => {
    const clientId = host.document('/agents/greedy.json', {
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange', 'implicit', 'password'],
      scope: 'profile email admin unknown-scope',
      unknown_member: { anything: true },
    });
    const { url } = await authorizeUrl(s, clientId, `${host.origin}/callback`);
    expect((await page(url)).status).toBe(200);
    const c = await s.ctx.storage.clients.byId(clientId);
    expect(c?.grantTypes).toEqual(['authorization_code', 'refresh_token']);
    // Only the scopes self-registered applications may hold (TOLLGATE_REGISTRATION_SCOPES).
    expect(c?.scopes).toEqual(['profile', 'email']);
    const cc = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', client_id: clientId });
    expect(cc.status).toBe(400);
    expect(cc.json['error']).toBe('unauthorized_client');
    const device = await postForm(`${s.url}/oauth/device_authorization`, { client_id: clientId });
    expect(device.status).toBe(400);
    expect(device.json['error']).toBe('unauthorized_client');
  });

  it('a document asking for no redirect-based grant is refused', async () => {
    const clientId = host.document('/agents/machine.json', { grant_types: ['client_credentials'] });
    const res = await page((await authorizeUrl(s, clientId, `${host.origin}/callback`)).url);
    expect(res.status).toBe(400);
    expect(res.body).toContain('it asks for no grant Tollgate gives such an application (authorization_code)');
  });

  it('an SVG logo is not kept (it can carry script): the page shows no logo', async () => {
    const clientId = host.document('/agents/svg.json', { logo_uri: `${host.origin}/logo.svg` });
    host.routes.set('/logo.svg', { body: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', headers: { 'content-type': 'image/svg+xml' } });
    const res = await page((await authorizeUrl(s, clientId, `${host.origin}/callback`)).url);
    expect(res.status).toBe(200);
    expect(host.count('/logo.svg')).toBe(1);
    expect((await s.ctx.storage.clients.byId(clientId))?.logoUri).toBeNull();
    expect(res.body).not.toContain('client-logo?');
    expect((await fetch(`${s.issuer}/client-logo?client_id=${encodeURIComponent(clientId)}`)).status).toBe(404);
  });

  it('a redirect URI off localhost: no localhost warning, its host shown', async () => {
    const clientId = host.document('/agents/web.json', { redirect_uris: ['https://agent.example/oauth/callback'] });
    const res = await page((await authorizeUrl(s, clientId, 'https://agent.example/oauth/callback')).url);
    expect(res.status).toBe(200);
    expect(res.body).toContain('You will be sent to <strong>agent.example</strong>');
    expect(res.body).not.toContain('on your own computer (localhost)');
  });

  it('the block-list: blocking the host refuses new documents and deactivates the apps already known; unblocking lets documents in again', async () => {
    const clientId = host.document('/agents/blocked.json');
    const redirectUri = `${host.origin}/callback`;
    const client: oauth.Client = { client_id: clientId, token_endpoint_auth_method: 'none' };
    const { url, verifier, state } = await authorizeUrl(s, clientId, redirectUri);
    const out = await authorize(person, url);
    const params = oauth.validateAuthResponse(as, client, new URL(out.location ?? ''), state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, insecure));
    expect((await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);

    const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const blocked = await fetch(`${s.url}/admin/api/client-metadata/blocks`, { method: 'POST', headers: admin, body: JSON.stringify({ pattern: '127.0.0.1', reason: 'impersonation report' }) });
    expect(blocked.status).toBe(201);
    const body = (await blocked.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ pattern: '127.0.0.1', reason: 'impersonation report' });
    expect(Number(body['deactivated'])).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${s.url}/admin/api/client-metadata/blocks`, { method: 'POST', headers: admin, body: JSON.stringify({ pattern: '127.0.0.1' }) })).status).toBe(200);
    const list = (await (await fetch(`${s.url}/admin/api/client-metadata/blocks`, { headers: admin })).json()) as { items: Array<{ pattern: string }>; total: number };
    expect(list.items.map((b) => b.pattern)).toEqual(['127.0.0.1']);

    // Known apps on that host are deactivated: their tokens stop working at once (A3).
    expect((await s.ctx.storage.clients.byId(clientId))?.active).toBe(false);
    expect((await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    expect((await page(url)).body).toContain('This application has been deactivated.');
    // A new document from the blocked host is not even fetched.
    const fresh = host.document('/agents/new-after-block.json');
    const refused = await page((await authorizeUrl(s, fresh, redirectUri)).url);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('An administrator has blocked applications from this host');
    expect(host.count('/agents/new-after-block.json')).toBe(0);

    const bad = await fetch(`${s.url}/admin/api/client-metadata/blocks`, { method: 'POST', headers: admin, body: JSON.stringify({ pattern: 'not a host!' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Record<string, unknown>)['error']).toBe('invalid_request');

    const removed = await fetch(`${s.url}/admin/api/client-metadata/blocks?pattern=127.0.0.1`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } });
    expect(removed.status).toBe(204);
    expect((await fetch(`${s.url}/admin/api/client-metadata/blocks?pattern=127.0.0.1`, { method: 'DELETE', headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(404);
    expect((await page((await authorizeUrl(s, fresh, redirectUri)).url)).status).toBe(200);
    // The deactivated app stays so until an administrator activates it.
    expect((await s.ctx.storage.clients.byId(clientId))?.active).toBe(false);
    expect((await s.ctx.storage.audit.list({ type: 'client_metadata.blocked' }))[0]?.details).toMatchObject({ pattern: '127.0.0.1', reason: 'impersonation report' });
  });

  it('the back-office shows the document, offers no edit form, and blocks the host from the app page', async () => {
    const clientId = host.document('/agents/backoffice.json');
    expect((await page((await authorizeUrl(s, clientId, `${host.origin}/callback`)).url)).status).toBe(200);
    const admin = new Browser(s.url);
    expect((await admin.login('cimd-admin@example.com', DEFAULT_PASSWORD)).status).toBe(303);
    const appPath = `/admin/apps/${encodeURIComponent(clientId)}`;
    const res = await admin.fetch(appPath);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain(`<dt>Metadata document</dt><dd><a href="${clientId}" rel="noopener noreferrer">${clientId}</a>`);
    expect(html).toContain('Not verified by this platform.');
    expect(html).not.toContain('<h2 id="edit">Edit</h2>');
    expect(html).toContain('<button type="submit" class="danger">Block 127.0.0.1</button>');
    const blocked = await admin.postForm('/admin/client-metadata/block', [
      ['csrf', hiddenField(html, 'csrf')],
      ['pattern', '127.0.0.1'],
      ['back', appPath],
    ]);
    expect(blocked.status).toBe(303);
    expect(blocked.headers.get('location')).toBe(`${appPath}?done=blocked`);
    expect((await s.ctx.storage.clients.byId(clientId))?.active).toBe(false);
    expect(await (await admin.fetch(`${appPath}?done=blocked`)).text()).toContain('The host is blocked: its applications were deactivated');
    expect(await s.ctx.storage.clientMetadata.unblock('127.0.0.1')).toBe(true);
  });
});

/** A DNS resolver that answers from a table: no query leaves this machine. */
function stubResolver(table: Record<string, string[]>): (hostname: string, options: object, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void {
  return (hostname, _options, cb) => {
    const answers = table[hostname];
    if (!answers) {
      const err: NodeJS.ErrnoException = new Error(`ENOTFOUND ${hostname}`);
      err.code = 'ENOTFOUND';
      return cb(err, []);
    }
    cb(null, answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

describe('Client ID Metadata Documents: SSRF-safe fetching (production rules, stub resolver)', () => {
  let s: TestServer;
  let person: Browser;
  const table: Record<string, string[]> = {
    'loopback.test': ['127.0.0.1'],
    'loopback6.test': ['::1'],
    'private10.test': ['10.0.0.5'],
    'private172.test': ['172.16.3.4'],
    'private192.test': ['192.168.1.10'],
    'metadata.test': ['169.254.169.254'],
    'cgnat.test': ['100.64.0.1'],
    'ula.test': ['fd00::1'],
    'linklocal6.test': ['fe80::1'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'mapped-private.test': ['::ffff:10.0.0.1'],
    'unspecified.test': ['0.0.0.0'],
    'multicast.test': ['224.0.0.1'],
    'benchmarking.test': ['198.18.0.1'],
    'documentation.test': ['192.0.2.1'],
    'nat64.test': ['64:ff9b::a00:1'],
    '6to4.test': ['2002:7f00:1::1'],
    'mixed.test': ['93.184.216.34', '10.0.0.1'],
  };
  const lookups: string[] = [];

  beforeAll(async () => {
    const resolve = stubResolver(table);
    s = await startTestServer({
      env: { TOLLGATE_CIMD_TIMEOUT_MS: '1000' },
      instance: {
        outbound: outboundClient({ allowLoopback: false }, ((hostname: string, options: object, cb: Parameters<typeof resolve>[2]) => {
          lookups.push(hostname);
          resolve(hostname, options, cb);
        }) as unknown as typeof import('node:dns').lookup),
      },
    });
    await s.createUser('ssrf@example.com');
    person = new Browser(s.url);
    expect((await person.login('ssrf@example.com', DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());
  beforeEach(() => {
    lookups.length = 0;
  });

  const tryClient = async (clientId: string): Promise<{ status: number; body: string }> => {
    const url = new URL(`${s.issuer}/oauth/authorize`);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: 'https://agent.example/cb', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })) url.searchParams.set(k, v);
    const res = await person.fetch(url.href);
    return { status: res.status, body: (await res.text()).replace(/&#39;/g, "'") };
  };

  for (const name of Object.keys(table)) {
    it(`a name resolving to ${table[name]?.join(' + ')} is refused at connect time`, async () => {
      const res = await tryClient(`https://${name}/client.json`);
      expect(res.status).toBe(400);
      expect(res.body).toContain("The application's metadata document cannot be used: its address is not one Tollgate may call (only public https hosts)");
      expect(lookups).toEqual([name]);
      expect(await s.ctx.storage.clients.byId(`https://${name}/client.json`)).toBeNull();
    });
  }

  for (const literal of ['https://127.0.0.1/c.json', 'https://10.1.2.3/c.json', 'https://[::1]/c.json', 'https://[::ffff:7f00:1]/c.json', 'https://169.254.169.254/latest/meta-data', 'https://0x7f000001/c.json', 'https://2130706433/c.json']) {
    it(`an address literal is refused without a lookup: ${literal}`, async () => {
      const res = await tryClient(literal);
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/The application's metadata document cannot be used: (its address is not one Tollgate may call \(only public https hosts\)|a client_id URL must not name this machine)/);
      expect(lookups).toEqual([]);
    });
  }

  it('http:// to loopback is refused without TOLLGATE_CIMD_INSECURE_LOOPBACK', async () => {
    const res = await tryClient('http://localhost:1234/c.json');
    expect(res.status).toBe(400);
    expect(res.body).toContain('a client_id URL must use https');
    expect(lookups).toEqual([]);
  });

  it('the allow-list: only listed hosts are fetched', async () => {
    const other = await startTestServer({ env: { TOLLGATE_CIMD_ALLOWED_HOSTS: 'agents.example, *.trusted.example' }, instance: { outbound: outboundClient({ allowLoopback: false }, stubResolver(table) as unknown as typeof import('node:dns').lookup) } });
    try {
      const b = new Browser(other.url);
      await other.createUser('allow@example.com');
      expect((await b.login('allow@example.com', DEFAULT_PASSWORD)).status).toBe(303);
      const res = await b.fetch(`${other.issuer}/oauth/authorize?response_type=code&client_id=${encodeURIComponent('https://loopback.test/c.json')}&redirect_uri=https%3A%2F%2Fa.example%2Fcb`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('This server does not accept applications from this host');
      // A listed subdomain gets as far as the fetch (which the stub resolver then refuses).
      const sub = await b.fetch(`${other.issuer}/oauth/authorize?response_type=code&client_id=${encodeURIComponent('https://a.trusted.example/c.json')}&redirect_uri=https%3A%2F%2Fa.example%2Fcb`);
      expect((await sub.text()).replace(/&#39;/g, "'")).toContain('its host could not be reached');
    } finally {
      await other.close();
    }
  });

  it('TOLLGATE_CIMD=off: no metadata member, client_id URLs are unknown applications', async () => {
    const off = await startTestServer({ env: { TOLLGATE_CIMD: 'off' } });
    try {
      const meta = (await (await fetch(`${off.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(meta['client_id_metadata_document_supported']).toBeUndefined();
      const token = await postForm(`${off.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'tgr_x', client_id: 'https://agents.example/c.json' });
      expect(token.status).toBe(401);
      expect(token.json).toEqual({ error: 'invalid_client', error_description: 'Unknown application: client_id URLs (Client ID Metadata Documents) are not accepted by this server' });
    } finally {
      await off.close();
    }
  });
});

describe('Client ID Metadata Documents: configuration', () => {
  it('TOLLGATE_CIMD_INSECURE_LOOPBACK is refused unless the issuer is on loopback (draft §8.6)', () => {
    expect(() => loadConfig({ TOLLGATE_ISSUER: 'https://auth.example.com', TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ TOLLGATE_ISSUER: 'https://auth.example.com', TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true' })).toThrow('TOLLGATE_CIMD_INSECURE_LOOPBACK: only for development, with an issuer on localhost');
    expect(loadConfig({ TOLLGATE_ISSUER: 'http://localhost:3000', TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true' }).cimdInsecureLoopback).toBe(true);
  });

  it('bounds and lists are checked', () => {
    expect(() => loadConfig({ TOLLGATE_CIMD_CACHE_MIN: '600', TOLLGATE_CIMD_CACHE_MAX: '60' })).toThrow('TOLLGATE_CIMD_CACHE_MAX must not be below TOLLGATE_CIMD_CACHE_MIN');
    expect(() => loadConfig({ TOLLGATE_CIMD_ALLOWED_HOSTS: 'https://x.example' })).toThrow('TOLLGATE_CIMD_ALLOWED_HOSTS: "https://x.example" is not a host name');
    expect(() => loadConfig({ TOLLGATE_CIMD: 'maybe' })).toThrow(ConfigError);
  });

  it('the client_id URL rules, one by one', () => {
    const config = loadConfig({});
    expect(clientIdUrlProblem('https://agents.example/client.json', config)).toBeNull();
    expect(clientIdUrlProblem('https://agents.example/client.json?v=2', config)).toBeNull();
    expect(clientIdUrlProblem(`https://agents.example/${'a'.repeat(600)}`, config)).toBe('a client_id URL is at most 512 characters');
    expect(clientIdUrlProblem('https://agents.example/a b', config)).toBe('a client_id URL must be plain ASCII without spaces');
    expect(clientIdUrlProblem('https://localhost/c.json', config)).toBe('a client_id URL must not name this machine');
  });
});
