/**
 * Issue #6: failed client authentication is rate-limited per client IP and per client_id. After
 * TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT failures in a minute, requests from that IP, or for that
 * client_id, get 429 — even with the right secret — until the window ends. With Redis the budget
 * is shared by every process (run when TOLLGATE_TEST_REDIS_URL is set).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedApp } from '../../src/services/apps.js';
import { basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const redisUrl = process.env['TOLLGATE_TEST_REDIS_URL']?.trim() || null;

function suite(name: string, servers: () => Promise<[TestServer, TestServer]>): void {
  describe(name, () => {
    let a: TestServer;
    let b: TestServer;
    let appA: CreatedApp;
    let appB: CreatedApp;
    beforeAll(async () => {
      [a, b] = await servers();
      appA = await a.createApp({ name: 'A', grantTypes: ['client_credentials'] });
      // The same client on both servers is not needed: client ids are keys, whatever server sees them.
      appB = await b.createApp({ name: 'B', grantTypes: ['client_credentials'] });
    });
    afterAll(async () => {
      await a?.close();
      if (b !== a) await b?.close();
    });

    const token = (s: TestServer, app: CreatedApp, secret: string, ip: string) =>
      postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, secret), 'x-forwarded-for': ip });

    it('after 3 failures: that IP and that client_id get 429, others are untouched', async () => {
      const failures = [];
      for (let i = 0; i < 3; i++) failures.push((await token(a, appA, 'tgs_wrong', '10.0.0.1')).status);
      expect(failures).toEqual([401, 401, 401]);
      const blockedIp = await token(b, appA, appA.clientSecret ?? '', '10.0.0.1');
      expect(blockedIp.status).toBe(429);
      expect(blockedIp.json).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many failed client authentications; try again in a minute' });
      // Another address, same client_id: still blocked (online guessing of one client's secret).
      expect((await token(b, appA, appA.clientSecret ?? '', '10.0.0.2')).status).toBe(429);
      // Another address, another client: unaffected.
      expect((await token(b, appB, appB.clientSecret ?? '', '10.0.0.2')).status).toBe(200);
      // The blocked address cannot use another client either.
      expect((await token(b, appB, appB.clientSecret ?? '', '10.0.0.1')).status).toBe(429);
    });
  });
}

// The test's requests come from 127.0.0.1, standing in for a proxy that sets X-Forwarded-For.
const env = { TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT: '3', TOLLGATE_TRUST_PROXY: '127.0.0.1' };

suite('failed client authentication limit (one process, in memory)', async () => {
  const s = await startTestServer({ env });
  return [s, s];
});

if (redisUrl !== null) {
  suite('failed client authentication limit shared by two processes (Redis)', async () => {
    const redis = new Redis(redisUrl);
    const keys = await redis.keys('tollgate-af-*');
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const withRedis = { ...env, TOLLGATE_REDIS_URL: redisUrl };
    return [await startTestServer({ env: withRedis }), await startTestServer({ env: withRedis })];
  });
} else {
  console.warn('\n*** Redis client-auth-limit suite SKIPPED: set TOLLGATE_TEST_REDIS_URL to run it ***\n');
}
