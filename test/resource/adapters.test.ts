/**
 * R3 adapters over HTTP, against a live Tollgate: the Fastify plugin (per-route scopes in the
 * route config) and the Express/Connect middleware. Exact statuses, bodies, `WWW-Authenticate`
 * and `Cache-Control` headers (RFC 6750 §3).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createVerifier, fastifyBearer, type VerifiedToken, type Verifier } from '../../src/resource/index.js';
import type { CreatedApp } from '../../src/services/apps.js';
import { createResourceServer, setIntrospectors } from '../../src/services/directory.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';
import { ccToken, revoke } from '../helpers/resource.js';

const DOCS = 'https://documents.example/api';

interface Got {
  readonly status: number;
  readonly body: unknown;
  readonly www: string | null;
  readonly cacheControl: string | null;
}

async function call(url: string, authorization?: string, method = 'GET'): Promise<Got> {
  const res = await fetch(url, { method, headers: authorization === undefined ? {} : { authorization } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, www: res.headers.get('www-authenticate'), cacheControl: res.headers.get('cache-control') };
}

const NO_TOKEN: Got = {
  status: 401,
  body: { error: 'invalid_request', error_description: 'An access token is required' },
  // The scope the route needs rides on every 401 (issue #13, RFC 9728 §5.1 / RFC 6750 §3).
  www: 'Bearer realm="documents", scope="documents:read"',
  cacheControl: 'no-store',
};
const INVALID: Got = {
  status: 401,
  body: { error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' },
  www: 'Bearer realm="documents", error="invalid_token", error_description="The access token is invalid, expired or revoked", scope="documents:read"',
  cacheControl: 'no-store',
};
const OTHER_AUDIENCE: Got = {
  status: 401,
  body: { error: 'invalid_token', error_description: 'The access token was issued for another audience' },
  www: 'Bearer realm="documents", error="invalid_token", error_description="The access token was issued for another audience", scope="documents:read"',
  cacheControl: 'no-store',
};
const NEEDS_WRITE: Got = {
  status: 403,
  body: { error: 'insufficient_scope', error_description: 'This endpoint requires the scope: documents:write' },
  www: 'Bearer realm="documents", error="insufficient_scope", error_description="This endpoint requires the scope: documents:write", scope="documents:write"',
  cacheControl: 'no-store',
};
const MALFORMED: Got = {
  status: 400,
  body: { error: 'invalid_request', error_description: 'Malformed Authorization header: expected "Bearer <token>"' },
  www: 'Bearer realm="documents", error="invalid_request", error_description="Malformed Authorization header: expected Bearer <token>"',
  cacheControl: 'no-store',
};
const QUERY: Got = {
  status: 400,
  body: { error: 'invalid_request', error_description: 'Send the access token in the Authorization header, not in the query string' },
  www: 'Bearer realm="documents", error="invalid_request", error_description="Send the access token in the Authorization header, not in the query string"',
  cacheControl: 'no-store',
};
const UNAVAILABLE: Got = {
  status: 503,
  body: { error: 'temporarily_unavailable', error_description: 'The access token could not be checked, try again later' },
  www: null,
  cacheControl: 'no-store',
};

let s: TestServer;
let verifier: Verifier;
let down: Verifier;
let reader: CreatedApp;
let readerJwt: CreatedApp;
let outsider: CreatedApp;
let outsiderJwt: CreatedApp;

beforeAll(async () => {
  s = await startTestServer();
  await createResourceServer(s.ctx, {
    identifier: DOCS,
    name: 'Documents API',
    scopes: [
      { name: 'documents:read', description: 'Read' },
      { name: 'documents:write', description: 'Write' },
    ],
  });
  const rs = await s.createApp({ name: 'Documents API', grantTypes: ['client_credentials'] });
  // Issue #15 §6: the API's own application introspects for it.
  await setIntrospectors(s.ctx, DOCS, [rs.client.clientId]);
  reader = await s.createApp({ name: 'Reader', grantTypes: ['client_credentials'], scopes: ['documents:read', 'profile'] });
  readerJwt = await s.createApp({ name: 'Reader JWT', grantTypes: ['client_credentials'], scopes: ['documents:read'], tokenFormat: 'jwt' });
  outsider = await s.createApp({ name: 'Outsider', grantTypes: ['client_credentials'], scopes: ['profile'] });
  outsiderJwt = await s.createApp({ name: 'Outsider JWT', grantTypes: ['client_credentials'], scopes: ['profile'], tokenFormat: 'jwt' });
  const introspection = { clientId: rs.client.clientId, clientSecret: rs.clientSecret ?? '' };
  verifier = createVerifier({ issuer: s.issuer, audience: DOCS, realm: 'documents', introspection, cacheTtl: 0 });
  down = createVerifier({ issuer: `http://127.0.0.1:${await freePort()}`, audience: DOCS, realm: 'documents', introspection });
});
afterAll(async () => s?.close());

/** The same checks, whatever the adapter. */
function adapterSuite(base: () => string, baseDown: () => string): void {
  it('a token with the route’s scope passes; the handler sees the verified token', async () => {
    for (const app of [reader, readerJwt]) {
      const at = await ccToken(s, app, { scope: 'documents:read', resource: DOCS });
      const r = await call(`${base()}/documents`, `Bearer ${at}`);
      expect(r, app.client.name).toEqual({
        status: 200,
        body: { client_id: app.client.clientId, subject: app.client.clientId, scopes: ['documents:read'], format: app === readerJwt ? 'jwt' : 'opaque' },
        www: null,
        cacheControl: null,
      });
    }
  });

  it('missing scope → 403 insufficient_scope; any-of routes accept either scope', async () => {
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: DOCS });
    expect(await call(`${base()}/documents`, `Bearer ${at}`, 'POST')).toEqual(NEEDS_WRITE);
    expect((await call(`${base()}/either`, `Bearer ${at}`)).status).toBe(200);
  });

  it('no token → 401 with the bare challenge; malformed → 400; bad, revoked or foreign tokens → 401', async () => {
    expect(await call(`${base()}/documents`)).toEqual(NO_TOKEN);
    for (const h of ['', 'Basic abc', 'Bearer a b', `Bearer ${'a'.repeat(9000)}`]) {
      const r = await call(`${base()}/documents`, h);
      expect(r.status, h.slice(0, 20)).toBe(400);
      if (h.length < 100) expect(r, h).toEqual(MALFORMED);
    }
    expect(await call(`${base()}/documents`, 'Bearer tga_nope')).toEqual(INVALID);
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: DOCS });
    await revoke(s, reader, at);
    expect(await call(`${base()}/documents`, `Bearer ${at}`)).toEqual(INVALID);
    // An opaque token for another audience is not described to this API's introspector (issue #15 §6)…
    expect(await call(`${base()}/documents`, `Bearer ${await ccToken(s, outsider, { scope: 'profile' })}`)).toEqual(INVALID);
    // …while a JWT for another audience is verified here and named as such.
    expect(await call(`${base()}/documents`, `Bearer ${await ccToken(s, outsiderJwt, { scope: 'profile' })}`)).toEqual(OTHER_AUDIENCE);
  });

  it('a token in the query string is refused', async () => {
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: DOCS });
    expect(await call(`${base()}/documents?access_token=${at}`)).toEqual(QUERY);
    expect(await call(`${base()}/documents?access_token=${at}`, `Bearer ${at}`)).toEqual(QUERY);
  });

  it('the authorization server unreachable → 503, never a pass', async () => {
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: DOCS });
    const jwt = await ccToken(s, readerJwt, { scope: 'documents:read', resource: DOCS });
    expect(await call(`${baseDown()}/documents`, `Bearer ${at}`)).toEqual(UNAVAILABLE);
    expect(await call(`${baseDown()}/documents`, `Bearer ${jwt}`)).toEqual(UNAVAILABLE);
  });
}

describe('R3 Fastify plugin', () => {
  let app: FastifyInstance;
  let appDown: FastifyInstance;
  let url = '';
  let urlDown = '';

  async function build(v: Verifier): Promise<FastifyInstance> {
    const a = Fastify();
    await a.register(fastifyBearer, { verifier: v });
    const view = (t: VerifiedToken | null) => ({
      client_id: t?.clientId,
      subject: t?.subject,
      scopes: t?.scopes,
      format: t?.format,
    });
    a.get('/documents', { config: { oauth: { scopes: ['documents:read'] } } }, async (request) => view(request.accessToken));
    a.post('/documents', { config: { oauth: { scopes: ['documents:write'] } } }, async (request) => view(request.accessToken));
    a.get('/either', { config: { oauth: { scopes: ['documents:write', 'documents:read'], mode: 'any' } } }, async (request) => view(request.accessToken));
    a.get('/any-token', async (request) => view(request.accessToken));
    a.get('/public', { config: { oauth: false } }, async (request) => ({ public: true, token: request.accessToken }));
    await a.listen({ port: 0, host: '127.0.0.1' });
    return a;
  }

  beforeAll(async () => {
    app = await build(verifier);
    appDown = await build(down);
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    urlDown = `http://127.0.0.1:${(appDown.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await appDown?.close();
  });

  adapterSuite(
    () => url,
    () => urlDown,
  );

  it('routes without oauth config need a token but no scope; oauth: false is public; unknown routes are 404', async () => {
    // A route that needs no scope names none.
    expect(await call(`${url}/any-token`)).toEqual({ ...NO_TOKEN, www: 'Bearer realm="documents"' });
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: DOCS });
    expect((await call(`${url}/any-token`, `Bearer ${at}`)).status).toBe(200);
    expect(await call(`${url}/public`)).toEqual({ status: 200, body: { public: true, token: null }, www: null, cacheControl: null });
    expect((await call(`${url}/nowhere`)).status).toBe(404);
  });
});

describe('R3 Express middleware', () => {
  let server: Server;
  let serverDown: Server;
  let url = '';
  let urlDown = '';

  function build(v: Verifier): express.Express {
    const a = express();
    const view = (t: VerifiedToken | undefined) => ({ client_id: t?.clientId, subject: t?.subject, scopes: t?.scopes, format: t?.format });
    a.get('/documents', bearer(v, { scopes: ['documents:read'] }), (req, res) => {
      res.json(view(req.accessToken));
    });
    a.post('/documents', bearer(v, { scopes: ['documents:write'] }), (req, res) => {
      res.json(view(req.accessToken));
    });
    a.get('/either', bearer(v, { scopes: ['documents:write', 'documents:read'], mode: 'any' }), (req, res) => {
      res.json(view(res.locals['accessToken'] as VerifiedToken | undefined));
    });
    a.get('/public', (_req, res) => {
      res.json({ public: true });
    });
    return a;
  }

  async function listen(a: express.Express): Promise<Server> {
    return new Promise((resolve) => {
      const srv = a.listen(0, '127.0.0.1', () => resolve(srv));
    });
  }

  beforeAll(async () => {
    server = await listen(build(verifier));
    serverDown = await listen(build(down));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    urlDown = `http://127.0.0.1:${(serverDown.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await new Promise((r) => serverDown?.close(r));
  });

  adapterSuite(
    () => url,
    () => urlDown,
  );

  it('routes without the middleware stay public', async () => {
    expect((await call(`${url}/public`)).body).toEqual({ public: true });
  });
});
