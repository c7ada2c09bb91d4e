/**
 * Browser sessions (Z3) and CSRF protection for the people-facing forms.
 * - Session cookie `tg_session`: random, stored only as a SHA-256 hash; HttpOnly, SameSite=Lax,
 *   Secure when the issuer is https.
 * - CSRF: a double-submit token. The `tg_csrf` cookie (HttpOnly, SameSite=Lax) holds a random
 *   value that every form repeats in its hidden `csrf` field; another site can neither read nor
 *   set it. It is renewed at sign-in.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { OAuthContext } from '../oauth/context.js';
import type { Account } from '../accounts/types.js';
import { PREFIX, randomToken, sha256 } from '../oauth/crypto.js';

export const SESSION_COOKIE = 'tg_session';
export const CSRF_COOKIE = 'tg_csrf';

function cookieOptions(ctx: OAuthContext, maxAgeSeconds?: number) {
  return {
    path: '/',
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
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
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

/** Only same-site relative paths may be returned to after sign-in (no open redirect). */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string') return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\r\n]/.test(value)) return '/';
  return value.slice(0, 4096);
}
