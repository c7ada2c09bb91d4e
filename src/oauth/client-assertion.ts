/**
 * Client authentication with a signed assertion: `private_key_jwt` (RFC 7523 §2.2 and §3,
 * RFC 7521 §4.2, OpenID Connect Core §9; docs/client-authentication.md).
 *
 * The client signs a short-lived JWT with its private key; Tollgate holds only the public keys,
 * registered as a `jwks` set or a `jwks_uri` (fetched through ctx.outbound: SSRF-safe, bounded).
 * An assertion is accepted only when all of these hold:
 * - signed with an asymmetric algorithm (RS*, PS*, ES*, EdDSA): never `none`, never an HMAC,
 *   whatever its header says, and by a key of the application's set;
 * - `iss` and `sub` are both the client_id (and `client_id`, when sent, says the same);
 * - `aud` is one string, equal to the issuer identifier (draft-ietf-oauth-rfc7523bis) or the URL
 *   of the endpoint it is sent to (OIDC Core §9). A list is refused: an assertion made for several
 *   audiences could be replayed from one to another (the audience-injection attack rfc7523bis fixes);
 * - `exp` is present, not past and at most five minutes ahead (a short lifetime bounds what a
 *   leaked assertion is worth); `nbf` and `iat`, when present, are not in the future;
 * - `jti` is present and was not used before by this client while an assertion carrying it was
 *   valid (stored until `exp`: one INSERT, so of parallel replays exactly one passes).
 * Keys from a `jwks_uri` are cached (its Cache-Control within 5 minutes and an hour); an assertion
 * whose `kid` no cached key has makes Tollgate fetch the set again, at most once a second per URL,
 * so that a rotated key works at once and an unknown `kid` cannot make Tollgate a fetch amplifier.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { ClientRow, PublicJwks, Storage } from '../storage/types.js';
import { cacheSeconds, OutboundError } from '../net/outbound.js';
import type { OAuthContext } from './context.js';
import { invalidClient, invalidRequest, OAuthError } from './errors.js';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric JWS algorithms only (no `none`, no HS*): the key set holds public keys. */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** Private (and symmetric) key members of a JWK (RFC 7518 §6): never in a registered set. */
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const KEY_TYPES = ['RSA', 'EC', 'OKP'];
const MAX_KEYS = 20;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
/** `exp` at most this far ahead. */
const MAX_LIFETIME_SECONDS = 300;
/** Clock difference tolerated between the client and Tollgate. */
const CLOCK_SKEW_SECONDS = 30;
const JWKS_MAX_BYTES = 64 * 1024;
const JWKS_TIMEOUT_MS = 3000;
const JWKS_CACHE_MIN = 300;
const JWKS_CACHE_MAX = 3600;
/** A refetch on an unknown `kid`: at most one per URL in this many milliseconds. */
const REFETCH_INTERVAL_MS = 1000;
const MAX_CACHED_SETS = 10_000;

/**
 * Checks a JWK Set someone registered (registration, the admin API, a metadata document): an
 * object with a `keys` list of public RSA, EC or OKP keys. Throws an Error saying what is wrong.
 */
export function readPublicJwks(raw: unknown): PublicJwks {
  const keys = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))) {
    throw new Error('jwks must be a JWK Set ({"keys": [...]})');
  }
  if (keys.length === 0) throw new Error('jwks holds no key');
  if (keys.length > MAX_KEYS) throw new Error(`jwks holds more than ${MAX_KEYS} keys`);
  for (const k of keys as Array<Record<string, unknown>>) {
    if (k['kty'] === 'oct' || PRIVATE_KEY_MEMBERS.some((m) => m in k)) throw new Error('jwks holds private or symmetric key material');
    if (typeof k['kty'] !== 'string' || !KEY_TYPES.includes(k['kty'])) throw new Error('jwks keys must be RSA, EC or OKP public keys');
  }
  return { keys: keys as Array<Readonly<Record<string, unknown>>> };
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

interface CachedSet {
  keys: KeySet | null;
  expiresAt: number;
  fetchedAt: number;
  running: Promise<KeySet> | null;
}

// Per instance (its storage), so that two instances in one process share nothing.
const caches = new WeakMap<Storage, Map<string, CachedSet>>();
function cacheOf(ctx: OAuthContext): Map<string, CachedSet> {
  let c = caches.get(ctx.storage);
  if (c === undefined) {
    c = new Map();
    caches.set(ctx.storage, c);
  }
  return c;
}

/** Sets registered inline, parsed once per row. */
const inline = new WeakMap<PublicJwks, KeySet>();

function localSet(jwks: PublicJwks): KeySet {
  let set = inline.get(jwks);
  if (set === undefined) {
    set = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
    inline.set(jwks, set);
  }
  return set;
}

async function fetchSet(ctx: OAuthContext, client: ClientRow, uri: string): Promise<{ keys: KeySet; ttl: number }> {
  let res;
  try {
    res = await ctx.outbound(uri, {
      headers: { Accept: 'application/json, application/jwk-set+json' },
      timeoutMs: JWKS_TIMEOUT_MS,
      maxBytes: JWKS_MAX_BYTES,
      // The metadata-document development setting covers the keys such a document names.
      ...(ctx.config.cimdInsecureLoopback && client.metadataDocument !== null ? { allowLoopback: true } : {}),
    });
  } catch (err) {
    throw invalidClient('Client authentication failed', `jwks_uri could not be fetched (${err instanceof OutboundError ? err.reason : 'error'})`);
  }
  if (res.status !== 200) throw invalidClient('Client authentication failed', `jwks_uri answered ${res.status}`);
  let jwks: PublicJwks;
  try {
    jwks = readPublicJwks(JSON.parse(res.body.toString('utf8')));
  } catch (err) {
    throw invalidClient('Client authentication failed', `jwks_uri: ${err instanceof SyntaxError ? 'not JSON' : (err as Error).message}`);
  }
  return { keys: createLocalJWKSet(jwks as unknown as JSONWebKeySet), ttl: cacheSeconds(res.headers, JWKS_CACHE_MIN, JWKS_CACHE_MAX, ctx.now()) };
}

/** The key set of a `jwks_uri`: cached, fetched once at a time; `refresh` asks for a fresh copy (rate-limited). */
async function remoteSet(ctx: OAuthContext, client: ClientRow, uri: string, refresh: boolean): Promise<KeySet | null> {
  const cache = cacheOf(ctx);
  const now = ctx.now();
  let entry = cache.get(uri);
  if (entry !== undefined && entry.keys !== null && !refresh && entry.expiresAt > now) return entry.keys;
  if (entry !== undefined && refresh && now - entry.fetchedAt < REFETCH_INTERVAL_MS) return entry.running ? entry.running : null;
  if (entry?.running) return entry.running;
  if (entry === undefined) {
    if (cache.size >= MAX_CACHED_SETS) cache.delete(cache.keys().next().value as string);
    entry = { keys: null, expiresAt: 0, fetchedAt: 0, running: null };
    cache.set(uri, entry);
  }
  const e = entry;
  e.fetchedAt = now;
  e.running = fetchSet(ctx, client, uri)
    .then(
      ({ keys, ttl }) => {
        e.keys = keys;
        e.expiresAt = ctx.now() + ttl * 1000;
        return keys;
      },
      (err: unknown) => {
        // The keys it had stay in use while its host is down (retried a minute later): a key set
        // changes rarely, and refusing every client of a host for a blip would be worse.
        if (e.keys === null) throw err;
        e.expiresAt = ctx.now() + 60_000;
        return e.keys;
      },
    )
    .finally(() => {
      e.running = null;
    });
  return e.running;
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'assertion expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `assertion claim ${err.claim} invalid (${err.reason})`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'assertion algorithm not allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches the assertion';
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return 'several registered keys match the assertion and none verifies it';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'assertion signature invalid';
  if (err instanceof joseErrors.JOSEError) return `assertion invalid (${err.code})`;
  return 'assertion invalid';
}

async function verifyWith(assertion: string, keys: KeySet, clientId: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(assertion, keys, {
    algorithms: [...ASSERTION_ALGORITHMS],
    issuer: clientId,
    subject: clientId,
    requiredClaims: ['exp', 'jti', 'aud'],
    clockTolerance: CLOCK_SKEW_SECONDS,
  });
  return payload;
}

/**
 * Authenticates the client of a `client_assertion` sent to `endpointUrl`; returns its row or
 * throws `invalid_client` (401; the reason goes to the log, never to the client).
 */
export async function authenticateAssertion(
  ctx: OAuthContext,
  assertion: string,
  clientIdParam: string | undefined,
  endpointUrl: string,
): Promise<ClientRow> {
  if (assertion.length > MAX_ASSERTION_LENGTH) throw invalidClient('Client authentication failed', 'assertion too long');
  let claimed: JWTPayload;
  try {
    const header = decodeProtectedHeader(assertion);
    if (typeof header.alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw invalidClient('Client authentication failed', 'assertion algorithm not allowed');
    }
    claimed = decodeJwt(assertion);
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidClient('Client authentication failed', 'assertion is not a signed JWT');
  }
  const clientId = claimed.sub;
  if (typeof clientId !== 'string' || clientId === '' || clientId.length > 512 || claimed.iss !== clientId) {
    throw invalidClient('Client authentication failed', 'assertion iss and sub must both be the client_id');
  }
  if (clientIdParam !== undefined && clientIdParam !== clientId) {
    throw invalidRequest('client_id does not match the client assertion');
  }
  const client = await ctx.features.findClient(ctx, clientId);
  if (!client) throw invalidClient('Client authentication failed', 'unknown client_id');
  const settings = client.privateKeyJwt;
  if (settings === null || client.clientType !== 'confidential') {
    throw invalidClient('Client authentication failed', 'this application does not authenticate with private_key_jwt');
  }

  let payload: JWTPayload;
  try {
    if (settings.jwks !== null) {
      payload = await verifyWith(assertion, localSet(settings.jwks), clientId);
    } else {
      const uri = settings.jwksUri ?? '';
      const keys = await remoteSet(ctx, client, uri, false);
      if (keys === null) throw invalidClient('Client authentication failed', 'jwks_uri unavailable');
      try {
        payload = await verifyWith(assertion, keys, clientId);
      } catch (err) {
        // A key rotated since the set was cached: fetch it again (at most once a second) and retry.
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        const fresh = await remoteSet(ctx, client, uri, true);
        if (fresh === null || fresh === keys) throw err;
        payload = await verifyWith(assertion, fresh, clientId);
      }
    }
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidClient('Client authentication failed', reasonOf(err));
  }

  const nowSeconds = Math.floor(ctx.now() / 1000);
  const aud = payload.aud;
  if (typeof aud !== 'string' || (aud !== ctx.config.issuer && aud !== endpointUrl)) {
    throw invalidClient('Client authentication failed', 'assertion aud must be the issuer identifier or this endpoint URL, as one string');
  }
  const exp = payload.exp as number;
  if (exp > nowSeconds + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
    throw invalidClient('Client authentication failed', `assertion lives longer than ${MAX_LIFETIME_SECONDS} seconds`);
  }
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    throw invalidClient('Client authentication failed', 'assertion issued in the future');
  }
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw invalidClient('Client authentication failed', 'assertion jti invalid');
  if (!(await ctx.storage.clientAssertions.use(clientId, jti, (exp + CLOCK_SKEW_SECONDS) * 1000, ctx.now()))) {
    throw invalidClient('Client authentication failed', 'assertion jti already used');
  }
  return client;
}
