/**
 * The HTTP face of one Tollgate instance, as Fastify plugins (docs/design.md habit 14: the library
 * does not own the HTTP server):
 * - `instanceRoutes`: everything served under the issuer's path, in its own encapsulated context,
 *   so its hooks, parsers, error handler and cookies never touch the host's routes;
 * - `rootRoutes`: what a path implies at the host's root — the path-inserted metadata document
 *   (RFC 8414 §3.1: `/.well-known/oauth-authorization-server/oauth` for the issuer `…/oauth`);
 * - `tollgatePlugin`: both, mounted where the issuer says; this is `tollgate.plugin`.
 * No logic here: routes live in ./routes, protocol decisions in src/oauth and src/features.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { Redis } from 'ioredis';
import { OAuthError } from '../oauth/errors.js';
import type { OAuthContext } from '../oauth/context.js';
import type { HttpContext } from './context.js';
import type { Metrics } from './metrics.js';
import { installErrorHandler, installNotFoundHandler, type RenderPage } from './plugins/errors.js';
import { installSecurityHeaders, pageCsp } from './plugins/security-headers.js';
import { installBodyParsers } from './plugins/body.js';
import { OPENAPI_DECORATOR, openApiBase } from './openapi.js';
import { installClientAuthLimits } from './plugins/auth-failures.js';
import { installRegistrationLimit } from './plugins/registration-limit.js';
import { errorPage } from './views/pages.js';
import { pageTr } from './views/i18n.js';
import { metadataReply, oauthRoutes, runEndpoint, type Cors } from './routes/oauth.js';
import { authorizeRoutes } from './routes/authorize.js';
import { endSessionRoutes } from './routes/end-session.js';
import { apiMetadataRoute, apiRoutes } from './routes/api.js';
import { clientLogoRoutes, opsRoutes } from './routes/ops.js';
import { adminApiRoutes } from './routes/admin-api.js';
import { pageRoutes } from './routes/pages.js';
import { loginRequestRoutes } from './routes/login-requests.js';
import { compatRoutes } from './routes/compat.js';
import { deviceRoutes } from './routes/device.js';

export interface PluginDeps {
  readonly ctx: HttpContext;
  readonly metrics: Metrics;
  /**
   * Tollgate owns the whole server (`tollgate serve`, the Node handler): it may then answer
   * unknown paths at the root. Mounted in a host's app, only paths under the issuer are its own.
   */
  readonly ownsServer: boolean;
}

export interface TollgatePluginOptions {
  /** Must equal the issuer's path when given (default: the issuer's path). */
  readonly prefix?: string;
}

function corsFor(ctx: OAuthContext): Cors {
  const origins = ctx.config.corsOrigins;
  const any = origins.includes('*');
  // Only on the endpoints that declare it (never the authorization endpoint or a page), and
  // never with credentials: `*` by default, so browser-based clients (single-page apps, the MCP
  // Inspector) can discover, register and get tokens; or only the configured origins.
  return (reply: FastifyReply, origin: string | undefined): void => {
    if (!origin) return;
    if (any) reply.header('Access-Control-Allow-Origin', '*');
    else if (origins.includes(origin)) reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
  };
}

/** The error page every handler renders (in the browser's language when the exchange is known). */
export function renderer(ctx: OAuthContext): RenderPage {
  return (title, message, code, exchange) => errorPage(ctx, title, message, code, null, exchange ? pageTr(exchange.request, exchange.reply) : undefined);
}

/**
 * What every Tollgate context installs before its routes: storage arrival marks, cookies, the
 * sign-in rate limits, the strict body parsers, security headers, the RFC-shaped error handler,
 * failed-client-authentication limits and request metrics.
 */
async function installCommon(app: FastifyInstance, deps: PluginDeps, redis: Redis | null): Promise<void> {
  const { ctx, metrics } = deps;
  // First hook of every request: storage caches validated per request may share a validation
  // among requests that arrived before it, never with a later one (storage/kysely/hot-path.ts).
  const markArrival = ctx.storage.markArrival?.bind(ctx.storage);
  if (markArrival) {
    app.addHook('onRequest', (_request, _reply, done) => {
      markArrival();
      done();
    });
  }
  if (!app.hasRequestDecorator('cookies')) await app.register(cookie);
  // O7: sign-in attempts are limited per client IP (routes opt in with `config.rateLimit`);
  // the 429 is an RFC-shaped error or a page. With TOLLGATE_REDIS_URL the counters live in
  // Redis, shared by every process; a Redis outage never blocks sign-in (skipOnError).
  if (!app.hasDecorator('rateLimit')) {
    await app.register(rateLimit, {
      global: false,
      ...(redis ? { redis, nameSpace: 'tollgate-rl-', skipOnError: true } : {}),
      errorResponseBuilder: (request, context) =>
        new OAuthError(
          'temporarily_unavailable',
          `Too many ${request.routeOptions.url?.startsWith(`${ctx.base}/device`) ? 'device codes tried' : 'sign-in attempts'} from this address; try again in ${Math.ceil(context.ttl / 1000)} seconds`,
          429,
        ),
    });
  }
  installBodyParsers(app);
  installSecurityHeaders(app, { https: ctx.config.issuer.startsWith('https:'), csp: pageCsp(ctx.config) });
  installErrorHandler(app, { onOAuthError: (e) => metrics.errors.inc({ error: e }) }, renderer(ctx));
  installClientAuthLimits(app, { limit: ctx.config.clientAuthFailureLimit, redis });
  installRegistrationLimit(app, { limit: ctx.config.registrationRateLimit, redis });

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
}

/** One Redis client per instance, for every context's counters; closed with the host. */
function redisFor(app: FastifyInstance, ctx: OAuthContext): Redis | null {
  if (ctx.config.redisUrl === null) return null;
  const redis = new Redis(ctx.config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', (err: Error) => app.log.warn({ err: { message: err.message } }, 'redis error'));
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  return redis;
}

/** The instance's routes, registered by the caller under the issuer's path. */
export function instanceRoutes(deps: PluginDeps, redis: Redis | null): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { ctx, metrics } = deps;
    await installCommon(app, deps, redis);
    // /openapi.json: the admin routes registered below bring their schemas (tagged); the
    // protocol endpoints are in the base document. Its own decorator name, so a host that runs
    // @fastify/swagger for its own routes keeps its `swagger`.
    await app.register(swagger, { openapi: openApiBase(ctx.config), hideUntagged: true, stripBasePath: true, decorator: OPENAPI_DECORATOR });
    if (deps.ownsServer || ctx.base !== '') installNotFoundHandler(app, { onOAuthError: (e) => metrics.errors.inc({ error: e }) }, renderer(ctx));

    const cors = corsFor(ctx);
    const corsPaths = new Map<string, Set<string>>([
      ['/oauth/token', new Set(['POST'])],
      ['/.well-known/oauth-authorization-server', new Set(['GET'])],
      ['/.well-known/jwks.json', new Set(['GET'])],
    ]);
    for (const e of ctx.features.endpoints.filter((x) => x.cors)) corsPaths.set(e.path, new Set([...(corsPaths.get(e.path) ?? []), e.method]));
    for (const [path, methods] of corsPaths) preflight(app, path, cors, [...methods]);

    oauthRoutes(app, ctx, { cors });
    authorizeRoutes(app, ctx);
    if (ctx.features.has('openid-connect')) endSessionRoutes(app, ctx);
    if (ctx.features.has('device-code')) deviceRoutes(app, ctx);
    apiRoutes(app, ctx);
    adminApiRoutes(app, ctx);
    loginRequestRoutes(app, ctx);
    opsRoutes(app, ctx, metrics);
    if (ctx.features.has('client-id-metadata-document')) clientLogoRoutes(app, ctx);
    pageRoutes(app, ctx);
    // The compatibility paths that fall inside the issuer's path (all of them when it has none).
    compatRoutes(app, ctx, { cors, under: ctx.base, ownsServer: deps.ownsServer });
    if (!(ctx.base === '' && deps.ownsServer && ctx.config.compat.includes('anyfetch'))) {
      // A signed-in person lands on the developer portal; anyone else on the API reference.
      app.get('/', { config: { page: true } }, async (request, reply) =>
        reply.redirect((await ctx.login.current(request)) ? `${ctx.base}/developers` : `${ctx.base}/docs`, 303),
      );
    }
  };
}

function preflight(app: FastifyInstance, path: string, cors: Cors, methods: readonly string[]): void {
  app.options(path, async (request, reply) => {
    cors(reply, request.headers.origin);
    return reply
      .code(204)
      .header('Access-Control-Allow-Methods', methods.join(', '))
      // MCP clients send their protocol version with discovery requests.
      .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, MCP-Protocol-Version')
      .header('Access-Control-Max-Age', '600')
      .send();
  });
}

/**
 * Routes at the host's root that an issuer with a path implies: the path-inserted metadata
 * document, and the compatibility paths of the enabled profiles (which are the seed platforms'
 * own root paths). Nothing when the issuer has no path: everything is in `instanceRoutes` then.
 */
export function rootRoutes(deps: PluginDeps, redis: Redis | null): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { ctx } = deps;
    if (ctx.base === '') return;
    await installCommon(app, deps, redis);
    const cors = corsFor(ctx);
    // RFC 8414 §3.1: the well-known suffix is inserted between the host and the issuer's path.
    app.get(`/.well-known/oauth-authorization-server${ctx.base}`, async (request, reply) => metadataReply(ctx, request, reply, cors));
    preflight(app, `/.well-known/oauth-authorization-server${ctx.base}`, cors, ['GET']);
    for (const endpoint of ctx.features.endpoints) {
      if (endpoint.wellKnown !== true || !endpoint.path.startsWith('/.well-known/')) continue;
      app.route({ method: endpoint.method, url: `${endpoint.path}${ctx.base}`, handler: (request, reply) => runEndpoint(ctx, endpoint, request, reply, cors) });
      if (endpoint.cors) preflight(app, `${endpoint.path}${ctx.base}`, cors, [endpoint.method]);
    }
    // RFC 9728 §3.1: the API's metadata is path-inserted at the host's root too.
    apiMetadataRoute(app, ctx);
    compatRoutes(app, ctx, { cors, under: null, ownsServer: deps.ownsServer });
  };
}

/** The canonical form of a mount prefix: `''`, or `/a/b` without a trailing slash. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  return `/${prefix.replace(/^\/+|\/+$/g, '')}`;
}

/**
 * `tollgate.plugin`: registers the instance under its issuer's path and the root-level routes.
 * Registered with `{ prefix }`, the prefix must be the issuer's path (a mismatch would publish
 * endpoints that 404); registered without one, the issuer's path is used.
 */
export function tollgatePlugin(deps: PluginDeps): FastifyPluginAsync<TollgatePluginOptions> {
  const plugin: FastifyPluginAsync<TollgatePluginOptions> = async (host, opts) => {
    const mount = `${normalizePrefix(host.prefix)}${normalizePrefix(opts.prefix ?? deps.ctx.base)}`;
    if (mount !== deps.ctx.base) {
      throw new Error(
        `Tollgate is registered under "${mount || '/'}" but its issuer ${deps.ctx.config.issuer} has the path "${deps.ctx.base || '/'}": ` +
          `register it with { prefix: '${deps.ctx.base || '/'}' } (or change the issuer)`,
      );
    }
    const redis = redisFor(host, deps.ctx);
    await host.register(instanceRoutes(deps, redis), { prefix: normalizePrefix(opts.prefix ?? deps.ctx.base) });
    if (normalizePrefix(host.prefix) === '') await host.register(rootRoutes(deps, redis));
  };
  // Runs in the host's context (fastify-plugin) so that it can place the two children itself;
  // each child is encapsulated.
  return fp(plugin, { fastify: '5.x', name: `tollgate:${deps.ctx.config.issuer}` });
}
