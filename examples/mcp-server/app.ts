/**
 * The Documents MCP server: a small Model Context Protocol server whose `/mcp` endpoint (Streamable
 * HTTP) accepts only access tokens Tollgate issued for it, checked by `tollgate/resource`.
 *
 * - `GET /.well-known/oauth-protected-resource/mcp` (and, for clients that only look there, the
 *   root form `/.well-known/oauth-protected-resource`): its protected resource metadata (RFC 9728),
 *   which names Tollgate as the authorization server and `documents:read` as its scope.
 * - `POST /mcp` without a valid token: `401` with `WWW-Authenticate: Bearer …,
 *   resource_metadata="…"`, which is where an MCP client starts its OAuth flow.
 * - Tools: `whoami` (any valid token: who the token acts for, its application, scopes and
 *   audience) and `list_documents` (`documents:read`: the shared documents and the caller's own).
 *   A call to a tool whose scope the token lacks gets `403 insufficient_scope` with the scope to
 *   ask for (the MCP specification's step-up challenge); the tool itself checks again.
 *
 * The resource identifier (the token audience, registered in Tollgate as a resource server) is
 * the URL of the MCP endpoint itself, e.g. `http://localhost:3000/mcp`. The server is stateless:
 * each POST gets its own `McpServer` and transport, so nothing of one caller is kept for another.
 *
 * In your own project, import from the package instead: `from 'tollgate/resource'`.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { hostHeaderValidation } from '@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  BearerError,
  RESOURCE_METADATA_PREFLIGHT,
  bearer,
  createVerifier,
  errorResponse,
  parseAuthorizationHeader,
  requireScopes,
  resourceMetadata,
  resourceMetadataResponse,
  type VerifiedToken,
  type Verifier,
} from '../../src/resource/index.js';

/** The one scope this server defines (registered in Tollgate with the resource server). */
export const DOCUMENTS_READ = 'documents:read';

/** The scopes each tool needs; an empty list: any valid token for this server. */
export const TOOL_SCOPES: Readonly<Record<string, readonly string[]>> = {
  whoami: [],
  list_documents: [DOCUMENTS_READ],
};

export interface McpDocument {
  readonly id: string;
  readonly title: string;
  readonly content: string;
  /** The `sub` of the person (or application) it belongs to; `null`: shared with everyone. */
  readonly owner: string | null;
}

export interface McpServerAppOptions {
  /** The MCP endpoint's URL: the resource identifier registered in Tollgate (the token audience). */
  readonly resource: string;
  /**
   * The token verifier. Default: `createMcpVerifier({ issuer, resource, introspection })`. A
   * verifier given here must publish resource metadata (`createVerifier({ resourceMetadata })`).
   */
  readonly verifier?: Verifier;
  /** Tollgate's issuer, when no verifier is given. */
  readonly issuer?: string;
  /** This server's own credentials in Tollgate, to introspect opaque tokens (RFC 7662). */
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string };
  /** The documents served (default: one shared welcome document). Kept in memory. */
  readonly documents?: readonly McpDocument[];
}

export const DEFAULT_DOCUMENTS: readonly McpDocument[] = [
  { id: 'welcome', title: 'Welcome', content: 'This document is shared with everyone who may read documents.', owner: null },
];

/** A verifier for the MCP endpoint: its URL is the audience, and it publishes RFC 9728 metadata. */
export function createMcpVerifier(opts: {
  readonly issuer: string;
  readonly resource: string;
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string } | undefined;
}): Verifier {
  return createVerifier({
    issuer: opts.issuer,
    audience: opts.resource,
    introspection: opts.introspection,
    resourceMetadata: { resource: opts.resource, resourceName: 'Documents (MCP)', scopesSupported: [DOCUMENTS_READ] },
  });
}

/** The verified token as the MCP SDK hands it to tool handlers (`extra.authInfo`). */
function authInfo(token: VerifiedToken, raw: string, resource: string): AuthInfo {
  return {
    token: raw,
    clientId: token.clientId,
    scopes: [...token.scopes],
    ...(token.expiresAt !== null ? { expiresAt: Math.floor(token.expiresAt.getTime() / 1000) } : {}),
    resource: new URL(resource),
    extra: { subject: token.subject, audience: [...token.audience] },
  };
}

function text(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/** The tool's own check of its scope (the HTTP gate already refused the call; this is the backstop). */
function missingScope(auth: AuthInfo | undefined, tool: string): CallToolResult | null {
  const needed = TOOL_SCOPES[tool] ?? [];
  if (auth === undefined) return { isError: true, content: [{ type: 'text', text: 'This tool needs an access token' }] };
  if (needed.every((s) => auth.scopes.includes(s))) return null;
  return { isError: true, content: [{ type: 'text', text: `This tool needs the scope: ${needed.join(' ')}` }] };
}

function subjectOf(auth: AuthInfo | undefined): string | null {
  const subject = auth?.extra?.['subject'];
  return typeof subject === 'string' ? subject : null;
}

/** One MCP server per request (stateless): its tools read the caller from `extra.authInfo`. */
function mcpServer(documents: readonly McpDocument[]): McpServer {
  const server = new McpServer({ name: 'tollgate-documents', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'Who the access token acts for: its subject, application, scopes and audience.', annotations: { readOnlyHint: true } },
    (extra) => {
      const auth = extra.authInfo;
      const refused = missingScope(auth, 'whoami');
      if (refused) return refused;
      return text({ subject: subjectOf(auth), client_id: auth?.clientId, scopes: auth?.scopes, audience: auth?.extra?.['audience'] });
    },
  );
  server.registerTool(
    'list_documents',
    { title: 'List documents', description: 'The documents you may read: the shared ones and your own (needs documents:read).', annotations: { readOnlyHint: true } },
    (extra) => {
      const auth = extra.authInfo;
      const refused = missingScope(auth, 'list_documents');
      if (refused) return refused;
      const subject = subjectOf(auth);
      const visible = documents.filter((d) => d.owner === null || d.owner === subject);
      return text({ count: visible.length, documents: visible.map(({ id, title, content, owner }) => ({ id, title, content, shared: owner === null })) });
    },
  );
  return server;
}

/** JSON-RPC `tools/call` requests in a body (a single message or, from older clients, a batch). */
function toolCalls(body: unknown): string[] {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const m of messages) {
    if (typeof m !== 'object' || m === null) continue;
    const { method, params } = m as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const name = (params as { name?: unknown }).name;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

/** CORS for browser-based MCP clients: the token travels in a header, never a cookie. */
const CORS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'WWW-Authenticate, Mcp-Session-Id',
};
const CORS_PREFLIGHT: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID',
  'access-control-max-age': '600',
};

const jsonRpcError = (res: Response, status: number, code: number, message: string): void => {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
};

export function buildMcpServerApp(opts: McpServerAppOptions): Express {
  const resource = opts.resource;
  let verifier = opts.verifier;
  if (verifier === undefined) {
    if (opts.issuer === undefined) throw new TypeError('buildMcpServerApp: give a verifier, or the issuer to build one');
    verifier = createMcpVerifier({ issuer: opts.issuer, resource, introspection: opts.introspection });
  }
  const metadata = verifier.resourceMetadata;
  if (metadata === null) throw new TypeError('buildMcpServerApp: the verifier must publish resource metadata (createVerifier({ resourceMetadata }))');
  if (!verifier.audience.includes(resource)) throw new TypeError(`buildMcpServerApp: the verifier's audience must include the resource ${resource}`);
  const endpoint = new URL(resource).pathname;
  const documents = [...(opts.documents ?? DEFAULT_DOCUMENTS)];

  const app = express();
  app.disable('x-powered-by');
  // DNS rebinding protection: only requests addressed to the host the resource identifier names.
  app.use(hostHeaderValidation([new URL(resource).hostname]));

  // RFC 9728 §3.1: the metadata at the path-inserted well-known URL (the one every challenge
  // names) ...
  app.use(resourceMetadata(verifier));
  // ... and the same document at the root, for clients that only look there.
  if (metadata.path !== '/.well-known/oauth-protected-resource') {
    app.options('/.well-known/oauth-protected-resource', (_req, res) => {
      res.status(204).set(RESOURCE_METADATA_PREFLIGHT).end();
    });
    app.get('/.well-known/oauth-protected-resource', (_req, res) => {
      const r = resourceMetadataResponse(metadata);
      res.status(r.status).set(r.headers).send(JSON.stringify(r.body));
    });
  }

  app.options(endpoint, (_req, res) => {
    res.status(204).set(CORS_PREFLIGHT).end();
  });

  const cors = (_req: Request, res: Response, next: NextFunction): void => {
    res.set(CORS);
    next();
  };

  // Before a tool runs: the token must hold the tool's scopes, or the client gets the step-up
  // challenge (403 insufficient_scope, the scope, and where the metadata is).
  const toolScopes = (req: Request, res: Response, next: NextFunction): void => {
    const token = req.accessToken;
    try {
      for (const name of toolCalls(req.body)) {
        if (token === undefined) throw new TypeError('no verified token');
        try {
          requireScopes(token, TOOL_SCOPES[name] ?? []);
        } catch (err) {
          if (err instanceof BearerError) err.withChallenge([['resource_metadata', metadata.url]]);
          throw err;
        }
      }
    } catch (err) {
      if (!(err instanceof BearerError)) {
        next(err);
        return;
      }
      const r = errorResponse(err);
      res.status(r.status).set(r.headers).send(JSON.stringify(r.body));
      return;
    }
    next();
  };

  app.post(endpoint, cors, bearer(verifier), express.json({ limit: '1mb' }), toolScopes, async (req: Request, res: Response) => {
    const token = req.accessToken;
    if (token === undefined) {
      jsonRpcError(res, 500, -32603, 'Internal server error');
      return;
    }
    // Already checked by `bearer`: the one well-formed Bearer credential of the request.
    const raw = parseAuthorizationHeader(req.headers.authorization);
    const server = mcpServer(documents);
    // Stateless: no session id, one transport per request; JSON answers rather than SSE streams.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      const request: Request & { auth?: AuthInfo } = req;
      request.auth = authInfo(token, raw, resource);
      await transport.handleRequest(request, res, req.body);
    } catch {
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error');
    }
  });

  // A stateless server offers no server-to-client stream (GET) and has no session to end
  // (DELETE); a token is still required, so that an unauthenticated probe learns where to get one.
  const notAllowed = (_req: Request, res: Response): void => {
    res.set('allow', 'POST');
    jsonRpcError(res, 405, -32000, 'Method not allowed');
  };
  app.get(endpoint, cors, bearer(verifier), notAllowed);
  app.delete(endpoint, cors, bearer(verifier), notAllowed);

  // A body that is not JSON is a JSON-RPC parse error; anything else unexpected, an internal error.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
    if (type === 'entity.parse.failed') jsonRpcError(res, 400, -32700, 'Parse error');
    else if (type === 'entity.too.large') jsonRpcError(res, 413, -32600, 'Request too large');
    else jsonRpcError(res, 500, -32603, 'Internal server error');
  });

  return app;
}
