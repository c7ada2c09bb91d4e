/**
 * O3: several server processes on one database agree at once on revocations, deactivations and
 * rotations. Two real processes (test/fixtures/serve.ts) share one SQLite file or one throwaway
 * PostgreSQL schema; the test process works on the same database directly, as the CLI or an
 * admin would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createApp, rotateSecret, setAppActive, type CreatedApp } from '../../src/services/apps.js';
import { rotateSigningKey } from '../../src/services/keys.js';
import { describePg, freshPgSchema, type PgSchema } from '../helpers/pg.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { basic, freePort, postForm } from '../helpers/server.js';


type Proc = ServerProcess;

async function stop(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The same suite on SQLite (two processes on one file) and on PostgreSQL (one schema): each
 * process caches clients, scopes and keys, validated against the database's cache epoch.
 */
function twoProcesses(dialect: 'sqlite' | 'postgres', pgUrl: string | null): void {
  let schema: PgSchema | undefined;
  let runtime: Runtime;
  let a: Proc | undefined;
  let b: Proc | undefined;
  let dataDir: string;

  beforeAll(async () => {
    schema = pgUrl === null ? undefined : await freshPgSchema(pgUrl);
    dataDir = mkdtempSync(join(tmpdir(), 'tollgate-mp-'));
    const [portA, portB] = [await freePort(), await freePort()];
    // One deployment: one issuer (and so one audience) whichever process answers.
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      TOLLGATE_ISSUER: `http://127.0.0.1:${portA}`,
      ...(schema && pgUrl !== null ? { TOLLGATE_DATABASE_URL: pgUrl, TOLLGATE_PG_SCHEMA: schema.schema } : {}),
      TOLLGATE_DATA_DIR: dataDir,
      TOLLGATE_ADMIN_PASSWORD: 'admin-password-123',
      TOLLGATE_LOG_LEVEL: 'silent',
      TOLLGATE_PURGE_INTERVAL: '0',
    };
    // A first (it migrates and bootstraps), then B on the same schema.
    a = await spawnServer(portA, env);
    b = await spawnServer(portB, env);
    runtime = await createRuntime(loadConfig({ ...env, PORT: String(portA) }), schema ? { pgSchema: schema.schema } : {});
    expect(runtime.storage.dialect).toBe(dialect);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
    await runtime?.close();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function token(p: Proc, app: CreatedApp): Promise<string> {
    const r = await postForm(`${p.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(r.status).toBe(200);
    return String(r.json['access_token']);
  }

  const apiStatus = async (p: Proc, at: string): Promise<number> =>
    (await fetch(`${p.url}/api/`, { headers: { authorization: `Bearer ${at}` } })).status;

  it('a token revoked through B is refused by A on the very next request', async () => {
    for (const tokenFormat of ['opaque', 'jwt'] as const) {
      const app = await createApp(runtime.ctx, { name: `Shared ${tokenFormat}`, grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat });
      const at = await token(a as Proc, app);
      expect(await apiStatus(a as Proc, at)).toBe(200);
      expect(await apiStatus(b as Proc, at)).toBe(200);
      const rev = await postForm(`${(b as Proc).url}/oauth/revoke`, { token: at }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(rev.status).toBe(200);
      expect(await apiStatus(a as Proc, at)).toBe(401);
      expect(await apiStatus(b as Proc, at)).toBe(401);
      const intro = await postForm(`${(a as Proc).url}/oauth/introspect`, { token: at }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(intro.json).toEqual({ active: false });
    }
  });

  it('an application deactivated in the database is refused by both processes at once', async () => {
    const app = await createApp(runtime.ctx, { name: 'Deactivate me', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const at = await token(a as Proc, app);
    expect(await apiStatus(a as Proc, at)).toBe(200);
    await setAppActive(runtime.ctx, app.client.clientId, false);
    expect(await apiStatus(a as Proc, at)).toBe(401);
    expect(await apiStatus(b as Proc, at)).toBe(401);
    // And it cannot obtain new tokens from either.
    const denied = await postForm(`${(b as Proc).url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(denied.status).toBe(401);
    expect(denied.json).toEqual({ error: 'invalid_client', error_description: 'This application is deactivated' });
    await setAppActive(runtime.ctx, app.client.clientId, true);
    expect(await apiStatus(a as Proc, at)).toBe(200);
  });

  it('a secret rotated through one process: the old secret fails and the new one works on both at once', async () => {
    const app = await createApp(runtime.ctx, { name: 'Rotate me', grantTypes: ['client_credentials'], scopes: ['profile'] });
    await token(a as Proc, app);
    await token(b as Proc, app);
    const rotated = await rotateSecret(runtime.ctx, app.client.clientId);
    for (const p of [a as Proc, b as Proc]) {
      const old = await postForm(`${p.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(old.status).toBe(401);
      const fresh = await postForm(`${p.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, rotated?.clientSecret ?? '') });
      expect(fresh.status).toBe(200);
    }
  });

  it('a signing key rotated elsewhere is used by both processes from their very next JWT', async () => {
    const app = await createApp(runtime.ctx, { name: 'JWT keys', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
    const kidOf = (jwt: string): unknown => (JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown }).kid;
    const before = kidOf(await token(a as Proc, app));
    expect(kidOf(await token(b as Proc, app))).toBe(before);
    const row = await rotateSigningKey(runtime.ctx);
    expect(row.kid).not.toBe(before);
    expect(kidOf(await token(a as Proc, app))).toBe(row.kid);
    expect(kidOf(await token(b as Proc, app))).toBe(row.kid);
  });
}

describe('O3 two processes on one SQLite file', () => twoProcesses('sqlite', null));
describePg('O3 two processes on one PostgreSQL schema', (pgUrl) => twoProcesses('postgres', pgUrl));
