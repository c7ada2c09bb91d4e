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
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMcpServerApp, type McpDocument } from '../examples/mcp-server/app.js';
import { MemoryOAuthProvider, loopbackCertificate, recordingFetch, type RecordedRequest } from './helpers/mcp.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';
import { Browser, DEFAULT_PASSWORD, basic, freePort, hiddenField, postForm } from './helpers/server.js';

const ROOT = resolve(import.meta.dirname, '..');
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

  it('dynamic registration: the SDK discovers the metadata and Tollgate, registers, the person signs in and allows, the tools answer for them', async () => {
    const flow = await authorizeAndConnect('dana@example.com', { clientMetadata: { ...clientMetadata, redirect_uris: [redirectUrl] } });
    console.log(flow.first, flow.exchange, flow.provider.authorizationUrls, flow.redirect, flow.provider.savedTokens, flow.provider.clientInfo);
    const who = toolJson(await flow.client.callTool({ name: 'whoami' }));
    console.log(who);
    const docs = toolJson(await flow.client.callTool({ name: 'list_documents' }));
    console.log(docs);
    await flow.client.close();
  });
});
