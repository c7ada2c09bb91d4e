/**
 * Application (client) management: A1–A7, shared by the CLI, the admin REST API and dynamic
 * registration. Validation throws OAuthError (`invalid_client_metadata` / `invalid_redirect_uri`)
 * so every caller reports it the same way.
 */
import { GRANT } from '../oauth/grant-types.js';
import { KEY_ALGS, type KeyAlg } from '../config.js';
import { DEFAULT_OIDC_SETTINGS, type ClientPatch, type ClientRow, type GrantType, type NewClient, type OidcClientSettings, type PrivateKeyJwtSettings, type TokenExchangePolicy, type TokenFormat } from '../storage/types.js';
import { readPublicJwks } from '../oauth/client-assertion.js';
import { OutboundError, outboundUrl } from '../net/outbound.js';
import type { OAuthContext } from '../oauth/context.js';
import { invalidClientMetadata, invalidRequest } from '../oauth/errors.js';
import { PREFIX, randomId, randomToken, sha256 } from '../oauth/crypto.js';
import { assertRegistrableRedirectUri } from '../oauth/redirect-uri.js';
import { issueTokens } from '../oauth/tokens/issue.js';
import { defaultAudience } from '../oauth/context.js';
import { APPLICATION_ONLY_SCOPES } from '../oauth/scope.js';

export interface AppInput {
  readonly name: string;
  readonly description?: string | null;
  readonly website?: string | null;
  readonly logoUri?: string | null;
  readonly redirectUris?: readonly string[];
  readonly scopes?: readonly string[];
  readonly grantTypes?: readonly string[];
  readonly public?: boolean;
  readonly orgId?: string | null;
  readonly ownerId?: string | null;
  readonly actsAsUserId?: string | null;
  readonly internal?: boolean;
  readonly tokenFormat?: TokenFormat;
  /** Seconds; null = long-lived access tokens (and then no refresh token, A7). */
  readonly accessTtl?: number | null;
  readonly refreshEnabled?: boolean;
  readonly refreshTtl?: number | null;
  /** Refresh grace window in seconds (0–300; 0 = off, the default). */
  readonly refreshGraceSeconds?: number;
  readonly active?: boolean;
  /** OpenID Connect: the ID tokens' algorithm (RS256, ES256 or EdDSA); null for RS256. */
  readonly idTokenSignedResponseAlg?: KeyAlg | null;
  /** OpenID Connect: where the application may send a person after signing out (matched exactly). */
  readonly postLogoutRedirectUris?: readonly string[];
  /** OpenID Connect Registration metadata (application_type, default_max_age, contacts, back-channel logout). */
  readonly oidc?: Partial<OidcClientSettings>;
  /**
   * Token exchange policy (RFC 8693; administrators only: the portal never passes it). Given
   * fields replace the current ones (a new policy starts with nothing allowed); null removes it.
   */
  readonly tokenExchange?: Partial<TokenExchangePolicy> | null;
  /**
   * Client authentication with `private_key_jwt` (docs/client-authentication.md): its public keys,
   * as a JWK Set or the https URL of one (exactly one). Such an application is confidential and
   * has no secret. On update, replaces the keys of an application that already uses it.
   */
  readonly privateKeyJwt?: { readonly jwks?: unknown; readonly jwksUri?: string | null } | null;
}

/** Where a `private_key_jwt` application's public keys are, checked (the keys' shape, the URL's). */
function keySettings(ctx: OAuthContext, input: NonNullable<AppInput['privateKeyJwt']>): PrivateKeyJwtSettings {
  const hasJwks = input.jwks !== undefined && input.jwks !== null;
  const uri = input.jwksUri ?? null;
  if (hasJwks === (uri !== null && uri !== '')) throw invalidClientMetadata('private_key_jwt needs jwks or jwks_uri (exactly one of them)');
  if (hasJwks) {
    try {
      return { jwks: readPublicJwks(input.jwks), jwksUri: null };
    } catch (e) {
      throw invalidClientMetadata((e as Error).message);
    }
  }
  if (typeof uri !== 'string' || uri.length > 2000) throw invalidClientMetadata('jwks_uri must be a URL of at most 2000 characters');
  try {
    // The rules the outbound client applies when it fetches the keys.
    outboundUrl(uri, { allowLoopback: ctx.config.outboundInsecureLoopback });
  } catch (e) {
    throw invalidClientMetadata(`jwks_uri: ${e instanceof OutboundError ? e.message : 'not a valid URL'}`);
  }
  return { jwks: null, jwksUri: uri };
}

/** The grant type of token exchange (src/features/token-exchange/). */
export const TOKEN_EXCHANGE_GRANT = GRANT.tokenExchange;
const MAX_EXCHANGE_AUDIENCES = 20;

/** The application's token-exchange policy: `current` with `input`'s changes, validated. */
async function tokenExchangePolicy(
  ctx: OAuthContext,
  input: Partial<TokenExchangePolicy> | null | undefined,
  current: TokenExchangePolicy | null,
): Promise<TokenExchangePolicy | null> {
  if (input === undefined) return current;
  if (input === null) return null;
  const base = current ?? { audiences: [], impersonation: false, refreshTokens: false };
  const next: TokenExchangePolicy = {
    audiences: input.audiences !== undefined ? [...new Set(input.audiences.map((a) => a.trim()).filter((a) => a.length > 0))] : base.audiences,
    impersonation: input.impersonation ?? base.impersonation,
    refreshTokens: input.refreshTokens ?? base.refreshTokens,
  };
  if (next.audiences.length > MAX_EXCHANGE_AUDIENCES) throw invalidClientMetadata(`At most ${MAX_EXCHANGE_AUDIENCES} token-exchange audiences`);
  const own = defaultAudience(ctx.config);
  for (const a of next.audiences) {
    if (a !== own && !(await ctx.storage.resourceServers.byIdentifier(a))) {
      throw invalidClientMetadata(`Unknown token-exchange audience "${a.slice(0, 200)}": register the resource server first (or use ${own})`);
    }
  }
  return next;
}

const MAX_DEFAULT_MAX_AGE = 366 * 86400;

/** The application's OpenID Connect settings: `current` with `input`'s changes, validated. */
function oidcSettings(ctx: OAuthContext, input: Partial<OidcClientSettings> | undefined, current: OidcClientSettings): OidcClientSettings {
  if (input === undefined) return current;
  const next: OidcClientSettings = { ...current, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  if (next.applicationType !== 'web' && next.applicationType !== 'native') throw invalidClientMetadata('application_type must be web or native');
  const age = next.defaultMaxAge;
  if (age !== null && (!Number.isInteger(age) || age < 0 || age > MAX_DEFAULT_MAX_AGE)) {
    throw invalidClientMetadata(`default_max_age must be a whole number of seconds from 0 to ${MAX_DEFAULT_MAX_AGE}`);
  }
  const contacts = [...new Set(next.contacts)];
  if (contacts.length > 10) throw invalidClientMetadata('At most 10 contacts');
  for (const c of contacts) {
    if (typeof c !== 'string' || c.length > 254 || !/^[^\s@<>]+@[^\s@<>]+$/.test(c)) throw invalidClientMetadata('Each contact must be an email address');
  }
  const uri = next.backchannelLogoutUri;
  if (uri !== null) {
    if (typeof uri !== 'string' || uri.length > 1000) throw invalidClientMetadata('backchannel_logout_uri must be a URL of at most 1000 characters');
    try {
      // The same rules the outbound client applies when it calls it (https, no credentials or fragment, no internal address literal).
      outboundUrl(uri, { allowLoopback: ctx.config.outboundInsecureLoopback });
    } catch (e) {
      throw invalidClientMetadata(`backchannel_logout_uri: ${e instanceof OutboundError ? e.message : 'not a valid URL'}`);
    }
  }
  if (typeof next.backchannelLogoutSessionRequired !== 'boolean') throw invalidClientMetadata('backchannel_logout_session_required must be true or false');
  return { ...next, contacts };
}

function postLogoutUris(uris: readonly string[]): string[] {
  const unique = [...new Set(uris)];
  if (unique.length > 10) throw invalidClientMetadata('At most 10 post_logout_redirect_uris');
  for (const uri of unique) assertRegistrableRedirectUri(uri);
  return unique;
}

function idTokenAlg(value: KeyAlg | null | undefined): KeyAlg | null {
  if (value === undefined || value === null) return null;
  if (!(KEY_ALGS as readonly string[]).includes(value)) throw invalidRequest(`id_token_signed_response_alg must be one of ${KEY_ALGS.join(', ')}`);
  return value;
}

export interface CreatedApp {
  readonly client: ClientRow;
  /** Shown once (A2); null for public clients. */
  readonly clientSecret: string | null;
  /** A6: the internal app's long-lived refresh token for its owner, shown once. */
  readonly refreshToken: string | null;
  /** RFC 7592 registration access token, for dynamically registered clients. */
  readonly registrationAccessToken: string | null;
}

function optionalUrl(field: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalidClientMetadata(`${field} must be an absolute http(s) URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalidClientMetadata(`${field} must be an http(s) URL`);
  if (value.length > 2000) throw invalidClientMetadata(`${field} is too long`);
  return value;
}

function ttl(field: string, value: number | null | undefined, def: number | null): number | null {
  if (value === undefined) return def;
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > 20 * 365 * 86400) {
    throw invalidClientMetadata(`${field} must be a whole number of seconds between 1 and ${20 * 365 * 86400}`);
  }
  return value;
}

function graceSeconds(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 300) {
    throw invalidClientMetadata('refresh_grace_seconds must be a whole number of seconds between 0 and 300');
  }
  return value;
}

async function validateScopes(ctx: OAuthContext, scopes: readonly string[]): Promise<string[]> {
  const unique = [...new Set(scopes)];
  for (const s of unique) {
    if (!(await ctx.storage.scopes.byName(s))) throw invalidClientMetadata(`Unknown scope "${s}"; create it first`);
  }
  return unique;
}

/** Only grant types this instance's features provide (an extension grant included) may be held. */
function validateGrantTypes(ctx: OAuthContext, grantTypes: readonly string[]): GrantType[] {
  const unique = [...new Set(grantTypes)];
  const known = ctx.features.clientGrantTypes();
  for (const g of unique) {
    if (!known.includes(g)) {
      throw invalidClientMetadata(`Unknown grant type "${g.slice(0, 100)}"; use ${known.join(', ')}`);
    }
  }
  if (unique.length === 0) throw invalidClientMetadata('At least one grant type is required');
  return unique as GrantType[];
}

/** Rules that involve several fields; applied on create and on every update. */
async function checkCoherence(ctx: OAuthContext, c: NewClient): Promise<void> {
  if (c.name.trim().length === 0 || c.name.length > 200) throw invalidClientMetadata('name must be 1 to 200 characters');
  if (c.description !== null && c.description.length > 2000) throw invalidClientMetadata('description is too long (2000 max)');
  for (const uri of c.redirectUris) assertRegistrableRedirectUri(uri);
  const needsRedirect = c.grantTypes.includes('authorization_code') || c.grantTypes.includes('implicit');
  if (needsRedirect && c.redirectUris.length === 0) {
    throw invalidClientMetadata('authorization_code and implicit need at least one redirect URI');
  }
  if (c.clientType === 'public' && (c.grantTypes.includes('client_credentials') || c.grantTypes.includes('password'))) {
    throw invalidClientMetadata('Public applications cannot use the client_credentials or password grants');
  }
  if (c.clientType === 'public' && c.grantTypes.includes(TOKEN_EXCHANGE_GRANT)) {
    throw invalidClientMetadata('Public applications cannot use token exchange (it needs client authentication)');
  }
  if (c.actsAsUserId !== null) {
    const u = await ctx.storage.users.byId(c.actsAsUserId);
    if (!u) throw invalidClientMetadata('The acts-as user does not exist');
    if (!c.grantTypes.includes('client_credentials')) throw invalidClientMetadata('acts-as only applies to the client_credentials grant');
  }
  if (c.ownerId !== null && !(await ctx.storage.users.byId(c.ownerId))) throw invalidClientMetadata('The owner does not exist');
  if (c.orgId !== null && !(await ctx.storage.organizations.byId(c.orgId))) throw invalidClientMetadata('The organization does not exist');
  if (c.internal) {
    if (c.ownerId === null) throw invalidClientMetadata('An internal application needs an owner (the user its refresh token acts for)');
    if (!c.grantTypes.includes('refresh_token') || !c.refreshEnabled || c.accessTtl === null) {
      throw invalidClientMetadata('An internal application needs the refresh_token grant with refresh tokens enabled');
    }
  }
}

/** An application brought from another system (H5): its own client_id and secret, kept. */
export interface ImportedCredentials {
  readonly clientId: string;
  /** The current secret (hashed here, never stored); null for a public client. */
  readonly clientSecret: string | null;
}

/**
 * Validates an application and builds its row without writing anything (every rule of
 * `createApp`); used by `createApp` and by the import, which validates every record first.
 */
export async function prepareApp(
  ctx: OAuthContext,
  input: AppInput,
  opts: { readonly dynamic?: boolean; readonly imported?: ImportedCredentials } = {},
): Promise<{ row: NewClient; clientSecret: string | null; registrationAccessToken: string | null }> {
  const isPublic = input.public === true;
  const grantTypes = validateGrantTypes(ctx, input.grantTypes ?? ['authorization_code', 'refresh_token']);
  const keys = input.privateKeyJwt === undefined || input.privateKeyJwt === null ? null : keySettings(ctx, input.privateKeyJwt);
  if (keys !== null && isPublic) throw invalidClientMetadata('A public application does not authenticate: it has no keys (private_key_jwt is for confidential applications)');
  const imported = opts.imported;
  if (imported && (imported.clientSecret === null) !== (isPublic || keys !== null)) {
    throw invalidClientMetadata(isPublic || keys !== null ? `A ${isPublic ? 'public' : 'private_key_jwt'} application has no client_secret` : 'A confidential application needs its client_secret');
  }
  const clientSecret = imported ? imported.clientSecret : isPublic || keys !== null ? null : randomToken(PREFIX.clientSecret);
  const registrationAccessToken = opts.dynamic ? randomToken(PREFIX.registrationToken) : null;
  const accessTtl = ttl('access_ttl', input.accessTtl, ctx.config.accessTtl);
  const row = {
    clientId: imported ? imported.clientId : randomToken(PREFIX.clientId, 16),
    name: input.name.trim(),
    description: input.description?.trim() || null,
    website: optionalUrl('website', input.website),
    logoUri: optionalUrl('logo_uri', input.logoUri),
    redirectUris: [...new Set(input.redirectUris ?? [])],
    scopes: await validateScopes(ctx, input.scopes ?? []),
    grantTypes,
    clientType: isPublic ? ('public' as const) : ('confidential' as const),
    orgId: input.orgId ?? null,
    ownerId: input.ownerId ?? null,
    actsAsUserId: input.actsAsUserId ?? null,
    internal: input.internal === true,
    active: input.active ?? true,
    secretHash: clientSecret === null ? null : sha256(clientSecret),
    tokenFormat: input.tokenFormat ?? 'opaque',
    accessTtl,
    refreshEnabled: input.refreshEnabled ?? true,
    refreshTtl: ttl('refresh_ttl', input.refreshTtl, ctx.config.refreshTtl),
    refreshGraceSeconds: graceSeconds(input.refreshGraceSeconds ?? 0),
    registrationTokenHash: registrationAccessToken === null ? null : sha256(registrationAccessToken),
    dynamic: opts.dynamic === true,
    idTokenSignedResponseAlg: idTokenAlg(input.idTokenSignedResponseAlg),
    postLogoutRedirectUris: postLogoutUris(input.postLogoutRedirectUris ?? []),
    oidc: oidcSettings(ctx, input.oidc, DEFAULT_OIDC_SETTINGS),
    tokenExchange: await tokenExchangePolicy(ctx, input.tokenExchange, null),
    privateKeyJwt: keys,
  };
  await checkCoherence(ctx, row);
  // The algorithm's key exists (and is in the JWKS) before the first ID token is signed with it.
  if (row.idTokenSignedResponseAlg !== null) await ctx.keys.signingKeyFor(row.idTokenSignedResponseAlg);
  return { row, clientSecret, registrationAccessToken };
}

export async function createApp(
  ctx: OAuthContext,
  input: AppInput,
  opts: { readonly dynamic?: boolean; readonly actorUserId?: string | null; readonly ip?: string | null } = {},
): Promise<CreatedApp> {
  const { row, clientSecret, registrationAccessToken } = await prepareApp(ctx, input, opts);
  const client = await ctx.storage.clients.create(row, ctx.now());

  let refreshToken: string | null = null;
  if (client.internal && client.ownerId !== null) {
    // A6: the owner receives a long-lived refresh token so a script can refresh right away.
    const issued = await issueTokens(ctx, {
      client,
      userId: client.ownerId,
      scope: client.scopes.filter((s) => !APPLICATION_ONLY_SCOPES.includes(s)),
      audience: defaultAudience(ctx.config),
      familyId: randomId(),
      withRefresh: true,
      grantType: 'internal',
      refreshExpiresAt: null,
    });
    refreshToken = issued.refresh_token ?? null;
    await ctx.storage.consents.upsert(
      { userId: client.ownerId, clientId: client.clientId, scope: client.scopes.join(' '), scopesVersion: client.scopesVersion },
      ctx.now(),
    );
  }
  await ctx.audit.record(opts.dynamic ? 'app.registered' : 'app.created', {
    actorUserId: opts.actorUserId ?? null,
    clientId: client.clientId,
    ip: opts.ip ?? null,
    details: { name: client.name, type: client.clientType, grants: client.grantTypes },
  });
  if (ctx.events.appCreated) {
    // A9: a failed notification never undoes the creation.
    await ctx.events.appCreated(client, opts.actorUserId ?? null).catch(() => {});
  }
  return { client, clientSecret, refreshToken, registrationAccessToken };
}

export async function updateApp(
  ctx: OAuthContext,
  clientId: string,
  input: Partial<AppInput>,
  /** `byAdministrator` (default true): as for setAppActive, an owner cannot lift an administrator's deactivation. */
  opts: { readonly actorUserId?: string | null; readonly ip?: string | null; readonly byAdministrator?: boolean } = {},
): Promise<ClientRow | null> {
  const current = await ctx.storage.clients.byId(clientId);
  if (!current) return null;
  const byAdministrator = opts.byAdministrator !== false;
  if (input.active === true && !current.active && current.adminDeactivated && !byAdministrator) {
    throw invalidClientMetadata('An administrator deactivated this application: only an administrator can activate it again');
  }
  const patch: { -readonly [K in keyof ClientPatch]: ClientPatch[K] } = {};
  if (input.name !== undefined) patch.name = input.name.trim();
  if (input.description !== undefined) patch.description = input.description?.trim() || null;
  if (input.website !== undefined) patch.website = optionalUrl('website', input.website);
  if (input.logoUri !== undefined) patch.logoUri = optionalUrl('logo_uri', input.logoUri);
  if (input.redirectUris !== undefined) patch.redirectUris = [...new Set(input.redirectUris)];
  if (input.scopes !== undefined) patch.scopes = await validateScopes(ctx, input.scopes);
  if (input.grantTypes !== undefined) patch.grantTypes = validateGrantTypes(ctx, input.grantTypes);
  if (input.orgId !== undefined) patch.orgId = input.orgId;
  if (input.ownerId !== undefined) patch.ownerId = input.ownerId;
  if (input.actsAsUserId !== undefined) patch.actsAsUserId = input.actsAsUserId;
  if (input.tokenFormat !== undefined) patch.tokenFormat = input.tokenFormat;
  if (input.accessTtl !== undefined) patch.accessTtl = ttl('access_ttl', input.accessTtl, null);
  if (input.refreshEnabled !== undefined) patch.refreshEnabled = input.refreshEnabled;
  if (input.refreshTtl !== undefined) patch.refreshTtl = ttl('refresh_ttl', input.refreshTtl, null);
  if (input.refreshGraceSeconds !== undefined) patch.refreshGraceSeconds = graceSeconds(input.refreshGraceSeconds);
  if (input.postLogoutRedirectUris !== undefined) patch.postLogoutRedirectUris = postLogoutUris(input.postLogoutRedirectUris);
  if (input.oidc !== undefined) patch.oidc = oidcSettings(ctx, input.oidc, current.oidc);
  if (input.tokenExchange !== undefined) patch.tokenExchange = await tokenExchangePolicy(ctx, input.tokenExchange, current.tokenExchange);
  if (input.idTokenSignedResponseAlg !== undefined) {
    patch.idTokenSignedResponseAlg = idTokenAlg(input.idTokenSignedResponseAlg);
    if (patch.idTokenSignedResponseAlg !== null) await ctx.keys.signingKeyFor(patch.idTokenSignedResponseAlg);
  }
  if (input.internal !== undefined) patch.internal = input.internal;
  if (input.active !== undefined) {
    patch.active = input.active;
    if (byAdministrator && input.active !== current.active) patch.adminDeactivated = !input.active;
  }
  if (input.public !== undefined && (input.public ? 'public' : 'confidential') !== current.clientType) {
    throw invalidClientMetadata('The client type cannot be changed after creation');
  }
  if (input.privateKeyJwt !== undefined) {
    // New keys for an application that authenticates with them; the method itself stays.
    if (current.privateKeyJwt === null || input.privateKeyJwt === null) {
      throw invalidClientMetadata('The authentication method (client secret or private_key_jwt) cannot be changed after creation');
    }
    patch.privateKeyJwt = keySettings(ctx, input.privateKeyJwt);
  }
  await checkCoherence(ctx, { ...current, ...patch });
  const updated = await ctx.storage.clients.update(clientId, patch, ctx.now());
  await ctx.audit.record('app.updated', {
    actorUserId: opts.actorUserId ?? null,
    clientId,
    ip: opts.ip ?? null,
    details: { fields: Object.keys(patch) },
  });
  return updated;
}

/** A3: a deactivated application's tokens stop working at once (checked on every use) and it cannot get new ones. */
export async function setAppActive(
  ctx: OAuthContext,
  clientId: string,
  active: boolean,
  opts: {
    readonly actorUserId?: string | null;
    readonly ip?: string | null;
    /**
     * False for an owner acting on their own application in the portal (issue #15 §8): an
     * administrator's deactivation sticks until an administrator lifts it. Default true (the
     * back-office, the admin API and the CLI are administrators).
     */
    readonly byAdministrator?: boolean;
  } = {},
): Promise<ClientRow | null> {
  const byAdministrator = opts.byAdministrator !== false;
  if (active && !byAdministrator) {
    const current = await ctx.storage.clients.byId(clientId);
    if (current?.adminDeactivated) {
      throw invalidRequest('An administrator deactivated this application: only an administrator can activate it again');
    }
  }
  const updated = await ctx.storage.clients.update(
    clientId,
    { active, ...(byAdministrator ? { adminDeactivated: !active } : {}) },
    ctx.now(),
  );
  if (updated) {
    await ctx.audit.record(active ? 'app.activated' : 'app.deactivated', {
      actorUserId: opts.actorUserId ?? null,
      clientId,
      ip: opts.ip ?? null,
    });
  }
  return updated;
}

/** The overlaps a rotation may keep the old secret for (issue #15 §14), in seconds. */
export const MAX_SECRET_OVERLAP = 7 * 86_400;

/**
 * A4: a new secret, shown once. By default the old one stops working at once (a leaked secret
 * must die now); with `overlapSeconds` (opt-in, at most 7 days, as Keycloak offers) the old one
 * keeps working until then, so a deployment can switch without downtime.
 */
export async function rotateSecret(
  ctx: OAuthContext,
  clientId: string,
  opts: { readonly actorUserId?: string | null; readonly ip?: string | null; readonly overlapSeconds?: number } = {},
): Promise<{ client: ClientRow; clientSecret: string } | null> {
  const current = await ctx.storage.clients.byId(clientId);
  if (!current) return null;
  if (current.clientType === 'public') throw invalidClientMetadata('A public application has no secret to rotate');
  if (current.privateKeyJwt !== null) throw invalidClientMetadata('This application authenticates with private_key_jwt: it has no secret to rotate (register new keys instead)');
  const overlap = opts.overlapSeconds ?? 0;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_SECRET_OVERLAP) {
    throw invalidClientMetadata(`overlap must be a whole number of seconds from 0 to ${MAX_SECRET_OVERLAP}`);
  }
  const clientSecret = randomToken(PREFIX.clientSecret);
  const now = ctx.now();
  const client = await ctx.storage.clients.update(
    clientId,
    {
      secretHash: sha256(clientSecret),
      previousSecretHash: overlap > 0 ? current.secretHash : null,
      previousSecretExpiresAt: overlap > 0 ? now + overlap * 1000 : null,
    },
    now,
  );
  if (!client) return null;
  await ctx.audit.record('app.secret_rotated', { actorUserId: opts.actorUserId ?? null, clientId, ip: opts.ip ?? null, details: { overlapSeconds: overlap } });
  return { client, clientSecret };
}

export async function deleteApp(
  ctx: OAuthContext,
  clientId: string,
  opts: { readonly actorUserId?: string | null; readonly ip?: string | null } = {},
): Promise<boolean> {
  const ok = await ctx.storage.clients.delete(clientId);
  if (ok) await ctx.audit.record('app.deleted', { actorUserId: opts.actorUserId ?? null, clientId, ip: opts.ip ?? null });
  return ok;
}

/** How the application authenticates at the token endpoint (RFC 7591 §2). */
export function authMethodOf(c: ClientRow): 'none' | 'client_secret_basic' | 'private_key_jwt' {
  return c.clientType === 'public' ? 'none' : c.privateKeyJwt !== null ? 'private_key_jwt' : 'client_secret_basic';
}

/** The public view of an application (never the secret hash or registration token hash). */
export function appView(c: ClientRow): Record<string, unknown> {
  return {
    client_id: c.clientId,
    name: c.name,
    description: c.description,
    website: c.website,
    logo_uri: c.logoUri,
    redirect_uris: c.redirectUris,
    scopes: c.scopes,
    grant_types: c.grantTypes,
    client_type: c.clientType,
    token_endpoint_auth_method: authMethodOf(c),
    jwks: c.privateKeyJwt?.jwks ?? null,
    jwks_uri: c.privateKeyJwt?.jwksUri ?? null,
    org_id: c.orgId,
    owner_id: c.ownerId,
    acts_as_user_id: c.actsAsUserId,
    internal: c.internal,
    active: c.active,
    token_format: c.tokenFormat,
    access_ttl: c.accessTtl,
    refresh_enabled: c.refreshEnabled,
    refresh_ttl: c.refreshTtl,
    refresh_grace_seconds: c.refreshGraceSeconds,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg ?? 'RS256',
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    application_type: c.oidc.applicationType,
    default_max_age: c.oidc.defaultMaxAge,
    contacts: c.oidc.contacts,
    backchannel_logout_uri: c.oidc.backchannelLogoutUri,
    backchannel_logout_session_required: c.oidc.backchannelLogoutSessionRequired,
    token_exchange: c.tokenExchange === null ? null : { audiences: c.tokenExchange.audiences, impersonation: c.tokenExchange.impersonation, refresh_tokens: c.tokenExchange.refreshTokens },
    dynamic: c.dynamic,
    metadata_document:
      c.metadataDocument === null
        ? null
        : { url: c.clientId, fetched_at: new Date(c.metadataDocument.fetchedAt).toISOString(), expires_at: new Date(c.metadataDocument.expiresAt).toISOString(), logo_source: c.metadataDocument.logoSource },
    deactivated_by_admin: c.adminDeactivated,
    previous_secret_expires_at: c.previousSecretExpiresAt === null ? null : new Date(c.previousSecretExpiresAt).toISOString(),
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}

/**
 * U3: a user withdraws an application's access: the remembered consent is forgotten and every
 * token the application holds for this user is revoked at once. Returns the tokens revoked, or
 * null when the user had neither a consent nor a token for it.
 */
export async function revokeUserAuthorization(
  ctx: OAuthContext,
  userId: string,
  clientId: string,
  opts: { readonly ip?: string | null } = {},
): Promise<number | null> {
  const now = ctx.now();
  const hadConsent = await ctx.storage.consents.delete(userId, clientId);
  // Codes not yet redeemed go too, so no token can be obtained after the revocation.
  await ctx.storage.codes.deleteByUserAndClient(userId, clientId);
  const revoked = await ctx.storage.tokens.revokeByUserAndClient(userId, clientId, now);
  if (!hadConsent && revoked === 0) return null;
  await ctx.audit.record('consent.revoked', { actorUserId: userId, clientId, ip: opts.ip ?? null, details: { tokens: revoked } });
  return revoked;
}
