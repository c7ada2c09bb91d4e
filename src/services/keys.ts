/** Signing-key rotation (T8): the old key stays in the JWKS until the tokens it signed expire. */
import type { KeyObject } from 'node:crypto';
import type { KeyAlg } from '../config.js';
import type { OAuthContext } from '../oauth/context.js';
import { KEEP_FOREVER } from '../oauth/tokens/keys.js';
import type { SigningKeyRow } from '../storage/types.js';

export async function rotateSigningKey(
  ctx: OAuthContext,
  alg: KeyAlg = ctx.config.keyAlg,
  opts: { actorUserId?: string | null; ip?: string | null } = {},
  privateKey?: KeyObject,
): Promise<SigningKeyRow> {
  // The longest lifetime any JWT access token can have decides how long the old key stays published.
  let maxTtl = ctx.config.accessTtl;
  let offset = 0;
  for (;;) {
    const page = await ctx.storage.clients.list({ limit: 500, offset });
    for (const c of page.items) {
      if (c.tokenFormat !== 'jwt') continue;
      if (c.accessTtl === null) maxTtl = Infinity;
      else maxTtl = Math.max(maxTtl, c.accessTtl);
    }
    offset += page.items.length;
    if (page.items.length === 0 || offset >= page.total) break;
  }
  const keepUntil = maxTtl === Infinity ? KEEP_FOREVER : ctx.now() + (maxTtl + ctx.config.keyGraceSeconds) * 1000;
  const row = await ctx.keys.rotate(alg, keepUntil, privateKey);
  await ctx.audit.record('key.rotated', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { kid: row.kid, alg } });
  return row;
}

export function keyView(k: SigningKeyRow, now: number): Record<string, unknown> {
  return {
    kid: k.kid,
    alg: k.alg,
    status: k.retiredAt === null ? 'active' : k.expiresAt !== null && k.expiresAt <= now ? 'expired' : 'retired (published)',
    created_at: new Date(k.createdAt).toISOString(),
    retired_at: k.retiredAt === null ? null : new Date(k.retiredAt).toISOString(),
    published_until:
      k.expiresAt === null ? null : k.expiresAt >= Number.MAX_SAFE_INTEGER ? 'forever' : new Date(k.expiresAt).toISOString(),
  };
}
