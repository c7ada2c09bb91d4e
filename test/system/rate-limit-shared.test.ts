/**
 * Issue #6 "several processes": with TOLLGATE_REDIS_URL, the per-IP sign-in limit is counted in
 * Redis, so attempts spread over two Tollgate servers share one budget. Needs TOLLGATE_TEST_REDIS_URL
 * (CI sets it); skipped loudly without it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, hiddenField, startTestServer, type TestServer } from '../helpers/server.js';

const redisUrl = process.env['TOLLGATE_TEST_REDIS_URL']?.trim() || null;

if (redisUrl === null) {
  console.warn('\n*** Redis suite SKIPPED: set TOLLGATE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379) to run it ***\n');
  describe.skip('shared rate limits (Redis)', () => it('needs Redis', () => {}));
} else {
  describe('shared rate limits across two servers (Redis)', () => {
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      const redis = new Redis(redisUrl);
      const keys = await redis.keys('tollgate-rl-*');
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      const env = { TOLLGATE_REDIS_URL: redisUrl, TOLLGATE_LOGIN_RATE_LIMIT: '3' };
      a = await startTestServer({ env });
      b = await startTestServer({ env });
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('sign-in attempts through either process count against one per-IP budget', async () => {
      const statuses: number[] = [];
      for (const server of [a, b, a, b]) {
        const browser = new Browser(server.url);
        const csrf = hiddenField(await (await browser.fetch('/login')).text(), 'csrf');
        const r = await browser.postForm('/login', [['csrf', csrf], ['return_to', '/'], ['username', 'nobody@example.com'], ['password', 'wrong-password']]);
        statuses.push(r.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    });
  });
}
