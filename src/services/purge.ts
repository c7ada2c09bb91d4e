/** O8: expired codes, tokens and sessions are purged by a background job; storage stays bounded. */
import type { OAuthContext } from '../oauth/context.js';

export interface PurgeResult {
  readonly codes: number;
  readonly tokens: number;
  readonly sessions: number;
  readonly interactions: number;
  readonly deviceCodes: number;
  /** Spent `private_key_jwt` assertion ids whose assertion has expired. */
  readonly clientAssertions: number;
  /** Never-used dynamic registrations past TOLLGATE_REGISTRATION_UNUSED_TTL. */
  readonly unusedClients: number;
  /** Audit events past TOLLGATE_AUDIT_RETENTION_DAYS. */
  readonly auditEvents: number;
  /** OpenID Connect sign-in records whose grant has no code or token left. */
  readonly oidcGrants: number;
}

const BATCH = 500;

/** Repeats a bounded delete until nothing is left (each batch short; the event loop is served between them). */
async function inBatches(run: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < BATCH) return total;
    await new Promise((r) => setImmediate(r));
  }
}

/** Removes what expired (or was revoked) more than `graceMs` ago. */
export async function purgeExpired(ctx: OAuthContext, graceMs = 60_000): Promise<PurgeResult> {
  const before = ctx.now() - graceMs;
  const codes = await ctx.storage.codes.purgeExpired(before);
  const tokens = await ctx.storage.tokens.purgeExpired(before);
  const sessions = await ctx.storage.sessions.purgeExpired(before);
  const interactions = await ctx.storage.interactions.purgeExpired(before);
  const deviceCodes = await ctx.storage.deviceCodes.purgeExpired(before);
  const clientAssertions = await ctx.storage.clientAssertions.purgeExpired(before);
  const now = ctx.now();
  const unusedClients =
    ctx.config.registrationUnusedTtl > 0 ? await inBatches(() => ctx.storage.clients.purgeUnused(now - ctx.config.registrationUnusedTtl * 1000, BATCH)) : 0;
  const auditEvents =
    ctx.config.auditRetentionDays > 0 ? await inBatches(() => ctx.storage.audit.purgeBefore(now - ctx.config.auditRetentionDays * 86_400_000, BATCH)) : 0;
  // An OpenID Connect grant's sign-in record goes once its code can no longer be redeemed and
  // none of its tokens is left.
  const oidcGrants = await inBatches(() => ctx.storage.oidcGrants.purgeOrphans(before - ctx.config.codeTtl * 1000, BATCH));
  return { codes, tokens, sessions, interactions, deviceCodes, clientAssertions, unusedClients, auditEvents, oidcGrants };
}

export function startPurgeJob(ctx: OAuthContext, intervalSeconds: number, log: (line: string) => void): { stop(): void } {
  if (intervalSeconds <= 0) return { stop() {} };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeExpired(ctx)
      .then((r) => log(`purge: removed ${r.codes} codes, ${r.tokens} tokens, ${r.sessions} sessions, ${r.interactions} sign-in requests, ${r.deviceCodes} device requests, ${r.clientAssertions} spent assertion ids, ${r.unusedClients} never-used registrations, ${r.auditEvents} audit events, ${r.oidcGrants} sign-in records`))
      .catch((err: unknown) => log(`purge failed: ${(err as Error).message}`))
      .finally(() => {
        running = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
