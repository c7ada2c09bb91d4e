/**
 * Connected applications (U3): every application the signed-in person authorized, the scopes
 * granted, when, and when it was last used; Revoke forgets the consent and revokes the
 * application's tokens for this person at once.
 */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { HttpContext } from '../context.js';
import { revokeUserAuthorization } from '../../services/apps.js';
import { endAllSessions } from '../../services/directory.js';
import { html } from '../views/html.js';
import { checkCsrf, formatDate, formOf, notice, redirect303, requireViewer, sendPage, shell, text } from '../views/kit.js';
import { confirmBody } from '../views/apps.js';

export function accountRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const page = { config: { page: true } } as const;

  app.get('/account', page, async (_request, reply) => redirect303(reply, `${ctx.base}/account/apps`));

  app.get('/account/apps', page, async (request, reply) => {
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    const consents = await ctx.storage.consents.listByUser(pc.user.id);
    const scopeText = new Map((await ctx.storage.scopes.list()).map((s) => [s.name, s.description]));
    const rows = await Promise.all(
      consents.map(async (c) => {
        const client = await ctx.storage.clients.byId(c.clientId);
        const org = client?.orgId ? await ctx.storage.organizations.byId(client.orgId) : null;
        return { consent: c, client, orgName: org?.name ?? null };
      }),
    );
    const body = html`<h1>Connected applications</h1>
${notice(request)}
<p class="muted">Applications you allowed to access your account. Revoking one stops its access at once; it will have to ask you again.</p>
${ctx.login.mode === 'embedded'
  ? ''
  : html`<form method="post" action="${ctx.base}/account/sign-out-everywhere" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<button type="submit" class="secondary small">Sign out everywhere</button> <span class="muted">Ends your sign-in in every browser, this one included. Applications keep the access you gave them.</span>
</form>`}
${rows.length === 0
  ? html`<div class="card"><p>You have not authorized any application.</p></div>`
  : rows.map(({ consent, client, orgName }) => {
      const name = client?.name ?? consent.clientId;
      const scopes = consent.scope.split(' ').filter((s) => s.length > 0);
      return html`<section class="card" aria-labelledby="app-${consent.clientId}">
<div class="app-head">${client?.logoUri
        ? html`<img class="app-logo" src="${client.logoUri}" alt="" width="56" height="56">`
        : html`<span class="app-logo placeholder" aria-hidden="true">${name.slice(0, 1).toUpperCase()}</span>`}
<div><h2 id="app-${consent.clientId}">${name}</h2>${orgName ? html`<span class="muted">by ${orgName}</span>` : ''}${client && !client.active ? html` <span class="badge off">Inactive</span>` : ''}</div></div>
${client?.website ? html`<p><a href="${client.website}" rel="noopener noreferrer">${client.website}</a></p>` : ''}
<p class="label">It can:</p>
<ul class="scopes">${scopes.length ? scopes.map((s) => html`<li>${scopeText.get(s) ?? s} <code>${s}</code></li>`) : html`<li>No specific permission</li>`}</ul>
<dl class="facts"><dt>Granted</dt><dd>${formatDate(consent.createdAt)}</dd>${consent.updatedAt !== consent.createdAt ? html`<dt>Updated</dt><dd>${formatDate(consent.updatedAt)}</dd>` : ''}<dt>Last used</dt><dd>${consent.lastUsedAt === null ? 'Never' : formatDate(consent.lastUsedAt)}</dd></dl>
<form method="post" action="${ctx.base}/account/apps/${consent.clientId}/revoke">
<input type="hidden" name="csrf" value="${pc.csrf}">
<button type="submit" class="danger" aria-label="Revoke access for ${name}">Revoke access</button>
</form>
</section>`;
    })}`;
    return sendPage(reply, 200, shell(pc, 'Connected applications', 'account', body));
  });

  // Issue #15 §8: every browser's session of this person ends (the host's own sessions are the host's).
  app.post('/account/sign-out-everywhere', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    await endAllSessions(ctx, pc.user.id, { ip: request.ip });
    await ctx.login.end(request, reply);
    return redirect303(reply, ctx.login.mode === 'builtin' ? `${ctx.base}/login` : `${ctx.base}/logout`);
  });

  app.post<{ Params: { id: string } }>('/account/apps/:id/revoke', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form)) return reply;
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    const clientId = request.params.id.slice(0, 200);
    if (text(form, 'confirm') !== 'yes') {
      const name = (await ctx.storage.clients.byId(clientId))?.name ?? clientId;
      return sendPage(
        reply,
        200,
        shell(pc, `Revoke access for ${name}?`, 'account', confirmBody({
          title: `Revoke access for ${name}?`,
          warning: 'It loses access to your account at once: every token it holds for you stops working, and it will have to ask you again.',
          action: `${ctx.base}/account/apps/${encodeURIComponent(clientId)}/revoke`,
          csrf: pc.csrf,
          fields: [],
          submitLabel: 'Revoke access',
          cancelHref: `${ctx.base}/account/apps`,
        })),
      );
    }
    await revokeUserAuthorization(ctx, pc.user.id, clientId, { ip: request.ip });
    return redirect303(reply, `${ctx.base}/account/apps?done=revoked`);
  });
}
