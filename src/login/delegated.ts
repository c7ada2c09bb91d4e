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
import type { LoginDriver } from './types.js';
import { endSession, readSession } from './sessions.js';

export function delegatedLogin(ctx: OAuthContext, loginUrl: string): LoginDriver {
  return {
    mode: 'delegated',
    current: (request) => readSession(ctx, request),
    async begin(_request, reply, waiting) {
      const url = new URL(loginUrl);
      url.searchParams.set('login_challenge', waiting.interaction);
      return reply.code(303).header('Cache-Control', 'no-store').header('Location', url.href).send();
    },
    end: (request, reply) => endSession(ctx, request, reply),
    logoutUrl: null,
  };
}
