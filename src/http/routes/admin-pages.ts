/**
 * The admin back-office (U4, A3, A10), for signed-in administrators only (anyone else gets a 403
 * page; anonymous visitors are sent to sign in):
 * - /admin            dashboard: counts, tokens issued per application per day (chart), error rates
 * - /admin/apps       applications grid: filter by name, organization, status; sort; paginate;
 *                     per-row "More" menu: view, edit, activate/deactivate, delete
 * - /admin/apps/:id   view and edit (every A1 field, owner included); delete with confirmation
 * - /admin/users      create, disable/enable, grant/remove admin
 * - /admin/orgs       organizations and memberships
 * - /admin/audit      audit log with filters (type, application, actor, since)
 */
import { blockMetadataClients } from '../../services/client-metadata.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { HttpContext } from '../context.js';
import type { AuditEventRow, ClientRow, MembershipRole, MembershipRow, OrganizationRow, UserRow } from '../../storage/types.js';
import { OAuthError } from '../../oauth/errors.js';
import { deleteApp, setAppActive, updateApp } from '../../services/apps.js';
import { addMember, createOrg, createUser, requireUserByEmail, setUserProfile, updateUser } from '../../services/directory.js';
import { sameSitePath } from '../session.js';
import { html, type SafeHtml } from '../views/html.js';
import { appFacts, appForm, confirmBody, deleteConfirmBody, formValuesOf, type AppFormValues } from '../views/apps.js';
import { stackedBarChart, type Series } from '../views/chart.js';
import {
  checkCsrf,
  checked,
  errorMessage,
  formatDate,
  formOf,
  notFoundPage,
  notice,
  orgChoicesOf,
  orgField,
  query,
  redirect303,
  requireAdmin,
  resolveOrg,
  sendPage,
  shell,
  statusBadge,
  text,
  type PageContext,
} from '../views/kit.js';
import { appInputFromForm, formValuesFromInput } from './portal.js';

const PAGE_SIZE = 20;
const AUDIT_TYPES = [
  'app.created', 'app.updated', 'app.deleted', 'app.activated', 'app.deactivated', 'app.secret_rotated', 'app.registered', 'client_metadata.blocked', 'client_metadata.unblocked',
  'consent.granted', 'consent.denied', 'consent.revoked', 'token.revoked', 'tokens.replaced',
  'login.succeeded', 'login.failed', 'login.locked', 'login.accepted', 'login.rejected', 'refresh.reuse_detected', 'code.replay_detected',
  'user.created', 'user.updated', 'org.created', 'scope.created', 'scope.updated', 'resource_server.created', 'key.rotated',
] as const;
const ERROR_TYPES = ['login.failed', 'login.locked', 'consent.denied', 'refresh.reuse_detected', 'code.replay_detected'] as const;

type IdParams = { Params: { id: string } };

function actor(pc: PageContext, request: FastifyRequest) {
  return { actorUserId: pc.user.id, ip: request.ip };
}

/** Where to go back to after an action on the grid: a normalised path under the back-office only. */
function backTo(ctx: OAuthContext, value: string, fallback: string): string {
  return sameSitePath(ctx, value, `${ctx.base}/admin`) ?? fallback;
}

function withDone(path: string, done: string): string {
  const u = new URL(path, 'http://x');
  u.searchParams.set('done', done);
  return `${u.pathname}${u.search}`;
}

function adminNav(base: string, current: string): SafeHtml {
  const items: Array<[string, string]> = [
    ['/admin', 'Dashboard'],
    ['/admin/apps', 'Applications'],
    ['/admin/users', 'Users'],
    ['/admin/orgs', 'Organizations'],
    ['/admin/audit', 'Audit log'],
  ];
  return html`<nav class="site-nav admin-nav" aria-label="Back-office">${items.map(
    ([href, label]) => html`<a href="${base}${href}"${href === current ? html` aria-current="page"` : ''}>${label}</a>`,
  )}</nav>`;
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function adminPageRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const page = { config: { page: true } } as const;
  const adminPage = (pc: PageContext, title: string, current: string, body: SafeHtml) =>
    shell(pc, title, 'admin', html`${adminNav(ctx.base, current)}${body}`);

  // ------------------------------------------------------------------------------- dashboard
  app.get('/admin', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const now = ctx.now();
    const dayMs = 86_400_000;
    const days = Array.from({ length: 14 }, (_, i) => dayOf(now - (13 - i) * dayMs));
    const since = Date.parse(`${days[0]}T00:00:00.000Z`);
    // Counted by the database (issue #15 §12, #16 §7): nothing here grows with the user base.
    const [issued, apps, userCount, disabledCount, orgCount, events] = await Promise.all([
      ctx.storage.tokens.countIssuedSince(since),
      ctx.storage.clients.list({ limit: 1 }),
      ctx.storage.users.count(),
      ctx.storage.users.count({ disabled: true }),
      ctx.storage.organizations.count(),
      ctx.storage.audit.countPerDay(since, ['login.failed', 'login.locked', 'login.succeeded', 'consent.granted', 'consent.denied', 'refresh.reuse_detected', 'code.replay_detected']),
    ]);
    const inactive = await ctx.storage.clients.list({ active: false, limit: 1 });
    const perClient = new Map<string, Map<string, number>>();
    for (const r of issued) {
      const m = perClient.get(r.clientId) ?? new Map<string, number>();
      m.set(r.day, (m.get(r.day) ?? 0) + r.count);
      perClient.set(r.clientId, m);
    }
    const ranked = [...perClient.entries()]
      .map(([id, m]) => ({ id, m, total: [...m.values()].reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total);
    const top = ranked.slice(0, 5);
    const rest = ranked.slice(5);
    const series: Series[] = [];
    for (const t of top) {
      const c = await ctx.storage.clients.byId(t.id);
      series.push({ label: c?.name ?? t.id, values: days.map((d) => t.m.get(d) ?? 0) });
    }
    if (rest.length > 0) series.push({ label: `${rest.length} other`, values: days.map((d) => rest.reduce((a, r) => a + (r.m.get(d) ?? 0), 0)) });
    const totalIssued = ranked.reduce((a, r) => a + r.total, 0);

    const perDay = (types: readonly string[]) => days.map((d) => events.filter((e) => types.includes(e.type) && e.day === d).reduce((a, e) => a + e.count, 0));
    const failed = perDay(['login.failed', 'login.locked']);
    const succeeded = perDay(['login.succeeded']);
    const granted = perDay(['consent.granted']);
    const denied = perDay(['consent.denied']);
    const reuse = perDay(['refresh.reuse_detected', 'code.replay_detected']);
    const rate = (bad: number, good: number) => (bad + good === 0 ? '—' : `${Math.round((bad / (bad + good)) * 100)} %`);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

    const body = html`<h1>Dashboard</h1>
<div class="grid-cards">
<div class="card"><div class="muted">Applications</div><div class="stat">${apps.total}</div><div class="muted">${inactive.total} inactive</div></div>
<div class="card"><div class="muted">Users</div><div class="stat">${userCount}</div><div class="muted">${disabledCount} disabled</div></div>
<div class="card"><div class="muted">Organizations</div><div class="stat">${orgCount}</div></div>
<div class="card"><div class="muted">Tokens issued (14 days)</div><div class="stat">${totalIssued}</div></div>
</div>
<section class="card"><h2>Tokens issued per application per day</h2>
${totalIssued === 0 ? html`<p class="muted">No token was issued in the last 14 days.</p>` : stackedBarChart('Tokens issued per application per day, last 14 days', days, series)}
</section>
<section class="card"><h2>Error rates</h2>
<p class="muted">Failed sign-ins (including lockouts) against all sign-ins, denied consents against all decisions, and detected replays of codes or refresh tokens, per day.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Day</th><th scope="col">Failed sign-ins</th><th scope="col">Sign-in failure rate</th><th scope="col">Denied consents</th><th scope="col">Denial rate</th><th scope="col">Replays detected</th></tr></thead>
<tbody>
${days
  .map((d, i) => ({ d, i }))
  .reverse()
  .map(
    ({ d, i }) =>
      html`<tr><th scope="row">${d}</th><td>${failed[i] ?? 0}</td><td>${rate(failed[i] ?? 0, succeeded[i] ?? 0)}</td><td>${denied[i] ?? 0}</td><td>${rate(denied[i] ?? 0, granted[i] ?? 0)}</td><td>${reuse[i] ?? 0}</td></tr>`,
  )}
<tr><th scope="row">14 days</th><td>${sum(failed)}</td><td>${rate(sum(failed), sum(succeeded))}</td><td>${sum(denied)}</td><td>${rate(sum(denied), sum(granted))}</td><td>${sum(reuse)}</td></tr>
</tbody></table></div>
<p class="muted"><small>Counted from the audit log (${ERROR_TYPES.join(', ')}).</small></p>
</section>`;
    return sendPage(reply, 200, adminPage(pc, 'Dashboard', '/admin', body));
  });

  // ------------------------------------------------------------------------------- applications grid
  app.get('/admin/apps', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const name = query(request, 'name', 200);
    const org = query(request, 'org', 100);
    const status = query(request, 'status', 10);
    const sort = ['name', 'created', 'status', 'org'].includes(query(request, 'sort')) ? query(request, 'sort') : 'created';
    const dir = query(request, 'dir') === 'asc' ? 'asc' : 'desc';
    const pageNo = Math.max(1, Math.min(10_000, Number.parseInt(query(request, 'page', 6), 10) || 1));
    // Filtered, sorted and paged by the database (issue #15 §12); the organization filter takes
    // an id or a name (a text field once there are many organizations).
    const orgChoices = await orgChoicesOf(ctx);
    const filterOrg = org ? await resolveOrg(ctx, org) : null;
    const filter = {
      ...(name ? { name } : {}),
      ...(org ? { orgId: filterOrg?.id ?? org } : {}),
      ...(status === 'active' ? { active: true } : status === 'inactive' ? { active: false } : {}),
    };
    const { items, total } = await ctx.storage.clients.list({
      ...filter,
      sort: sort as 'created' | 'name' | 'status' | 'org',
      dir,
      limit: PAGE_SIZE,
      offset: (pageNo - 1) * PAGE_SIZE,
    });
    const orgName = new Map((await ctx.storage.organizations.byIds(items.map((c) => c.orgId).filter((x): x is string => x !== null))).map((o) => [o.id, o.name]));
    // Only the owners of the rows shown (issue #15 §12).
    const users = new Map((await ctx.storage.users.byIds(items.map((c) => c.ownerId).filter((x): x is string => x !== null))).map((u) => [u.id, u.email ?? u.id]));
    const params = (over: Record<string, string>): string => {
      const p = new URLSearchParams();
      const all: Record<string, string> = { name, org, status, sort, dir, page: String(pageNo), ...over };
      for (const [k, v] of Object.entries(all)) if (v && !(k === 'page' && v === '1') && !(k === 'sort' && v === 'created' && all['dir'] === 'desc') && !(k === 'dir' && v === 'desc')) p.set(k, v);
      const s = p.toString();
      return s ? `${ctx.base}/admin/apps?${s}` : `${ctx.base}/admin/apps`;
    };
    const here = params({});
    const sortLink = (key: string, label: string) => {
      const active = sort === key;
      const nextDir = active && dir === 'asc' ? 'desc' : 'asc';
      return html`<a href="${params({ sort: key, dir: nextDir, page: '1' })}"${active ? html` aria-sort="${dir === 'asc' ? 'ascending' : 'descending'}"` : ''}>${label}${active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}</a>`;
    };
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const body = html`<h1>Applications</h1>
${notice(request)}
<form method="get" action="${ctx.base}/admin/apps" class="card filters" role="search" aria-label="Filter applications">
<div><label for="f-name">Name</label><input id="f-name" name="name" type="search" value="${name}"></div>
<div><label for="f-org">Organization</label>${orgField({ id: 'f-org', name: 'org', choices: orgChoices, selected: filterOrg?.id ?? org, selectedName: filterOrg?.name ?? org, emptyLabel: 'Any' })}</div>
<div><label for="f-status">Status</label><select id="f-status" name="status">
<option value="">Any</option><option value="active"${status === 'active' ? html` selected` : ''}>Active</option><option value="inactive"${status === 'inactive' ? html` selected` : ''}>Inactive</option>
</select></div>
<input type="hidden" name="sort" value="${sort}">
<input type="hidden" name="dir" value="${dir}">
<div class="actions"><button type="submit">Filter</button><a href="${ctx.base}/admin/apps">Reset</a></div>
</form>
<p class="muted" role="status">${total} application${total === 1 ? '' : 's'}${pages > 1 ? ` — page ${pageNo} of ${pages}` : ''}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">${sortLink('name', 'Name')}</th><th scope="col" class="hide-sm">Client ID</th><th scope="col">${sortLink('org', 'Organization')}</th><th scope="col" class="hide-sm">Owner</th><th scope="col">${sortLink('status', 'Status')}</th><th scope="col" class="hide-sm">${sortLink('created', 'Created')}</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>
${items.map((c) => {
  const base = `${ctx.base}/admin/apps/${encodeURIComponent(c.clientId)}`;
  return html`<tr data-client-id="${c.clientId}">
<td><a href="${base}">${c.name}</a></td><td class="hide-sm"><code>${c.clientId}</code></td><td>${c.orgId ? (orgName.get(c.orgId) ?? '—') : '—'}</td><td class="hide-sm">${c.ownerId ? (users.get(c.ownerId) ?? '—') : '—'}</td><td>${statusBadge(c.active)}</td><td class="hide-sm">${formatDate(c.createdAt)}</td>
<td><details class="more"><summary aria-label="More actions for ${c.name}">More</summary><div class="menu">
<a href="${base}">View</a>
<a href="${base}#edit">Edit</a>
<form method="post" action="${base}/active">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="active" value="${c.active ? '0' : '1'}">
<input type="hidden" name="back" value="${here}">
<button type="submit">${c.active ? 'Deactivate' : 'Activate'}</button>
</form>
<a href="${base}/delete" class="danger-text">Delete</a>
</div></details></td></tr>`;
})}
${items.length === 0 ? html`<tr><td colspan="7">No application matches these filters.</td></tr>` : ''}
</tbody></table></div>
${pages > 1
  ? html`<nav class="pager" aria-label="Pages">${pageNo > 1 ? html`<a href="${params({ page: String(pageNo - 1) })}" rel="prev">← Previous</a>` : ''}<span>Page ${pageNo} of ${pages}</span>${pageNo < pages ? html`<a href="${params({ page: String(pageNo + 1) })}" rel="next">Next →</a>` : ''}</nav>`
  : ''}`;
    return sendPage(reply, 200, adminPage(pc, 'Applications', '/admin/apps', body));
  });

  const appPage = async (pc: PageContext, request: FastifyRequest, c: ClientRow, values: AppFormValues, error: string | null) => {
    const [orgs, ownerRows, scopes] = await Promise.all([
      orgChoicesOf(ctx),
      c.ownerId ? ctx.storage.users.byIds([c.ownerId]) : Promise.resolve([]),
      ctx.storage.scopes.list(),
    ]);
    const orgName = c.orgId ? ((await ctx.storage.organizations.byId(c.orgId))?.name ?? null) : null;
    const ownerEmail = c.ownerId ? (ownerRows[0]?.email ?? null) : null;
    const base = `${ctx.base}/admin/apps/${encodeURIComponent(c.clientId)}`;
    return adminPage(
      pc,
      c.name,
      '/admin/apps',
      html`<p><a href="${ctx.base}/admin/apps">← Applications</a></p>
<h1>${c.name}</h1>
${notice(request)}
<div class="card">${appFacts(c, { orgName, ownerEmail })}
<div class="actions">
<form method="post" action="${base}/active" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="active" value="${c.active ? '0' : '1'}">
<input type="hidden" name="back" value="${base}">
<button type="submit" class="secondary">${c.active ? 'Deactivate' : 'Activate'}</button>
</form>
<a class="button danger" href="${base}/delete">Delete</a>
${c.metadataDocument !== null
  ? html`<form method="post" action="${ctx.base}/admin/client-metadata/block" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="pattern" value="${new URL(c.clientId).hostname}">
<input type="hidden" name="back" value="${base}">
<button type="submit" class="danger">Block ${new URL(c.clientId).hostname}</button>
</form>`
  : ''}
</div></div>
${c.metadataDocument !== null
  ? html`<p class="muted">This application is described by its metadata document: its name, redirect URIs, scopes and grants come from there and are read again when the document's caching time is over. To stop it, deactivate it or block its host.</p>`
  : html`<h2 id="edit">Edit</h2>
${appForm({ action: `${base}/edit`, csrf: pc.csrf, mode: 'edit', values, scopes, grantTypes: ctx.features.clientGrantTypes(), orgs, orgName: values.orgId === (c.orgId ?? '') ? orgName : values.orgId, owners: 'text', error, oidc: ctx.features.has('openid-connect'), tokenExchange: ctx.features.has('token-exchange'), submitLabel: 'Save changes', cancelHref: `${ctx.base}/admin/apps` })}`}`,
    );
  };

  app.get<IdParams>('/admin/apps/:id', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const c = await ctx.storage.clients.byId(request.params.id.slice(0, 512));
    if (!c) return notFoundPage(reply, pc);
    const owner = c.ownerId ? (await ctx.storage.users.byIds([c.ownerId]))[0] : undefined;
    return sendPage(reply, 200, await appPage(pc, request, c, { ...formValuesOf(c), ownerId: owner?.email ?? c.ownerId ?? '' }, null));
  });

  app.post<IdParams>('/admin/apps/:id/edit', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const c = await ctx.storage.clients.byId(request.params.id.slice(0, 512));
    if (!c) return notFoundPage(reply, pc);
    const raw = appInputFromForm(form, { mode: 'edit', withOwner: true, withTokenExchange: true });
    // The owner field takes an email or a user id.
    const ownerRef = raw.ownerId ?? null;
    const owner = ownerRef !== null && ownerRef.includes('@') ? await ctx.storage.users.byEmail(ownerRef) : null;
    // The organization field takes an id or, once it is a text field, a name.
    const orgRef = raw.orgId ?? null;
    const orgRow = orgRef !== null ? await resolveOrg(ctx, orgRef) : null;
    const input = { ...raw, ...(owner ? { ownerId: owner.id } : {}), ...(orgRow ? { orgId: orgRow.id } : {}) };
    try {
      if (ownerRef !== null && ownerRef.includes('@') && !owner) throw new OAuthError('invalid_request', `No user with the email ${ownerRef}`);
      if (orgRef !== null && !orgRow) throw new OAuthError('invalid_request', `No organization named ${orgRef}`);
      if (!input.name) throw new Error('name');
      await updateApp(ctx, c.clientId, input, actor(pc, request));
    } catch (err) {
      const message = err instanceof Error && err.message === 'name' ? 'The name is required.' : errorMessage(err);
      return sendPage(reply, 400, await appPage(pc, request, c, formValuesFromInput(input, formValuesOf(c)), message));
    }
    return redirect303(reply, `${ctx.base}/admin/apps/${encodeURIComponent(c.clientId)}?done=updated`);
  });

  app.post<IdParams>('/admin/apps/:id/active', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const active = text(form, 'active') === '1';
    if (!active && text(form, 'confirm') !== 'yes') {
      const c = await ctx.storage.clients.byId(request.params.id.slice(0, 512));
      if (!c) return notFoundPage(reply, pc);
      const back = backTo(ctx, text(form, 'back', 2000), `${ctx.base}/admin/apps`);
      return sendPage(
        reply,
        200,
        adminPage(pc, `Deactivate ${c.name}?`, '/admin/apps', confirmBody({
          title: `Deactivate ${c.name}?`,
          warning: 'Its tokens stop working at once and it cannot obtain new ones. Its owner cannot activate it again: only an administrator can.',
          action: `${ctx.base}/admin/apps/${encodeURIComponent(c.clientId)}/active`,
          csrf: pc.csrf,
          fields: [['active', '0'], ['back', back]],
          submitLabel: 'Deactivate',
          cancelHref: back,
        })),
      );
    }
    const updated = await setAppActive(ctx, request.params.id.slice(0, 512), active, actor(pc, request));
    if (!updated) return notFoundPage(reply, pc);
    return redirect303(reply, withDone(backTo(ctx, text(form, 'back', 2000), `${ctx.base}/admin/apps`), active ? 'activated' : 'deactivated'));
  });

  // Client ID Metadata Documents: block the host of an application known by its document.
  app.post('/admin/client-metadata/block', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    try {
      await blockMetadataClients(ctx, text(form, 'pattern', 600), { ...actor(pc, request), reason: text(form, 'reason', 500) || null });
    } catch (err) {
      return sendPage(reply, 400, adminPage(pc, 'Block', '/admin/apps', html`<div class="card"><p class="error" role="alert">${errorMessage(err)}</p></div>`));
    }
    return redirect303(reply, withDone(backTo(ctx, text(form, 'back', 2000), `${ctx.base}/admin/apps`), 'blocked'));
  });

  app.get<IdParams>('/admin/apps/:id/delete', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const c = await ctx.storage.clients.byId(request.params.id.slice(0, 512));
    if (!c) return notFoundPage(reply, pc);
    const base = `${ctx.base}/admin/apps/${encodeURIComponent(c.clientId)}`;
    return sendPage(reply, 200, adminPage(pc, `Delete ${c.name}`, '/admin/apps', deleteConfirmBody(c, pc.csrf, `${base}/delete`, base)));
  });

  app.post<IdParams>('/admin/apps/:id/delete', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    if (text(form, 'confirm') !== 'yes') return redirect303(reply, `${ctx.base}/admin/apps/${encodeURIComponent(request.params.id)}/delete`);
    if (!(await deleteApp(ctx, request.params.id.slice(0, 512), actor(pc, request)))) return notFoundPage(reply, pc);
    return redirect303(reply, `${ctx.base}/admin/apps?done=deleted`);
  });

  // ------------------------------------------------------------------------------- users
  const USERS_PER_PAGE = 50;
  const usersPage = async (pc: PageContext, request: FastifyRequest, error: string | null, values: { email: string; admin: boolean; org: string; role: string }) => {
    // One indexed page at a time, searchable (issue #15 §12): never every user.
    const search = query(request, 'q', 320);
    const after = query(request, 'after', 500);
    const [page, orgs] = await Promise.all([ctx.storage.users.page({ search, after: after || null, limit: USERS_PER_PAGE }), orgChoicesOf(ctx)]);
    const users = page.items;
    const memberships = new Map<string, MembershipRow[]>();
    const shown = await ctx.storage.users.membershipsOf(users.map((u) => u.id));
    for (const m of shown) memberships.set(m.userId, [...(memberships.get(m.userId) ?? []), m]);
    const orgName = new Map((await ctx.storage.organizations.byIds(shown.map((m) => m.orgId))).map((o) => [o.id, o.name]));
    const pager = (cursor: string | null) => {
      const q = new URLSearchParams();
      if (search) q.set('q', search);
      if (cursor) q.set('after', cursor);
      return `${ctx.base}/admin/users${q.size > 0 ? `?${q.toString()}` : ''}`;
    };
    const row = (u: UserRow) => html`<tr>
<td>${u.email ?? u.id}${u.external ? html` <span class="badge neutral">Platform</span>` : ''}${u.id === pc.user.id ? html` <span class="muted">(you)</span>` : ''}${typeof u.profile?.['name'] === 'string' ? html`<br><span class="muted">${u.profile['name']}</span>` : ''}</td>
<td>${u.isAdmin ? html`<span class="badge neutral">Admin</span>` : 'Member'}</td>
<td>${u.disabled ? html`<span class="badge off">Disabled</span>` : html`<span class="badge on">Enabled</span>`}${u.lockedUntil !== null && u.lockedUntil > ctx.now() ? html` <span class="badge off">Locked</span>` : ''}</td>
<td class="hide-sm">${(memberships.get(u.id) ?? []).map((m) => html`${orgName.get(m.orgId) ?? m.orgId} (${m.role})<br>`)}</td>
<td class="hide-sm">${formatDate(u.createdAt)}</td>
<td>${u.id === pc.user.id
      ? html`<span class="muted">—</span>`
      : html`<form method="post" action="${ctx.base}/admin/users/${u.id}/disabled" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="disabled" value="${u.disabled ? '0' : '1'}">
<button type="submit" class="secondary small">${u.disabled ? 'Enable' : 'Disable'}</button>
</form>
<form method="post" action="${ctx.base}/admin/users/${u.id}/admin" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<input type="hidden" name="admin" value="${u.isAdmin ? '0' : '1'}">
<button type="submit" class="secondary small">${u.isAdmin ? 'Remove admin' : 'Make admin'}</button>
</form>`}</td></tr>`;
    return adminPage(
      pc,
      'Users',
      '/admin/users',
      html`<h1>Users</h1>
${notice(request)}
<form method="get" action="${ctx.base}/admin/users" class="card filters" role="search" aria-label="Find users">
<div><label for="u-q">Email starts with, or user id</label><input id="u-q" name="q" type="search" value="${search}"></div>
<div class="actions"><button type="submit">Find</button><a href="${ctx.base}/admin/users">Reset</a></div>
</form>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="hide-sm">Organizations</th><th scope="col" class="hide-sm">Created</th><th scope="col">Actions</th></tr></thead>
<tbody>${users.map(row)}${users.length === 0 ? html`<tr><td colspan="6">No user matches.</td></tr>` : ''}</tbody></table></div>
<nav class="pager" aria-label="Pages">${after ? html`<a href="${pager(null)}">First page</a>` : ''}${page.next ? html`<a href="${pager(page.next)}" rel="next">Next ${USERS_PER_PAGE} →</a>` : ''}</nav>
<h2>Name and email of a person</h2>
<p class="hint">What applications that sign people in with OpenID Connect receive (the <code>profile</code> and <code>email</code> scopes). An empty name removes it.</p>
<form method="post" action="${ctx.base}/admin/users/profile" class="card">
<input type="hidden" name="csrf" value="${pc.csrf}">
<label for="p-email">Email</label><input id="p-email" name="email" type="email" required autocomplete="off">
<label for="p-name">Full name</label><input id="p-name" name="name" type="text" maxlength="200" autocomplete="off">
<label for="p-given">Given name</label><input id="p-given" name="given_name" type="text" maxlength="200" autocomplete="off">
<label for="p-family">Family name</label><input id="p-family" name="family_name" type="text" maxlength="200" autocomplete="off">
<label class="check"><input type="checkbox" name="email_verified" value="1"> <span>The email is known to be theirs (<code>email_verified</code>)</span></label>
<div class="actions"><button type="submit">Save profile</button></div>
</form>
<h2>Create a user</h2>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${ctx.base}/admin/users" class="card">
<input type="hidden" name="csrf" value="${pc.csrf}">
<label for="u-email">Email</label><input id="u-email" name="email" type="email" required value="${values.email}" autocomplete="off">
<label for="u-password">Password <span class="hint">At least 8 characters; tell the person and ask them to keep it safe.</span></label><input id="u-password" name="password" type="password" required minlength="8" autocomplete="new-password">
<label class="check"><input type="checkbox" name="admin" value="1"${values.admin ? html` checked` : ''}> <span>Administrator</span></label>
<label for="u-org">Organization</label>${orgField({ id: 'u-org', name: 'org', choices: orgs, selected: values.org, emptyLabel: '— none —' })}
<label for="u-role">Role in the organization</label><select id="u-role" name="role"><option value="member"${values.role !== 'admin' ? html` selected` : ''}>Member</option><option value="admin"${values.role === 'admin' ? html` selected` : ''}>Admin</option></select>
<div class="actions"><button type="submit">Create user</button></div>
</form>`,
    );
  };

  app.get('/admin/users', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    return sendPage(reply, 200, await usersPage(pc, request, null, { email: '', admin: false, org: '', role: 'member' }));
  });

  app.post('/admin/users', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const values = { email: text(form, 'email', 320), admin: checked(form, 'admin'), org: text(form, 'org', 200), role: text(form, 'role', 10) };
    const password = typeof form['password'] === 'string' ? form['password'] : '';
    try {
      // The organization (an id or a name) is found first, so a typo creates nobody.
      const org = values.org ? await resolveOrg(ctx, values.org) : null;
      if (values.org && !org) throw new OAuthError('invalid_request', `No organization named ${values.org}`);
      const user = await createUser(ctx, { email: values.email, password, isAdmin: values.admin }, actor(pc, request));
      if (org) await addMember(ctx, { userId: user.id, orgId: org.id, role: values.role === 'admin' ? 'admin' : 'member' }, actor(pc, request));
    } catch (err) {
      return sendPage(reply, 400, await usersPage(pc, request, errorMessage(err), values));
    }
    return redirect303(reply, `${ctx.base}/admin/users?done=user_created`);
  });

  app.post('/admin/users/profile', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const values = { email: text(form, 'email', 320), admin: false, org: '', role: 'member' };
    try {
      const user = await requireUserByEmail(ctx, values.email);
      await setUserProfile(
        ctx,
        user.id,
        { name: text(form, 'name', 201), givenName: text(form, 'given_name', 201), familyName: text(form, 'family_name', 201), emailVerified: checked(form, 'email_verified') },
        actor(pc, request),
      );
    } catch (err) {
      return sendPage(reply, 400, await usersPage(pc, request, errorMessage(err), values));
    }
    return redirect303(reply, `${ctx.base}/admin/users?done=profile_updated`);
  });

  app.post<IdParams>('/admin/users/:id/disabled', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const disabled = text(form, 'disabled') === '1';
    if (request.params.id === pc.user.id) return redirect303(reply, `${ctx.base}/admin/users`);
    if (!(await updateUser(ctx, request.params.id.slice(0, 100), { disabled }, actor(pc, request)))) return notFoundPage(reply, pc, 'user');
    return redirect303(reply, `${ctx.base}/admin/users?done=${disabled ? 'user_disabled' : 'user_enabled'}`);
  });

  app.post<IdParams>('/admin/users/:id/admin', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const admin = text(form, 'admin') === '1';
    if (request.params.id === pc.user.id) return redirect303(reply, `${ctx.base}/admin/users`);
    if (!(await updateUser(ctx, request.params.id.slice(0, 100), { isAdmin: admin }, actor(pc, request)))) return notFoundPage(reply, pc, 'user');
    return redirect303(reply, `${ctx.base}/admin/users?done=${admin ? 'admin_granted' : 'admin_removed'}`);
  });

  // ------------------------------------------------------------------------------- organizations
  const ORGS_PER_PAGE = 50;
  const orgsPage = async (pc: PageContext, request: FastifyRequest, error: string | null) => {
    // A page of organizations by name, searchable, and each one's first members from an index
    // with how many it has (issue #15 §12).
    const search = query(request, 'q', 200);
    const after = query(request, 'after', 500);
    const [page, choices] = await Promise.all([ctx.storage.organizations.page({ search, after: after || null, limit: ORGS_PER_PAGE }), orgChoicesOf(ctx)]);
    const orgs = page.items;
    const pager = (cursor: string | null) => {
      const q = new URLSearchParams();
      if (search) q.set('q', search);
      if (cursor) q.set('after', cursor);
      return `${ctx.base}/admin/orgs${q.size > 0 ? `?${q.toString()}` : ''}`;
    };
    const MEMBERS_SHOWN = 20;
    const members = new Map<string, { items: Array<{ email: string; role: MembershipRole }>; total: number }>();
    for (const o of orgs) {
      const m = await ctx.storage.users.membersOf(o.id, MEMBERS_SHOWN);
      members.set(o.id, { items: m.items.map((x) => ({ email: x.email ?? x.userId, role: x.role })), total: m.total });
    }
    const orgRow = (o: OrganizationRow) => {
      const m = members.get(o.id) ?? { items: [], total: 0 };
      return html`<tr><td>${o.name}</td><td>${m.items.map((x) => html`${x.email} (${x.role})<br>`)}${m.total === 0 ? html`<span class="muted">No members</span>` : ''}${m.total > m.items.length ? html`<span class="muted">and ${m.total - m.items.length} more</span>` : ''}</td><td class="hide-sm">${formatDate(o.createdAt)}</td><td><a href="${ctx.base}/admin/apps?org=${encodeURIComponent(o.id)}">Applications</a></td></tr>`;
    };
    return adminPage(
      pc,
      'Organizations',
      '/admin/orgs',
      html`<h1>Organizations</h1>
${notice(request)}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="get" action="${ctx.base}/admin/orgs" class="card filters" role="search" aria-label="Find organizations">
<div><label for="o-q">Name starts with</label><input id="o-q" name="q" type="search" value="${search}"></div>
<div class="actions"><button type="submit">Find</button><a href="${ctx.base}/admin/orgs">Reset</a></div>
</form>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Name</th><th scope="col">Members</th><th scope="col" class="hide-sm">Created</th><th scope="col"><span class="muted">Links</span></th></tr></thead>
<tbody>${orgs.map(orgRow)}${orgs.length === 0 ? html`<tr><td colspan="4">${search || after ? 'No organization matches.' : 'No organization yet.'}</td></tr>` : ''}</tbody></table></div>
<nav class="pager" aria-label="Pages">${after ? html`<a href="${pager(null)}">First page</a>` : ''}${page.next ? html`<a href="${pager(page.next)}" rel="next">Next ${ORGS_PER_PAGE} →</a>` : ''}</nav>
<div class="grid-cards">
<form method="post" action="${ctx.base}/admin/orgs" class="card">
<h2>Create an organization</h2>
<input type="hidden" name="csrf" value="${pc.csrf}">
<label for="o-name">Name</label><input id="o-name" name="name" type="text" required maxlength="200">
<div class="actions"><button type="submit">Create organization</button></div>
</form>
<form method="post" action="${ctx.base}/admin/orgs/members" class="card">
<h2>Add a member</h2>
<input type="hidden" name="csrf" value="${pc.csrf}">
<label for="m-user">User <span class="hint">Their email</span></label><input id="m-user" name="user_email" type="email" required autocomplete="off">
<label for="m-org">Organization</label>${orgField({ id: 'm-org', name: 'org_id', choices, selected: '' })}
<label for="m-role">Role</label><select id="m-role" name="role"><option value="member">Member</option><option value="admin">Admin</option></select>
<div class="actions"><button type="submit"${choices.kind === 'list' && choices.orgs.length === 0 ? html` disabled` : ''}>Save membership</button></div>
</form></div>`,
    );
  };

  app.get('/admin/orgs', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    return sendPage(reply, 200, await orgsPage(pc, request, null));
  });

  app.post('/admin/orgs', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    try {
      await createOrg(ctx, text(form, 'name', 300), actor(pc, request));
    } catch (err) {
      return sendPage(reply, 400, await orgsPage(pc, request, errorMessage(err)));
    }
    return redirect303(reply, `${ctx.base}/admin/orgs?done=org_created`);
  });

  app.post('/admin/orgs/members', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    try {
      // By email (or, from older forms, by id): the page offers a text field, not a list of every user.
      const email = text(form, 'user_email', 320);
      const user = email ? await ctx.storage.users.byEmail(email) : null;
      if (email && !user) throw new OAuthError('invalid_request', `No user with the email ${email}`);
      const userId = user?.id ?? text(form, 'user_id', 100);
      const orgRef = text(form, 'org_id', 200);
      const org = await resolveOrg(ctx, orgRef);
      if (!org) throw new OAuthError('invalid_request', orgRef ? `No organization named ${orgRef}` : 'Choose an organization.');
      await addMember(ctx, { userId, orgId: org.id, role: text(form, 'role') === 'admin' ? 'admin' : 'member' }, actor(pc, request));
    } catch (err) {
      return sendPage(reply, 400, await orgsPage(pc, request, errorMessage(err)));
    }
    return redirect303(reply, `${ctx.base}/admin/orgs?done=member_added`);
  });

  // ------------------------------------------------------------------------------- audit log
  app.get('/admin/audit', page, async (request, reply) => {
    const pc = await requireAdmin(ctx, request, reply);
    if (!pc) return reply;
    const type = query(request, 'type', 60);
    const clientId = query(request, 'client_id', 200);
    const actorEmail = query(request, 'actor', 320);
    const sinceText = query(request, 'since', 10);
    const actorUser = actorEmail ? ((await ctx.storage.users.byEmail(actorEmail)) ?? undefined) : undefined;
    const since = /^\d{4}-\d{2}-\d{2}$/.test(sinceText) ? Date.parse(`${sinceText}T00:00:00.000Z`) : Number.NaN;
    let events: AuditEventRow[] = [];
    if (!actorEmail || actorUser) {
      events = await ctx.storage.audit.list({
        ...(type ? { type } : {}),
        ...(clientId ? { clientId } : {}),
        ...(actorUser ? { actorUserId: actorUser.id } : {}),
        ...(Number.isFinite(since) ? { since } : {}),
        limit: 200,
      });
    }
    // Only the actors of the events shown (issue #15 §12).
    const email = new Map((await ctx.storage.users.byIds(events.map((e) => e.actorUserId).filter((x): x is string => x !== null))).map((u) => [u.id, u.email ?? u.id]));
    const appNames = new Map<string, string>();
    for (const id of new Set(events.map((e) => e.clientId).filter((x): x is string => x !== null))) {
      const c = await ctx.storage.clients.byId(id);
      if (c) appNames.set(id, c.name);
    }
    const body = html`<h1>Audit log</h1>
<form method="get" action="${ctx.base}/admin/audit" class="card filters" role="search" aria-label="Filter the audit log">
<div><label for="a-type">Event</label><select id="a-type" name="type"><option value="">Any</option>${AUDIT_TYPES.map((t) => html`<option value="${t}"${t === type ? html` selected` : ''}>${t}</option>`)}</select></div>
<div><label for="a-client">Application (client ID)</label><input id="a-client" name="client_id" type="text" value="${clientId}"></div>
<div><label for="a-actor">Actor (email)</label><input id="a-actor" name="actor" type="text" value="${actorEmail}"></div>
<div><label for="a-since">Since</label><input id="a-since" name="since" type="date" value="${sinceText}"></div>
<div class="actions"><button type="submit">Filter</button><a href="${ctx.base}/admin/audit">Reset</a></div>
</form>
${actorEmail && !actorUser ? html`<p class="error" role="alert">No user with the email ${actorEmail}.</p>` : ''}
<p class="muted" role="status">${events.length} event${events.length === 1 ? '' : 's'}${events.length === 200 ? ' (the 200 most recent)' : ''}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Application</th><th scope="col" class="hide-sm">IP</th><th scope="col" class="hide-sm">Details</th></tr></thead>
<tbody>${events.map(
  (e) => html`<tr><td>${formatDate(e.at)}</td><td><code>${e.type}</code></td><td>${e.actorUserId ? (email.get(e.actorUserId) ?? e.actorUserId) : '—'}</td><td>${e.clientId ? html`<a href="${ctx.base}/admin/audit?client_id=${encodeURIComponent(e.clientId)}">${appNames.get(e.clientId) ?? e.clientId}</a>` : '—'}</td><td class="hide-sm">${e.ip ?? '—'}</td><td class="hide-sm"><pre class="details">${Object.keys(e.details).length ? JSON.stringify(e.details) : ''}</pre></td></tr>`,
)}${events.length === 0 ? html`<tr><td colspan="6">No event matches these filters.</td></tr>` : ''}</tbody></table></div>`;
    return sendPage(reply, 200, adminPage(pc, 'Audit log', '/admin/audit', body));
  });
}
