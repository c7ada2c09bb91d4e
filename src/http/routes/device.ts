/**
 * The device verification pages (RFC 8628 §3.3; issue #14). Thin: sessions, CSRF and rendering
 * here; every decision in src/features/device-code/device.ts; who is signed in comes from the
 * instance's login (built-in, embedded or delegated), as on the authorization endpoint.
 *
 * - `GET /device`: the person types the code; `GET /device?user_code=…` (the device's
 *   `verification_uri_complete`) shows the code for them to compare and confirm, never submits it.
 * - `POST /device`: the typed code; a valid one continues at `GET /device?user_code=…`.
 * - `POST /device/decision`: Allow or Deny, then a page that sends them back to their device.
 * Every lookup of a code counts toward TOLLGATE_DEVICE_RATE_LIMIT per client IP per minute (§5.1).
 */
import { metadataFacts } from '../../features/client-id-metadata/policy.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.js';
import { approveDeviceRequest, denyDeviceRequest, findDeviceRequest, VERIFICATION_PATH, type FoundDeviceRequest } from '../../features/device-code/device.js';
import { bodyObject, queryParams } from '../plugins/body.js';
import { csrfToken, csrfValid } from '../session.js';
import { deviceConsentPage, deviceDonePage, deviceEntryPage } from '../views/device.js';
import { errorPage } from '../views/pages.js';
import { redirect303, sendPage } from '../views/kit.js';
import { pageTr, type Tr } from '../views/i18n.js';
import { signInThenReturn } from '../sign-in.js';
import { accountLabel } from '../../accounts/types.js';
import type { Session } from '../../login/types.js';

/** What a page shows for a code that cannot go on (400: the person's input; 410 once used up). */
const STATUS: Readonly<Record<Exclude<FoundDeviceRequest, { ok: true }>['reason'], number>> = { malformed: 400, unknown: 400, expired: 410, answered: 410 };

export function deviceRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const path = `${ctx.base}${VERIFICATION_PATH}`;
  const limit = { max: ctx.config.deviceRateLimit, timeWindow: 60_000 };
  const typedCode = (value: unknown): string => (typeof value === 'string' ? value.slice(0, 64) : '');

  const entry = (request: FastifyRequest, reply: FastifyReply, tr: Tr, status = 200, error?: Exclude<FoundDeviceRequest, { ok: true }>['reason'], typed?: string): FastifyReply =>
    sendPage(reply, status, deviceEntryPage(ctx, { csrf: csrfToken(ctx, request, reply), tr, ...(error ? { error } : {}), ...(typed !== undefined ? { typed } : {}) }));

  async function confirmPage(request: FastifyRequest, reply: FastifyReply, found: Extract<FoundDeviceRequest, { ok: true }>, session: Session, tr: Tr): Promise<FastifyReply> {
    const { client } = found;
    const scopes = await Promise.all(
      found.row.scope.split(' ').filter((s) => s !== '').map(async (name) => {
        const row = await ctx.storage.scopes.byName(name);
        return { name, description: row ? tr.scope(row) : name };
      }),
    );
    const owner = client.ownerId && !client.dynamic ? await ctx.accounts.byId(client.ownerId) : null;
    return sendPage(
      reply,
      200,
      deviceConsentPage(ctx, {
        csrf: csrfToken(ctx, request, reply),
        userCode: found.userCode,
        appName: client.name,
        appDescription: client.description,
        appWebsite: client.website,
        appLogo: client.logoUri,
        orgName: client.orgId ? ((await ctx.storage.organizations.byId(client.orgId))?.name ?? null) : null,
        registeredBy: owner ? accountLabel(owner) : null,
        unverified: client.dynamic || client.metadataDocument !== null,
        metadataHost: metadataFacts(client).metadataHost,
        userEmail: accountLabel(session.account),
        logoutHref: ctx.login.mode === 'embedded' ? ctx.login.logoutUrl : `${ctx.base}/logout`,
        scopes,
        tr,
      }),
    );
  }

  // Typing the page's address is free; looking a code up counts.
  const noCode = (request: FastifyRequest): boolean => !queryParams(request).has('user_code');
  app.get(VERIFICATION_PATH, { config: { page: true, rateLimit: { ...limit, allowList: noCode } } }, async (request, reply) => {
    const tr = pageTr(request, reply);
    const typed = queryParams(request).get('user_code');
    if (typed === undefined) return entry(request, reply, tr);
    const code = typedCode(typed[0]);
    const found = await findDeviceRequest(ctx, code);
    if (!found.ok) return entry(request, reply, tr, STATUS[found.reason], found.reason, code);
    const session = await ctx.login.current(request);
    // The code rides along the sign-in (kept on the server by a delegated login's waiting request).
    if (!session) return signInThenReturn(ctx, request, reply, `${path}?user_code=${encodeURIComponent(found.userCode)}`);
    return confirmPage(request, reply, found, session, tr);
  });

  /** A posted form of these pages: its CSRF field checked and its code looked up, or the page sent. */
  async function postedCode(request: FastifyRequest, reply: FastifyReply, tr: Tr): Promise<{ found: Extract<FoundDeviceRequest, { ok: true }>; body: Readonly<Record<string, unknown>> } | null> {
    const body = bodyObject(request);
    const code = typedCode(body['user_code']);
    if (!csrfValid(request, body['csrf'])) {
      sendPage(reply, 403, errorPage(ctx, 'Request refused', 'The form has expired or was not sent by this site. Go back and try again.', 'invalid_request', null, tr));
      return null;
    }
    const found = await findDeviceRequest(ctx, code);
    if (!found.ok) {
      entry(request, reply, tr, STATUS[found.reason], found.reason, code);
      return null;
    }
    return { found, body };
  }

  app.post(VERIFICATION_PATH, { config: { page: true, rateLimit: limit } }, async (request, reply) => {
    const posted = await postedCode(request, reply, pageTr(request, reply));
    if (!posted) return reply;
    return redirect303(reply, `${path}?user_code=${encodeURIComponent(posted.found.userCode)}`);
  });

  app.post(`${VERIFICATION_PATH}/decision`, { config: { page: true, rateLimit: limit } }, async (request, reply) => {
    const tr = pageTr(request, reply);
    const posted = await postedCode(request, reply, tr);
    if (!posted) return reply;
    const { found, body } = posted;
    const code = found.userCode;
    const session = await ctx.login.current(request);
    if (!session) return signInThenReturn(ctx, request, reply, `${path}?user_code=${encodeURIComponent(found.userCode)}`);
    const ip = request.ip;
    const checked = body['scope'] === undefined ? [] : (Array.isArray(body['scope']) ? body['scope'] : [body['scope']]).filter((s): s is string => typeof s === 'string');
    const asked = found.row.scope.split(' ').filter((s) => s !== '');
    // As on the consent page: allowing with every scope unticked grants nothing, so it is a denial.
    if (body['decision'] !== 'allow' || (asked.length > 0 && !asked.some((s) => checked.includes(s)))) {
      if (!(await denyDeviceRequest(ctx, found, session.account.id, ip))) return entry(request, reply, tr, 410, 'answered', code);
      return sendPage(reply, 200, deviceDonePage(ctx, { appName: found.client.name, allowed: false, tr }));
    }
    const signIn = { userId: session.account.id, authTime: session.authTime, amr: session.amr, acr: session.acr, sid: session.sid };
    if (!(await approveDeviceRequest(ctx, found, signIn, checked, ip))) return entry(request, reply, tr, 410, 'answered', code);
    return sendPage(reply, 200, deviceDonePage(ctx, { appName: found.client.name, allowed: true, tr }));
  });
}
