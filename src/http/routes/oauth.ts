/**
 * Protocol routes: the token endpoint, metadata, JWKS, and every endpoint the instance's features
 * contribute (revocation, introspection, registration…). Thin: parse, call the core, serialise
 * (docs/design.md habit 6).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { Endpoint, EndpointRequest } from '../../oauth/feature.js';
import type { Params } from '../../oauth/params.js';
import { handleTokenRequest } from '../../oauth/token.js';
import { serverMetadata } from '../../oauth/metadata.js';
import { bodyObject, bodyParams, queryParams } from '../plugins/body.js';

export type Cors = (reply: FastifyReply, origin: string | undefined) => void;

export function noStore(reply: FastifyReply): FastifyReply {
  // RFC 6749 §5.1: "Cache-Control: no-store" on every response that carries a token or secret.
  return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
}

/** A feature endpoint's view of a Fastify request: each part read (and parsed) only when asked for. */
class EndpointRequestOf implements EndpointRequest {
  constructor(private readonly request: FastifyRequest) {}
  get params(): Params {
    return bodyParams(this.request);
  }
  get query(): Params {
    return queryParams(this.request);
  }
  get body(): Readonly<Record<string, unknown>> {
    return bodyObject(this.request);
  }
  get pathParams(): Readonly<Record<string, string>> {
    return (this.request.params ?? {}) as Record<string, string>;
  }
  get authorization(): string | undefined {
    return this.request.headers.authorization;
  }
  get ip(): string | null {
    return this.request.ip;
  }
}

/** Answers a request to a feature's endpoint (also used by the compatibility paths). */
export function runEndpoint(ctx: OAuthContext, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, cors: Cors): Promise<FastifyReply> {
  if (endpoint.cors) cors(reply, request.headers.origin);
  return endpoint.handle(ctx, new EndpointRequestOf(request)).then((response) => {
    noStore(reply).code(response.status);
    if (response.headers) reply.headers(response.headers);
    return response.body === undefined ? reply.send() : reply.send(response.body);
  });
}

/** The metadata document (RFC 8414), served at every path that names it. */
export async function metadataReply(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, cors: Cors): Promise<FastifyReply> {
  cors(reply, request.headers.origin);
  const scopes = (await ctx.storage.scopes.list()).map((s) => s.name);
  return reply.header('Cache-Control', 'public, max-age=300').send(serverMetadata(ctx, scopes));
}

/** The token endpoint (RFC 6749 §3.2) at `path`: `/oauth/token`, and the compatibility paths. */
export function tokenRoute(app: FastifyInstance, ctx: OAuthContext, path: string, cors: Cors): void {
  // O7: grants that check a person's password (the password grant) share the per-IP sign-in
  // limit of the login form; other grants are not limited here.
  const notSignIn = (request: FastifyRequest): boolean => {
    try {
      const type = bodyParams(request).get('grant_type')?.[0];
      return type === undefined || ctx.features.grant(type)?.signIn !== true;
    } catch {
      return true;
    }
  };
  const config = { clientAuth: true, rateLimit: { max: ctx.config.loginRateLimit, timeWindow: 60_000, hook: 'preHandler' as const, allowList: notSignIn } };
  app.post(path, { config }, async (request, reply) => {
    cors(reply, request.headers.origin);
    const response = await handleTokenRequest(ctx, {
      params: bodyParams(request),
      query: queryParams(request),
      authorization: request.headers.authorization,
      ip: request.ip,
    });
    return noStore(reply).send(response);
  });
}

export function oauthRoutes(app: FastifyInstance, ctx: OAuthContext, opts: { cors: Cors }): void {
  tokenRoute(app, ctx, '/oauth/token', opts.cors);

  app.get('/.well-known/oauth-authorization-server', async (request, reply) => metadataReply(ctx, request, reply, opts.cors));

  app.get('/.well-known/jwks.json', async (request, reply) => {
    opts.cors(reply, request.headers.origin);
    return reply.header('Cache-Control', 'public, max-age=60').type('application/jwk-set+json').send(await ctx.keys.jwks());
  });

  for (const endpoint of ctx.features.endpoints) {
    app.route({
      method: endpoint.method,
      url: endpoint.path,
      config: { clientAuth: endpoint.clientAuthentication === true, registration: endpoint.registration === true, bearer: endpoint.bearer === true },
      handler: (request, reply) => runEndpoint(ctx, endpoint, request, reply, opts.cors),
    });
  }
}
