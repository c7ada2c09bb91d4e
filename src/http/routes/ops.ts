/** Operations (O6): liveness, readiness, Prometheus metrics, the OpenAPI document and its browsable reference. */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { Metrics } from '../metrics.js';
import { secretMatchesHash, sha256 } from '../../oauth/crypto.js';
import { OPENAPI_DECORATOR } from '../openapi.js';
import { docsPage } from '../views/docs.js';
import { STYLESHEET } from '../views/pages.js';

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export function opsRoutes(app: FastifyInstance, ctx: OAuthContext, metrics: Metrics): void {
  app.get('/healthz', async (_request, reply) => reply.header('Cache-Control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    try {
      await Promise.race([
        ctx.storage.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('database ping timed out')), 2000).unref()),
      ]);
      return reply.header('Cache-Control', 'no-store').send({ status: 'ready', database: ctx.storage.dialect });
    } catch (err) {
      request.log.warn({ err: { message: (err as Error).message } }, 'readiness check failed');
      return reply.code(503).header('Cache-Control', 'no-store').send({ status: 'unavailable', database: ctx.storage.dialect });
    }
  });

  // Issue #15 §9: with TOLLGATE_METRICS_TOKEN, a Bearer token is required; without it, only this
  // machine (a loopback client, e.g. a local Prometheus agent or a sidecar) may read them.
  const metricsToken = ctx.config.metricsToken === null ? null : sha256(ctx.config.metricsToken);
  app.get('/metrics', async (request, reply) => {
    if (metricsToken !== null) {
      const m = /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.authorization ?? '');
      if (!m || !secretMatchesHash(m[1] ?? '', metricsToken)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer realm="tollgate-metrics"').header('Cache-Control', 'no-store').send({ error: 'invalid_token', error_description: 'The metrics need the token configured in TOLLGATE_METRICS_TOKEN' });
      }
    } else if (!isLoopback(request.ip)) {
      return reply.code(403).header('Cache-Control', 'no-store').send({ error: 'access_denied', error_description: 'The metrics are served to this machine only; set TOLLGATE_METRICS_TOKEN to read them from elsewhere' });
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Built on first use (the routes are all known by then): the protocol endpoints from
  // src/http/openapi.ts, the admin operations from their route schemas (@fastify/swagger).
  const document = app.getDecorator<() => Record<string, unknown>>(OPENAPI_DECORATOR);
  let page: string | null = null;
  app.get('/openapi.json', async (_request, reply) => reply.send(document()));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send((page ??= docsPage(ctx.base, document()))));
  app.get('/assets/tollgate.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(STYLESHEET),
  );
}

/**
 * The logos Tollgate fetched for Client ID Metadata Document clients (src/features/client-id-metadata/logo.ts),
 * served from Tollgate's own origin so that no page hot-links a URL someone else controls. Only
 * raster images recognised by their bytes are stored; they are sent with their own type, never
 * sniffed, under a CSP that forbids everything.
 */
export function clientLogoRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/client-logo', async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const clientId = typeof q['client_id'] === 'string' ? q['client_id'] : '';
    const logo = clientId === '' || clientId.length > 512 ? null : await ctx.storage.clientMetadata.logo(clientId);
    if (logo === null) return reply.code(404).header('Cache-Control', 'no-store').send({ error: 'not_found', error_description: 'No logo for this application' });
    return reply
      .type(logo.contentType)
      .header('Cache-Control', 'public, max-age=3600')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', "default-src 'none'; sandbox")
      .header('Cross-Origin-Resource-Policy', 'same-origin')
      .send(logo.data);
  });
}
