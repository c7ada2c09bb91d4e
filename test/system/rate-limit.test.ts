/**
 * O7: sign-in attempts are limited per client IP — the login form and the password grant each allow
 * TOLLGATE_LOGIN_RATE_LIMIT attempts per minute; other grants are not limited by it. The 429 is a page for
 * people and RFC-shaped JSON for clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, basic, hiddenField, postForm, startTestServer, type TestServer } from '../helpers/server.js';

describe('O7 per-IP sign-in rate limit', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_LOGIN_RATE_LIMIT: '3' } });
  });
  afterAll(async () => s?.close());

  it('the login form: the 4th attempt in a minute gets a 429 page', async () => {
    const b = new Browser(s.url);
    const page = await b.fetch('/login');
    const csrf = hiddenField(await page.text(), 'csrf');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await b.postForm('/login', [['csrf', csrf], ['return_to', '/'], ['username', 'nobody@example.com'], ['password', 'wrong-password']]);
      statuses.push(r.status);
      if (i === 3) {
        expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(await r.text()).toContain('Too many sign-in attempts from this address');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('the password grant is limited, client credentials is not', async () => {
    const app = await s.createApp({ name: 'pw', grantTypes: ['password', 'client_credentials'], scopes: ['profile'] });
    const auth = { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'password', username: 'nobody@example.com', password: 'wrong-password' }, auth);
      statuses.push(r.status);
      if (i === 3) {
        expect(r.json['error']).toBe('temporarily_unavailable');
        expect(String(r.json['error_description'])).toMatch(/^Too many sign-in attempts from this address; try again in \d+ seconds$/);
      }
    }
    expect(statuses).toEqual([400, 400, 400, 429]);
    for (let i = 0; i < 5; i++) {
      const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, auth);
      expect(r.status).toBe(200);
    }
  });
});
