/**
 * Waiting sign-ins (issue #11; docs/security.md "Sign-in detours"). When a person must sign in
 * before Tollgate can go on — an authorization request, or a page of the portal — the request is
 * kept whole on the server (an `interactions` row), never rebuilt from a URL, and the person is
 * sent to sign in with its id. The id is 256 bits of randomness, stored only hashed, valid for
 * TOLLGATE_LOGIN_REQUEST_TTL seconds, used once, and bound to the browser that started it: the
 * `tg_binding` cookie's hash is kept with it and checked when the browser comes back, so a link
 * opened in another browser does nothing. A delegated login's `login_challenge` is this id.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../oauth/context.js';
import type { InteractionRow } from '../storage/types.js';
import { randomToken, sha256 } from '../oauth/crypto.js';
import { BINDING_COOKIE, cookieOptions } from './session.js';

const BINDING = /^[A-Za-z0-9_-]{32,64}$/;
/** Interaction ids (and so login challenges) are recognisable, like every other Tollgate secret. */
const ID_PREFIX = 'tgl_';
const ID = /^tgl_[A-Za-z0-9_-]{43}$/;

/** The browser's binding value, set (for a day) when it has none. */
function browserBinding(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[BINDING_COOKIE];
  if (existing && BINDING.test(existing)) return existing;
  const value = randomToken('', 32);
  reply.setCookie(BINDING_COOKIE, value, cookieOptions(ctx, 86_400));
  return value;
}

export interface NewInteraction {
  readonly clientId: string | null;
  /** The authorization request as a query string ('' for a plain sign-in). */
  readonly request: string;
  readonly returnTo: string | null;
  readonly sessionSubject: string | null;
}

/** Stores a waiting sign-in and returns its id. */
export async function startInteraction(ctx: OAuthContext, request: FastifyRequest, reply: FastifyReply, input: NewInteraction): Promise<string> {
  const id = randomToken(ID_PREFIX);
  const now = ctx.now();
  await ctx.storage.interactions.create({
    idHash: sha256(id),
    browserHash: sha256(browserBinding(ctx, request, reply)),
    clientId: input.clientId,
    request: input.request,
    returnTo: input.returnTo,
    sessionSubject: input.sessionSubject,
    loginRequestedAt: now,
    createdAt: now,
    expiresAt: now + ctx.config.loginRequestTtl * 1000,
  });
  return id;
}

export function resumePath(ctx: OAuthContext, id: string): string {
  return `${ctx.base}/oauth/authorize/resume?interaction=${encodeURIComponent(id)}`;
}

/** A waiting sign-in by its id, whatever its state (admin API); null when unknown. */
export async function findInteraction(ctx: OAuthContext, id: unknown): Promise<InteractionRow | null> {
  if (typeof id !== 'string' || !ID.test(id)) return null;
  return ctx.storage.interactions.byHash(sha256(id));
}

export type Loaded =
  | { readonly ok: true; readonly row: InteractionRow }
  | { readonly ok: false; readonly status: number; readonly title: string; readonly message: string };

/** The waiting sign-in this browser comes back to, or why it cannot go on (nothing is consumed). */
export async function loadForBrowser(ctx: OAuthContext, request: FastifyRequest, id: unknown): Promise<Loaded> {
  const row = await findInteraction(ctx, id);
  if (!row || row.expiresAt <= ctx.now() || row.consumedAt !== null) {
    return { ok: false, status: 400, title: 'This sign-in link has expired', message: 'It was already used, or it is too old. Go back to the application and start again.' };
  }
  const binding = request.cookies[BINDING_COOKIE];
  if (!binding || !BINDING.test(binding) || sha256(binding) !== row.browserHash) {
    return {
      ok: false,
      status: 403,
      title: 'This sign-in was started in another browser',
      message: 'For your safety it can only be completed in the browser where it began. Go back to the application and start again here.',
    };
  }
  return { ok: true, row };
}

/** What a sign-in page needs of the authorization request waiting behind it. */
export interface WaitingRequest {
  /** The request's `ui_locales`, so the sign-in page speaks its language. */
  readonly uiLocales: string | null;
  /**
   * Where the sign-in's redirect chain may end (a remembered consent, an error): the request's
   * redirect URI, validated when it arrived — or the application's only one when it sent none.
   */
  readonly redirectUri: string | null;
}

/**
 * The authorization request waiting behind a sign-in page's `return_to`
 * (`…/oauth/authorize/resume?interaction=…`), read once; null for any other return, or a waiting
 * sign-in this browser cannot complete.
 */
export async function waitingRequest(ctx: OAuthContext, request: FastifyRequest, returnTo: string): Promise<WaitingRequest | null> {
  const prefix = `${ctx.base}/oauth/authorize/resume?`;
  if (!returnTo.startsWith(prefix)) return null;
  const id = new URLSearchParams(returnTo.slice(prefix.length)).get('interaction');
  const loaded = await loadForBrowser(ctx, request, id);
  if (!loaded.ok || loaded.row.clientId === null) return null;
  const params = new URLSearchParams(loaded.row.request);
  let redirectUri = params.get('redirect_uri');
  if (redirectUri === null) {
    const client = await ctx.storage.clients.byId(loaded.row.clientId);
    redirectUri = client?.redirectUris.length === 1 ? (client.redirectUris[0] ?? null) : null;
  }
  return { uiLocales: params.get('ui_locales'), redirectUri };
}
