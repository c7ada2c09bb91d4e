/**
 * Runs the Documents API against a Tollgate:
 *
 *   TOLLGATE_ISSUER=http://localhost:8080 DOCUMENTS_API_AUDIENCE=http://localhost:4000 \
 *   DOCUMENTS_API_CLIENT_ID=tgc_… DOCUMENTS_API_CLIENT_SECRET=tgs_… \
 *   node --import tsx examples/documents-api/server.ts
 *
 * Environment: TOLLGATE_ISSUER (default http://localhost:8080), DOCUMENTS_API_AUDIENCE (default
 * http://localhost:4000), DOCUMENTS_API_CLIENT_ID / DOCUMENTS_API_CLIENT_SECRET (introspection
 * of opaque tokens; without them only JWT access tokens are accepted), DOCUMENTS_API_CACHE_TTL
 * (seconds, default 5: the revocation delay for opaque tokens), PORT (4000), HOST (127.0.0.1).
 */
import { createVerifier } from '../../src/resource/index.js';
import { buildDocumentsApi } from './app.js';

const env = process.env;
const issuer = env['TOLLGATE_ISSUER'] ?? 'http://localhost:8080';
const audience = env['DOCUMENTS_API_AUDIENCE'] ?? 'http://localhost:4000';
const clientId = env['DOCUMENTS_API_CLIENT_ID'];
const clientSecret = env['DOCUMENTS_API_CLIENT_SECRET'];
const port = Number(env['PORT'] ?? 4000);
const host = env['HOST'] ?? '127.0.0.1';
const cacheTtl = env['DOCUMENTS_API_CACHE_TTL'] === undefined ? undefined : Number(env['DOCUMENTS_API_CACHE_TTL']);

const verifier = createVerifier({
  issuer,
  audience,
  realm: 'documents',
  introspection: clientId && clientSecret ? { clientId, clientSecret } : undefined,
  cacheTtl,
  // RFC 9728: the API says which authorization server issues its tokens, at
  // /.well-known/oauth-protected-resource (served by the plugin), and every 401 points there.
  resourceMetadata: { resource: audience, resourceName: 'Documents API', scopesSupported: ['documents:read', 'documents:write'] },
});
const app = await buildDocumentsApi({ verifier });
await app.listen({ port, host });
const address = app.server.address();
const url = `http://${host}:${typeof address === 'object' && address !== null ? address.port : port}`;
console.log(`Documents API listening on ${url} (issuer ${issuer}, audience ${audience}${clientId ? '' : ', JWT access tokens only: no introspection credentials'})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
