/**
 * Security headers on every response (SECURITY.md "Pages"): no framing (`X-Frame-Options: DENY`
 * and CSP `frame-ancestors 'none'`), no referrer, no sniffing, no third-party resources, and no
 * inline scripts. Responses that carry a token, code or secret also get `Cache-Control: no-store`
 * (set by the routes that send them).
 */
import type { FastifyInstance } from 'fastify';

export const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function installSecurityHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Content-Security-Policy', CSP);
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    if (opts.https) reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    return payload;
  });
}
