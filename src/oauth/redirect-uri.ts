/**
 * Redirect URIs (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7.3).
 *
 * Matching is an exact string comparison with a registered value: no wildcards, no case folding,
 * no normalisation, no decoding. The single exception (RFC 8252 §7.3): for a registered loopback
 * `http://127.0.0.1` / `http://[::1]` URI, any port is accepted, the rest must match exactly.
 */
import { invalidRedirectUri } from './errors.js';

/** Parameters Tollgate adds to the redirect URI (RFC 6749 §4.1.2, §4.2.2, §4.1.2.1; RFC 9207; Z7). */
const RESPONSE_PARAMETERS = new Set([
  'code',
  'state',
  'iss',
  'error',
  'error_description',
  'error_uri',
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'return_to',
]);

// A port is a decimal number 0..65535 without leading zeros: `:080` or `:99999` is no port, and
// a URI carrying one is only accepted if registered exactly.
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(0|[1-9]\d{0,4}))?(\/.*)?$/s;

function stripLoopbackPort(uri: string): string | null {
  const m = LOOPBACK.exec(uri);
  if (!m) return null;
  if (m[2] !== undefined && Number(m[2]) > 65535) return null;
  return `http://${m[1]}${m[3] ?? ''}`;
}

/** True iff `requested` is one of `registered`, by exact comparison (plus the loopback port rule). */
export function redirectUriMatches(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const req = stripLoopbackPort(requested);
  if (req === null) return false;
  return registered.some((r) => stripLoopbackPort(r) === req);
}

/**
 * Validates a URI before it is registered. Throws `invalid_redirect_uri` naming the rule.
 * RFC 6749 §3.1.2: absolute URI, no fragment. RFC 9700 §2.1: no `http:` except loopback.
 */
export function assertRegistrableRedirectUri(uri: string): void {
  if (uri.length === 0 || uri.length > 2000) throw invalidRedirectUri('A redirect URI must be 1 to 2000 characters');
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) throw invalidRedirectUri('A redirect URI must not contain spaces or control characters');
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw invalidRedirectUri(`Not an absolute URI: ${uri}`);
  }
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
  if (uri.includes('#')) throw invalidRedirectUri('A redirect URI must not contain a fragment');
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) {
    throw invalidRedirectUri('A redirect URI must not contain user information');
  }
  for (const key of u.searchParams.keys()) {
    // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once." The
    // response parameters are appended to this query, so it must not already carry one of them.
    if (RESPONSE_PARAMETERS.has(key)) {
      throw invalidRedirectUri(`A redirect URI must not carry the response parameter "${key}" in its query`);
    }
  }
  const scheme = u.protocol.toLowerCase();
  if (['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:'].includes(scheme)) {
    throw invalidRedirectUri(`The scheme ${scheme} is not allowed`);
  }
  if (scheme === 'http:') {
    const host = u.hostname;
    if (host !== '127.0.0.1' && host !== '[::1]' && host !== 'localhost') {
      throw invalidRedirectUri('Plain http is only allowed for loopback redirect URIs (127.0.0.1, [::1], localhost)');
    }
  } else if (scheme !== 'https:') {
    // Private-use schemes for native apps (RFC 8252 §7.1) must contain a period (reverse DNS).
    if (!scheme.slice(0, -1).includes('.')) {
      throw invalidRedirectUri('A custom scheme must be a reverse domain name such as com.example.app:');
    }
  } else if (!u.hostname) {
    throw invalidRedirectUri('An https redirect URI needs a host');
  }
}
