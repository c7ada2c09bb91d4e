/**
 * The authorization endpoint, the sign-in detour and the built-in login and consent forms
 * (Z1–Z11; issue #11). Thin: sessions, CSRF and rendering here; every decision in
 * src/oauth/authorize.ts; who is signed in comes from the instance's login (src/login/).
 *
 * A request that needs a sign-in (nobody signed in, `prompt=login`, or a sign-in older than
 * `max_age`) waits on the server (src/http/interactions.ts) while the person signs in — on
 * Tollgate's form, the host's page or the platform's — and continues at
 * `/oauth/authorize/resume` with every parameter it came with; the sign-in satisfies only the
 * `login` part of `prompt`. `prompt=none` never leaves: without a fresh-enough sign-in it answers
 * `login_required`.
 */
import { metadataFacts } from '../../features/client-id-metadata/policy.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.js';
import { AuthorizePageError, OAuthError } from '../../oauth/errors.js';
import {
  AuthorizeRedirectError,
  approve,
  decide,
  deny,
  encodeParams,
  errorRedirect,
  needsSignIn,
  validateAuthorizeRequest,
  withoutLoginPrompt,
  type AuthorizeRequest,
} from '../../oauth/authorize.js';
import { paramsFromForm, paramsFromSearch, type Params } from '../../oauth/params.js';
import { bodyObject, bodyParams, queryParams } from '../plugins/body.js';
import { consentPage, errorPage, loginPage, logoutPage } from '../views/pages.js';
import { csrfToken, csrfValid, safeReturnTo } from '../session.js';
import { pageCsp } from '../plugins/security-headers.js';
import { startSession } from '../../login/sessions.js';
import type { Session } from '../../login/types.js';
import type { SignIn } from '../../oauth/feature.js';
import { loadForBrowser, waitingRequest } from '../interactions.js';
import { pageTr, type Tr } from '../views/i18n.js';
import { signInForRequest, signInThenReturn } from '../sign-in.js';
import { accountLabel, type Account } from '../../accounts/types.js';

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** RFC 9700 §4.11: after a POST the redirect is 303 so the browser does not re-post. */
function redirect303(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('Cache-Control', 'no-store').header('Location', location).send();
}

/** The page language of an authorization request: its `ui_locales`, then Accept-Language. */
function requestTr(request: FastifyRequest, reply: FastifyReply, params: Params): Tr {
  return pageTr(request, reply, params.get('ui_locales')?.[0] ?? null);
}

async function validated(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, params: Params, opts: { readonly defaultResponseType?: string } = {}): Promise<AuthorizeRequest | null> {
  try {
    return await validateAuthorizeRequest(ctx, params, opts);
  } catch (err) {
    if (err instanceof AuthorizePageError) {
      sendPage(reply, err.status, errorPage(ctx, 'This authorization request is not valid', err.description, err.error, null, requestTr(request, reply, params)));
      return null;
    }
    if (err instanceof AuthorizeRedirectError) {
      redirect303(reply, err.location);
      return null;
    }
    throw err;
  }
}

async function showConsent(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, req: AuthorizeRequest, user: Account) {
  const tr = requestTr(request, reply, req.params);
  const scopes = await Promise.all(
    req.scopes.map(async (name) => {
      const row = await ctx.storage.scopes.byName(name);
      return { name, description: row ? tr.scope(row) : name };
    }),
  );
  reply.header('Content-Security-Policy', pageCsp(ctx.config, req.redirectUri));
  let redirectHost: string;
  try {
    redirectHost = new URL(req.redirectUri).host || new URL(req.redirectUri).protocol;
  } catch {
    redirectHost = req.redirectUri;
  }
  const owner = req.client.ownerId ? await ctx.accounts.byId(req.client.ownerId) : null;
  return sendPage(
    reply,
    200,
    consentPage(ctx, {
      redirectHost,
      unverified: req.client.dynamic || req.client.metadataDocument !== null,
      ...metadataFacts(req.client),
      registeredBy: req.client.dynamic ? null : owner ? accountLabel(owner) : null,
      csrf: csrfToken(ctx, request, reply),
      request: encodeParams(req.params),
      appName: req.client.name,
      appDescription: req.client.description,
      appWebsite: req.client.website,
      appLogo: req.client.logoUri,
      orgName: req.client.orgId ? ((await ctx.storage.organizations.byId(req.client.orgId))?.name ?? null) : null,
      userEmail: accountLabel(user),
      logoutHref: ctx.login.mode === 'embedded' ? ctx.login.logoutUrl : `${ctx.base}/logout`,
      scopes,
      tr,
    }),
  );
}

/** A signed-in person whose sign-in is recent enough: remembered consent, or the consent page. */
async function proceed(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, req: AuthorizeRequest, session: Session): Promise<FastifyReply> {
  const decision = await decide(ctx, req, signInOf(session), request.ip);
  if (decision.kind === 'redirect') return redirect303(reply, decision.location);
  return showConsent(ctx, request, reply, req, session.account);
}

/** What the approval records of the person's sign-in. */
function signInOf(session: Session): SignIn {
  return { userId: session.account.id, authTime: session.authTime, amr: session.amr, acr: session.acr, sid: session.sid };
}

/** Sends the person to sign in for this request; `prompt=none` answers `login_required` instead. */
async function signInFirst(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply, req: AuthorizeRequest, session: Session | null): Promise<FastifyReply> {
  if (req.promptNone) {
    const why = session === null ? 'The user is not signed in' : 'The user signed in longer ago than max_age allows';
    return redirect303(reply, errorRedirect(ctx, req, new OAuthError('login_required', why)));
  }
  return signInForRequest(ctx, request, reply, {
    clientId: req.client.clientId,
    request: encodeParams(req.params),
    sessionSubject: session?.account.id ?? null,
    hints: { prompt: req.promptLogin ? ['login'] : [], maxAge: req.maxAge, loginHint: req.loginHint },
  });
}

function pageError(ctx: HttpContext, reply: FastifyReply, status: number, title: string, message: string, code: string, tr: Tr): FastifyReply {
  return sendPage(reply, status, errorPage(ctx, title, message, code, null, tr));
}

export function authorizeRoutes(app: FastifyInstance, ctx: HttpContext): void {
  // AnyFetch's authorize is this very path when the issuer has none (docs/compat.md).
  const waiver = ctx.base === '' && ctx.config.compat.includes('anyfetch') ? { defaultResponseType: 'code' } : {};
  /** An authorization request, by GET or (OpenID Connect Core §3.1.2.1) by a form POST. */
  async function authorizationRequest(request: FastifyRequest, reply: FastifyReply, params: Params): Promise<FastifyReply> {
    const req = await validated(ctx, request, reply, params, waiver);
    if (!req) return reply;
    const session = await ctx.login.current(request);
    if (session && req.subjectHint !== null && req.subjectHint !== session.account.id) {
      // OIDC Core §3.1.2.1: the request is for another person than the one signed in here.
      if (req.promptNone) return redirect303(reply, errorRedirect(ctx, req, new OAuthError('login_required', 'The signed-in user is not the one id_token_hint names')));
      return signInFirst(ctx, request, reply, { ...req, promptLogin: true }, session);
    }
    if (!session || needsSignIn(ctx, req, session.authTime)) return signInFirst(ctx, request, reply, req, session);
    return proceed(ctx, request, reply, req, session);
  }

  app.get('/oauth/authorize', { config: { page: true } }, async (request, reply) => authorizationRequest(request, reply, queryParams(request)));

  // The way back from a sign-in: the waiting request continues, in the browser that started it.
  app.get('/oauth/authorize/resume', { config: { page: true } }, async (request, reply) => {
    const q = queryParams(request);
    const id = q.get('interaction')?.[0];
    const loaded = await loadForBrowser(ctx, request, id);
    if (!loaded.ok) return pageError(ctx, reply, loaded.status, loaded.title, loaded.message, 'invalid_request', pageTr(request, reply));
    const row = loaded.row;
    const params = paramsFromSearch(new URLSearchParams(row.request));
    const tr = requestTr(request, reply, params);

    const done = await ctx.login.complete(request, reply, row, new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''));
    if (done.kind === 'refused') return pageError(ctx, reply, done.status, done.title, done.message, done.code, tr);

    if (row.clientId === null) {
      if (done.kind === 'rejected') return pageError(ctx, reply, 403, 'You could not be signed in', done.description, done.error, tr);
      return redirect303(reply, safeReturnTo(ctx, row.returnTo));
    }
    const req = await validated(ctx, request, reply, params);
    if (!req) return reply;
    if (done.kind === 'rejected') return redirect303(reply, errorRedirect(ctx, req, new OAuthError(done.error, done.description)));
    const session = done.session;
    // The sign-in must be the new one the request asked for (prompt=login, max_age): a login page
    // that sends the person back with their earlier sign-in gets a clear answer, never a loop.
    // A host reports sign-in times in whole seconds: a sign-in in the same second counts.
    const since = ctx.login.mode === 'embedded' ? Math.floor(row.loginRequestedAt / 1000) * 1000 : row.loginRequestedAt;
    const stale = (req.promptLogin && session.authTime < since) || (req.maxAge !== null && ctx.now() - session.authTime > req.maxAge * 1000 + 1000);
    if (stale) {
      return pageError(
        ctx,
        reply,
        400,
        'The sign-in was not renewed',
        'The application asked you to sign in again, but the sign-in page reported your earlier sign-in. Go back to the application and try again.',
        'login_required',
        tr,
      );
    }
    if (req.subjectHint !== null && req.subjectHint !== session.account.id) {
      return redirect303(reply, errorRedirect(ctx, req, new OAuthError('login_required', 'The user signed in with another account than the one id_token_hint names')));
    }
    const stripped = withoutLoginPrompt(params);
    return proceed(ctx, request, reply, { ...req, params: stripped, promptLogin: false }, session);
  });

  app.post('/oauth/authorize', { config: { page: true } }, async (request, reply) => {
    const body = bodyObject(request);
    // Not the consent form: an authorization request sent as a form (OIDC Core §3.1.2.1), read
    // with the strict parameter reader (a repeated parameter is refused, as in a query).
    if (!('authorization_request' in body) && !('decision' in body)) return authorizationRequest(request, reply, bodyParams(request));
    const rawRequest = typeof body['authorization_request'] === 'string' ? body['authorization_request'] : '';
    const req = await validated(ctx, request, reply, paramsFromForm(rawRequest));
    if (!req) return reply;
    if (!csrfValid(request, body['csrf'])) {
      return sendPage(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired or was not sent by this site. Go back and try again.', 'invalid_request', null, requestTr(request, reply, req.params)));
    }
    const session = await ctx.login.current(request);
    if (!session) return signInFirst(ctx, request, reply, req, null);
    const user = session.account;
    if (body['decision'] !== 'allow') return redirect303(reply, await deny(ctx, req, user.id, request.ip));
    const checked = body['scope'] === undefined ? [] : Array.isArray(body['scope']) ? body['scope'] : [body['scope']];
    // Z11: the token carries only what the user left ticked, never more than was asked.
    const granted = req.scopes.filter((s) => checked.includes(s));
    if (req.scopes.length > 0 && granted.length === 0) {
      return redirect303(reply, errorRedirect(ctx, req, new OAuthError('access_denied', 'The user granted no scope', 403)));
    }
    return redirect303(reply, await approve(ctx, req, signInOf(session), granted, request.ip));
  });

  /**
   * The sign-in page of a waiting authorization request: in the request's language, and with a
   * policy naming where the form's redirect chain may end (browsers apply `form-action` to every
   * redirect after the POST: a remembered consent or an error goes straight to the application).
   */
  const loginPageTr = async (request: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<Tr> => {
    const waiting = await waitingRequest(ctx, request, returnTo);
    if (waiting?.redirectUri != null) reply.header('Content-Security-Policy', pageCsp(ctx.config, waiting.redirectUri));
    return pageTr(request, reply, waiting?.uiLocales ?? null);
  };

  app.get('/login', { config: { page: true } }, async (request, reply) => {
    const q = queryParams(request);
    const returnTo = safeReturnTo(ctx, q.get('return_to')?.[0]);
    if (ctx.login.mode !== 'builtin') return signInThenReturn(ctx, request, reply, returnTo);
    const hint = q.get('login_hint')?.[0];
    const tr = await loginPageTr(request, reply, returnTo);
    return sendPage(
      reply,
      200,
      loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo, tr, ...(hint && hint.length <= 320 ? { email: hint } : {}) }),
    );
  });

  app.post('/login', { config: { page: true, rateLimit: { max: ctx.config.loginRateLimit, timeWindow: 60_000 } } }, async (request, reply) => {
    if (ctx.login.mode !== 'builtin') {
      return pageError(ctx, reply, 404, 'Sign in on the platform', 'People sign in on the platform’s own page here, not with a Tollgate password.', 'not_found', pageTr(request, reply));
    }
    const body = bodyObject(request);
    const returnTo = safeReturnTo(ctx, body['return_to']);
    // The page shown again after a failed attempt posts the same form.
    const tr = await loginPageTr(request, reply, returnTo);
    if (!csrfValid(request, body['csrf'])) {
      return sendPage(reply, 403, loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo, tr, error: tr.t('login.expired') }));
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
        loginPage(ctx, { csrf: csrfToken(ctx, request, reply), returnTo, tr, email: username.slice(0, 320), error: tr.t('login.invalid') }),
      );
    }
    await startSession(ctx, request, reply, result.account.id, { kind: 'builtin', amr: ['pwd'] });
    await ctx.audit.record('login.succeeded', { actorUserId: result.account.id, ip: request.ip });
    return redirect303(reply, returnTo);
  });

  app.get('/logout', { config: { page: true } }, async (request, reply) => {
    const session = await ctx.login.current(request);
    if (ctx.login.mode === 'embedded' && ctx.login.logoutUrl !== null) return redirect303(reply, ctx.login.logoutUrl);
    return sendPage(
      reply,
      200,
      logoutPage(ctx, { csrf: csrfToken(ctx, request, reply), email: session ? accountLabel(session.account) : null, hostManaged: ctx.login.mode === 'embedded', tr: pageTr(request, reply) }),
    );
  });

  app.post('/logout', { config: { page: true } }, async (request, reply) => {
    const body = bodyObject(request);
    if (!csrfValid(request, body['csrf'])) return sendPage(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired.', 'invalid_request', null, pageTr(request, reply)));
    await ctx.login.end(request, reply);
    return redirect303(reply, ctx.login.mode === 'builtin' ? `${ctx.base}/login` : `${ctx.base}/logout`);
  });
}
