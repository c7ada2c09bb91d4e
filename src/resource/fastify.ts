/**
 * Fastify adapter: a plugin that checks the bearer token of every route in the scope it is
 * registered in (it is not encapsulated, like `fastify-plugin`), with per-route required scopes
 * in the route config:
 *
 *   app.register(fastifyBearer, { verifier });
 *   app.get('/documents', { config: { oauth: { scopes: ['documents:read'] } } }, handler);
 *   app.get('/healthz', { config: { oauth: false } }, handler);           // public
 *
 * A route without `oauth` config needs a valid token and no particular scope. The verified token
 * is `request.accessToken`. Refusals are answered by the hook itself (RFC 6750 status, JSON body
 * and `WWW-Authenticate`), so the application's error handler never has to know about them.
 *
 * Only types are imported from `fastify`: it is not needed at run time by users of other adapters.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BearerError, errorResponse, mergedHeaders } from './errors.js';
import { RESOURCE_METADATA_PREFLIGHT, resourceMetadataResponse } from './metadata.js';
import type { ScopeMode } from './scopes.js';
import type { VerifiedToken, Verifier } from './verifier.js';

/** Per-route settings, in the route's `config.oauth`. `false`: a public route. */
export interface RouteOAuthConfig {
  /** Scopes the route needs (default none: any valid token). */
  readonly scopes?: readonly string[];
  /** `all` (default) or `any` of `scopes`. */
  readonly mode?: ScopeMode;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Bearer-token requirements of the route (`tollgate/resource`); `false` for a public route. */
    oauth?: RouteOAuthConfig | false;
  }
  interface FastifyRequest {
    /** The verified access token, set by the `tollgate/resource` plugin on protected routes. */
    accessToken: VerifiedToken | null;
  }
}

export interface FastifyBearerOptions {
  readonly verifier: Verifier;
  /**
   * Serve the verifier's protected resource metadata (RFC 9728) at its well-known path (default
   * true when the verifier has one). The path is absolute: register the plugin at the root, or
   * serve the document yourself with `resourceMetadataResponse`.
   */
  readonly serveMetadata?: boolean;
}

/** Sends the RFC 6750 response for a `BearerError` (and a 500 for anything else). */
export function sendBearerError(reply: FastifyReply, err: unknown): FastifyReply {
  const r = errorResponse(err);
  return reply.code(r.status).headers(mergedHeaders(r.headers, (n) => reply.getHeader(n))).send(r.body);
}

const plugin: FastifyPluginAsync<FastifyBearerOptions> = async (app: FastifyInstance, opts: FastifyBearerOptions) => {
  const { verifier } = opts;
  if (!app.hasRequestDecorator('accessToken')) app.decorateRequest('accessToken', null);
  const metadata = verifier.resourceMetadata;
  if (metadata !== null && opts.serveMetadata !== false) {
    const url = metadata.path.split('?')[0] ?? metadata.path;
    app.get(url, { config: { oauth: false } }, async (_request, reply) => {
      const r = resourceMetadataResponse(metadata);
      return reply.code(r.status).headers(mergedHeaders(r.headers, (n) => reply.getHeader(n))).send(r.body);
    });
    app.options(url, { config: { oauth: false } }, async (_request, reply) => reply.code(204).headers(RESOURCE_METADATA_PREFLIGHT).send());
  }
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404) return;
    const config = request.routeOptions.config.oauth;
    if (config === false) return;
    try {
      request.accessToken = await verifier.verify(request.headers.authorization, {
        scopes: config?.scopes ?? [],
        mode: config?.mode ?? 'all',
        url: request.url,
      });
    } catch (err) {
      if (!(err instanceof BearerError)) throw err;
      if (err.status >= 500) request.log.error({ err: { type: err.name, message: err.detail ?? err.message } }, 'access token could not be checked');
      return sendBearerError(reply, err);
    }
  });
};

// Not encapsulated (what `fastify-plugin` does): the hook applies where the plugin is registered.
Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'tollgate-resource' });

export const fastifyBearer: FastifyPluginAsync<FastifyBearerOptions> = plugin;
