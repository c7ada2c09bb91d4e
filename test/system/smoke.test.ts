import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

describeEachDb('smoke: code flow end to end', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close());

  it('signs in, consents, redeems the code, calls /api/me', async () => {
    await s.createUser('alice@example.com');
    const app = await s.createApp({ name: 'Demo', redirectUris: ['https://client.example/cb'], scopes: ['profile', 'email'] });
    const b = new Browser(s.url);
    const login = await b.login('alice@example.com', 'correct horse battery');
    expect(login.status).toBe(303);
    const out = await authorize(b, `/oauth/authorize?response_type=code&client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent('https://client.example/cb')}&scope=profile&state=xyz`);
    expect(out.status).toBe(303);
    const loc = new URL(out.location ?? '');
    expect(loc.searchParams.get('state')).toBe('xyz');
    const code = loc.searchParams.get('code') ?? '';
    expect(code).toMatch(/^tgo_/);
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: 'https://client.example/cb' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${String(tok.json['access_token'])}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email: 'alice@example.com', scope: 'profile' });
  });
});
