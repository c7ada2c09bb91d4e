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
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(opts.https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(headers);
    done(null, payload);
  });
}
