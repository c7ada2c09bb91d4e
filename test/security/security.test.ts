/**
 * docs/security.md, the rows about consent, token and refresh, over HTTP on SQLite and PostgreSQL:
 * codes bound to client, redirect URI and PKCE challenge, single-use with replay revocation
 * (RFC 6749 §4.1.2, §4.1.3, §10.5; RFC 7636 §4.6; RFC 9700 §2.1.1, §4.8.2, §4.14.2), refresh
 * rotation and reuse detection (SPEC T3), client authentication (RFC 6749 §2.3.1), entropy
 * (RFC 6749 §10.10), framing (RFC 9700 §4.16), and the strict parameter and scope readers
 * (RFC 6749 §3.1, §3.2, §3.3) as plain unit tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { paramsFromForm, paramsFromJson, single } from '../../src/oauth/params.js';
import { isSubset, parseScope, resolveScopes } from '../../src/oauth/scope.js';
import type { CreatedApp } from '../../src/services/apps.js';
import type { UserRow } from '../../src/storage/types.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, postForm, type TestServer } from '../helpers/server.js';

const CB = 'https://client.example/cb';
const CB2 = 'https://client.example/other';
// RFC 7636 Appendix B
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const BAD_CODE = { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used' };
const BAD_REFRESH = { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' };
const BAD_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };

type Reply = { status: number; headers: Headers; json: Record<string, unknown> };

describeEachDb('docs/security.md: codes, refresh tokens, client authentication', (start) => {
  let s: TestServer;
  let alice: UserRow & { readonly email: string };
  let b: Browser;
  /** Client A: confidential, two redirect URIs. */
  let a: CreatedApp;
  /** Client B: confidential, same redirect URI as A. */
  let other: CreatedApp;
  /** Public client (PKCE required). */
  let pub: CreatedApp;
  let jwtApp: CreatedApp;
  /** Every secret, code and token this suite saw, for the log-hygiene check at the end. */
  const issued = new Set<string>();
  const logLines: string[] = [];

  beforeAll(async () => {
    s = await start({ logLines, env: { TOLLGATE_CORS_ORIGINS: 'https://spa.example' } });
    alice = await s.createUser('alice@example.com');
    a = await s.createApp({ name: 'A', redirectUris: [CB, CB2], scopes: ['profile', 'email'] });
    other = await s.createApp({ name: 'B', redirectUris: [CB], scopes: ['profile', 'email'] });
    pub = await s.createApp({ name: 'Public', public: true, redirectUris: [CB], scopes: ['profile', 'email'] });
    jwtApp = await s.createApp({ name: 'JWT', redirectUris: [CB], scopes: ['profile', 'email'], tokenFormat: 'jwt' });
    b = new Browser(s.url);
    expect((await b.login(alice.email, DEFAULT_PASSWORD)).status).toBe(303);
    for (const app of [a, other, jwtApp]) issued.add(app.clientSecret ?? '');
  });
  afterAll(async () => s?.close());

  async function token(fields: Record<string, string>, app: CreatedApp | null = a): Promise<Reply> {
    const r = await postForm(`${s.url}/oauth/token`, fields, app && app.clientSecret ? { authorization: basic(app.client.clientId, app.clientSecret) } : {});
    for (const key of ['access_token', 'refresh_token']) if (typeof r.json[key] === 'string') issued.add(r.json[key]);
    return r;
  }

  /** A code for `app`, walking the consent page the first time. */
  async function code(app: CreatedApp, extra: Record<string, string> = {}): Promise<string> {
    const qs = new URLSearchParams({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, scope: 'profile email', state: 's', ...extra });
    const out = await authorize(b, `/oauth/authorize?${qs.toString()}`);
    expect(out.status).toBe(303);
    const loc = new URL(out.location ?? '');
    const c = loc.searchParams.get('code');
    expect(c).toMatch(/^tgo_/);
    issued.add(c ?? '');
    return c ?? '';
  }

  async function apiStatus(accessToken: unknown): Promise<number> {
    const res = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${String(accessToken)}` } });
    await res.arrayBuffer();
    return res.status;
  }

  async function introspect(t: unknown): Promise<Record<string, unknown>> {
    const r = await postForm(`${s.url}/oauth/introspect`, { token: String(t) }, { authorization: basic(a.client.clientId, a.clientSecret ?? '') });
    expect(r.status).toBe(200);
    return r.json;
  }

  function expectError(r: Reply, status: number, body: { error: string; error_description: string }): void {
    expect({ status: r.status, json: r.json }).toEqual({ status, json: body });
    expect(r.headers.get('cache-control')).toBe('no-store');
  }

  // ------------------------------------------------------------------ Z10: single-use codes

  it('RFC 6749 §4.1.2 / Z10: a code redeemed twice: the second gets invalid_grant and the first\'s tokens are revoked', async () => {
    const c = await code(a);
    const first = await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB });
    expect(first.status).toBe(200);
    expect(await apiStatus(first.json['access_token'])).toBe(200);
    expect(await introspect(first.json['refresh_token'])).toMatchObject({ active: true });

    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }), 400, BAD_CODE);
    expect(await apiStatus(first.json['access_token'])).toBe(401);
    expect(await introspect(first.json['access_token'])).toEqual({ active: false });
    expect(await introspect(first.json['refresh_token'])).toEqual({ active: false });
    expectError(await token({ grant_type: 'refresh_token', refresh_token: String(first.json['refresh_token']) }), 400, BAD_REFRESH);
  });

  it('Z10: a replayed code also revokes JWT access tokens issued from it', async () => {
    const c = await code(jwtApp);
    const first = await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }, jwtApp);
    expect(first.status).toBe(200);
    expect(String(first.json['access_token']).split('.')).toHaveLength(3);
    expect(await apiStatus(first.json['access_token'])).toBe(200);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }, jwtApp), 400, BAD_CODE);
    expect(await apiStatus(first.json['access_token'])).toBe(401);
  });

  it('docs/design.md habit 4: twelve parallel redemptions of one code → exactly one 200, the rest invalid_grant', async () => {
    const c = await code(a);
    const replies = await Promise.all(Array.from({ length: 12 }, () => token({ grant_type: 'authorization_code', code: c, redirect_uri: CB })));
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) expectError(r, 400, BAD_CODE);
    // The replays revoked what the winner got.
    expect(await apiStatus(ok[0]?.json['access_token'])).toBe(401);
  });

  it("RFC 6749 §4.1.3: client A's code with client B's credentials → invalid_grant, and A can still redeem it", async () => {
    const c = await code(a);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }, other), 400, BAD_CODE);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, client_id: pub.client.clientId }, null), 400, BAD_CODE);
    expect((await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB })).status).toBe(200);
  });

  it.each([
    ['another registered URI', CB2],
    ['a trailing slash', `${CB}/`],
    ['a query added', `${CB}?x=1`],
    ['different case', 'https://CLIENT.example/cb'],
    ['percent-encoded', 'https://client.example/%63b'],
  ])('RFC 6749 §4.1.3: redirect_uri differs from the authorization request (%s) → invalid_grant', async (_label, uri) => {
    const c = await code(a);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: uri }), 400, {
      error: 'invalid_grant',
      error_description: 'redirect_uri does not match the authorization request',
    });
  });

  it('RFC 6749 §4.1.3: redirect_uri omitted at the token endpoint when the client has several → invalid_grant', async () => {
    const c = await code(a);
    expectError(await token({ grant_type: 'authorization_code', code: c }), 400, {
      error: 'invalid_grant',
      error_description: 'redirect_uri does not match the authorization request',
    });
  });

  it('RFC 6749 §4.1.3: a code for the second registered URI redeems only with that URI', async () => {
    const out = await authorize(b, `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: a.client.clientId, redirect_uri: CB2, scope: 'profile', state: 's' }).toString()}`);
    const loc = new URL(out.location ?? '');
    expect(`${loc.origin}${loc.pathname}`).toBe(CB2);
    const c2 = loc.searchParams.get('code') ?? '';
    expectError(await token({ grant_type: 'authorization_code', code: c2, redirect_uri: CB }), 400, {
      error: 'invalid_grant',
      error_description: 'redirect_uri does not match the authorization request',
    });
    expect((await token({ grant_type: 'authorization_code', code: c2, redirect_uri: CB2 })).status).toBe(200);
  });

  it('RFC 7636 §4.6: challenge sent, then no verifier / a wrong verifier → invalid_grant; the right one works (Appendix B values)', async () => {
    const c = await code(pub, { code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    const base = { grant_type: 'authorization_code', code: c, redirect_uri: CB, client_id: pub.client.clientId };
    expectError(await token(base, null), 400, { error: 'invalid_grant', error_description: 'code_verifier is required' });
    expectError(await token({ ...base, code_verifier: `${VERIFIER.slice(0, -1)}l` }, null), 400, {
      error: 'invalid_grant',
      error_description: 'code_verifier does not match the code_challenge',
    });
    expectError(await token({ ...base, code_verifier: CHALLENGE }, null), 400, {
      error: 'invalid_grant',
      error_description: 'code_verifier does not match the code_challenge',
    });
    expectError(await token({ ...base, code_verifier: 'short' }, null), 400, {
      error: 'invalid_grant',
      error_description: 'code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)',
    });
    const ok = await token({ ...base, code_verifier: VERIFIER }, null);
    expect(ok.status).toBe(200);
    expect(ok.json['token_type']).toBe('Bearer');
  });

  it('RFC 7636 §4.6 with a confidential client: challenge sent, no verifier → invalid_grant', async () => {
    const c = await code(a, { code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }), 400, { error: 'invalid_grant', error_description: 'code_verifier is required' });
    expect((await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, code_verifier: VERIFIER })).status).toBe(200);
  });

  it('RFC 9700 §4.8.2: no challenge sent, verifier sent (downgrade) → invalid_grant', async () => {
    const c = await code(a);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, code_verifier: VERIFIER }), 400, {
      error: 'invalid_grant',
      error_description: 'code_verifier sent but no code_challenge was in the authorization request',
    });
  });

  it('Z10: an expired code → invalid_grant (and the same row unexpired redeems)', async () => {
    const now = Date.now();
    const make = async (expiresAt: number): Promise<string> => {
      const c = `tgo_${randomBytes(32).toString('base64url')}`;
      await s.ctx.storage.codes.create({
        codeHash: sha256(c),
        clientId: a.client.clientId,
        userId: alice.id,
        redirectUri: CB,
        scope: 'profile',
        resource: `${s.issuer}/api`,
        codeChallenge: null,
        codeChallengeMethod: null,
        familyId: randomBytes(16).toString('base64url'),
        expiresAt,
        consumedAt: null,
        createdAt: now - 61_000,
      });
      return c;
    };
    expectError(await token({ grant_type: 'authorization_code', code: await make(now - 1_000), redirect_uri: CB }), 400, BAD_CODE);
    expect((await token({ grant_type: 'authorization_code', code: await make(now + 60_000), redirect_uri: CB })).status).toBe(200);
  });

  it('docs/design.md habit 1: a code is bound to its scope; an undeclared scope parameter at the token endpoint is ignored', async () => {
    const c = await code(a, { scope: 'profile' });
    const r = await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, scope: 'profile email admin' });
    expect(r.status).toBe(200);
    expect(r.json['scope']).toBe('profile');
  });

  it('RFC 8707 §2: a code is bound to its resource', async () => {
    const c = await code(a);
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, resource: 'https://other-api.example/' }), 400, {
      error: 'invalid_grant',
      error_description: 'resource does not match the authorization request',
    });
    expect((await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB, resource: `${s.issuer}/api` })).status).toBe(200);
  });

  it('RFC 6749 §4.1.3, §6: a code or refresh token of a user disabled since → invalid_grant', async () => {
    const bob = await s.createUser('bob@example.com');
    const bb = new Browser(s.url);
    expect((await bb.login(bob.email, DEFAULT_PASSWORD)).status).toBe(303);
    const qs = new URLSearchParams({ response_type: 'code', client_id: a.client.clientId, redirect_uri: CB, scope: 'profile', state: 's' });
    const c1 = new URL((await authorize(bb, `/oauth/authorize?${qs.toString()}`)).location ?? '').searchParams.get('code') ?? '';
    const first = await token({ grant_type: 'authorization_code', code: c1, redirect_uri: CB });
    expect(first.status).toBe(200);
    const c2 = new URL((await authorize(bb, `/oauth/authorize?${qs.toString()}`)).location ?? '').searchParams.get('code') ?? '';
    await s.ctx.storage.users.update(bob.id, { disabled: true });
    expectError(await token({ grant_type: 'authorization_code', code: c2, redirect_uri: CB }), 400, {
      error: 'invalid_grant',
      error_description: 'The user of this authorization code is no longer active',
    });
    expectError(await token({ grant_type: 'refresh_token', refresh_token: String(first.json['refresh_token']) }), 400, BAD_REFRESH);
  });

  it.each([
    ['an unknown code', `tgo_${'A'.repeat(43)}`],
    ['a refresh-token-shaped value', `tgr_${'A'.repeat(43)}`],
    ['a very long value', 'x'.repeat(5000)],
  ])('RFC 6749 §5.2: %s → invalid_grant', async (_label, c) => {
    expectError(await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB }), 400, BAD_CODE);
  });

  // --------------------------------------------------------------- T3: refresh rotation, reuse

  it('T3 / RFC 9700 §4.14.2: RT1 → RT2; RT1 again → invalid_grant, and RT2 and its access tokens are revoked', async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    const rt1 = String(first.json['refresh_token']);
    const second = await token({ grant_type: 'refresh_token', refresh_token: rt1 });
    expect(second.status).toBe(200);
    const rt2 = String(second.json['refresh_token']);
    expect(rt2).not.toBe(rt1);
    expect(rt2).toMatch(/^tgr_[A-Za-z0-9_-]{43}$/);
    expect(await apiStatus(second.json['access_token'])).toBe(200);

    expectError(await token({ grant_type: 'refresh_token', refresh_token: rt1 }), 400, BAD_REFRESH);
    expect(await apiStatus(second.json['access_token'])).toBe(401);
    expect(await apiStatus(first.json['access_token'])).toBe(401);
    expect(await introspect(rt2)).toEqual({ active: false });
    expectError(await token({ grant_type: 'refresh_token', refresh_token: rt2 }), 400, BAD_REFRESH);
  });

  it('T3: parallel uses of one refresh token → exactly one 200', async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    const rt = String(first.json['refresh_token']);
    const replies = await Promise.all(Array.from({ length: 8 }, () => token({ grant_type: 'refresh_token', refresh_token: rt })));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) expectError(r, 400, BAD_REFRESH);
  });

  it('RFC 6749 §6: a wider scope on refresh → invalid_scope; a narrower one works', async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a, { scope: 'profile' }), redirect_uri: CB });
    expect(first.json['scope']).toBe('profile');
    const rt = String(first.json['refresh_token']);
    for (const scope of ['profile email', 'email', 'admin', 'profile admin']) {
      expectError(await token({ grant_type: 'refresh_token', refresh_token: rt, scope }), 400, {
        error: 'invalid_scope',
        error_description: 'The requested scope exceeds the scope originally granted',
      });
    }
    // The refused attempts did not consume it.
    const wide = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    const narrower = await token({ grant_type: 'refresh_token', refresh_token: String(wide.json['refresh_token']), scope: 'email' });
    expect(narrower.status).toBe(200);
    expect(narrower.json['scope']).toBe('email');
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${String(narrower.json['access_token'])}` } });
    expect(me.status).toBe(403);
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt })).status).toBe(200);
  });

  it('RFC 8707 §2 / RFC 9700 §4.14: a refresh token is bound to its audience', async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    const rt = String(first.json['refresh_token']);
    expectError(await token({ grant_type: 'refresh_token', refresh_token: rt, resource: 'https://other-api.example/' }), 400, {
      error: 'invalid_target',
      error_description: 'The refresh token was not issued for this resource',
    });
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt, resource: `${s.issuer}/api` })).status).toBe(200);
  });

  it("RFC 6749 §6: client B cannot use client A's refresh token, and A's stays valid", async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    const rt = String(first.json['refresh_token']);
    expectError(await token({ grant_type: 'refresh_token', refresh_token: rt }, other), 400, BAD_REFRESH);
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt })).status).toBe(200);
  });

  it('RFC 6749 §6: an access token is not a refresh token', async () => {
    const first = await token({ grant_type: 'authorization_code', code: await code(a), redirect_uri: CB });
    expectError(await token({ grant_type: 'refresh_token', refresh_token: String(first.json['access_token']) }), 400, BAD_REFRESH);
  });

  // ------------------------------------------------------------- RFC 6749 §2.3.1 client auth

  it('RFC 6749 §2.3.1: a wrong secret via Basic → 401 invalid_client with WWW-Authenticate: Basic', async () => {
    for (const auth of [
      basic(a.client.clientId, 'tgs_wrong'),
      basic(a.client.clientId, ''),
      basic(a.client.clientId, other.clientSecret ?? ''),
      basic('tgc_unknown', a.clientSecret ?? ''),
    ]) {
      const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: auth });
      expectError(r, 401, BAD_CLIENT);
      expect(r.headers.get('www-authenticate')).toBe('Basic realm="tollgate", charset="UTF-8"');
    }
  });

  it('RFC 6749 §2.3: Basic and a body secret together → 400 invalid_request', async () => {
    for (const secret of [a.clientSecret ?? '', 'tgs_other']) {
      expectError(await token({ grant_type: 'authorization_code', code: 'x', client_secret: secret }), 400, {
        error: 'invalid_request',
        error_description: 'Use only one client authentication method: HTTP Basic or client_secret in the body, not both',
      });
    }
  });

  it('RFC 6749 §2.3.1: a secret (or other credential) in the query string is refused', async () => {
    for (const [name, value] of [
      ['client_secret', a.clientSecret ?? ''],
      ['code', 'tgo_x'],
      ['refresh_token', 'tgr_x'],
      ['password', 'pw'],
      ['code_verifier', VERIFIER],
      ['client_assertion', 'eyJ.x.y'],
    ] as const) {
      const r = await postForm(`${s.url}/oauth/token?${name}=${encodeURIComponent(value)}`, { grant_type: 'client_credentials', client_id: a.client.clientId, client_secret: a.clientSecret ?? '' });
      expectError(r, 400, { error: 'invalid_request', error_description: 'Credentials must not be sent in the query string' });
    }
  });

  it('RFC 6749 §10.10: codes, access and refresh tokens carry ≥ 256 random bits, recognisably prefixed, never repeated', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const c = await code(a);
      expect(c).toMatch(/^tgo_[A-Za-z0-9_-]{43}$/);
      const t = await token({ grant_type: 'authorization_code', code: c, redirect_uri: CB });
      expect(t.json['access_token']).toMatch(/^tga_[A-Za-z0-9_-]{43}$/);
      expect(t.json['refresh_token']).toMatch(/^tgr_[A-Za-z0-9_-]{43}$/);
      for (const v of [c, t.json['access_token'], t.json['refresh_token']]) {
        expect(seen.has(String(v))).toBe(false);
        seen.add(String(v));
      }
    }
    expect(seen.size).toBe(9);
  });

  it('RFC 9700 §4.16: the login and consent pages cannot be framed', async () => {
    const page = await b.fetch(`/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: a.client.clientId, redirect_uri: CB, prompt: 'consent' }).toString()}`);
    const login = await new Browser(s.url).fetch('/login');
    for (const res of [page, login]) {
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('RFC 9700 §4.1 / docs/security.md: no CORS on the authorization endpoint, CORS on the token endpoint as configured', async () => {
    const origin = { origin: 'https://spa.example' };
    const authz = await fetch(`${s.url}/oauth/authorize?client_id=${a.client.clientId}&redirect_uri=${encodeURIComponent(CB)}&response_type=code`, { headers: origin, redirect: 'manual' });
    await authz.arrayBuffer();
    expect(authz.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${s.url}/oauth/authorize`, { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'GET' } });
    await pre.arrayBuffer();
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'foo' }, origin);
    expect(tok.headers.get('access-control-allow-origin')).toBe('https://spa.example');
    const foreign = await postForm(`${s.url}/oauth/token`, { grant_type: 'foo' }, { origin: 'https://evil.example' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('O5 / docs/security.md: the logs of this suite contain no secret, code or token it saw', () => {
    expect(issued.size).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(20);
    const all = logLines.join('\n');
    // On failure, show where each value leaked (with the value itself masked).
    const leaked = [...issued]
      .filter((v) => v.length > 0 && all.includes(v))
      .map((v) => `${v.slice(0, 4)}…: ${logLines.filter((l) => l.includes(v)).map((l) => l.split(v).join('<value>')).join(' | ')}`);
    expect(leaked).toEqual([]);
  });
});

// ------------------------------------------------------------- strict readers (plain units)

function thrown(fn: () => unknown): { error: string; error_description: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return err.toJSON();
    throw err;
  }
  throw new Error('expected an OAuthError');
}

describe('RFC 6749 §3.1/§3.2: one strict parameter reader', () => {
  it.each(['a=1&a=2', 'a=1&a=1', 'a=&a=1', 'a=1&b=2&a=3'])('a repeated parameter is refused: %s', (body) => {
    expect(thrown(() => single(paramsFromForm(body), 'a'))).toEqual({ error: 'invalid_request', error_description: 'Parameter "a" must not be repeated' });
  });

  it('§3.1: a parameter sent without a value is treated as omitted', () => {
    expect(single(paramsFromForm('a=&b=1'), 'a')).toBeUndefined();
    expect(single(paramsFromForm('a&b=1'), 'a')).toBeUndefined();
  });

  it('form encoding is decoded exactly once', () => {
    expect(single(paramsFromForm('a=%2541'), 'a')).toBe('%41');
    expect(single(paramsFromForm('a=x+y'), 'a')).toBe('x y');
  });

  it('more than 64 parameters are refused', () => {
    const body = Array.from({ length: 65 }, (_, i) => `p${i}=1`).join('&');
    expect(thrown(() => paramsFromForm(body))).toEqual({ error: 'invalid_request', error_description: 'Too many parameters' });
  });

  it.each([
    [[1, 2], 'The request body must be a JSON object'],
    ['str', 'The request body must be a JSON object'],
    [{ a: ['x', 'y'] }, 'Parameter "a" must be a string'],
    [{ a: { b: 1 } }, 'Parameter "a" must be a string'],
  ])('JSON bodies: %j → invalid_request', (body, description) => {
    expect(thrown(() => paramsFromJson(body))).toEqual({ error: 'invalid_request', error_description: description });
  });
});

describe('RFC 6749 §3.3: scope parsing', () => {
  it('space-delimited, case-sensitive, duplicates collapsed, empty tokens ignored', () => {
    expect(parseScope('profile  email profile')).toEqual(['profile', 'email']);
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope('Profile profile')).toEqual(['Profile', 'profile']);
  });

  it.each(['a"b', 'a\\b', 'caf\u00e9', 'a\tb', 'a\u0000'])('a token outside NQCHAR is invalid_scope: %j', (raw) => {
    const first = raw.split(' ')[0] ?? '';
    expect(thrown(() => parseScope(raw))).toEqual({ error: 'invalid_scope', error_description: `Malformed scope "${first}"` });
  });

  it('only allowed scopes; none asked means every allowed scope', () => {
    expect(resolveScopes([], ['profile', 'email'])).toEqual(['profile', 'email']);
    expect(resolveScopes(['email'], ['profile', 'email'])).toEqual(['email']);
    expect(thrown(() => resolveScopes(['email', 'admin', 'x'], ['email']))).toEqual({
      error: 'invalid_scope',
      error_description: 'Scope not allowed for this client: admin x',
    });
    expect(isSubset(['a'], ['a', 'b'])).toBe(true);
    expect(isSubset(['a', 'c'], ['a', 'b'])).toBe(false);
  });
});
