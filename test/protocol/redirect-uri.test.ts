/**
 * Redirect URIs (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7.3), pure unit tests of
 * src/oauth/redirect-uri.ts: exact string comparison, the loopback-port exception, and what may be
 * registered. The same classes are driven over HTTP in authorize.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { assertRegistrableRedirectUri, redirectUriMatches } from '../../src/oauth/redirect-uri.js';

const REGISTERED = 'https://client.example/cb';

/** Near-misses of REGISTERED, one per class of normalisation an attacker could hope for. */
const NEAR_MISSES: ReadonlyArray<readonly [string, string]> = [
  ['an extra path segment', 'https://client.example/cb/extra'],
  ['a trailing slash', 'https://client.example/cb/'],
  ['a query added', 'https://client.example/cb?next=https://evil.example'],
  ['an empty query', 'https://client.example/cb?'],
  ['a fragment', 'https://client.example/cb#frag'],
  ['an empty fragment', 'https://client.example/cb#'],
  ['upper-case host', 'https://CLIENT.example/cb'],
  ['upper-case path', 'https://client.example/CB'],
  ['upper-case scheme', 'HTTPS://client.example/cb'],
  ['percent-encoded path character', 'https://client.example/%63b'],
  ['percent-encoded slash', 'https://client.example%2Fcb'],
  ['double-encoded path character', 'https://client.example/%2563b'],
  ['percent-encoded host character', 'https://client%2Eexample/cb'],
  ['userinfo', 'https://user@client.example/cb'],
  ['userinfo pointing elsewhere', 'https://client.example@evil.example/cb'],
  ['explicit default port', 'https://client.example:443/cb'],
  ['another port', 'https://client.example:8443/cb'],
  ['dot segment', 'https://client.example/./cb'],
  ['parent segment', 'https://client.example/x/../cb'],
  ['backslash', 'https://client.example\\cb'],
  ['http instead of https', 'http://client.example/cb'],
  ['scheme-relative', '//client.example/cb'],
  ['a prefix of the registered URI', 'https://client.example/c'],
  ['registered URI as a prefix of the host', 'https://client.example.evil.example/cb'],
  ['trailing dot in the host', 'https://client.example./cb'],
  ['trailing space', 'https://client.example/cb '],
  ['leading space', ' https://client.example/cb'],
  ['trailing NUL', 'https://client.example/cb\u0000'],
  ['trailing encoded NUL', 'https://client.example/cb%00'],
  ['tab inside', 'https://client.example/c\tb'],
  ['another host', 'https://evil.example/cb'],
  ['a wildcard', 'https://*.example/cb'],
  ['javascript: scheme', 'javascript:alert(1)//https://client.example/cb'],
  ['empty string', ''],
];

describe('RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3: exact redirect URI comparison', () => {
  it('accepts the registered value, byte for byte', () => {
    expect(redirectUriMatches(REGISTERED, [REGISTERED])).toBe(true);
    expect(redirectUriMatches('https://other.example/x', [REGISTERED, 'https://other.example/x'])).toBe(true);
  });

  it.each(NEAR_MISSES)('refuses %s', (_label, requested) => {
    expect(redirectUriMatches(requested, [REGISTERED])).toBe(false);
  });

  it('a registered URI with a query must be repeated with exactly that query', () => {
    const withQuery = 'https://client.example/cb?tenant=a';
    expect(redirectUriMatches(withQuery, [withQuery])).toBe(true);
    expect(redirectUriMatches('https://client.example/cb?tenant=b', [withQuery])).toBe(false);
    expect(redirectUriMatches('https://client.example/cb?tenant=a&x=1', [withQuery])).toBe(false);
    expect(redirectUriMatches('https://client.example/cb', [withQuery])).toBe(false);
  });

  it('custom schemes (RFC 8252 §7.1) are compared exactly too', () => {
    expect(redirectUriMatches('com.example.app:/cb', ['com.example.app:/cb'])).toBe(true);
    expect(redirectUriMatches('com.example.app:/cb/', ['com.example.app:/cb'])).toBe(false);
    expect(redirectUriMatches('COM.example.app:/cb', ['com.example.app:/cb'])).toBe(false);
  });
});

describe('RFC 8252 §7.3: loopback redirect URIs accept any port, nothing else varies', () => {
  it.each([
    ['http://127.0.0.1/cb', 'http://127.0.0.1:4567/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/cb'],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:1/cb'],
    ['http://127.0.0.1:8080/cb', 'http://127.0.0.1:4567/cb'],
    ['http://127.0.0.1:8080/cb', 'http://127.0.0.1/cb'],
    ['http://[::1]/cb', 'http://[::1]:4567/cb'],
    ['http://127.0.0.1/cb?x=1', 'http://127.0.0.1:4567/cb?x=1'],
  ])('registered %s accepts %s', (registered, requested) => {
    expect(redirectUriMatches(requested, [registered])).toBe(true);
  });

  it.each([
    ['another path', 'http://127.0.0.1:4567/cb2'],
    ['a trailing slash', 'http://127.0.0.1:4567/cb/'],
    ['localhost instead of the IP literal', 'http://localhost:4567/cb'],
    ['another loopback address', 'http://127.0.0.2:4567/cb'],
    ['IPv6 loopback instead of IPv4', 'http://[::1]:4567/cb'],
    ['https', 'https://127.0.0.1:4567/cb'],
    ['an empty port', 'http://127.0.0.1:/cb'],
    ['a non-numeric port', 'http://127.0.0.1:abc/cb'],
    ['a six-digit port', 'http://127.0.0.1:456789/cb'],
    ['userinfo after the port', 'http://127.0.0.1:4567@evil.example/cb'],
    ['userinfo before the host', 'http://evil@127.0.0.1:4567/cb'],
    ['a fragment', 'http://127.0.0.1:4567/cb#x'],
    ['a query added', 'http://127.0.0.1:4567/cb?x=1'],
    ['upper-case path', 'http://127.0.0.1:4567/CB'],
    ['decimal IP form', 'http://2130706433:4567/cb'],
    ['no path at all', 'http://127.0.0.1:4567'],
  ])('registered http://127.0.0.1/cb refuses %s', (_label, requested) => {
    expect(redirectUriMatches(requested, ['http://127.0.0.1/cb'])).toBe(false);
  });

  it('the port exception does not apply to localhost or to other hosts', () => {
    expect(redirectUriMatches('http://localhost:4567/cb', ['http://localhost/cb'])).toBe(false);
    expect(redirectUriMatches('https://client.example:4567/cb', [REGISTERED])).toBe(false);
  });
});

describe('RFC 6749 §3.1.2 / RFC 9700 §2.1: what may be registered', () => {
  function refusal(uri: string): { error: string; error_description: string } | null {
    try {
      assertRegistrableRedirectUri(uri);
      return null;
    } catch (err) {
      if (err instanceof OAuthError) return err.toJSON();
      throw err;
    }
  }

  it.each([
    'https://client.example/cb',
    'https://client.example/cb?tenant=a',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:8080/cb',
    'http://[::1]/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => {
    expect(refusal(uri)).toBeNull();
  });

  it.each([
    ['a fragment', 'https://client.example/cb#x', 'A redirect URI must not contain a fragment'],
    ['an empty fragment', 'https://client.example/cb#', 'A redirect URI must not contain a fragment'],
    ['userinfo', 'https://user@client.example/cb', 'A redirect URI must not contain user information'],
    ['userinfo with password', 'https://user:pw@client.example/cb', 'A redirect URI must not contain user information'],
    ['javascript:', 'javascript:alert(1)', 'The scheme javascript: is not allowed'],
    ['JavaScript: in mixed case', 'JavaScript:alert(1)', 'The scheme javascript: is not allowed'],
    ['data:', 'data:text/html,hi', 'The scheme data: is not allowed'],
    ['file:', 'file:///etc/passwd', 'The scheme file: is not allowed'],
    ['plain http to a public host', 'http://client.example/cb', 'Plain http is only allowed for loopback redirect URIs (127.0.0.1, [::1], localhost)'],
    ['a relative URI', '/cb', 'Not an absolute URI: /cb'],
    ['a custom scheme that is not reverse-DNS', 'myapp:/cb', 'A custom scheme must be a reverse domain name such as com.example.app:'],
    ['a space', 'https://client.example/c b', 'A redirect URI must not contain spaces or control characters'],
    ['a newline', 'https://client.example/cb\n', 'A redirect URI must not contain spaces or control characters'],
    ['the empty string', '', 'A redirect URI must be 1 to 2000 characters'],
    ['a response parameter (code) in the query', 'https://client.example/cb?code=x', 'A redirect URI must not carry the response parameter "code" in its query'],
    ['a response parameter (state) in the query', 'https://client.example/cb?tenant=a&state=x', 'A redirect URI must not carry the response parameter "state" in its query'],
    ['a response parameter (iss) in the query', 'http://127.0.0.1/cb?iss=https://evil.example', 'A redirect URI must not carry the response parameter "iss" in its query'],
    ['an error parameter in the query', 'com.example.app:/cb?error=x', 'A redirect URI must not carry the response parameter "error" in its query'],
    ['2001 characters', `https://client.example/${'a'.repeat(2001 - 23)}`, 'A redirect URI must be 1 to 2000 characters'],
  ])('refuses %s with invalid_redirect_uri', (_label, uri, description) => {
    expect(refusal(uri)).toEqual({ error: 'invalid_redirect_uri', error_description: description });
  });
});
