/**
 * RFC 9728 (issue #13 item 4): the resource toolkit's protected resource metadata — the document
 * (`resource`, `authorization_servers`, `scopes_supported`, `bearer_methods_supported`…), its
 * path-inserted location (§3.1), served by the Fastify plugin, the Connect middleware and the
 * plain function, readable from any origin; and every challenge naming it (`resource_metadata`,
 * §5.1) with the scope a 401 needs, the challenge exposed to scripts. No authorization server is
 * needed: the verifier's local token source answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidTokenError,
  bearer,
  createVerifier,
  errorResponse,
  fastifyBearer,
  protectedResourceMetadataUrl,
  resourceMetadata,
  resourceMetadataResponse,
  type IntrospectionResponse,
} from '../../src/resource/index.js';

const ISSUER = 'https://auth.example';
const MCP = 'https://api.example/mcp';

function verifier(answer: IntrospectionResponse = { active: false }, extra: Parameters<typeof createVerifier>[0] extends infer O ? Partial<O> : never = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: MCP,
    resourceMetadata: { scopesSupported: ['notes:read', 'notes:write'], resourceName: 'Notes MCP server' },
    resolveToken: async () => answer,
    ...extra,
  });
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; www: string | undefined; expose: string | undefined; body: unknown }> {
  try {
    await p;
  } catch (err) {
    const r = errorResponse(err);
    return { status: r.status, www: r.headers['www-authenticate'], expose: r.headers['access-control-expose-headers'], body: r.body };
  }
  throw new Error('expected a refusal');
}

const RM = 'resource_metadata="https://api.example/.well-known/oauth-protected-resource/mcp"';

describe('RFC 9728: the document and where it lives', () => {
  it('§3.1: the well-known path goes before the resource\'s path; a trailing slash is not a path', () => {
    expect(protectedResourceMetadataUrl('https://api.example/mcp')).toBe('https://api.example/.well-known/oauth-protected-resource/mcp');
    expect(protectedResourceMetadataUrl('https://api.example/mcp/')).toBe('https://api.example/.well-known/oauth-protected-resource/mcp');
    expect(protectedResourceMetadataUrl('https://api.example')).toBe('https://api.example/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('https://api.example:8443/a/b')).toBe('https://api.example:8443/.well-known/oauth-protected-resource/a/b');
  });

  it('§2: the document names the resource, its authorization server, its scopes and the header method', () => {
    const v = verifier();
    expect(v.resourceMetadata).toEqual({
      url: 'https://api.example/.well-known/oauth-protected-resource/mcp',
      path: '/.well-known/oauth-protected-resource/mcp',
      document: {
        resource: MCP,
        authorization_servers: [ISSUER],
        bearer_methods_supported: ['header'],
        scopes_supported: ['notes:read', 'notes:write'],
        resource_name: 'Notes MCP server',
      },
    });
    const r = resourceMetadataResponse(v.resourceMetadata!);
    expect(r.status).toBe(200);
    expect(r.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' });
    // Without the option, nothing is published and challenges stay RFC 6750's.
    expect(createVerifier({ issuer: ISSUER, audience: MCP }).resourceMetadata).toBeNull();
  });

  it('a resource that is not an http(s) URL, or has a fragment, is refused when the verifier is made', () => {
    expect(() => createVerifier({ issuer: ISSUER, audience: 'urn:notes', resourceMetadata: true })).toThrow(/resourceMetadata.resource must be an http\(s\) URL/);
    expect(() => createVerifier({ issuer: ISSUER, audience: 'notes api', resourceMetadata: true })).toThrow(/must be an absolute URL/);
    expect(() => createVerifier({ issuer: ISSUER, audience: MCP, resourceMetadata: { resource: 'https://api.example/mcp#x' } })).toThrow(/must not have a fragment/);
  });
});

describe('RFC 9728 §5.1: every challenge names the metadata', () => {
  it('no token: the bare challenge with the metadata and the scope the route needs', async () => {
    expect(await refusal(verifier().verify(undefined, { scopes: ['notes:read'] }))).toEqual({
      status: 401,
      www: `Bearer scope="notes:read", ${RM}`,
      expose: 'WWW-Authenticate',
      body: { error: 'invalid_request', error_description: 'An access token is required' },
    });
    expect((await refusal(verifier().verify(undefined))).www).toBe(`Bearer ${RM}`);
    expect((await refusal(verifier(undefined, { realm: 'notes' }).verify(undefined))).www).toBe(`Bearer realm="notes", ${RM}`);
  });

  it('an invalid token (401), a malformed header (400), a missing scope (403); a check that failed (503) has no challenge', async () => {
    expect((await refusal(verifier().verify('Bearer tga_x', { scopes: ['notes:read'] }))).www).toBe(
      `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked", scope="notes:read", ${RM}`,
    );
    expect((await refusal(verifier().verify('Basic x', { scopes: ['notes:read'] }))).www).toBe(
      `Bearer error="invalid_request", error_description="Malformed Authorization header: expected Bearer <token>", ${RM}`,
    );
    const reader = verifier({ active: true, client_id: 'c', scope: 'notes:read', aud: MCP, iss: ISSUER });
    expect(await refusal(reader.verify('Bearer tga_x', { scopes: ['notes:write'] }))).toEqual({
      status: 403,
      www: `Bearer error="insufficient_scope", error_description="This endpoint requires the scope: notes:write", scope="notes:write", ${RM}`,
      expose: 'WWW-Authenticate',
      body: { error: 'insufficient_scope', error_description: 'This endpoint requires the scope: notes:write' },
    });
    const down = createVerifier({ issuer: ISSUER, audience: MCP, resourceMetadata: true, resolveToken: async () => ({ active: 'maybe' }) as unknown as IntrospectionResponse });
    const r = await refusal(down.verify('Bearer tga_x'));
    expect(r.status).toBe(503);
    expect(r.www).toBeUndefined();
  });

  it('parallel checks of one bad token for routes needing different scopes each name their own', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const v = createVerifier({ issuer: ISSUER, audience: MCP, resourceMetadata: true, resolveToken: async () => { await gate; return { active: false }; } });
    const a = refusal(v.verify('Bearer tga_same', { scopes: ['notes:read'] }));
    const b = refusal(v.verify('Bearer tga_same', { scopes: ['notes:write'] }));
    release();
    expect((await a).www).toContain('scope="notes:read"');
    expect((await b).www).toContain('scope="notes:write"');
  });

  it('a challenge stays a valid header value whatever a description says (non-ASCII is dropped)', () => {
    const err = new InvalidTokenError('Le jeton a expiré — « recommencez »');
    expect(err.wwwAuthenticate).toBe('Bearer error="invalid_token", error_description="Le jeton a expir   recommencez "');
  });
});

describe('RFC 9728: the adapters serve the document', () => {
  let server: Server;
  let base = '';
  const fastify = Fastify();

  beforeAll(async () => {
    const v = verifier();
    // Connect / Express: the metadata middleware before the protected routes.
    const meta = resourceMetadata(v);
    const guard = bearer(v, { scopes: ['notes:read'] });
    server = createServer((req, res) => {
      // The application's own CORS exposes a header of its own; the toolkit adds WWW-Authenticate to it.
      if (req.url === '/mcp-session') res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id');
      meta(req, res, () => {
        guard(req, res, () => {
          res.end('{}');
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await fastify.register(fastifyBearer, { verifier: v });
    fastify.get('/mcp', { config: { oauth: { scopes: ['notes:read'] } } }, async () => ({}));
    await fastify.ready();
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await fastify.close();
  });

  it('Connect: GET and HEAD of the path-inserted location answer the document; anything else goes on', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { headers: { origin: 'https://inspector.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(((await res.json()) as Record<string, unknown>)['resource']).toBe(MCP);
    const head = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const pre = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`, { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toBe('MCP-Protocol-Version, Content-Type');
    const other = await fetch(`${base}/mcp`);
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toBe(`Bearer scope="notes:read", ${RM}`);
    expect(other.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
    const own = await fetch(`${base}/mcp-session`);
    expect(own.status).toBe(401);
    expect(own.headers.get('access-control-expose-headers')).toBe('Mcp-Session-Id, WWW-Authenticate');
    expect(() => resourceMetadata(createVerifier({ issuer: ISSUER, audience: MCP }))).toThrow(/publishes no metadata/);
  });

  it('Fastify: the plugin serves the document publicly; serveMetadata: false leaves it to the application', async () => {
    const res = await fastify.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.json()).toMatchObject({ resource: MCP, authorization_servers: [ISSUER] });
    const pre = await fastify.inject({ method: 'OPTIONS', url: '/.well-known/oauth-protected-resource/mcp', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-methods']).toBe('GET');
    const refused = await fastify.inject({ method: 'GET', url: '/mcp' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(`Bearer scope="notes:read", ${RM}`);
    const quiet = Fastify();
    // The application's own exposed headers are kept, the toolkit's added (each name once).
    quiet.addHook('onRequest', async (_request, reply) => void reply.header('access-control-expose-headers', 'Mcp-Session-Id, www-authenticate'));
    await quiet.register(fastifyBearer, { verifier: verifier(), serveMetadata: false });
    quiet.get('/mcp', { config: { oauth: { scopes: ['notes:read'] } } }, async () => ({}));
    expect((await quiet.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' })).statusCode).toBe(404);
    const own = await quiet.inject({ method: 'GET', url: '/mcp' });
    expect(own.statusCode).toBe(401);
    expect(own.headers['access-control-expose-headers']).toBe('Mcp-Session-Id, www-authenticate');
    await quiet.close();
  });
});
