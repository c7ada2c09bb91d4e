/**
 * H1: `createTollgate` in a host's own server. A Fastify host registers `tollgate.plugin` under
 * `/oauth`; an Express host and a plain `node:http` host use `tollgate.handler`. Discovery (RFC 8414
 * §3.1, path-inserted), client credentials, introspection and a browser code flow run under the
 * prefix with real clients, and the host's own routes keep their own hooks and parsers.
 */
import * as oidc from 'openid-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import express from 'express';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';
import { createApp } from '../../src/services/apps.js';
import { createUser } from '../../src/services/directory.js';
import { Browser, DEFAULT_PASSWORD, authorize, basic, freePort } from '../helpers/server.js';
import { hostEnv } from '../helpers/host.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'https://client.example/cb';

/** Discovery, client credentials and introspection through oauth4webapi, against any mount. */
async function machineFlow(tollgate: Tollgate): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(tollgate.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  expect(as.token_endpoint).toBe(`${tollgate.issuer}/oauth/token`);
  expect(as.authorization_endpoint).toBe(`${tollgate.issuer}/oauth/authorize`);
  expect(as.introspection_endpoint).toBe(`${tollgate.issuer}/oauth/introspect`);
  expect(as.jwks_uri).toBe(`${tollgate.issuer}/.well-known/jwks.json`);
  const created = await createApp(tollgate.context, { name: 'Machine', grantTypes: ['client_credentials'], scopes: ['profile'] });
  const client: oauth.Client = { client_id: created.client.clientId };
  const auth = oauth.ClientSecretBasic(created.clientSecret ?? '');
  const tokens = await oauth.processClientCredentialsResponse(
    as,
    client,
    await oauth.clientCredentialsGrantRequest(as, client, auth, { scope: 'profile' }, insecure),
  );
  expect(tokens.token_type).toBe('bearer');
  const introspected = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure));
  expect(introspected).toMatchObject({ active: true, client_id: client.client_id, scope: 'profile', iss: tollgate.issuer });
  return as;
}

describe('H1: a Fastify host registers tollgate.plugin under /oauth', () => {
  let dir: string;
  let host: FastifyInstance;
  let tollgate: Tollgate;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-host-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    tollgate = await createTollgate({ config: hostEnv(dir, `${origin}/oauth`) });
    host = Fastify({ bodyLimit: 1024 * 1024 });
    // The host's own routes, hooks and JSON parsing.
    host.addHook('onSend', async (_request, reply) => {
      reply.header('x-host', 'yes');
    });
    host.get('/', async () => ({ host: 'home' }));
    host.post('/echo', async (request) => ({ echoed: request.body }));
    await host.register(tollgate.plugin, { prefix: '/oauth' });
    await host.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await host?.close();
    await tollgate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('RFC 8414 §3.1: the path-inserted metadata document at the host root, and the appended form', async () => {
    const inserted = await fetch(`${origin}/.well-known/oauth-authorization-server/oauth`);
    expect(inserted.status).toBe(200);
    const doc = (await inserted.json()) as Record<string, unknown>;
    expect(doc['issuer']).toBe(`${origin}/oauth`);
    const appended = await fetch(`${origin}/oauth/.well-known/oauth-authorization-server`);
    expect(await appended.json()).toEqual(doc);
    // Not at the root without the path: that would be another issuer's document.
    expect((await fetch(`${origin}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('OpenID Connect Discovery §4 appends to the issuer; the path-inserted form is served too (issue #12)', async () => {
    const appended = await fetch(`${origin}/oauth/.well-known/openid-configuration`);
    expect(appended.status).toBe(200);
    const doc = (await appended.json()) as Record<string, unknown>;
    expect(doc['issuer']).toBe(`${origin}/oauth`);
    expect(doc['userinfo_endpoint']).toBe(`${origin}/oauth/oauth/userinfo`);
    const inserted = await fetch(`${origin}/.well-known/openid-configuration/oauth`);
    expect(await inserted.json()).toEqual(doc);
    expect((await fetch(`${origin}/.well-known/openid-configuration`)).status).toBe(404);
    const config = await oidc.discovery(new URL(`${origin}/oauth`), 'any-client', undefined, undefined, { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().issuer).toBe(`${origin}/oauth`);
  });

  it('discovery, client credentials and introspection under the prefix (oauth4webapi)', async () => {
    await machineFlow(tollgate);
  });

  it('a person signs in and consents under the prefix; every redirect and link keeps it', async () => {
    const as = await machineFlow(tollgate);
    await createUser(tollgate.context, { email: 'host-person@example.com', password: DEFAULT_PASSWORD });
    const web = await createApp(tollgate.context, { name: 'Web', redirectUris: [REDIRECT], scopes: ['profile'] });
    const browser = new Browser(origin, '/oauth');
    const login = await browser.login('host-person@example.com', DEFAULT_PASSWORD, '/oauth/developers');
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/oauth/developers');
    const cookies = login.headers.getSetCookie();
    expect(cookies.some((c) => c.startsWith('tg_session=') && /; Path=\/oauth(;|$)/.test(c))).toBe(true);
    const portal = await browser.fetch('/oauth/developers');
    const html = await portal.text();
    expect(portal.status).toBe(200);
    expect(html).toContain('href="/oauth/assets/tollgate.css"');
    expect(html).toContain('action="/oauth/logout"');
    expect(html).not.toMatch(/(href|action|src)="\/(?!oauth\/)/);

    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint ?? '');
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: web.client.clientId,
      redirect_uri: REDIRECT,
      scope: 'profile',
      state: 's1',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);
    const consent = await browser.fetch(url.href);
    expect(consent.status).toBe(200);
    expect(await consent.text()).toContain('action="/oauth/oauth/authorize"');
    const out = await authorize(browser, url.href);
    expect(out.status).toBe(303);
    const params = oauth.validateAuthResponse(as, { client_id: web.client.clientId }, new URL(out.location ?? ''), 's1');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      { client_id: web.client.clientId },
      await oauth.authorizationCodeGrantRequest(as, { client_id: web.client.clientId }, oauth.ClientSecretBasic(web.clientSecret ?? ''), params, REDIRECT, verifier, insecure),
    );
    const api = await fetch(`${origin}/oauth/api/`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ user_email: 'host-person@example.com', client_id: web.client.clientId });

    // A sign-in redirect from a page keeps the prefix too.
    const anonymous = await fetch(`${origin}/oauth/developers`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/oauth/login?return_to=${encodeURIComponent('/oauth/developers')}`);
  });

  it('the host keeps its own routes, hooks and parsers; Tollgate keeps its own', async () => {
    const home = await fetch(`${origin}/`);
    expect(await home.json()).toEqual({ host: 'home' });
    expect(home.headers.get('content-security-policy')).toBeNull();
    // The host's JSON parser and body limit (1 MiB) still apply to its routes…
    const big = JSON.stringify({ blob: 'x'.repeat(200_000) });
    expect((await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })).status).toBe(200);
    // …while Tollgate's routes have its security headers, its 64 KiB limit and its error shape.
    const token = await fetch(`${origin}/oauth/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(token.status).toBe(413);
    expect(await token.json()).toEqual({ error: 'invalid_request', error_description: 'The request body is too large' });
    expect(token.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(token.headers.get('x-host')).toBe('yes');
    // RFC 6749 §3.1: a repeated parameter is refused under the prefix as well.
    const repeated = await fetch(`${origin}/oauth/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('x', 'y') },
      body: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toEqual({ error: 'invalid_request', error_description: 'Parameter "grant_type" must not be repeated' });
  });

  it('registering under a prefix that is not the issuer path fails with a clear error', async () => {
    const other = Fastify();
    await expect(other.register(tollgate.plugin, { prefix: '/auth' }).ready()).rejects.toThrow(
      `Tollgate is registered under "/auth" but its issuer ${origin}/oauth has the path "/oauth": register it with { prefix: '/oauth' } (or change the issuer)`,
    );
    await other.close();
  });
});

describe('H1: tollgate.handler in an Express host and a node:http host', () => {
  let dir: string;
  let tollgate: Tollgate;
  let expressServer: Server;
  let expressOrigin: string;
  let nodeServer: Server;
  let nodeOrigin: string;
  let nodeTollgate: Tollgate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-handler-'));
    const port = await freePort();
    expressOrigin = `http://127.0.0.1:${port}`;
    tollgate = await createTollgate({ config: hostEnv(join(dir, 'express'), `${expressOrigin}/oauth`) });
    const app = express();
    app.use('/oauth', tollgate.handler);
    for (const path of tollgate.rootPaths) app.get(path, tollgate.handler);
    // The host's body parser comes after Tollgate, as the README says.
    app.use(express.json());
    app.post('/api/echo', (req, res) => {
      res.json({ echoed: req.body as unknown });
    });
    // A route that parses first and then hands over: refused with a clear error.
    app.post('/wrong/oauth/token', express.urlencoded({ extended: false }), (req, res) => tollgate.handler(req, res));
    expressServer = app.listen(port, '127.0.0.1');
    await new Promise<void>((resolve) => expressServer.once('listening', () => resolve()));

    const nodePort = await freePort();
    nodeOrigin = `http://127.0.0.1:${nodePort}`;
    nodeTollgate = await createTollgate({ config: hostEnv(join(dir, 'node'), `${nodeOrigin}/auth`) });
    nodeServer = createServer((req, res) => {
      const path = req.url?.split('?')[0] ?? '';
      if (path.startsWith('/auth/') || nodeTollgate.rootPaths.includes(path)) return nodeTollgate.handler(req, res);
      res.end('host page');
    });
    await new Promise<void>((resolve) => nodeServer.listen(nodePort, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    await new Promise((r) => expressServer?.close(r));
    await new Promise((r) => nodeServer?.close(r));
    await tollgate?.close();
    await nodeTollgate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Express: discovery, client credentials and introspection; the host route still parses JSON', async () => {
    expect(tollgate.rootPaths).toEqual(['/.well-known/oauth-authorization-server/oauth', '/.well-known/openid-configuration/oauth']);
    await machineFlow(tollgate);
    const echo = await fetch(`${expressOrigin}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await echo.json()).toEqual({ echoed: { a: 1 } });
  });

  it('Express: RFC 6749 §3.1 duplicate parameters are still refused (the handler reads the raw body)', async () => {
    const res = await fetch(`${expressOrigin}/oauth/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=a&scope=b',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'Parameter "scope" must not be repeated' });
  });

  it('Express: a body parser in front of the handler gets a clear 500, never a silently merged body', async () => {
    const res = await fetch(`${expressOrigin}/wrong/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'server_error', error_description: 'Tollgate must be mounted before any body parser' });
  });

  it('node:http: the same instance API, with the root-level path-inserted document', async () => {
    await machineFlow(nodeTollgate);
    const inserted = await fetch(`${nodeOrigin}/.well-known/oauth-authorization-server/auth`);
    expect(inserted.status).toBe(200);
    expect(((await inserted.json()) as { issuer: string }).issuer).toBe(`${nodeOrigin}/auth`);
    expect(await (await fetch(`${nodeOrigin}/elsewhere`)).text()).toBe('host page');
  });
});
