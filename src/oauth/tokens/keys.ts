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
  private accessAlg: KeyAlg;

  constructor(
    private readonly repo: KeyRepo,
    private readonly defaultAlg: KeyAlg,
    private readonly now: () => number,
  ) {
    this.accessAlg = defaultAlg;
  }

  /** Access tokens are signed with this algorithm's current key (a configured key file's, T8). */
  useForAccessTokens(alg: KeyAlg): void {
    this.accessAlg = alg;
  }

  /**
   * Makes sure an active key exists for the access-token algorithm and for each of `extraAlgs`
   * (RS256 for OpenID Connect ID tokens): one current key per algorithm, all in the JWKS. Returns
   * true if a key was created.
   */
  async ensureKey(extraAlgs: readonly KeyAlg[] = []): Promise<boolean> {
    const keys = await this.repo.listPublished(this.now());
    const have = new Set(keys.filter((k) => k.retiredAt === null).map((k) => k.alg));
    // The access-token key: with no active key at all, one of the configured algorithm.
    const missing = have.size === 0 ? [this.defaultAlg] : [];
    for (const alg of extraAlgs) if (!have.has(alg) && !missing.includes(alg)) missing.push(alg);
    for (const alg of missing) await this.repo.insert(await generateKeyRow(alg, this.now()));
    const created = missing.length > 0;
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
   * The key that signs new access tokens: the newest active key of TOLLGATE_KEY_ALG's algorithm, or
   * of a configured key file's (or,
   * when there is none, the newest active key). Served from the cache without waiting for the
   * database when a cache exists (a stale one is refreshed in the background): grants sign inside
   * a storage transaction, and on SQLite's single connection a query awaited there would deadlock.
   */
  async signingKey(): Promise<LoadedKey> {
    const pick = (keys: readonly LoadedKey[]): LoadedKey | undefined =>
      keys.find((k) => k.active && k.alg === this.accessAlg) ?? keys.find((k) => k.active);
    const cached = this.cache;
    if (cached) {
      const current = pick(cached.keys);
      if (current) {
        if (this.now() - cached.at >= RELOAD_MS) void this.keys(true).catch(() => {});
        return current;
      }
    }
    let active = pick(await this.keys());
    if (!active) active = pick(await this.keys(true));
    if (!active) throw new Error('No active signing key: run `tollgate keys rotate` or restart to create one');
    return active;
  }

  /**
   * The current key of one algorithm (an ID token's `id_token_signed_response_alg`), created when
   * there is none yet. Call outside any storage transaction.
   */
  async signingKeyFor(alg: KeyAlg): Promise<LoadedKey> {
    const find = (keys: readonly LoadedKey[]): LoadedKey | undefined => keys.find((k) => k.active && k.alg === alg);
    const found = find(await this.keys()) ?? find(await this.keys(true));
    if (found) return found;
    await this.repo.insert(await generateKeyRow(alg, this.now()));
    const created = find(await this.reload());
    if (!created) throw new Error(`No active ${alg} signing key`);
    return created;
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

  /**
   * Creates a new signing key; the previous active key of the same algorithm stops signing and
   * stays published until `keepUntil` (the other algorithms' keys are not touched).
   */
  async rotate(alg: KeyAlg, keepUntil: number, privateKey?: KeyObject): Promise<SigningKeyRow> {
    const row = privateKey ? await keyRowFromPrivateKey(privateKey, alg, this.now()) : await generateKeyRow(alg, this.now());
    await this.repo.insert(row);
    await this.repo.retireAllExcept(row.kid, this.now(), keepUntil, alg);
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
