/**
 * The peer: node-oidc-provider 9 with one confidential client allowed `client_credentials`.
 * - without `resource`: opaque access tokens (kept in the provider's in-memory adapter);
 * - with `resource=urn:bench:api`: ES256-signed JWT access tokens (resource indicators, RFC 8707);
 * - introspection at /token/introspection.
 * Credentials come from the environment so the driver knows them.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env['PORT'] ?? 0);
const clientId = process.env['PEER_CLIENT_ID'] ?? 'bench-client';
const clientSecret = process.env['PEER_CLIENT_SECRET'] ?? 'bench-secret-bench-secret-bench-secret';
export const RESOURCE = 'urn:bench:api';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'api:read',
    },
  ],
  scopes: ['api:read'],
  ttl: { ClientCredentials: 3600 },
  jwks: { keys: [{ ...rsa, kid: 'rs', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'es', use: 'sig', alg: 'ES256' }] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== RESOURCE) throw new Error('unknown resource');
        return { scope: 'api:read', accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
});
provider.on('server_error', (_ctx: unknown, err: Error) => console.error('server_error', err));
const server = createServer(provider.callback());
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
