/**
 * The authorization endpoint and the built-in login and consent forms (Z1–Z11). Thin: sessions,
 * CSRF and rendering here; every decision in src/oauth/authorize.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { AuthorizePageError, OAuthError } from '../../oauth/errors.js';
import { AuthorizeRedirectError, approve, decide, deny, errorRedirect, validateAuthorizeRequest, type AuthorizeRequest } from '../../oauth/authorize.js';
import { paramsFromForm, type Params } from '../../oauth/params.js';
import { bodyObject, queryParams } from '../plugins/body.js';
import { consentPage, errorPage, loginPage, logoutPage } from '../views/pages.js';
import { csrfToken, csrfValid, currentUser, endSession, safeReturnTo, startSession } from '../session.js';
import type { Account } from '../../accounts/types.js';

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** RFC 9700 §4.11: after a POST the redirect is 303 so the browser does not re-post. */
function redirect303(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('Cache-Control', 'no-store').header('Location', location).send();
}

async function validated(ctx: OAuthContext, reply: FastifyReply, params: Params): Promise<AuthorizeRequest | null> {
  try {
    return await validateAuthorizeRequest(ctx, params);
  } catch (err) {
    if (err instanceof AuthorizePageError) {
      sendPage(reply, err.status, errorPage(ctx, 'This authorization request is not valid', err.description, err.error));
      return null;
    }
    if (err instanceof AuthorizeRedirectError) {
      redirect303(reply, err.location);
      return null;
    }
    throw err;
  }
}

async function showConsent(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, req: AuthorizeRequest, user: Account, rawRequest: string) {
  const scopes = await Promise.all(
    req.scopes.map(async (name) => ({ name, description: (await ctx.storage.scopes.byName(name))?.description ?? name })),
  );
  return sendPage(
    reply,
    200,
    consentPage(ctx, {
      csrf: csrfToken(ctx, request, reply),
      request: rawRequest,
      appName: req.client.name,
      appDescription: req.client.description,
      appWebsite: req.client.website,
      appLogo: req.client.logoUri,
      orgName: req.client.orgId ? ((await ctx.storage.organizations.byId(req.client.orgId))?.name ?? null) : null,
      userEmail: user.email,
      scopes,
    }),
  );
}

export function authorizeRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/oauth/authorize', { config: { page: true } }, async (request, reply) => {
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const req = await validated(ctx, reply, queryParams(request));
    if (!req) return reply;
    const user = await currentUser(ctx, request);
    if (!user || req.promptLogin) {
      if (req.promptNone) return redirect303(reply, errorRedirect(ctx, req, new OAuthError('login_required', 'The user is not signed in')));
      // Come back here without prompt=login once signed in.
      const back = new URLSearchParams(rawQuery);
      back.delete('prompt');
      if (req.promptLogin && user) await endSession(ctx, request, reply);
      return redirect303(reply, `${ctx.base}/login?return_to=${encodeURIComponent(`${ctx.base}/oauth/authorize?${back.toString()}`)}`);
    }
    const decision = await decide(ctx, req, user.id, request.ip);
    if (decision.kind === 'redirect') return redirect303(reply, decision.location);
    return showConsent(ctx, request, reply, req, user, rawQuery);
  });

  app.post('/oauth/authorize', { config: { page: true } }, async (request, reply) => {
    const body = bodyObject(request);
    const rawRequest = typeof body['authorization_request'] === 'string' ? body['authorization_request'] : '';
    const req = await validated(ctx, reply, paramsFromForm(rawRequest));
    if (!req) return reply;
    if (!csrfValid(request, body['csrf'])) {
      return sendPage(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired or was not sent by this site. Go back and try again.', 'invalid_request'));
    }
    const user = await currentUser(ctx, request);
    if (!user) return redirect303(reply, `${ctx.base}/login?return_to=${encodeURIComponent(`${ctx.base}/oauth/authorize?${rawRequest}`)}`);
    if (body['decision'] !== 'allow') return redirect303(reply, await deny(ctx, req, user.id, request.ip));
    const checked = body['scope'] === undefined ? [] : Array.isArray(body['scope']) ? body['scope'] : [body['scope']];
    // Z11: the token carries only what the user left ticked, never more than was asked.
    const granted = req.scopes.filter((s) => checked.includes(s));
    if (req.scopes.length > 0 && granted.length === 0) {
      return redirect303(reply, errorRedirect(ctx, req, new OAuthError('access_denied', 'The user granted no scope', 403)));
    }
    return redirect303(reply, await approve(ctx, req, user.id, granted, request.ip));
  });

  app.get('/login', { config: { page: true } }, async (request, reply) => {
    const q = queryParams(request);
    return sendPage(reply, 200, loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo: safeReturnTo(ctx, q.get('return_to')?.[0]) }));
  });

  app.post('/login', { config: { page: true, rateLimit: { max: ctx.config.loginRateLimit, timeWindow: 60_000 } } }, async (request, reply) => {
    const body = bodyObject(request);
    const returnTo = safeReturnTo(ctx, body['return_to']);
    if (!csrfValid(request, body['csrf'])) {
      return sendPage(reply, 403, loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo, error: 'The form has expired. Please sign in again.' }));
    }
    const username = typeof body['username'] === 'string' ? body['username'] : '';
    const password = typeof body['password'] === 'string' ? body['password'] : '';
    const result = username && password && username.length <= 320 && password.length <= 1024
      ? await ctx.accounts.login(username, password, ctx.now())
      : ({ ok: false, reason: 'invalid' } as const);
    if (!result.ok) {
      await ctx.audit.record(result.reason === 'locked' ? 'login.locked' : 'login.failed', { ip: request.ip, details: { via: 'login_form', reason: result.reason } });
      // The same message for unknown email, wrong password and lockout (O7).
      return sendPage(
        reply,
        401,
        loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo, email: username.slice(0, 320), error: 'Invalid email or password, or too many attempts. Try again later.' }),
      );
    }
    await startSession(ctx, reply, result.account.id);
    await ctx.audit.record('login.succeeded', { actorUserId: result.account.id, ip: request.ip });
    return redirect303(reply, returnTo);
  });

  app.get('/logout', { config: { page: true } }, async (request, reply) => {
    const user = await currentUser(ctx, request);
    return sendPage(reply, 200, logoutPage(ctx, { csrf: csrfToken(ctx, request, reply), email: user?.email ?? null }));
  });

  app.post('/logout', { config: { page: true } }, async (request, reply) => {
    const body = bodyObject(request);
    if (!csrfValid(request, body['csrf'])) return sendPage(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired.', 'invalid_request'));
    await endSession(ctx, request, reply);
    return redirect303(reply, `${ctx.base}/login`);
  });
}
