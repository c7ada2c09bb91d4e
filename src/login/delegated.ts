/**
 * Delegated login (issue #11 §3), for platforms not written in Node: Tollgate runs as its own
 * service and sends the browser to `TOLLGATE_LOGIN_URL?login_challenge=<challenge>`. The platform
 * signs the person in its own way, then accepts or rejects the challenge over the admin API
 * (src/http/routes/login-requests.ts) and sends the browser to the `redirect_to` it received.
 * The challenge is the id of the waiting sign-in (src/http/interactions.ts): opaque, single-use,
 * short-lived, and bound to the browser that started it. Once accepted, the person has a Tollgate
 * session like a built-in sign-in.
 */
import type { OAuthContext } from '../oauth/context.js';
import type { OAuthErrorCode } from '../oauth/errors.js';
import { sha256 } from '../oauth/crypto.js';
import type { InteractionRow } from '../storage/types.js';
import type { LoginDriver } from './types.js';
import { EXPIRED, endSession, readSession, startSession } from './sessions.js';

/** The platform's answer, as kept with the waiting sign-in (the verifier only as a hash). */
export type LoginAnswer =
  | {
      readonly type: 'accept';
      readonly subject: string;
      readonly profile: Readonly<Record<string, unknown>>;
      /** Epoch ms. */
      readonly authTime: number;
      readonly amr: readonly string[] | null;
      readonly acr: string | null;
      readonly remember: boolean;
      readonly rememberFor: number | null;
      readonly verifierHash: string;
    }
  | { readonly type: 'reject'; readonly error: OAuthErrorCode; readonly description: string; readonly verifierHash: string };

/** The answer recorded for this waiting sign-in, if `verifier` is the one its `redirect_to` carries. */
export function recordedAnswer(row: InteractionRow, verifier: unknown): LoginAnswer | null {
  if (row.result === null || typeof verifier !== 'string' || verifier.length > 100) return null;
  let answer: LoginAnswer;
  try {
    answer = JSON.parse(row.result) as LoginAnswer;
  } catch {
    return null;
  }
  return answer.verifierHash === sha256(verifier) ? answer : null;
}

export function delegatedLogin(ctx: OAuthContext, loginUrl: string): LoginDriver {
  return {
    mode: 'delegated',
    current: (request) => readSession(ctx, request),
    async begin(_request, reply, waiting) {
      const url = new URL(loginUrl);
      url.searchParams.set('login_challenge', waiting.interaction);
      return reply.code(303).header('Cache-Control', 'no-store').header('Location', url.href).send();
    },
    async complete(request, reply, waiting, query) {
      const answer = recordedAnswer(waiting, query.get('verifier'));
      if (answer === null) {
        return { kind: 'refused', status: 400, title: 'The sign-in is not finished', message: 'The platform has not confirmed this sign-in. Go back to the application and start again.', code: 'invalid_request' };
      }
      if (!(await ctx.storage.interactions.consume(waiting.idHash, ctx.now()))) return EXPIRED;
      if (answer.type === 'reject') return { kind: 'rejected', error: answer.error, description: answer.description };
      // The person's row, keyed by the platform's subject, with what the platform said.
      const admin = ctx.config.adminSubjects.includes(answer.subject);
      if (!(await ctx.storage.users.upsertExternal({ id: answer.subject, profile: answer.profile, isAdmin: admin }, ctx.now()))) {
        return { kind: 'refused', status: 409, title: 'This account cannot sign in here', message: 'The platform named an account that Tollgate keeps for itself.', code: 'access_denied' };
      }
      const sid = await startSession(ctx, request, reply, answer.subject, {
        kind: 'delegated',
        authTime: answer.authTime,
        amr: answer.amr,
        acr: answer.acr,
        ...(answer.rememberFor !== null ? { ttlSeconds: answer.rememberFor } : {}),
        persistent: answer.remember,
      });
      await ctx.audit.record('login.succeeded', { actorUserId: answer.subject, ip: request.ip, details: { via: 'delegated' } });
      const account = await ctx.accounts.byId(answer.subject);
      if (!account || account.disabled) return EXPIRED;
      return { kind: 'signed-in', session: { account, authTime: answer.authTime, amr: answer.amr, acr: answer.acr, sid } };
    },
    end: (request, reply) => endSession(ctx, request, reply),
    logoutUrl: null,
  };
}
