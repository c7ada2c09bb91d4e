/**
 * Operations (O6): liveness, readiness, Prometheus metrics, the OpenAPI document (R4) and its
 * browsable reference; security headers on pages (O7); CORS only where configured and never on
 * the authorization endpoint (docs/security.md).
 */
import { loadConfig } from '../../src/config.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, describeEachDb, postForm, startTestServer, type TestServer } from '../helpers/server.js';

describeEachDb('O6 operations endpoints', (start, db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close());

  it('/healthz and /readyz answer 200', async () => {
    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', database: db });
  });

  it('/metrics counts requests, tokens issued by grant and OAuth errors', async () => {
    const app = await s.createApp({ name: 'Metrics', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const ok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(ok.status).toBe(200);
    const bad = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, 'tgs_wrong') });
    expect(bad.status).toBe(401);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^tollgate_http_requests_total\{method="POST",route="\/oauth\/token",status="200"\} 1$/m);
    expect(text).toMatch(/^tollgate_http_requests_total\{method="POST",route="\/oauth\/token",status="401"\} 1$/m);
    expect(text).toMatch(/^tollgate_tokens_issued_total\{grant_type="client_credentials"\} 1$/m);
    expect(text).toMatch(/^tollgate_oauth_errors_total\{error="invalid_client"\} 1$/m);
    expect(text).toMatch(/^tollgate_http_request_duration_seconds_bucket\{/m);
    // No secret or token in the metrics.
    expect(text).not.toContain(String(ok.json['access_token']));
    expect(text).not.toContain(app.client.clientId);
  });

  it('/openapi.json is OpenAPI 3.1 and declares `profile` on /api/me; /docs is HTML', async () => {
    const res = await fetch(`${s.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.paths['/api/me']?.['get']?.security).toEqual([{ bearer: ['profile'] }]);
    expect(doc.paths['/api/']?.['get']?.security).toEqual([{ bearer: [] }]);
    const docs = await fetch(`${s.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await docs.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('/api/me');
    // Issue #16 §3: the admin operations' fields, from the schemas their routes validate with.
    expect(html).toContain('<li><code>limit</code> <small>(query, integer 1–200)</small> Page size (default 50)</li>');
    expect(html).toContain('<li><code>name</code> <small>(body, string, required)</small> Display name shown on the consent screen</li>');
  });

  it('O7 pages carry the security headers', async () => {
    for (const path of ['/login', '/docs', '/oauth/authorize?client_id=nope', '/healthz']) {
      const res = await fetch(`${s.url}${path}`, { redirect: 'manual' });
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});

describeEachDb('O6 readiness fails when the database is gone', (start, db) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close().catch(() => {}));

  it('/readyz answers 503 after the storage is closed; /healthz still 200', async () => {
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    await s.ctx.storage.close();
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(await r.json()).toEqual({ status: 'unavailable', database: db });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    // docs/security.md: a storage failure is a 5xx, never a false success or a false `{"active":false}`.
    const app = { authorization: basic('tgc_any', 'tgs_any') };
    for (const path of ['/oauth/revoke', '/oauth/introspect', '/oauth/token']) {
      const r = await postForm(`${s.url}${path}`, { token: 'tga_x', grant_type: 'client_credentials' }, app);
      expect(r.status, path).toBe(503);
      expect(r.json, path).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable, try again later' });
    }
  });
});

describe('CORS (issue #13 item 5): public endpoints answer any origin by default, never with credentials; never the authorization endpoint or pages', () => {
  const SPA = 'https://spa.example';
  let s: TestServer;
  let plain: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    [s, plain, off] = await Promise.all([
      startTestServer({ env: { TOLLGATE_CORS_ORIGINS: SPA } }),
      startTestServer(),
      startTestServer({ env: { TOLLGATE_CORS_ORIGINS: 'none' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([s?.close(), plain?.close(), off?.close()]);
  });

  it('no CORS header on /oauth/authorize or any page, whatever the setting', async () => {
    for (const srv of [s, plain]) {
      const get = await fetch(`${srv.url}/oauth/authorize?response_type=code&client_id=x`, { headers: { origin: SPA }, redirect: 'manual' });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
      const pre = await fetch(`${srv.url}/oauth/authorize`, { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': 'POST' } });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const post = await fetch(`${srv.url}/oauth/authorize`, { method: 'POST', headers: { origin: SPA, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b', redirect: 'manual' });
      expect(post.headers.get('access-control-allow-origin')).toBeNull();
      for (const page of ['/login', '/device', '/developers', '/oauth/introspect']) {
        const res = await fetch(`${srv.url}${page}`, { headers: { origin: SPA }, redirect: 'manual' });
        expect(res.headers.get('access-control-allow-origin'), page).toBeNull();
      }
    }
  });

  it('by default: discovery, JWKS, token, revocation, registration, UserInfo and device authorization answer *, never Allow-Credentials', async () => {
    const app = await plain.createApp({ name: 'SPA', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const auth = { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
    const origin = 'https://inspector.example';
    const checks: Array<[string, Response]> = [
      ['metadata', await fetch(`${plain.url}/.well-known/oauth-authorization-server`, { headers: { origin } })],
      ['discovery', await fetch(`${plain.url}/.well-known/openid-configuration`, { headers: { origin } })],
      ['jwks', await fetch(`${plain.url}/.well-known/jwks.json`, { headers: { origin } })],
      ['userinfo', await fetch(`${plain.url}/oauth/userinfo`, { headers: { origin } })],
      ['register', await fetch(`${plain.url}/oauth/register`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{}' })],
      ['register/:id', await fetch(`${plain.url}/oauth/register/${app.client.clientId}`, { headers: { origin } })],
    ];
    const token = await postForm(`${plain.url}/oauth/token`, { grant_type: 'client_credentials' }, { ...auth, origin });
    expect(token.status).toBe(200);
    expect(token.headers.get('access-control-allow-origin')).toBe('*');
    expect(token.headers.get('access-control-allow-credentials')).toBeNull();
    const failed = await postForm(`${plain.url}/oauth/token`, { grant_type: 'nope' }, { ...auth, origin });
    expect(failed.status).toBe(400);
    expect(failed.headers.get('access-control-allow-origin')).toBe('*');
    const revoked = await postForm(`${plain.url}/oauth/revoke`, { token: 'x' }, { ...auth, origin });
    expect(revoked.headers.get('access-control-allow-origin')).toBe('*');
    const device = await postForm(`${plain.url}/oauth/device_authorization`, { client_id: 'nobody' }, { origin });
    expect(device.headers.get('access-control-allow-origin')).toBe('*');
    for (const [name, res] of checks) {
      expect(res.headers.get('access-control-allow-origin'), name).toBe('*');
      expect(res.headers.get('access-control-allow-credentials'), name).toBeNull();
    }
    // Preflights name the methods of the path, and MCP's protocol header.
    const pre = await fetch(`${plain.url}/oauth/register/${app.client.clientId}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, PUT, DELETE');
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, MCP-Protocol-Version');
    const preMeta = await fetch(`${plain.url}/.well-known/oauth-authorization-server`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
    expect(preMeta.status).toBe(204);
    expect(preMeta.headers.get('access-control-allow-methods')).toBe('GET');
    const prePrm = await fetch(`${plain.url}/.well-known/oauth-protected-resource/api`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    expect(prePrm.status).toBe(204);
    expect(prePrm.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('TOLLGATE_CORS_ORIGINS: only the listed origins (echoed, Vary: Origin); none: no CORS at all; anything else refuses to start', async () => {
    const app = await s.createApp({ name: 'SPA', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const auth = { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
    const ok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { ...auth, origin: SPA });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SPA);
    expect(ok.headers.get('vary')).toContain('Origin');
    const evil = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { ...auth, origin: 'https://evil.example' });
    expect(evil.status).toBe(200);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${s.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(SPA);
    const preEvil = await fetch(`${s.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preEvil.headers.get('access-control-allow-origin')).toBeNull();
    const metaS = await fetch(`${s.url}/.well-known/oauth-authorization-server`, { headers: { origin: SPA } });
    expect(metaS.headers.get('access-control-allow-origin')).toBe(SPA);
    const metaOff = await fetch(`${off.url}/.well-known/oauth-authorization-server`, { headers: { origin: SPA } });
    expect(metaOff.headers.get('access-control-allow-origin')).toBeNull();
    expect(() => loadConfig({ TOLLGATE_CORS_ORIGINS: 'https://spa.example/app' })).toThrow(/TOLLGATE_CORS_ORIGINS: "https:\/\/spa.example\/app" is not an origin/);
  });
});

