/**
 * A Fastify server that Tollgate owns (`tollgate serve`, and the Node `(req, res)` handler): the
 * server-level options only a server's owner may set (body limit, proxy trust, framework errors,
 * connection handling), with the instance's plugin mounted at its issuer's path. No logic here.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { HttpContext } from './http/context.js';
import type { Metrics } from './http/metrics.js';
import { frameworkErrorHandler, installClientErrorHandler, installNotFoundHandler } from './http/plugins/errors.js';
import { BODY_LIMIT } from './http/plugins/body.js';
import { loggerOptions } from './http/logging.js';
import { renderer, tollgatePlugin } from './http/plugin.js';

export interface AppDeps {
  readonly ctx: HttpContext;
  readonly metrics: Metrics;
  /** Pino options or false; defaults to the configured level with redaction. */
  readonly logger?: FastifyServerOptions['logger'];
  /** For the Node handler: build the server around a given factory instead of `node:http`. */
  readonly serverFactory?: FastifyServerOptions['serverFactory'];
}

/** Pino options with the redaction and safe request serializer a caller's options never replace (O5). */
export function mergedLogger(level: string, given: FastifyServerOptions['logger'] | undefined): FastifyServerOptions['logger'] {
  const base = loggerOptions(level);
  if (given === undefined) return base;
  if (typeof given === 'object' && given !== null) {
    return { ...base, ...given, redact: base.redact, serializers: { ...(given as { serializers?: object }).serializers, ...base.serializers } };
  }
  return given;
}

/** TOLLGATE_TRUST_PROXY for Fastify: a hop count trusts that many proxies in front, a list those addresses. */
function trustProxyOption(setting: false | number | readonly string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return [...setting];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ctx } = deps;
  const renderPage = renderer(ctx);
  const app = Fastify({
    logger: mergedLogger(ctx.config.logLevel, deps.logger),
    // Bad URLs and over-long path segments get RFC-shaped answers too, not Fastify's default body.
    frameworkErrors: frameworkErrorHandler(renderPage, ctx.base),
    bodyLimit: BODY_LIMIT,
    trustProxy: trustProxyOption(ctx.config.trustProxy),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Issue #15 §4: a slow client cannot hold a connection: the headers must arrive within
    // TOLLGATE_HEADERS_TIMEOUT and the whole request within TOLLGATE_REQUEST_TIMEOUT (checked
    // every second), and an idle keep-alive connection closes after TOLLGATE_IDLE_TIMEOUT.
    http: {
      headersTimeout: Math.min(ctx.config.headersTimeout, ctx.config.requestTimeout) * 1000,
      connectionsCheckingInterval: 1000,
    },
    requestTimeout: ctx.config.requestTimeout * 1000,
    keepAliveTimeout: ctx.config.idleTimeout * 1000,
    routerOptions: { maxParamLength: 200 },
    ...(deps.serverFactory ? { serverFactory: deps.serverFactory } : {}),
  });
  installClientErrorHandler(app, renderPage, ctx.base);
  // Outside the issuer's path this server serves nothing but the root-level documents.
  if (ctx.base !== '') installNotFoundHandler(app, { onOAuthError: (e) => deps.metrics.errors.inc({ error: e }) }, renderPage);
  await app.register(tollgatePlugin({ ctx, metrics: deps.metrics, ownsServer: true }));
  return app;
}
