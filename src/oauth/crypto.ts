/**
 * Random values and hashes for machine-generated secrets (client secrets, codes, tokens).
 * They carry 256 bits of entropy, so SHA-256 is the right hash: fast and unguessable
 * (docs/design.md "Data"); only human passwords need Argon2id (see accounts/).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/** Recognisable prefixes, so a leaked value can be identified (and scanned for) at a glance. */
export const PREFIX = {
  clientId: 'tgc_',
  clientSecret: 'tgs_',
  accessToken: 'tga_',
  refreshToken: 'tgr_',
  code: 'tgo_',
  registrationToken: 'tgreg_',
  session: 'tgsess_',
  deviceCode: 'tgd_',
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

/** The OpenID Connect `sid` of the session stored under `idHash` (never the cookie, nor its stored hash). */
export function sidOf(idHash: string): string {
  return sha256(`sid\0${idHash}`).slice(0, 32);
}

/** Constant-time comparison of a presented secret against a stored SHA-256 hash. */
export function secretMatchesHash(presented: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(presented), 'utf8');
  const b = Buffer.from(storedHash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The one authenticated-encryption envelope (AES-256-GCM, a fresh 96-bit IV each time), written
 * `iv.ciphertext.tag` in base64url. Used for the refresh grace response and the portal's
 * shown-once secret; the key is derived by the caller (`deriveKey`), never stored.
 */
export function sealJson(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return [iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Opens `sealJson`'s envelope; null when it was not sealed under this key or was altered. */
export function openJson(key: Buffer, sealed: string): unknown {
  const [iv, body, tag] = sealed.split('.');
  if (!iv || !body || !tag) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return JSON.parse(Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** A 256-bit key for one purpose (`info`), derived with HKDF-SHA256 from a secret value. */
export function deriveKey(secret: string, info: string, salt = ''): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, info, 32));
}
