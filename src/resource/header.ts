/**
 * Reading the bearer token of a request (RFC 6750 §2): only from the `Authorization` header
 * (§2.1). A token in the query string (§2.3) is refused: it ends up in logs and `Referer` headers.
 * Form-body tokens (§2.2) are not read.
 */
import { InvalidRequestError } from './errors.js';

/** Longest `Authorization` header accepted, in characters. */
export const MAX_AUTHORIZATION_LENGTH = 8192;

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// The scheme name is case-insensitive (RFC 7235 §2.1); exactly one space, exactly one token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The token of an `Authorization: Bearer …` header. Throws `InvalidRequestError`: 401 with the
 * bare challenge when the header is absent, 400 when it is malformed (another scheme, two tokens,
 * an empty token, quotes, extra spaces) or larger than 8 KiB.
 */
export function parseAuthorizationHeader(header: string | readonly string[] | undefined, opts: { readonly realm?: string | undefined } = {}): string {
  const realm = opts.realm;
  if (header === undefined) throw new InvalidRequestError('An access token is required', { realm, missingToken: true });
  // Several Authorization headers: more than one set of credentials (RFC 6750 §2).
  if (typeof header !== 'string') throw new InvalidRequestError('Malformed Authorization header: expected "Bearer <token>"', { realm });
  if (header.length > MAX_AUTHORIZATION_LENGTH) throw new InvalidRequestError('The Authorization header is too large', { realm });
  const m = BEARER.exec(header);
  if (!m?.[1]) throw new InvalidRequestError('Malformed Authorization header: expected "Bearer <token>"', { realm });
  return m[1];
}

/**
 * Refuses a request whose URL carries `access_token` in its query string. `url` is a path with an
 * optional query (`/documents?x=1`), an absolute URL, or a `URLSearchParams`. The query is parsed,
 * not pattern-matched, so `access%5Ftoken=` is caught too.
 */
export function assertNoTokenInQuery(url: string | URLSearchParams | undefined, opts: { readonly realm?: string | undefined } = {}): void {
  if (url === undefined) return;
  let params: URLSearchParams;
  if (typeof url === 'string') {
    const i = url.indexOf('?');
    if (i < 0) return;
    const end = url.indexOf('#', i);
    params = new URLSearchParams(url.slice(i + 1, end < 0 ? undefined : end));
  } else {
    params = url;
  }
  if (params.has('access_token')) {
    throw new InvalidRequestError('Send the access token in the Authorization header, not in the query string', { realm: opts.realm });
  }
}
