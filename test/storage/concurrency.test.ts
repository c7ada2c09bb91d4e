/**
 * Concurrency (issue #6, docs/security.md "Codes"/"Refresh tokens"), on SQLite and PostgreSQL:
 * - 50 parallel redemptions of one code: exactly one 200, 49 × 400 `invalid_grant`, and the
 *   replays revoke what the winner got (its access and refresh tokens introspect inactive);
 * - 50 parallel refreshes of one refresh token: exactly one 200, 49 × 400 `invalid_grant`;
 * - parallel secret rotations, activations/deactivations and deletions of one application leave
 *   it consistent: exactly one secret works afterwards, the row is whole, a deletion wins.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteApp, rotateSecret, setAppActive } from '../../src/services/apps.js';
import { Browser, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const N = 50;
const REDIRECT = 'https://client.example/cb';

describeEachDb('concurrency', (start) => {
  let s: TestServer;
  let clientId = '';
  let secret = '';
  let browser: Browser;

  beforeAll(async () => {
    s = await start();
    await s.createUser('carol@example.com');
    const app = await s.createApp({ name: 'Race', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    clientId = app.client.clientId;
    secret = app.clientSecret ?? '';
    browser = new Browser(s.url);
    expect((await browser.login('carol@example.com', 'correct horse battery')).status).toBe(303);
  });
  afterAll(async () => s?.close());

  async function newCode(state: string): Promise<string> {
    const out = await authorize(browser, `/oauth/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=profile&state=${state}`);
    expect(out.status).toBe(303);
    const code = new URL(out.location ?? '').searchParams.get('code');
    expect(code).toMatch(/^tgo_/);
    return code ?? '';
  }

  const token = (fields: Record<string, string>, sec = secret, id = clientId) => postForm(`${s.url}/oauth/token`, fields, { authorization: basic(id, sec) });
  const introspect = async (t: string): Promise<Record<string, unknown>> => {
    const r = await postForm(`${s.url}/oauth/introspect`, { token: t }, { authorization: basic(clientId, secret) });
    expect(r.status).toBe(200);
    return r.json;
  };

  function tally(results: ReadonlyArray<{ status: number; json: Record<string, unknown> }>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of results) {
      const k = r.status === 200 ? '200' : `${r.status} ${String(r.json['error'])}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  it(`${N} parallel redemptions of one code: exactly one 200, ${N - 1} invalid_grant, the winner's tokens revoked`, async () => {
    const code = await newCode('race1');
    const results = await Promise.all(Array.from({ length: N }, () => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT })));
    expect(tally(results)).toEqual({ '200': 1, '400 invalid_grant': N - 1 });
    const winner = results.find((r) => r.status === 200);
    const access = String(winner?.json['access_token']);
    const refresh = String(winner?.json['refresh_token']);
    expect(access).toMatch(/^tga_|\./);
    expect(await introspect(access)).toEqual({ active: false });
    expect(await introspect(refresh)).toEqual({ active: false });
    // And the refresh token no longer works.
    const r = await token({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(r.status).toBe(400);
    expect(r.json['error']).toBe('invalid_grant');
  });

  it(`${N} parallel refreshes of one refresh token: exactly one 200, ${N - 1} invalid_grant`, async () => {
    const code = await newCode('race2');
    const first = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    expect(first.status).toBe(200);
    const rt = String(first.json['refresh_token']);
    const results = await Promise.all(Array.from({ length: N }, () => token({ grant_type: 'refresh_token', refresh_token: rt })));
    expect(tally(results)).toEqual({ '200': 1, '400 invalid_grant': N - 1 });
    // The replays of the rotated token revoke its family (no grace window configured): the
    // winner's new pair and the first access token are all inactive.
    const winner = results.find((r) => r.status === 200);
    expect(await introspect(String(winner?.json['access_token']))).toEqual({ active: false });
    expect(await introspect(String(winner?.json['refresh_token']))).toEqual({ active: false });
    expect(await introspect(String(first.json['access_token']))).toEqual({ active: false });
  });

  const secretHash = (sec: string): string => createHash('sha256').update(sec, 'utf8').digest('base64url');

  async function workingSecrets(id: string, candidates: readonly string[]): Promise<string[]> {
    const results = await Promise.all(candidates.map(async (c) => ({ c, r: await token({ grant_type: 'client_credentials' }, c, id) })));
    for (const { r } of results) {
      if (r.status !== 200) expect({ status: r.status, error: r.json['error'] }).toEqual({ status: 401, error: 'invalid_client' });
    }
    return results.filter(({ r }) => r.status === 200).map(({ c }) => c);
  }

  it('parallel secret rotations: exactly one secret works afterwards, and it is the stored one', async () => {
    const app = await s.createApp({ name: 'Rotate', scopes: ['profile'], grantTypes: ['client_credentials'] });
    const id = app.client.clientId;
    const rotations = await Promise.all(Array.from({ length: 20 }, () => rotateSecret(s.ctx, id)));
    const secrets = rotations.map((r) => r?.clientSecret ?? '');
    expect(secrets.every((x) => x.length > 0)).toBe(true);
    expect(new Set(secrets).size).toBe(20);
    const row = await s.ctx.storage.clients.byId(id);
    expect(row).not.toBeNull();
    const stored = secrets.filter((x) => secretHash(x) === row?.secretHash);
    expect(stored).toHaveLength(1);
    expect(await workingSecrets(id, [...secrets, app.clientSecret ?? ''])).toEqual(stored);
  });

  it('parallel rotations with activations and deactivations: the row is whole and agrees with the token endpoint', async () => {
    const app = await s.createApp({ name: 'Toggle', scopes: ['profile'], grantTypes: ['client_credentials'] });
    const id = app.client.clientId;
    const ops = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? rotateSecret(s.ctx, id) : setAppActive(s.ctx, id, i % 3 === 1))),
    );
    const secrets = ops.flatMap((o) => (o !== null && 'clientSecret' in o ? [o.clientSecret] : []));
    expect(secrets).toHaveLength(10);
    const row = await s.ctx.storage.clients.byId(id);
    expect(row).not.toBeNull();
    // Nothing else of the row was touched by the race.
    expect({ name: row?.name, scopes: row?.scopes, grantTypes: row?.grantTypes, clientType: row?.clientType }).toEqual({ name: 'Toggle', scopes: ['profile'], grantTypes: ['client_credentials'], clientType: 'confidential' });
    const stored = secrets.filter((x) => secretHash(x) === row?.secretHash);
    expect(stored).toHaveLength(1);
    if (row?.active) {
      expect(await workingSecrets(id, [...secrets, app.clientSecret ?? ''])).toEqual(stored);
    } else {
      // A deactivated application gets no token with any secret.
      for (const sec of stored) {
        const r = await token({ grant_type: 'client_credentials' }, sec, id);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
      }
    }
    expect(await setAppActive(s.ctx, id, true)).not.toBeNull();
    expect(await workingSecrets(id, [...secrets, app.clientSecret ?? ''])).toEqual(stored);
  });

  it('parallel deletions racing rotations and toggles: exactly one deletion wins, nothing is left half-updated', async () => {
    const app = await s.createApp({ name: 'Doomed', scopes: ['profile'], grantTypes: ['client_credentials'] });
    const id = app.client.clientId;
    const before = await token({ grant_type: 'client_credentials' }, app.clientSecret ?? '', id);
    expect(before.status).toBe(200);
    const settled = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? deleteApp(s.ctx, id) : i % 3 === 1 ? rotateSecret(s.ctx, id) : setAppActive(s.ctx, id, i % 2 === 0))),
    );
    const deletions = settled.filter((_, i) => i % 3 === 0);
    expect(deletions.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1);
    expect(deletions.every((r) => r.status === 'fulfilled')).toBe(true);
    // Rotations and toggles either happened before the deletion or found nothing; none failed.
    for (const r of settled) expect(r.status).toBe('fulfilled');
    expect(await s.ctx.storage.clients.byId(id)).toBeNull();
    const secrets = settled.flatMap((r) => (r.status === 'fulfilled' && r.value !== null && typeof r.value === 'object' && 'clientSecret' in r.value ? [r.value.clientSecret] : []));
    expect(await workingSecrets(id, [...secrets, app.clientSecret ?? ''])).toEqual([]);
    // The token issued before the deletion is dead too.
    expect(await introspect(String(before.json['access_token']))).toEqual({ active: false });
  });
});
