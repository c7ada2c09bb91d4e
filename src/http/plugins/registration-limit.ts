/**
 * Registrations per client IP (issue #15 §3): every registration path (RFC 7591 at
 * `/oauth/register`, Gancio's `/api/client`, and the first use of a Client ID Metadata Document
 * client) counts toward one TOLLGATE_REGISTRATION_RATE_LIMIT per IP per hour; beyond it the answer
 * is `429 temporarily_unavailable` with `Retry-After`. Counted in Redis when configured (shared by
 * every process), otherwise in this process's memory; a Redis error never blocks a registration.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { OAuthError } from '../../oauth/errors.js';
import { createCounter } from './auth-failures.js';

const WINDOW_MS = 3_600_000;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A registration path: limited per client IP (plugins/registration-limit.ts). */
    registration?: boolean;
  }
}

export function installRegistrationLimit(app: FastifyInstance, opts: { readonly limit: number; readonly redis: Redis | null }): void {
  const counter = createCounter(opts.redis, 'tollgate-reg-', WINDOW_MS);
  const limit = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method !== 'POST') return;
    let count: number;
    try {
      count = await counter.hit(`ip:${request.ip}`);
    } catch {
      return;
    }
    if (count > opts.limit) {
      reply.header('Retry-After', String(WINDOW_MS / 1000));
      throw new OAuthError('temporarily_unavailable', `Too many registrations from this address; at most ${opts.limit} an hour`, 429);
    }
  };
  // Attached only to the routes marked `config.registration`, so no other request pays for an
  // extra async hook (a global preHandler cost the token endpoint ~15 % of its throughput).
  app.addHook('onRoute', (route) => {
    if (route.config?.registration !== true) return;
    const existing = route.preHandler;
    route.preHandler = existing === undefined ? [limit] : Array.isArray(existing) ? [...existing, limit] : [existing, limit];
  });
}
