/**
 * Tollgate's own protected API (R1, R2): `GET /api/` tells who a token is for, in the shape
 * AnyFetch documents; `GET /api/me` returns the user (scope `profile`). Bearer checks go through
 * the resource-server toolkit (plugins/bearer.ts), reading the database on every request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import { defaultAudience } from '../../oauth/context.js';
import { requireBearer, verifierFor } from '../plugins/bearer.js';
import { RESOURCE_METADATA_PREFLIGHT, resourceMetadataResponse } from '../../resource/index.js';

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

/**
 * RFC 9728: the protected resource metadata of Tollgate's own API, at
 * `/.well-known/oauth-protected-resource<issuer path>/api` on the issuer's host (with the scopes
 * this instance knows). Registered by `apiRoutes` when the issuer has no path, else at the root.
 */
export function apiMetadataRoute(app: FastifyInstance, ctx: OAuthContext): void {
  const metadata = verifierFor(ctx, defaultAudience(ctx.config)).resourceMetadata;
  if (metadata === null) return;
  app.get(metadata.path, async (_request, reply) => {
    const r = resourceMetadataResponse(metadata);
    const scopes = (await ctx.storage.scopes.list()).map((sc) => sc.name).filter((name) => name !== 'login');
    return reply.code(r.status).headers(r.headers).send({ ...r.body, scopes_supported: [...ctx.features.personScopes, ...scopes.filter((name) => !ctx.features.personScopes.includes(name))] });
  });
  app.options(metadata.path, async (_request, reply) => reply.code(204).headers(RESOURCE_METADATA_PREFLIGHT).send());
}

export function apiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  const audience = defaultAudience(ctx.config);
  if (ctx.base === '') apiMetadataRoute(app, ctx);

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
