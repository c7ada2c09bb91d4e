/**
 * The peer: node-oidc-provider 9 (in-memory adapter) with two confidential clients.
 * - `PEER_CLIENT_ID`, allowed `client_credentials`:
 *   - without `resource`: opaque access tokens (kept in the provider's in-memory adapter);
 *   - with `resource=urn:bench:api`: ES256-signed JWT access tokens (resource indicators, RFC 8707);
 *   - introspection at /token/introspection.
 * - `PEER_CODE_CLIENT_ID` (same secret), allowed `authorization_code` and `refresh_token`, with the
 *   redirect URI `PEER_REDIRECT_URI`: the code flow with PKCE, as plain OAuth (`scope=profile`) or
 *   OpenID Connect (`scope=openid profile` + `nonce`, an RS256 ID token in the token response).
 *   A refresh token is issued with every code, as Tollgate's code application gets one.
 *   `GET /interaction/:uid` stands in for the sign-in and consent pages: it signs in the one
 *   account (`alice`) and grants what the request asked for, in one step. The driver goes through
 *   it once; afterwards the session cookie and the remembered grant take every authorization
 *   request straight to the redirect with a code, as Tollgate's remembered consent does.
 * - `PEER_DEVICE_CLIENT_ID`, a public client allowed the device authorization grant (RFC 8628):
 *   device codes at /device/auth, polled at /token.
 * - `PEER_PKJ_CLIENT_ID` with the public keys `PEER_PKJ_JWKS` (a JWK Set, JSON), allowed
 *   `client_credentials` and authenticating with `private_key_jwt` (RFC 7523): its own assertion
 *   checks and jti replay store.
 * Credentials come from the environment so the driver knows them.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env['PORT'] ?? 0);
const clientId = process.env['PEER_CLIENT_ID'] ?? 'bench-client';
const codeClientId = process.env['PEER_CODE_CLIENT_ID'] ?? 'bench-code';
const clientSecret = process.env['PEER_CLIENT_SECRET'] ?? 'bench-secret-bench-secret-bench-secret';
const redirectUri = process.env['PEER_REDIRECT_URI'] ?? 'http://127.0.0.1:9000/callback';
const deviceClientId = process.env['PEER_DEVICE_CLIENT_ID'] ?? 'bench-device';
const pkjClientId = process.env['PEER_PKJ_CLIENT_ID'];
const pkjJwks = process.env['PEER_PKJ_JWKS'];
export const RESOURCE = 'urn:bench:api';
const ACCOUNT = 'alice';

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
    {
      client_id: codeClientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [redirectUri],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    {
      // RFC 8628: a public device client, polling with its client_id alone.
      client_id: deviceClientId,
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'none',
    },
    ...(pkjClientId && pkjJwks
      ? [
          {
            client_id: pkjClientId,
            grant_types: ['client_credentials'],
            redirect_uris: [],
            response_types: [],
            scope: 'api:read',
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'ES256',
            jwks: JSON.parse(pkjJwks) as { keys: object[] },
          },
        ]
      : []),
  ],
  scopes: ['api:read', 'openid', 'offline_access'],
  claims: { openid: ['sub'], profile: ['name'] },
  findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, name: 'Alice' }) }),
  // Like Tollgate's code application (authorization_code + refresh_token), every code brings a
  // refresh token, with or without offline_access.
  issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
  cookies: { keys: ['bench-cookie-key-bench-cookie-key'] },
  ttl: { ClientCredentials: 3600, AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 14 * 86400, Session: 86400, Grant: 14 * 86400, Interaction: 600 },
  jwks: { keys: [{ ...rsa, kid: 'rs', use: 'sig', alg: 'RS256' }, { ...ec, kid: 'es', use: 'sig', alg: 'ES256' }] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
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

/** Sign-in and consent in one step: the account, and a grant for exactly what was requested. */
async function interaction(req: Parameters<Provider['interactionDetails']>[0], res: Parameters<Provider['interactionDetails']>[1]): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const params = details.params as { client_id: string; scope?: string };
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((err: unknown) => {
      console.error('interaction', err);
      res.statusCode = 500;
      res.end();
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
