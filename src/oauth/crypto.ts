/**
 * Random values and hashes for machine-generated secrets (client secrets, codes, tokens).
 * They carry 256 bits of entropy, so SHA-256 is the right hash: fast and unguessable
 * (DESIGN.md "Data"); only human passwords need Argon2id (see accounts/).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** `prefix` + `bytes` random bytes as base64url (default 32 bytes = 256 bits). */
export function randomToken(prefix: string, bytes = 32): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
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
