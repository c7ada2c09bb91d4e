/**
 * Cookies of the people-facing pages (Tollgate's own sessions are in src/login/sessions.ts):
 * - every cookie is HttpOnly, SameSite=Lax, Secure when the issuer is https, limited to the
 *   instance's path;
 * - CSRF: a double-submit token. The `tg_csrf` cookie (HttpOnly, SameSite=Lax) holds a random
 *   value that every form repeats in its hidden `csrf` field; another site can neither read nor
 *   set it. It is renewed at sign-in.
 * - Return targets after sign-in and on the back-office (`return_to`, `back`) are same-site paths
 *   only, checked after URL normalisation (see `sameSitePath`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { OAuthContext } from '../oauth/context.js';
import { randomToken } from '../oauth/crypto.js';

export const SESSION_COOKIE = 'tg_session';
export const CSRF_COOKIE = 'tg_csrf';
/** Binds a waiting sign-in (src/http/interactions.ts) to the browser that started it. */
export const BINDING_COOKIE = 'tg_binding';

/** The attributes of every cookie Tollgate sets: its own path only, never the host's whole site. */
export function cookieOptions(ctx: Pick<OAuthContext, 'base' | 'config'>, maxAgeSeconds?: number) {
  return {
    path: ctx.base === '' ? '/' : ctx.base,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.config.issuer.startsWith('https:'),
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

/** The CSRF token for a form, creating the cookie when the browser has none. */
export function csrfToken(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return existing;
  const token = randomToken('', 24);
  reply.setCookie(CSRF_COOKIE, token, cookieOptions(ctx));
  return token;
}

export function csrfValid(request: FastifyRequest, submitted: unknown): boolean {
  const cookie = request.cookies[CSRF_COOKIE];
  if (typeof submitted !== 'string' || !cookie) return false;
  const a = Buffer.from(submitted);
  const b = Buffer.from(cookie);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A same-site return target, or null. The value is resolved against the issuer the way a browser
 * would resolve it, and kept only if the result has the issuer's origin, a normalised path under
 * `within` (default: the instance's own path) that does not start with `//`. Any character a
 * browser would silently drop or that cannot travel in a header (controls, TAB, whitespace,
 * non-ASCII) refuses the whole value, since the browser's reading of it may differ from ours.
 */
export function sameSitePath(ctx: Pick<OAuthContext, 'base' | 'config'>, value: unknown, within?: string): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096) return null;
  if (!value.startsWith('/') || /[^\x21-\x7e]/.test(value) || value.includes('\\')) return null;
  const origin = new URL(ctx.config.issuer).origin;
  let u: URL;
  try {
    u = new URL(value, `${origin}/`);
  } catch {
    return null;
  }
  if (u.origin !== origin || u.username !== '' || u.password !== '') return null;
  const path = `${u.pathname}${u.search}`;
  if (path.startsWith('//')) return null;
  const prefix = within ?? ctx.base;
  if (prefix !== '' && path !== prefix && !path.startsWith(`${prefix}/`) && !path.startsWith(`${prefix}?`)) return null;
  return path;
}

/** Only same-site paths may be returned to after sign-in (no open redirect); otherwise the portal. */
export function safeReturnTo(ctx: Pick<OAuthContext, 'base' | 'config'>, value: unknown): string {
  return sameSitePath(ctx, value) ?? `${ctx.base}/`;
}
