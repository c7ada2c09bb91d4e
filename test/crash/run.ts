/**
 * Crash test (issue #6 "Crashes and outages"), run by `npm run test:crash`
 * (scripts/crash-test.ts): a real server process under load on the token and revocation
 * endpoints is killed with SIGKILL at a (seeded) random moment, restarted on the same data, and
 * then every token answered with 200 must introspect active (unless its revocation was answered
 * with 200), every revocation answered with 200 must still hold, and the database must pass an
 * integrity check. On SQLite, and on PostgreSQL when `TOLLGATE_TEST_PG_URL` is set (required when
 * `TOLLGATE_TEST_PG=required`).
 *
 * Not part of `npm test` (it kills processes and takes ~30 s); exit code 0 = every promise held.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/runtime.js';
import { createApp } from '../../src/services/apps.js';
import { freshPgSchema } from '../helpers/pg.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { basic, freePort } from '../helpers/server.js';


export interface CrashOptions {
  readonly iterations: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly log: (line: string) => void;
}

type Proc = ServerProcess;

/** A small deterministic PRNG (mulberry32) so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function post(agent: Agent, url: string, path: string, body: string, auth: string): Promise<{ status: number; text: string } | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path,
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), authorization: auth },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

export interface CrashReport {
  readonly db: 'sqlite' | 'postgres';
  readonly iterations: number;
  readonly tokensVerified: number;
  readonly revocationsVerified: number;
  readonly failures: string[];
}

export async function crashTest(db: 'sqlite' | 'postgres', pgUrl: string | null, opts: CrashOptions): Promise<CrashReport> {
  const random = rng(opts.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-crash-'));
  const schema = db === 'postgres' && pgUrl ? await freshPgSchema(pgUrl) : null;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_ISSUER: 'http://127.0.0.1:1',
    TOLLGATE_ADMIN_PASSWORD: 'admin-password-123',
    TOLLGATE_LOG_LEVEL: 'silent',
    TOLLGATE_PURGE_INTERVAL: '0',
    ...(schema && pgUrl ? { TOLLGATE_DATABASE_URL: pgUrl, TOLLGATE_PG_SCHEMA: schema.schema } : {}),
  };
  const failures: string[] = [];
  /** Tokens answered 200, and whether a revocation of them was answered 200. */
  const issued = new Map<string, { revoked: boolean; unknown?: boolean; iteration: number }>();
  let revocations = 0;
  let auth = '';
  let server: Proc | null = null;
  try {
    for (let it = 0; it < opts.iterations; it++) {
      server = await spawnServer(await freePort(), env);
      if (it === 0) {
        const runtime = await createRuntime(loadConfig({ ...env, PORT: '1' }), schema ? { pgSchema: schema.schema } : {});
        const app = await createApp(runtime.ctx, { name: 'Crash', scopes: ['profile'], grantTypes: ['client_credentials'] });
        await runtime.close();
        auth = basic(app.client.clientId, app.clientSecret ?? '');
      }
      // Verify what the previous iterations were promised, on this restarted process.
      const bad = await verify(server.url, auth, issued);
      failures.push(...bad.map((b) => `iteration ${it}: ${b}`));

      // Load: issue tokens, and revoke some of the fresh ones, until the kill.
      const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
      const url = server.url;
      let killed = false;
      const fresh: string[] = [];
      const loop = async (): Promise<void> => {
        while (!killed) {
          const revoke = fresh.length > 0 && random() < 0.25;
          if (revoke) {
            const token = fresh.splice(Math.floor(random() * fresh.length), 1)[0] ?? '';
            const r = await post(agent, url, '/oauth/revoke', `token=${encodeURIComponent(token)}`, auth);
            const entry = issued.get(token);
            if (entry && r?.status === 200) {
              entry.revoked = true;
              revocations++;
            } else if (entry && r === null) {
              // Sent but never answered (the kill): it may or may not have happened.
              entry.unknown = true;
            } else if (r && r.status >= 500) {
              failures.push(`iteration ${it}: revocation answered ${r.status}: ${r.text.slice(0, 200)}`);
            }
          } else {
            const r = await post(agent, url, '/oauth/token', 'grant_type=client_credentials', auth);
            if (r?.status === 200) {
              const token = String((JSON.parse(r.text) as { access_token?: unknown }).access_token);
              issued.set(token, { revoked: false, iteration: it });
              fresh.push(token);
            } else if (r && r.status >= 500) {
              failures.push(`iteration ${it}: ${r.status} before the kill: ${r.text.slice(0, 200)}`);
            }
          }
        }
      };
      const loops = Array.from({ length: opts.concurrency }, loop);
      const killAfter = 200 + Math.floor(random() * 800);
      await new Promise((r) => setTimeout(r, killAfter));
      server.child.kill('SIGKILL');
      await server.exited;
      killed = true;
      await Promise.all(loops);
      agent.destroy();
      server = null;
      const thisRound = [...issued.values()].filter((e) => e.iteration === it).length;
      opts.log(`  [${db}] iteration ${it + 1}/${opts.iterations}: killed after ${killAfter} ms, ${thisRound} tokens answered 200`);
    }
    // Final restart and verification, then the integrity check on a stopped database.
    server = await spawnServer(await freePort(), env);
    failures.push(...(await verify(server.url, auth, issued)).map((b) => `final: ${b}`));
    server.child.kill('SIGTERM');
    await server.exited;
    server = null;
    failures.push(...(await integrity(db, dataDir, pgUrl, schema?.schema ?? null)));
  } finally {
    if (server) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
    await schema?.drop();
  }
  const unanswered = [...issued.values()].filter((e) => e.unknown === true).length;
  return { db, iterations: opts.iterations, tokensVerified: issued.size - unanswered, revocationsVerified: revocations, failures };
}

async function verify(url: string, auth: string, issued: ReadonlyMap<string, { revoked: boolean; unknown?: boolean }>): Promise<string[]> {
  const bad: string[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const entries = [...issued];
  for (let i = 0; i < entries.length; i += 64) {
    await Promise.all(
      entries.slice(i, i + 64).map(async ([token, { revoked, unknown }]) => {
        const r = await post(agent, url, '/oauth/introspect', `token=${encodeURIComponent(token)}`, auth);
        if (!r || r.status !== 200) {
          bad.push(`introspection answered ${r?.status ?? 'nothing'}`);
          return;
        }
        const active = (JSON.parse(r.text) as { active?: unknown }).active;
        if (revoked && active !== false) bad.push(`a token whose revocation was answered 200 is active again (${token.slice(0, 8)}…)`);
        if (!revoked && !unknown && active !== true) bad.push(`a token answered 200 is not active after the restart (${token.slice(0, 8)}…)`);
      }),
    );
  }
  agent.destroy();
  return bad;
}

async function integrity(db: 'sqlite' | 'postgres', dataDir: string, pgUrl: string | null, schema: string | null): Promise<string[]> {
  if (db === 'sqlite') {
    const sqlite = new Database(join(dataDir, 'tollgate.db'));
    try {
      const rows = sqlite.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>;
      const fk = sqlite.prepare('PRAGMA foreign_key_check').all();
      const out: string[] = [];
      if (rows.length !== 1 || rows[0]?.integrity_check !== 'ok') out.push(`PRAGMA integrity_check: ${JSON.stringify(rows)}`);
      if (fk.length > 0) out.push(`PRAGMA foreign_key_check: ${JSON.stringify(fk).slice(0, 300)}`);
      return out;
    } finally {
      sqlite.close();
    }
  }
  // PostgreSQL: the server's crash cannot corrupt the database itself; check the data is
  // consistent (every token belongs to an existing application) and every table is readable.
  const client = new pg.Client({ connectionString: pgUrl ?? '' });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema]);
    for (const t of tables.rows) await client.query(`select count(*) from "${schema}"."${t.table_name}"`);
    const names = tables.rows.map((t) => t.table_name);
    if (names.includes('tokens') && names.includes('clients')) {
      const orphans = await client.query<{ n: string }>(`select count(*) as n from "${schema}".tokens t where not exists (select 1 from "${schema}".clients c where c.client_id = t.client_id)`);
      if (Number(orphans.rows[0]?.n ?? 0) > 0) return [`${orphans.rows[0]?.n} tokens of no application`];
    }
    return [];
  } finally {
    await client.end();
  }
}
