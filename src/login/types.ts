/**
 * The login port (docs/design.md habit 13): the protocol asks "who is this, and since when?" and
 * "send them to sign in". Three implementations:
 * - builtin (./builtin.ts): Tollgate's own password form and session cookie — the default;
 * - embedded (./embedded.ts): the host's own session (createTollgate's `login` option);
 * - delegated (./delegated.ts): the platform's login page, through a login challenge that the
 *   platform accepts or rejects over the admin API (TOLLGATE_LOGIN_URL).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '../accounts/types.js';
import type { LoginMode } from '../oauth/context.js';
import type { OAuthErrorCode } from '../oauth/errors.js';
import type { InteractionRow } from '../storage/types.js';

/** Who the host says is signed in on a request (embedded mode). */
export interface SignedIn {
  /** The host's stable id for the person (their `sub`). */
  readonly subject: string;
  /** The host's session id, for `tollgate.endSession(sessionId)` (and, later, OpenID Connect `sid`). */
  readonly sessionId: string | null;
  /** When the person signed in, in seconds since the epoch (OpenID Connect `auth_time`). */
  readonly authTime: number;
  /** Authentication methods used (RFC 8176), e.g. `["pwd", "otp"]`. */
  readonly amr?: readonly string[];
  readonly acr?: string;
}

/** What the authorization request asks of the sign-in. */
export interface LoginHints {
  /** The `prompt` values still to satisfy (`login`). */
  readonly prompt: readonly string[];
  /** `max_age` in seconds, or null. */
  readonly maxAge: number | null;
  readonly loginHint: string | null;
}

/** The host's login (option `login` of createTollgate). */
export interface HostLogin {
  /** The person signed in on this request, or null. `request.raw` is the Node request the host's framework saw. */
  currentUser(request: FastifyRequest): Promise<SignedIn | null> | SignedIn | null;
  /** The host's sign-in page, which sends the person back to `returnTo` (a path on this site) once signed in. */
  loginUrl(returnTo: string, hints: LoginHints): Promise<string> | string;
  /** The host's sign-out page, linked from Tollgate's pages ("Not you?"); none by default. */
  readonly logoutUrl?: string;
}

/** A signed-in person, as every login mode reports it. */
export interface Session {
  readonly account: Account;
  /** When they signed in, epoch ms. */
  readonly authTime: number;
  readonly amr: readonly string[] | null;
  readonly acr: string | null;
  /**
   * The session's id as applications see it (OpenID Connect `sid`): derived from the stored
   * session's key, so it names the session without being usable as its cookie. Null when the
   * host reports no session id.
   */
  readonly sid: string | null;
}

/** How a sign-in detour ended, once the browser is back (`/oauth/authorize/resume`). */
export type Completion =
  | { readonly kind: 'signed-in'; readonly session: Session }
  /** The platform refused (delegated login): the application receives this error. */
  | { readonly kind: 'rejected'; readonly error: OAuthErrorCode; readonly description: string }
  /** The detour cannot go on: shown to the person as a page. */
  | { readonly kind: 'refused'; readonly status: number; readonly title: string; readonly message: string; readonly code: string };

export interface LoginDriver {
  readonly mode: LoginMode;
  current(request: FastifyRequest): Promise<Session | null>;
  /**
   * Answers with a redirect that sends the person to sign in. `interaction` is the id of the
   * waiting request; the person comes back to `resumePath` (built-in and embedded) or, delegated,
   * through the `redirect_to` the platform received on accepting.
   */
  begin(request: FastifyRequest, reply: FastifyReply, waiting: { readonly interaction: string; readonly resumePath: string; readonly hints: LoginHints }): Promise<FastifyReply>;
  /**
   * The browser is back from signing in for `waiting` (already checked to be this browser's, not
   * expired, not used): who signed in, with the waiting sign-in used up. `query` is the way back's
   * query string (the delegated login's verifier).
   */
  complete(request: FastifyRequest, reply: FastifyReply, waiting: InteractionRow, query: URLSearchParams): Promise<Completion>;
  /** Ends this browser's sign-in with Tollgate (its own sessions; the host's are the host's). */
  end(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Where "sign out" goes; null for Tollgate's own page. */
  readonly logoutUrl: string | null;
}
