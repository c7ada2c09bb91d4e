/**
 * Tollgate's own protected API (R1, R2): `GET /api/` tells who a token is for, in the shape
 * AnyFetch documents; `GET /api/me` returns the user (scope `profile`). Bearer checks go through
 * the resource-server toolkit (plugins/bearer.ts), reading the database on every request.
 */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import { requireBearer } from '../plugins/bearer.js';

export function apiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  const audience = defaultAudience(ctx.config);
  const base = ctx.config.issuer;

  app.get('/api/', { config: { bearer: true } }, async (request, reply) => {
    const token = await requireBearer(ctx, request, { audience, scopes: [] });
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
  });

  app.get('/api/me', { config: { bearer: true } }, async (request, reply) => {
    const token = await requireBearer(ctx, request, { audience, scopes: ['profile'] });
    return reply.header('Cache-Control', 'no-store').send({
      sub: token.subject,
      user_id: token.userId,
      ...(token.scopes.includes('email') || token.scopes.includes('profile') ? { email: token.userEmail } : {}),
      client_id: token.clientId,
      scope: token.scope,
    });
  });
}
