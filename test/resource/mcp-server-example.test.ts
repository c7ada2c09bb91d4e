/**
 * The example MCP server (`examples/mcp-server`) end to end, with the official MCP SDK's client
 * as the MCP client (issue #13 item 7):
 *
 * - a Tollgate process on 127.0.0.1 (SQLite), set up with the CLI as examples/mcp-server/README.md
 *   says: the MCP server's own application, the MCP endpoint registered as a resource server with
 *   `documents:read` (and that application as its introspector), a second resource server;
 * - the example MCP server in this process, on its own port, its resource identifier being its
 *   endpoint URL;
 * - the SDK's `Client` + `StreamableHTTPClientTransport` with an in-memory `OAuthClientProvider`
 *   whose browser is scripted here (sign-in and consent through Tollgate's pages): once through
 *   dynamic registration, once through a Client ID Metadata Document served by this test;
 * - tokens for another resource, and a token without the tool's scope, are refused.
 *
 * The metadata document is served over https: the SDK only uses an https `clientMetadataUrl`.
 * Tollgate fetches it with its production outbound client, the address 127.0.0.1 allowed by
 * TOLLGATE_CIMD_INSECURE_LOOPBACK (the issuer is on loopback) and the certificate checked against
 * a certificate authority made for this run (NODE_EXTRA_CA_CERTS of the Tollgate process), which
 * is why Tollgate runs as a process of its own here. Nothing leaves 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMcpServerApp, type McpDocument } from '../../examples/mcp-server/app.js';
import { MemoryOAuthProvider, loopbackCertificate, recordingFetch, type RecordedRequest } from '../helpers/mcp.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { Browser, DEFAULT_PASSWORD, basic, freePort, hiddenField, postForm } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

type Json = Record<string, unknown>;

interface ToolText {
  readonly content: ReadonlyArray<{ readonly type: string; readonly text?: string }>;
  readonly isError?: boolean;
}

/** The JSON a tool answered (its one text content). */
function toolJson(result: unknown): unknown {
  const r = result as ToolText;
  expect(r.isError).toBeUndefined();
  expect(r.content).toHaveLength(1);
  expect(r.content[0]?.type).toBe('text');
  return JSON.parse(r.content[0]?.text ?? 'null');
}

describe('examples/mcp-server with the MCP SDK client, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-mcp-'));
  const dataDir = join(dir, 'data');
  let tollgate: ServerProcess | null = null;
  let mcp: Server | null = null;
  let documentHost: Server | null = null;
  let issuer = '';
  let resource = '';
  let metadataUrl = '';
  let redirectUrl = '';
  let documentUrl = '';
  const documentHits: string[] = [];
  const users: Record<'dana' | 'eli', string> = { dana: '', eli: '' };
  let reportsJwtApp = { id: '', secret: '' };
  let reportsOpaqueApp = { id: '', secret: '' };
  const reports = 'http://127.0.0.1:1/reports';

  /** `tollgate … --json` against this test's database, as the README runs it. */
  function cli(args: readonly string[]): Promise<Json> {
    return new Promise((done, fail) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', CLI, ...args, '--json'],
        { cwd: ROOT, timeout: 30_000, env: { PATH: process.env['PATH'] ?? '', HOME: dir, TOLLGATE_DATA_DIR: dataDir } },
        (err, stdout, stderr) => {
          if (err) fail(new Error(`tollgate ${args.join(' ')} failed: ${stderr}`));
          else done(JSON.parse(stdout) as Json);
        },
      );
    });
  }

  beforeAll(async () => {
    const [tollgatePort, mcpPort, callbackPort] = [await freePort(), await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${tollgatePort}`;
    resource = `http://127.0.0.1:${mcpPort}/mcp`;
    metadataUrl = `http://127.0.0.1:${mcpPort}/.well-known/oauth-protected-resource/mcp`;
    // Never listened on: the person's browser stops at the redirect, whose code the test reads.
    redirectUrl = `http://127.0.0.1:${callbackPort}/callback`;

    // The MCP client's metadata document, over https on 127.0.0.1.
    const certificate = loopbackCertificate(dir);
    documentHost = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      documentHits.push(req.url ?? '');
      if (req.url !== '/mcp-client.json') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }).end(
        JSON.stringify({
          client_id: documentUrl,
          client_name: 'Research Agent',
          redirect_uris: [redirectUrl],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise<void>((done) => documentHost?.listen(0, '127.0.0.1', done));
    documentUrl = `https://127.0.0.1:${(documentHost.address() as AddressInfo).port}/mcp-client.json`;

    // Tollgate's side, with the CLI: the MCP server's application (its introspection
    // credentials), the MCP endpoint as a resource server, a second resource server, people.
    await cli(['migrate']);
    const [mcpApp, dana, eli] = await Promise.all([
      cli(['apps', 'create', '--name', 'Documents MCP server', '--grant-type', 'client_credentials']),
      cli(['users', 'create', '--email', 'dana@example.com', '--password', DEFAULT_PASSWORD]),
      cli(['users', 'create', '--email', 'eli@example.com', '--password', DEFAULT_PASSWORD]),
    ]);
    users.dana = String(dana['id']);
    users.eli = String(eli['id']);
    await Promise.all([
      cli(['resource-servers', 'create', '--identifier', resource, '--name', 'Documents (MCP)', '--scope', 'documents:read=Read your documents', '--introspector', String(mcpApp['client_id'])]),
      cli(['resource-servers', 'create', '--identifier', reports, '--name', 'Reports API', '--scope', 'reports:read=Read your reports']),
    ]);
    const [jwtApp, opaqueApp] = await Promise.all([
      cli(['apps', 'create', '--name', 'Reports robot', '--grant-type', 'client_credentials', '--scope', 'profile reports:read', '--token-format', 'jwt']),
      cli(['apps', 'create', '--name', 'Reports robot (opaque)', '--grant-type', 'client_credentials', '--scope', 'profile reports:read']),
    ]);
    reportsJwtApp = { id: String(jwtApp['client_id']), secret: String(jwtApp['client_secret']) };
    reportsOpaqueApp = { id: String(opaqueApp['client_id']), secret: String(opaqueApp['client_secret']) };

    tollgate = await spawnServer(tollgatePort, {
      HOME: dir,
      HOST: '127.0.0.1',
      TOLLGATE_ISSUER: issuer,
      TOLLGATE_DATA_DIR: dataDir,
      TOLLGATE_LOG_LEVEL: 'silent',
      TOLLGATE_PURGE_INTERVAL: '0',
      TOLLGATE_LOGIN_RATE_LIMIT: '100000',
      TOLLGATE_REGISTRATION_RATE_LIMIT: '100000',
      // Registration is open by default; MCP clients may hold the MCP server's scope.
      TOLLGATE_REGISTRATION_SCOPES: 'profile email documents:read',
      // Development only, allowed because the issuer is on loopback: documents on 127.0.0.1.
      TOLLGATE_CIMD_INSECURE_LOOPBACK: 'true',
      NODE_EXTRA_CA_CERTS: certificate.caFile,
    });

    const documents: McpDocument[] = [
      { id: 'welcome', title: 'Welcome', content: 'Shared with everyone.', owner: null },
      { id: 'dana-notes', title: "Dana's notes", content: 'Buy milk.', owner: users.dana },
      { id: 'eli-plan', title: "Eli's plan", content: 'Ship it.', owner: users.eli },
    ];
    const app = buildMcpServerApp({
      issuer,
      resource,
      introspection: { clientId: String(mcpApp['client_id']), clientSecret: String(mcpApp['client_secret']) },
      documents,
    });
    mcp = createServer(app);
    await new Promise<void>((done) => mcp?.listen(mcpPort, '127.0.0.1', done));
  }, 90_000);

  afterAll(async () => {
    for (const srv of [mcp, documentHost]) {
      if (srv === null) continue;
      srv.closeAllConnections();
      await new Promise((done) => srv.close(done));
    }
    if (tollgate !== null && tollgate.child.exitCode === null) {
      tollgate.child.kill('SIGTERM');
      await tollgate.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The person's browser: opens the authorization URL, signs in, reads the consent page and
   * allows what it shows. Returns the page and the redirect back to the client.
   */
  async function signInAndAllow(url: URL, email: string): Promise<{ consent: string; redirect: URL }> {
    const browser = new Browser(issuer);
    const first = await browser.fetch(url.href);
    expect(first.status).toBe(303);
    const login = new URL(first.headers.get('location') ?? '', issuer);
    expect(login.pathname).toBe('/login');
    const returnTo = login.searchParams.get('return_to') ?? '';
    const signedIn = await browser.login(email, DEFAULT_PASSWORD, returnTo);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe(returnTo);
    const page = await browser.fetch(returnTo);
    expect(page.status).toBe(200);
    const consent = await page.text();
    const shown = [...consent.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(shown).toEqual(['documents:read']);
    const allowed = await browser.postForm('/oauth/authorize', [
      ['csrf', hiddenField(consent, 'csrf')],
      ['authorization_request', hiddenField(consent, 'authorization_request')],
      ...shown.map((s) => ['scope', s] as const),
      ['decision', 'allow'],
    ]);
    expect(allowed.status).toBe(303);
    return { consent, redirect: new URL(allowed.headers.get('location') ?? '') };
  }

  interface Flow {
    readonly provider: MemoryOAuthProvider;
    /** What the SDK sent before the person was sent to Tollgate, and for the code exchange. */
    readonly first: RecordedRequest[];
    readonly exchange: RecordedRequest[];
    readonly consent: string;
    readonly redirect: URL;
    /** Connected again with the tokens. */
    readonly client: Client;
  }

  /**
   * The SDK's OAuth flow as an MCP client runs it: connect, get the 401, discover, register (or
   * not), send the person to Tollgate (`redirectToAuthorization`, scripted here); then
   * `finishAuth(code)` and connect again with the tokens.
   */
  async function authorizeAndConnect(email: string, opts: { clientMetadata: OAuthClientMetadata; clientMetadataUrl?: string }): Promise<Flow> {
    const log: RecordedRequest[] = [];
    let person: { consent: string; redirect: URL } | null = null;
    const provider = new MemoryOAuthProvider({
      redirectUrl,
      clientMetadata: opts.clientMetadata,
      ...(opts.clientMetadataUrl !== undefined ? { clientMetadataUrl: opts.clientMetadataUrl } : {}),
      authorize: async (url) => {
        person = await signInAndAllow(url, email);
      },
    });
    const transport = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider, fetch: recordingFetch(log) });
    const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const first = log.splice(0);
    const done = person as { consent: string; redirect: URL } | null;
    if (done === null) throw new Error('the SDK did not send the person to Tollgate');
    await transport.finishAuth(done.redirect.searchParams.get('code') ?? '');
    const exchange = log.splice(0);
    await transport.close();

    const connected = new Client({ name: 'tollgate-test', version: '1.0.0' });
    await connected.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider, fetch: recordingFetch(log) }));
    return { provider, first, exchange, consent: done.consent, redirect: done.redirect, client: connected };
  }

  const clientMetadata: OAuthClientMetadata = {
    client_name: 'Research Agent',
    redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };

  it('publishes its protected resource metadata (path-inserted and root) and challenges a request without a token', async () => {
    const expected = {
      resource,
      authorization_servers: [issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['documents:read'],
      resource_name: 'Documents (MCP)',
    };
    for (const url of [metadataUrl, new URL('/.well-known/oauth-protected-resource', resource).href]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual(expected);
    }
    const none = await fetch(resource, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    expect(await none.json()).toEqual({ error: 'invalid_request', error_description: 'An access token is required' });
    const get = await fetch(resource);
    expect(get.status).toBe(401);
    expect(get.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
  });

  const asRows = (log: readonly RecordedRequest[]): Array<[string, string, number]> => log.map((r) => [r.method, r.url, r.status]);

  it('dynamic registration: the SDK discovers the metadata and Tollgate, registers, the person signs in and allows, the tools answer for them', async () => {
    const flow = await authorizeAndConnect('dana@example.com', { clientMetadata: { ...clientMetadata, client_name: 'Notes Agent', redirect_uris: [redirectUrl] } });
    const { provider, first, exchange, consent, redirect, client } = flow;
    // The 401 names the metadata; the metadata names Tollgate; Tollgate's metadata has a
    // registration endpoint, and no metadata document URL was given: the SDK registers.
    expect(asRows(first)).toEqual([
      ['POST', resource, 401],
      ['GET', metadataUrl, 200],
      ['GET', `${issuer}/.well-known/oauth-authorization-server`, 200],
      ['POST', `${issuer}/oauth/register`, 201],
    ]);
    expect(JSON.parse(first[3]?.body ?? '')).toEqual({
      client_name: 'Notes Agent',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      // The scope of the resource metadata (the 401 named none).
      scope: 'documents:read',
    });
    const clientId = provider.clientInfo?.client_id ?? '';
    expect(clientId).toMatch(/^tgc_[A-Za-z0-9_-]{22}$/);
    expect(provider.clientInfo).toMatchObject({ client_id: clientId, client_name: 'Notes Agent', token_endpoint_auth_method: 'none', scope: 'documents:read', issuer });
    expect(provider.clientInfo).not.toHaveProperty('client_secret');

    // The authorization request: PKCE, the state, the scope and the MCP endpoint as `resource`.
    expect(provider.authorizationUrls).toHaveLength(1);
    const asked = provider.authorizationUrls[0] as URL;
    expect(`${asked.origin}${asked.pathname}`).toBe(`${issuer}/oauth/authorize`);
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      response_type: 'code',
      client_id: clientId,
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      redirect_uri: redirectUrl,
      state: provider.states[0],
      scope: 'documents:read',
      resource,
    });
    expect(consent).toContain('Notes Agent wants to access your account');
    expect(consent).toContain('Read your documents');
    expect(consent).toContain('This application registered itself: Tollgate has not verified who runs it.');
    expect(consent).toContain(`You will be sent to <strong>${new URL(redirectUrl).host}</strong>`);
    expect(consent).not.toContain('identifies itself with a document');
    // Back to the client with a code, its state, and Tollgate named as the issuer (RFC 9207).
    expect(`${redirect.origin}${redirect.pathname}`).toBe(redirectUrl);
    expect(redirect.searchParams.get('code')).toMatch(/^tgo_/);
    expect(redirect.searchParams.get('state')).toBe(provider.states[0]);
    expect(redirect.searchParams.get('iss')).toBe(issuer);

    // finishAuth: discovery again, then the code exchange for the same resource.
    expect(asRows(exchange)).toEqual([
      ['GET', metadataUrl, 200],
      ['GET', `${issuer}/.well-known/oauth-authorization-server`, 200],
      ['POST', `${issuer}/oauth/token`, 200],
    ]);
    expect(Object.fromEntries(new URLSearchParams(exchange[2]?.body ?? ''))).toEqual({
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code'),
      code_verifier: provider.codeVerifier(),
      redirect_uri: redirectUrl,
      resource,
      client_id: clientId,
    });
    expect(provider.savedTokens).toEqual({
      access_token: expect.stringMatching(/^tga_/),
      refresh_token: expect.stringMatching(/^tgr_/),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'documents:read',
      issuer,
    });

    // Connected with the token: the tools, and who they answer for.
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'list_documents']);
    expect(toolJson(await client.callTool({ name: 'whoami' }))).toEqual({ subject: users.dana, client_id: clientId, scopes: ['documents:read'], audience: [resource] });
    expect(toolJson(await client.callTool({ name: 'list_documents' }))).toEqual({
      count: 2,
      documents: [
        { id: 'welcome', title: 'Welcome', content: 'Shared with everyone.', shared: true },
        { id: 'dana-notes', title: "Dana's notes", content: 'Buy milk.', shared: false },
      ],
    });
    await client.close();
  });

  it('Client ID Metadata Document: Tollgate supports it, so the SDK uses the document URL as client_id, registers nothing; the consent page names the document host', async () => {
    const asMetadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
    expect(((await asMetadata.json()) as Json)['client_id_metadata_document_supported']).toBe(true);
    expect(documentHits).toEqual([]);

    const flow = await authorizeAndConnect('eli@example.com', { clientMetadata: { ...clientMetadata, redirect_uris: [redirectUrl] }, clientMetadataUrl: documentUrl });
    const { provider, first, exchange, consent, redirect, client } = flow;
    expect(asRows(first)).toEqual([
      ['POST', resource, 401],
      ['GET', metadataUrl, 200],
      ['GET', `${issuer}/.well-known/oauth-authorization-server`, 200],
    ]);
    expect(provider.clientInfo).toEqual({ client_id: documentUrl, issuer });
    const asked = provider.authorizationUrls[0] as URL;
    expect(provider.authorizationUrls).toHaveLength(1);
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({ client_id: documentUrl, redirect_uri: redirectUrl, scope: 'documents:read', resource, code_challenge_method: 'S256' });

    // What the person is shown: the name from the document, the host it is published at, where
    // they will be sent, and that every redirect URI is on their own computer.
    expect(consent).toContain('Research Agent wants to access your account');
    expect(consent).toContain(`This application identifies itself with a document published at <strong>${new URL(documentUrl).host}</strong>.`);
    expect(consent).toContain(`You will be sent to <strong>${new URL(redirectUrl).host}</strong>`);
    expect(consent).toContain('Every address this application returns to is on your own computer (localhost)');
    expect(consent).toContain('Read your documents');
    expect(redirect.searchParams.get('state')).toBe(provider.states[0]);
    expect(redirect.searchParams.get('iss')).toBe(issuer);

    expect(asRows(exchange)).toEqual([
      ['GET', metadataUrl, 200],
      ['GET', `${issuer}/.well-known/oauth-authorization-server`, 200],
      ['POST', `${issuer}/oauth/token`, 200],
    ]);
    expect(new URLSearchParams(exchange[2]?.body ?? '').get('client_id')).toBe(documentUrl);
    expect(provider.savedTokens).toMatchObject({ token_type: 'Bearer', scope: 'documents:read', refresh_token: expect.stringMatching(/^tgr_/), issuer });

    expect(toolJson(await client.callTool({ name: 'whoami' }))).toEqual({ subject: users.eli, client_id: documentUrl, scopes: ['documents:read'], audience: [resource] });
    expect(toolJson(await client.callTool({ name: 'list_documents' }))).toEqual({
      count: 2,
      documents: [
        { id: 'welcome', title: 'Welcome', content: 'Shared with everyone.', shared: true },
        { id: 'eli-plan', title: "Eli's plan", content: 'Ship it.', shared: false },
      ],
    });
    await client.close();
    // Fetched once for the whole flow (page, approval, code exchange): cached for its max-age.
    expect(documentHits).toEqual(['/mcp-client.json']);
  });

  /** A client-credentials token of one of the Reports robots. */
  async function robotToken(app: { id: string; secret: string }, scope: string, forResource: string): Promise<string> {
    const r = await postForm(`${issuer}/oauth/token`, { grant_type: 'client_credentials', scope, resource: forResource }, { authorization: basic(app.id, app.secret) });
    expect(r.status).toBe(200);
    return String(r.json['access_token']);
  }

  const rpc = (token: string, body: unknown): Promise<Response> =>
    fetch(resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(body),
    });
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'probe', version: '1.0.0' } } };

  it('a token issued for another resource server is refused: 401 invalid_token, with the metadata to get the right one', async () => {
    // A JWT for the Reports API: its audience is checked locally.
    const jwt = await robotToken(reportsJwtApp, 'reports:read', reports);
    expect(jwt.split('.')).toHaveLength(3);
    const refused = await rpc(jwt, initialize);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="The access token was issued for another audience", resource_metadata="${metadataUrl}"`,
    );
    expect(await refused.json()).toEqual({ error: 'invalid_token', error_description: 'The access token was issued for another audience' });

    // An opaque one: Tollgate does not describe it to the MCP server's introspection.
    const opaque = await robotToken(reportsOpaqueApp, 'reports:read', reports);
    expect(opaque).toMatch(/^tga_/);
    const refusedOpaque = await rpc(opaque, initialize);
    expect(refusedOpaque.status).toBe(401);
    expect(refusedOpaque.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked", resource_metadata="${metadataUrl}"`,
    );
    expect(await refusedOpaque.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' });

    // The SDK client with such a token and no way to get another one fails to connect.
    const stuck = new Client({ name: 'tollgate-test', version: '1.0.0' });
    const stuckConnect = stuck.connect(new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${jwt}` } } }));
    await expect(stuckConnect).rejects.toBeInstanceOf(StreamableHTTPError);
    await expect(stuckConnect).rejects.toMatchObject({
      code: 401,
      message: 'Streamable HTTP error: Error POSTing to endpoint: {"error":"invalid_token","error_description":"The access token was issued for another audience"}',
    });
  });

  it('a token for this server without documents:read: whoami answers, list_documents gets the 403 step-up challenge', async () => {
    const token = await robotToken(reportsJwtApp, 'profile', resource);
    const client = new Client({ name: 'tollgate-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    // A client-credentials token acts for the application itself.
    expect(toolJson(await client.callTool({ name: 'whoami' }))).toEqual({ subject: reportsJwtApp.id, client_id: reportsJwtApp.id, scopes: ['profile'], audience: [resource] });
    const listing = client.callTool({ name: 'list_documents' });
    await expect(listing).rejects.toBeInstanceOf(StreamableHTTPError);
    await expect(listing).rejects.toMatchObject({
      code: 403,
      message: 'Streamable HTTP error: Error POSTing to endpoint: {"error":"insufficient_scope","error_description":"This endpoint requires the scope: documents:read"}',
    });
    await client.close();

    const denied = await rpc(token, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_documents', arguments: {} } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="This endpoint requires the scope: documents:read", scope="documents:read", resource_metadata="${metadataUrl}"`,
    );
    expect(await denied.json()).toEqual({ error: 'insufficient_scope', error_description: 'This endpoint requires the scope: documents:read' });

    // With a valid token: a body that is not JSON is a JSON-RPC parse error; GET (no stream) is 405.
    const garbled = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"jsonrpc":' });
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    const stream = await fetch(resource, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
    expect(stream.status).toBe(405);
    expect(stream.headers.get('allow')).toBe('POST');
    expect(await stream.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null });
  });
});
