/**
 * OpenID Connect RP-Initiated Logout 1.0 at `/oauth/logout` (the `end_session_endpoint`), GET or
 * form POST. The decisions are in src/features/oidc/logout.ts; here, the session and the pages:
 * with an `id_token_hint` naming the person signed in, the sign-out happens at once; otherwise the
 * person confirms on a page (CSRF-protected) first, as §3 asks. Afterwards the person goes to the
 * registered `post_logout_redirect_uri` (with `state`), or sees a "signed out" page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.js';
import { AuthorizePageError } from '../../oauth/errors.js';
import type { Params } from '../../oauth/params.js';
import { resolveLogoutRequest } from '../../features/oidc/logout.js';
import { accountLabel } from '../../accounts/types.js';
import { bodyObject, bodyParams, queryParams } from '../plugins/body.js';
import { csrfToken, csrfValid } from '../session.js';
import { endSessionPage, errorPage, signedOutPage } from '../views/pages.js';
import { pageCsp } from '../plugins/security-headers.js';
import { pageTr } from '../views/i18n.js';

/** What the confirmation form carries on; `ui_locales` (RP-Initiated Logout §2) keeps its language. */
const CARRIED = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'ui_locales'];

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

export function endSessionRoutes(app: FastifyInstance, ctx: HttpContext): void {
  async function handle(request: FastifyRequest, reply: FastifyReply, params: Params, confirmed: boolean): Promise<FastifyReply> {
    const tr = pageTr(request, reply, params.get('ui_locales')?.[0] ?? null);
    let logout;
    try {
      logout = await resolveLogoutRequest(ctx, params);
    } catch (err) {
      if (err instanceof AuthorizePageError) return page(reply, err.status, errorPage(ctx, 'This sign-out request is not valid', err.description, err.error, null, tr));
      throw err;
    }
    const session = await ctx.login.current(request);
    const hinted = session !== null && logout.hintSubject === session.account.id;
    if (session !== null && !hinted && !confirmed) {
      const fields = CARRIED.flatMap((k) => {
        const v = params.get(k)?.[0];
        return v === undefined || v === '' ? [] : [[k, v] as const];
      });
      // Browsers apply form-action to the redirect after the POST: name where it goes (validated).
      if (logout.redirect !== null) reply.header('Content-Security-Policy', pageCsp(ctx.config, logout.redirect));
      return page(reply, 200, endSessionPage(ctx, { csrf: csrfToken(ctx, request, reply), email: accountLabel(session.account), appName: logout.client?.name ?? null, fields, tr }));
    }
    if (session !== null) {
      await ctx.login.end(request, reply);
      await ctx.audit.record('session.ended', { actorUserId: session.account.id, clientId: logout.client?.clientId ?? null, ip: request.ip, details: { via: 'end_session' } });
    }
    if (logout.redirect !== null) return reply.code(303).header('Cache-Control', 'no-store').header('Location', logout.redirect).send();
    return page(reply, 200, signedOutPage(ctx, tr));
  }

  app.get('/oauth/logout', { config: { page: true } }, async (request, reply) => handle(request, reply, queryParams(request), false));

  app.post('/oauth/logout', { config: { page: true } }, async (request, reply) => {
    const body = bodyObject(request);
    // The confirmation form carries a CSRF token; a form POST from the application does not.
    if (body['confirm'] === 'yes') {
      if (!csrfValid(request, body['csrf'])) {
        const uiLocales = typeof body['ui_locales'] === 'string' ? body['ui_locales'] : null;
        return page(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired or was not sent by this site. Go back and try again.', 'invalid_request', null, pageTr(request, reply, uiLocales)));
      }
      const params: Params = new Map([...bodyParams(request)].filter(([k]) => CARRIED.includes(k)));
      return handle(request, reply, params, true);
    }
    return handle(request, reply, bodyParams(request), false);
  });
}
