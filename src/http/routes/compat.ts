/**
 * The compatibility paths (src/features/compat/profiles.ts, docs/compat.md), mapped onto
 * Tollgate's own endpoints. Registered twice over: the paths inside the issuer's path in the
 * instance's context (`under` = the issuer's path), the others at the host's root (`under` = null).
 * A path that is already one of Tollgate's own (AnyFetch's `/oauth/authorize`, Gancio's
 * `/oauth/token` when the issuer has no path) is served by Tollgate's route itself.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';
import { compatRoutes as enabledRoutes, type CompatRoute } from '../../features/compat/profiles.js';
import { frappeRevoke, gancioRegister } from '../../features/compat/shapes.js';
import { bodyObject, bodyParams } from '../plugins/body.js';
import { noStore, tokenRoute, type Cors } from './oauth.js';
import { apiRootReply } from './api.js';

/** Tollgate's own paths, relative to the issuer, that a compatibility path may coincide with. */
const OWN = new Set(['GET /oauth/authorize', 'POST /oauth/token']);

function register(app: FastifyInstance, ctx: HttpContext, route: CompatRoute, path: string, cors: Cors): void {
  const t = route.target;
  switch (t.kind) {
    case 'token':
      tokenRoute(app, ctx, path, cors);
      return;
    case 'authorize':
      app.get(path, { config: { page: true } }, async (request, reply) => {
        const q = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
        if (t.defaultResponseType && !q.has('response_type')) q.set('response_type', t.defaultResponseType);
        return reply.code(303).header('Cache-Control', 'no-store').header('Location', `${ctx.base}/oauth/authorize?${q.toString()}`).send();
      });
      return;
    case 'gancio-register':
      app.post(path, { config: { registration: true } }, async (request, reply) => {
        const response = await gancioRegister(ctx, bodyObject(request), request.headers.authorization, request.ip);
        return noStore(reply).code(200).send(response);
      });
      return;
    case 'frappe-revoke':
      app.post(path, async (request, reply) => {
        let ok: boolean;
        try {
          ok = await frappeRevoke(ctx, bodyParams(request), request.ip);
        } catch (err) {
          // A body the strict reader refuses is Frappe's "bad request" too; a storage failure is not.
          if ((err as { error?: unknown }).error !== 'invalid_request') throw err;
          ok = false;
        }
        return noStore(reply).code(ok ? 200 : 400).send(ok ? { message: 'success' } : { message: 'bad request' });
      });
      return;
    case 'api-root':
      app.get(path, { config: { bearer: true } }, async (request, reply) => {
        if (request.headers.authorization === undefined) return reply.redirect(`${ctx.base}/docs`);
        return apiRootReply(ctx, request, reply);
      });
      return;
  }
}

export function compatRoutes(app: FastifyInstance, ctx: HttpContext, opts: { readonly cors: Cors; readonly under: string | null; readonly ownsServer: boolean }): void {
  for (const route of enabledRoutes(ctx.config.compat)) {
    // The host's own home page is the host's: AnyFetch's `GET /` is served only on a server Tollgate owns.
    if (route.target.kind === 'api-root' && !opts.ownsServer) continue;
    const inside = ctx.base === '' || route.path === ctx.base || route.path.startsWith(`${ctx.base}/`);
    if (opts.under === null ? inside : !inside) continue;
    const path = opts.under === null ? route.path : route.path.slice(ctx.base.length) || '/';
    if (opts.under !== null && OWN.has(`${route.method} ${path}`)) continue;
    register(app, ctx, route, path, opts.cors);
  }
}
