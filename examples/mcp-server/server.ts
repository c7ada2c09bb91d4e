/**
 * Runs the Documents MCP server against a Tollgate:
 *
 *   TOLLGATE_ISSUER=http://localhost:8080 MCP_RESOURCE=http://localhost:3000/mcp \
 *   MCP_CLIENT_ID=tgc_… MCP_CLIENT_SECRET=tgs_… \
 *   node --import tsx examples/mcp-server/server.ts
 *
 * Environment: TOLLGATE_ISSUER (default http://localhost:8080), MCP_RESOURCE (default
 * http://localhost:3000/mcp: the MCP endpoint's URL, registered in Tollgate as the resource
 * server's identifier; the server answers on its path), MCP_CLIENT_ID / MCP_CLIENT_SECRET (this
 * server's own application, named as the resource server's introspector, to check opaque tokens;
 * without them only JWT access tokens are accepted), PORT (default: MCP_RESOURCE's port), HOST
 * (127.0.0.1).
 */
import { buildMcpServerApp, createMcpVerifier } from './app.js';

const env = process.env;
const issuer = env['TOLLGATE_ISSUER'] ?? 'http://localhost:8080';
const resource = env['MCP_RESOURCE'] ?? 'http://localhost:3000/mcp';
const clientId = env['MCP_CLIENT_ID'];
const clientSecret = env['MCP_CLIENT_SECRET'];
const resourceUrl = new URL(resource);
const port = Number(env['PORT'] ?? (resourceUrl.port || (resourceUrl.protocol === 'https:' ? 443 : 80)));
const host = env['HOST'] ?? '127.0.0.1';

const verifier = createMcpVerifier({ issuer, resource, introspection: clientId && clientSecret ? { clientId, clientSecret } : undefined });
const app = buildMcpServerApp({ resource, verifier });
const server = app.listen(port, host, (err?: Error) => {
  if (err) {
    console.error(`Documents MCP server: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(
    `Documents MCP server listening on http://${host}:${port} (MCP endpoint ${resource}, issuer ${issuer}` +
      `${clientId ? '' : ', JWT access tokens only: no introspection credentials'}; metadata at ${verifier.resourceMetadata?.url ?? ''})`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
