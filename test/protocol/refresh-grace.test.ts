/**
 * Issue #6: the opt-in refresh grace window. Off by default (a reused refresh token revokes its
 * family, T3). With `refreshGraceSeconds`, a just-rotated refresh token presented again within
 * the window gets the same new pair back; outside it, or once that pair has moved on, reuse
 * revokes the family as before.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

describeEachDb('refresh grace window (issue #6)', (start) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await start();
    await s.createUser('tabs@example.com');
  });
  afterAll(async () => s?.close());

  async function appWithGrace(grace: number): Promise<CreatedApp> {
    return s.createApp({ name: `grace ${grace}`, grantTypes: ['password', 'refresh_token'], scopes: ['profile'], refreshGraceSeconds: grace });
  }
  function auth(app: CreatedApp): Record<string, string> {
    return { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
  }
  async function firstRefresh(app: CreatedApp): Promise<string> {
    const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'password', username: 'tabs@example.com', password: 'correct horse battery' }, auth(app));
    expect(r.status).toBe(200);
    return String(r.json['refresh_token']);
  }
  const refresh = (app: CreatedApp, rt: string) => postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: rt }, auth(app));

  it('off by default: reusing a rotated refresh token revokes the family', async () => {
    const app = await appWithGrace(0);
    const rt1 = await firstRefresh(app);
    const a = await refresh(app, rt1);
    expect(a.status).toBe(200);
    const again = await refresh(app, rt1);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' });
    expect((await s.ctx.storage.tokens.byHash(sha256(String(a.json['refresh_token']))))?.revokedAt).not.toBeNull();
  });

  it('within the window the retry gets the same pair; once that pair is used, reuse revokes the family', async () => {
    const app = await appWithGrace(30);
    const rt1 = await firstRefresh(app);
    const a = await refresh(app, rt1);
    expect(a.status).toBe(200);
    const retry = await refresh(app, rt1);
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(a.json);
    // The sealed response on the rotated token never holds the new tokens in clear.
    const sealed = (await s.ctx.storage.tokens.graceResponse(sha256(rt1))) ?? '';
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(String(a.json['refresh_token']));
    expect(sealed).not.toContain(String(a.json['access_token']));
    // The tab that got the pair moves on; now the old token is a real reuse.
    const b = await refresh(app, String(a.json['refresh_token']));
    expect(b.status).toBe(200);
    const late = await refresh(app, rt1);
    expect(late.status).toBe(400);
    expect(late.json['error']).toBe('invalid_grant');
    expect((await s.ctx.storage.tokens.byHash(sha256(String(b.json['refresh_token']))))?.revokedAt).not.toBeNull();
    const events = await s.ctx.storage.audit.list({ type: 'refresh.reuse_detected', clientId: app.client.clientId });
    expect(events).toHaveLength(1);
  });

  it('after the window, reuse revokes the family', async () => {
    const app = await appWithGrace(1);
    const rt1 = await firstRefresh(app);
    const a = await refresh(app, rt1);
    expect(a.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200));
    const late = await refresh(app, rt1);
    expect(late.status).toBe(400);
    expect((await s.ctx.storage.tokens.byHash(sha256(String(a.json['refresh_token']))))?.revokedAt).not.toBeNull();
  });

  it('20 parallel refreshes of one token within the window: all 200 with one identical pair, nothing revoked', async () => {
    const app = await appWithGrace(30);
    const rt1 = await firstRefresh(app);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(app, rt1)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    const pairs = new Set(results.map((r) => `${String(r.json['access_token'])} ${String(r.json['refresh_token'])}`));
    expect(pairs.size).toBe(1);
    const rt2 = String(results[0]?.json['refresh_token']);
    expect((await s.ctx.storage.tokens.byHash(sha256(rt2)))?.revokedAt).toBeNull();
  });

  it('the setting is validated: 0 to 300 seconds', async () => {
    await expect(appWithGrace(301)).rejects.toThrow('refresh_grace_seconds must be a whole number of seconds between 0 and 300');
  });
});
