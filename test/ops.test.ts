/**
 * Operations (O6): liveness, readiness, Prometheus metrics, the OpenAPI document (R4) and its
 * browsable reference; security headers on pages (O7); CORS only where configured and never on
 * the authorization endpoint (SECURITY.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, describeEachDb, postForm, startTestServer, type TestServer } from './helpers/server.js';

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
    // SECURITY.md: a storage failure is a 5xx, never a false success or a false `{"active":false}`.
    const app = { authorization: basic('tgc_any', 'tgs_any') };
    for (const path of ['/oauth/revoke', '/oauth/introspect', '/oauth/token']) {
      const r = await postForm(`${s.url}${path}`, { token: 'tga_x', grant_type: 'client_credentials' }, app);
      expect(r.status, path).toBe(503);
      expect(r.json, path).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable, try again later' });
    }
  });
});

describe('CORS (SECURITY.md: only as configured, never on the authorization endpoint)', () => {
  const SPA = 'https://spa.example';
  let s: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    [s, plain] = await Promise.all([startTestServer({ env: { TOLLGATE_CORS_ORIGINS: SPA } }), startTestServer()]);
  });
  afterAll(async () => {
    await Promise.all([s?.close(), plain?.close()]);
  });

  it('no CORS header on /oauth/authorize, even for a configured origin', async () => {
    const get = await fetch(`${s.url}/oauth/authorize?response_type=code&client_id=x`, { headers: { origin: SPA }, redirect: 'manual' });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${s.url}/oauth/authorize`, { method: 'OPTIONS', headers: { origin: SPA, 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${s.url}/oauth/authorize`, { method: 'POST', headers: { origin: SPA, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b', redirect: 'manual' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CORS on /oauth/token only for a configured origin', async () => {
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
    // Not configured: no CORS at all.
    const meta = await fetch(`${plain.url}/.well-known/oauth-authorization-server`, { headers: { origin: SPA } });
    expect(meta.headers.get('access-control-allow-origin')).toBeNull();
    const metaS = await fetch(`${s.url}/.well-known/oauth-authorization-server`, { headers: { origin: SPA } });
    expect(metaS.headers.get('access-control-allow-origin')).toBe(SPA);
  });
});
