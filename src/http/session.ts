/**
 * Browser sessions of the built-in login (Z3) and CSRF protection for the people-facing forms.
 * - Session cookie `tg_session`: random, stored only as a SHA-256 hash; HttpOnly, SameSite=Lax,
 *   Secure when the issuer is https, limited to the instance's path.
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
import type { Account } from '../accounts/types.js';
import { PREFIX, randomToken, sha256 } from '../oauth/crypto.js';

export const SESSION_COOKIE = 'tg_session';
export const CSRF_COOKIE = 'tg_csrf';

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

export async function currentUser(ctx: OAuthContext, request: FastifyRequest): Promise<Account | null> {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw || raw.length > 200) return null;
  const session = await ctx.storage.sessions.byHash(sha256(raw));
  if (!session || session.expiresAt <= ctx.now()) return null;
  const account = await ctx.accounts.byId(session.userId);
  if (!account || account.disabled) return null;
  return account;
}

export async function startSession(ctx: OAuthContext, reply: FastifyReply, userId: string): Promise<void> {
  const raw = randomToken(PREFIX.session);
  const now = ctx.now();
  await ctx.storage.sessions.create({ idHash: sha256(raw), userId, expiresAt: now + ctx.config.sessionTtl * 1000, createdAt: now });
  reply.setCookie(SESSION_COOKIE, raw, cookieOptions(ctx, ctx.config.sessionTtl));
  reply.setCookie(CSRF_COOKIE, randomToken('', 24), cookieOptions(ctx));
}

export async function endSession(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const raw = request.cookies[SESSION_COOKIE];
  if (raw) await ctx.storage.sessions.delete(sha256(raw));
  reply.clearCookie(SESSION_COOKIE, { path: cookieOptions(ctx).path });
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
