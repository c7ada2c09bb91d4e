/**
 * Token exchange (RFC 8693; docs/token-exchange.md) over HTTP, on SQLite and PostgreSQL: the
 * happy path through openid-client, `act` in introspection and in JWT access tokens (nested),
 * the per-application policy (audiences, impersonation, refresh tokens), the addressing rule
 * (no laundering of a token meant for someone else), scope and lifetime never beyond the subject
 * token's, ID tokens as subject tokens, every error of §2.2.2 / RFC 6749 §5.2 with its exact body,
 * and revocation reaching what was exchanged (disconnection, refresh-token revocation and reuse,
 * the administrator's revocations, family-less subject tokens).
 */
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/oauth/crypto.js';
import { createResourceServer, createScope } from '../../src/services/directory.js';
import type { CreatedApp } from '../../src/services/apps.js';
import type { TokenRow, UserRow } from '../../src/storage/types.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, describeEachDb, hiddenField, postForm, type TestServer } from '../helpers/server.js';

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const IDT = 'urn:ietf:params:oauth:token-type:id_token';
const RT = 'urn:ietf:params:oauth:token-type:refresh_token';
const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';
const REDIRECT = 'https://rp.example/cb';

type Reply = { status: number; headers: Headers; json: Record<string, unknown> };
type Err = { error: string; error_description: string };

const SUBJECT_INVALID: Err = { error: 'invalid_grant', error_description: 'The subject token is invalid, expired or revoked' };
const NOT_ADDRESSED: Err = { error: 'invalid_grant', error_description: 'The subject token is not addressed to this application' };

describeEachDb('token exchange (RFC 8693)', (start) => {
  let s: TestServer;
  let alice: UserRow & { readonly email: string };
  let browser: Browser;
  /** Subject tokens: a person's grant with refresh tokens (web), without (legacy), long-lived (forever), an application's (svc2). */
  let web: CreatedApp;
  let legacy: CreatedApp;
  let forever: CreatedApp;
  let svc2: CreatedApp;
  /** Exchangers: gw (opaque, actor required, refresh allowed), gwJwt (JWT, impersonation), other, rp (OpenID Connect). */
  let gw: CreatedApp;
  let gwJwt: CreatedApp;
  let other: CreatedApp;
  let noPolicy: CreatedApp;
  let noGrant: CreatedApp;
  let rp: CreatedApp;
  let admin: string;

  beforeAll(async () => {
    s = await start();
    alice = await s.createUser('alice@example.com');
    browser = new Browser(s.url);
    expect((await browser.login(alice.email, DEFAULT_PASSWORD)).status).toBe(303);
    await createResourceServer(s.ctx, { identifier: ORDERS, name: 'Orders' });
    await createResourceServer(s.ctx, { identifier: BILLING, name: 'Billing' });
    await createScope(s.ctx, { name: 'billing:read', description: 'Read invoices', resourceServer: BILLING });
    const person = ['profile', 'email'];
    web = await s.createApp({ name: 'Web', grantTypes: ['password', 'refresh_token'], scopes: person, accessTtl: 600 });
    legacy = await s.createApp({ name: 'Legacy', grantTypes: ['password'], scopes: person });
    forever = await s.createApp({ name: 'Forever', grantTypes: ['password'], scopes: person, accessTtl: null });
    svc2 = await s.createApp({ name: 'Service 2', grantTypes: ['client_credentials'], scopes: ['profile'] });
    gw = await s.createApp({
      name: 'Gateway',
      grantTypes: [TE, 'client_credentials', 'refresh_token'],
      scopes: ['profile', 'email', 'billing:read'],
      tokenExchange: { audiences: [BILLING], impersonation: false, refreshTokens: true },
    });
    gwJwt = await s.createApp({
      name: 'Gateway JWT',
      grantTypes: [TE, 'client_credentials'],
      scopes: person,
      tokenFormat: 'jwt',
      tokenExchange: { audiences: [BILLING, ORDERS], impersonation: true, refreshTokens: false },
    });
    other = await s.createApp({ name: 'Other', grantTypes: [TE, 'client_credentials'], scopes: person, tokenExchange: { audiences: [BILLING], impersonation: true } });
    noPolicy = await s.createApp({ name: 'No policy', grantTypes: [TE], scopes: person });
    noGrant = await s.createApp({ name: 'No grant', grantTypes: ['client_credentials'], scopes: person, tokenExchange: { audiences: [BILLING], impersonation: true } });
    rp = await s.createApp({ name: 'RP', grantTypes: ['authorization_code', TE], redirectUris: [REDIRECT], scopes: person, tokenExchange: { audiences: [BILLING], impersonation: true } });
    // The gateways serve the orders API: tokens for it are addressed to them.
    await s.ctx.storage.resourceServers.setIntrospectors(ORDERS, [gw.client.clientId, gwJwt.client.clientId]);
    const adminApp = await s.createApp({ name: 'Admin script', grantTypes: ['client_credentials'], scopes: ['admin'], actsAsUserId: (await s.ctx.storage.users.byEmail('admin@localhost'))?.id ?? null });
    admin = String((await token(adminApp, { grant_type: 'client_credentials', scope: 'admin' })).json['access_token']);
  });
  afterAll(async () => s?.close());

  const auth = (app: CreatedApp): Record<string, string> => ({ authorization: basic(app.client.clientId, app.clientSecret ?? '') });

  function token(app: CreatedApp, fields: Record<string, string>): Promise<Reply> {
    return postForm(`${s.url}/oauth/token`, fields, auth(app));
  }

  function exchange(app: CreatedApp, fields: Record<string, string>): Promise<Reply> {
    return token(app, { grant_type: TE, ...fields });
  }

  /** alice's token from a password grant (with `resource`), and its refresh token if the app gets one. */
  async function personToken(app: CreatedApp, resource: string | null = ORDERS, scope = 'profile email'): Promise<{ access: string; refresh: string | undefined }> {
    const r = await token(app, { grant_type: 'password', username: alice.email, password: DEFAULT_PASSWORD, scope, ...(resource ? { resource } : {}) });
    expect(r.status).toBe(200);
    const refresh = r.json['refresh_token'];
    return { access: String(r.json['access_token']), refresh: typeof refresh === 'string' ? refresh : undefined };
  }

  async function ccToken(app: CreatedApp, extra: Record<string, string> = {}): Promise<string> {
    const r = await token(app, { grant_type: 'client_credentials', ...extra });
    expect(r.status).toBe(200);
    return String(r.json['access_token']);
  }

  async function introspect(app: CreatedApp, value: string): Promise<Record<string, unknown>> {
    const r = await postForm(`${s.url}/oauth/introspect`, { token: value }, auth(app));
    expect(r.status).toBe(200);
    return r.json;
  }

  async function active(app: CreatedApp, value: string): Promise<boolean> {
    return (await introspect(app, value))['active'] === true;
  }

  async function row(value: string): Promise<TokenRow> {
    const hash = value.split('.').length === 3 ? sha256(String(decodeJwt(value).jti)) : sha256(value);
    const found = await s.ctx.storage.tokens.byHash(hash);
    if (!found) throw new Error('no such token row');
    return found;
  }

  function expectError(r: Reply, status: number, body: Err): void {
    expect({ status: r.status, json: r.json }).toEqual({ status, json: body });
    expect(r.headers.get('cache-control')).toBe('no-store');
  }

  /** gw exchanges alice's web token for billing, acting as itself (its client-credentials token). */
  async function gwExchange(subject: string, extra: Record<string, string> = {}): Promise<Reply> {
    return exchange(gw, { subject_token: subject, subject_token_type: AT, actor_token: await ccToken(gw), actor_token_type: AT, audience: BILLING, ...extra });
  }

  // ------------------------------------------------------------------------------------- happy path

  it('openid-client: an exchange with an actor token; act in introspection; never outlives the subject', async () => {
    const config = await oidc.discovery(new URL(s.issuer), gw.client.clientId, gw.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().grant_types_supported).toContain(TE);
    const subject = await personToken(web);
    const actor = await ccToken(gw);
    const out = await oidc.genericGrantRequest(config, TE, {
      subject_token: subject.access,
      subject_token_type: AT,
      actor_token: actor,
      actor_token_type: AT,
      resource: BILLING,
      scope: 'profile',
    });
    expect(out.issued_token_type).toBe(AT);
    expect(out.token_type).toBe('bearer');
    expect(out.scope).toBe('profile');
    expect(out.refresh_token).toBeUndefined();
    // web's tokens live 600 s, the gateway's 3600 s: the exchanged one ends with the subject.
    expect(out.expires_in).toBeGreaterThanOrEqual(598);
    expect(out.expires_in).toBeLessThanOrEqual(600);
    expect((await row(out.access_token)).expiresAt).toBe((await row(subject.access)).expiresAt);
    expect(await introspect(gw, out.access_token)).toEqual({
      active: true,
      scope: 'profile',
      client_id: gw.client.clientId,
      username: alice.email,
      token_type: 'Bearer',
      exp: Math.floor(((await row(subject.access)).expiresAt ?? 0) / 1000),
      iat: expect.any(Number),
      sub: alice.id,
      aud: BILLING,
      iss: s.issuer,
      act: { sub: gw.client.clientId },
    });
  });

  it('§2.2.1: the exact response members, with Cache-Control: no-store', async () => {
    const r = await gwExchange((await personToken(web)).access);
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(r.json).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
    expect(r.json['issued_token_type']).toBe(AT);
    expect(r.json['token_type']).toBe('Bearer');
    expect(r.json['access_token']).toMatch(/^tga_[A-Za-z0-9_-]{43}$/);
    // Default scope: the subject's, within what the gateway holds and the target accepts.
    expect(r.json['scope']).toBe('profile email');
  });

  it('§4.1: act in a JWT access token, and nested when the actor (or the subject) was itself acting', async () => {
    const jwks = createLocalJWKSet((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet);
    const subject = await personToken(web);
    const actor = await ccToken(gwJwt);
    const r = await exchange(gwJwt, { subject_token: subject.access, subject_token_type: AT, actor_token: actor, actor_token_type: AT, audience: BILLING, scope: 'email' });
    expect(r.status).toBe(200);
    const jwt = String(r.json['access_token']);
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, { issuer: s.issuer, audience: BILLING, typ: 'at+jwt' });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: alice.id, client_id: gwJwt.client.clientId, scope: 'email', act: { sub: gwJwt.client.clientId } });
    expect(payload.exp).toBe(Math.floor(((await row(subject.access)).expiresAt ?? 0) / 1000));

    // gwJwt's token for orders, exchanged again by gw with it as actor token: the actor's own act is nested.
    const forOrders = await exchange(gwJwt, { subject_token: subject.access, subject_token_type: AT, actor_token: actor, actor_token_type: AT, audience: ORDERS, scope: 'profile' });
    expect(forOrders.status).toBe(200);
    const delegated = String(forOrders.json['access_token']);
    const nested = await exchange(gw, { subject_token: subject.access, subject_token_type: AT, actor_token: delegated, actor_token_type: AT, audience: BILLING });
    expect(nested.status).toBe(200);
    expect((await introspect(gw, String(nested.json['access_token'])))['act']).toEqual({ sub: alice.id, act: { sub: gwJwt.client.clientId } });

    // An exchanged token as the subject: the chain it carries is kept beneath the new actor.
    const first = await gwExchange(subject.access);
    const again = await gwExchange(String(first.json['access_token']));
    expect(again.status).toBe(200);
    expect((await introspect(gw, String(again.json['access_token'])))['act']).toEqual({ sub: gw.client.clientId, act: { sub: gw.client.clientId } });
  });

  it('the grant type is advertised in both metadata documents', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = (await (await fetch(`${s.url}${path}`)).json()) as Record<string, unknown>;
      expect(doc['grant_types_supported']).toContain(TE);
    }
  });

  // ------------------------------------------------------------------------------- impersonation

  it('impersonation: refused without an actor token unless the policy allows it; allowed, no act', async () => {
    const subject = await personToken(web);
    expectError(await exchange(gw, { subject_token: subject.access, subject_token_type: AT, audience: BILLING }), 400, {
      error: 'invalid_request',
      error_description: '"actor_token" is required: this application\'s token-exchange policy does not allow impersonation',
    });
    const r = await exchange(gwJwt, { subject_token: subject.access, subject_token_type: AT, audience: BILLING });
    expect(r.status).toBe(200);
    const payload = decodeJwt(String(r.json['access_token']));
    expect(payload.sub).toBe(alice.id);
    expect(payload).not.toHaveProperty('act');
    const intro = await introspect(gwJwt, String(r.json['access_token']));
    expect(intro['active']).toBe(true);
    expect(intro).not.toHaveProperty('act');
  });

  // ------------------------------------------------------------------------------ scope and lifetime

  it('scope: narrowed on request, never wider than the subject token (invalid_scope)', async () => {
    const subject = await personToken(web, ORDERS, 'profile');
    const narrow = await gwExchange(subject.access, { scope: 'profile' });
    expect(narrow.status).toBe(200);
    expect(narrow.json['scope']).toBe('profile');
    expectError(await gwExchange(subject.access, { scope: 'profile email' }), 400, {
      error: 'invalid_scope',
      error_description: "The requested scope exceeds the subject token's scope: email",
    });
    // gw holds billing:read, but the subject token does not carry it.
    const wide = await personToken(web, ORDERS, 'profile email');
    expectError(await gwExchange(wide.access, { scope: 'email profile billing:read' }), 400, {
      error: 'invalid_scope',
      error_description: "The requested scope exceeds the subject token's scope: billing:read",
    });
    expectError(await gwExchange(wide.access, { scope: 'pro"file' }), 400, { error: 'invalid_scope', error_description: 'Malformed scope "pro"file"' });
  });

  it('scope: refused when nothing of the subject is allowed to the exchanging application', async () => {
    // svc2's token carries `profile`; once gwJwt no longer holds it, nothing is left to exchange.
    const cc = await ccToken(svc2, { resource: ORDERS });
    expect((await exchange(gwJwt, { subject_token: cc, subject_token_type: AT, audience: BILLING })).json['scope']).toBe('profile');
    await s.ctx.storage.clients.update(gwJwt.client.clientId, { scopes: ['email'] }, Date.now());
    try {
      expectError(await exchange(gwJwt, { subject_token: cc, subject_token_type: AT, audience: BILLING }), 400, {
        error: 'invalid_scope',
        error_description: "None of the subject token's scopes is allowed for this application and audience",
      });
      expectError(await exchange(gwJwt, { subject_token: cc, subject_token_type: AT, audience: BILLING, scope: 'profile' }), 400, {
        error: 'invalid_scope',
        error_description: 'Scope not allowed for this client: profile',
      });
    } finally {
      await s.ctx.storage.clients.update(gwJwt.client.clientId, { scopes: ['profile', 'email'] }, Date.now());
    }
  });

  it('lifetime: a long-lived subject gives the exchanging application its normal lifetime', async () => {
    const subject = await personToken(forever);
    expect((await row(subject.access)).expiresAt).toBeNull();
    const r = await gwExchange(subject.access);
    expect(r.status).toBe(200);
    expect(r.json['expires_in']).toBe(3600);
  });

  // ---------------------------------------------------------------------------------- audiences

  it('audience policy: allowed by audience or resource; refused (invalid_target) otherwise', async () => {
    const subject = (await personToken(web)).access;
    expect((await gwExchange(subject, { audience: BILLING })).status).toBe(200);
    const byResource = await exchange(gwJwt, { subject_token: subject, subject_token_type: AT, resource: ORDERS });
    expect(byResource.status).toBe(200);
    expect(decodeJwt(String(byResource.json['access_token'])).aud).toBe(ORDERS);
    // Only one audience in gw's policy: it is the default.
    const defaulted = await exchange(gw, { subject_token: subject, subject_token_type: AT, actor_token: await ccToken(gw), actor_token_type: AT });
    expect(defaulted.status).toBe(200);
    expect((await introspect(gw, String(defaulted.json['access_token'])))['aud']).toBe(BILLING);

    const notAllowed: Err = { error: 'invalid_target', error_description: 'This application may not obtain tokens for this audience' };
    expectError(await gwExchange(subject, { audience: ORDERS }), 400, notAllowed);
    expectError(await gwExchange(subject, { audience: 'https://nowhere.example' }), 400, notAllowed);
    expectError(await gwExchange(subject, { audience: `${s.issuer}/api` }), 400, notAllowed);
    // Issue #13's rule for resource indicators: scheme and host case and the default port only; the token names the policy's form.
    const upper = await gwExchange(subject, { audience: BILLING.toUpperCase() });
    expect(upper.status).toBe(200);
    expect((await introspect(gw, String(upper.json['access_token'])))['aud']).toBe(BILLING);
    expectError(await gwExchange(subject, { audience: `${BILLING}/` }), 400, notAllowed);
    expectError(await exchange(gwJwt, { subject_token: subject, subject_token_type: AT }), 400, { error: 'invalid_target', error_description: 'Name the target with "audience" or "resource"' });
    expectError(await exchange(gwJwt, { subject_token: subject, subject_token_type: AT, audience: BILLING, resource: ORDERS }), 400, {
      error: 'invalid_target',
      error_description: '"resource" and "audience" name different targets; a token has one audience',
    });
  });

  it('audience policy: an audience whose resource server was deleted since is unknown (invalid_target)', async () => {
    const gone = 'https://gone.example';
    await createResourceServer(s.ctx, { identifier: gone, name: 'Gone' });
    const app = await s.createApp({ name: 'Gone user', grantTypes: [TE], scopes: ['profile'], tokenExchange: { audiences: [gone], impersonation: true } });
    await s.ctx.storage.resourceServers.delete(gone);
    const subject = await ccToken(svc2, { resource: ORDERS });
    await s.ctx.storage.resourceServers.setIntrospectors(ORDERS, [gw.client.clientId, gwJwt.client.clientId, app.client.clientId]);
    expectError(await exchange(app, { subject_token: subject, subject_token_type: AT }), 400, { error: 'invalid_target', error_description: 'Unknown audience' });
  });

  // --------------------------------------------------------------------------------- addressing

  it('laundering refused: a token issued to another application for another audience is invalid_grant', async () => {
    // web's token for orders is addressed to the gateways, not to `other`.
    const forOrders = (await personToken(web)).access;
    expectError(await exchange(other, { subject_token: forOrders, subject_token_type: AT, audience: BILLING }), 400, NOT_ADDRESSED);
    // web's token for Tollgate's own API is addressed to nobody but web.
    const forApi = (await personToken(web, null)).access;
    expectError(await gwExchange(forApi), 400, NOT_ADDRESSED);
    // An actor token is held to the same rule.
    expectError(await exchange(other, { subject_token: await ccToken(other), subject_token_type: AT, actor_token: forOrders, actor_token_type: AT }), 400, {
      error: 'invalid_grant',
      error_description: 'The actor token is not addressed to this application',
    });
    // Its own token is always addressed to it (an application's own token as the subject: sub is that application).
    const own = await exchange(other, { subject_token: await ccToken(other), subject_token_type: AT });
    expect(own.status).toBe(200);
    expect((await introspect(other, String(own.json['access_token'])))['sub']).toBe(other.client.clientId);
  });

  it('revoked, expired, unknown and refresh tokens are invalid_grant as subject tokens', async () => {
    const revoked = (await personToken(web)).access;
    expect((await postForm(`${s.url}/oauth/revoke`, { token: revoked }, auth(web))).status).toBe(200);
    expectError(await gwExchange(revoked), 400, SUBJECT_INVALID);

    const expired = `tga_${'e'.repeat(43)}`;
    const now = Date.now();
    await s.ctx.storage.tokens.insert({
      tokenHash: sha256(expired), kind: 'access', format: 'opaque', clientId: web.client.clientId, userId: alice.id, scope: 'profile',
      audience: ORDERS, familyId: null, parentHash: null, expiresAt: now - 1000, createdAt: now - 60_000,
    });
    expectError(await gwExchange(expired), 400, SUBJECT_INVALID);
    expectError(await gwExchange(`tga_${'u'.repeat(43)}`), 400, SUBJECT_INVALID);
    expectError(await gwExchange('not a token'), 400, SUBJECT_INVALID);

    const { refresh } = await personToken(web);
    expectError(await gwExchange(refresh ?? ''), 400, SUBJECT_INVALID);
    expectError(await gwExchange(refresh ?? '', { subject_token_type: RT }), 400, { error: 'invalid_request', error_description: 'Refresh tokens are not accepted as subject tokens' });

    // A disabled person's token is not active either.
    const bob = await s.createUser('bob@example.com');
    const bobs = await token(web, { grant_type: 'password', username: bob.email, password: DEFAULT_PASSWORD, resource: ORDERS });
    await s.ctx.storage.users.update(bob.id, { disabled: true });
    expectError(await gwExchange(String(bobs.json['access_token'])), 400, SUBJECT_INVALID);
  });

  // ---------------------------------------------------------------------------------- ID tokens

  it('an ID token Tollgate signed for the exchanging application is a subject token; for anyone else it is not', async () => {
    const config = await oidc.discovery(new URL(s.issuer), rp.client.clientId, rp.clientSecret ?? '', undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce });
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(out.location ?? ''), { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
    const idToken = tokens.id_token ?? '';

    const exchanged = await oidc.genericGrantRequest(config, TE, { subject_token: idToken, subject_token_type: IDT, audience: BILLING });
    expect(exchanged.issued_token_type).toBe(AT);
    expect(exchanged.scope).toBe('profile');
    const intro = await introspect(rp, exchanged.access_token);
    expect(intro).toMatchObject({ active: true, sub: alice.id, aud: BILLING, scope: 'profile', exp: decodeJwt(idToken).exp });
    expect(intro).not.toHaveProperty('act');

    // The ID token names rp as its audience: gw may not exchange it, and it is no access token.
    expectError(await gwExchange(idToken, { subject_token_type: IDT }), 400, NOT_ADDRESSED);
    expectError(await exchange(rp, { subject_token: idToken, subject_token_type: AT, audience: BILLING }), 400, SUBJECT_INVALID);
    // An access token is no ID token, and a forged one fails its signature.
    expectError(await exchange(rp, { subject_token: tokens.access_token, subject_token_type: IDT, audience: BILLING }), 400, SUBJECT_INVALID);
    const [h, p] = idToken.split('.');
    expectError(await exchange(rp, { subject_token: `${h}.${p}.${'A'.repeat(86)}`, subject_token_type: IDT, audience: BILLING }), 400, SUBJECT_INVALID);
  });

  // ---------------------------------------------------------------------------------- refresh

  it('refresh tokens: only when asked and the policy allows; refreshed tokens keep act and the subject\'s end', async () => {
    const subject = await personToken(web);
    const plain = await gwExchange(subject.access);
    expect(plain.json).not.toHaveProperty('refresh_token');
    const r = await gwExchange(subject.access, { requested_token_type: RT });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'refresh_token', 'scope', 'token_type']);
    expect(r.json['issued_token_type']).toBe(AT);
    const subjectEnd = (await row(subject.access)).expiresAt;
    expect((await row(String(r.json['refresh_token']))).expiresAt).toBe(subjectEnd);

    const refreshed = await token(gw, { grant_type: 'refresh_token', refresh_token: String(r.json['refresh_token']) });
    expect(refreshed.status).toBe(200);
    const next = String(refreshed.json['access_token']);
    expect(await introspect(gw, next)).toMatchObject({ active: true, sub: alice.id, aud: BILLING, act: { sub: gw.client.clientId } });
    expect((await row(next)).expiresAt).toBe(subjectEnd);
    expect((await row(String(refreshed.json['refresh_token']))).expiresAt).toBe(subjectEnd);
    // Once the policy stops allowing refresh tokens, the next rotation ends the chain.
    await s.ctx.storage.clients.update(gw.client.clientId, { tokenExchange: { audiences: [BILLING], impersonation: false, refreshTokens: false } }, Date.now());
    try {
      const last = await token(gw, { grant_type: 'refresh_token', refresh_token: String(refreshed.json['refresh_token']) });
      expect(last.status).toBe(200);
      expect(last.json).not.toHaveProperty('refresh_token');
      expect((await introspect(gw, String(last.json['access_token'])))['act']).toEqual({ sub: gw.client.clientId });
    } finally {
      await s.ctx.storage.clients.update(gw.client.clientId, { tokenExchange: { audiences: [BILLING], impersonation: false, refreshTokens: true } }, Date.now());
    }

    expectError(await exchange(gwJwt, { subject_token: subject.access, subject_token_type: AT, audience: BILLING, requested_token_type: RT }), 400, {
      error: 'invalid_request',
      error_description: "This application's token-exchange policy does not allow refresh tokens",
    });
    expectError(await gwExchange(subject.access, { requested_token_type: 'urn:ietf:params:oauth:token-type:jwt' }), 400, {
      error: 'invalid_request',
      error_description: `Unsupported requested_token_type: use ${AT} or ${RT}`,
    });
  });

  // ---------------------------------------------------------------------------------- errors

  it('§2.2.2 / RFC 6749 §5.2: every malformed request gets its exact error', async () => {
    const subject = (await personToken(web)).access;
    const actor = await ccToken(gw);
    const cases: Array<[Record<string, string>, Err]> = [
      [{ subject_token_type: AT }, { error: 'invalid_request', error_description: 'Missing required parameter "subject_token"' }],
      [{ subject_token: subject }, { error: 'invalid_request', error_description: 'Missing required parameter "subject_token_type"' }],
      [{ subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }, { error: 'invalid_request', error_description: `Unsupported subject_token_type: use ${AT} or ${IDT}` }],
      [{ subject_token: subject, subject_token_type: AT, actor_token: actor }, { error: 'invalid_request', error_description: '"actor_token_type" is required with "actor_token"' }],
      [{ subject_token: subject, subject_token_type: AT, actor_token_type: AT }, { error: 'invalid_request', error_description: '"actor_token_type" must not be sent without "actor_token"' }],
      [{ subject_token: subject, subject_token_type: AT, actor_token: actor, actor_token_type: 'urn:x:unknown' }, { error: 'invalid_request', error_description: `Unsupported actor_token_type: use ${AT} or ${IDT}` }],
      [{ subject_token: subject, subject_token_type: AT, actor_token: 'nope', actor_token_type: AT }, { error: 'invalid_grant', error_description: 'The actor token is invalid, expired or revoked' }],
    ];
    for (const [fields, body] of cases) expectError(await exchange(gw, { audience: BILLING, ...fields }), 400, body);

    // Repeated parameters (RFC 6749 §3.2) and credentials in the query string (§2.3.1).
    const repeated = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth(gw) },
      body: `grant_type=${encodeURIComponent(TE)}&subject_token=a&subject_token=b&subject_token_type=${encodeURIComponent(AT)}`,
    });
    expect({ status: repeated.status, json: await repeated.json() }).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'Parameter "subject_token" must not be repeated' } });
    for (const name of ['subject_token', 'actor_token']) {
      const inQuery = await fetch(`${s.url}/oauth/token?${name}=${encodeURIComponent(subject)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth(gw) },
        body: new URLSearchParams({ grant_type: TE, subject_token_type: AT }).toString(),
      });
      expect({ status: inQuery.status, json: await inQuery.json() }).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'Credentials must not be sent in the query string' } });
    }
  });

  it('unauthorized_client: without the grant, without a policy, or as a public client; invalid_client without authentication', async () => {
    const subject = (await personToken(web)).access;
    const fields = { subject_token: subject, subject_token_type: AT, audience: BILLING };
    expectError(await exchange(noGrant, fields), 400, { error: 'unauthorized_client', error_description: `This application is not allowed the ${TE} grant` });
    expectError(await exchange(noPolicy, fields), 400, { error: 'unauthorized_client', error_description: 'An administrator has not set a token-exchange policy for this application' });
    // A public client cannot be given the grant, and one holding it anyway is refused.
    await expect(s.createApp({ name: 'Public', public: true, grantTypes: [TE], scopes: ['profile'] })).rejects.toThrow('Public applications cannot use token exchange (it needs client authentication)');
    const pub = await s.createApp({ name: 'Public', public: true, redirectUris: [REDIRECT], scopes: ['profile'] });
    await s.ctx.storage.clients.update(pub.client.clientId, { grantTypes: ['authorization_code', TE], tokenExchange: { audiences: [BILLING], impersonation: true, refreshTokens: false } }, Date.now());
    const r = await postForm(`${s.url}/oauth/token`, { grant_type: TE, client_id: pub.client.clientId, ...fields });
    expectError(r, 400, { error: 'unauthorized_client', error_description: `This application is not allowed the ${TE} grant` });
    const wrong = await postForm(`${s.url}/oauth/token`, { grant_type: TE, ...fields }, { authorization: basic(gw.client.clientId, 'wrong') });
    expect({ status: wrong.status, json: wrong.json }).toEqual({ status: 401, json: { error: 'invalid_client', error_description: 'Client authentication failed' } });
  });

  it('a policy without audiences, and refresh tokens for an application that does not receive them, are refused', async () => {
    const subject = await ccToken(other);
    const fields = { subject_token: subject, subject_token_type: AT };
    await s.ctx.storage.clients.update(other.client.clientId, { tokenExchange: { audiences: [], impersonation: true, refreshTokens: true } }, Date.now());
    try {
      expectError(await exchange(other, fields), 400, { error: 'invalid_target', error_description: "This application's token-exchange policy allows no audience" });
      // `other` does not hold the refresh_token grant: the policy alone is not enough.
      expectError(await exchange(other, { ...fields, audience: BILLING, requested_token_type: RT }), 400, {
        error: 'invalid_request',
        error_description: 'This application does not receive refresh tokens (it needs the refresh_token grant with refresh tokens on)',
      });
    } finally {
      await s.ctx.storage.clients.update(other.client.clientId, { tokenExchange: { audiences: [BILLING], impersonation: true, refreshTokens: false } }, Date.now());
    }
  });

  // ---------------------------------------------------------------------------------- audit

  it('the exchange is audited, without any token', async () => {
    const subject = (await personToken(web)).access;
    const actor = await ccToken(gw);
    const r = await exchange(gw, { subject_token: subject, subject_token_type: AT, actor_token: actor, actor_token_type: AT, audience: BILLING, scope: 'email' });
    expect(r.status).toBe(200);
    const [event] = await s.ctx.storage.audit.list({ type: 'token.exchanged', clientId: gw.client.clientId, limit: 1 });
    expect(event?.details).toEqual({
      subject: alice.id,
      subjectType: 'access_token',
      subjectClientId: web.client.clientId,
      actor: gw.client.clientId,
      actorType: 'access_token',
      impersonation: false,
      audience: BILLING,
      scope: 'email',
      refresh: false,
    });
    const text = JSON.stringify(event);
    for (const secret of [subject, actor, String(r.json['access_token']), sha256(subject), sha256(String(r.json['access_token']))]) expect(text).not.toContain(secret);
  });

  // ---------------------------------------------------------------------------------- revocation

  it('revocation: the person disconnecting the subject\'s application revokes what was exchanged from it', async () => {
    const subject = await personToken(web);
    const exchanged = String((await gwExchange(subject.access)).json['access_token']);
    const fromLegacy = String((await gwExchange((await personToken(legacy)).access)).json['access_token']);
    const gwOwn = await ccToken(gw);
    const page = await browser.fetch(`/account/apps`);
    const csrf = hiddenField(await page.text(), 'csrf');
    const res = await browser.postForm(`/account/apps/${encodeURIComponent(web.client.clientId)}/revoke`, [['csrf', csrf], ['confirm', 'yes']]);
    expect(res.status).toBe(303);
    expect(await active(gw, exchanged)).toBe(false);
    expect(await active(web, subject.access)).toBe(false);
    // Another application's grant and the gateway's own tokens are untouched.
    expect(await active(gw, fromLegacy)).toBe(true);
    expect(await active(gw, gwOwn)).toBe(true);
  });

  it('revocation: revoking the family\'s refresh token at /oauth/revoke, and refresh-token reuse, revoke what was exchanged', async () => {
    const a = await personToken(web);
    const fromA = String((await gwExchange(a.access, { requested_token_type: RT })).json['access_token']);
    expect(await active(gw, fromA)).toBe(true);
    expect((await postForm(`${s.url}/oauth/revoke`, { token: a.refresh ?? '' }, auth(web))).status).toBe(200);
    expect(await active(gw, fromA)).toBe(false);

    const b = await personToken(web);
    const fromB = String((await gwExchange(b.access)).json['access_token']);
    expect((await token(web, { grant_type: 'refresh_token', refresh_token: b.refresh ?? '' })).status).toBe(200);
    expect(await active(gw, fromB)).toBe(true);
    expectError(await token(web, { grant_type: 'refresh_token', refresh_token: b.refresh ?? '' }), 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' });
    expect(await active(gw, fromB)).toBe(false);
  });

  it('revocation: a subject token without a family (no refresh token, client credentials) takes what was exchanged from it along', async () => {
    const subject = (await personToken(legacy)).access;
    expect((await row(subject)).familyId).toBeNull();
    const exchanged = await gwExchange(subject, { requested_token_type: RT });
    const access = String(exchanged.json['access_token']);
    const refresh = String(exchanged.json['refresh_token']);
    expect(await active(gw, access)).toBe(true);
    expect((await postForm(`${s.url}/oauth/revoke`, { token: subject }, auth(legacy))).status).toBe(200);
    expect(await active(gw, access)).toBe(false);
    expectError(await token(gw, { grant_type: 'refresh_token', refresh_token: refresh }), 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' });

    const cc = await ccToken(gw);
    const fromCc = await exchange(gwJwt, { subject_token: await ccToken(svc2, { resource: ORDERS }), subject_token_type: AT, audience: BILLING });
    const own = String((await exchange(gw, { subject_token: cc, subject_token_type: AT, actor_token: await ccToken(gw), actor_token_type: AT })).json['access_token']);
    expect((await introspect(gw, own))['sub']).toBe(gw.client.clientId);
    expect((await postForm(`${s.url}/oauth/revoke`, { token: cc }, auth(gw))).status).toBe(200);
    expect(await active(gw, own)).toBe(false);
    // svc2's token was not revoked: what gwJwt exchanged from it stands.
    expect(await active(gwJwt, String(fromCc.json['access_token']))).toBe(true);
  });

  it('revocation: the administrator revoking a refresh token, an application\'s tokens, or a person\'s tokens for an application', async () => {
    const revoke = async (body: Record<string, string>): Promise<number> => {
      const res = await fetch(`${s.url}/admin/api/tokens/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return Number(((await res.json()) as Record<string, unknown>)['revoked']);
    };
    const a = await personToken(web);
    const fromA = String((await gwExchange(a.access)).json['access_token']);
    expect(await revoke({ token: a.refresh ?? '' })).toBe(3);
    expect(await active(gw, fromA)).toBe(false);

    const svcToken = await ccToken(svc2, { resource: ORDERS });
    const fromSvc = String((await exchange(gwJwt, { subject_token: svcToken, subject_token_type: AT, audience: BILLING })).json['access_token']);
    expect((await introspect(gwJwt, fromSvc))['sub']).toBe(svc2.client.clientId);
    await revoke({ client_id: svc2.client.clientId });
    expect(await active(gwJwt, fromSvc)).toBe(false);

    const b = await personToken(web);
    const fromB = String((await gwExchange(b.access)).json['access_token']);
    await revoke({ client_id: web.client.clientId, user_email: alice.email });
    expect(await active(gw, fromB)).toBe(false);
  });

  it('an exchanged token of a deactivated subject application stops working with it', async () => {
    const app = await s.createApp({ name: 'Service 3', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const exchanged = String((await exchange(gwJwt, { subject_token: await ccToken(app, { resource: ORDERS }), subject_token_type: AT, audience: BILLING })).json['access_token']);
    expect(await active(gwJwt, exchanged)).toBe(true);
    await s.ctx.storage.clients.update(app.client.clientId, { active: false }, Date.now());
    expect(await active(gwJwt, exchanged)).toBe(false);
  });
});
