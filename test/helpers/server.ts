/**
 * Test harness: a real Tollgate listening on 127.0.0.1 (SQLite in a temp dir, or PostgreSQL in a
 * throwaway schema), plus a cookie-keeping browser stand-in that walks the login and consent
 * forms exactly as the form contract describes (fields `username`, `password`, `scope`,
 * `decision`, hidden `csrf`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { OAuthContext } from '../../src/oauth/context.js';
import { createApp, type AppInput, type CreatedApp } from '../../src/services/apps.js';
import { createUser } from '../../src/services/directory.js';
import type { UserRow } from '../../src/storage/types.js';
import type { TollgateOptions } from '../../src/tollgate.js';
import { describePg, freshPgSchema } from './pg.js';
import { describe } from 'vitest';

export type Db = 'sqlite' | 'postgres';

export interface TestServer {
  readonly url: string;
  readonly issuer: string;
  readonly ctx: OAuthContext;
  readonly server: RunningServer;
  readonly adminPassword: string;
  /** PostgreSQL only: the connection URL and the suite's schema, for bulk seeding. */
  readonly pg: { readonly url: string; readonly schema: string } | null;
  createApp(input: AppInput): Promise<CreatedApp>;
  createUser(email: string, password?: string, isAdmin?: boolean): Promise<UserRow & { readonly email: string }>;
  close(): Promise<void>;
}

export const DEFAULT_PASSWORD = 'correct horse battery';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  readonly db?: Db;
  readonly pgUrl?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Lines of the server's log (pino JSON), for log-hygiene tests. */
  readonly logLines?: string[];
  /** More createTollgate options (e.g. `outbound`, to answer outside calls from the test). */
  readonly instance?: Omit<TollgateOptions, 'config' | 'logger' | 'pgSchema'>;
}

export async function startTestServer(opts: StartOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-test-'));
  const adminPassword = 'admin-password-123';
  let schema: { schema: string; drop(): Promise<void> } | null = null;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_ADMIN_PASSWORD: adminPassword,
    TOLLGATE_LOG_LEVEL: opts.logLines ? 'info' : 'silent',
    TOLLGATE_PURGE_INTERVAL: '0',
    // The suites sign in many times from 127.0.0.1; test/system/rate-limit.test.ts sets a low limit.
    TOLLGATE_LOGIN_RATE_LIMIT: '100000',
    TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT: '100000',
    TOLLGATE_REGISTRATION_RATE_LIMIT: '100000',
    TOLLGATE_DEVICE_RATE_LIMIT: '100000',
    ...opts.env,
  };
  if (opts.db === 'postgres') {
    if (!opts.pgUrl) throw new Error('pgUrl is required for the postgres test server');
    schema = await freshPgSchema(opts.pgUrl);
    env['TOLLGATE_DATABASE_URL'] = opts.pgUrl;
  }
  const config = loadConfig(env);
  const lines = opts.logLines;
  const server = await startServer(config, {
    out: (line) => lines?.push(line),
    ...(lines
      ? { logger: { level: 'info', stream: { write: (l: string) => void lines.push(l) } } as never }
      : {}),
    ...(schema ? { pgSchema: schema.schema } : {}),
    ...(opts.instance ? { instance: opts.instance } : {}),
  });
  const ctx = server.runtime.ctx;
  return {
    url: `http://127.0.0.1:${port}`,
    issuer: config.issuer,
    ctx,
    server,
    adminPassword,
    pg: schema && opts.pgUrl ? { url: opts.pgUrl, schema: schema.schema } : null,
    createApp: (input) => createApp(ctx, input),
    createUser: (email, password = DEFAULT_PASSWORD, isAdmin = false) => createUser(ctx, { email, password, isAdmin }),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await schema.drop();
    },
  };
}

/** Runs `fn` as a suite on SQLite, and again on PostgreSQL (skipped loudly without a URL). */
export function describeEachDb(name: string, fn: (start: (o?: Omit<StartOptions, 'db' | 'pgUrl'>) => Promise<TestServer>, db: Db) => void): void {
  describe(`${name} [sqlite]`, () => fn((o = {}) => startTestServer({ ...o, db: 'sqlite' }), 'sqlite'));
  describePg(`${name} [postgres]`, (url) => fn((o = {}) => startTestServer({ ...o, db: 'postgres', pgUrl: url }), 'postgres'));
}

/** A minimal browser: keeps cookies, follows nothing by itself. */
export class Browser {
  private readonly cookies = new Map<string, string>();
  /** `prefix`: the path Tollgate is mounted under (its issuer's path), '' at the root. */
  constructor(
    readonly base: string,
    readonly prefix = '',
  ) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(sc) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async postForm(path: string, fields: ReadonlyArray<readonly [string, string]>): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields.map(([k, v]): [string, string] => [k, v])).toString(),
    });
  }

  /** Signs in through the login form; returns the final 303 response. */
  async login(email: string, password: string, returnTo = '/'): Promise<Response> {
    const page = await this.fetch(`${this.prefix}/login?return_to=${encodeURIComponent(returnTo)}`);
    const csrf = hiddenField(await page.text(), 'csrf');
    return this.postForm(`${this.prefix}/login`, [
      ['csrf', csrf],
      ['return_to', returnTo],
      ['username', email],
      ['password', password],
    ]);
  }
}

export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in page:\n${html.slice(0, 500)}`);
  return decodeHtml(m[1] ?? '');
}

function decodeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface AuthorizeOutcome {
  /** The final redirect to the client (Location), or null when a page was shown instead. */
  readonly location: string | null;
  readonly status: number;
  readonly body: string;
}

/**
 * Walks an authorization request as a signed-in person: GET /oauth/authorize, and on the consent
 * page submit `decision` with the ticked `scopes` (default: all shown).
 */
export async function authorize(
  browser: Browser,
  authorizeUrl: string,
  opts: { decision?: 'allow' | 'deny'; scopes?: readonly string[] } = {},
): Promise<AuthorizeOutcome> {
  const res = await browser.fetch(authorizeUrl);
  const body = await res.text();
  if (res.status === 303) return { location: res.headers.get('location'), status: 303, body };
  if (res.status !== 200 || !body.includes('name="decision"')) return { location: null, status: res.status, body };
  const csrf = hiddenField(body, 'csrf');
  const request = hiddenField(body, 'authorization_request');
  const shown = [...body.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1] ?? '');
  const ticked = opts.scopes ?? shown;
  const post = await browser.postForm(`${browser.prefix}/oauth/authorize`, [
    ['csrf', csrf],
    ['authorization_request', request],
    ...ticked.map((s) => ['scope', s] as const),
    ['decision', opts.decision ?? 'allow'],
  ]);
  return { location: post.headers.get('location'), status: post.status, body: await post.text() };
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POST a form to an endpoint and return status, headers and parsed JSON. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, headers: res.headers, json };
}

/**
 * An administrator's bearer token for the admin API: creates the administrator `email` and a
 * password-grant application holding the `admin` scope, and signs in through it.
 */
export async function adminBearer(s: TestServer, email: string): Promise<string> {
  await s.createUser(email, DEFAULT_PASSWORD, true);
  const admin = await s.createApp({ name: 'Admin script', scopes: ['admin'], grantTypes: ['password'] });
  const t = await postForm(`${s.url}/oauth/token`, {
    grant_type: 'password',
    username: email,
    password: DEFAULT_PASSWORD,
    scope: 'admin',
    client_id: admin.client.clientId,
    client_secret: admin.clientSecret ?? '',
  });
  if (t.status !== 200) throw new Error(`admin token: ${t.status} ${JSON.stringify(t.json)}`);
  return String(t.json['access_token']);
}
