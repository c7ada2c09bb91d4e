/**
 * Registers the people-facing pages of issue #3 beyond sign-in and consent (those stay in
 * authorize.ts): the developer portal, connected applications, the admin back-office, and the
 * assets they use (copy buttons, the instance's brand colour).
 */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { HttpContext } from '../context.js';
import { COPY_JS } from '../assets/index.js';
import { brandCss } from '../views/layout.js';
import { portalRoutes } from './portal.js';
import { accountRoutes } from './account.js';
import { adminPageRoutes } from './admin-pages.js';

export function pageRoutes(app: FastifyInstance, ctx: HttpContext): void {
  // Email (A9) is sent by the runtime's appCreated event, whichever way an application is created.
  const css = brandCss(ctx.branding);
  app.get('/assets/copy.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(COPY_JS),
  );
  app.get('/assets/brand.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(css),
  );

  portalRoutes(app, ctx);
  accountRoutes(app, ctx);
  adminPageRoutes(app, ctx);
}
