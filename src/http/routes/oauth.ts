/**
 * Protocol routes: token, revocation, introspection, metadata, JWKS, registration. Thin: parse,
 * call the core, serialise (DESIGN.md habit 6).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { handleTokenRequest } from '../../oauth/token.js';
import { handleRevocation } from '../../oauth/revocation.js';
import { handleIntrospection } from '../../oauth/introspection.js';
import { serverMetadata } from '../../oauth/metadata.js';
import { deleteRegistration, readRegistration, register, updateRegistration } from '../../oauth/registration.js';
import { bodyObject, bodyParams, queryParams } from '../plugins/body.js';

function noStore(reply: FastifyReply): FastifyReply {
  // RFC 6749 §5.1: "Cache-Control: no-store" on every response that carries a token or secret.
  return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
}

export function oauthRoutes(app: FastifyInstance, ctx: OAuthContext, opts: { cors: (reply: FastifyReply, origin: string | undefined) => void }): void {
  // O7: the password grant has the per-IP sign-in limit (like the login form); other grants are not limited here.
  const passwordGrantOnly = (request: FastifyRequest): boolean => {
    try {
      return bodyParams(request).get('grant_type')?.[0] !== 'password';
    } catch {
      return true;
    }
  };
  const tokenConfig = { rateLimit: { max: ctx.config.loginRateLimit, timeWindow: 60_000, hook: 'preHandler' as const, allowList: passwordGrantOnly } };
  app.post('/oauth/token', { config: tokenConfig }, async (request, reply) => {
    opts.cors(reply, request.headers.origin);
    const response = await handleTokenRequest(ctx, {
      params: bodyParams(request),
      query: queryParams(request),
      authorization: request.headers.authorization,
      ip: request.ip,
    });
    return noStore(reply).send(response);
  });

  app.post('/oauth/revoke', async (request, reply) => {
    opts.cors(reply, request.headers.origin);
    await handleRevocation(ctx, { params: bodyParams(request), authorization: request.headers.authorization, ip: request.ip });
    // RFC 7009 §2.2: 200 whether or not the token existed.
    return noStore(reply).code(200).send();
  });

  app.post('/oauth/introspect', async (request, reply) => {
    const response = await handleIntrospection(ctx, { params: bodyParams(request), authorization: request.headers.authorization });
    return noStore(reply).send(response);
  });

  app.get('/.well-known/oauth-authorization-server', async (request, reply) => {
    opts.cors(reply, request.headers.origin);
    const scopes = (await ctx.storage.scopes.list()).map((s) => s.name);
    return reply.header('Cache-Control', 'public, max-age=300').send(serverMetadata(ctx.config, scopes));
  });

  app.get('/.well-known/jwks.json', async (request, reply) => {
    opts.cors(reply, request.headers.origin);
    return reply.header('Cache-Control', 'public, max-age=60').type('application/jwk-set+json').send(await ctx.keys.jwks());
  });

  app.post('/oauth/register', async (request, reply) => {
    const response = await register(ctx, bodyObject(request), request.headers.authorization, request.ip);
    return noStore(reply).code(201).send(response);
  });
  app.get<{ Params: { clientId: string } }>('/oauth/register/:clientId', async (request, reply) => {
    return noStore(reply).send(await readRegistration(ctx, request.params.clientId, request.headers.authorization));
  });
  app.put<{ Params: { clientId: string } }>('/oauth/register/:clientId', async (request, reply) => {
    const response = await updateRegistration(ctx, request.params.clientId, bodyObject(request), request.headers.authorization, request.ip);
    return noStore(reply).send(response);
  });
  app.delete<{ Params: { clientId: string } }>('/oauth/register/:clientId', async (request, reply) => {
    await deleteRegistration(ctx, request.params.clientId, request.headers.authorization, request.ip);
    return reply.code(204).send();
  });
}
