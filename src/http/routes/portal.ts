/**
 * The developer portal (U2, A2, A10): any signed-in person manages their own applications under
 * /developers — list, create (every A1 field), the shown-once credentials screen, edit, rotate
 * the secret (shown once), delete with confirmation, activate / deactivate. Applications of
 * other people are never shown (404, whether they exist or not).
 *
 * Shown once, statelessly: after a create or rotate POST, the new secret travels to the
 * credentials page (303) in a cookie encrypted (AES-256-GCM) with a key derived from the
 * browser's session cookie — which the server stores only as a hash — limited to that page's
 * path and a few minutes. The page shows it, then clears the cookie; a reload shows it no more.
 * Any server process can read it; nothing about it is stored.
 */
import { GRANT } from '../../oauth/grant-types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { HttpContext } from '../context.js';
import type { Account } from '../../accounts/types.js';
import type { ClientRow, ScopeRow } from '../../storage/types.js';
import { deriveKey, openJson, sealJson, sha256 } from '../../oauth/crypto.js';
import { createApp, deleteApp, rotateSecret, setAppActive, updateApp, type AppInput } from '../../services/apps.js';
import { CSRF_COOKIE, SESSION_COOKIE, cookieOptions } from '../session.js';
import { html } from '../views/html.js';
import { appFacts, appForm, confirmBody, credentialsBody, deleteConfirmBody, EMPTY_APP, formValuesOf, OVERLAP_CHOICES, overlapControl, type AppFormValues } from '../views/apps.js';
import type { KeyAlg } from '../../config.js';
import {
  checkCsrf,
  checked,
  errorMessage,
  formatDate,
  formOf,
  list,
  notFoundPage,
  notice,
  orgChoicesOf,
  query,
  redirect303,
  requireViewer,
  resolveOrg,
  sendPage,
  shell,
  statusBadge,
  text,
  type Form,
  type OrgChoices,
  type PageContext,
} from '../views/kit.js';

const SECRET_COOKIE = 'tg_secret_once';
const SECRET_COOKIE_SECONDS = 300;
/**
 * The grant types a person may give their own application. The others — password and implicit
 * (they let an application handle passwords or skip PKCE-style protections) and any extension
 * grant a host added — only an administrator may enable. The device authorization grant is a
 * developer's own choice (off by default): its consent page warns against codes others send.
 */
const SELF_SERVICE_GRANTS: readonly string[] = [GRANT.authorizationCode, GRANT.refreshToken, GRANT.clientCredentials, GRANT.deviceCode];
/** Scopes only an administrator may give an application (`login` answers the platform's sign-ins). */
const ADMIN_ONLY_SCOPES = ['admin', 'login'];

// ---------------------------------------------------------------------------------------------
// The shown-once secret

/**
 * The key of the shown-once envelope: derived from the browser's own cookies (the CSRF cookie, and
 * the built-in session cookie when there is one), which the server never stores in clear.
 */
function flashKey(request: FastifyRequest): Buffer | null {
  const csrf = request.cookies[CSRF_COOKIE];
  if (!csrf) return null;
  return deriveKey(`${request.cookies[SESSION_COOKIE] ?? ''}\0${csrf}`, 'tollgate/secret-once');
}

function credentialsPath(base: string, clientId: string): string {
  return `${base}/developers/apps/${encodeURIComponent(clientId)}/credentials`;
}

function setSecretOnce(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, clientId: string, secret: string, rotated: boolean): void {
  const key = flashKey(request);
  if (!key) return;
  const value = sealJson(key, { c: clientId, s: secret, r: rotated, e: ctx.now() + SECRET_COOKIE_SECONDS * 1000 });
  reply.setCookie(SECRET_COOKIE, value, {
    ...cookieOptions(ctx, SECRET_COOKIE_SECONDS),
    path: credentialsPath(ctx.base, clientId),
    sameSite: 'strict',
  });
}

/** Reads and clears the shown-once secret for this application, if it is still its current secret. */
function takeSecretOnce(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, client: ClientRow): { secret: string; rotated: boolean } | null {
  const raw = request.cookies[SECRET_COOKIE];
  if (!raw) return null;
  reply.clearCookie(SECRET_COOKIE, { path: credentialsPath(ctx.base, client.clientId) });
  const key = flashKey(request);
  if (!key || raw.length > 1000) return null;
  const v = openJson(key, raw) as { c?: unknown; s?: unknown; r?: unknown; e?: unknown } | null;
  if (!v || v.c !== client.clientId || typeof v.s !== 'string' || typeof v.e !== 'number' || v.e < ctx.now()) return null;
  if (client.secretHash === null || sha256(v.s) !== client.secretHash) return null;
  return { secret: v.s, rotated: v.r === true };
}

// ---------------------------------------------------------------------------------------------
// Form parsing, shared with the back-office

/** The A1 fields of the application form as service input. */
export function appInputFromForm(form: Form, opts: { mode: 'create' | 'edit'; withOwner: boolean; withTokenExchange?: boolean }): AppInput {
  const input: { -readonly [K in keyof AppInput]: AppInput[K] } = {
    name: text(form, 'name', 200),
    description: text(form, 'description', 2000) || null,
    website: text(form, 'website', 2000) || null,
    logoUri: text(form, 'logo_uri', 2000) || null,
    redirectUris: text(form, 'redirect_uris', 20000)
      .split(/[\r\n]+/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    scopes: list(form, 'scopes'),
    grantTypes: list(form, 'grant_types'),
    orgId: text(form, 'org_id', 100) || null,
    active: checked(form, 'active'),
  };
  if (opts.mode === 'create') input.public = text(form, 'client_type') === 'public';
  if (opts.withOwner) input.ownerId = text(form, 'owner_id', 320) || null;
  // OpenID Connect settings, when the form had them (the instance has the feature).
  if ('id_token_alg' in form) {
    const lines = (name: string) => text(form, name, 20000).split(/[\r\n]+/).map((s) => s.trim()).filter((s) => s.length > 0);
    // Checked by the service (an unknown algorithm is refused, never replaced).
    input.idTokenSignedResponseAlg = text(form, 'id_token_alg', 10) as KeyAlg;
    input.postLogoutRedirectUris = lines('post_logout_redirect_uris');
    const maxAge = text(form, 'default_max_age', 12);
    input.oidc = {
      backchannelLogoutUri: text(form, 'backchannel_logout_uri', 2000) || null,
      // Not a whole number: -1, which the service refuses with its range message.
      defaultMaxAge: maxAge === '' ? null : /^\d{1,9}$/.test(maxAge) ? Number(maxAge) : -1,
      contacts: lines('contacts'),
    };
  }
  // The token-exchange policy: administrators only (the back-office asks for it; the portal never reads it).
  if (opts.withTokenExchange === true && 'token_exchange_form' in form) {
    input.tokenExchange = checked(form, 'token_exchange_enabled')
      ? {
          audiences: text(form, 'token_exchange_audiences', 20000).split(/[\r\n]+/).map((s) => s.trim()).filter((s) => s.length > 0),
          impersonation: checked(form, 'token_exchange_impersonation'),
          refreshTokens: checked(form, 'token_exchange_refresh_tokens'),
        }
      : null;
  }
  return input;
}

export function formValuesFromInput(input: AppInput, base: AppFormValues): AppFormValues {
  return {
    name: input.name,
    description: input.description ?? '',
    website: input.website ?? '',
    logoUri: input.logoUri ?? '',
    redirectUris: input.redirectUris ?? [],
    scopes: input.scopes ?? [],
    grantTypes: input.grantTypes ?? [],
    clientType: input.public === undefined ? base.clientType : input.public ? 'public' : 'confidential',
    orgId: input.orgId ?? '',
    ownerId: input.ownerId ?? base.ownerId,
    active: input.active ?? base.active,
    oidc: {
      idTokenAlg: input.idTokenSignedResponseAlg ?? base.oidc.idTokenAlg,
      postLogoutRedirectUris: input.postLogoutRedirectUris ?? base.oidc.postLogoutRedirectUris,
      backchannelLogoutUri: input.oidc?.backchannelLogoutUri !== undefined ? (input.oidc.backchannelLogoutUri ?? '') : base.oidc.backchannelLogoutUri,
      defaultMaxAge: input.oidc?.defaultMaxAge !== undefined ? (input.oidc.defaultMaxAge === null ? '' : String(input.oidc.defaultMaxAge)) : base.oidc.defaultMaxAge,
      contacts: input.oidc?.contacts ?? base.oidc.contacts,
    },
    tokenExchange:
      input.tokenExchange === undefined
        ? base.tokenExchange
        : input.tokenExchange === null
          ? { ...base.tokenExchange, enabled: false }
          : { enabled: true, audiences: input.tokenExchange.audiences ?? [], impersonation: input.tokenExchange.impersonation ?? false, refreshTokens: input.tokenExchange.refreshTokens ?? false },
  };
}

// ---------------------------------------------------------------------------------------------

async function scopeChoices(ctx: OAuthContext, user: Account): Promise<ScopeRow[]> {
  const all = await ctx.storage.scopes.list();
  return user.isAdmin ? all : all.filter((s) => !ADMIN_ONLY_SCOPES.includes(s.name));
}

/**
 * The organizations the person may put an application in: their own, or for an administrator
 * any (a text field taking a name or an id once there are many; issue #15 §12).
 */
async function orgChoices(ctx: OAuthContext, user: Account): Promise<OrgChoices> {
  if (user.isAdmin) return orgChoicesOf(ctx);
  const memberships = await ctx.storage.users.memberships(user.id);
  const orgs = await ctx.storage.organizations.byIds(memberships.map((m) => m.orgId));
  return { kind: 'list', orgs: [...orgs].sort((a, b) => a.name.localeCompare(b.name)) };
}

/** The form's organization (an id, or a name typed by an administrator) as an id. */
async function withOrgId(ctx: OAuthContext, input: AppInput): Promise<AppInput> {
  if (!input.orgId) return input;
  const org = await resolveOrg(ctx, input.orgId);
  return org ? { ...input, orgId: org.id } : input;
}

async function mayUseOrg(ctx: OAuthContext, user: Account, orgId: string): Promise<boolean> {
  if (user.isAdmin) return (await ctx.storage.organizations.byId(orgId)) !== null;
  return (await ctx.storage.users.memberships(user.id)).some((m) => m.orgId === orgId);
}

async function orgNameOf(ctx: OAuthContext, orgId: string): Promise<string | null> {
  return orgId ? ((await resolveOrg(ctx, orgId))?.name ?? orgId) : null;
}

/** Portal-specific limits on what a person may give their own application. */
async function portalCheck(ctx: OAuthContext, user: Account, input: AppInput): Promise<string | null> {
  if (!user.isAdmin) {
    if ((input.scopes ?? []).some((s) => ADMIN_ONLY_SCOPES.includes(s))) return 'Only administrators may give an application the admin or login scope.';
    if ((input.grantTypes ?? []).some((g) => !SELF_SERVICE_GRANTS.includes(g))) {
      return 'The password and implicit grants (and extension grants) can only be enabled by an administrator.';
    }
  }
  if (input.orgId && !(await mayUseOrg(ctx, user, input.orgId))) return user.isAdmin ? `No organization named ${input.orgId}.` : 'You are not a member of that organization.';
  if (!input.name) return 'The name is required.';
  return null;
}

async function ownApp(ctx: OAuthContext, pc: PageContext, clientId: string): Promise<ClientRow | null> {
  if (clientId.length > 200) return null;
  const c = await ctx.storage.clients.byId(clientId);
  return c && c.ownerId === pc.user.id ? c : null;
}

/**
 * The signed-in person and one of their own applications, or null once the reply is sent (the
 * sign-in redirect, or a 404 page: someone else's application is not shown to exist).
 */
async function viewerAndOwnApp(
  ctx: HttpContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
): Promise<{ pc: PageContext; c: ClientRow } | null> {
  const pc = await requireViewer(ctx, request, reply);
  if (!pc) return null;
  const c = await ownApp(ctx, pc, request.params.id);
  if (!c) {
    notFoundPage(reply, pc);
    return null;
  }
  return { pc, c };
}

function actor(pc: PageContext, request: FastifyRequest) {
  return { actorUserId: pc.user.id, ip: request.ip };
}

type IdParams = { Params: { id: string } };

const APPS_PER_PAGE = 50;

export function portalRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const page = { config: { page: true } } as const;

  app.get('/developers', page, async (request, reply) => {
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    // 50 at a time, newest first, from the owner index (issue #15 §12).
    const pageNo = Math.max(1, Math.min(100_000, Number.parseInt(query(request, 'page', 6), 10) || 1));
    const { items, total } = await ctx.storage.clients.list({ ownerId: pc.user.id, limit: APPS_PER_PAGE, offset: (pageNo - 1) * APPS_PER_PAGE });
    const pages = Math.max(1, Math.ceil(total / APPS_PER_PAGE));
    const pageLink = (n: number) => `${ctx.base}/developers${n > 1 ? `?page=${n}` : ''}`;
    const body = html`<div class="app-head"><h1>Your applications</h1></div>
${notice(request)}
<p><a class="button" href="${ctx.base}/developers/new">Create a new application</a></p>
${items.length === 0
  ? html`<div class="card"><p>You have no applications yet. Create one to get a client ID and secret, then send people to <code>/oauth/authorize</code>.</p></div>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Status</th><th scope="col" class="hide-sm">Created</th></tr></thead>
<tbody>
${items.map(
  (c) => html`<tr><td><a href="${ctx.base}/developers/apps/${c.clientId}">${c.name}</a></td><td><code>${c.clientId}</code></td><td>${statusBadge(c.active)}</td><td class="hide-sm">${formatDate(c.createdAt)}</td></tr>`,
)}
</tbody></table></div>`}
${pages > 1
  ? html`<nav class="pager" aria-label="Pages">${pageNo > 1 ? html`<a href="${pageLink(pageNo - 1)}" rel="prev">← Previous</a>` : ''}<span>Page ${pageNo} of ${pages}</span>${pageNo < pages ? html`<a href="${pageLink(pageNo + 1)}" rel="next">Next →</a>` : ''}</nav>`
  : ''}`;
    return sendPage(reply, 200, shell(pc, 'Developers', 'developers', body));
  });

  /** The application form as the portal shows it (create or edit): the person's scopes and organizations, no owner choice. */
  const portalAppForm = async (
    pc: PageContext,
    values: AppFormValues,
    error: string | null,
    form: { action: string; mode: 'create' | 'edit'; submitLabel: string; cancelHref: string },
  ) =>
    appForm({
      ...form,
      csrf: pc.csrf,
      values,
      scopes: await scopeChoices(ctx, pc.user),
      grantTypes: ctx.features.clientGrantTypes(),
      orgs: await orgChoices(ctx, pc.user),
      orgName: await orgNameOf(ctx, values.orgId),
      owners: null,
      oidc: ctx.features.has('openid-connect'),
      error,
    });

  const newForm = async (pc: PageContext, values: AppFormValues, error: string | null) =>
    shell(
      pc,
      'Create a new application',
      'developers',
      html`<h1>Create a new application</h1>
${await portalAppForm(pc, values, error, {
  action: `${ctx.base}/developers/new`,
  mode: 'create',
  submitLabel: 'Create application',
  cancelHref: `${ctx.base}/developers`,
})}`,
    );

  app.get('/developers/new', page, async (request, reply) => {
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    return sendPage(reply, 200, await newForm(pc, EMPTY_APP, null));
  });

  app.post('/developers/new', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    const input = await withOrgId(ctx, { ...appInputFromForm(form, { mode: 'create', withOwner: false }), ownerId: pc.user.id });
    const problem = await portalCheck(ctx, pc.user, input);
    let created;
    try {
      if (problem) return sendPage(reply, 400, await newForm(pc, formValuesFromInput(input, EMPTY_APP), problem));
      created = await createApp(ctx, input, actor(pc, request));
    } catch (err) {
      return sendPage(reply, 400, await newForm(pc, formValuesFromInput(input, EMPTY_APP), errorMessage(err)));
    }
    const c = created.client;
    if (created.clientSecret) setSecretOnce(ctx, request, reply, c.clientId, created.clientSecret, false);
    return redirect303(reply, credentialsPath(ctx.base, c.clientId));
  });

  app.get<IdParams>('/developers/apps/:id', page, async (request, reply) => {
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const orgName = c.orgId ? ((await ctx.storage.organizations.byId(c.orgId))?.name ?? null) : null;
    const base = `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`;
    const body = html`<p><a href="${ctx.base}/developers">← Your applications</a></p>
<div class="app-head"><h1>${c.name}</h1></div>
${notice(request)}
<div class="card">
${appFacts(c, { orgName, ownerEmail: pc.user.email })}
<div class="actions">
<a class="button" href="${base}/edit">Edit</a>
${c.clientType === 'confidential' && c.privateKeyJwt === null
  ? html`<form method="post" action="${base}/rotate" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<button type="submit" class="secondary">Rotate secret…</button>
</form>`
  : ''}
${c.adminDeactivated && !pc.user.isAdmin
  ? html`<p class="warning" role="note">An administrator deactivated this application; only an administrator can activate it again.</p>`
  : html`<form method="post" action="${base}/active" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="active" value="${c.active ? '0' : '1'}">
<button type="submit" class="secondary">${c.active ? 'Deactivate…' : 'Activate'}</button>
</form>`}
<a class="button danger" href="${base}/delete">Delete</a>
</div></div>`;
    return sendPage(reply, 200, shell(pc, c.name, 'developers', body));
  });

  app.get<IdParams>('/developers/apps/:id/credentials', page, async (request, reply) => {
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const once = takeSecretOnce(ctx, request, reply, c);
    const body = credentialsBody(c, once?.secret ?? null, { backHref: `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`, rotated: once?.rotated ?? false });
    return sendPage(reply, 200, shell(pc, 'Credentials', 'developers', body, [`${ctx.base}/assets/copy.js`]));
  });

  const editForm = async (pc: PageContext, c: ClientRow, values: AppFormValues, error: string | null) =>
    shell(
      pc,
      `Edit ${c.name}`,
      'developers',
      html`<p><a href="${ctx.base}/developers/apps/${c.clientId}">← ${c.name}</a></p><h1>Edit ${c.name}</h1>
${await portalAppForm(pc, values, error, {
  action: `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}/edit`,
  mode: 'edit',
  submitLabel: 'Save changes',
  cancelHref: `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`,
})}`,
    );

  app.get<IdParams>('/developers/apps/:id/edit', page, async (request, reply) => {
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    return sendPage(reply, 200, await editForm(pc, c, formValuesOf(c), null));
  });

  app.post<IdParams>('/developers/apps/:id/edit', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const input = await withOrgId(ctx, appInputFromForm(form, { mode: 'edit', withOwner: false }));
    // A person may keep what an administrator gave their app, but not add admin-only grants or scopes.
    const added: AppInput = {
      ...input,
      scopes: (input.scopes ?? []).filter((s) => !c.scopes.includes(s)),
      grantTypes: (input.grantTypes ?? []).filter((g) => !(c.grantTypes as readonly string[]).includes(g)),
    };
    const orgUnchanged = (input.orgId ?? null) === c.orgId;
    const problem = await portalCheck(ctx, pc.user, orgUnchanged ? { ...added, orgId: null } : added);
    try {
      if (problem) return sendPage(reply, 400, await editForm(pc, c, formValuesFromInput(input, formValuesOf(c)), problem));
      await updateApp(ctx, c.clientId, input, { ...actor(pc, request), byAdministrator: pc.user.isAdmin });
    } catch (err) {
      return sendPage(reply, 400, await editForm(pc, c, formValuesFromInput(input, formValuesOf(c)), errorMessage(err)));
    }
    return redirect303(reply, `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}?done=updated`);
  });

  app.post<IdParams>('/developers/apps/:id/rotate', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const base = `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`;
    if (text(form, 'confirm') !== 'yes') {
      return sendPage(
        reply,
        200,
        shell(pc, `Rotate the secret of ${c.name}?`, 'developers', confirmBody({
          title: `Rotate the secret of ${c.name}?`,
          warning: 'A new secret is made and shown once. Unless you choose an overlap below, the current secret stops working at once: every deployment using it must switch to the new one.',
          action: `${base}/rotate`,
          csrf: pc.csrf,
          fields: [],
          submitLabel: 'Rotate secret',
          cancelHref: base,
          extra: overlapControl(),
        })),
      );
    }
    const overlap = Number(text(form, 'overlap', 10) || '0');
    const rotated = await rotateSecret(ctx, c.clientId, { ...actor(pc, request), overlapSeconds: OVERLAP_CHOICES.some(([v]) => Number(v) === overlap) ? overlap : 0 });
    if (rotated) setSecretOnce(ctx, request, reply, c.clientId, rotated.clientSecret, true);
    return redirect303(reply, credentialsPath(ctx.base, c.clientId));
  });

  app.post<IdParams>('/developers/apps/:id/active', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const active = text(form, 'active') === '1';
    if (!active && text(form, 'confirm') !== 'yes') {
      const base = `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`;
      return sendPage(
        reply,
        200,
        shell(pc, `Deactivate ${c.name}?`, 'developers', confirmBody({
          title: `Deactivate ${c.name}?`,
          warning: 'Its tokens stop working at once and it cannot obtain new ones until it is activated again.',
          action: `${base}/active`,
          csrf: pc.csrf,
          fields: [['active', '0']],
          submitLabel: 'Deactivate',
          cancelHref: base,
        })),
      );
    }
    await setAppActive(ctx, c.clientId, active, { ...actor(pc, request), byAdministrator: pc.user.isAdmin });
    return redirect303(reply, `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}?done=${active ? 'activated' : 'deactivated'}`);
  });

  app.get<IdParams>('/developers/apps/:id/delete', page, async (request, reply) => {
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    const base = `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}`;
    return sendPage(reply, 200, shell(pc, `Delete ${c.name}`, 'developers', deleteConfirmBody(c, pc.csrf, `${base}/delete`, base)));
  });

  app.post<IdParams>('/developers/apps/:id/delete', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const own = await viewerAndOwnApp(ctx, request, reply);
    if (!own) return reply;
    const { pc, c } = own;
    if (text(form, 'confirm') !== 'yes') return redirect303(reply, `${ctx.base}/developers/apps/${encodeURIComponent(c.clientId)}/delete`);
    await deleteApp(ctx, c.clientId, actor(pc, request));
    return redirect303(reply, `${ctx.base}/developers?done=deleted`);
  });
}
