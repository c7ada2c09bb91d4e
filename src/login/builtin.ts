/** The built-in login: Tollgate's password form at `/login` and its own session cookie. */
import type { OAuthContext } from '../oauth/context.js';
import type { LoginDriver } from './types.js';
import { completeWithSession, endSession, readSession } from './sessions.js';

export function builtinLogin(ctx: OAuthContext): LoginDriver {
  return {
    mode: 'builtin',
    current: (request) => readSession(ctx, request),
    async begin(_request, reply, waiting) {
      const q = new URLSearchParams({ return_to: waiting.resumePath });
      if (waiting.hints.loginHint) q.set('login_hint', waiting.hints.loginHint.slice(0, 320));
      return reply.code(303).header('Cache-Control', 'no-store').header('Location', `${ctx.base}/login?${q.toString()}`).send();
    },
    complete: async (request, _reply, waiting) => completeWithSession(ctx, await readSession(ctx, request), waiting),
    end: (request, reply) => endSession(ctx, request, reply),
    logoutUrl: null,
  };
}
