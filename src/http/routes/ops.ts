/** Operations (O6): liveness, readiness, Prometheus metrics, the OpenAPI document and its browsable reference. */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { Metrics } from '../metrics.js';
import { openApiDocument } from '../openapi.js';
import { docsPage } from '../views/docs.js';
import { STYLESHEET } from '../views/pages.js';

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

  app.get('/metrics', async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const doc = openApiDocument(ctx.config);
  app.get('/openapi.json', async (_request, reply) => reply.send(doc));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(docsPage(ctx.base, doc)));
  app.get('/assets/tollgate.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(STYLESHEET),
  );
}
