/** Messages between the driver (bench/run.ts) and the load generator process (bench/load.ts). */
import type { OpenLoopResult } from './open-loop.js';

export interface StaticSpec {
  readonly kind: 'static';
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly duration: number;
  /** overall request rate cap (req/s), for latency probes */
  readonly rate?: number;
  /** One body per connection (connection i sends bodies[i % n]) instead of `body`. */
  readonly bodies?: readonly string[];
  /** The status a completed unit answers (default: any 2xx), e.g. 400 for a pending device poll. */
  readonly okStatus?: number;
  /**
   * `{n}` in `url` is replaced by a number new for each request (a fresh Client ID Metadata
   * Document URL each time, for the CIMD first-use scenario).
   */
  readonly unique?: boolean;
  /**
   * private_key_jwt (RFC 7523): each request's body is `body` plus a client assertion signed for
   * it (ES256, a new jti each time), as a client would send.
   */
  readonly assertion?: AssertionSpec;
  /**
   * The closed-loop generator: autocannon in the load process (default), or wrk (1 thread, a
   * native binary: several times less CPU per request) spawned by it, when installed.
   */
  readonly generator?: 'autocannon' | 'wrk';
  /** wrk only: the CPUs it may run on (taskset list, e.g. "1") */
  readonly generatorCpus?: string;
}

export interface AssertionSpec {
  readonly clientId: string;
  /** The server's issuer identifier. */
  readonly aud: string;
  /** The client's private key (a P-256 JWK with `d`). */
  readonly privateJwk: Readonly<Record<string, string>>;
  readonly kid: string;
}

/** Refresh grant: a shared pool of refresh tokens, each response's new token goes back in. */
export interface RefreshSpec {
  readonly kind: 'refresh';
  readonly url: string;
  readonly basic: string;
  readonly poolName: string;
  /** seeds the pool the first time this poolName is seen */
  readonly pool: readonly string[];
  readonly connections: number;
  readonly duration: number;
}

/**
 * authorize (signed-in, remembered consent) -> 302/303 with code -> token with PKCE verifier.
 * A flow counts only when the token response is 200 (and, with `oidc`, carries the ID token).
 */
export interface AuthCodeSpec {
  readonly kind: 'authcode';
  readonly base: string;
  /** '/oauth/authorize' (Tollgate) or '/auth' (oidc-provider) */
  readonly authorizePath: string;
  /** '/oauth/token' (Tollgate) or '/token' (oidc-provider) */
  readonly tokenPath: string;
  /**
   * OpenID Connect: every authorization request carries a fresh `nonce`, and a flow counts only if
   * the token response has an `id_token` whose header names this `alg` and whose payload echoes
   * the nonce (decoded, not verified: the load generator checks what was issued, not the key).
   */
  readonly oidc?: { readonly alg: string };
  readonly clientId: string;
  readonly basic: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly cookie: string;
  readonly connections: number;
  readonly duration: number;
}

export interface ParallelSpec {
  readonly kind: 'parallel';
  readonly specs: readonly LoadSpec[];
}

export type LoadSpec = StaticSpec | RefreshSpec | AuthCodeSpec;

/**
 * An open-loop run (bench/lib/open-loop.ts): `unit` (a request, a refresh from a pool, or a whole
 * code flow) started `rate` times a second on a fixed schedule for `duration` seconds, over a pool
 * of `connections` keep-alive connections; latency counted from each unit's scheduled time.
 */
export interface OpenLoopSpec {
  readonly kind: 'open';
  readonly rate: number;
  readonly duration: number;
  readonly connections: number;
  readonly unit: Omit<StaticSpec, 'connections' | 'duration'> | Omit<RefreshSpec, 'connections' | 'duration'> | Omit<AuthCodeSpec, 'connections' | 'duration'>;
}

export interface LoadResult {
  readonly requests: number;
  /** completed units: requests, or flows for authcode */
  readonly units: number;
  readonly seconds: number;
  readonly rps: number;
  readonly unitsPerSec: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** responses whose status was not the one the scenario expects (flows) */
  readonly bad: number;
  readonly statusCodes: Record<string, number>;
  /** CPU time (user+system, ms) the load generator itself used during the run */
  readonly generatorCpuMs?: number;
}

export type Request =
  | { readonly id: number; readonly spec: LoadSpec }
  | { readonly id: number; readonly parallel: readonly LoadSpec[] }
  | { readonly id: number; readonly open: OpenLoopSpec };

export type Reply =
  | { readonly id: number; readonly results: readonly LoadResult[] }
  | { readonly id: number; readonly openResult: OpenLoopResult }
  | { readonly id: number; readonly error: string };
