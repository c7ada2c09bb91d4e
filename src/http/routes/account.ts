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
import { pageTr } from '../views/i18n.js';

export function accountRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const page = { config: { page: true } } as const;

  app.get('/account', page, async (_request, reply) => redirect303(reply, `${ctx.base}/account/apps`));

  app.get('/account/apps', page, async (request, reply) => {
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    const tr = pageTr(request, reply);
    const consents = await ctx.storage.consents.listByUser(pc.user.id);
    const scopeText = new Map((await ctx.storage.scopes.list()).map((s) => [s.name, tr.scope(s)]));
    const rows = await Promise.all(
      consents.map(async (c) => {
        const client = await ctx.storage.clients.byId(c.clientId);
        const org = client?.orgId ? await ctx.storage.organizations.byId(client.orgId) : null;
        return { consent: c, client, orgName: org?.name ?? null };
      }),
    );
    const body = html`<h1>${tr.t('apps.title')}</h1>
${notice(request, tr)}
<p class="muted">${tr.t('apps.intro')}</p>
${ctx.login.mode === 'embedded'
  ? ''
  : html`<form method="post" action="${ctx.base}/account/sign-out-everywhere" class="inline">
<input type="hidden" name="csrf" value="${pc.csrf}">
<button type="submit" class="secondary small">${tr.t('apps.signOutEverywhere')}</button> <span class="muted">${tr.t('apps.signOutEverywhereHint')}</span>
</form>`}
${rows.length === 0
  ? html`<div class="card"><p>${tr.t('apps.none')}</p></div>`
  : rows.map(({ consent, client, orgName }) => {
      const name = client?.name ?? consent.clientId;
      const scopes = consent.scope.split(' ').filter((s) => s.length > 0);
      return html`<section class="card" aria-labelledby="app-${consent.clientId}">
<div class="app-head">${client?.logoUri
        ? html`<img class="app-logo" src="${client.logoUri}" alt="" width="56" height="56">`
        : html`<span class="app-logo placeholder" aria-hidden="true">${name.slice(0, 1).toUpperCase()}</span>`}
<div><h2 id="app-${consent.clientId}">${name}</h2>${orgName ? html`<span class="muted">${tr.t('apps.by', { org: orgName })}</span>` : ''}${client && !client.active ? html` <span class="badge off">${tr.t('apps.inactive')}</span>` : ''}</div></div>
${client?.metadataDocument ? html`<p class="muted"><code>${client.clientId}</code></p>` : ''}
${client?.website ? html`<p><a href="${client.website}" rel="noopener noreferrer">${client.website}</a></p>` : ''}
<p class="label">${tr.t('apps.canDo')}</p>
<ul class="scopes">${scopes.length ? scopes.map((s) => html`<li>${scopeText.get(s) ?? s} <code>${s}</code></li>`) : html`<li>${tr.t('apps.noPermission')}</li>`}</ul>
<dl class="facts"><dt>${tr.t('apps.granted')}</dt><dd>${formatDate(consent.createdAt)}</dd>${consent.updatedAt !== consent.createdAt ? html`<dt>${tr.t('apps.updated')}</dt><dd>${formatDate(consent.updatedAt)}</dd>` : ''}<dt>${tr.t('apps.lastUsed')}</dt><dd>${consent.lastUsedAt === null ? tr.t('apps.never') : formatDate(consent.lastUsedAt)}</dd></dl>
<form method="post" action="${ctx.base}/account/apps/${encodeURIComponent(consent.clientId)}/revoke">
<input type="hidden" name="csrf" value="${pc.csrf}">
<button type="submit" class="danger" aria-label="${tr.t('apps.revokeFor', { app: name })}">${tr.t('apps.revoke')}</button>
</form>
</section>`;
    })}`;
    return sendPage(reply, 200, shell(pc, tr.t('apps.title'), 'account', body, undefined, tr));
  });

  // Issue #15 §8: every browser's session of this person ends (the host's own sessions are the host's).
  app.post('/account/sign-out-everywhere', page, async (request, reply) => {
    const form = formOf(request);
    if (!checkCsrf(ctx, request, reply, form, pageTr(request, reply))) return reply;
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    await endAllSessions(ctx, pc.user.id, { ip: request.ip });
    await ctx.login.end(request, reply);
    return redirect303(reply, ctx.login.mode === 'builtin' ? `${ctx.base}/login` : `${ctx.base}/logout`);
  });

  app.post<{ Params: { id: string } }>('/account/apps/:id/revoke', page, async (request, reply) => {
    const form = formOf(request);
    const tr = pageTr(request, reply);
    if (!checkCsrf(ctx, request, reply, form, tr)) return reply;
    const pc = await requireViewer(ctx, request, reply);
    if (!pc) return reply;
    const clientId = request.params.id.slice(0, 512);
    if (text(form, 'confirm') !== 'yes') {
      const name = (await ctx.storage.clients.byId(clientId))?.name ?? clientId;
      const title = tr.t('apps.revokeQuestion', { app: name });
      return sendPage(
        reply,
        200,
        shell(pc, title, 'account', confirmBody({
          title,
          warning: tr.t('apps.revokeWarning'),
          action: `${ctx.base}/account/apps/${encodeURIComponent(clientId)}/revoke`,
          csrf: pc.csrf,
          fields: [],
          submitLabel: tr.t('apps.revoke'),
          cancelHref: `${ctx.base}/account/apps`,
          cancelLabel: tr.t('apps.cancel'),
        }), undefined, tr),
      );
    }
    await revokeUserAuthorization(ctx, pc.user.id, clientId, { ip: request.ip });
    return redirect303(reply, `${ctx.base}/account/apps?done=revoked`);
  });
}
