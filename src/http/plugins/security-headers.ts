/**
 * Security headers on every response (docs/security.md "Pages"): no framing (`X-Frame-Options: DENY`
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

/** A URI as a CSP source: its origin for http(s), its scheme for a custom scheme; null if unusable. */
function sourceOf(uri: string): string | null {
  let source: string;
  try {
    const u = new URL(uri);
    source = u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : u.protocol;
  } catch {
    return null;
  }
  // A source expression cannot carry quotes, semicolons or commas (the URIs were validated already).
  return /[\s;,'"]/.test(source) ? null : source;
}

/**
 * A page's policy. Browsers apply `form-action` to every redirect that follows a form's POST, so
 * a page's forms may go, besides Tollgate itself:
 * - to the platform's sign-in page of delegated login (TOLLGATE_LOGIN_URL), where any form is sent
 *   when the session has ended meanwhile;
 * - to `target`, where this page's form is known to lead: the validated redirect URI of the
 *   consent page's (or a waiting sign-in's) request, or a sign-out's registered return.
 */
export function pageCsp(config: { readonly loginUrl: string | null }, target?: string): string {
  const sources = [config.loginUrl, target].filter((u): u is string => typeof u === 'string').map(sourceOf);
  const extra = [...new Set(sources.filter((s): s is string => s !== null))];
  return extra.length === 0 ? CSP : [...DIRECTIVES, `form-action 'self' ${extra.join(' ')}`].join('; ');
}

export function installSecurityHeaders(app: FastifyInstance, opts: { https: boolean; csp: string }): void {
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
    if (!reply.hasHeader('content-security-policy')) reply.header('Content-Security-Policy', opts.csp);
    done(null, payload);
  });
}
