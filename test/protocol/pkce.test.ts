/**
 * PKCE (RFC 7636; RFC 9700 §2.1.1, §4.8.2), pure unit tests of src/oauth/pkce.ts. The HTTP-level
 * behaviour (authorize and token endpoints) is in authorize.test.ts and token.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { s256, validateChallenge, verifyPkce } from '../../src/oauth/pkce.js';

// RFC 7636 Appendix B: the 32 octets, the verifier they encode, and its S256 challenge.
const OCTETS = [
  116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141,
  121,
];
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const CHALLENGE_SYNTAX = 'code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)';
const VERIFIER_SYNTAX = 'code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)';

function oauthError(fn: () => unknown): { error: string; error_description: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return err.toJSON();
    throw err;
  }
  throw new Error('expected an OAuthError');
}

const strict = { required: false, allowPlain: false } as const;

/** Strings that break the RFC 7636 ABNF `43*128unreserved`, one class per row. */
const MALFORMED: ReadonlyArray<readonly [string, string]> = [
  ['42 characters (too short)', 'a'.repeat(42)],
  ['129 characters (too long)', 'a'.repeat(129)],
  ['base64 "+"', `${'a'.repeat(42)}+`],
  ['base64 "/"', `${'a'.repeat(42)}/`],
  ['padding "="', `${'a'.repeat(42)}=`],
  ['a space', `${'a'.repeat(21)} ${'a'.repeat(21)}`],
  ['a percent-encoded byte', `${'a'.repeat(40)}%41`],
  ['non-ASCII letter', `${'a'.repeat(42)}é`],
  ['a newline at the end', `${'a'.repeat(43)}\n`],
  ['a NUL byte', `${'a'.repeat(42)}\u0000`],
];

describe('RFC 7636 Appendix B', () => {
  it('the example verifier is the base64url encoding of the example octets', () => {
    expect(Buffer.from(OCTETS).toString('base64url')).toBe(VERIFIER);
  });

  it('S256 of the example verifier is the example challenge', () => {
    expect(s256(VERIFIER)).toBe(CHALLENGE);
  });

  it('the example verifier matches the example challenge (S256)', () => {
    expect(() => verifyPkce({ challenge: CHALLENGE, method: 'S256' }, VERIFIER)).not.toThrow();
  });
});

describe('RFC 7636 §4.2/§4.3 validateChallenge (authorization request)', () => {
  it('accepts S256 with a well-formed challenge', () => {
    expect(validateChallenge(CHALLENGE, 'S256', strict)).toEqual({ challenge: CHALLENGE, method: 'S256' });
  });

  it.each([
    ['43 characters', 'a'.repeat(43)],
    ['128 characters', 'a'.repeat(128)],
    ['every unreserved character', `ABCXYZabcxyz0189-._~${'a'.repeat(23)}`],
  ])('accepts the ABNF boundary: %s', (_label, value) => {
    expect(validateChallenge(value, 'S256', strict)).toEqual({ challenge: value, method: 'S256' });
  });

  it.each(MALFORMED)('refuses a challenge with %s (invalid_request)', (_label, value) => {
    expect(oauthError(() => validateChallenge(value, 'S256', strict))).toEqual({
      error: 'invalid_request',
      error_description: CHALLENGE_SYNTAX,
    });
  });

  it('no challenge: allowed when PKCE is not required', () => {
    expect(validateChallenge(undefined, undefined, strict)).toBeNull();
  });

  it('RFC 9700 §2.1.1: no challenge when required (public client) → invalid_request', () => {
    expect(oauthError(() => validateChallenge(undefined, undefined, { required: true, allowPlain: false }))).toEqual({
      error: 'invalid_request',
      error_description: 'PKCE is required for this client: send code_challenge with code_challenge_method=S256',
    });
  });

  it('a method without a challenge → invalid_request', () => {
    expect(oauthError(() => validateChallenge(undefined, 'S256', strict))).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method was sent without code_challenge',
    });
  });

  it.each([
    ['explicit plain', 'plain'],
    ['no method (defaults to plain, RFC 7636 §4.3)', undefined],
  ])('plain is refused by default: %s', (_label, method) => {
    expect(oauthError(() => validateChallenge(CHALLENGE, method, strict))).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method=plain is not allowed; use S256',
    });
  });

  it('plain is accepted when configured', () => {
    expect(validateChallenge(VERIFIER, 'plain', { required: true, allowPlain: true })).toEqual({ challenge: VERIFIER, method: 'plain' });
    expect(validateChallenge(VERIFIER, undefined, { required: true, allowPlain: true })).toEqual({ challenge: VERIFIER, method: 'plain' });
  });

  it.each(['s256', 'S384', 'SHA256', 'S256 ', 'none'])('an unknown method %j → invalid_request (case-sensitive)', (method) => {
    expect(oauthError(() => validateChallenge(CHALLENGE, method, { required: false, allowPlain: true }))).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method must be S256',
    });
  });
});

describe('RFC 7636 §4.6 verifyPkce (token request)', () => {
  it('RFC 9700 §4.8.2: a verifier without a stored challenge is a downgrade → invalid_grant', () => {
    expect(oauthError(() => verifyPkce({ challenge: null, method: null }, VERIFIER))).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier sent but no code_challenge was in the authorization request',
    });
  });

  it('neither challenge nor verifier: nothing to check', () => {
    expect(() => verifyPkce({ challenge: null, method: null }, undefined)).not.toThrow();
  });

  it('a challenge but no verifier → invalid_grant', () => {
    expect(oauthError(() => verifyPkce({ challenge: CHALLENGE, method: 'S256' }, undefined))).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier is required',
    });
  });

  it.each([
    ['another well-formed verifier', 'a'.repeat(43)],
    ['the challenge itself (S256 stored, plain presented)', CHALLENGE],
    ['the verifier with one character changed', `${VERIFIER.slice(0, -1)}Y`],
    ['the verifier with one more character', `${VERIFIER}a`],
  ])('a wrong verifier → invalid_grant: %s', (_label, verifier) => {
    expect(oauthError(() => verifyPkce({ challenge: CHALLENGE, method: 'S256' }, verifier))).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier does not match the code_challenge',
    });
  });

  it.each(MALFORMED)('a verifier with %s → invalid_grant', (_label, verifier) => {
    expect(oauthError(() => verifyPkce({ challenge: CHALLENGE, method: 'S256' }, verifier))).toEqual({
      error: 'invalid_grant',
      error_description: VERIFIER_SYNTAX,
    });
  });

  it('plain: the verifier must equal the challenge exactly', () => {
    expect(() => verifyPkce({ challenge: VERIFIER, method: 'plain' }, VERIFIER)).not.toThrow();
    expect(oauthError(() => verifyPkce({ challenge: VERIFIER, method: 'plain' }, VERIFIER.toUpperCase()))).toEqual({
      error: 'invalid_grant',
      error_description: 'code_verifier does not match the code_challenge',
    });
  });
});
