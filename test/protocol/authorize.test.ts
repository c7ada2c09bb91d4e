/**
 * Authorization endpoint over HTTP (RFC 6749 §3.1, §4.1.1–4.1.2.1, §4.2; RFC 7636; RFC 9207;
 * RFC 9700 §4.1; SPEC Z1–Z11), login form (Z3, O7), on SQLite and PostgreSQL.
 *
 * Exact `{error, error_description}` everywhere: on the page for errors that must not redirect
 * (Z9), in the redirect URI's query (or fragment, for response_type=token) for the others.
 */
import escapeHtml from 'escape-html';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CreatedApp } from '../../src/services/apps.js';
import type { UserRow } from '../../src/storage/types.js';
import {
  Browser,
  DEFAULT_PASSWORD,
  authorize,
  basic,
  describeEachDb,
  hiddenField,
  postForm,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const CB = 'https://client.example/cb';
const CB2 = 'https://client.example/other';
const LOOPBACK = 'http://127.0.0.1/cb';
// RFC 7636 Appendix B
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const NOT_REGISTERED = 'The redirect_uri is not registered for this application.';
const LOGIN_ERROR = 'Invalid email or password, or too many attempts. Try again later.';

type Pairs = ReadonlyArray<readonly [string, string]>;

/** `/oauth/authorize?…` from ordered pairs (so parameters can be repeated). */
function authz(pairs: Pairs | Record<string, string>): string {
  const list = Array.isArray(pairs) ? (pairs as Pairs) : Object.entries(pairs);
  return `/oauth/authorize?${new URLSearchParams(list.map(([k, v]): [string, string] => [k, v])).toString()}`;
}

/** Z9: an error page, never a redirect. */
async function expectPage(res: Response, error: string, description: string, status = 400): Promise<void> {
  const body = await res.text();
  expect(res.status).toBe(status);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(body).toContain(`<p class="error" role="alert">${escapeHtml(description)}</p>`);
  expect(body).toContain(`Error code: ${error}`);
  expect(body).not.toContain('tgo_');
}

/** The parameters of a redirect to `base`, in its query or fragment; each key must appear once. */
function redirectParams(location: string | null, base: string, mode: 'query' | 'fragment' = 'query'): Record<string, string> {
  expect(location).not.toBeNull();
  const loc = location ?? '';
  const sep = mode === 'query' ? '?' : '#';
  expect(loc.slice(0, base.length + 1)).toBe(base + sep);
  const rest = loc.slice(base.length + 1);
  if (mode === 'query') expect(rest).not.toContain('#');
  else expect(loc.slice(0, base.length + 1)).not.toContain('?');
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rest)) {
    expect(Object.keys(out)).not.toContain(k);
    out[k] = v;
  }
  return out;
}

describeEachDb('authorization endpoint (RFC 6749 §4.1, §4.2; SPEC Z1–Z11)', (start) => {
  let s: TestServer;
  /** Confidential, CB and CB2 registered, scopes profile+email. */
  let web: CreatedApp;
  /** Confidential, a single redirect URI. */
  let single: CreatedApp;
  /** Public (PKCE required). */
  let pub: CreatedApp;
  /** Loopback redirect URI (RFC 8252 §7.3). */
  let loop: CreatedApp;
  let n = 0;

  beforeAll(async () => {
    s = await start({ env: { TOLLGATE_LOGIN_MAX_FAILURES: '3', TOLLGATE_LOCKOUT_SECONDS: '2' } });
    web = await s.createApp({
      name: 'Web App',
      description: 'Syncs your files',
      website: 'https://client.example/',
      redirectUris: [CB, CB2],
      scopes: ['profile', 'email'],
    });
    single = await s.createApp({ name: 'Single', redirectUris: [CB], scopes: ['profile'] });
    pub = await s.createApp({ name: 'Public', public: true, redirectUris: [CB], scopes: ['profile', 'email'] });
    loop = await s.createApp({ name: 'Native', public: true, redirectUris: [LOOPBACK], scopes: ['profile'] });
  });
  afterAll(async () => s?.close());

  async function signedIn(): Promise<{ user: UserRow & { readonly email: string }; b: Browser }> {
    const email = `user${++n}@example.com`;
    const user = await s.createUser(email);
    const b = new Browser(s.url);
    const res = await b.login(email, DEFAULT_PASSWORD);
    expect(res.status).toBe(303);
    return { user, b };
  }

  function anonymous(): Browser {
    return new Browser(s.url);
  }

  function webRequest(extra: Record<string, string> = {}): string {
    return authz({ response_type: 'code', client_id: web.client.clientId, redirect_uri: CB, scope: 'profile email', state: 'st-1', ...extra });
  }

  async function redeem(app: CreatedApp, code: string, redirectUri = CB): Promise<{ status: number; json: Record<string, unknown> }> {
    return postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'authorization_code', code, redirect_uri: redirectUri },
      { authorization: basic(app.client.clientId, app.clientSecret ?? '') },
    );
  }

  async function apiStatus(token: unknown): Promise<number> {
    const res = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${String(token)}` } });
    await res.arrayBuffer();
    return res.status;
  }

  /** Walks the consent page with every scope ticked and redeems the code. */
  async function grantAndRedeem(b: Browser, url: string, app: CreatedApp = web): Promise<Record<string, unknown>> {
    const out = await authorize(b, url);
    expect(out.status).toBe(303);
    const code = redirectParams(out.location, CB)['code'] ?? '';
    const tok = await redeem(app, code);
    expect(tok.status).toBe(200);
    return tok.json;
  }

  // ---------------------------------------------------------------- Z9: errors shown on a page

  it('Z9: missing client_id → page, no Location', async () => {
    await expectPage(await anonymous().fetch(authz({ response_type: 'code', redirect_uri: CB })), 'invalid_request', 'The request has no client_id.');
  });

  it.each([
    ['an unknown client_id', 'tgc_doesnotexist'],
    ['a client_id differing in case', 'TGC_DOESNOTEXIST'],
    ['a very long client_id', 'x'.repeat(600)],
  ])('Z9: %s → page, no Location', async (_label, clientId) => {
    const res = await anonymous().fetch(authz({ response_type: 'code', client_id: clientId, redirect_uri: CB, state: 's' }));
    await expectPage(res, 'invalid_client', clientId.length > 512 ? 'Unknown application.' : 'Unknown application: no application has this client_id.');
  });

  it('Z9: a client_id whose case differs from a real one is unknown', async () => {
    const res = await anonymous().fetch(authz({ response_type: 'code', client_id: web.client.clientId.toUpperCase(), redirect_uri: CB }));
    await expectPage(res, 'invalid_client', 'Unknown application: no application has this client_id.');
  });

  it('Z9/A3: a deactivated application → page, no Location', async () => {
    const off = await s.createApp({ name: 'Off', redirectUris: [CB], scopes: ['profile'], active: false });
    await expectPage(
      await anonymous().fetch(authz({ response_type: 'code', client_id: off.client.clientId, redirect_uri: CB, state: 's' })),
      'invalid_client',
      'This application has been deactivated.',
    );
  });

  it.each([
    ['not registered at all', 'https://evil.example/cb'],
    ['an extra path segment', `${CB}/extra`],
    ['a query added', `${CB}?next=https://evil.example`],
    ['an empty query', `${CB}?`],
    ['a trailing slash', `${CB}/`],
    ['an upper-case host', 'https://CLIENT.example/cb'],
    ['an upper-case path', 'https://client.example/CB'],
    ['an upper-case scheme', 'HTTPS://client.example/cb'],
    ['a percent-encoded path character', 'https://client.example/%63b'],
    ['a double-encoded path character', 'https://client.example/%2563b'],
    ['a percent-encoded slash', 'https://client.example%2Fcb'],
    ['an encoded NUL', `${CB}%00`],
    ['userinfo', 'https://user@client.example/cb'],
    ['userinfo pointing elsewhere', 'https://client.example@evil.example/cb'],
    ['a fragment', `${CB}#x`],
    ['the explicit default port', 'https://client.example:443/cb'],
    ['a dot segment', 'https://client.example/x/../cb'],
    ['a backslash', 'https://client.example\\cb'],
    ['http instead of https', 'http://client.example/cb'],
    ['a host suffix', 'https://client.example.evil.example/cb'],
    ['a trailing space', `${CB} `],
    ['a javascript: URI', 'javascript:alert(document.domain)'],
  ])('Z9 / RFC 9700 §4.1.3: registered URI with %s → page, no Location', async (_label, uri) => {
    const res = await anonymous().fetch(authz({ response_type: 'code', client_id: web.client.clientId, redirect_uri: uri, state: 's' }));
    await expectPage(res, 'invalid_request', NOT_REGISTERED);
  });

  it('Z9: valid client, bad redirect URI and bad response_type → page (the redirect URI is checked first)', async () => {
    const res = await anonymous().fetch(authz({ response_type: 'foo', client_id: web.client.clientId, redirect_uri: `${CB}/x`, state: 's' }));
    await expectPage(res, 'invalid_request', NOT_REGISTERED);
  });

  it('RFC 6749 §3.1.2.3: no redirect_uri with several registered → page', async () => {
    await expectPage(
      await anonymous().fetch(authz({ response_type: 'code', client_id: web.client.clientId, state: 's' })),
      'invalid_request',
      'The request must include a redirect_uri registered for this application.',
    );
  });

  it.each([
    ['client_id', (id: string): Pairs => [['response_type', 'code'], ['client_id', id], ['client_id', id], ['redirect_uri', CB]]],
    ['redirect_uri', (id: string): Pairs => [['response_type', 'code'], ['client_id', id], ['redirect_uri', CB], ['redirect_uri', CB]]],
    ['redirect_uri', (id: string): Pairs => [['response_type', 'code'], ['client_id', id], ['redirect_uri', CB], ['redirect_uri', 'https://evil.example/']]],
  ])('RFC 6749 §3.1: repeated %s → page, no Location', async (name, build) => {
    const res = await anonymous().fetch(authz(build(web.client.clientId)));
    await expectPage(res, 'invalid_request', `The parameter "${name}" must not be repeated`);
  });

  it('RFC 8252 §7.3: registered http://127.0.0.1/cb accepts any port, nothing else', async () => {
    for (const ok of ['http://127.0.0.1:4567/cb', 'http://127.0.0.1/cb', 'http://127.0.0.1:80/cb']) {
      const res = await anonymous().fetch(
        authz({ response_type: 'code', client_id: loop.client.clientId, redirect_uri: ok, code_challenge: CHALLENGE, code_challenge_method: 'S256', prompt: 'none', state: 'p' }),
      );
      expect(res.status).toBe(303);
      expect(redirectParams(res.headers.get('location'), ok)).toEqual({
        error: 'login_required',
        error_description: 'The user is not signed in',
        state: 'p',
        iss: s.issuer,
      });
    }
    for (const bad of ['http://127.0.0.1:4567/cb2', 'http://localhost:4567/cb', 'http://127.0.0.1:4567/cb/', 'http://[::1]:4567/cb', 'https://127.0.0.1:4567/cb', 'http://127.0.0.1:4567@evil.example/cb']) {
      const res = await anonymous().fetch(authz({ response_type: 'code', client_id: loop.client.clientId, redirect_uri: bad, code_challenge: CHALLENGE, code_challenge_method: 'S256' }));
      await expectPage(res, 'invalid_request', NOT_REGISTERED);
    }
  });

  // ---------------------------------------------------------- Z9: errors redirected with iss

  async function expectRedirectError(
    url: string,
    expected: { error: string; description: string; state?: string; mode?: 'query' | 'fragment'; uri?: string },
  ): Promise<Record<string, string>> {
    const res = await anonymous().fetch(url);
    await res.arrayBuffer();
    expect(res.status).toBe(303);
    const params = redirectParams(res.headers.get('location'), expected.uri ?? CB, expected.mode ?? 'query');
    expect(params).toEqual({
      error: expected.error,
      error_description: expected.description,
      ...(expected.state !== undefined ? { state: expected.state } : {}),
      // RFC 9207 §2
      iss: s.issuer,
    });
    return params;
  }

  it('RFC 6749 §4.1.2.1: a scope not allowed for the client → invalid_scope with state and iss', async () => {
    await expectRedirectError(webRequest({ scope: 'profile admin' }), { error: 'invalid_scope', description: 'Scope not allowed for this client: admin', state: 'st-1' });
    await expectRedirectError(webRequest({ scope: 'unknown-scope' }), { error: 'invalid_scope', description: 'Scope not allowed for this client: unknown-scope', state: 'st-1' });
    await expectRedirectError(webRequest({ scope: 'PROFILE' }), { error: 'invalid_scope', description: 'Scope not allowed for this client: PROFILE', state: 'st-1' });
    await expectRedirectError(webRequest({ scope: 'profile "x' }), { error: 'invalid_scope', description: 'Malformed scope ""x"', state: 'st-1' });
  });

  it('Z8: response_type=token for a client not allowed implicit → unsupported_response_type, no token', async () => {
    const params = await expectRedirectError(webRequest({ response_type: 'token' }), {
      error: 'unsupported_response_type',
      description: 'This application is not allowed response_type=token',
      state: 'st-1',
      mode: 'fragment',
    });
    expect(params).not.toHaveProperty('access_token');
  });

  it.each([
    ['foo', 'response_type must be code (or token, id_token or id_token token for applications allowed the implicit grant)'],
    ['code token', 'response_type must be code (or token, id_token or id_token token for applications allowed the implicit grant)'],
    ['CODE', 'response_type must be code (or token, id_token or id_token token for applications allowed the implicit grant)'],
    ['token id_token', 'response_type must be code (or token, id_token or id_token token for applications allowed the implicit grant)'],
  ])('RFC 6749 §3.1.1: response_type=%j → unsupported_response_type', async (rt, description) => {
    await expectRedirectError(webRequest({ response_type: rt }), { error: 'unsupported_response_type', description, state: 'st-1' });
  });

  it('OIDC Core §3.2.2.5: response_type=id_token for an application not allowed implicit → unsupported_response_type, in the fragment', async () => {
    await expectRedirectError(webRequest({ response_type: 'id_token' }), {
      error: 'unsupported_response_type',
      description: 'This application is not allowed response_type=id_token',
      state: 'st-1',
      mode: 'fragment',
    });
  });

  it('RFC 6749 §4.1.1: missing response_type → invalid_request', async () => {
    await expectRedirectError(authz({ client_id: web.client.clientId, redirect_uri: CB, state: 'st-1' }), {
      error: 'invalid_request',
      description: 'Missing response_type',
      state: 'st-1',
    });
  });

  it('RFC 9700 §2.1.1: a public client without code_challenge → invalid_request', async () => {
    await expectRedirectError(authz({ response_type: 'code', client_id: pub.client.clientId, redirect_uri: CB, state: 'st-1' }), {
      error: 'invalid_request',
      description: 'PKCE is required for this client: send code_challenge with code_challenge_method=S256',
      state: 'st-1',
    });
  });

  it.each([
    ['code_challenge_method=plain', { code_challenge: CHALLENGE, code_challenge_method: 'plain' }, 'code_challenge_method=plain is not allowed; use S256'],
    ['no method (plain by default)', { code_challenge: CHALLENGE }, 'code_challenge_method=plain is not allowed; use S256'],
    ['an unknown method', { code_challenge: CHALLENGE, code_challenge_method: 'S512' }, 'code_challenge_method must be S256'],
    ['a method without a challenge', { code_challenge_method: 'S256' }, 'code_challenge_method was sent without code_challenge'],
    ['a 42-character challenge', { code_challenge: CHALLENGE.slice(0, 42), code_challenge_method: 'S256' }, 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)'],
    ['a 129-character challenge', { code_challenge: 'a'.repeat(129), code_challenge_method: 'S256' }, 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)'],
    ['a challenge with base64 padding', { code_challenge: `${CHALLENGE}=`, code_challenge_method: 'S256' }, 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)'],
    ['a challenge with "+"', { code_challenge: CHALLENGE.replace('-', '+'), code_challenge_method: 'S256' }, 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)'],
  ])('RFC 7636 §4.4.1: %s → invalid_request', async (_label, pkce, description) => {
    for (const app of [pub, web]) {
      await expectRedirectError(authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, scope: 'profile', state: 'st-1', ...pkce }), {
        error: 'invalid_request',
        description,
        state: 'st-1',
      });
    }
  });

  it('RFC 6749 §3.1: a repeated scope → invalid_request (state kept); a repeated state → invalid_request without state', async () => {
    const base: Pairs = [['response_type', 'code'], ['client_id', web.client.clientId], ['redirect_uri', CB]];
    await expectRedirectError(authz([...base, ['state', 'st-1'], ['scope', 'profile'], ['scope', 'email']]), {
      error: 'invalid_request',
      description: 'The parameter "scope" must not be repeated',
      state: 'st-1',
    });
    await expectRedirectError(authz([...base, ['state', 'a'], ['state', 'b']]), {
      error: 'invalid_request',
      description: 'The parameter "state" must not be repeated',
    });
    await expectRedirectError(authz([...base, ['state', 'st-1'], ['response_type', 'code']]), {
      error: 'invalid_request',
      description: 'The parameter "response_type" must not be repeated',
      state: 'st-1',
    });
  });

  it('RFC 6749 §4.1.2: state comes back byte for byte, on errors and on success', async () => {
    const state = 'a&b=c#d é+%20/?x=1';
    await expectRedirectError(webRequest({ scope: 'admin', state }), { error: 'invalid_scope', description: 'Scope not allowed for this client: admin', state });
    const { b } = await signedIn();
    const out = await authorize(b, webRequest({ state }));
    expect(redirectParams(out.location, CB)['state']).toBe(state);
  });

  it('RFC 9207 §2: iss is on error redirects that have no state too', async () => {
    await expectRedirectError(authz({ response_type: 'code', client_id: web.client.clientId, redirect_uri: CB2, scope: 'admin' }), {
      error: 'invalid_scope',
      description: 'Scope not allowed for this client: admin',
      uri: CB2,
    });
  });

  it('Z1: without redirect_uri, a client with one registered URI is redirected there', async () => {
    await expectRedirectError(authz({ response_type: 'code', client_id: single.client.clientId, scope: 'email', state: 'st-1' }), {
      error: 'invalid_scope',
      description: 'Scope not allowed for this client: email',
      state: 'st-1',
    });
  });

  it.each([
    [{ prompt: 'none login' }, 'prompt=none cannot be combined with other values'],
    [{ prompt: 'select_one' }, 'Unsupported prompt value "select_one"'],
    [{ response_mode: 'fragment' }, 'response_mode=fragment is not supported for this response_type'],
    [{ response_mode: 'form_post' }, 'response_mode=form_post is not supported for this response_type'],
  ])('RFC 6749 §4.1.2.1: %j → invalid_request', async (extra, description) => {
    await expectRedirectError(webRequest(extra), { error: 'invalid_request', description, state: 'st-1' });
  });

  it('OIDC Core §3.1.2.1 prompt=login asks for a new sign-in without ending the session; the sign-in satisfies only login (issue #15 §7, §10)', async () => {
    const { user, b } = await signedIn();
    const res = await b.fetch(webRequest({ prompt: 'login consent' }));
    const resume = signInDetour(res);
    // A link from any site cannot sign the person out: the session is still there.
    const after = await b.fetch(webRequest());
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('name="decision" value="allow"');
    // Coming back without signing in again is refused, with no loop.
    const early = await b.fetch(resume);
    expect(early.status).toBe(400);
    expect(await early.text()).toContain('The sign-in was not renewed');
    // A new sign-in, then the request continues whole: consent is still asked (prompt=consent stays).
    const res2 = await b.fetch(webRequest({ prompt: 'login consent' }));
    const resume2 = signInDetour(res2);
    expect((await b.login(user.email, DEFAULT_PASSWORD, resume2)).headers.get('location')).toBe(resume2);
    const page = await b.fetch(resume2);
    const body = await page.text();
    expect(page.status).toBe(200);
    const kept = new URLSearchParams(hiddenField(body, 'authorization_request'));
    expect(kept.get('prompt')).toBe('consent');
    expect(kept.get('state')).toBe('st-1');
    expect(kept.get('scope')).toBe('profile email');
    // Used once.
    const again = await b.fetch(resume2);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This sign-in link has expired');
  });

  it('RFC 6749 §3.1.2: a registered URI with a query keeps it; response parameters are added after it', async () => {
    const withQuery = `${CB}?tenant=a`;
    const app = await s.createApp({ name: 'Tenant', redirectUris: [withQuery], scopes: ['profile'] });
    const res = await anonymous().fetch(authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: withQuery, scope: 'email', state: 'q' }));
    expect(res.status).toBe(303);
    const loc = res.headers.get('location') ?? '';
    expect(loc.startsWith(`${withQuery}&`)).toBe(true);
    expect([...new URL(loc).searchParams]).toEqual([
      ['tenant', 'a'],
      ['error', 'invalid_scope'],
      ['error_description', 'Scope not allowed for this client: email'],
      ['state', 'q'],
      ['iss', s.issuer],
    ]);
    const { b } = await signedIn();
    const out = await authorize(b, authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: withQuery, state: 'q' }));
    expect([...new URL(out.location ?? '').searchParams.keys()]).toEqual(['tenant', 'code', 'state', 'iss']);
  });

  it('OIDC Core §3.1.2.1 prompt=none when not signed in → login_required', async () => {
    await expectRedirectError(webRequest({ prompt: 'none' }), { error: 'login_required', description: 'The user is not signed in', state: 'st-1' });
  });

  it('OIDC Core §3.1.2.1 prompt=none when consent is needed → consent_required; once granted → a code', async () => {
    const { b } = await signedIn();
    const res = await b.fetch(webRequest({ prompt: 'none' }));
    expect(res.status).toBe(303);
    expect(redirectParams(res.headers.get('location'), CB)).toEqual({
      error: 'consent_required',
      error_description: 'The user must grant access',
      state: 'st-1',
      iss: s.issuer,
    });
    await grantAndRedeem(b, webRequest());
    const again = await b.fetch(webRequest({ prompt: 'none' }));
    expect(again.status).toBe(303);
    const params = redirectParams(again.headers.get('location'), CB);
    expect(Object.keys(params).sort()).toEqual(['code', 'iss', 'state']);
    expect(params['iss']).toBe(s.issuer);
  });

  /** A 303 to the sign-in page, coming back to the waiting request; returns the way back. */
  function signInDetour(res: Response): string {
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '', 'http://x');
    expect(location.pathname).toBe('/login');
    const back = location.searchParams.get('return_to') ?? '';
    expect(back).toMatch(/^\/oauth\/authorize\/resume\?interaction=tgl_[A-Za-z0-9_-]{43}$/);
    return back;
  }

  // --------------------------------------------------------------- Z3, Z4, Z11: login, consent

  it('Z3: not signed in → 303 to /login?return_to=…, and after sign-in back to the consent page (Z4)', async () => {
    const url = webRequest();
    const b = anonymous();
    const res = await b.fetch(url);
    const resume = signInDetour(res);

    const email = `user${++n}@example.com`;
    await s.createUser(email);
    const login = await b.login(email, DEFAULT_PASSWORD, resume);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(resume);

    const page = await b.fetch(resume);
    const body = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(body).toContain('Web App wants to access your account');
    expect(body).toContain('Syncs your files');
    expect(body).toContain('Website: https://client.example/');
    expect(body).toContain(`Signed in as ${email}`);
    expect(body).toContain('See your basic profile (your user id and email address)');
    expect(body).toContain('See your email address');
    expect(body).toContain('name="decision" value="allow"');
    expect(body).toContain('name="decision" value="deny"');
  });

  it('RFC 6749 §10.12: the consent POST without a CSRF token, or with another browser\'s, is refused and yields no code', async () => {
    const { user, b } = await signedIn();
    const page = await b.fetch(webRequest());
    const body = await page.text();
    const request = hiddenField(body, 'authorization_request');
    const other = anonymous();
    const foreign = hiddenField(await (await other.fetch('/login')).text(), 'csrf');
    expect(foreign).not.toBe(hiddenField(body, 'csrf'));
    for (const csrf of [null, '', foreign, 'x'.repeat(32)]) {
      const res = await b.postForm('/oauth/authorize', [
        ...(csrf === null ? [] : [['csrf', csrf] as const]),
        ['authorization_request', request],
        ['scope', 'profile'],
        ['decision', 'allow'],
      ]);
      await expectPage(res, 'invalid_request', 'The form has expired or was not sent by this site. Go back and try again.', 403);
    }
    // The attacker's own browser with its own token but no session: no code either.
    const mine = hiddenField(await (await other.fetch('/login')).text(), 'csrf');
    const res = await other.postForm('/oauth/authorize', [['csrf', mine], ['authorization_request', request], ['decision', 'allow']]);
    signInDetour(res);
    expect(await s.ctx.storage.consents.get(user.id, web.client.clientId)).toBeNull();
  });

  it('Z9: a consent POST whose request was tampered with (redirect URI swapped) → page, no Location, no code', async () => {
    const { b } = await signedIn();
    const body = await (await b.fetch(webRequest())).text();
    const csrf = hiddenField(body, 'csrf');
    const request = hiddenField(body, 'authorization_request').replace(encodeURIComponent(CB), encodeURIComponent('https://evil.example/cb'));
    expect(request).toContain('evil.example');
    const res = await b.postForm('/oauth/authorize', [['csrf', csrf], ['authorization_request', request], ['scope', 'profile'], ['decision', 'allow']]);
    await expectPage(res, 'invalid_request', NOT_REGISTERED);
  });

  it('Z4: Deny → 303 to the redirect URI with error=access_denied, state and iss; nothing remembered', async () => {
    const { user, b } = await signedIn();
    const out = await authorize(b, webRequest(), { decision: 'deny' });
    expect(out.status).toBe(303);
    expect(redirectParams(out.location, CB)).toEqual({
      error: 'access_denied',
      error_description: 'The user denied the request',
      state: 'st-1',
      iss: s.issuer,
    });
    expect(await s.ctx.storage.consents.get(user.id, web.client.clientId)).toBeNull();
  });

  it('Z1: Allow → 303 with exactly code, state and iss (RFC 9207); the code redeems once', async () => {
    const { b } = await signedIn();
    const out = await authorize(b, webRequest());
    expect(out.status).toBe(303);
    const params = redirectParams(out.location, CB);
    expect(Object.keys(params).sort()).toEqual(['code', 'iss', 'state']);
    expect(params['state']).toBe('st-1');
    expect(params['iss']).toBe(s.issuer);
    expect(params['code']).toMatch(/^tgo_[A-Za-z0-9_-]{43}$/);
    const tok = await redeem(web, params['code'] ?? '');
    expect(tok.status).toBe(200);
    expect(tok.json['scope']).toBe('profile email');
  });

  it('Z11: untick one scope → the token carries only the ticked scope', async () => {
    const { b } = await signedIn();
    const out = await authorize(b, webRequest(), { scopes: ['email'] });
    const tok = await redeem(web, redirectParams(out.location, CB)['code'] ?? '');
    expect(tok.status).toBe(200);
    expect(tok.json['scope']).toBe('email');
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${String(tok.json['access_token'])}` } });
    expect(me.status).toBe(403);
    expect(await me.json()).toEqual({ error: 'insufficient_scope', error_description: 'This endpoint requires the scope: profile' });
  });

  it('Z11: a scope ticked on the form but not requested is never granted', async () => {
    const { b } = await signedIn();
    const out = await authorize(b, webRequest({ scope: 'profile' }), { scopes: ['profile', 'email', 'admin'] });
    const tok = await redeem(web, redirectParams(out.location, CB)['code'] ?? '');
    expect(tok.json['scope']).toBe('profile');
  });

  it('Z11: unticking every scope is a denial', async () => {
    const { b } = await signedIn();
    const out = await authorize(b, webRequest(), { scopes: [] });
    expect(redirectParams(out.location, CB)).toEqual({
      error: 'access_denied',
      error_description: 'The user granted no scope',
      state: 'st-1',
      iss: s.issuer,
    });
  });

  // ------------------------------------------------------------------- Z5: remembered consent

  it('Z5: remembered consent skips the page; prompt=consent and approval_prompt=true|force show it again', async () => {
    const { b } = await signedIn();
    await grantAndRedeem(b, webRequest());
    const again = await b.fetch(webRequest());
    expect(again.status).toBe(303);
    expect(Object.keys(redirectParams(again.headers.get('location'), CB)).sort()).toEqual(['code', 'iss', 'state']);
    // A narrower request is covered by the consent too.
    const narrower = await b.fetch(webRequest({ scope: 'email' }));
    expect(narrower.status).toBe(303);
    const forcing: Array<Record<string, string>> = [{ prompt: 'consent' }, { approval_prompt: 'true' }, { approval_prompt: 'force' }];
    for (const extra of forcing) {
      const res = await b.fetch(webRequest(extra));
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('name="decision" value="allow"');
    }
    for (const extra of [{ approval_prompt: 'false' }, { approval_prompt: 'auto' }]) {
      const res = await b.fetch(webRequest(extra));
      expect(res.status).toBe(303);
    }
  });

  it('Z5: a silent approval for fewer scopes does not shrink what the user granted', async () => {
    const { b } = await signedIn();
    await grantAndRedeem(b, webRequest());
    const narrow = await b.fetch(webRequest({ scope: 'email' }));
    expect(narrow.status).toBe(303);
    const wide = await b.fetch(webRequest());
    expect(wide.status).toBe(303);
    const code = redirectParams(wide.headers.get('location'), CB)['code'] ?? '';
    expect((await redeem(web, code)).json['scope']).toBe('profile email');
  });

  it('Z5: a silent approval leaves the remembered consent as it was and records no new grant', async () => {
    const { b, user } = await signedIn();
    await grantAndRedeem(b, webRequest());
    const before = await s.ctx.storage.consents.get(user.id, web.client.clientId);
    const grants = async () => (await s.ctx.storage.audit.list()).filter((e) => e.type === 'consent.granted' && e.actorUserId === user.id).length;
    expect(before).not.toBeNull();
    expect(await grants()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const scope of ['profile email', 'email']) {
      const res = await b.fetch(webRequest({ scope }));
      expect(res.status).toBe(303);
      await redeem(web, redirectParams(res.headers.get('location'), CB)['code'] ?? '');
    }
    const after = await s.ctx.storage.consents.get(user.id, web.client.clientId);
    // Same scope, same "granted"/"updated" dates, and the same last use: the redemptions came
    // within the minute of the first one, and the last use is recorded to the minute (the
    // storage contract checks that a later redemption moves it).
    expect(before?.lastUsedAt).not.toBeNull();
    expect(after).toEqual(before);
    expect(await grants()).toBe(1);
  });

  it('Z5/Z11: a scope unticked on a later consent page is no longer remembered', async () => {
    const { b } = await signedIn();
    await grantAndRedeem(b, webRequest());
    const out = await authorize(b, webRequest({ prompt: 'consent' }), { scopes: ['profile'] });
    expect((await redeem(web, redirectParams(out.location, CB)['code'] ?? '')).json['scope']).toBe('profile');
    const res = await b.fetch(webRequest());
    expect(res.status).toBe(200);
    expect((await b.fetch(webRequest({ scope: 'profile' }))).status).toBe(303);
  });

  it('Z5: a request for more than was granted shows the page again', async () => {
    const { b } = await signedIn();
    await grantAndRedeem(b, webRequest({ scope: 'profile' }));
    const res = await b.fetch(webRequest());
    expect(res.status).toBe(200);
  });

  it("Z5: after the application's scopes change, the page is shown again", async () => {
    const app = await s.createApp({ name: 'Changing', redirectUris: [CB], scopes: ['profile'] });
    const { b } = await signedIn();
    const url = authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, scope: 'profile', state: 'x' });
    await grantAndRedeem(b, url, app);
    expect((await b.fetch(url)).status).toBe(303);
    await s.ctx.storage.clients.update(app.client.clientId, { scopes: ['profile', 'email'] }, Date.now());
    const res = await b.fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('name="decision" value="allow"');
    // And prompt=none cannot skip it.
    const none = await b.fetch(`${url}&prompt=none`);
    expect(redirectParams(none.headers.get('location'), CB)['error']).toBe('consent_required');
  });

  // ------------------------------------------------------------ Z6: replace_existing_token

  it('Z6: replace_existing_token=true skips the page; the previous tokens are revoked when the new code is redeemed, not by the GET (issue #15 §7)', async () => {
    const { b } = await signedIn();
    const first = await grantAndRedeem(b, webRequest());
    expect(await apiStatus(first['access_token'])).toBe(200);
    const res = await b.fetch(webRequest({ replace_existing_token: 'true' }));
    expect(res.status).toBe(303);
    const code = redirectParams(res.headers.get('location'), CB)['code'] ?? '';
    // A link from any site that ends here has destroyed nothing.
    expect(await apiStatus(first['access_token'])).toBe(200);
    const second = await redeem(web, code);
    expect(second.status).toBe(200);
    expect(await apiStatus(second.json['access_token'])).toBe(200);
    expect(await apiStatus(first['access_token'])).toBe(401);
    const refresh = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: String(first['refresh_token']) },
      { authorization: basic(web.client.clientId, web.clientSecret ?? '') },
    );
    expect({ status: refresh.status, json: refresh.json }).toEqual({
      status: 400,
      json: { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' },
    });
    // The new grant's refresh token is not among the replaced ones.
    const again = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: String(second.json['refresh_token']) },
      { authorization: basic(web.client.clientId, web.clientSecret ?? '') },
    );
    expect(again.status).toBe(200);
  });

  it('Z6: with approval_prompt=true the page is shown, and nothing is revoked until the user allows', async () => {
    const { b } = await signedIn();
    const first = await grantAndRedeem(b, webRequest());
    const url = webRequest({ replace_existing_token: 'true', approval_prompt: 'true' });
    const page = await b.fetch(url);
    await page.arrayBuffer();
    expect(page.status).toBe(200);
    expect(await apiStatus(first['access_token'])).toBe(200);
    // Deny: the old tokens stay.
    const denied = await authorize(b, url, { decision: 'deny' });
    expect(redirectParams(denied.location, CB)['error']).toBe('access_denied');
    expect(await apiStatus(first['access_token'])).toBe(200);
    // Allow, and the application redeems: replaced.
    const second = await grantAndRedeem(b, url);
    expect(await apiStatus(first['access_token'])).toBe(401);
    expect(await apiStatus(second['access_token'])).toBe(200);
  });

  it('Z6: the first time (no earlier consent), replace_existing_token is ignored', async () => {
    const app = await s.createApp({ name: 'Both', redirectUris: [CB], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token', 'password'] });
    const { user, b } = await signedIn();
    const viaPassword = await postForm(
      `${s.url}/oauth/token`,
      { grant_type: 'password', username: user.email, password: DEFAULT_PASSWORD },
      { authorization: basic(app.client.clientId, app.clientSecret ?? '') },
    );
    expect(viaPassword.status).toBe(200);
    const url = authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, state: 'x', replace_existing_token: 'true' });
    const res = await b.fetch(url);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    const out = await authorize(b, url);
    expect(out.status).toBe(303);
    expect(await apiStatus(viaPassword.json['access_token'])).toBe(200);
  });

  // ---------------------------------------------------------------------------- Z7, Z8

  it('Z7: return_to is passed back unchanged, on the consent path and the remembered path', async () => {
    const { b } = await signedIn();
    const returnTo = 'https://provider.example/after?x=1&y=a b/é%2F#frag';
    const out = await authorize(b, webRequest({ return_to: returnTo }));
    const p1 = redirectParams(out.location, CB);
    expect(p1['return_to']).toBe(returnTo);
    expect(Object.keys(p1).sort()).toEqual(['code', 'iss', 'return_to', 'state']);
    const res = await b.fetch(webRequest({ return_to: returnTo }));
    expect(redirectParams(res.headers.get('location'), CB)['return_to']).toBe(returnTo);
  });

  it('Z8: implicit for an application allowed it: token in the fragment, no refresh token, iss and state', async () => {
    const app = await s.createApp({ name: 'SPA', public: true, redirectUris: [CB], scopes: ['profile'], grantTypes: ['implicit'] });
    const { b } = await signedIn();
    const url = authz({ response_type: 'token', client_id: app.client.clientId, redirect_uri: CB, scope: 'profile', state: 'imp' });
    const out = await authorize(b, url);
    expect(out.status).toBe(303);
    const params = redirectParams(out.location, CB, 'fragment');
    expect(Object.keys(params).sort()).toEqual(['access_token', 'expires_in', 'iss', 'scope', 'state', 'token_type']);
    expect(params).toMatchObject({ token_type: 'Bearer', expires_in: '3600', scope: 'profile', state: 'imp', iss: s.issuer });
    expect(params['access_token']).toMatch(/^tga_[A-Za-z0-9_-]{43}$/);
    expect(await apiStatus(params['access_token'])).toBe(200);
    // RFC 6749 §4.2.2.1: errors for response_type=token go in the fragment too.
    const err = await b.fetch(authz({ response_type: 'token', client_id: app.client.clientId, redirect_uri: CB, scope: 'admin', state: 'imp' }));
    expect(redirectParams(err.headers.get('location'), CB, 'fragment')).toEqual({
      error: 'invalid_scope',
      error_description: 'Scope not allowed for this client: admin',
      state: 'imp',
      iss: s.issuer,
    });
    // Not allowed the code grant.
    const code = await b.fetch(authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'imp' }));
    expect(redirectParams(code.headers.get('location'), CB)).toEqual({
      error: 'unauthorized_client',
      error_description: 'This application is not allowed the authorization code grant',
      state: 'imp',
      iss: s.issuer,
    });
  });

  it('Z2: plain PKCE is accepted only when TOLLGATE_ALLOW_PLAIN_PKCE is set', async () => {
    const other = await startTestServer({ env: { TOLLGATE_ALLOW_PLAIN_PKCE: 'true' } });
    try {
      await other.createUser('plain@example.com');
      const app = await other.createApp({ name: 'Plain', public: true, redirectUris: [CB], scopes: ['profile'] });
      const b = new Browser(other.url);
      await b.login('plain@example.com', DEFAULT_PASSWORD);
      const out = await authorize(b, authz({ response_type: 'code', client_id: app.client.clientId, redirect_uri: CB, code_challenge: VERIFIER, code_challenge_method: 'plain' }));
      const code = new URL(out.location ?? '').searchParams.get('code') ?? '';
      const tok = await postForm(`${other.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: CB, client_id: app.client.clientId, code_verifier: VERIFIER });
      expect(tok.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  // ------------------------------------------------------------------- login form (Z3, O7)

  async function failedLogin(email: string, password: string): Promise<{ status: number; alert: string }> {
    const res = await anonymous().login(email, password);
    const body = await res.text();
    return { status: res.status, alert: /<p class="error" role="alert">([^<]*)<\/p>/.exec(body)?.[1] ?? '' };
  }

  it('O7: a wrong password and an unknown email get the identical status and message', async () => {
    const user = await s.createUser(`user${++n}@example.com`);
    const wrong = await failedLogin(user.email, 'not the password');
    const unknown = await failedLogin('nobody@example.com', DEFAULT_PASSWORD);
    expect(wrong).toEqual({ status: 401, alert: escapeHtml(LOGIN_ERROR) });
    expect(unknown).toEqual(wrong);
  });

  it('O7: after TOLLGATE_LOGIN_MAX_FAILURES failures even the right password fails until the lockout ends', async () => {
    const user = await s.createUser(`user${++n}@example.com`);
    for (let i = 0; i < 3; i++) expect(await failedLogin(user.email, `wrong-${i}`)).toEqual({ status: 401, alert: escapeHtml(LOGIN_ERROR) });
    expect(await failedLogin(user.email, DEFAULT_PASSWORD)).toEqual({ status: 401, alert: escapeHtml(LOGIN_ERROR) });
    const b = new Browser(s.url);
    await new Promise((r) => setTimeout(r, 2_100));
    const ok = await b.login(user.email, DEFAULT_PASSWORD, '/after');
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/after');
  });
});
