/**
 * A9: whichever way an application is created (CLI/services, admin API, registration), its owner —
 * or TOLLGATE_MAIL_TO — gets a message; without SMTP it is an .eml file in data/outbox/, and it
 * never carries the secret.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

function outbox(s: TestServer): string[] {
  const dir = join(s.ctx.config.dataDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')).map((f) => readFileSync(join(dir, f), 'utf8')) : [];
}

describe('A9 application-created email', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('an app created for an owner outside the portal mails the owner, without the secret', async () => {
    s = await startTestServer();
    const owner = await s.createUser('owner@example.com');
    const app = await s.createApp({ name: 'Ledger export', ownerId: owner.id, grantTypes: ['client_credentials'] });
    const mails = outbox(s);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^To: owner@example\.com$/m);
    expect(mails[0]).toContain(app.client.clientId);
    expect(mails[0]).not.toContain(app.clientSecret ?? 'no-secret');
  });

  it('an app without an owner mails nobody, unless TOLLGATE_MAIL_TO is set (also for registration)', async () => {
    s = await startTestServer();
    await s.createApp({ name: 'No owner', grantTypes: ['client_credentials'] });
    expect(outbox(s)).toEqual([]);
    await s.close();
    s = await startTestServer({ env: { TOLLGATE_MAIL_TO: 'platform-team@example.com' } });
    const r = await fetch(`${s.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Registered', redirect_uris: ['https://r.example/cb'] }),
    });
    expect(r.status).toBe(201);
    const body = (await r.json()) as { client_secret: string; client_id: string };
    const mails = outbox(s);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^To: platform-team@example\.com$/m);
    expect(mails[0]).toContain(body.client_id);
    expect(mails[0]).not.toContain(body.client_secret);
  });
});
