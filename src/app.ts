/**
 * buildApp(deps): assembles the Fastify application from its plugins and routes. No logic here.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { OAuthError } from './oauth/errors.js';
import type { OAuthContext } from './oauth/context.js';
import type { Metrics } from './http/metrics.js';
import { frameworkErrorHandler, installErrorHandler } from './http/plugins/errors.js';
import { installSecurityHeaders } from './http/plugins/security-headers.js';
import { BODY_LIMIT, installBodyParsers } from './http/plugins/body.js';
import { loggerOptions } from './http/logging.js';
import { installClientAuthLimits } from './http/plugins/auth-failures.js';
import { errorPage } from './http/views/pages.js';
import { oauthRoutes } from './http/routes/oauth.js';
import { authorizeRoutes } from './http/routes/authorize.js';
import { apiRoutes } from './http/routes/api.js';
import { opsRoutes } from './http/routes/ops.js';
import { adminApiRoutes } from './http/routes/admin-api.js';
import { pageRoutes } from './http/routes/pages.js';

export interface AppDeps {
  readonly ctx: OAuthContext;
  readonly metrics: Metrics;
  /** Pino options or false; defaults to the configured level with redaction. */
  readonly logger?: FastifyServerOptions['logger'];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ctx, metrics } = deps;
  // A caller's logger options (a stream, a level) never replace the redaction and the safe
  // request serializer: no token, code or secret may reach a log line (O5).
  const base = loggerOptions(ctx.config.logLevel);
  const logger =
    deps.logger === undefined
      ? base
      : typeof deps.logger === 'object' && deps.logger !== null
        ? { ...base, ...deps.logger, redact: base.redact, serializers: { ...(deps.logger as { serializers?: object }).serializers, ...base.serializers } }
        : deps.logger;
  const app = Fastify({
    logger,
    // Bad URLs and over-long path segments get RFC-shaped answers too, not Fastify's default body.
    frameworkErrors: frameworkErrorHandler(errorPage),
    bodyLimit: BODY_LIMIT,
    trustProxy: ctx.config.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
  });

  // First hook of every request: storage caches validated per request may share a validation
  // among requests that arrived before it, never with a later one (storage/kysely/hot-path.ts).
  const markArrival = ctx.storage.markArrival?.bind(ctx.storage);
  if (markArrival) {
    app.addHook('onRequest', (_request, _reply, done) => {
      markArrival();
      done();
    });
  }
  await app.register(cookie);
  // O7: sign-in attempts are limited per client IP (in memory; per process). Routes opt in with
  // `config.rateLimit` (see loginRateLimit); the 429 is an RFC-shaped error or a page.
  // With TOLLGATE_REDIS_URL the counters live in Redis, shared by every process; a Redis outage
  // never blocks sign-in (skipOnError), it only stops counting until Redis is back.
  const redis =
    ctx.config.redisUrl === null
      ? null
      : new Redis(ctx.config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  if (redis) {
    redis.on('error', (err: Error) => app.log.warn({ err: { message: err.message } }, 'redis error'));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  }
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'tollgate-rl-', skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) =>
      new OAuthError('temporarily_unavailable', `Too many sign-in attempts from this address; try again in ${Math.ceil(context.ttl / 1000)} seconds`, 429),
  });
  installBodyParsers(app);
  installSecurityHeaders(app, { https: ctx.config.issuer.startsWith('https:') });
  installErrorHandler(app, { onOAuthError: (e) => metrics.errors.inc({ error: e }) }, errorPage);

  installClientAuthLimits(app, {
    paths: ['/oauth/token', '/oauth/revoke', '/oauth/introspect'],
    limit: ctx.config.clientAuthFailureLimit,
    redis,
  });

  // Label-bound children, one per method+route(+status): prom-client hashes a label object on
  // every call otherwise. Bounded by the route table (unmatched paths share one label).
  const requestCounters = new Map<string, { inc(): void }>();
  const durationHistograms = new Map<string, { observe(value: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    const status = reply.statusCode;
    const key = `${method} ${route}`;
    let histogram = durationHistograms.get(key);
    if (!histogram) durationHistograms.set(key, (histogram = metrics.duration.labels({ method, route })));
    let counter = requestCounters.get(`${key} ${status}`);
    if (!counter) requestCounters.set(`${key} ${status}`, (counter = metrics.requests.labels({ method, route, status: String(status) })));
    counter.inc();
    histogram.observe(reply.elapsedTime / 1000);
    done();
  });

  const corsOrigins = ctx.config.corsOrigins;
  // CORS only where configured, and never on the authorization endpoint (SECURITY.md).
  const cors = (reply: FastifyReply, origin: string | undefined): void => {
    if (origin && (corsOrigins.includes(origin) || corsOrigins.includes('*'))) {
      reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
    }
  };
  for (const path of ['/oauth/token', '/oauth/revoke', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
    app.options(path, async (request, reply) => {
      cors(reply, request.headers.origin);
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', 'GET, POST')
        .header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
        .header('Access-Control-Max-Age', '600')
        .send();
    });
  }

  oauthRoutes(app, ctx, { cors });
  authorizeRoutes(app, ctx);
  apiRoutes(app, ctx);
  adminApiRoutes(app, ctx);
  opsRoutes(app, ctx, metrics);
  pageRoutes(app, ctx);
  app.get('/', async (_request, reply) => reply.redirect('/docs'));
  return app;
}
