/**
 * H5: importing a platform's existing applications (their client_id and secret) and grants
 * (long-lived access tokens, refresh tokens) so installed integrations keep working, through the
 * service, the admin API and the CLI. Secrets and tokens are hashed on the way in; a bad record
 * stops the whole import, with every problem reported.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImportError, importPlatform } from '../../src/services/import.js';
import { sha256 } from '../../src/oauth/crypto.js';
import { basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const CB = 'https://legacy.example/cb';
const LEGACY_SECRET = 'legacy-secret-0123456789abcdef';
const LEGACY_ACCESS = '02f24ba563915e1cb93dcaf8beffa10766db2467';
const LEGACY_REFRESH = 'cp74cxbbDgaxFuUZ8Usc7egYlhKbH1-refresh';
// An Oro-era token shaped like a JWT, but not one of Tollgate's.
const LEGACY_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvbGQifQ.c2lnbmF0dXJlLW9mLWFub3RoZXItc3lzdGVt';

describeEachDb('H5 import of existing applications and grants', (start, db) => {
  let s: TestServer;

  beforeAll(async () => {
    s = await start();
    await s.createUser('legacy-user@example.com');
  });
  afterAll(async () => s?.close());

  const api = (token: string) => fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${token}` } });

  it('keeps client_id and secret (hashed), and the grants work as they did', async () => {
    const result = await importPlatform(s.ctx, {
      apps: [
        { client_id: 'legacy-app-1', client_secret: LEGACY_SECRET, name: 'Legacy CRM', redirect_uris: [CB], scopes: ['profile', 'email'], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'] },
        { client_id: 'legacy-spa', client_type: 'public', name: 'Legacy SPA', redirect_uris: [CB], scopes: ['profile'] },
      ],
      grants: [
        { client_id: 'legacy-app-1', user: 'legacy-user@example.com', scope: 'profile email', access_token: LEGACY_ACCESS, access_expires_at: null, refresh_token: LEGACY_REFRESH, refresh_expires_at: '2099-01-01T00:00:00Z' },
        { client_id: 'legacy-app-1', user: 'legacy-user@example.com', scope: ['profile'], access_token: LEGACY_JWT },
      ],
    });
    expect(result).toEqual({ apps: 2, grants: 2, tokens: 3, dryRun: false });

    const row = await s.ctx.storage.clients.byId('legacy-app-1');
    expect(row).toMatchObject({ clientId: 'legacy-app-1', secretHash: sha256(LEGACY_SECRET), clientType: 'confidential', scopes: ['profile', 'email'] });
    expect((await s.ctx.storage.clients.byId('legacy-spa'))?.secretHash).toBeNull();
    // The values themselves are nowhere: only their hashes.
    expect(await s.ctx.storage.tokens.byHash(sha256(LEGACY_ACCESS))).toMatchObject({ kind: 'access', format: 'opaque', expiresAt: null, scope: 'profile email' });

    // The old secret authenticates; the long-lived token and the JWT-shaped one answer at /api/.
    const cc = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic('legacy-app-1', LEGACY_SECRET) });
    expect(cc.status).toBe(200);
    const who = await api(LEGACY_ACCESS);
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ user_email: 'legacy-user@example.com', client_id: 'legacy-app-1', scope: 'profile email' });
    expect((await api(LEGACY_JWT)).status).toBe(200);
    // The refresh token rotates as any other; the remembered consent is there.
    const refreshed = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: LEGACY_REFRESH }, { authorization: basic('legacy-app-1', LEGACY_SECRET) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json['refresh_token']).toMatch(/^tgr_/);
    const user = await s.ctx.storage.users.byEmail('legacy-user@example.com');
    expect((await s.ctx.storage.consents.get(user?.id ?? '', 'legacy-app-1'))?.scope).toBe('profile email');
    // Revoking the imported refresh token's family works too.
    const again = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: LEGACY_REFRESH }, { authorization: basic('legacy-app-1', LEGACY_SECRET) });
    expect(again.json['error']).toBe('invalid_grant');
    const audit = await s.ctx.storage.audit.list({ type: 'app.imported' });
    expect(audit.map((e) => e.clientId).sort()).toEqual(['legacy-app-1', 'legacy-spa']);
    expect(JSON.stringify(await s.ctx.storage.audit.list({}))).not.toContain(LEGACY_SECRET);
  });

  it('one bad record stops everything: every problem is reported with its record, nothing is written', async () => {
    const doc = {
      apps: [
        { client_id: 'fine-app', client_secret: LEGACY_SECRET, name: 'Fine', redirect_uris: [CB], scopes: ['profile'] },
        { client_id: 'https://agent.example/client.json', client_secret: LEGACY_SECRET, name: 'URL', redirect_uris: [CB] },
        { client_id: 'legacy-app-1', client_secret: LEGACY_SECRET, name: 'Taken', redirect_uris: [CB] },
        { client_id: 'short-secret', client_secret: 'abc', name: 'Short', redirect_uris: [CB] },
        { client_id: 'no-secret', name: 'Confidential without secret', redirect_uris: [CB] },
        { client_id: 'fine-app', client_secret: LEGACY_SECRET, name: 'Twice', redirect_uris: [CB] },
        { client_id: 'bad-uri', client_secret: LEGACY_SECRET, name: 'Bad URI', redirect_uris: ['javascript:alert(1)'] },
        { client_id: 'typo', client_secret: LEGACY_SECRET, name: 'Typo', redirect_uri: CB },
      ],
      grants: [
        { client_id: 'fine-app', user: 'nobody@example.com', access_token: 'a-long-enough-token-value-1' },
        { client_id: 'fine-app', user: 'legacy-user@example.com', scope: 'admin', access_token: 'a-long-enough-token-value-2' },
        { client_id: 'fine-app', user: 'legacy-user@example.com', access_token: 'a-long-enough-token-value-3', access_expires_at: '2001-01-01T00:00:00Z' },
        { client_id: 'fine-app', user: 'legacy-user@example.com', access_token: LEGACY_ACCESS },
        { client_id: 'ghost', access_token: 'a-long-enough-token-value-4' },
      ],
    };
    const err = await importPlatform(s.ctx, doc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).problems).toEqual([
      { record: 'apps[1]', message: '"client_id" must not be a URL: that form means a Client ID Metadata Document' },
      { record: 'apps[2]', message: 'An application with the client_id legacy-app-1 already exists' },
      { record: 'apps[3]', message: '"client_secret" must be 16 to 512 printable characters' },
      { record: 'apps[4]', message: 'A confidential application needs its client_secret' },
      { record: 'apps[5]', message: '"client_id" fine-app appears twice in the file' },
      { record: 'apps[6]', message: expect.stringContaining('javascript') as unknown as string },
      { record: 'apps[7]', message: expect.stringContaining('Unknown field "redirect_uri"') as unknown as string },
      { record: 'grants[0]', message: 'No user "nobody@example.com"' },
      { record: 'grants[1]', message: 'Scope not allowed for this application: admin' },
      { record: 'grants[2]', message: '"access_expires_at" is in the past: the token has already expired' },
      { record: 'grants[3]', message: '"access_token" is already known (in the file or in Tollgate)' },
      { record: 'grants[4]', message: 'No application with the client_id ghost (in the file or in Tollgate)' },
    ]);
    expect(await s.ctx.storage.clients.byId('fine-app')).toBeNull();
    expect(await s.ctx.storage.tokens.byHash(sha256('a-long-enough-token-value-1'))).toBeNull();
  });

  it('admin API: POST /admin/api/import, dry run first; problems as JSON', async () => {
    const adminApp = await s.createApp({ name: 'Importer', grantTypes: ['client_credentials'], scopes: ['admin'], actsAsUserId: (await s.ctx.storage.users.byEmail('admin@localhost'))?.id ?? null });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic(adminApp.client.clientId, adminApp.clientSecret ?? '') });
    const call = (query: string, body: unknown) =>
      fetch(`${s.url}/admin/api/import${query}`, { method: 'POST', headers: { authorization: `Bearer ${String(tok.json['access_token'])}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const doc = { apps: [{ client_id: 'via-api', client_secret: LEGACY_SECRET, name: 'Via API', grant_types: ['client_credentials'], scopes: ['profile'] }] };
    const dry = await call('?dry_run=true', doc);
    expect(dry.status).toBe(200);
    expect(await dry.json()).toEqual({ apps: 1, grants: 0, tokens: 0, dry_run: true });
    expect(await s.ctx.storage.clients.byId('via-api')).toBeNull();
    const real = await call('', doc);
    expect(real.status).toBe(201);
    expect(await s.ctx.storage.clients.byId('via-api')).not.toBeNull();
    const bad = await call('', { apps: [{ client_id: 'via-api', client_secret: LEGACY_SECRET, name: 'Again' }], extra: 1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'invalid_request',
      error_description: '2 problems: nothing was imported',
      problems: [
        { record: 'document', message: 'Unknown field "extra"; expected apps, grants' },
        { record: 'apps[0]', message: 'An application with the client_id via-api already exists' },
      ],
    });
  });

  // The CLI works on the database directly: it is run against this server's SQLite file.
  if (db === 'sqlite') it('CLI: tollgate apps import --file, with a clear report of problems', async () => {
    const dir = s.ctx.config.dataDir;
    const file = join(dir, 'apps.json');
    writeFileSync(file, JSON.stringify({ apps: [{ client_id: 'via-cli', client_secret: LEGACY_SECRET, name: 'Via CLI', grant_types: ['client_credentials'], scopes: ['profile'] }] }));
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, TOLLGATE_DATA_DIR: dir, TOLLGATE_LOG_LEVEL: 'silent' } }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const ok = await run(['apps', 'import', '--file', file]);
    expect(ok.stdout.trim()).toBe('Imported: 1 application, 0 grants (0 tokens)');
    expect(ok.code).toBe(0);
    const again = await run(['apps', 'import', '--file', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('1 problem: nothing was imported:');
    expect(again.stderr).toContain('apps[0]: An application with the client_id via-cli already exists');
    const cc = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic('via-cli', LEGACY_SECRET) });
    expect(cc.status).toBe(200);
  });
});
