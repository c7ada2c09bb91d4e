/**
 * Signing keys (T8): created on first start if absent, published as a JWKS, rotated with the old
 * key kept in the JWKS until every token it signed has expired.
 *
 * Keys live in the database so every process shares them; each process caches the key set and
 * reloads it after a short interval, or at once when asked for a `kid` it does not know.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { KeyAlg } from '../../config.js';
import type { KeyRepo, SigningKeyRow } from '../../storage/types.js';

export interface LoadedKey {
  readonly kid: string;
  readonly alg: KeyAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  readonly active: boolean;
}

/** A key that never expires from the JWKS (used when long-lived JWT access tokens exist). */
export const KEEP_FOREVER = Number.MAX_SAFE_INTEGER;

const RELOAD_MS = 5_000;
const FORCED_RELOAD_MIN_MS = 1_000;

/** The JOSE algorithm for a private key, or null when Tollgate cannot sign with that key type. */
export function algForKey(key: KeyObject): KeyAlg | null {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  return null;
}

/** A storable key row for a private key; the kid is the RFC 7638 thumbprint of its public key. */
export async function keyRowFromPrivateKey(privateKey: KeyObject, alg: KeyAlg, now: number): Promise<SigningKeyRow> {
  const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    alg,
    privateJwk: JSON.stringify({ ...privateJwk, kid, alg }),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    createdAt: now,
    retiredAt: null,
    expiresAt: null,
  };
}

export function generateKeyRow(alg: KeyAlg, now: number): Promise<SigningKeyRow> {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return keyRowFromPrivateKey(pair.privateKey, alg, now);
}

function load(row: SigningKeyRow): LoadedKey {
  const priv = JSON.parse(row.privateJwk) as JWK & { kid?: string; alg?: string };
  const pub = JSON.parse(row.publicJwk) as JWK;
  return {
    kid: row.kid,
    alg: row.alg as KeyAlg,
    privateKey: createPrivateKey({ key: priv as import('node:crypto').JsonWebKey, format: 'jwk' }),
    publicKey: createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' }),
    publicJwk: pub,
    active: row.retiredAt === null,
  };
}

export class KeyManager {
  private cache: { at: number; keys: LoadedKey[] } | null = null;
  private loading: Promise<LoadedKey[]> | null = null;
  private generation = 0;
  private loaded = 0;
  private lastForced = 0;

  constructor(
    private readonly repo: KeyRepo,
    private readonly defaultAlg: KeyAlg,
    private readonly now: () => number,
  ) {}

  /** Creates a signing key when none is active; returns true if one was created. */
  async ensureKey(): Promise<boolean> {
    const keys = await this.repo.listPublished(this.now());
    const created = !keys.some((k) => k.retiredAt === null);
    if (created) await this.repo.insert(await generateKeyRow(this.defaultAlg, this.now()));
    // Warm the cache now, so signing never has to wait for the database (see signingKey).
    await this.reload();
    return created;
  }

  private async keys(force = false): Promise<LoadedKey[]> {
    if (!force && this.cache && this.now() - this.cache.at < RELOAD_MS) return this.cache.keys;
    this.loading ??= this.reload().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Reads the key set afresh; a slower, older read never overwrites a newer one. */
  private async reload(): Promise<LoadedKey[]> {
    const generation = ++this.generation;
    const rows = await this.repo.listPublished(this.now());
    const keys = rows.map(load);
    if (generation > this.loaded) {
      this.loaded = generation;
      this.cache = { at: this.now(), keys };
    }
    return keys;
  }

  /**
   * The key that signs new tokens. Served from the cache without waiting for the database when a
   * cache exists (a stale one is refreshed in the background): grants sign inside a storage
   * transaction, and on SQLite's single connection a query awaited there would deadlock.
   */
  async signingKey(): Promise<LoadedKey> {
    const cached = this.cache;
    if (cached) {
      const current = cached.keys.find((k) => k.active);
      if (current) {
        if (this.now() - cached.at >= RELOAD_MS) void this.keys(true).catch(() => {});
        return current;
      }
    }
    let active = (await this.keys()).find((k) => k.active);
    if (!active) active = (await this.keys(true)).find((k) => k.active);
    if (!active) throw new Error('No active signing key: run `tollgate keys rotate` or restart to create one');
    return active;
  }

  /**
   * A published key by id. An unknown kid triggers a reload (another process may have rotated),
   * at most once a second, so tokens with made-up kids cannot hammer the database.
   */
  async publicKey(kid: string): Promise<LoadedKey | null> {
    const found = (await this.keys()).find((k) => k.kid === kid);
    if (found) return found;
    if (this.now() - this.lastForced < FORCED_RELOAD_MIN_MS) return null;
    this.lastForced = this.now();
    return (await this.keys(true)).find((k) => k.kid === kid) ?? null;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.keys()).map((k) => k.publicJwk) };
  }

  /** Creates a new signing key; the previous ones stop signing and stay published until `keepUntil`. */
  async rotate(alg: KeyAlg, keepUntil: number, privateKey?: KeyObject): Promise<SigningKeyRow> {
    const row = privateKey ? await keyRowFromPrivateKey(privateKey, alg, this.now()) : await generateKeyRow(alg, this.now());
    await this.repo.insert(row);
    await this.repo.retireAllExcept(row.kid, this.now(), keepUntil);
    await this.reload();
    return row;
  }

  /**
   * Called before issuing JWTs, outside any storage transaction: one cheap read of the current
   * kid, and a reload when another process (or the CLI) rotated the key — so every process signs
   * with the new key from its very next token.
   */
  async ensureCurrent(): Promise<void> {
    const kid = await this.repo.currentKid();
    const active = this.cache?.keys.find((k) => k.active);
    if (kid !== null && active?.kid !== kid) await this.reload();
  }

  /** Marks the cache stale: the next use reloads it (signing keeps using it meanwhile). */
  invalidate(): void {
    if (this.cache) this.cache = { at: 0, keys: this.cache.keys };
  }
}
