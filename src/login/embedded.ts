/**
 * Embedded login (issue #11 §2): the host's own session is the login. Tollgate asks the host's
 * `currentUser(request)` on every page that needs a person and sends them to the host's
 * `loginUrl(returnTo)` to sign in. Each session the host reports is remembered by its id (a row of
 * kind `host`, keyed by the hash of the id), so that `tollgate.endSession(sessionId)` ends
 * Tollgate's view of it even if the host were still to report it: a session the host ended
 * counts again only with a newer sign-in (`authTime`). The person's row is refreshed from the
 * host's accounts at each use.
 */
import type { OAuthContext } from '../oauth/context.js';
import { HostBackedAccounts } from '../accounts/builtin.js';
import { sha256, sidOf } from '../oauth/crypto.js';
import type { HostLogin, LoginDriver } from './types.js';
import { completeWithSession } from './sessions.js';

/** The row that stands for a host session in Tollgate's sessions table. */
export function hostSessionHash(sessionId: string): string {
  return sha256(`host\0${sessionId}`);
}

export function embeddedLogin(ctx: OAuthContext, host: HostLogin): LoginDriver {
  const accounts = ctx.accounts instanceof HostBackedAccounts ? ctx.accounts : null;
  const driver: LoginDriver = {
    mode: 'embedded',
    async current(request) {
      const who = await host.currentUser(request);
      if (!who || typeof who.subject !== 'string' || who.subject === '' || who.subject.length > 255) return null;
      const authTime = Number.isFinite(who.authTime) ? Math.floor(who.authTime * 1000) : ctx.now();
      const now = ctx.now();
      const account = accounts ? await accounts.refresh(who.subject, now) : await ctx.accounts.byId(who.subject);
      if (!account || account.disabled) return null;
      if (who.sessionId) {
        const hash = hostSessionHash(who.sessionId);
        const known = await ctx.storage.sessions.byHash(hash);
        if (known && known.userId === account.id) {
          if (known.endedAt !== null && authTime <= known.endedAt) return null;
        } else {
          // The host's session id now names another person: the earlier one's session is over.
          if (known && (await ctx.storage.sessions.delete(hash))) ctx.features.sessionsEnded(ctx, { sids: [sidOf(hash)] });
          await ctx.storage.sessions.create({ idHash: hash, userId: account.id, createdAt: now, expiresAt: now + ctx.config.sessionTtl * 1000, authTime, kind: 'host', amr: who.amr ?? null, acr: who.acr ?? null });
        }
      }
      return { account, authTime, amr: who.amr ?? null, acr: who.acr ?? null, sid: who.sessionId ? sidOf(hostSessionHash(who.sessionId)) : null };
    },
    async begin(_request, reply, waiting) {
      const location = await host.loginUrl(waiting.resumePath, waiting.hints);
      return reply.code(303).header('Cache-Control', 'no-store').header('Location', location).send();
    },
    complete: async (request, _reply, waiting) => completeWithSession(ctx, await driver.current(request), waiting),
    async end() {
      // The host owns the session: signing out happens on the host (see `logoutUrl`).
    },
    logoutUrl: host.logoutUrl ?? null,
  };
  return driver;
}
