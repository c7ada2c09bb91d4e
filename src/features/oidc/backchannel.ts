/**
 * OpenID Connect Back-Channel Logout 1.0. When a session ends, every application that received an
 * ID token with that session's `sid` and registered a `backchannel_logout_uri` is sent a logout
 * token (§2.4: `typ: logout+jwt`, `iss`, `aud`, `iat`, `exp`, `jti`, `events`, `sub` and `sid`, no
 * `nonce`) by a form POST (§2.5), through the SSRF-safe outbound client.
 *
 * Never in the way of the sign-out: the ending session's requests only queue the work. Deliveries
 * run in the background, a few at a time, each bounded (5 s); a failure (a network error, a
 * timeout, a 5xx, 408 or 429) is retried after 1 s, 5 s, 30 s and 2 min, with a freshly signed
 * token each time; a 4xx other than those is the application refusing the token and is not
 * retried. An abandoned delivery is in the audit log (`logout.delivery_failed`, without the token).
 * The queue lives in the process's memory and is bounded: a delivery still waiting when the
 * process stops is lost (the application's session then ends when its own tokens do).
 */
import type { OAuthContext } from '../../oauth/context.js';
import type { EndedSessions } from '../../oauth/feature.js';
import type { ClientRow } from '../../storage/types.js';
import { randomId } from '../../oauth/crypto.js';
import { signJwt } from '../../oauth/tokens/jwt.js';
import { OutboundError } from '../../net/outbound.js';
import { idTokenAlg } from './id-token.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Delays before the second, third… attempt. */
export const RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000];
const TIMEOUT_MS = 5000;
const CONCURRENCY = 4;
/** Deliveries waiting or in flight per instance; beyond it, new ones are dropped (and audited). */
const MAX_PENDING = 10_000;
/** Grants read per ended session (an application signing in again and again in one session). */
const GRANTS_PER_SID = 1000;
/** How long a logout token is valid (§2.4 recommends short lifetimes). */
const LOGOUT_TOKEN_TTL = 120;

interface Delivery {
  readonly clientId: string;
  readonly sub: string;
  readonly sid: string;
  attempt: number;
}

class Outbox {
  private readonly waiting: Delivery[] = [];
  private running = 0;
  private pending = 0;
  private readonly idle: Array<() => void> = [];

  constructor(private readonly ctx: OAuthContext) {}

  async sessionsEnded(sids: readonly string[]): Promise<void> {
    // Counted as pending while the recipients are looked up, so `drained` waits for them too.
    this.pending++;
    try {
      await this.lookUp(sids);
    } finally {
      this.settle();
    }
  }

  private async lookUp(sids: readonly string[]): Promise<void> {
    for (const sid of sids) {
      const grants = await this.ctx.storage.oidcGrants.bySid(sid, GRANTS_PER_SID);
      const seen = new Set<string>();
      for (const g of grants) {
        const key = `${g.clientId}\0${g.userId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const client = await this.ctx.storage.clients.byId(g.clientId);
        if (client?.oidc.backchannelLogoutUri == null) continue;
        this.add({ clientId: g.clientId, sub: g.userId, sid, attempt: 0 });
      }
    }
  }

  private add(d: Delivery): void {
    if (this.pending >= MAX_PENDING) {
      void this.abandon(d, 'the logout queue is full');
      return;
    }
    this.pending++;
    this.waiting.push(d);
    this.pump();
  }

  private pump(): void {
    while (this.running < CONCURRENCY && this.waiting.length > 0) {
      const d = this.waiting.shift() as Delivery;
      this.running++;
      void this.deliver(d).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private settle(): void {
    this.pending--;
    if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Resolves once nothing is waiting or in flight (tests, shutdown). */
  drained(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  private async deliver(d: Delivery): Promise<void> {
    d.attempt++;
    const result = await this.attempt(d);
    if (result.retryable && d.attempt <= RETRY_DELAYS_MS.length) {
      const timer = setTimeout(() => {
        this.waiting.push(d);
        this.pump();
      }, RETRY_DELAYS_MS[d.attempt - 1]);
      timer.unref();
      return;
    }
    if (result.failure !== null) await this.abandon(d, result.failure);
    this.settle();
  }

  /** One POST of a fresh logout token: no failure, or why it failed and whether trying again may help. */
  private async attempt(d: Delivery): Promise<{ readonly failure: string | null; readonly retryable: boolean }> {
    try {
      const client = await this.ctx.storage.clients.byId(d.clientId);
      const uri = client?.oidc.backchannelLogoutUri ?? null;
      // The application is gone, inactive, or no longer wants it: nothing to send.
      if (client === null || uri === null || !client.active) return { failure: null, retryable: false };
      const res = await this.ctx.outbound(uri, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ logout_token: await logoutToken(this.ctx, client, d) }).toString(),
        timeoutMs: TIMEOUT_MS,
        maxBytes: 16 * 1024,
      });
      if (res.status >= 200 && res.status < 300) return { failure: null, retryable: false };
      return { failure: `the application answered ${res.status}`, retryable: res.status >= 500 || res.status === 408 || res.status === 429 };
    } catch (err) {
      if (!(err instanceof OutboundError)) return { failure: 'an internal error', retryable: true };
      // A URL or address the outbound client refuses stays refused.
      return { failure: err.message, retryable: err.reason !== 'refused_url' && err.reason !== 'refused_address' };
    }
  }

  private async abandon(d: Delivery, reason: string): Promise<void> {
    await this.ctx.audit
      .record('logout.delivery_failed', { clientId: d.clientId, details: { userId: d.sub, attempts: d.attempt, reason } })
      .catch(() => {});
  }
}

/** §2.4: the logout token, signed with the key of the application's ID tokens. */
async function logoutToken(ctx: OAuthContext, client: ClientRow, d: Delivery): Promise<string> {
  const key = await ctx.keys.signingKeyFor(idTokenAlg(client));
  const now = Math.floor(ctx.now() / 1000);
  return signJwt(key, 'logout+jwt', {
    iss: ctx.config.issuer,
    sub: d.sub,
    aud: client.clientId,
    iat: now,
    exp: now + LOGOUT_TOKEN_TTL,
    jti: randomId(),
    events: { [EVENT]: {} },
    sid: d.sid,
  });
}

/** One outbox per instance, keyed by its storage (the HTTP layer passes extended copies of the context). */
const outboxes = new WeakMap<object, Outbox>();

function outboxOf(ctx: OAuthContext): Outbox {
  let box = outboxes.get(ctx.storage);
  if (!box) {
    box = new Outbox(ctx);
    outboxes.set(ctx.storage, box);
  }
  return box;
}

/** The feature's `sessionsEnded`: queues the deliveries, never throws, never waits for them. */
export function queueBackchannelLogout(ctx: OAuthContext, ended: EndedSessions): void {
  const box = outboxOf(ctx);
  box.sessionsEnded(ended.sids).catch(() => {
    // A storage failure while looking up who to tell: nothing is sent; the sign-out stands.
  });
}

/** Resolves once every queued delivery of this instance is done or abandoned (tests). */
export function backchannelDrained(ctx: OAuthContext): Promise<void> {
  return outboxOf(ctx).drained();
}
