/**
 * A6 internal applications: at creation the owner receives a long-lived refresh token, usable at
 * once with grant_type=refresh_token, and rotation keeps it long-lived.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

describeEachDb('A6 internal applications', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => s?.close());

  it('the refresh token works right away, and rotated tokens never expire either', async () => {
    const owner = await s.createUser('script-owner@example.com');
    const app = await s.createApp({ name: 'Expense sync', internal: true, ownerId: owner.id, scopes: ['profile'], grantTypes: ['refresh_token'] });
    expect(app.refreshToken).toMatch(/^tgr_[A-Za-z0-9_-]{43}$/);
    expect((await s.ctx.storage.tokens.byHash(sha256(app.refreshToken ?? '')))?.expiresAt).toBeNull();
    const auth = { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
    const r1 = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: app.refreshToken ?? '' }, auth);
    expect(r1.status).toBe(200);
    expect(r1.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'profile' });
    const rt2 = String(r1.json['refresh_token']);
    expect((await s.ctx.storage.tokens.byHash(sha256(rt2)))?.expiresAt).toBeNull();
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${String(r1.json['access_token'])}` } });
    expect(await me.json()).toMatchObject({ email: 'script-owner@example.com', client_id: app.client.clientId });
  });
});
