/**
 * Security headers on every response (SECURITY.md "Pages"): no framing (`X-Frame-Options: DENY`
 * and CSP `frame-ancestors 'none'`), no referrer, no sniffing, no third-party resources, and no
 * inline scripts. Responses that carry a token, code or secret also get `Cache-Control: no-store`
 * (set by the routes that send them).
 */
import type { FastifyInstance } from 'fastify';

const DIRECTIVES = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

/** Every page's policy: forms post to Tollgate only (issue #15 §9). */
export const CSP = [...DIRECTIVES, "form-action 'self'"].join('; ');

/**
 * The consent page's policy. Browsers apply `form-action` to the redirect that follows a form's
 * POST too, so the page that posts Allow/Deny must also name where that 303 goes: the request's
 * validated redirect URI — its origin for http(s), its scheme for an app's custom scheme.
 */
export function cspWithFormTarget(redirectUri: string): string {
  let source: string;
  try {
    const u = new URL(redirectUri);
    source = u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : u.protocol;
  } catch {
    return CSP;
  }
  // A source expression cannot carry quotes, semicolons or commas (the URI was validated already).
  if (/[\s;,'"]/.test(source)) return CSP;
  return [...DIRECTIVES, `form-action 'self' ${source}`].join('; ');
}

export function installSecurityHeaders(app: FastifyInstance, opts: { https: boolean }): void {
  const headers: Record<string, string> = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(opts.https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(headers);
    // A route may set a stricter or a page-specific policy (the consent page's form target).
    if (!reply.hasHeader('content-security-policy')) reply.header('Content-Security-Policy', CSP);
    done(null, payload);
  });
}
