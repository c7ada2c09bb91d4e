/**
 * End-to-end flows driven by real OAuth clients (docs/design.md "Tests"): oauth4webapi for metadata
 * discovery (RFC 8414, T11), authorization code + PKCE (RFC 6749 §4.1, RFC 7636) for a
 * confidential and a public client with RFC 9207 `iss` validation, refresh (T3), client
 * credentials (T4), revocation (RFC 7009, T9) and introspection (RFC 7662, T10); and
 * openid-client for one code flow and client credentials.
 */
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, authorize, describeEachDb, type TestServer } from '../helpers/server.js';

const REDIRECT = 'https://client.example/cb';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describeEachDb('flows (oauth4webapi, openid-client)', (start) => {
  let s: TestServer;
  let as: oauth.AuthorizationServer;
  let browser: Browser;
  let userId: string;

  beforeAll(async () => {
    s = await start();
    const issuer = new URL(s.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    userId = (await s.createUser('flow@example.com')).id;
    browser = new Browser(s.url);
    expect((await browser.login('flow@example.com', DEFAULT_PASSWORD)).status).toBe(303);
  });
  afterAll(async () => s?.close());

  /** Walks GET /oauth/authorize + consent and validates the response with oauth4webapi (incl. iss). */
  async function codeFlow(client: oauth.Client, scope: string): Promise<{ params: URLSearchParams; verifier: string }> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint ?? '');
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', REDIRECT);
    url.searchParams.set('scope', scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const location = new URL(out.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('iss')).toBe(s.issuer);
    return { params: oauth.validateAuthResponse(as, client, location, state), verifier };
  }

  it('T11 metadata: issuer, every endpoint, S256 only, iss parameter', async () => {
    expect(as.issuer).toBe(s.issuer);
    expect(as.authorization_endpoint).toBe(`${s.issuer}/oauth/authorize`);
    expect(as.token_endpoint).toBe(`${s.issuer}/oauth/token`);
    expect(as.jwks_uri).toBe(`${s.issuer}/.well-known/jwks.json`);
    expect(as.revocation_endpoint).toBe(`${s.issuer}/oauth/revoke`);
    expect(as.introspection_endpoint).toBe(`${s.issuer}/oauth/introspect`);
    expect(as.registration_endpoint).toBe(`${s.issuer}/oauth/register`);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['profile', 'email']));
    expect(as.introspection_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    // The JWKS named by the metadata is served.
    const jwks = await fetch(as.jwks_uri ?? '');
    expect(jwks.status).toBe(200);
    const body = (await jwks.json()) as { keys: Array<{ kid?: string; d?: unknown }> };
    expect(body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of body.keys) expect(k.d).toBeUndefined();
  });

  it('T2/T3/T9/T10 confidential client: code + PKCE, introspect, refresh, revoke', async () => {
    const app = await s.createApp({ name: 'Conf', redirectUris: [REDIRECT], scopes: ['profile', 'email'] });
    const client: oauth.Client = { client_id: app.client.clientId };
    const auth = oauth.ClientSecretBasic(app.clientSecret ?? '');
    const { params, verifier } = await codeFlow(client, 'profile email');
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, insecure);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, res);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('profile email');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.access_token).toMatch(/^tga_/);
    expect(tokens.refresh_token).toMatch(/^tgr_/);

    const intro = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure));
    expect(intro).toMatchObject({
      active: true,
      client_id: app.client.clientId,
      scope: 'profile email',
      sub: userId,
      username: 'flow@example.com',
      token_type: 'Bearer',
      aud: `${s.issuer}/api`,
      iss: s.issuer,
    });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token ?? '', insecure),
    );
    expect(refreshed.refresh_token).toMatch(/^tgr_/);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe('profile email');

    // The new access token works against the protected API.
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    expect(api.status).toBe(200);

    // Revoking the new refresh token (RFC 7009) also revokes its access token (T9).
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, refreshed.refresh_token ?? '', insecure));
    for (const t of [refreshed.access_token, refreshed.refresh_token ?? '']) {
      const r = await oauth.introspectionRequest(as, client, auth, t, insecure);
      expect(await r.json()).toEqual({ active: false });
    }
    const after = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    expect(after.status).toBe(401);
  });

  it('Z2 public client: code + PKCE with no secret (None), refresh without a secret', async () => {
    const app = await s.createApp({ name: 'Public', redirectUris: [REDIRECT], scopes: ['profile'], public: true });
    expect(app.clientSecret).toBeNull();
    const client: oauth.Client = { client_id: app.client.clientId, token_endpoint_auth_method: 'none' };
    const { params, verifier } = await codeFlow(client, 'profile');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure),
    );
    expect(tokens.scope).toBe('profile');
    const me = await fetch(`${s.url}/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: userId, email: 'flow@example.com', client_id: app.client.clientId });
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', insecure),
    );
    expect(refreshed.access_token).toMatch(/^tga_/);
    // A public client cannot introspect (RFC 7662 §2.1).
    const intro = await oauth.introspectionRequest(as, client, oauth.None(), refreshed.access_token, insecure);
    expect(intro.status).toBe(401);
    expect(await intro.json()).toEqual({ error: 'invalid_client', error_description: 'Public clients cannot use introspection' });
    // It can revoke its own tokens (RFC 7009 §5: public clients identify with client_id).
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.access_token, insecure));
    expect((await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${refreshed.access_token}` } })).status).toBe(401);
  });

  it('T4 client credentials, then introspect and revoke', async () => {
    const app = await s.createApp({ name: 'Machine', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const client: oauth.Client = { client_id: app.client.clientId };
    const auth = oauth.ClientSecretPost(app.clientSecret ?? '');
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'profile' }, insecure),
    );
    expect(tokens.scope).toBe('profile');
    expect(tokens.refresh_token).toBeUndefined();
    const intro = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure));
    expect(intro.active).toBe(true);
    expect(intro.sub).toBe(app.client.clientId);
    expect(intro.username).toBeUndefined();
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure));
    const again = await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure);
    expect(await again.json()).toEqual({ active: false });
  });

  it('openid-client: code flow with PKCE and iss, then client credentials', async () => {
    const app = await s.createApp({ name: 'OIDC lib', redirectUris: [REDIRECT], scopes: ['profile'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const config = await oidc.discovery(new URL(s.issuer), app.client.clientId, undefined, oidc.ClientSecretBasic(app.clientSecret ?? ''), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'profile',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(out.location ?? ''), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.scope).toBe('profile');
    expect(tokens.refresh_token).toMatch(/^tgr_/);
    const api = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await api.json()).toMatchObject({ user_id: userId, client_id: app.client.clientId, scope: 'profile' });

    // A forged `iss` is rejected by the library (RFC 9207).
    const forged = new URL(out.location ?? '');
    forged.searchParams.set('iss', 'https://evil.example');
    await expect(oidc.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toThrow();

    const cc = await oidc.clientCredentialsGrant(config, { scope: 'profile' });
    expect(cc.scope).toBe('profile');
    expect(cc.refresh_token).toBeUndefined();
    const who = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${cc.access_token}` } });
    expect(await who.json()).toMatchObject({ user_id: null, user_email: null, client_id: app.client.clientId });
  });
});
