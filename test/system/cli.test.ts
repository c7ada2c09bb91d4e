/**
 * The `tollgate` CLI, spawned as a real process (`node --import tsx src/cli/main.ts …`) against a
 * throwaway SQLite database. Independent commands run concurrently to keep the suite fast.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const ADMIN_PASSWORD = 'admin-password-123';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let dataDir = '';
const dirs: string[] = [];

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tollgate-cli-'));
  dirs.push(d);
  return d;
}

/** Runs the CLI with a clean environment (no TOLLGATE_DATABASE_URL: SQLite in the data dir). */
function run(args: readonly string[], env: Record<string, string | undefined> = {}, input?: string): Promise<Result> {
  const merged: Record<string, string | undefined> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? tmpdir(),
    TMPDIR: tmpdir(),
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...env,
  };
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) childEnv[k] = v;
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      {
        cwd: ROOT,
        env: childEnv,
        timeout: 20_000,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Runs a `--json` command that must succeed; returns the one JSON document it printed. */
async function json<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const r = await run([...args, '--json']);
  if (r.code !== 0) throw new Error(`tollgate ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as T;
}

/** Expects a failure with exactly this exit code and this one-line message on stderr. */
function expectError(r: Result, code: number, message: string): void {
  expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code, stderr: `error: ${message}\n`, stdout: '' });
}

interface App {
  client_id: string;
  client_secret?: string;
  refresh_token?: string;
  name: string;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  client_type: string;
  org_id: string | null;
  owner_id: string | null;
  internal: boolean;
  active: boolean;
  token_format: string;
  access_ttl: number | null;
  refresh_enabled: boolean;
  refresh_ttl: number | null;
}

const APP_VIEW_KEYS = [
  'client_id',
  'name',
  'description',
  'website',
  'logo_uri',
  'redirect_uris',
  'scopes',
  'grant_types',
  'client_type',
  'token_endpoint_auth_method',
  'jwks',
  'jwks_uri',
  'org_id',
  'owner_id',
  'acts_as_user_id',
  'internal',
  'active',
  'token_format',
  'access_ttl',
  'refresh_enabled',
  'refresh_ttl',
  'refresh_grace_seconds',
  'id_token_signed_response_alg',
  'post_logout_redirect_uris',
  'application_type',
  'default_max_age',
  'contacts',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'token_exchange',
  'dynamic',
  'metadata_document',
  'deactivated_by_admin',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
];

let alice = { id: '', email: 'alice@example.com' };
let orgId = '';

beforeAll(async () => {
  dataDir = freshDir();
  // The first command migrates and bootstraps; later ones run concurrently on a ready database.
  const m = await run(['migrate', '--json']);
  expect(m.code).toBe(0);
  expect(m.stderr).toBe(`note: no database at ${dataDir}/tollgate.db: created a new, empty one\n`);
  const migrated = JSON.parse(m.stdout) as { applied: string[] };
  expect(migrated.applied.length).toBeGreaterThan(0);
  const [user, org] = await Promise.all([
    json<{ id: string; email: string }>(['users', 'create', '--email', 'Alice@Example.com', '--password', 'alice-password']),
    json<{ id: string; name: string }>(['orgs', 'create', '--name', 'Acme']),
  ]);
  alice = { id: user.id, email: user.email };
  orgId = org.id;
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('general', () => {
  it('prints the version and help', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const [version, help] = await Promise.all([run(['--version']), run(['help'])]);
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(help.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'apps', 'users', 'orgs', 'scopes', 'resource-servers', 'client-metadata', 'keys', 'tokens']) {
      expect(help.stdout).toContain(cmd);
    }
  });

  it('migrate again applies nothing; an invalid environment exits 2 with one line per problem', async () => {
    const [again, bad] = await Promise.all([
      json(['migrate']),
      run(['apps', 'list', '--json'], { PORT: 'abc', TOLLGATE_KEY_ALG: 'HS256' }),
    ]);
    expect(again).toEqual({ applied: [] });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    const lines = bad.stderr.trimEnd().split('\n');
    expect(lines).toContain('  PORT: expected a whole number, got "abc"');
    expect(lines.some((l) => /^\s*TOLLGATE_KEY_ALG: /.test(l))).toBe(true);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('only migrate creates a database (saying so, with the generated admin password once); other commands refuse where there is none', async () => {
    const dir = freshDir();
    const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_ADMIN_PASSWORD: undefined };
    // Issue #15 §13: a command never starts afresh where a database was expected (moved, deleted).
    for (const args of [['scopes', 'list', '--json'], ['users', 'create', '--email', 'x@example.com', '--password', 'long-enough-1'], ['apps', 'list']]) {
      const refused = await run(args, env);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(
        `error: no database at ${dir}/tollgate.db. A new installation: create it with "tollgate migrate" (or start the server). ` +
          'If one was expected here, it was moved or deleted: restore it, or point TOLLGATE_DATA_DIR at it, rather than starting afresh.\n',
      );
    }
    expect(existsSync(join(dir, 'tollgate.db'))).toBe(false);
    const first = await run(['migrate', '--json'], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/administrator admin@localhost/);
    expect(first.stderr).toContain(`note: no database at ${dir}/tollgate.db: created a new, empty one`);
    expect(first.stderr).toMatch(/generated password: \S{16,}/);
    const listed = await run(['scopes', 'list', '--json'], env);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toBe('');
    const scopes = JSON.parse(listed.stdout) as { items: Array<{ name: string; is_default: boolean }> };
    expect(scopes.items.map((s) => s.name).sort()).toEqual(['admin', 'email', 'login', 'offline_access', 'openid', 'profile']);
    expect(scopes.items.find((s) => s.name === 'profile')?.is_default).toBe(true);
    const again = await run(['migrate', '--json'], env);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toEqual({ applied: [] });
  });
});

describe('apps create', () => {
  it('creates a confidential app and prints its credentials once', async () => {
    const app = await json<App>([
      'apps', 'create', '--name', 'Photo Printer',
      '--redirect-uri', 'https://printer.example/cb',
      '--redirect-uri', 'https://printer.example/cb2,http://127.0.0.1/cb',
      '--scope', 'profile', '--scope', 'email',
      '--description', 'Prints your photos', '--website', 'https://printer.example',
    ]);
    expect(app.client_id).toMatch(/^tgc_/);
    expect(app.client_secret).toMatch(/^tgs_/);
    expect(app).not.toHaveProperty('refresh_token');
    expect(Object.keys(app).sort()).toEqual([...APP_VIEW_KEYS, 'client_secret'].sort());
    expect(app).toMatchObject({
      name: 'Photo Printer',
      redirect_uris: ['https://printer.example/cb', 'https://printer.example/cb2', 'http://127.0.0.1/cb'],
      scopes: ['profile', 'email'],
      grant_types: ['authorization_code', 'refresh_token'],
      client_type: 'confidential',
      internal: false,
      active: true,
      token_format: 'opaque',
      access_ttl: 3600,
      refresh_enabled: true,
    });
    // `show` never prints the secret.
    const shown = await json<App>(['apps', 'show', app.client_id]);
    expect(Object.keys(shown).sort()).toEqual([...APP_VIEW_KEYS].sort());
    expect(JSON.stringify(shown)).not.toContain('tgs_');
  });

  it('OpenID Connect options: --post-logout-redirect-uri (repeatable) and --id-token-alg; update replaces them', async () => {
    const app = await json<App & { post_logout_redirect_uris: string[]; id_token_signed_response_alg: string }>([
      'apps', 'create', '--name', 'OIDC RP', '--redirect-uri', 'https://rp.example/cb',
      '--post-logout-redirect-uri', 'https://rp.example/bye', '--post-logout-redirect-uri', 'https://rp.example/bye2', '--id-token-alg', 'ES256',
    ]);
    expect(app.post_logout_redirect_uris).toEqual(['https://rp.example/bye', 'https://rp.example/bye2']);
    expect(app.id_token_signed_response_alg).toBe('ES256');
    const updated = await json<{ post_logout_redirect_uris: string[]; id_token_signed_response_alg: string }>(['apps', 'update', app.client_id, '--post-logout-redirect-uri', 'https://rp.example/only', '--id-token-alg', 'EdDSA']);
    expect(updated).toMatchObject({ post_logout_redirect_uris: ['https://rp.example/only'], id_token_signed_response_alg: 'EdDSA' });
    expectError(await run(['apps', 'create', '--name', 'Bad', '--id-token-alg', 'HS256']), 1, "option '--id-token-alg <alg>' argument 'HS256' is invalid. Allowed choices are RS256, ES256, EdDSA.");
  });

  it('OpenID Connect registration metadata: --application-type, --default-max-age, --contact, --backchannel-logout-uri; "" clears the URI', async () => {
    const app = await json<App & Record<string, unknown>>([
      'apps', 'create', '--name', 'BC RP', '--redirect-uri', 'https://rp.example/cb', '--application-type', 'native', '--default-max-age', '600',
      '--contact', 'ops@rp.example', '--contact', 'dev@rp.example', '--backchannel-logout-uri', 'https://rp.example/bc', '--backchannel-logout-session-required',
    ]);
    expect(app).toMatchObject({
      application_type: 'native',
      default_max_age: 600,
      contacts: ['ops@rp.example', 'dev@rp.example'],
      backchannel_logout_uri: 'https://rp.example/bc',
      backchannel_logout_session_required: true,
    });
    const cleared = await json<Record<string, unknown>>(['apps', 'update', app.client_id, '--backchannel-logout-uri', '', '--application-type', 'web']);
    expect(cleared).toMatchObject({ application_type: 'web', default_max_age: 600, backchannel_logout_uri: null });
    expectError(
      await run(['apps', 'create', '--name', 'Bad', '--redirect-uri', 'https://rp.example/cb', '--backchannel-logout-uri', 'https://10.1.2.3/bc']),
      1,
      'backchannel_logout_uri: 10.1.2.3 is not a public address',
    );
  });

  it('token exchange (RFC 8693): the policy options on create; update changes, keeps and removes it', async () => {
    const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
    // Tollgate's own API is always a valid audience (creating a resource server here would change the lists other tests check).
    const own = 'http://localhost:8080/api';
    type Tx = App & { token_exchange: unknown };
    const app = await json<Tx>([
      'apps', 'create', '--name', 'Gateway', '--grant-type', 'client_credentials', '--grant-type', TE,
      '--token-exchange-audience', own, '--token-exchange-impersonation',
    ]);
    expect(app.grant_types).toEqual(['client_credentials', TE]);
    expect(app.token_exchange).toEqual({ audiences: [own], impersonation: true, refresh_tokens: false });
    const plain = await json<Tx>(['apps', 'create', '--name', 'No policy', '--grant-type', 'client_credentials']);
    expect(plain.token_exchange).toBeNull();
    const updated = await json<Tx>(['apps', 'update', app.client_id, '--no-token-exchange-impersonation', '--token-exchange-refresh']);
    expect(updated.token_exchange).toEqual({ audiences: [own], impersonation: false, refresh_tokens: true });
    const renamed = await json<Tx>(['apps', 'update', app.client_id, '--name', 'Gateway 2']);
    expect(renamed.token_exchange).toEqual(updated.token_exchange);
    const removed = await json<Tx>(['apps', 'update', app.client_id, '--remove-token-exchange']);
    expect(removed.token_exchange).toBeNull();
    expectError(
      await run(['apps', 'create', '--name', 'Bad', '--grant-type', TE, '--token-exchange-audience', 'https://unknown.cli.example']),
      1,
      'Unknown token-exchange audience "https://unknown.cli.example": register the resource server first (or use http://localhost:8080/api)',
    );
    expectError(
      await run(['apps', 'update', app.client_id, '--remove-token-exchange', '--token-exchange-refresh']),
      1,
      'Use either --remove-token-exchange or the other --token-exchange options, not both',
    );
  });

  it('private_key_jwt: --jwks-file or --jwks-uri on create (no secret printed); update replaces the keys; a secret app cannot take keys', async () => {
    type Pkj = App & { token_endpoint_auth_method: string; jwks: unknown; jwks_uri: string | null; client_secret?: string };
    const key = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' };
    const file = join(freshDir(), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [key] }));
    const app = await json<Pkj>(['apps', 'create', '--name', 'Signed job', '--grant-type', 'client_credentials', '--jwks-file', file]);
    expect(app).not.toHaveProperty('client_secret');
    expect(app).toMatchObject({ client_type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key] }, jwks_uri: null });
    const moved = await json<Pkj>(['apps', 'update', app.client_id, '--jwks-uri', 'https://keys.cli.example/jwks.json']);
    expect(moved).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: null, jwks_uri: 'https://keys.cli.example/jwks.json' });
    const secretApp = await json<Pkj>(['apps', 'create', '--name', 'Secret job', '--grant-type', 'client_credentials']);
    expect(secretApp.token_endpoint_auth_method).toBe('client_secret_basic');
    expectError(
      await run(['apps', 'update', secretApp.client_id, '--jwks-file', file]),
      1,
      'The authentication method (client secret or private_key_jwt) cannot be changed after creation',
    );
    expectError(await run(['apps', 'rotate-secret', app.client_id]), 1, 'This application authenticates with private_key_jwt: it has no secret to rotate (register new keys instead)');
    writeFileSync(file, JSON.stringify({ keys: [{ ...key, d: 'secret' }] }));
    expectError(await run(['apps', 'create', '--name', 'Leaky', '--grant-type', 'client_credentials', '--jwks-file', file]), 1, 'jwks holds private or symmetric key material');
    expectError(await run(['apps', 'create', '--name', 'Internal', '--grant-type', 'client_credentials', '--jwks-uri', 'https://127.0.0.1/jwks.json']), 1, 'jwks_uri: 127.0.0.1 is not a public address');
  });

  it('public apps, internal apps, and every other option', async () => {
    const [pub, noOwner, internal, batch] = await Promise.all([
      json<App>(['apps', 'create', '--name', 'Mobile', '--public', '--redirect-uri', 'com.example.app:/cb']),
      run(['apps', 'create', '--name', 'Script', '--internal', '--grant-type', 'refresh_token', '--json']),
      json<App>(['apps', 'create', '--name', 'Script', '--internal', '--owner', alice.email, '--grant-type', 'refresh_token', '--scope', 'profile']),
      json<App>([
        'apps', 'create', '--name', 'Batch', '--grant-type', 'client_credentials', '--scope', 'profile email,admin',
        '--org', 'Acme', '--owner', 'alice@example.com', '--acts-as', 'ALICE@example.com',
        '--token-format', 'jwt', '--access-ttl', '600', '--refresh-ttl', 'never', '--no-refresh', '--inactive',
      ]),
    ]);
    expect(pub.client_id).toMatch(/^tgc_/);
    expect(pub).not.toHaveProperty('client_secret');
    expect(pub.client_type).toBe('public');

    expectError(noOwner, 1, 'An internal application needs an owner (the user its refresh token acts for)');
    expect(internal.client_secret).toMatch(/^tgs_/);
    expect(internal.refresh_token).toMatch(/^tgr_/);
    expect(internal).toMatchObject({ internal: true, owner_id: alice.id, scopes: ['profile'] });

    expect(batch).toMatchObject({
      scopes: ['profile', 'email', 'admin'],
      grant_types: ['client_credentials'],
      org_id: orgId,
      owner_id: alice.id,
      acts_as_user_id: alice.id,
      token_format: 'jwt',
      access_ttl: 600,
      refresh_ttl: null,
      refresh_enabled: false,
      active: false,
    });
  });

  it('refuses bad input with one clear message and creates nothing', async () => {
    const base = ['apps', 'create', '--name', 'Bad', '--json'];
    const [scope, http, frag, owner, ttl, missing] = await Promise.all([
      run([...base, '--redirect-uri', 'https://x.example/cb', '--scope', 'profile', '--scope', 'nope']),
      run([...base, '--redirect-uri', 'http://evil.example/cb']),
      run([...base, '--redirect-uri', 'https://x/cb#frag']),
      run([...base, '--redirect-uri', 'https://x.example/cb', '--owner', 'nobody@example.com']),
      run([...base, '--access-ttl', 'soon']),
      run(['apps', 'create', '--json']),
    ]);
    expectError(scope, 1, 'Unknown scope "nope"; create it first');
    expectError(http, 1, 'Plain http is only allowed for loopback redirect URIs (127.0.0.1, [::1], localhost)');
    expectError(frag, 1, 'A redirect URI must not contain a fragment');
    expectError(owner, 1, 'No user with the email nobody@example.com');
    expectError(ttl, 1, "option '--access-ttl <seconds>' argument 'soon' is invalid. Expected a whole number of seconds.");
    expectError(missing, 1, "required option '--name <name>' not specified");
  });

  it('prints a readable form without --json', async () => {
    const r = await run(['apps', 'create', '--name', 'Human', '--redirect-uri', 'https://h.example/cb']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Created application "Human"/);
    expect(r.stdout).toMatch(/^client_id: +tgc_/m);
    expect(r.stdout).toMatch(/^client_secret: +tgs_/m);
    expect(r.stdout).toContain('shown only once');
  });
});

describe('apps management', () => {
  const create = (name: string, ...extra: string[]): Promise<App> =>
    json<App>(['apps', 'create', '--name', name, '--redirect-uri', 'https://m.example/cb', ...extra]);

  it('rotate-secret, deactivate, activate', async () => {
    const app = await create('Switch');
    // One after the other: concurrent read-then-write transactions on SQLite can fail with SQLITE_BUSY.
    const rotated = await json<{ client_id: string; client_secret: string }>(['apps', 'rotate-secret', app.client_id]);
    const off = await json<App>(['apps', 'deactivate', app.client_id]);
    expect(rotated.client_id).toBe(app.client_id);
    expect(rotated.client_secret).toMatch(/^tgs_/);
    expect(rotated.client_secret).not.toBe(app.client_secret);
    expect(off.active).toBe(false);
    expect((await json<App>(['apps', 'show', app.client_id])).active).toBe(false);
    expect((await json<App>(['apps', 'activate', app.client_id])).active).toBe(true);
  });

  it('list filters by name, status and organization', async () => {
    const [a, b] = await Promise.all([create('Zebra One'), create('zebra two', '--inactive', '--org', 'Acme')]);
    const [byName, inactive, human] = await Promise.all([
      json<{ items: App[]; total: number }>(['apps', 'list', '--name', 'ZEBRA']),
      json<{ items: App[]; total: number }>(['apps', 'list', '--status', 'inactive', '--org', 'Acme', '--limit', '1']),
      run(['apps', 'list', '--name', 'zebra', '--status', 'active']),
    ]);
    const ids = (l: { items: App[] }): string[] => l.items.map((i) => i.client_id).sort();
    expect(byName.total).toBe(2);
    expect(ids(byName)).toEqual([a.client_id, b.client_id].sort());
    // Newest first: "zebra two" is the latest inactive app of Acme ("Batch" came before).
    expect(inactive.items.map((i) => i.client_id)).toEqual([b.client_id]);
    expect(inactive.total).toBe(2);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^CLIENT_ID +NAME/);
    expect(human.stdout).toContain('Zebra One');
    expect(human.stdout).not.toContain('zebra two');
  });

  it('update changes only the options given', async () => {
    const app = await create('Updatable', '--scope', 'profile');
    const updated = await json<App>([
      'apps', 'update', app.client_id, '--name', 'Updated', '--add-redirect-uri', 'https://m.example/cb2',
      '--add-scope', 'email', '--token-format', 'jwt', '--access-ttl', '120', '--inactive',
    ]);
    expect(updated).toMatchObject({
      name: 'Updated',
      redirect_uris: ['https://m.example/cb', 'https://m.example/cb2'],
      scopes: ['profile', 'email'],
      token_format: 'jwt',
      access_ttl: 120,
      active: false,
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const [again, unknown, nothing] = await Promise.all([
      json<App>(['apps', 'update', app.client_id, '--remove-redirect-uri', 'https://m.example/cb', '--scope', 'email', '--long-lived']),
      run(['apps', 'update', 'tgc_nope', '--name', 'x']),
      run(['apps', 'update', app.client_id]),
    ]);
    expect(again).toMatchObject({
      name: 'Updated',
      redirect_uris: ['https://m.example/cb2'],
      scopes: ['email'],
      access_ttl: null,
      refresh_enabled: false,
    });
    expectError(unknown, 1, 'No application with the client_id tgc_nope');
    expectError(nothing, 1, 'Nothing to update: give at least one option (see tollgate apps update --help)');
  });

  it('delete needs --yes', async () => {
    const app = await create('Doomed');
    const refused = await run(['apps', 'delete', app.client_id]);
    expectError(
      refused,
      1,
      `Refusing to delete ${app.client_id} ("Doomed") without --yes: this deletes the application with its tokens and consents`,
    );
    expect(await json(['apps', 'delete', app.client_id, '--yes'])).toEqual({ deleted: true, client_id: app.client_id });
    expectError(await run(['apps', 'show', app.client_id]), 1, `No application with the client_id ${app.client_id}`);
  });
});

describe('users, orgs, scopes, resource servers', () => {
  it('users create, duplicates, list, disable and enable', async () => {
    const [bob, piped, dup, badRole] = await Promise.all([
      json<{ email: string; is_admin: boolean; organizations: Array<{ name: string; role: string }> }>([
        'users', 'create', '--email', 'bob@example.com', '--password', 'bob-password', '--admin', '--org', 'Acme', '--role', 'admin',
      ]),
      run(['users', 'create', '--email', 'stdin@example.com', '--password', '-', '--json'], {}, 'piped-password\n'),
      run(['users', 'create', '--email', 'alice@example.com', '--password', 'whatever-123']),
      run(['users', 'create', '--email', 'dave@example.com', '--password', 'dave-password', '--role', 'admin']),
    ]);
    expect(bob).toMatchObject({ email: 'bob@example.com', name: null, is_admin: true, disabled: false });
    // Issue #12: a name for OpenID Connect's profile claims.
    const named = await json<{ email: string; name: string | null }>(['users', 'create', '--email', 'ada@example.com', '--password', 'ada-password', '--name', 'Ada Lovelace', '--given-name', 'Ada', '--family-name', 'Lovelace', '--email-verified']);
    expect(named).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
    const renamed = await json<Record<string, unknown>>(['users', 'update', '--email', 'ada@example.com', '--name', 'Ada King', '--family-name', '', '--no-email-verified']);
    expect(renamed).toMatchObject({ email: 'ada@example.com', name: 'Ada King', given_name: 'Ada', family_name: null, email_verified: false });
    expect(bob.organizations).toEqual([{ id: orgId, name: 'Acme', role: 'admin' }]);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ email: 'stdin@example.com', is_admin: false });
    expectError(dup, 1, 'A user with the email alice@example.com already exists');
    expectError(badRole, 1, '--role needs --org (the organization the role is in)');

    const [disabled, orgs] = await Promise.all([
      json<{ disabled: boolean }>(['users', 'disable', '--email', 'bob@example.com']),
      json<{ items: Array<{ id: string; name: string }> }>(['orgs', 'list']),
    ]);
    expect(disabled.disabled).toBe(true);
    expect(orgs.items.map((o) => o.name)).toEqual(['Acme']);
    const list = await json<{ items: Array<{ email: string; disabled: boolean; is_admin: boolean }> }>(['users', 'list']);
    expect(list.items.find((u) => u.email === 'bob@example.com')?.disabled).toBe(true);
    expect(list.items.find((u) => u.email === 'admin@localhost')?.is_admin).toBe(true);
    expect(JSON.stringify(list)).not.toMatch(/argon2|password/i);
    expect((await json<{ disabled: boolean }>(['users', 'enable', '--email', 'bob@example.com'])).disabled).toBe(false);

    // One page at a time (issue #15 §12): --limit, --after the printed next, --search.
    const page1 = await json<{ items: Array<{ email: string }>; next: string | null }>(['users', 'list', '--limit', '1']);
    expect(page1.items).toHaveLength(1);
    expect(page1.next).toEqual(expect.any(String));
    const page2 = await json<{ items: Array<{ email: string }>; next: string | null }>(['users', 'list', '--limit', '1', '--after', page1.next ?? '']);
    expect(page2.items).toHaveLength(1);
    expect(page2.items[0]?.email).not.toBe(page1.items[0]?.email);
    const [found, human, badLimit, orgSearch] = await Promise.all([
      json<{ items: Array<{ email: string }>; next: string | null }>(['users', 'list', '--search', 'BOB@']),
      run(['users', 'list', '--limit', '1']),
      run(['users', 'list', '--limit', '501']),
      json<{ items: Array<{ name: string }>; next: string | null }>(['orgs', 'list', '--search', 'ac']),
    ]);
    expect(found).toEqual({ items: [expect.objectContaining({ email: 'bob@example.com' })], next: null });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/More: tollgate users list --after \S+/);
    expectError(badLimit, 1, '--limit must be a whole number from 1 to 500');
    expect(orgSearch).toEqual({ items: [expect.objectContaining({ name: 'Acme' })], next: null });
  });

  it('resource servers and scopes', async () => {
    const rs = await json<{ identifier: string; scopes: string[] }>([
      'resource-servers', 'create', '--identifier', 'https://api.example.com', '--name', 'Orders API',
      '--scope', 'orders:read=Read your orders, all of them', '--scope', 'orders:write=Change your orders',
    ]);
    expect(rs).toMatchObject({ identifier: 'https://api.example.com', name: 'Orders API', scopes: ['orders:read', 'orders:write'] });
    const [scope, badRs, app] = await Promise.all([
      json<Record<string, unknown>>([
        'scopes', 'create', '--name', 'orders:admin', '--description', 'Manage all orders', '--resource-server', 'https://api.example.com',
      ]),
      run(['scopes', 'create', '--name', 'x:y', '--resource-server', 'https://nowhere.example']),
      json<App>(['apps', 'create', '--name', 'Shop', '--grant-type', 'client_credentials', '--scope', 'orders:read']),
    ]);
    expect(scope).toMatchObject({ name: 'orders:admin', description: 'Manage all orders', resource_server: 'https://api.example.com', is_default: false });
    expectError(badRs, 1, 'No resource server with the identifier https://nowhere.example');
    expect(app.scopes).toEqual(['orders:read']);

    const [scopes, servers] = await Promise.all([
      json<{ items: Array<{ name: string; description: string; resource_server: string | null }> }>(['scopes', 'list']),
      json<{ items: Array<{ identifier: string; scopes: string[] }> }>(['resource-servers', 'list']),
    ]);
    expect(scopes.items.find((s) => s.name === 'orders:read')).toMatchObject({
      description: 'Read your orders, all of them',
      resource_server: 'https://api.example.com',
    });
    expect(servers.items).toHaveLength(1);
    expect([...(servers.items[0]?.scopes ?? [])].sort()).toEqual(['orders:admin', 'orders:read', 'orders:write']);
  });

  it('client-metadata: block, list, unblock (Client ID Metadata Documents)', async () => {
    const blocked = await json<Record<string, unknown>>(['client-metadata', 'block', '*.Spam.example', '--reason', 'phishing']);
    expect(blocked).toMatchObject({ pattern: '*.spam.example', reason: 'phishing', deactivated: 0 });
    const [again, bad, list] = await Promise.all([
      json<Record<string, unknown>>(['client-metadata', 'block', '*.spam.example']),
      run(['client-metadata', 'block', 'not a host']),
      json<{ items: Array<{ pattern: string; reason: string | null }>; total: number }>(['client-metadata', 'blocks']),
    ]);
    expect(again).toMatchObject({ pattern: '*.spam.example', reason: 'phishing' });
    expectError(bad, 1, 'pattern: a block is a host (agents.example), *.domain for its subdomains, or a client_id URL');
    expect(list).toEqual({ items: [expect.objectContaining({ pattern: '*.spam.example', reason: 'phishing' })], total: 1 });
    expect(await json(['client-metadata', 'unblock', '*.spam.example'])).toEqual({ unblocked: '*.spam.example' });
    expectError(await run(['client-metadata', 'unblock', '*.spam.example']), 1, 'No block for *.spam.example');
  });

  it('scopes: descriptions per locale (create --description-locale, update keeps the others, LOCALE= removes one)', async () => {
    const created = await json<Record<string, unknown>>([
      'scopes', 'create', '--name', 'invoices:read', '--description', 'See your invoices',
      '--description-locale', 'fr=Voir vos factures', '--description-locale', 'de=Ihre Rechnungen sehen',
    ]);
    expect(created).toMatchObject({ name: 'invoices:read', description: 'See your invoices', descriptions: { de: 'Ihre Rechnungen sehen', fr: 'Voir vos factures' } });
    const updated = await json<Record<string, unknown>>(['scopes', 'update', 'invoices:read', '--description-locale', 'de=', '--description-locale', 'it=Vedere le tue fatture', '--default']);
    expect(updated).toMatchObject({ description: 'See your invoices', descriptions: { fr: 'Voir vos factures', it: 'Vedere le tue fatture' }, is_default: true });
    // create replaces the scope but keeps its descriptions per locale unless given.
    const replaced = await json<Record<string, unknown>>(['scopes', 'create', '--name', 'invoices:read', '--description', 'See all your invoices']);
    expect(replaced).toMatchObject({ description: 'See all your invoices', descriptions: { fr: 'Voir vos factures', it: 'Vedere le tue fatture' }, is_default: false });
    const [unknownLocale, noScope, malformed] = await Promise.all([
      run(['scopes', 'update', 'invoices:read', '--description-locale', 'pt=Ver as faturas']),
      run(['scopes', 'update', 'invoices:nope', '--description', 'x']),
      run(['scopes', 'update', 'invoices:read', '--description-locale', 'Voir']),
    ]);
    expectError(unknownLocale, 1, 'Unknown locale "pt" for a scope description; shipped: en, fr, de, es, it');
    expectError(noScope, 1, 'No scope named "invoices:nope"');
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('expected LOCALE=TEXT');
  });
});

describe('keys', () => {
  it('rotate adds a key of one algorithm and retires only that algorithm\'s previous key', async () => {
    type Keys = { items: Array<{ kid: string; alg: string; status: string }> };
    const before = await json<Keys>(['keys', 'list']);
    const active = (k: Keys) => k.items.filter((x) => x.status === 'active');
    // One current key per algorithm: access tokens (ES256), OpenID Connect ID tokens (RS256), and
    // any algorithm an application chose for its ID tokens (another test asks for EdDSA).
    expect(active(before).map((k) => k.alg)).toEqual(expect.arrayContaining(['ES256', 'RS256']));
    expect(new Set(active(before).map((k) => k.alg)).size).toBe(active(before).length);
    const rotated = await json<{ kid: string; alg: string; status: string }>(['keys', 'rotate', '--alg', 'RS256']);
    expect(rotated).toMatchObject({ alg: 'RS256', status: 'active' });
    const after = await json<Keys>(['keys', 'list']);
    expect(after.items).toHaveLength(before.items.length + 1);
    const oldRsa = active(before).find((k) => k.alg === 'RS256')?.kid;
    const expected = [...active(before).filter((k) => k.alg !== 'RS256').map((k) => k.kid), rotated.kid].sort();
    expect(active(after).map((k) => k.kid).sort()).toEqual(expected);
    expect(after.items.find((k) => k.kid === oldRsa)?.status).toBe('retired (published)');
    expect(JSON.stringify(after)).not.toMatch(/"d"|private/i);
  });
});

describe('tokens revoke', () => {
  it('by token (with its family), by client, and by user and client; prints the count', async () => {
    // An internal app is created with an access token and a refresh token for its owner.
    const internal = (name: string): Promise<App> =>
      json<App>(['apps', 'create', '--name', name, '--internal', '--owner', alice.email, '--grant-type', 'refresh_token']);
    const [a, b, c] = await Promise.all([internal('Revoke A'), internal('Revoke B'), internal('Revoke C')]);
    const [byToken, byClient, otherUser, byUser] = await Promise.all([
      json(['tokens', 'revoke', '--token', a.refresh_token ?? '']),
      json(['tokens', 'revoke', '--client', b.client_id]),
      json(['tokens', 'revoke', '--user', 'admin@localhost', '--client', c.client_id]),
      json(['tokens', 'revoke', '--user', alice.email, '--client', c.client_id]),
    ]);
    expect(byToken).toEqual({ revoked: 2 });
    expect(byClient).toEqual({ revoked: 2 });
    expect(otherUser).toEqual({ revoked: 0 });
    expect(byUser).toEqual({ revoked: 2 });

    const [tokenAgain, clientAgain, unknown] = await Promise.all([
      json(['tokens', 'revoke', '--token', a.refresh_token ?? '']),
      run(['tokens', 'revoke', '--client', b.client_id]),
      run(['tokens', 'revoke', '--token', 'tgr_unknown']),
    ]);
    expect(tokenAgain).toEqual({ revoked: 0 });
    expect(clientAgain).toEqual({ code: 0, stdout: `Revoked 0 tokens (the tokens of ${b.client_id})\n`, stderr: '' });
    expectError(unknown, 1, 'Unknown token: it was not issued by this server, or it has expired and been purged');
  });

  it('refuses incomplete or contradictory options', async () => {
    const [none, userOnly] = await Promise.all([run(['tokens', 'revoke']), run(['tokens', 'revoke', '--user', alice.email])]);
    expectError(none, 1, 'Give --token TOKEN, --client CLIENT_ID, or --user EMAIL --client CLIENT_ID');
    expectError(userOnly, 1, '--user needs --client (the application whose tokens to revoke)');
  });
});
