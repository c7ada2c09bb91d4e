/**
 * A Tollgate instance for the benchmark: a fresh data directory (or PostgreSQL schema), the apps
 * and user created with the CLI, the server started, a browser session signed in with consent
 * given once, and tokens to present.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { runCli, startServer, type Server } from './proc.js';

const CLI = 'dist/cli/main.js';
export const REDIRECT = 'http://127.0.0.1:9000/callback';
export const USER = { email: 'alice@example.com', password: 'alice-password-1' };

export interface App {
  readonly clientId: string;
  readonly secret: string;
  readonly basic: string;
}

export interface Instance {
  readonly label: string;
  readonly env: Record<string, string>;
  readonly dataDir: string;
  readonly apps: { cc: App; ccJwt: App; code: App; codeJwt: App; oidc: App; pw: App; device: App };
  server: Server;
  cookie: string;
  extra: Server[];
}

export function basicOf(id: string, secret: string): string {
  return Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

export function createApp(env: Record<string, string>, name: string, args: readonly string[]): App {
  const out = JSON.parse(runCli([CLI, 'apps', 'create', '--name', name, ...args, '--json'], env)) as {
    client_id: string;
    client_secret: string;
  };
  return { clientId: out.client_id, secret: out.client_secret, basic: basicOf(out.client_id, out.client_secret) };
}

export async function startTollgate(label: string, extraEnv: Record<string, string>, serve = true): Promise<Instance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const env: Record<string, string> = {
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_LOG_LEVEL: 'silent',
    TOLLGATE_PURGE_INTERVAL: '0',
    // The load comes from one address: the per-IP sign-in limit would turn the password grant into 429s.
    TOLLGATE_LOGIN_RATE_LIMIT: '1000000',
    TOLLGATE_ADMIN_PASSWORD: 'bench-admin-password',
    ...extraEnv,
  };
  runCli([CLI, 'migrate', '--json'], env);
  runCli([CLI, 'users', 'create', '--email', USER.email, '--password', USER.password, '--json'], env);
  const apps = {
    cc: createApp(env, 'bench cc opaque', ['--grant-type', 'client_credentials', '--scope', 'profile']),
    ccJwt: createApp(env, 'bench cc jwt', ['--grant-type', 'client_credentials', '--scope', 'profile', '--token-format', 'jwt']),
    code: createApp(env, 'bench code opaque', ['--redirect-uri', REDIRECT, '--scope', 'profile']),
    codeJwt: createApp(env, 'bench code jwt', ['--redirect-uri', REDIRECT, '--scope', 'profile', '--token-format', 'jwt']),
    // OpenID Connect: the same kind of application; `openid` needs no grant on the application.
    oidc: createApp(env, 'bench code oidc', ['--redirect-uri', REDIRECT, '--scope', 'profile']),
    pw: createApp(env, 'bench password', ['--grant-type', 'password', '--grant-type', 'refresh_token', '--scope', 'profile']),
    // A device (RFC 8628) is usually a public client: it polls with its client_id alone.
    device: createApp(env, 'bench device', ['--public', '--grant-type', 'urn:ietf:params:oauth:grant-type:device_code', '--scope', 'profile']),
  };
  const inst: Instance = { label, env, dataDir, apps, server: undefined as unknown as Server, cookie: '', extra: [] };
  if (serve) await serveInstance(inst);
  return inst;
}

export async function serveInstance(inst: Instance, env: Record<string, string> = {}, args: readonly string[] = []): Promise<Server> {
  inst.server = await startServer(`tollgate ${inst.label}`, [CLI, 'serve', ...args], { ...inst.env, ...env }, '/.well-known/oauth-authorization-server');
  return inst.server;
}

export function cleanup(inst: Instance): void {
  rmSync(inst.dataDir, { recursive: true, force: true });
}

// --- browser part: sign in, consent once -------------------------------------------------------

export class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = (pair ?? '').indexOf('=');
      if (i > 0) this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function field(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} field in page`);
  return (m[1] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The scope the OpenID Connect scenario asks for (with a nonce), and the plain code flows' scope. */
export const OIDC_SCOPE = 'openid profile';
export const PLAIN_SCOPE = 'profile';

function authorizePath(clientId: string, challenge: string, scope = PLAIN_SCOPE, nonce?: string): string {
  return (
    `/oauth/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}` +
    `&scope=${encodeURIComponent(scope)}&state=s${randomBytes(4).toString('hex')}&code_challenge=${challenge}&code_challenge_method=S256` +
    (nonce !== undefined ? `&nonce=${nonce}` : '')
  );
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Signs alice in and gives consent once to the code apps (`profile`, and `openid profile` to the
 * OpenID Connect one); the cookie is kept on the instance.
 */
export async function signIn(inst: Instance): Promise<void> {
  const base = inst.server.base;
  const jar = new Jar();
  let res = await fetch(`${base}/login`);
  jar.take(res);
  const csrf = field(await res.text(), 'csrf');
  res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, return_to: '/', username: USER.email, password: USER.password }).toString(),
  });
  jar.take(res);
  await res.arrayBuffer();
  if (res.status !== 302 && res.status !== 303) throw new Error(`login failed: ${res.status}`);
  const consents: Array<[App, string]> = [
    [inst.apps.code, PLAIN_SCOPE],
    [inst.apps.codeJwt, PLAIN_SCOPE],
    [inst.apps.oidc, OIDC_SCOPE],
  ];
  for (const [app, scope] of consents) {
    const nonce = scope === OIDC_SCOPE ? randomBytes(8).toString('hex') : undefined;
    res = await fetch(base + authorizePath(app.clientId, pkce().challenge, scope, nonce), { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    const page = await res.text();
    if (res.status !== 200) throw new Error(`consent page: ${res.status} ${page.slice(0, 200)}`);
    const form = new URLSearchParams({ csrf: field(page, 'csrf'), authorization_request: field(page, 'authorization_request'), decision: 'allow' });
    for (const s of scope.split(' ')) form.append('scope', s);
    res = await fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    jar.take(res);
    await res.arrayBuffer();
    if (res.status !== 302 && res.status !== 303) throw new Error(`consent failed: ${res.status}`);
  }
  inst.cookie = jar.header();
}

export interface TokenSet {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
}

/** One authorization-code flow with the signed-in cookie (consent remembered): the token response. */
export async function codeFlow(inst: Instance, app: App, scope = PLAIN_SCOPE, nonce?: string): Promise<TokenSet> {
  const base = inst.server.base;
  const { verifier, challenge } = pkce();
  const r1 = await fetch(base + authorizePath(app.clientId, challenge, scope, nonce), { headers: { cookie: inst.cookie }, redirect: 'manual' });
  await r1.arrayBuffer();
  const loc = r1.headers.get('location');
  const code = loc ? new URL(loc).searchParams.get('code') : null;
  if ((r1.status !== 302 && r1.status !== 303) || !code) throw new Error(`authorize did not redirect with a code: ${r1.status} ${loc}`);
  const r2 = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${app.basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }).toString(),
  });
  const body = (await r2.json()) as TokenSet;
  if (r2.status !== 200) throw new Error(`token: ${r2.status} ${JSON.stringify(body)}`);
  return body;
}

export async function clientCredentials(base: string, app: App, extra: Record<string, string> = {}, path = '/oauth/token'): Promise<string> {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { authorization: `Basic ${app.basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...extra }).toString(),
  });
  const body = (await r.json()) as { access_token?: string };
  if (r.status !== 200 || !body.access_token) throw new Error(`client_credentials: ${r.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

// --- token exchange (RFC 8693) ------------------------------------------------------------------

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const EXCHANGE_SOURCE = 'https://orders.bench.example';
export const EXCHANGE_TARGET = 'https://billing.bench.example';

/**
 * The token-exchange scenario's set-up: a gateway application allowed to exchange tokens for the
 * billing API, serving the orders API (its introspector, so orders tokens are addressed to it);
 * alice's token for the orders API (password grant, once) as the subject and the gateway's own
 * client-credentials token as the actor. Every request of the scenario is the same exchange, and
 * each one issues (and stores) a new access token with `act`.
 */
export async function exchangeSetup(inst: Instance): Promise<{ app: App; body: string }> {
  runCli([CLI, 'resource-servers', 'create', '--identifier', EXCHANGE_TARGET, '--name', 'bench billing', '--json'], inst.env);
  const app = createApp(inst.env, 'bench token exchange', [
    '--grant-type', TOKEN_EXCHANGE, '--grant-type', 'client_credentials', '--scope', 'profile', '--token-exchange-audience', EXCHANGE_TARGET,
  ]);
  runCli([CLI, 'resource-servers', 'create', '--identifier', EXCHANGE_SOURCE, '--name', 'bench orders', '--introspector', app.clientId, '--json'], inst.env);
  const base = inst.server.base;
  const r = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${inst.apps.pw.basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: USER.email, password: USER.password, scope: 'profile', resource: EXCHANGE_SOURCE }).toString(),
  });
  const subject = ((await r.json()) as { access_token?: string }).access_token;
  if (r.status !== 200 || !subject) throw new Error(`token exchange set-up: password grant ${r.status}`);
  const actor = await clientCredentials(base, app);
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subject,
    subject_token_type: ACCESS_TOKEN_TYPE,
    actor_token: actor,
    actor_token_type: ACCESS_TOKEN_TYPE,
    audience: EXCHANGE_TARGET,
  }).toString();
  // One exchange by hand: the scenario must measure successes.
  const check = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${app.basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body });
  const out = (await check.json()) as { issued_token_type?: string };
  if (check.status !== 200 || out.issued_token_type !== ACCESS_TOKEN_TYPE) throw new Error(`token exchange set-up: ${check.status} ${JSON.stringify(out)}`);
  return { app, body };
}
