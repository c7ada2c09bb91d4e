/** O8: expired codes, tokens and sessions are purged by a background job; storage stays bounded. */
import type { OAuthContext } from '../oauth/context.js';

export interface PurgeResult {
  readonly codes: number;
  readonly tokens: number;
  readonly sessions: number;
  readonly interactions: number;
}

/** Removes what expired (or was revoked) more than `graceMs` ago. */
export async function purgeExpired(ctx: OAuthContext, graceMs = 60_000): Promise<PurgeResult> {
  const before = ctx.now() - graceMs;
  const codes = await ctx.storage.codes.purgeExpired(before);
  const tokens = await ctx.storage.tokens.purgeExpired(before);
  const sessions = await ctx.storage.sessions.purgeExpired(before);
  const interactions = await ctx.storage.interactions.purgeExpired(before);
  return { codes, tokens, sessions, interactions };
}

export function startPurgeJob(ctx: OAuthContext, intervalSeconds: number, log: (line: string) => void): { stop(): void } {
  if (intervalSeconds <= 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeExpired(ctx)
      .then((r) => log(`purge: removed ${r.codes} codes, ${r.tokens} tokens, ${r.sessions} sessions, ${r.interactions} sign-in requests`))
      .catch((err: unknown) => log(`purge failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
