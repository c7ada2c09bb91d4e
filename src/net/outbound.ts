/**
 * The one way Tollgate calls a URL that someone else registered (an application's
 * `backchannel_logout_uri` or `jwks_uri`, a Client ID Metadata Document and its logo). Such a URL must not let a registrant reach what only the server can reach
 * (SSRF), nor hold the server up:
 * - https only (plain http only to loopback, and only with TOLLGATE_OUTBOUND_INSECURE_LOOPBACK,
 *   for development and tests);
 * - no credentials in the URL, no fragment;
 * - the address is checked **when the socket connects**: the lookup used for the connection is
 *   the one checked, so a DNS answer that changes between a check and the connection (rebinding)
 *   cannot slip through. Every address of the answer must be public unicast (ipaddr.js's range
 *   classification: loopback, private, link-local, carrier-grade NAT, unique-local, multicast,
 *   reserved, documentation, IPv4-mapped, 6to4/Teredo/NAT64 and the unspecified address are all
 *   refused). An address literal in the URL goes through the same check;
 * - redirects are never followed (a 3xx is answered to the caller as is);
 * - bounded: one deadline for the whole exchange, a maximum response size, a maximum request
 *   body; the response body is read only up to the bound.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface OutboundPolicy {
  /** Development and tests only: also allow http(s) to 127.0.0.0/8 and ::1. */
  readonly allowLoopback: boolean;
}

export interface OutboundRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Whole exchange, connection included. */
  readonly timeoutMs?: number;
  /** Response body bound; a longer body fails the request. */
  readonly maxBytes?: number;
  /**
   * The caller's own development setting (TOLLGATE_CIMD_INSECURE_LOOPBACK): loopback allowed for
   * this call even when the client's policy does not. Never turns loopback off.
   */
  readonly allowLoopback?: boolean;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a call was not made or did not complete; the message never contains the URL's query. */
export class OutboundError extends Error {
  constructor(
    readonly reason: 'refused_url' | 'refused_address' | 'timeout' | 'too_large' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 64 * 1024;

/** True when `address` (an IP literal) may be connected to under `policy`. */
export function isAllowedAddress(address: string, policy: OutboundPolicy): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return false;
  }
  const range = parsed.range();
  if (range === 'unicast') return true;
  if (policy.allowLoopback && range === 'loopback') return true;
  return false;
}

/** Validates the URL's shape (before any network activity); returns it parsed. */
export function outboundUrl(raw: string, policy: OutboundPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('refused_url', 'not a valid URL');
  }
  if (url.username !== '' || url.password !== '') throw new OutboundError('refused_url', 'a URL with credentials is not called');
  if (url.hash !== '' || raw.includes('#')) throw new OutboundError('refused_url', 'a URL with a fragment is not called');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host) !== 0;
  if (url.protocol === 'http:') {
    // Plain http only to this machine (a loopback name or address), and only in development.
    const loopback = literal ? ipaddr.parse(host).range() === 'loopback' : host === 'localhost' || host.endsWith('.localhost');
    if (!(policy.allowLoopback && loopback)) throw new OutboundError('refused_url', 'only https URLs are called');
  } else if (url.protocol !== 'https:') {
    throw new OutboundError('refused_url', 'only https URLs are called');
  }
  if (literal && !isAllowedAddress(host, policy)) throw new OutboundError('refused_address', `${host} is not a public address`);
  return url;
}

/**
 * A lookup for `net.connect` that answers only allowed addresses: when any address of the DNS
 * answer is not allowed, the connection fails (a name that also points inside is not trusted).
 */
export function guardedLookup(policy: OutboundPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[] | string) => {
      if (err) return callback(err, '', 0);
      const list = typeof addresses === 'string' ? [{ address: addresses, family: isIP(addresses) }] : addresses;
      const refused = list.find((a) => !isAllowedAddress(a.address, policy));
      if (list.length === 0 || refused !== undefined) {
        const e = new OutboundError('refused_address', `${hostname} resolves to ${refused?.address ?? 'no address'}, which is not a public address`);
        return callback(e as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** Calls `raw` under `policy`; rejects with an OutboundError. */
export function outboundFetch(
  raw: string,
  policy: OutboundPolicy,
  req: OutboundRequest = {},
  resolve: typeof dnsLookup = dnsLookup,
): Promise<OutboundResponse> {
  let url: URL;
  try {
    url = outboundUrl(raw, policy);
  } catch (e) {
    return Promise.reject(e);
  }
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  if (body !== undefined && body.length > MAX_BODY_BYTES) return Promise.reject(new OutboundError('too_large', 'request body too large'));
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const where = `${url.protocol}//${url.host}`;

  return new Promise<OutboundResponse>((resolvePromise, reject) => {
    let settled = false;
    const finish = (err: OutboundError | null, res?: OutboundResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        r.destroy();
        reject(err);
      } else resolvePromise(res as OutboundResponse);
    };
    const r = send(
      url,
      {
        method: req.method ?? 'GET',
        headers: {
          'User-Agent': 'Tollgate',
          ...(req.headers ?? {}),
          ...(body !== undefined ? { 'Content-Length': String(body.length) } : {}),
        },
        lookup: guardedLookup(policy, resolve),
        agent: false,
        // No connection reuse: every call is checked afresh.
        setHost: true,
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? '0');
        if (declared > maxBytes) return finish(new OutboundError('too_large', `${where} answered more than ${maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) return finish(new OutboundError('too_large', `${where} answered more than ${maxBytes} bytes`));
          chunks.push(chunk);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', () => finish(new OutboundError('network', `${where}: the response was cut`)));
      },
    );
    const timer = setTimeout(() => finish(new OutboundError('timeout', `${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    r.on('error', (e) => finish(e instanceof OutboundError ? e : new OutboundError('network', `${where}: ${(e as NodeJS.ErrnoException).code ?? 'connection failed'}`)));
    r.end(body);
  });
}

/**
 * How an instance calls URLs others registered (`ctx.outbound`). The default is `outboundFetch`
 * under the configured policy; an embedding host, a test or the benchmark may give its own (for
 * instance one that answers from memory) through createTollgate's `outbound` option.
 */
export type Outbound = (url: string, req?: OutboundRequest) => Promise<OutboundResponse>;

/** The default `ctx.outbound`: every call through the SSRF guard above. */
export function outboundClient(policy: OutboundPolicy, resolve: typeof dnsLookup = dnsLookup): Outbound {
  return (url, req) => outboundFetch(url, req?.allowLoopback === true ? { allowLoopback: true } : policy, req, resolve);
}

/** Cache-Control max-age (or Expires) of a response, clamped to the configured bounds; seconds. */
export function cacheSeconds(headers: IncomingHttpHeaders, min: number, max: number, now: number): number {
  const cc = String(headers['cache-control'] ?? '').toLowerCase();
  let seconds: number | null = null;
  if (/(^|[,\s])(no-store|no-cache)\b/.test(cc)) seconds = 0;
  else {
    const m = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/.exec(cc);
    if (m) seconds = Number(m[1]);
    else if (typeof headers['expires'] === 'string') {
      const at = Date.parse(headers['expires']);
      if (!Number.isNaN(at)) seconds = Math.max(0, Math.floor((at - now) / 1000));
    }
  }
  return Math.min(Math.max(seconds ?? min, min), max);
}
