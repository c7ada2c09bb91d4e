/**
 * Tollgate's own browser sessions (Z3), used by the built-in and the delegated login: the
 * `tg_session` cookie is random and stored only as a SHA-256 hash; HttpOnly, SameSite=Lax, Secure
 * when the issuer is https, limited to the instance's path. Signing in again in a browser ends
 * that browser's previous session.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { OAuthContext } from '../oauth/context.js';
import type { SessionKind } from '../storage/types.js';
import { PREFIX, randomToken, sha256, sidOf } from '../oauth/crypto.js';
import { CSRF_COOKIE, SESSION_COOKIE, cookieOptions } from '../http/session.js';
import type { InteractionRow } from '../storage/types.js';
import type { Completion, Session } from './types.js';


function sessionHash(request: FastifyRequest): string | null {
  const raw = request.cookies[SESSION_COOKIE];
  return raw && raw.length <= 200 ? sha256(raw) : null;
}

/** The person signed in with Tollgate's own session cookie, or null. */
export async function readSession(ctx: OAuthContext, request: FastifyRequest): Promise<Session | null> {
  const hash = sessionHash(request);
  if (hash === null) return null;
  const session = await ctx.storage.sessions.byHash(hash);
  if (!session || session.expiresAt <= ctx.now() || session.endedAt !== null) return null;
  const account = await ctx.accounts.byId(session.userId);
  if (!account || account.disabled) return null;
  return { account, authTime: session.authTime, amr: session.amr, acr: session.acr, sid: sidOf(hash) };
}

export interface SessionOptions {
  readonly kind: SessionKind;
  /** When the person signed in, epoch ms (default: now). */
  readonly authTime?: number;
  readonly amr?: readonly string[] | null;
  readonly acr?: string | null;
  /** Seconds the sign-in lasts (default: TOLLGATE_SESSION_TTL). */
  readonly ttlSeconds?: number;
  /** False: a browser-session cookie (no expiry date; ends when the browser closes). Default true. */
  readonly persistent?: boolean;
}

/** Starts a session; returns its `sid`. */
export async function startSession(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, userId: string, opts: SessionOptions): Promise<string> {
  const previous = sessionHash(request);
  // Signing in again ends this browser's previous session (and the applications' sessions tied to it).
  if (previous !== null && (await ctx.storage.sessions.delete(previous))) ctx.features.sessionsEnded(ctx, { sids: [sidOf(previous)] });
  const raw = randomToken(PREFIX.session);
  const now = ctx.now();
  const ttl = opts.ttlSeconds ?? ctx.config.sessionTtl;
  const idHash = sha256(raw);
  await ctx.storage.sessions.create({
    idHash,
    userId,
    expiresAt: now + ttl * 1000,
    createdAt: now,
    authTime: opts.authTime ?? now,
    amr: opts.amr ?? null,
    acr: opts.acr ?? null,
    kind: opts.kind,
  });
  reply.setCookie(SESSION_COOKIE, raw, cookieOptions(ctx, opts.persistent === false ? undefined : ttl));
  reply.setCookie(CSRF_COOKIE, randomToken('', 24), cookieOptions(ctx));
  return sidOf(idHash);
}

export async function endSession(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const hash = sessionHash(request);
  if (hash !== null && (await ctx.storage.sessions.delete(hash))) ctx.features.sessionsEnded(ctx, { sids: [sidOf(hash)] });
  reply.clearCookie(SESSION_COOKIE, { path: cookieOptions(ctx).path });
}

export const EXPIRED: Completion = {
  kind: 'refused',
  status: 400,
  title: 'This sign-in link has expired',
  message: 'It was already used, or it is too old. Go back to the application and start again.',
  code: 'invalid_request',
};

/** Built-in and embedded login: the person is back signed in (or not), and the waiting sign-in is used up. */
export async function completeWithSession(ctx: OAuthContext, session: Session | null, waiting: InteractionRow): Promise<Completion> {
  if (!session) {
    return { kind: 'refused', status: 401, title: 'You are not signed in', message: 'The sign-in did not complete. Go back to the application and try again.', code: 'login_required' };
  }
  if (!(await ctx.storage.interactions.consume(waiting.idHash, ctx.now()))) return EXPIRED;
  return { kind: 'signed-in', session };
}
