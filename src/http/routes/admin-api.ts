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
import type { Static } from 'typebox';
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import { insufficientScope, invalidRequest } from '../../oauth/errors.js';
import { revokeTokens } from '../../services/tokens.js';
import { ImportError, importPlatform } from '../../services/import.js';
import { appView, createApp, deleteApp, rotateSecret, setAppActive, updateApp, type AppInput } from '../../services/apps.js';
import { createOrg, createResourceServer, createScope, createUser, requireOrg, scopeView, setUserProfile, updateUser, userView } from '../../services/directory.js';
import { keyView, rotateSigningKey } from '../../services/keys.js';
import { blockMetadataClients, blockPattern, blockView, unblockMetadataClients } from '../../services/client-metadata.js';
import type { AuditEventRow, MembershipRole, OrganizationRow, UserRow } from '../../storage/types.js';
import { requireBearer } from '../plugins/bearer.js';
import { useRouteSchemas, type SchemaApi } from '../plugins/schema-reader.js';
import * as S from '../schemas/admin.js';
import { operation } from '../schemas/operation.js';

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
// Request reading: the schemas (src/http/schemas/admin.ts) check types and unknown fields; what
// is left here is what involves more than one field, or the database.

type Mutable<T> = { -readonly [K in keyof T]?: T[K] };
type AppBody = Static<typeof S.AppUpdate>;

function scopeList(body: AppBody): string[] | undefined {
  if (body.scopes !== undefined && body.scope !== undefined) throw invalidRequest('Give either "scopes" or "scope", not both');
  if (body.scope !== undefined) return body.scope.split(' ').filter((s) => s.length > 0);
  return body.scopes;
}

/** Offset pagination (apps, blocks): `cursor` is the offset the previous page's `next` gave. */
function offsetOf(q: { cursor?: string; offset?: number }): number {
  return q.cursor !== undefined ? Number(q.cursor) : (q.offset ?? 0);
}

/** A page of a small, cached configuration list (scopes, resource servers, keys) in `key` order. */
function memoryPage<T>(rows: readonly T[], key: (row: T) => string, q: { limit?: number; cursor?: string }): { items: T[]; next: string | null } {
  const limit = q.limit ?? S.CONFIG_PAGE.def;
  const after = q.cursor === undefined ? null : Buffer.from(q.cursor, 'base64url').toString('utf8');
  const sorted = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).filter((r) => after === null || key(r) > after);
  const items = sorted.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next: sorted.length > limit && last !== undefined ? Buffer.from(key(last), 'utf8').toString('base64url') : null };
}

/** A user by email or id (400 when unknown: it is a field of the request, not the resource). */
async function userRef(ctx: OAuthContext, field: string, value: string): Promise<UserRow> {
  const user = (await ctx.storage.users.byEmail(value.trim().toLowerCase())) ?? (await ctx.storage.users.byId(value));
  if (!user) throw invalidRequest(`${field}: no user with the email or id "${value}"`);
  return user;
}

/** A reference field of an app (org, owner, acts_as): absent, null to clear, or resolved to an id. */
async function refField(v: string | null | undefined, resolve: (value: string) => Promise<string>): Promise<string | null | undefined> {
  return v === undefined || v === null ? v : resolve(v);
}

/** `token_exchange`: null (no policy), or the policy fields to set (RFC 8693). */
function tokenExchangeField(v: AppBody['token_exchange']): AppInput['tokenExchange'] {
  if (v === undefined || v === null) return v;
  return {
    ...(v.audiences !== undefined ? { audiences: v.audiences } : {}),
    ...(v.impersonation !== undefined ? { impersonation: v.impersonation } : {}),
    ...(v.refresh_tokens !== undefined ? { refreshTokens: v.refresh_tokens } : {}),
  };
}

/** The snake_case app body → AppInput fields; only the fields present are set. */
async function appInput(ctx: OAuthContext, body: AppBody): Promise<Mutable<AppInput>> {
  const input: Mutable<AppInput> = {};
  const set = <K extends keyof AppInput>(key: K, value: AppInput[K] | undefined): void => {
    if (value !== undefined) input[key] = value;
  };
  set('name', body.name);
  set('description', body.description);
  set('website', body.website);
  set('logoUri', body.logo_uri);
  set('redirectUris', body.redirect_uris);
  set('scopes', scopeList(body));
  set('grantTypes', body.grant_types);
  set('public', body.client_type === undefined ? undefined : body.client_type === 'public');
  set('orgId', await refField(body.org, async (v) => (await requireOrg(ctx, v)).id));
  set('ownerId', await refField(body.owner, async (v) => (await userRef(ctx, 'owner', v)).id));
  set('actsAsUserId', await refField(body.acts_as, async (v) => (await userRef(ctx, 'acts_as', v)).id));
  set('internal', body.internal);
  set('tokenFormat', body.token_format);
  set('accessTtl', body.access_ttl);
  set('refreshEnabled', body.refresh_enabled);
  set('refreshTtl', body.refresh_ttl);
  set('refreshGraceSeconds', body.refresh_grace_seconds === null ? 0 : body.refresh_grace_seconds);
  set('active', body.active);
  // OpenID Connect
  set('idTokenSignedResponseAlg', body.id_token_signed_response_alg);
  set('postLogoutRedirectUris', body.post_logout_redirect_uris);
  const oidc: Mutable<NonNullable<AppInput['oidc']>> = {};
  if (body.application_type !== undefined) oidc.applicationType = body.application_type;
  if (body.default_max_age !== undefined) oidc.defaultMaxAge = body.default_max_age;
  if (body.contacts !== undefined) oidc.contacts = body.contacts;
  if (body.backchannel_logout_uri !== undefined) oidc.backchannelLogoutUri = body.backchannel_logout_uri;
  if (body.backchannel_logout_session_required !== undefined) oidc.backchannelLogoutSessionRequired = body.backchannel_logout_session_required;
  if (Object.keys(oidc).length > 0) input.oidc = oidc;
  set('tokenExchange', tokenExchangeField(body.token_exchange));
  // private_key_jwt: the application's public keys, inline or by URL (checked by the service).
  if (body.jwks !== undefined || body.jwks_uri !== undefined) input.privateKeyJwt = { jwks: body.jwks ?? null, jwksUri: body.jwks_uri ?? null };
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
function clientMetadataRoutes(api: SchemaApi, ctx: OAuthContext): void {
  api.get('/client-metadata/blocks', operation({ summary: 'Client ID Metadata Documents: the block-list, by pattern', query: S.MetadataBlockQuery, ok: [200, 'A page of blocks', S.MetadataBlockPage] }), async (request) => {
    const limit = request.query.limit ?? S.BLOCK_PAGE.def;
    const offset = offsetOf(request.query);
    const page = await ctx.storage.clientMetadata.blocks({ limit, offset });
    return { items: page.items.map(blockView), next: offset + page.items.length < page.total ? String(offset + page.items.length) : null, total: page.total };
  });

  const block = operation({
    summary: 'Block documents from a host, a domain or one client_id URL (201; 200 when already blocked); deactivates the applications already known there',
    body: S.MetadataBlockCreate,
    ok: [201, 'Blocked', S.MetadataBlockCreated],
  });
  api.post('/client-metadata/blocks', block, async (request, reply) => {
    const result = await blockMetadataClients(ctx, request.body.pattern, { ...actorOf(request), reason: request.body.reason ?? null });
    return reply.code(result.created ? 201 : 200).send({ ...blockView(result.block), deactivated: result.deactivated });
  });

  const unblock = operation({ summary: 'Lift a block (its applications stay deactivated)', query: S.MetadataUnblockQuery, ok: [204, 'Lifted'], notFound: true });
  api.delete('/client-metadata/blocks', unblock, async (request, reply) => {
    const normalised = blockPattern(request.query.pattern);
    if (!(await unblockMetadataClients(ctx, normalised, actorOf(request)))) return notFound(reply, `No block for ${normalised}`);
    return reply.code(204).send();
  });
}

// ---------------------------------------------------------------------------------------------
// Routes

export function adminApiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  void app.register(
    async (context) => {
      const api = useRouteSchemas(context);
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

function appRoutes(api: SchemaApi, ctx: OAuthContext): void {
  api.get('/apps', operation({ summary: 'List applications, newest first', query: S.AppListQuery, ok: [200, 'A page of applications', S.AppPage] }), async (request) => {
    const { name, org, owner, status } = request.query;
    const limit = request.query.limit ?? S.PAGE.def;
    const offset = offsetOf(request.query);
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

  const create = operation({ summary: 'Create an application; the secret is shown only once', body: S.AppCreate, ok: [201, 'Created', S.CreatedApp] });
  api.post('/apps', create, async (request, reply) => {
    const input = await appInput(ctx, request.body);
    const created = await createApp(ctx, { ...input, name: request.body.name }, actorOf(request));
    return reply.code(201).send({
      ...appView(created.client),
      ...(created.clientSecret !== null ? { client_secret: created.clientSecret } : {}),
      ...(created.refreshToken !== null ? { refresh_token: created.refreshToken } : {}),
    });
  });

  const show = operation({ summary: 'Show an application', params: S.ClientIdParams, query: S.NoQuery, ok: [200, 'The application', S.App], notFound: true });
  api.get('/apps/:clientId', show, async (request, reply) => {
    const c = await ctx.storage.clients.byId(request.params.clientId);
    return c ? appView(c) : notFound(reply, noApp(request.params.clientId));
  });

  const update = operation({ summary: 'Update an application (only the fields given change)', params: S.ClientIdParams, body: S.AppUpdate, ok: [200, 'Updated', S.App], notFound: true });
  api.patch('/apps/:clientId', update, async (request, reply) => {
    const { clientId } = request.params;
    const current = await ctx.storage.clients.byId(clientId);
    if (!current) return notFound(reply, noApp(clientId));
    const { active, ...patch } = await appInput(ctx, request.body);
    let c = Object.keys(patch).length > 0 ? await updateApp(ctx, clientId, patch, actorOf(request)) : current;
    if (c && active !== undefined && active !== c.active) c = await setAppActive(ctx, clientId, active, actorOf(request));
    return c ? appView(c) : notFound(reply, noApp(clientId));
  });

  const remove = operation({ summary: 'Delete an application with its tokens and consents', params: S.ClientIdParams, query: S.NoQuery, ok: [204, 'Deleted'], notFound: true });
  api.delete('/apps/:clientId', remove, async (request, reply) => {
    const ok = await deleteApp(ctx, request.params.clientId, actorOf(request));
    return ok ? reply.code(204).send() : notFound(reply, noApp(request.params.clientId));
  });

  for (const [action, active, summary] of [
    ['activate', true, 'Activate an application'],
    ['deactivate', false, 'Deactivate an application: its tokens stop working at once'],
  ] as const) {
    const spec = operation({ summary, params: S.ClientIdParams, body: S.NoBody, ok: [200, active ? 'Activated' : 'Deactivated', S.App], notFound: true });
    api.post(`/apps/:clientId/${action}`, spec, async (request, reply) => {
      const c = await setAppActive(ctx, request.params.clientId, active, actorOf(request));
      return c ? appView(c) : notFound(reply, noApp(request.params.clientId));
    });
  }

  const rotate = operation({
    summary: 'New client secret, shown once; the old one stops working at once, or after overlap_seconds',
    params: S.ClientIdParams,
    body: S.RotateSecret,
    ok: [200, 'The new secret', S.ClientSecret],
    notFound: true,
  });
  api.post('/apps/:clientId/rotate-secret', rotate, async (request, reply) => {
    const r = await rotateSecret(ctx, request.params.clientId, { ...actorOf(request), overlapSeconds: request.body.overlap_seconds ?? 0 });
    if (!r) return notFound(reply, noApp(request.params.clientId));
    return {
      client_id: r.client.clientId,
      client_secret: r.clientSecret,
      ...(r.client.previousSecretExpiresAt !== null ? { previous_secret_expires_at: new Date(r.client.previousSecretExpiresAt).toISOString() } : {}),
    };
  });
}

function directoryRoutes(api: SchemaApi, ctx: OAuthContext): void {
  // Issue #15 §12: one page at a time from an index — `limit`, `cursor` (the previous page's
  // `next`), and `q` (email prefix or user id); `next` is null on the last page.
  const users = operation({ summary: 'List users, oldest first', query: S.SearchQuery('Emails starting with this, or this exact user id', S.CURSOR.user), ok: [200, 'A page of users', S.UserPage] });
  api.get('/users', users, async (request) => {
    const { q: search, cursor } = request.query;
    const page = await ctx.storage.users.page({ ...(search !== undefined ? { search } : {}), after: cursor ?? null, limit: request.query.limit ?? S.PAGE.def });
    const memberships = await ctx.storage.users.membershipsOf(page.items.map((u) => u.id));
    const orgs = new Map((await ctx.storage.organizations.byIds(memberships.map((m) => m.orgId))).map((o) => [o.id, o.name]));
    const items = page.items.map((u) => ({
      ...userView(u),
      organizations: memberships.filter((m) => m.userId === u.id).map((m) => ({ id: m.orgId, name: orgs.get(m.orgId) ?? m.orgId, role: m.role })),
    }));
    return { items, next: page.next };
  });

  api.post('/users', operation({ summary: 'Create a user', body: S.UserCreate, ok: [201, 'Created', S.User] }), async (request, reply) => {
    const { email, password, is_admin, role } = request.body;
    const org = request.body.org ?? null;
    if (role !== undefined && org === null) throw invalidRequest('"role" needs "org" (the organization the role is in)');
    const user = await createUser(ctx, { email, password, isAdmin: is_admin === true, orgName: org, ...(role ? { role } : {}) }, actorOf(request));
    return reply.code(201).send(await userWithOrgs(ctx, user));
  });

  const patchUser = operation({
    summary: 'Disable/enable a user, change admin rights (not your own), or set OpenID Connect profile claims',
    params: S.IdParams,
    body: S.UserUpdate,
    ok: [200, 'Updated', S.User],
    notFound: true,
  });
  api.patch('/users/:id', patchUser, async (request, reply) => {
    const user = await ctx.storage.users.byId(request.params.id);
    if (!user) return notFound(reply, `No user with the id ${request.params.id}`);
    const body = request.body;
    const patch = { disabled: body.disabled, isAdmin: body.is_admin };
    const actor = actorOf(request);
    if (user.id === actor.actorUserId && (patch.disabled === true || patch.isAdmin === false)) {
      throw invalidRequest('You cannot disable yourself or remove your own admin rights (ask another administrator)');
    }
    // OpenID Connect profile claims first (checked before anything changes).
    const profile = { name: body.name, givenName: body.given_name, familyName: body.family_name, emailVerified: body.email_verified };
    if (Object.values(profile).some((v) => v !== undefined)) await setUserProfile(ctx, user.id, profile, actor);
    return userWithOrgs(ctx, (await updateUser(ctx, user.id, patch, actor)) ?? user);
  });

  const orgs = operation({ summary: 'List organizations by name', query: S.SearchQuery('Names starting with this (case-insensitive)', S.CURSOR.org), ok: [200, 'A page of organizations', S.OrganizationPage] });
  api.get('/orgs', orgs, async (request) => {
    const { q: search, cursor } = request.query;
    const page = await ctx.storage.organizations.page({ ...(search !== undefined ? { search } : {}), after: cursor ?? null, limit: request.query.limit ?? S.PAGE.def });
    return { items: page.items.map(orgView), next: page.next };
  });

  api.post('/orgs', operation({ summary: 'Create an organization', body: S.OrganizationCreate, ok: [201, 'Created', S.Organization] }), async (request, reply) => {
    return reply.code(201).send(orgView(await createOrg(ctx, request.body.name, actorOf(request))));
  });

  api.get('/scopes', operation({ summary: 'List scopes by name', query: S.PagedQuery(S.CONFIG_PAGE, S.CURSOR.name), ok: [200, 'A page of scopes', S.ScopePage] }), async (request) => {
    const page = memoryPage(await ctx.storage.scopes.list(), (sc) => sc.name, request.query);
    return { items: page.items.map(scopeView), next: page.next };
  });

  api.post('/scopes', operation({ summary: 'Create a scope (201), or update an existing one (200)', body: S.ScopeCreate, ok: [201, 'Created', S.Scope] }), async (request, reply) => {
    const { name, description, descriptions, resource_server, is_default } = request.body;
    const existed = (await ctx.storage.scopes.byName(name)) !== null;
    const input = { name, description: description ?? '', resourceServer: resource_server ?? null, isDefault: is_default === true, ...(descriptions !== undefined ? { descriptions } : {}) };
    const scope = await createScope(ctx, input, actorOf(request));
    // POST upserts: 201 when the scope is new, 200 when an existing one was updated.
    return reply.code(existed ? 200 : 201).send(scopeView(scope));
  });

  const servers = operation({ summary: 'List resource servers (token audiences)', query: S.PagedQuery(S.CONFIG_PAGE, S.CURSOR.name), ok: [200, 'A page of resource servers', S.ResourceServerPage] });
  api.get('/resource-servers', servers, async (request) => {
    const scopes = await ctx.storage.scopes.list();
    const page = memoryPage(await ctx.storage.resourceServers.list(), (rs) => rs.identifier, request.query);
    const items = page.items.map((rs) => ({
      identifier: rs.identifier,
      name: rs.name,
      scopes: scopes.filter((s) => s.resourceServer === rs.identifier).map((s) => s.name),
      introspectors: rs.introspectors,
      created_at: new Date(rs.createdAt).toISOString(),
    }));
    return { items, next: page.next };
  });

  api.post('/resource-servers', operation({ summary: 'Register a resource server with its scopes', body: S.ResourceServerCreate, ok: [201, 'Created', S.ResourceServer] }), async (request, reply) => {
    const scopes = (request.body.scopes ?? []).map((sc) => ({ name: sc.name, description: sc.description ?? '' }));
    const rs = await createResourceServer(
      ctx,
      { identifier: request.body.identifier, name: request.body.name ?? '', scopes, introspectors: request.body.introspectors ?? [] },
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

function keyAuditTokenRoutes(api: SchemaApi, ctx: OAuthContext): void {
  api.get('/keys', operation({ summary: 'List signing keys', query: S.PagedQuery(S.CONFIG_PAGE, S.CURSOR.name), ok: [200, 'A page of keys', S.SigningKeyPage] }), async (request) => {
    const now = ctx.now();
    const page = memoryPage(await ctx.storage.keys.listAll(), (k) => k.kid, request.query);
    return { items: page.items.map((k) => keyView(k, now)), next: page.next };
  });

  const rotate = operation({ summary: 'Rotate the signing key; the old one stays published until its tokens expire', body: S.KeyRotate, ok: [201, 'The new key', S.SigningKey] });
  api.post('/keys/rotate', rotate, async (request, reply) => {
    const key = await rotateSigningKey(ctx, request.body.alg ?? ctx.config.keyAlg, actorOf(request));
    return reply.code(201).send(keyView(key, ctx.now()));
  });

  api.get('/audit', operation({ summary: 'Audit events, newest first', query: S.AuditQuery, ok: [200, 'A page of events', S.AuditPage] }), async (request) => {
    const { type, client_id: clientId, cursor } = request.query;
    const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor ?? '');
    const limit = request.query.limit ?? S.AUDIT_PAGE.def;
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
  const importOp = operation({
    summary: 'Import existing applications (client_id and secret kept) and grants; all or nothing (docs/import.md)',
    query: S.ImportQuery,
    body: S.Import,
    ok: [201, 'Imported (200 for a dry run)', S.ImportResult],
  });
  api.post('/import', importOp, async (request, reply) => {
    const dryRun = request.query.dry_run === true;
    try {
      const result = await importPlatform(ctx, request.body, { dryRun, ...actorOf(request) });
      return reply.code(dryRun ? 200 : 201).send({ apps: result.apps, grants: result.grants, tokens: result.tokens, dry_run: result.dryRun });
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      return reply.code(400).send({ error: 'invalid_request', error_description: err.message, problems: err.problems });
    }
  });

  const revoke = operation({ summary: 'Revoke one token, every token of an app, or one user’s tokens for an app', body: S.TokenRevoke, ok: [200, 'How many were revoked', S.Revoked], notFound: true });
  api.post('/tokens/revoke', revoke, async (request, reply) => {
    const { token, client_id: clientId, user_email: userEmail } = request.body;
    const result = await revokeTokens(ctx, { token, clientId, userEmail }, { ...actorOf(request), via: 'admin_api' });
    return 'notFound' in result ? notFound(reply, result.notFound) : { revoked: result.revoked };
  });
}
