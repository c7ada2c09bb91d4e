/**
 * Tollgate's own protected API (R1, R2): `GET /api/` tells who a token is for, in the shape
 * AnyFetch documents; `GET /api/me` returns the user (scope `profile`). Bearer checks go through
 * the resource-server toolkit (plugins/bearer.ts), reading the database on every request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import { requireBearer } from '../plugins/bearer.js';

/** R1: who a token is for, in the shape AnyFetch documents (also its `GET /` with the compat profile). */
export async function apiRootReply(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const base = ctx.config.issuer;
  const token = await requireBearer(ctx, request, { audience: defaultAudience(ctx.config), scopes: [] });
  return reply.header('Cache-Control', 'no-store').send({
    user_id: token.userId,
    user_email: token.userEmail,
    client_id: token.clientId,
    scope: token.scope,
    urls: {
      self: `${base}/api/`,
      me: `${base}/api/me`,
      documentation: `${base}/docs`,
      openapi: `${base}/openapi.json`,
    },
    server_time: new Date(ctx.now()).toISOString(),
  });
}

export function apiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  const audience = defaultAudience(ctx.config);

  app.get('/api/', { config: { bearer: true } }, async (request, reply) => apiRootReply(ctx, request, reply));

  app.get('/api/me', { config: { bearer: true } }, async (request, reply) => {
    const token = await requireBearer(ctx, request, { audience, scopes: ['profile'] });
    // What may be said about the person for the token's scopes: Tollgate's own users, or the
    // host's `accounts.claims` for the people a host platform owns.
    const claims = token.userId === null || !ctx.accounts.richClaims ? null : await ctx.accounts.claims(token.userId, token.scopes);
    return reply.header('Cache-Control', 'no-store').send({
      ...claims,
      sub: token.subject,
      user_id: token.userId,
      ...(token.scopes.includes('email') || token.scopes.includes('profile') ? { email: token.userEmail } : {}),
      client_id: token.clientId,
      scope: token.scope,
    });
  });
}
