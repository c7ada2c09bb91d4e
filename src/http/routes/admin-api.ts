/**
 * Admin REST API under /admin/api/ (A10): the same management operations as the CLI, for
 * Bearer access tokens issued for Tollgate's own audience with the scope `admin`, acting for a
 * user who is an administrator and not disabled. A token with the scope but no such user (a
 * client_credentials token acting as the app itself, or acting as a non-admin) gets 403
 * `insufficient_scope` (RFC 6750 §3.1: "the request requires higher privileges").
 *
 * Handlers are thin: parse → service → serialise. Bodies are JSON (or form-encoded), with
 * snake_case fields; unknown fields and query parameters are refused with 400 `invalid_request`
 * so a typo never silently does nothing. Unknown ids in the path → 404 `not_found`. Every
 * response is `Cache-Control: no-store`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KEY_ALGS, type KeyAlg } from '../../config.js';
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import { insufficientScope, invalidClientMetadata, invalidRequest } from '../../oauth/errors.js';
import { single, type Params } from '../../oauth/params.js';
import { revokeTokens } from '../../services/tokens.js';
import { ImportError, importPlatform } from '../../services/import.js';
import { appView, createApp, deleteApp, rotateSecret, setAppActive, updateApp, type AppInput } from '../../services/apps.js';
import { createOrg, createResourceServer, createScope, createUser, requireOrg, scopeView, setUserProfile, updateUser, userView } from '../../services/directory.js';
import { keyView, rotateSigningKey } from '../../services/keys.js';
import { blockMetadataClients, blockPattern, blockView, unblockMetadataClients } from '../../services/client-metadata.js';
import type {
  AuditEventRow,
  MembershipRole,
  OrganizationRow,
  TokenFormat,
  UserRow,
} from '../../storage/types.js';
import { requireBearer } from '../plugins/bearer.js';
import { bool, nullableStr, oneOf, readBody, readQuery, requiredStr, secondsOrNull, str, strList, type Body } from '../plugins/admin-body.js';

export const ADMIN_API_PREFIX = '/admin/api';
export const ADMIN_SCOPE = 'admin';

// ---------------------------------------------------------------------------------------------
// Authentication: who is acting

/** The administrator behind the request, for audit records. */
interface Actor {
  readonly actorUserId: string;
  readonly ip: string;
}

const actors = new WeakMap<FastifyRequest, Actor>();

async function authenticateAdmin(ctx: OAuthContext, request: FastifyRequest): Promise<Actor> {
  const token = await requireBearer(ctx, request, { audience: defaultAudience(ctx.config), scopes: [ADMIN_SCOPE] });
  if (token.userId === null) {
    throw insufficientScope('The admin API needs a token acting for an administrator; this token acts for no user');
  }
  const user = await ctx.accounts.byId(token.userId);
  if (!user || user.disabled || !user.isAdmin) throw insufficientScope('The user this token acts for is not an administrator');
  return { actorUserId: user.id, ip: request.ip };
}

/** The actor set by the onRequest hook; every admin route runs behind it. */
function actorOf(request: FastifyRequest): Actor {
  const actor = actors.get(request);
  if (!actor) throw new Error('admin API route reached without authentication');
  return actor;
}

// ---------------------------------------------------------------------------------------------
// Request parsing

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

function scopeList(body: Body): string[] | undefined {
  if (body['scopes'] !== undefined && body['scope'] !== undefined) throw invalidRequest('Give either "scopes" or "scope", not both');
  const scope = str(body, 'scope');
  if (scope !== undefined) return scope.split(' ').filter((s) => s.length > 0);
  return strList(body, 'scopes');
}

/** A whole number query parameter within [min, max], or `def` when absent. */
function intParam(params: Params, name: string, def: number, min: number, max: number): number {
  const raw = single(params, name);
  if (raw === undefined) return def;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalidRequest(`"${name}" must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * The one pagination shape of the admin API's lists (issue #15 §12, docs/admin-api.md): `limit`
 * and `cursor` in, `{ items, next }` out, `next` null on the last page. A cursor is opaque.
 */
function cursorParam(params: Params, pattern: RegExp): string | null {
  const cursor = single(params, 'cursor');
  if (cursor === undefined) return null;
  if (!pattern.test(cursor)) throw invalidRequest('"cursor" is not a cursor this API returned');
  return cursor;
}

/** A page of a small, cached configuration list (scopes, resource servers, keys) in `key` order. */
function memoryPage<T>(rows: readonly T[], key: (row: T) => string, params: Params): { items: T[]; next: string | null } {
  const limit = intParam(params, 'limit', 100, 1, 200);
  const cursor = cursorParam(params, /^[A-Za-z0-9_-]{1,600}$/);
  const after = cursor === null ? null : Buffer.from(cursor, 'base64url').toString('utf8');
  const sorted = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).filter((r) => after === null || key(r) > after);
  const items = sorted.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: sorted.length > limit && last !== undefined ? Buffer.from(key(last), 'utf8').toString('base64url') : null };
}

function pagination(params: Params): { limit: number; offset: number } {
  return { limit: intParam(params, 'limit', 50, 1, 200), offset: intParam(params, 'offset', 0, 0, 1_000_000_000) };
}

/** A user by email or id (400 when unknown: it is a field of the request, not the resource). */
async function userRef(ctx: OAuthContext, field: string, value: string): Promise<UserRow> {
  const user = (await ctx.storage.users.byEmail(value.trim().toLowerCase())) ?? (await ctx.storage.users.byId(value));
  if (!user) throw invalidRequest(`${field}: no user with the email or id "${value}"`);
  return user;
}

/** A reference field of an app (org, owner, acts_as): absent, null to clear, or resolved to an id. */
async function refField(body: Body, key: string, resolve: (value: string) => Promise<string>): Promise<string | null | undefined> {
  const v = nullableStr(body, key);
  return v === undefined || v === null ? v : resolve(v);
}

const APP_FIELDS = [
  'name',
  'description',
  'website',
  'logo_uri',
  'redirect_uris',
  'scopes',
  'scope',
  'grant_types',
  'client_type',
  'org',
  'owner',
  'acts_as',
  'internal',
  'token_format',
  'access_ttl',
  'refresh_enabled',
  'refresh_ttl',
  'refresh_grace_seconds',
  'active',
  'id_token_signed_response_alg',
  'post_logout_redirect_uris',
  'application_type',
  'default_max_age',
  'contacts',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'token_exchange',
  'jwks',
  'jwks_uri',
] as const;

/** `token_exchange`: null (no policy), or an object of the policy fields to set (RFC 8693). */
function tokenExchangeField(body: Body): AppInput['tokenExchange'] {
  const v = body['token_exchange'];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest('"token_exchange" must be an object or null');
  const policy = v as Body;
  for (const key of Object.keys(policy)) {
    if (!['audiences', 'impersonation', 'refresh_tokens'].includes(key)) {
      throw invalidRequest(`Unknown field "token_exchange.${key}"; expected audiences, impersonation, refresh_tokens`);
    }
  }
  const out: { audiences?: string[]; impersonation?: boolean; refreshTokens?: boolean } = {};
  const audiences = strList(policy, 'audiences');
  if (audiences !== undefined) out.audiences = audiences;
  const impersonation = bool(policy, 'impersonation');
  if (impersonation !== undefined) out.impersonation = impersonation;
  const refresh = bool(policy, 'refresh_tokens');
  if (refresh !== undefined) out.refreshTokens = refresh;
  return out;
}

/** The snake_case app body → AppInput fields; only the fields present are set. */
async function appInput(ctx: OAuthContext, body: Body): Promise<Mutable<AppInput>> {
  const input: Mutable<AppInput> = {};
  const set = <K extends keyof AppInput>(key: K, value: AppInput[K] | undefined): void => {
    if (value !== undefined) input[key] = value;
  };
  set('name', str(body, 'name'));
  set('description', nullableStr(body, 'description'));
  set('website', nullableStr(body, 'website'));
  set('logoUri', nullableStr(body, 'logo_uri'));
  set('redirectUris', strList(body, 'redirect_uris'));
  set('scopes', scopeList(body));
  set('grantTypes', strList(body, 'grant_types'));
  const clientType = oneOf(body, 'client_type', ['confidential', 'public'] as const);
  set('public', clientType === undefined ? undefined : clientType === 'public');
  set('orgId', await refField(body, 'org', async (v) => (await requireOrg(ctx, v)).id));
  set('ownerId', await refField(body, 'owner', async (v) => (await userRef(ctx, 'owner', v)).id));
  set('actsAsUserId', await refField(body, 'acts_as', async (v) => (await userRef(ctx, 'acts_as', v)).id));
  set('internal', bool(body, 'internal'));
  set('tokenFormat', oneOf<TokenFormat>(body, 'token_format', ['opaque', 'jwt']));
  set('accessTtl', secondsOrNull(body, 'access_ttl'));
  set('refreshEnabled', bool(body, 'refresh_enabled'));
  set('refreshTtl', secondsOrNull(body, 'refresh_ttl'));
  const grace = secondsOrNull(body, 'refresh_grace_seconds');
  set('refreshGraceSeconds', grace === null ? 0 : grace);
  set('active', bool(body, 'active'));
  // OpenID Connect
  set('idTokenSignedResponseAlg', oneOf<KeyAlg>(body, 'id_token_signed_response_alg', KEY_ALGS));
  set('postLogoutRedirectUris', strList(body, 'post_logout_redirect_uris'));
  const oidc: Mutable<NonNullable<AppInput['oidc']>> = {};
  const applicationType = oneOf(body, 'application_type', ['web', 'native'] as const);
  if (applicationType !== undefined) oidc.applicationType = applicationType;
  const maxAge = secondsOrNull(body, 'default_max_age');
  if (maxAge !== undefined) oidc.defaultMaxAge = maxAge;
  const contacts = strList(body, 'contacts');
  if (contacts !== undefined) oidc.contacts = contacts;
  const backchannel = nullableStr(body, 'backchannel_logout_uri');
  if (backchannel !== undefined) oidc.backchannelLogoutUri = backchannel;
  const sessionRequired = bool(body, 'backchannel_logout_session_required');
  if (sessionRequired !== undefined) oidc.backchannelLogoutSessionRequired = sessionRequired;
  if (Object.keys(oidc).length > 0) input.oidc = oidc;
  set('tokenExchange', tokenExchangeField(body));
  // private_key_jwt: the application's public keys, inline or by URL (checked by the service).
  const jwks = body['jwks'];
  const jwksUri = nullableStr(body, 'jwks_uri');
  if (jwks !== undefined || jwksUri !== undefined) input.privateKeyJwt = { jwks: jwks ?? null, jwksUri: jwksUri ?? null };
  return input;
}

// ---------------------------------------------------------------------------------------------
// Serialisation

function notFound(reply: FastifyReply, description: string): FastifyReply {
  return reply.code(404).send({ error: 'not_found', error_description: description });
}

const noApp = (clientId: string): string => `No application with the client_id ${clientId}`;

function orgView(o: OrganizationRow): Record<string, unknown> {
  return { id: o.id, name: o.name, created_at: new Date(o.createdAt).toISOString() };
}

/** `{"fr": "…", "de": "…"}`: texts by locale (the service checks the locales). */
function localeTexts(body: Body, key: string): Record<string, string> | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidRequest(`"${key}" must be a JSON object of texts by locale, e.g. {"fr": "text"}`);
  const out: Record<string, string> = {};
  for (const [locale, text] of Object.entries(v)) {
    if (typeof text !== 'string') throw invalidRequest(`"${key}.${locale}" must be a string`);
    out[locale] = text;
  }
  return out;
}


function auditView(e: AuditEventRow): Record<string, unknown> {
  return {
    id: e.id,
    at: new Date(e.at).toISOString(),
    type: e.type,
    actor_user_id: e.actorUserId,
    client_id: e.clientId,
    ip: e.ip,
    details: e.details,
  };
}

/** userView plus the organizations the user belongs to. */
async function userWithOrgs(ctx: OAuthContext, u: UserRow): Promise<Record<string, unknown>> {
  const organizations: Array<{ id: string; name: string; role: MembershipRole }> = [];
  for (const m of await ctx.storage.users.memberships(u.id)) {
    const org = await ctx.storage.organizations.byId(m.orgId);
    organizations.push({ id: m.orgId, name: org?.name ?? m.orgId, role: m.role });
  }
  return { ...userView(u), organizations };
}

/** The block-list of Client ID Metadata Documents (docs/client-id-metadata.md). */
function clientMetadataRoutes(api: FastifyInstance, ctx: OAuthContext): void {
  api.get('/client-metadata/blocks', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'offset', 'cursor']);
    const cursor = cursorParam(q, /^\d{1,10}$/);
    const { limit, offset: given } = pagination(q);
    const offset = cursor !== null ? Number(cursor) : given;
    const page = await ctx.storage.clientMetadata.blocks({ limit, offset });
    return { items: page.items.map(blockView), next: offset + page.items.length < page.total ? String(offset + page.items.length) : null, total: page.total };
  });

  api.post('/client-metadata/blocks', bearer, async (request, reply) => {
    const body = readBody(request, ['pattern', 'reason']);
    const result = await blockMetadataClients(ctx, requiredStr(body, 'pattern'), { ...actorOf(request), reason: str(body, 'reason') ?? null });
    return reply.code(result.created ? 201 : 200).send({ ...blockView(result.block), deactivated: result.deactivated });
  });

  api.delete<{ Querystring: { pattern?: string } }>('/client-metadata/blocks', bearer, async (request, reply) => {
    const q = readQuery(request, ['pattern']);
    const pattern = single(q, 'pattern');
    if (pattern === undefined) throw invalidRequest('"pattern" is required (a query parameter)');
    const normalised = blockPattern(pattern);
    if (!(await unblockMetadataClients(ctx, normalised, actorOf(request)))) return notFound(reply, `No block for ${normalised}`);
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------------
// Routes

type WithClientId = { Params: { clientId: string } };

export function adminApiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  void app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        actors.set(request, await authenticateAdmin(ctx, request));
      });
      api.addHook('onSend', async (_request, reply, payload) => {
        reply.header('Cache-Control', 'no-store');
        return payload;
      });
      appRoutes(api, ctx);
      directoryRoutes(api, ctx);
      keyAuditTokenRoutes(api, ctx);
      clientMetadataRoutes(api, ctx);
    },
    { prefix: ADMIN_API_PREFIX },
  );
}

const bearer = { config: { bearer: true } } as const;

function appRoutes(api: FastifyInstance, ctx: OAuthContext): void {
  api.get('/apps', bearer, async (request) => {
    const q = readQuery(request, ['name', 'org', 'status', 'owner', 'limit', 'offset', 'cursor']);
    const status = single(q, 'status');
    if (status !== undefined && status !== 'active' && status !== 'inactive') throw invalidRequest('"status" must be active or inactive');
    const cursor = cursorParam(q, /^\d{1,10}$/);
    const { limit, offset: given } = pagination(q);
    const offset = cursor !== null ? Number(cursor) : given;
    const name = single(q, 'name');
    const org = single(q, 'org');
    const owner = single(q, 'owner');
    const page = await ctx.storage.clients.list({
      ...(name !== undefined ? { name } : {}),
      ...(org !== undefined ? { orgId: (await requireOrg(ctx, org)).id } : {}),
      ...(owner !== undefined ? { ownerId: (await userRef(ctx, 'owner', owner)).id } : {}),
      ...(status !== undefined ? { active: status === 'active' } : {}),
      limit,
      offset,
    });
    return { items: page.items.map(appView), next: offset + page.items.length < page.total ? String(offset + page.items.length) : null, total: page.total, limit, offset };
  });

  api.post('/apps', bearer, async (request, reply) => {
    const input = await appInput(ctx, readBody(request, APP_FIELDS));
    if (input.name === undefined) throw invalidClientMetadata('name is required');
    const created = await createApp(ctx, { ...input, name: input.name }, actorOf(request));
    return reply.code(201).send({
      ...appView(created.client),
      ...(created.clientSecret !== null ? { client_secret: created.clientSecret } : {}),
      ...(created.refreshToken !== null ? { refresh_token: created.refreshToken } : {}),
    });
  });

  api.get<WithClientId>('/apps/:clientId', bearer, async (request, reply) => {
    const c = await ctx.storage.clients.byId(request.params.clientId);
    return c ? appView(c) : notFound(reply, noApp(request.params.clientId));
  });

  api.patch<WithClientId>('/apps/:clientId', bearer, async (request, reply) => {
    const { clientId } = request.params;
    const current = await ctx.storage.clients.byId(clientId);
    if (!current) return notFound(reply, noApp(clientId));
    const { active, ...patch } = await appInput(ctx, readBody(request, APP_FIELDS));
    let c = Object.keys(patch).length > 0 ? await updateApp(ctx, clientId, patch, actorOf(request)) : current;
    if (c && active !== undefined && active !== c.active) c = await setAppActive(ctx, clientId, active, actorOf(request));
    return c ? appView(c) : notFound(reply, noApp(clientId));
  });

  api.delete<WithClientId>('/apps/:clientId', bearer, async (request, reply) => {
    const ok = await deleteApp(ctx, request.params.clientId, actorOf(request));
    return ok ? reply.code(204).send() : notFound(reply, noApp(request.params.clientId));
  });

  for (const [action, active] of [['activate', true], ['deactivate', false]] as const) {
    api.post<WithClientId>(`/apps/:clientId/${action}`, bearer, async (request, reply) => {
      readBody(request, []);
      const c = await setAppActive(ctx, request.params.clientId, active, actorOf(request));
      return c ? appView(c) : notFound(reply, noApp(request.params.clientId));
    });
  }

  api.post<WithClientId>('/apps/:clientId/rotate-secret', bearer, async (request, reply) => {
    const body = readBody(request, ['overlap_seconds']);
    const overlap = secondsOrNull(body, 'overlap_seconds') ?? 0;
    const r = await rotateSecret(ctx, request.params.clientId, { ...actorOf(request), overlapSeconds: overlap });
    if (!r) return notFound(reply, noApp(request.params.clientId));
    return {
      client_id: r.client.clientId,
      client_secret: r.clientSecret,
      ...(r.client.previousSecretExpiresAt !== null ? { previous_secret_expires_at: new Date(r.client.previousSecretExpiresAt).toISOString() } : {}),
    };
  });
}

function directoryRoutes(api: FastifyInstance, ctx: OAuthContext): void {
  // Issue #15 §12: one page at a time from an index — `limit`, `cursor` (the previous page's
  // `next`), and `q` (email prefix or user id); `next` is null on the last page.
  api.get('/users', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'cursor', 'q']);
    const cursor = cursorParam(q, /^\d{1,16}\.[A-Za-z0-9_-]{1,400}$/);
    const search = single(q, 'q');
    const page = await ctx.storage.users.page({ ...(search !== undefined ? { search } : {}), after: cursor, limit: intParam(q, 'limit', 50, 1, 200) });
    const memberships = await ctx.storage.users.membershipsOf(page.items.map((u) => u.id));
    const orgs = new Map((await ctx.storage.organizations.byIds(memberships.map((m) => m.orgId))).map((o) => [o.id, o.name]));
    const items = page.items.map((u) => ({
      ...userView(u),
      organizations: memberships.filter((m) => m.userId === u.id).map((m) => ({ id: m.orgId, name: orgs.get(m.orgId) ?? m.orgId, role: m.role })),
    }));
    return { items, next: page.next };
  });

  api.post('/users', bearer, async (request, reply) => {
    const body = readBody(request, ['email', 'password', 'is_admin', 'org', 'role']);
    const role = oneOf<MembershipRole>(body, 'role', ['admin', 'member']);
    const org = nullableStr(body, 'org') ?? null;
    if (role !== undefined && org === null) throw invalidRequest('"role" needs "org" (the organization the role is in)');
    const input = {
      email: requiredStr(body, 'email'),
      password: requiredStr(body, 'password'),
      isAdmin: bool(body, 'is_admin') === true,
      orgName: org,
      ...(role ? { role } : {}),
    };
    const user = await createUser(ctx, input, actorOf(request));
    return reply.code(201).send(await userWithOrgs(ctx, user));
  });

  api.patch<{ Params: { id: string } }>('/users/:id', bearer, async (request, reply) => {
    const user = await ctx.storage.users.byId(request.params.id);
    if (!user) return notFound(reply, `No user with the id ${request.params.id}`);
    const body = readBody(request, ['disabled', 'is_admin', 'name', 'given_name', 'family_name', 'email_verified']);
    const patch = { disabled: bool(body, 'disabled'), isAdmin: bool(body, 'is_admin') };
    const actor = actorOf(request);
    if (user.id === actor.actorUserId && (patch.disabled === true || patch.isAdmin === false)) {
      throw invalidRequest('You cannot disable yourself or remove your own admin rights (ask another administrator)');
    }
    // OpenID Connect profile claims first (checked before anything changes).
    const profile = { name: nullableStr(body, 'name'), givenName: nullableStr(body, 'given_name'), familyName: nullableStr(body, 'family_name'), emailVerified: bool(body, 'email_verified') };
    if (Object.values(profile).some((v) => v !== undefined)) await setUserProfile(ctx, user.id, profile, actor);
    return userWithOrgs(ctx, (await updateUser(ctx, user.id, patch, actor)) ?? user);
  });

  api.get('/orgs', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'cursor', 'q']);
    const search = single(q, 'q');
    const page = await ctx.storage.organizations.page({
      ...(search !== undefined ? { search } : {}),
      after: cursorParam(q, /^[A-Za-z0-9_-]{1,400}$/),
      limit: intParam(q, 'limit', 50, 1, 200),
    });
    return { items: page.items.map(orgView), next: page.next };
  });

  api.post('/orgs', bearer, async (request, reply) => {
    const body = readBody(request, ['name']);
    return reply.code(201).send(orgView(await createOrg(ctx, requiredStr(body, 'name'), actorOf(request))));
  });

  api.get('/scopes', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'cursor']);
    const page = memoryPage(await ctx.storage.scopes.list(), (sc) => sc.name, q);
    return { items: page.items.map(scopeView), next: page.next };
  });

  api.post('/scopes', bearer, async (request, reply) => {
    const body = readBody(request, ['name', 'description', 'descriptions', 'resource_server', 'is_default']);
    const name = requiredStr(body, 'name');
    const existed = (await ctx.storage.scopes.byName(name)) !== null;
    const descriptions = localeTexts(body, 'descriptions');
    const input = {
      name,
      description: str(body, 'description') ?? '',
      resourceServer: nullableStr(body, 'resource_server') ?? null,
      isDefault: bool(body, 'is_default') === true,
      ...(descriptions !== undefined ? { descriptions } : {}),
    };
    const scope = await createScope(ctx, input, actorOf(request));
    // POST upserts: 201 when the scope is new, 200 when an existing one was updated.
    return reply.code(existed ? 200 : 201).send(scopeView(scope));
  });

  api.get('/resource-servers', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'cursor']);
    const scopes = await ctx.storage.scopes.list();
    const page = memoryPage(await ctx.storage.resourceServers.list(), (rs) => rs.identifier, q);
    const items = page.items.map((rs) => ({
      identifier: rs.identifier,
      name: rs.name,
      scopes: scopes.filter((s) => s.resourceServer === rs.identifier).map((s) => s.name),
      introspectors: rs.introspectors,
      created_at: new Date(rs.createdAt).toISOString(),
    }));
    return { items, next: page.next };
  });

  api.post('/resource-servers', bearer, async (request, reply) => {
    const body = readBody(request, ['identifier', 'name', 'scopes', 'introspectors']);
    const scopes = resourceServerScopes(body['scopes']);
    const rs = await createResourceServer(
      ctx,
      { identifier: requiredStr(body, 'identifier'), name: str(body, 'name') ?? '', scopes, introspectors: strList(body, 'introspectors') ?? [] },
      actorOf(request),
    );
    return reply.code(201).send({
      identifier: rs.identifier,
      name: rs.name,
      scopes: scopes.map((s) => s.name),
      introspectors: rs.introspectors,
      created_at: new Date(rs.createdAt).toISOString(),
    });
  });
}

/** `scopes: [{ name, description? }]` of a new resource server. */
function resourceServerScopes(value: unknown): Array<{ name: string; description: string }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidRequest('"scopes" must be an array of { name, description }');
  return value.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalidRequest(`scopes[${i}] must be an object { name, description }`);
    const s = item as Body;
    for (const key of Object.keys(s)) {
      if (key !== 'name' && key !== 'description') throw invalidRequest(`scopes[${i}]: unknown field "${key}"`);
    }
    return { name: requiredStr(s, 'name'), description: str(s, 'description') ?? '' };
  });
}


function keyAuditTokenRoutes(api: FastifyInstance, ctx: OAuthContext): void {
  api.get('/keys', bearer, async (request) => {
    const q = readQuery(request, ['limit', 'cursor']);
    const now = ctx.now();
    const page = memoryPage(await ctx.storage.keys.listAll(), (k) => k.kid, q);
    return { items: page.items.map((k) => keyView(k, now)), next: page.next };
  });

  api.post('/keys/rotate', bearer, async (request, reply) => {
    const alg = oneOf(readBody(request, ['alg']), 'alg', KEY_ALGS);
    const key = await rotateSigningKey(ctx, alg ?? ctx.config.keyAlg, actorOf(request));
    return reply.code(201).send(keyView(key, ctx.now()));
  });

  api.get('/audit', bearer, async (request) => {
    const q = readQuery(request, ['type', 'client_id', 'limit', 'cursor']);
    const type = single(q, 'type');
    const clientId = single(q, 'client_id');
    const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursorParam(q, /^\d{1,16}\.\d{1,16}$/) ?? '');
    const limit = intParam(q, 'limit', 100, 1, 1000);
    // One more than asked tells whether there is a next page.
    const rows = await ctx.storage.audit.list({
      ...(type !== undefined ? { type } : {}),
      ...(clientId !== undefined ? { clientId } : {}),
      ...(m ? { before: { at: Number(m[1]), id: Number(m[2]) } } : {}),
      limit: limit + 1,
    });
    const events = rows.slice(0, limit);
    const last = events[events.length - 1];
    return { items: events.map(auditView), next: rows.length > limit && last ? `${last.at}.${last.id}` : null };
  });

  // H5: a platform's existing applications and grants (docs/import.md); all or nothing.
  api.post('/import', bearer, async (request, reply) => {
    const q = readQuery(request, ['dry_run']);
    const dryRun = single(q, 'dry_run') === 'true';
    try {
      const result = await importPlatform(ctx, request.body ?? {}, { dryRun, ...actorOf(request) });
      return reply.code(dryRun ? 200 : 201).send({ apps: result.apps, grants: result.grants, tokens: result.tokens, dry_run: result.dryRun });
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      return reply.code(400).send({ error: 'invalid_request', error_description: err.message, problems: err.problems });
    }
  });

  api.post('/tokens/revoke', bearer, async (request, reply) => {
    const body = readBody(request, ['token', 'client_id', 'user_email']);
    const target = { token: str(body, 'token'), clientId: str(body, 'client_id'), userEmail: str(body, 'user_email') };
    const result = await revokeTokens(ctx, target, { ...actorOf(request), via: 'admin_api' });
    return 'notFound' in result ? notFound(reply, result.notFound) : { revoked: result.revoked };
  });
}
