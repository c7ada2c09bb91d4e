/**
 * Dynamic client registration (RFC 7591) and management (RFC 7592), A8.
 *
 * Accepts JSON or form-encoded metadata, `scope` or `scopes`, `client_uri` or `website`
 * (Gancio's shape). The registrant never chooses its client_id; URIs are validated like every
 * other redirect URI; nothing registered (logo, website) is fetched server-side. Registered
 * applications get only the scopes configuration allows, a default scope when none is asked,
 * and only the grant types configuration allows.
 */
import { KEY_ALGS, isLocalHostname, type KeyAlg } from '../../config.js';
import type { ClientRow, GrantType, OidcClientSettings } from '../../storage/types.js';
import type { OAuthContext } from '../../oauth/context.js';
import { OAuthError, invalidClientMetadata, invalidRedirectUri, invalidRequest, invalidToken } from '../../oauth/errors.js';
import { secretMatchesHash, sha256 } from '../../oauth/crypto.js';
import { authMethodOf, createApp, deleteApp, updateApp, type AppInput } from '../../services/apps.js';
import { ASSERTION_ALGORITHMS } from '../../oauth/client-assertion.js';

const MAX_REDIRECT_URIS = 10;

/** Metadata as received: values are strings or lists of strings. */
export type RawMetadata = Readonly<Record<string, unknown>>;

function str(meta: RawMetadata, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = meta[n];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw invalidClientMetadata(`${n} must be a string`);
    return v;
  }
  return undefined;
}

function list(meta: RawMetadata, name: string): string[] | undefined {
  const v = meta[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((s) => s.length > 0);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalidClientMetadata(`${name} must be a list of strings`);
}

/** Turns registration metadata into an application input under the configured policy. */
function toAppInput(ctx: OAuthContext, meta: RawMetadata): AppInput {
  if ('client_id' in meta || 'client_secret' in meta) {
    // RFC 7591 §3.1: the server issues the identifier; the registrant never chooses it.
  }
  const name = str(meta, 'client_name', 'name');
  if (name === undefined) throw invalidClientMetadata('client_name is required');
  const redirectUris = list(meta, 'redirect_uris') ?? [];
  // Issue #15 §3: an anonymous registration stays small.
  if (redirectUris.length > MAX_REDIRECT_URIS) throw invalidClientMetadata(`At most ${MAX_REDIRECT_URIS} redirect_uris`);
  if (redirectUris.some((u) => u.length > 1000)) throw invalidRedirectUri('A redirect URI is too long (1000 characters max)');
  const asked = list(meta, 'scope') ?? list(meta, 'scopes') ?? [];
  const allowed = ctx.config.registrationScopes;
  // `openid` and `offline_access` need not be held: any application may ask for them for a person.
  const personScopes = ctx.features.personScopes;
  const refused = asked.filter((s) => !allowed.includes(s) && !personScopes.includes(s));
  if (refused.length > 0) throw invalidClientMetadata(`Scope not available to registered applications: ${refused.join(' ')}`);
  const held = asked.filter((s) => !personScopes.includes(s));
  const scopes = held.length > 0 ? held : [...ctx.config.registrationDefaultScope];

  const grantTypes = (list(meta, 'grant_types') ?? ['authorization_code', 'refresh_token']) as GrantType[];
  const badGrant = grantTypes.filter((g) => !ctx.config.registrationGrantTypes.includes(g));
  if (badGrant.length > 0) throw invalidClientMetadata(`Grant type not available to registered applications: ${badGrant.join(' ')}`);
  // RFC 7591 §2.1: omitted response_types follow the grant types (none for a machine-only client).
  const responseTypes = list(meta, 'response_types') ?? [
    ...(grantTypes.includes('authorization_code') ? ['code'] : []),
    ...(grantTypes.includes('implicit') ? ['token'] : []),
  ];
  for (const rt of responseTypes) {
    if (rt === 'code' && !grantTypes.includes('authorization_code')) throw invalidClientMetadata('response_type code needs the authorization_code grant');
    const type = ctx.features.responseType(rt);
    if (!type) throw invalidClientMetadata(`Unsupported response_type "${rt}"`);
    if (!grantTypes.includes(type.grantType as GrantType)) throw invalidClientMetadata(`response_type ${rt} needs the ${type.grantType} grant`);
  }
  // OpenID Connect Registration §2: the ID tokens' algorithm.
  const idAlg = str(meta, 'id_token_signed_response_alg');
  if (idAlg !== undefined && !(KEY_ALGS as readonly string[]).includes(idAlg)) {
    throw invalidClientMetadata(`Unsupported id_token_signed_response_alg "${idAlg}" (RS256, ES256 or EdDSA)`);
  }
  const oidc = ctx.features.has('openid-connect') ? oidcMetadata(meta, redirectUris, grantTypes) : undefined;
  const authMethod = str(meta, 'token_endpoint_auth_method') ?? 'client_secret_basic';
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'].includes(authMethod)) {
    throw invalidClientMetadata(`Unsupported token_endpoint_auth_method "${authMethod.slice(0, 40)}" (client_secret_basic, client_secret_post, private_key_jwt or none)`);
  }
  // RFC 7591 §2: jwks and jwks_uri for private_key_jwt (exactly one; the service checks them).
  const jwks = meta['jwks'];
  const jwksUri = str(meta, 'jwks_uri');
  if (authMethod !== 'private_key_jwt' && ((jwks !== undefined && jwks !== null) || jwksUri !== undefined)) {
    throw invalidClientMetadata('jwks and jwks_uri are used only with token_endpoint_auth_method private_key_jwt');
  }
  const signingAlg = str(meta, 'token_endpoint_auth_signing_alg');
  if (signingAlg !== undefined && !(ASSERTION_ALGORITHMS as readonly string[]).includes(signingAlg)) {
    throw invalidClientMetadata(`Unsupported token_endpoint_auth_signing_alg "${signingAlg.slice(0, 40)}" (an asymmetric algorithm: ${ASSERTION_ALGORITHMS.join(', ')})`);
  }
  return {
    name,
    description: str(meta, 'description') ?? null,
    website: str(meta, 'client_uri', 'website') ?? null,
    logoUri: str(meta, 'logo_uri') ?? null,
    redirectUris,
    scopes,
    grantTypes,
    public: authMethod === 'none',
    ...(authMethod === 'private_key_jwt' ? { privateKeyJwt: { jwks: jwks ?? null, jwksUri: jwksUri ?? null } } : {}),
    ...(idAlg !== undefined ? { idTokenSignedResponseAlg: idAlg as KeyAlg } : {}),
    ...(list(meta, 'post_logout_redirect_uris') !== undefined ? { postLogoutRedirectUris: list(meta, 'post_logout_redirect_uris') ?? [] } : {}),
    ...(oidc !== undefined ? { oidc } : {}),
  };
}

/** Metadata Tollgate cannot honour: refused rather than silently ignored (the application relies on it). */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  id_token_encrypted_response_alg: 'encrypted ID tokens are not supported',
  id_token_encrypted_response_enc: 'encrypted ID tokens are not supported',
  userinfo_encrypted_response_alg: 'encrypted UserInfo responses are not supported',
  userinfo_encrypted_response_enc: 'encrypted UserInfo responses are not supported',
  userinfo_signed_response_alg: 'UserInfo answers plain JSON only',
  request_object_encryption_alg: 'request objects are not supported',
  request_object_encryption_enc: 'request objects are not supported',
  request_uris: 'request_uri is not supported',
  frontchannel_logout_uri: 'front-channel logout is not supported; use backchannel_logout_uri',
  sector_identifier_uri: 'pairwise subjects are not supported',
};

function flag(meta: RawMetadata, name: string): boolean | undefined {
  const v = meta[name];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalidClientMetadata(`${name} must be true or false`);
}

/** OpenID Connect Registration §2 (and Back-Channel Logout §2.2) metadata. */
function oidcMetadata(meta: RawMetadata, redirectUris: readonly string[], grantTypes: readonly GrantType[]): OidcClientSettings {
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    if (meta[name] !== undefined && meta[name] !== null) throw invalidClientMetadata(`${name}: ${why}`);
  }
  const subjectType = str(meta, 'subject_type');
  if (subjectType !== undefined && subjectType !== 'public') throw invalidClientMetadata(`Unsupported subject_type "${subjectType.slice(0, 40)}" (public only)`);
  const applicationType = str(meta, 'application_type') ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') throw invalidClientMetadata('application_type must be web or native');
  if (applicationType === 'web' && grantTypes.includes('implicit')) {
    // §2: only a web application using implicit is held to https redirect URIs off localhost.
    // Code-flow web applications (and MCP or native ones, which omit the field) keep loopback URIs.
    for (const uri of redirectUris) {
      let u: URL | null = null;
      try {
        u = new URL(uri);
      } catch {
        // reported by the redirect URI checks
      }
      if (u !== null && (u.protocol !== 'https:' || isLocalHostname(u.hostname))) {
        throw invalidRedirectUri('A web application using implicit must redirect to https URIs that are not localhost (OpenID Connect Registration §2); use the code flow or application_type native');
      }
    }
  }
  const maxAge = meta['default_max_age'];
  let defaultMaxAge: number | null = null;
  if (maxAge !== undefined && maxAge !== null) {
    const n = typeof maxAge === 'string' && /^\d{1,9}$/.test(maxAge) ? Number(maxAge) : maxAge;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw invalidClientMetadata('default_max_age must be a whole number of seconds');
    defaultMaxAge = n;
  }
  // require_auth_time is only checked: every ID token carries auth_time.
  flag(meta, 'require_auth_time');
  // Complete (the defaults for what is omitted): an RFC 7592 update replaces the metadata.
  return {
    applicationType,
    defaultMaxAge,
    contacts: list(meta, 'contacts') ?? [],
    backchannelLogoutUri: str(meta, 'backchannel_logout_uri') ?? null,
    backchannelLogoutSessionRequired: flag(meta, 'backchannel_logout_session_required') ?? false,
  };
}

export interface RegistrationResponse {
  readonly [key: string]: unknown;
}

function response(ctx: OAuthContext, c: ClientRow, secrets: { clientSecret?: string | null; registrationAccessToken?: string | null }): RegistrationResponse {
  return {
    client_id: c.clientId,
    ...(secrets.clientSecret ? { client_secret: secrets.clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: Math.floor(c.createdAt / 1000),
    client_name: c.name,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    response_types: ctx.features.responseTypes().filter((t) => c.grantTypes.includes(ctx.features.responseType(t)?.grantType as GrantType)),
    token_endpoint_auth_method: authMethodOf(c),
    ...(c.privateKeyJwt?.jwks ? { jwks: c.privateKeyJwt.jwks } : {}),
    ...(c.privateKeyJwt?.jwksUri ? { jwks_uri: c.privateKeyJwt.jwksUri } : {}),
    scope: c.scopes.join(' '),
    ...(c.website ? { client_uri: c.website } : {}),
    ...(c.logoUri ? { logo_uri: c.logoUri } : {}),
    ...(ctx.features.has('openid-connect')
      ? {
          id_token_signed_response_alg: c.idTokenSignedResponseAlg ?? 'RS256',
          post_logout_redirect_uris: c.postLogoutRedirectUris,
          application_type: c.oidc.applicationType,
          subject_type: 'public',
          require_auth_time: true,
          ...(c.oidc.defaultMaxAge !== null ? { default_max_age: c.oidc.defaultMaxAge } : {}),
          ...(c.oidc.contacts.length > 0 ? { contacts: c.oidc.contacts } : {}),
          ...(c.oidc.backchannelLogoutUri !== null
            ? { backchannel_logout_uri: c.oidc.backchannelLogoutUri, backchannel_logout_session_required: c.oidc.backchannelLogoutSessionRequired }
            : {}),
        }
      : {}),
    ...(secrets.registrationAccessToken ? { registration_access_token: secrets.registrationAccessToken } : {}),
    registration_client_uri: `${ctx.config.issuer}/oauth/register/${encodeURIComponent(c.clientId)}`,
  };
}

function bearer(authorization: string | undefined): string | undefined {
  // RFC 6750 §2.1 b64token; the scheme name is case-insensitive (RFC 7235 §2.1).
  const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization?.trim() ?? '');
  return m?.[1];
}

/** RFC 7591 §3: POST /oauth/register. */
export async function register(
  ctx: OAuthContext,
  meta: RawMetadata,
  authorization: string | undefined,
  ip: string | null,
): Promise<RegistrationResponse> {
  const mode = ctx.config.registration;
  if (mode === 'off') throw new OAuthError('access_denied', 'Dynamic registration is disabled on this server', 403);
  if (mode === 'token') {
    // RFC 7591 §3: protected by an initial access token.
    const token = bearer(authorization);
    if (token === undefined || ctx.config.registrationToken === null || !secretMatchesHash(token, sha256(ctx.config.registrationToken))) {
      throw invalidToken('A valid initial access token is required to register');
    }
  }
  const created = await createApp(ctx, toAppInput(ctx, meta), { dynamic: true, ip });
  return response(ctx, created.client, created);
}

/** RFC 7592 §2: the registration access token authorizes read, update and delete of one client. */
async function authorizeManagement(ctx: OAuthContext, clientId: string, authorization: string | undefined): Promise<ClientRow> {
  const token = bearer(authorization);
  if (token === undefined) throw invalidToken('The registration access token is required');
  const client = await ctx.storage.clients.byId(clientId);
  // RFC 7592 §2.1: unknown client and wrong token alike get 401.
  if (!client || client.registrationTokenHash === null || !secretMatchesHash(token, client.registrationTokenHash)) {
    throw invalidToken('The registration access token is invalid');
  }
  return client;
}

export async function readRegistration(ctx: OAuthContext, clientId: string, authorization: string | undefined): Promise<RegistrationResponse> {
  const client = await authorizeManagement(ctx, clientId, authorization);
  return response(ctx, client, {});
}

export async function updateRegistration(
  ctx: OAuthContext,
  clientId: string,
  meta: RawMetadata,
  authorization: string | undefined,
  ip: string | null,
): Promise<RegistrationResponse> {
  const client = await authorizeManagement(ctx, clientId, authorization);
  // RFC 7592 §2.2: the request carries client_id and must match; secrets may not be set.
  if (meta['client_id'] !== undefined && meta['client_id'] !== clientId) throw invalidRequest('client_id does not match');
  if (meta['client_secret'] !== undefined) throw invalidClientMetadata('client_secret cannot be chosen by the client');
  const input = toAppInput(ctx, meta);
  if ((input.public ?? false) !== (client.clientType === 'public')) {
    throw invalidClientMetadata('token_endpoint_auth_method cannot change between none and a secret');
  }
  if ((input.privateKeyJwt !== undefined) !== (client.privateKeyJwt !== null)) {
    throw invalidClientMetadata('token_endpoint_auth_method cannot change between private_key_jwt and a secret');
  }
  const { public: _ignored, ...changes } = input;
  void _ignored;
  const updated = await updateApp(ctx, clientId, changes, { ip });
  if (!updated) throw invalidToken('The registration access token is invalid');
  return response(ctx, updated, {});
}

export async function deleteRegistration(ctx: OAuthContext, clientId: string, authorization: string | undefined, ip: string | null): Promise<void> {
  await authorizeManagement(ctx, clientId, authorization);
  await deleteApp(ctx, clientId, { ip });
}
