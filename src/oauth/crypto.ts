/**
 * Random values and hashes for machine-generated secrets (client secrets, codes, tokens).
 * They carry 256 bits of entropy, so SHA-256 is the right hash: fast and unguessable
 * (DESIGN.md "Data"); only human passwords need Argon2id (see accounts/).
 */
import { createHash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/** Recognisable prefixes, so a leaked value can be identified (and scanned for) at a glance. */
export const PREFIX = {
  clientId: 'tgc_',
  clientSecret: 'tgs_',
  accessToken: 'tga_',
  refreshToken: 'tgr_',
  code: 'tgo_',
  registrationToken: 'tgreg_',
  session: 'tgsess_',
} as const;

/**
 * CSPRNG output drawn from a pool refilled 4 KiB at a time: one call into OpenSSL per ~100
 * tokens instead of one each (issue #5). Every byte is used once; the view is encoded at once.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomBase64url(bytes: number): string {
  if (bytes > 256) return randomBytes(bytes).toString('base64url');
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** `prefix` + `bytes` random bytes as base64url (default 32 bytes = 256 bits). */
export function randomToken(prefix: string, bytes = 32): string {
  return prefix + randomBase64url(bytes);
}

export function randomId(bytes = 16): string {
  return randomBase64url(bytes);
}

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** Constant-time comparison of a presented secret against a stored SHA-256 hash. */
export function secretMatchesHash(presented: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(presented), 'utf8');
  const b = Buffer.from(storedHash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
