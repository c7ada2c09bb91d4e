/** Admin REST API under /admin/api/ (A10). Filled in by the admin-API work. */
import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';

export function adminApiRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  void app;
  void ctx;
}
