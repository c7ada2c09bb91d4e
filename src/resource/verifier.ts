/**
 * The token verifier of the resource-server toolkit (R3). `createVerifier` discovers the
 * authorization server's endpoints from its RFC 8414 metadata, then `verify(authorizationHeader)`:
 *
 * - JWT access tokens (RFC 9068) are verified locally against the JWKS: keys cached, an unknown
 *   `kid` triggers one refetch (at most one fetch per `jwksRefetchInterval`), `typ: at+jwt`,
 *   issuer, audience, expiry and not-before checked with a small clock skew;
 * - opaque tokens are checked by introspection (RFC 7662), with a short positive cache
 *   (`cacheTtl`, the revocation delay) and no negative cache;
 * - anything that could not be checked is a `ServiceUnavailableError` (503), never a pass.
 *
 * No dependency on Tollgate's server code: only `jose` and Node built-ins.
 */
import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, type LocalJWKSet } from 'jose';
import { BearerError, InvalidTokenError, ServiceUnavailableError } from './errors.js';
import { assertNoTokenInQuery, parseAuthorizationHeader } from './header.js';
import { buildResourceMetadata, type ResourceMetadata, type ResourceMetadataOptions } from './metadata.js';
import { requireScopes, type ScopeMode } from './scopes.js';

/** An RFC 7662 introspection response (what `resolveToken` returns, too). */
export interface IntrospectionResponse {
  readonly active: boolean;
  readonly scope?: string | undefined;
  readonly client_id?: string | undefined;
  readonly username?: string | undefined;
  readonly token_type?: string | undefined;
  readonly exp?: number | undefined;
  readonly iat?: number | undefined;
  readonly nbf?: number | undefined;
  readonly sub?: string | undefined;
  readonly aud?: string | readonly string[] | undefined;
  readonly iss?: string | undefined;
  readonly jti?: string | undefined;
  readonly [claim: string]: unknown;
}

export interface VerifierOptions {
  /** The authorization server's issuer identifier, e.g. `https://auth.example.com`. */
  readonly issuer: string;
  /** This API's identifier (its resource server identifier in Tollgate), or several. */
  readonly audience: string | readonly string[];
  /** Credentials of this API as a confidential client, to introspect opaque tokens (RFC 7662). */
  readonly introspection?: { readonly clientId: string; readonly clientSecret: string } | undefined;
  /**
   * Seconds an opaque token's positive introspection answer is reused (default 5, 0 = none):
   * the revocation delay for opaque tokens. Never beyond the token's expiry; refusals are not cached.
   */
  readonly cacheTtl?: number | undefined;
  /** Seconds of tolerance on `exp`, `nbf` (default 5). */
  readonly clockSkew?: number | undefined;
  /** `fetch` implementation (default: the global one). */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Timeout of each HTTP call to the authorization server, in milliseconds (default 5000). */
  readonly timeout?: number | undefined;
  /** The `realm` of `WWW-Authenticate` challenges (default: none). */
  readonly realm?: string | undefined;
  /** Seconds the JWKS is used before being fetched again (default 300). */
  readonly jwksCacheTtl?: number | undefined;
  /** Minimum seconds between two JWKS fetches caused by an unknown `kid` (default 1). */
  readonly jwksRefetchInterval?: number | undefined;
  /** JWS algorithms accepted (default: the asymmetric ones, never `none` or HMAC). */
  readonly algorithms?: readonly string[] | undefined;
  /** The clock, in milliseconds since the epoch (default `Date.now`); for tests. */
  readonly now?: (() => number) | undefined;
  /**
   * A local token source used for every token (JWT or opaque) instead of the JWKS and HTTP
   * introspection: returns the RFC 7662 answer for a token. Errors it throws propagate unchanged.
   * Tollgate's own API uses it to read its database directly.
   */
  readonly resolveToken?: ((token: string) => Promise<IntrospectionResponse>) | undefined;
  /**
   * RFC 9728: publish this API's protected resource metadata (the adapters serve it) and name it
   * in every challenge (`resource_metadata`). `true` uses the first audience as the resource.
   */
  readonly resourceMetadata?: ResourceMetadataOptions | boolean | undefined;
}

export interface VerifyOptions {
  /** Scopes the endpoint needs (default: none, any valid token). */
  readonly scopes?: readonly string[] | undefined;
  /** `all` (default) or `any` of `scopes`. */
  readonly mode?: ScopeMode | undefined;
  /** The request URL (path and query); a token in its query string is refused. */
  readonly url?: string | URLSearchParams | undefined;
}

export interface VerifiedToken {
  /** `jwt` when verified as an RFC 9068 JWT, `opaque` otherwise. */
  readonly format: 'jwt' | 'opaque';
  /** `sub`: the user the token acts for, or the client itself. */
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly audience: readonly string[];
  /** `null` for a token that never expires. */
  readonly expiresAt: Date | null;
  /** The JWT payload, or the introspection response. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface Verifier {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly realm: string | undefined;
  /** The protected resource metadata (RFC 9728), when the verifier publishes one. */
  readonly resourceMetadata: ResourceMetadata | null;
  /** Verifies an `Authorization` header value; throws a `BearerError` subclass. */
  verify(authorizationHeader: string | readonly string[] | undefined, opts?: VerifyOptions): Promise<VerifiedToken>;
  /** Verifies a bare token (already taken out of its header). */
  verifyToken(token: string, opts?: Omit<VerifyOptions, 'url'>): Promise<VerifiedToken>;
}

const DEFAULT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];
const CACHE_MAX_ENTRIES = 10_000;
const GENERIC = 'The access token is invalid, expired or revoked';
const OTHER_AUDIENCE = 'The access token was issued for another audience';
const OTHER_ISSUER = 'The access token was issued by another issuer';
const EXPIRED = 'The access token has expired';
const NOT_YET_VALID = 'The access token is not yet valid';

interface Metadata {
  readonly jwksUri: string;
  readonly introspectionEndpoint: string | null;
}

/** RFC 8414 §3.1: the well-known path goes between the host and the issuer's path. */
export function metadataUrl(issuer: string): string {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}/.well-known/oauth-authorization-server${path}`;
}

function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function audiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`createVerifier: ${name} must be a number of seconds >= 0`);
  return v;
}

export function createVerifier(options: VerifierOptions): Verifier {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(options.issuer);
  } catch {
    throw new TypeError(`createVerifier: issuer must be an absolute URL, got "${options.issuer}"`);
  }
  void issuerUrl;
  const issuer = options.issuer;
  const audience: readonly string[] = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError('createVerifier: audience must be a non-empty string (or a list of them)');
  }
  const realm = options.realm;
  const cacheTtlMs = seconds(options.cacheTtl, 5, 'cacheTtl') * 1000;
  const skew = seconds(options.clockSkew, 5, 'clockSkew');
  const jwksTtlMs = seconds(options.jwksCacheTtl, 300, 'jwksCacheTtl') * 1000;
  const refetchMs = seconds(options.jwksRefetchInterval, 1, 'jwksRefetchInterval') * 1000;
  const timeout = options.timeout ?? 5000;
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? globalThis.fetch;
  const resolveToken = options.resolveToken;

  const invalid = (description = GENERIC, detail?: string): InvalidTokenError => new InvalidTokenError(description, { realm, detail });
  const unavailable = (detail: string): ServiceUnavailableError => new ServiceUnavailableError(detail, { realm });

  // ---------------------------------------------------------------------------------------------
  // HTTP to the authorization server

  async function getJson(url: string, init: RequestInit, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeout) });
    } catch (err) {
      throw unavailable(`${what} unreachable (${url}): ${err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err)}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw unavailable(`${what} answered HTTP ${res.status} (${url})`);
    }
    try {
      return (await res.json()) as unknown;
    } catch {
      throw unavailable(`${what} did not answer JSON (${url})`);
    }
  }

  let metadata: Promise<Metadata> | null = null;
  function discover(): Promise<Metadata> {
    metadata ??= (async () => {
      const url = metadataUrl(issuer);
      const doc = await getJson(url, { headers: { accept: 'application/json' } }, 'Authorization server metadata');
      if (!isRecord(doc)) throw unavailable(`Authorization server metadata is not a JSON object (${url})`);
      // RFC 8414 §3.3: the issuer in the document must be the one we asked about.
      if (doc['issuer'] !== issuer) throw unavailable(`Authorization server metadata names the issuer ${String(doc['issuer'])}, expected ${issuer}`);
      if (typeof doc['jwks_uri'] !== 'string') throw unavailable('Authorization server metadata has no jwks_uri');
      const introspectionEndpoint = typeof doc['introspection_endpoint'] === 'string' ? doc['introspection_endpoint'] : null;
      return { jwksUri: doc['jwks_uri'], introspectionEndpoint };
    })();
    // A failed discovery is retried on the next request.
    metadata.catch(() => {
      metadata = null;
    });
    return metadata;
  }

  // ---------------------------------------------------------------------------------------------
  // JWKS: cached; an unknown kid refetches at most once per refetch interval

  let keys: LocalJWKSet | null = null;
  let keysFetchedAt = -Infinity;
  let lastFetchStarted = -Infinity;
  let inflightJwks: Promise<void> | null = null;

  function fetchJwks(): Promise<void> {
    inflightJwks ??= (async () => {
      lastFetchStarted = now();
      try {
        const { jwksUri } = await discover();
        const set = await getJson(jwksUri, { headers: { accept: 'application/jwk-set+json, application/json' } }, 'JWKS');
        if (!isRecord(set) || !Array.isArray(set['keys'])) throw unavailable(`The JWKS at ${jwksUri} is not a JWK set`);
        keys = createLocalJWKSet(set as unknown as JSONWebKeySet);
        keysFetchedAt = now();
      } finally {
        inflightJwks = null;
      }
    })();
    return inflightJwks;
  }

  async function currentKeys(): Promise<LocalJWKSet> {
    if (keys === null) await fetchJwks();
    else if (now() - keysFetchedAt >= jwksTtlMs) {
      // A periodic refresh that fails keeps the keys we have.
      await fetchJwks().catch(() => undefined);
    }
    if (keys === null) throw unavailable('No JWKS');
    return keys;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const local = await currentKeys();
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      // An unknown kid: maybe the key was rotated. Join a fetch under way, or start one if the
      // last one is old enough; otherwise the token is refused.
      if (inflightJwks) await inflightJwks;
      else if (now() - lastFetchStarted >= refetchMs) await fetchJwks();
      else throw err;
      return (await currentKeys())(header, token);
    }
  };

  async function verifyJwt(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer,
        audience: [...audience],
        typ: 'at+jwt',
        algorithms,
        clockTolerance: skew,
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'client_id', 'iat', 'jti'],
      }));
    } catch (err) {
      if (err instanceof BearerError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw invalid(EXPIRED);
      if (err instanceof joseErrors.JWTClaimValidationFailed) {
        if (err.claim === 'aud') throw invalid(OTHER_AUDIENCE);
        if (err.claim === 'iss') throw invalid(OTHER_ISSUER);
        if (err.claim === 'nbf') throw invalid(NOT_YET_VALID);
        throw invalid(GENERIC, `JWT claim ${err.claim}: ${err.reason}`);
      }
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError || err instanceof SyntaxError) {
        throw invalid(GENERIC, `JWT: ${err.message}`);
      }
      throw err;
    }
    if (typeof payload.sub !== 'string' || typeof payload['client_id'] !== 'string') throw invalid(GENERIC, 'JWT sub or client_id is not a string');
    if (payload['scope'] !== undefined && typeof payload['scope'] !== 'string') throw invalid(GENERIC, 'JWT scope is not a string');
    return {
      format: 'jwt',
      subject: payload.sub,
      clientId: payload['client_id'],
      scopes: scopesOf(payload['scope']),
      audience: audiences(payload.aud),
      expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : null,
      claims: payload,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Introspection (or the local token source), with a short positive cache

  const cache = new Map<string, { readonly token: VerifiedToken; readonly until: number }>();
  const inflightIntrospection = new Map<string, Promise<VerifiedToken>>();

  async function introspectHttp(token: string): Promise<unknown> {
    const creds = options.introspection;
    if (!creds) throw invalid(GENERIC, 'an opaque token, and no introspection credentials are configured');
    const { introspectionEndpoint } = await discover();
    if (introspectionEndpoint === null) throw unavailable('Authorization server metadata has no introspection_endpoint');
    const basic = Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.clientSecret)}`).toString('base64');
    return getJson(
      introspectionEndpoint,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      },
      'Introspection endpoint',
    );
  }

  /** Checks an RFC 7662 answer the way `jwtVerify` checks a JWT. */
  function fromIntrospection(token: string, answer: unknown): VerifiedToken {
    if (!isRecord(answer) || typeof answer['active'] !== 'boolean') throw unavailable('The introspection answer is not an RFC 7662 response');
    if (answer['active'] !== true) throw invalid();
    const tokenType = answer['token_type'];
    // A refresh token is active too, but it is not an access token.
    if (tokenType !== undefined && (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')) throw invalid(GENERIC, `token_type ${String(tokenType)}`);
    if (answer['iss'] !== undefined && answer['iss'] !== issuer) throw invalid(OTHER_ISSUER);
    const t = now() / 1000;
    const exp = answer['exp'];
    if (exp !== undefined && (typeof exp !== 'number' || exp + skew <= t)) throw invalid(EXPIRED);
    const nbf = answer['nbf'];
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf - skew > t)) throw invalid(NOT_YET_VALID);
    const aud = audiences(answer['aud']);
    if (!aud.some((a) => audience.includes(a))) throw invalid(OTHER_AUDIENCE);
    const clientId = answer['client_id'];
    if (typeof clientId !== 'string') throw invalid(GENERIC, 'introspection answer without client_id');
    const sub = answer['sub'];
    return {
      format: looksLikeJwt(token) ? 'jwt' : 'opaque',
      subject: typeof sub === 'string' ? sub : clientId,
      clientId,
      scopes: scopesOf(answer['scope']),
      audience: aud,
      expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : null,
      claims: answer,
    };
  }

  async function verifyByIntrospection(token: string): Promise<VerifiedToken> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = cache.get(key);
    if (hit) {
      if (hit.until > now()) return hit.token;
      cache.delete(key);
    }
    const pending = inflightIntrospection.get(key);
    if (pending) return pending;
    const run = (async () => {
      const answer = resolveToken ? await resolveToken(token) : await introspectHttp(token);
      const verified = fromIntrospection(token, answer);
      if (cacheTtlMs > 0) {
        const until = Math.min(now() + cacheTtlMs, verified.expiresAt?.getTime() ?? Infinity);
        if (cache.size >= CACHE_MAX_ENTRIES) {
          for (const [k, v] of cache) if (v.until <= now()) cache.delete(k);
          const oldest = cache.keys().next();
          if (cache.size >= CACHE_MAX_ENTRIES && !oldest.done) cache.delete(oldest.value);
        }
        cache.set(key, { token: verified, until });
      }
      return verified;
    })();
    inflightIntrospection.set(key, run);
    try {
      return await run;
    } finally {
      inflightIntrospection.delete(key);
    }
  }

  // ---------------------------------------------------------------------------------------------

  const resourceMetadata =
    options.resourceMetadata === undefined || options.resourceMetadata === false
      ? null
      : buildResourceMetadata(issuer, audience, options.resourceMetadata === true ? {} : options.resourceMetadata);

  /**
   * What every challenge says about this resource (RFC 9728 §5.1, and the scopes a 401 needs,
   * so a client knows what to ask for): added to the error on its way out.
   */
  function described(err: unknown, scopes: readonly string[]): unknown {
    if (!(err instanceof BearerError) || err instanceof ServiceUnavailableError) return err;
    const params: Array<[string, string]> = [];
    if (scopes.length > 0 && err.status === 401) params.push(['scope', scopes.join(' ')]);
    if (resourceMetadata !== null) params.push(['resource_metadata', resourceMetadata.url]);
    if (params.length === 0) return err;
    // An invalid_token may be shared by parallel checks of one token (one introspection): each
    // request gets its own copy, with its own route's scopes.
    const own = err instanceof InvalidTokenError ? new InvalidTokenError(err.description, { realm: err.realm, detail: err.detail }) : err;
    return own.withChallenge(params);
  }

  async function verifyToken(token: string, opts: Omit<VerifyOptions, 'url'> = {}): Promise<VerifiedToken> {
    try {
      const verified = resolveToken || !looksLikeJwt(token) ? await verifyByIntrospection(token) : await verifyJwt(token);
      requireScopes(verified, opts.scopes ?? [], { mode: opts.mode, realm });
      return verified;
    } catch (err) {
      throw described(err, opts.scopes ?? []);
    }
  }

  return {
    issuer,
    audience,
    realm,
    resourceMetadata,
    verifyToken,
    async verify(authorizationHeader, opts = {}) {
      let token: string;
      try {
        assertNoTokenInQuery(opts.url, { realm });
        token = parseAuthorizationHeader(authorizationHeader, { realm });
      } catch (err) {
        throw described(err, opts.scopes ?? []);
      }
      return verifyToken(token, opts);
    },
  };
}
