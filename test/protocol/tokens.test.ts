/**
 * Token lifecycle: JWT access tokens (T7, RFC 9068), signing-key rotation (T8), opaque tokens
 * stored only as hashes (docs/design.md "Data"), revocation (T9, RFC 7009), introspection (T10,
 * RFC 7662), audiences (T12, RFC 8707) and the purge of expired rows (O8).
 */
import { createVerifier, type IntrospectionResponse } from '../../src/resource/index.js';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { rotateSigningKey } from '../../src/services/keys.js';
import { createResourceServer } from '../../src/services/directory.js';
import { purgeExpired } from '../../src/services/purge.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { pgTestUrl } from '../helpers/pg.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, startTestServer, type Db, type TestServer } from '../helpers/server.js';

const REDIRECT = 'https://client.example/cb';

async function clientCredentials(s: TestServer, app: CreatedApp, fields: Record<string, string> = {}) {
  return postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', ...fields }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
}

async function ccToken(s: TestServer, app: CreatedApp, fields: Record<string, string> = {}): Promise<string> {
  const r = await clientCredentials(s, app, fields);
  expect(r.status).toBe(200);
  return String(r.json['access_token']);
}

/** Code flow as a signed-in user; returns the token response. */
async function codeTokens(s: TestServer, b: Browser, app: CreatedApp, scope = 'profile'): Promise<Record<string, unknown>> {
  const out = await authorize(
    b,
    `/oauth/authorize?response_type=code&client_id=${app.client.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=${encodeURIComponent(scope)}&state=s1`,
  );
  expect(out.status).toBe(303);
  const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
  const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
  expect(tok.status).toBe(200);
  return tok.json;
}

function introspect(s: TestServer, app: CreatedApp, token: string) {
  return postForm(`${s.url}/oauth/introspect`, { token }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
}

function revoke(s: TestServer, app: CreatedApp, token: string, extra: Record<string, string> = {}) {
  return postForm(`${s.url}/oauth/revoke`, { token, ...extra }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
}

async function api(s: TestServer, token: string): Promise<{ status: number; json: unknown; www: string | null }> {
  const r = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${token}` } });
  let www = r.headers.get('www-authenticate');
  // Issue #13 (RFC 9728 §5.1): the challenge names the API's metadata; checked, then taken off.
  const tail = `, resource_metadata="${s.issuer}/.well-known/oauth-protected-resource/api"`;
  if (www !== null) {
    expect(www.endsWith(tail), www).toBe(true);
    www = www.slice(0, -tail.length);
  }
  return { status: r.status, json: await r.json(), www };
}

/** Every table of the server's database whose rows contain `needle` anywhere. */
async function tablesContaining(s: TestServer, db: Db, needle: string, knownHash: string): Promise<string[]> {
  const hits: string[] = [];
  if (db === 'sqlite') {
    const sqlite = new SQLite(join(s.ctx.config.dataDir, 'tollgate.db'), { readonly: true });
    try {
      const tables = sqlite.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
      expect(tables.map((t) => t.name)).toContain('tokens');
      expect(sqlite.prepare('select count(*) as n from tokens where token_hash = ?').get(knownHash)).toEqual({ n: 1 });
      for (const { name } of tables) {
        if (JSON.stringify(sqlite.prepare(`select * from "${name}"`).all()).includes(needle)) hits.push(name);
      }
    } finally {
      sqlite.close();
    }
    return hits;
  }
  const client = new pg.Client({ connectionString: pgTestUrl() ?? '' });
  await client.connect();
  try {
    // Find this server's throwaway schema by the row we know is there.
    const schemas = await client.query<{ table_schema: string }>("select table_schema from information_schema.tables where table_name = 'tokens'");
    let schema: string | null = null;
    for (const { table_schema } of schemas.rows) {
      const r = await client.query(`select 1 from "${table_schema}".tokens where token_hash = $1`, [knownHash]).catch(() => ({ rowCount: 0 }));
      if ((r.rowCount ?? 0) > 0) schema = table_schema;
    }
    expect(schema).not.toBeNull();
    const tables = await client.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema]);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`select * from "${schema}"."${table_name}"`);
      if (JSON.stringify(rows.rows).includes(needle)) hits.push(table_name);
    }
  } finally {
    await client.end();
  }
  return hits;
}

describeEachDb('tokens', (start, db) => {
  let s: TestServer;
  let browser: Browser;
  let userId: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    s = await start();
    jwks = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
    userId = (await s.createUser('tok@example.com')).id;
    browser = new Browser(s.url);
    expect((await browser.login('tok@example.com', DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  describe('T7 JWT access tokens (RFC 9068)', () => {
    it('are ES256 by default, typ at+jwt, with kid and every required claim', async () => {
      const app = await s.createApp({ name: 'JWT', redirectUris: [REDIRECT], scopes: ['profile', 'email'], tokenFormat: 'jwt' });
      const before = Math.floor(Date.now() / 1000);
      const tok = await codeTokens(s, browser, app, 'profile email');
      const at = String(tok['access_token']);
      expect(tok['expires_in']).toBe(3600);
      const header = decodeProtectedHeader(at);
      expect(header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'at+jwt' });
      const { payload, protectedHeader } = await jwtVerify(at, jwks, { issuer: s.issuer, audience: `${s.issuer}/api`, typ: 'at+jwt', algorithms: ['ES256'] });
      expect(protectedHeader.kid).toBe(header.kid);
      expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
      expect(payload).toMatchObject({ iss: s.issuer, sub: userId, aud: `${s.issuer}/api`, client_id: app.client.clientId, scope: 'profile email' });
      expect(payload.iat).toBeGreaterThanOrEqual(before - 1);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
      expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
      // The JWT works against the API and introspects active.
      expect((await api(s, at)).status).toBe(200);
      expect((await introspect(s, app, at)).json).toMatchObject({ active: true, sub: userId, scope: 'profile email' });
      // Revocation works for JWTs too (the jti is stored).
      expect((await revoke(s, app, at)).status).toBe(200);
      expect((await api(s, at)).status).toBe(401);
      expect((await introspect(s, app, at)).json).toEqual({ active: false });
    });

    it('signing inside the grant transaction never waits on the database (stale key cache)', async () => {
      // Regression: with a stale key cache, the code and refresh grants reloaded the keys from
      // inside their storage transaction; on SQLite's single connection that deadlocked the server.
      const app = await s.createApp({ name: 'JWT stale', redirectUris: [REDIRECT], scopes: ['profile'], tokenFormat: 'jwt' });
      s.ctx.keys.invalidate();
      const tok = await codeTokens(s, browser, app);
      expect(decodeProtectedHeader(String(tok['access_token'])).typ).toBe('at+jwt');
      s.ctx.keys.invalidate();
      const refreshed = await postForm(
        `${s.url}/oauth/token`,
        { grant_type: 'refresh_token', refresh_token: String(tok['refresh_token']) },
        { authorization: basic(app.client.clientId, app.clientSecret ?? '') },
      );
      expect(refreshed.status).toBe(200);
      expect((await api(s, String(refreshed.json['access_token']))).status).toBe(200);
    });

    it('a long-lived JWT (A7) has no exp and no expires_in', async () => {
      const app = await s.createApp({ name: 'Forever', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt', accessTtl: null });
      const r = await clientCredentials(s, app, { scope: 'profile' });
      expect(r.status).toBe(200);
      expect(r.json['expires_in']).toBeUndefined();
      const { payload } = await jwtVerify(String(r.json['access_token']), jwks, { issuer: s.issuer, typ: 'at+jwt' });
      expect(payload.exp).toBeUndefined();
      expect(payload.sub).toBe(app.client.clientId);
      const intro = await introspect(s, app, String(r.json['access_token']));
      expect(intro.json['active']).toBe(true);
      expect(intro.json['exp']).toBeUndefined();
    });

    it('a JWT signed by another key, or tampered with, is refused', async () => {
      const app = await s.createApp({ name: 'Tamper', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
      const at = await ccToken(s, app, { scope: 'profile' });
      const [h, p, sig] = at.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as JWTPayload;
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'profile admin' })).toString('base64url')}.${sig}`;
      expect(await api(s, forged)).toEqual({
        status: 401,
        json: { error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' },
        www: 'Bearer realm="tollgate", error="invalid_token", error_description="The access token is invalid, expired or revoked"',
      });
      expect((await introspect(s, app, forged)).json).toEqual({ active: false });
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: decodeProtectedHeader(at).kid })).toString('base64url')}.${p}.`;
      expect((await introspect(s, app, none)).json).toEqual({ active: false });
    });

    it('T8 rotation: new kid for new tokens, old kid still published, old token still active', async () => {
      const app = await s.createApp({ name: 'Rotate', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
      const old = await ccToken(s, app, { scope: 'profile' });
      const oldKid = decodeProtectedHeader(old).kid;
      const row = await rotateSigningKey(s.ctx);
      expect(row.kid).not.toBe(oldKid);
      const fresh = await ccToken(s, app, { scope: 'profile' });
      expect(decodeProtectedHeader(fresh).kid).toBe(row.kid);
      const set = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string }> };
      const kids = set.keys.map((k) => k.kid);
      expect(kids).toContain(oldKid);
      expect(kids).toContain(row.kid);
      for (const k of set.keys) expect(k.d).toBeUndefined();
      // Both verify against the published JWKS (fresh fetcher: the new kid is unknown to the cached one).
      const keyset = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
      await jwtVerify(old, keyset, { issuer: s.issuer, typ: 'at+jwt' });
      await jwtVerify(fresh, keyset, { issuer: s.issuer, typ: 'at+jwt' });
      expect((await introspect(s, app, old)).json['active']).toBe(true);
      expect((await api(s, old)).status).toBe(200);
      expect((await api(s, fresh)).status).toBe(200);
    });
  });

  it('opaque tokens are stored only as SHA-256 hashes', async () => {
    const app = await s.createApp({ name: 'Opaque', redirectUris: [REDIRECT], scopes: ['profile'] });
    const tok = await codeTokens(s, browser, app);
    const at = String(tok['access_token']);
    const rt = String(tok['refresh_token']);
    expect(at).toMatch(/^tga_[A-Za-z0-9_-]{43}$/);
    expect(rt).toMatch(/^tgr_[A-Za-z0-9_-]{43}$/);
    const row = await s.ctx.storage.tokens.byHash(sha256(at));
    expect(row).toMatchObject({ tokenHash: sha256(at), kind: 'access', format: 'opaque', clientId: app.client.clientId, userId });
    expect(Object.values(row ?? {}).some((v) => typeof v === 'string' && (v.includes(at) || v.includes(rt)))).toBe(false);
    expect(await s.ctx.storage.tokens.byHash(at)).toBeNull();
    expect(await tablesContaining(s, db, at, sha256(at))).toEqual([]);
    expect(await tablesContaining(s, db, rt, sha256(rt))).toEqual([]);
    expect(await tablesContaining(s, db, app.clientSecret ?? '', sha256(at))).toEqual([]);
  });

  describe('T9 revocation (RFC 7009)', () => {
    it('needs client authentication', async () => {
      const app = await s.createApp({ name: 'RevAuth', grantTypes: ['client_credentials'], scopes: ['profile'] });
      const at = await ccToken(s, app);
      const r = await postForm(`${s.url}/oauth/revoke`, { token: at });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication is required' });
      const wrong = await postForm(`${s.url}/oauth/revoke`, { token: at }, { authorization: basic(app.client.clientId, 'tgs_wrong') });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="tollgate", charset="UTF-8"');
      expect(wrong.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed' });
      expect((await api(s, at)).status).toBe(200);
    });

    it('revoking a refresh token revokes the access tokens issued with it', async () => {
      const app = await s.createApp({ name: 'RevRT', redirectUris: [REDIRECT], scopes: ['profile'] });
      const tok = await codeTokens(s, browser, app);
      const at = String(tok['access_token']);
      expect((await api(s, at)).status).toBe(200);
      const r = await revoke(s, app, String(tok['refresh_token']), { token_type_hint: 'refresh_token' });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect((await api(s, at)).status).toBe(401);
      const refresh = await postForm(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: String(tok['refresh_token']) }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(refresh.status).toBe(400);
      expect(refresh.json['error']).toBe('invalid_grant');
      const audit = await s.ctx.storage.audit.list({ limit: 1000 });
      expect(audit.some((e) => e.type === 'token.revoked' && e.clientId === app.client.clientId)).toBe(true);
    });

    it("client B revoking client A's token leaves it valid", async () => {
      const a = await s.createApp({ name: 'A', grantTypes: ['client_credentials'], scopes: ['profile'] });
      const b = await s.createApp({ name: 'B', grantTypes: ['client_credentials'], scopes: ['profile'] });
      const at = await ccToken(s, a);
      const r = await revoke(s, b, at);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'unauthorized_client', error_description: 'This token was not issued to this client' });
      expect((await api(s, at)).status).toBe(200);
      expect((await introspect(s, a, at)).json['active']).toBe(true);
    });

    it('an unknown, malformed or already revoked token gets 200', async () => {
      const app = await s.createApp({ name: 'RevUnknown', grantTypes: ['client_credentials'], scopes: ['profile'] });
      for (const token of ['tga_doesnotexist', 'a.b.c', 'x'.repeat(9000)]) {
        const r = await fetch(`${s.url}/oauth/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app.client.clientId, app.clientSecret ?? '') },
          body: new URLSearchParams({ token }).toString(),
        });
        expect(r.status).toBe(200);
        expect(await r.text()).toBe('');
      }
      const at = await ccToken(s, app);
      expect((await revoke(s, app, at)).status).toBe(200);
      expect((await revoke(s, app, at)).status).toBe(200);
      const missing = await postForm(`${s.url}/oauth/revoke`, {}, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
      expect(missing.status).toBe(400);
      expect(missing.json).toEqual({ error: 'invalid_request', error_description: 'Missing required parameter "token"' });
    });
  });

  describe('T10 introspection (RFC 7662)', () => {
    it('unauthenticated → 401 invalid_client; public client → 401', async () => {
      const app = await s.createApp({ name: 'IntroAuth', grantTypes: ['client_credentials'], scopes: ['profile'] });
      const at = await ccToken(s, app);
      const anon = await postForm(`${s.url}/oauth/introspect`, { token: at });
      expect(anon.status).toBe(401);
      expect(anon.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication is required' });
      const pub = await s.createApp({ name: 'IntroPub', redirectUris: [REDIRECT], scopes: ['profile'], public: true });
      const r = await postForm(`${s.url}/oauth/introspect`, { token: at, client_id: pub.client.clientId });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'invalid_client', error_description: 'Public clients cannot use introspection' });
    });

    it('active token: every field', async () => {
      const app = await s.createApp({ name: 'IntroActive', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
      const tok = await codeTokens(s, browser, app, 'profile email');
      const at = String(tok['access_token']);
      const row = await s.ctx.storage.tokens.byHash(sha256(at));
      const r = await introspect(s, app, at);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.json).toEqual({
        active: true,
        scope: 'profile email',
        client_id: app.client.clientId,
        username: 'tok@example.com',
        token_type: 'Bearer',
        exp: Math.floor((row?.expiresAt ?? 0) / 1000),
        iat: Math.floor((row?.createdAt ?? 0) / 1000),
        sub: userId,
        aud: `${s.issuer}/api`,
        iss: s.issuer,
      });
      const rt = await introspect(s, app, String(tok['refresh_token']));
      expect(rt.json).toMatchObject({ active: true, token_type: 'refresh_token', sub: userId });
    });

    it('unknown, revoked, expired, other-format → exactly {"active":false}', async () => {
      const app = await s.createApp({ name: 'IntroInactive', grantTypes: ['client_credentials'], scopes: ['profile'] });
      const revoked = await ccToken(s, app);
      expect((await revoke(s, app, revoked)).status).toBe(200);
      const expired = 'tga_expired-token-for-introspection-test-0000000';
      const now = Date.now();
      await s.ctx.storage.tokens.insert({
        tokenHash: sha256(expired),
        kind: 'access',
        format: 'opaque',
        clientId: app.client.clientId,
        userId: null,
        scope: 'profile',
        audience: `${s.issuer}/api`,
        familyId: null,
        parentHash: null,
        expiresAt: now - 1000,
        createdAt: now - 3_601_000,
      });
      for (const token of ['tga_unknown', revoked, expired, 'not a token at all', 'e30.e30.']) {
        const r = await fetch(`${s.url}/oauth/introspect`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(app.client.clientId, app.clientSecret ?? '') },
          body: new URLSearchParams({ token }).toString(),
        });
        expect(r.status).toBe(200);
        expect(await r.text()).toBe('{"active":false}');
      }
      expect((await api(s, expired)).status).toBe(401);
    });
  });

  describe('T12 audiences (RFC 8707)', () => {
    it('a token for a resource server names it in aud and is refused by /api/', async () => {
      await createResourceServer(s.ctx, { identifier: 'https://rs.example/api', name: 'Orders', scopes: [{ name: 'orders.read', description: 'Read orders' }] });
      const app = await s.createApp({ name: 'RS client', grantTypes: ['client_credentials'], scopes: ['profile', 'orders.read'] });
      const explicit = await clientCredentials(s, app, { scope: 'orders.read', resource: 'https://rs.example/api' });
      expect(explicit.status).toBe(200);
      const at = String(explicit.json['access_token']);
      expect((await introspect(s, app, at)).json).toMatchObject({ active: true, aud: 'https://rs.example/api', scope: 'orders.read' });
      expect(await api(s, at)).toEqual({
        status: 401,
        json: { error: 'invalid_token', error_description: 'The access token was issued for another audience' },
        www: 'Bearer realm="tollgate", error="invalid_token", error_description="The access token was issued for another audience"',
      });
      // Without `resource`, the owner of the scope decides the audience.
      const implicit = await ccToken(s, app, { scope: 'orders.read' });
      expect((await introspect(s, app, implicit)).json['aud']).toBe('https://rs.example/api');
      // Tollgate's own scopes go to Tollgate's API.
      const own = await ccToken(s, app, { scope: 'profile' });
      expect((await introspect(s, app, own)).json['aud']).toBe(`${s.issuer}/api`);
      expect((await api(s, own)).status).toBe(200);
      // A JWT for the resource server carries it as aud.
      const jwtApp = await s.createApp({ name: 'RS jwt', grantTypes: ['client_credentials'], scopes: ['orders.read'], tokenFormat: 'jwt' });
      const jwt = await ccToken(s, jwtApp, { resource: 'https://rs.example/api' });
      const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`)), { issuer: s.issuer, audience: 'https://rs.example/api' });
      expect(payload.scope).toBe('orders.read');
      expect((await api(s, jwt)).status).toBe(401);
    });

    it('an unknown resource → 400 invalid_target; a mismatched scope → invalid_scope', async () => {
      const app = await s.createApp({ name: 'RS bad', grantTypes: ['client_credentials'], scopes: ['profile', 'orders.read'] });
      const unknown = await clientCredentials(s, app, { resource: 'https://unknown.example/api' });
      expect(unknown.status).toBe(400);
      expect(unknown.json).toEqual({ error: 'invalid_target', error_description: 'Unknown resource server' });
      const relative = await clientCredentials(s, app, { resource: '/api' });
      expect(relative.status).toBe(400);
      expect(relative.json).toEqual({ error: 'invalid_target', error_description: 'resource must be an absolute URI' });
      const fragment = await clientCredentials(s, app, { resource: 'https://rs.example/api#x' });
      expect(fragment.status).toBe(400);
      expect(fragment.json).toEqual({ error: 'invalid_target', error_description: 'resource must not contain a fragment' });
      const mixed = await clientCredentials(s, app, { scope: 'orders.read', resource: `${s.issuer}/api` });
      expect(mixed.status).toBe(400);
      expect(mixed.json).toEqual({ error: 'invalid_scope', error_description: 'A requested scope belongs to another resource server' });
    });

    it('issue #13 item 6: a resource matches after scheme/host case and the default port only; the token names the registered form; nothing else is equal', async () => {
      await createResourceServer(s.ctx, { identifier: 'https://mcp.example/notes', name: 'Notes MCP', scopes: [{ name: 'notes.read', description: 'Read notes' }] });
      await createResourceServer(s.ctx, { identifier: 'https://mcp.example/tasks', name: 'Tasks MCP', scopes: [{ name: 'tasks.read', description: 'Read tasks' }] });
      const app = await s.createApp({ name: 'MCP client', grantTypes: ['client_credentials'], scopes: ['notes.read', 'tasks.read'] });
      for (const written of ['https://mcp.example/notes', 'HTTPS://MCP.Example/notes', 'https://mcp.example:443/notes']) {
        const res = await clientCredentials(s, app, { scope: 'notes.read', resource: written });
        expect(res.status, written).toBe(200);
        expect((await introspect(s, app, String(res.json['access_token']))).json['aud'], written).toBe('https://mcp.example/notes');
      }
      for (const other of ['https://mcp.example/notes/', 'https://mcp.example/Notes', 'https://mcp.example/x/../notes', 'https://mcp.example/%6Eotes', 'https://mcp.example:8443/notes', 'http://mcp.example/notes', 'https://user@mcp.example/notes']) {
        const res = await clientCredentials(s, app, { scope: 'notes.read', resource: other });
        expect(res.status, other).toBe(400);
        expect(res.json, other).toEqual({ error: 'invalid_target', error_description: 'Unknown resource server' });
      }
      // A token minted for one MCP server is refused by another (and by Tollgate's API).
      const notes = await ccToken(s, app, { scope: 'notes.read', resource: 'https://mcp.example/notes' });
      const tasksVerifier = createVerifier({ issuer: s.issuer, audience: 'https://mcp.example/tasks', resolveToken: async () => (await introspect(s, app, notes)).json as IntrospectionResponse });
      await expect(tasksVerifier.verify(`Bearer ${notes}`)).rejects.toMatchObject({ error: 'invalid_token', description: 'The access token was issued for another audience' });
      expect((await api(s, notes)).status).toBe(401);
    });
  });

  it('O8 purgeExpired removes expired and long-revoked rows and keeps live ones', async () => {
    const app = await s.createApp({ name: 'Purge', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const now = Date.now();
    const base = { kind: 'access' as const, format: 'opaque' as const, clientId: app.client.clientId, userId: null, scope: 'profile', audience: `${s.issuer}/api`, familyId: null, parentHash: null };
    await s.ctx.storage.tokens.insert({ ...base, tokenHash: sha256('purge-expired'), expiresAt: now - 3_600_000, createdAt: now - 7_200_000 });
    await s.ctx.storage.tokens.insert({ ...base, tokenHash: sha256('purge-revoked'), expiresAt: now + 3_600_000, createdAt: now - 7_200_000 });
    await s.ctx.storage.tokens.revoke(sha256('purge-revoked'), now - 3_600_000);
    await s.ctx.storage.tokens.insert({ ...base, tokenHash: sha256('purge-live'), expiresAt: now + 3_600_000, createdAt: now });
    await s.ctx.storage.tokens.insert({ ...base, tokenHash: sha256('purge-forever'), expiresAt: null, createdAt: now - 7_200_000 });
    await s.ctx.storage.codes.create({
      codeHash: sha256('purge-code'),
      clientId: app.client.clientId,
      userId,
      redirectUri: REDIRECT,
      scope: 'profile',
      resource: null,
      codeChallenge: null,
      codeChallengeMethod: null,
      familyId: 'fam',
      expiresAt: now - 3_600_000,
      consumedAt: null,
      createdAt: now - 3_660_000,
    });
    const live = await ccToken(s, app);
    const result = await purgeExpired(s.ctx);
    expect(result.tokens).toBeGreaterThanOrEqual(2);
    expect(result.codes).toBeGreaterThanOrEqual(1);
    expect(await s.ctx.storage.tokens.byHash(sha256('purge-expired'))).toBeNull();
    expect(await s.ctx.storage.tokens.byHash(sha256('purge-revoked'))).toBeNull();
    expect(await s.ctx.storage.codes.byHash(sha256('purge-code'))).toBeNull();
    expect(await s.ctx.storage.tokens.byHash(sha256('purge-live'))).not.toBeNull();
    expect(await s.ctx.storage.tokens.byHash(sha256('purge-forever'))).not.toBeNull();
    expect((await api(s, live)).status).toBe(200);
    // Nothing left to purge on a second run.
    expect(await purgeExpired(s.ctx)).toEqual({ codes: 0, tokens: 0, sessions: 0, interactions: 0, deviceCodes: 0, clientAssertions: 0, unusedClients: 0, auditEvents: 0, oidcGrants: 0 });
  });
});

describe('T7 signing algorithms (TOLLGATE_KEY_ALG)', () => {
  for (const alg of ['EdDSA', 'RS256'] as const) {
    it(`signs with ${alg}`, async () => {
      const s = await startTestServer({ env: { TOLLGATE_KEY_ALG: alg } });
      try {
        const app = await s.createApp({ name: alg, grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
        const at = await ccToken(s, app, { scope: 'profile' });
        expect(decodeProtectedHeader(at)).toEqual({ alg, kid: expect.any(String), typ: 'at+jwt' });
        const { payload } = await jwtVerify(at, createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`)), {
          issuer: s.issuer,
          audience: `${s.issuer}/api`,
          typ: 'at+jwt',
          algorithms: [alg],
        });
        expect(payload.client_id).toBe(app.client.clientId);
        expect((await api(s, at)).status).toBe(200);
      } finally {
        await s.close();
      }
    });
  }
});
