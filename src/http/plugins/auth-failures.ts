/**
 * Failed client authentication is limited per client IP and per presented client_id (issue #6,
 * RFC 6819 §5.1.4.2.3 "online guessing"): after `limit` failures (401 invalid_client) within a
 * minute, further requests to the client-authenticated endpoints get 429 until the window ends.
 * Successful requests are never counted. Counters live in Redis when configured (shared by every
 * process), otherwise in this process's memory; a Redis error never blocks a request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { OAuthError } from '../../oauth/errors.js';
import { bodyParams } from './body.js';

const WINDOW_MS = 60_000;

/** Counts per key within a fixed window, in this process's memory or in Redis (shared by every process). */
export interface Counter {
  /** Current counts of several keys, in one round trip. */
  getMany(keys: readonly string[]): Promise<number[]>;
  /** Adds one and returns the new count; the window starts at the first hit. */
  hit(key: string): Promise<number>;
}

export function createCounter(redis: Redis | null, prefix: string, windowMs: number): Counter {
  return redis ? redisCounter(redis, prefix, windowMs) : memoryCounter(windowMs);
}

function memoryCounter(WINDOW_MS: number): Counter {
  const entries = new Map<string, { count: number; until: number }>();
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
  }, WINDOW_MS);
  sweep.unref();
  return {
    async getMany(keys) {
      const now = Date.now();
      return keys.map((key) => {
        const e = entries.get(key);
        return e && e.until > now ? e.count : 0;
      });
    },
    async hit(key) {
      const now = Date.now();
      const e = entries.get(key);
      if (!e || e.until <= now) {
        entries.set(key, { count: 1, until: now + WINDOW_MS });
        return 1;
      }
      e.count += 1;
      return e.count;
    },
  };
}

function redisCounter(redis: Redis, prefix: string, WINDOW_MS: number): Counter {
  return {
    async getMany(keys) {
      return (await redis.mget(keys.map((key) => `${prefix}${key}`))).map((v) => Number(v ?? 0));
    },
    async hit(key) {
      const k = `${prefix}${key}`;
      const [[, count]] = (await redis.multi().incr(k).pexpire(k, WINDOW_MS, 'NX').exec()) as [[unknown, number], unknown];
      return count;
    },
  };
}

/** The client_id a request presents (HTTP Basic or body), without judging it. */
function presentedClientId(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  const m = auth ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(auth.trim()) : null;
  if (m) {
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return decoded.slice(0, Math.min(colon, 200));
  }
  try {
    return bodyParams(request).get('client_id')?.[0]?.slice(0, 200) ?? null;
  } catch {
    return null;
  }
}

export function installClientAuthLimits(
  app: FastifyInstance,
  opts: { readonly limit: number; readonly redis: Redis | null },
): void {
  const counter = createCounter(opts.redis, 'tollgate-af-', WINDOW_MS);
  const keys = (request: FastifyRequest): string[] => {
    const id = presentedClientId(request);
    return [`ip:${request.ip}`, ...(id ? [`client:${id}`] : [])];
  };
  // Routes that authenticate clients say so with `config: { clientAuth: true }` (the token
  // endpoint and the features' endpoints that declare `clientAuthentication`).
  const guarded = (request: FastifyRequest): boolean => request.method === 'POST' && request.routeOptions.config?.clientAuth === true;

  app.addHook('preHandler', async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!guarded(request)) return;
    let counts: number[];
    try {
      counts = await counter.getMany(keys(request));
    } catch {
      return;
    }
    if (counts.some((c) => c >= opts.limit)) {
      throw new OAuthError('temporarily_unavailable', 'Too many failed client authentications; try again in a minute', 429);
    }
  });

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (guarded(request) && reply.statusCode === 401) {
      void Promise.all(keys(request).map((k) => counter.hit(k))).catch(() => {});
    }
    done();
  });
}
