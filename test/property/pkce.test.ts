/**
 * Property-based tests (fast-check) of PKCE (RFC 7636, src/oauth/pkce.ts): the verifier and the
 * challenge are accepted exactly when they match the ABNF `43*128unreserved`
 * (unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"), checked here against an oracle that does
 * not use the implementation's regular expression; S256 round-trips; any other verifier is
 * `invalid_grant`; the downgrade rules hold. Fixed seeds; `PROPERTY_RUNS` cases per property.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { s256, validateChallenge, verifyPkce } from '../../src/oauth/pkce.js';

const PROPERTY_RUNS = 2000;
const params = (seed: number): fc.Parameters<unknown> => ({ seed, numRuns: PROPERTY_RUNS, verbose: 1 });

const UNRESERVED = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'.split(''));
/** RFC 7636 §4.1 ABNF, by hand. */
function abnf(s: string): boolean {
  if (s.length < 43 || s.length > 128) return false;
  for (const c of s) if (!UNRESERVED.has(c)) return false;
  return true;
}

const unreservedChar = fc.constantFrom(...UNRESERVED);
const validVerifier = fc.string({ unit: unreservedChar, minLength: 43, maxLength: 128 });
/** Strings near the ABNF's edges: right alphabet with wrong length, right length with one bad character. */
const nearMiss = fc.oneof(
  fc.string({ unit: unreservedChar, minLength: 0, maxLength: 42 }),
  fc.string({ unit: unreservedChar, minLength: 129, maxLength: 300 }),
  fc
    .tuple(validVerifier, fc.nat(), fc.constantFrom('+', '/', '=', ' ', '%', '!', '*', '\n', '\u0000', '\u00e9', '\u0430', '\uff41', '\ud83d\ude00', '%41', '\t', "'", '"', '\\'))
    .map(([v, i, c]) => {
      const k = i % v.length;
      return v.slice(0, k) + c + v.slice(k + 1);
    }),
);
const anyString = fc.oneof(validVerifier, nearMiss, fc.string({ unit: 'binary', maxLength: 200 }));

function oauthError(fn: () => unknown): OAuthError | null {
  try {
    fn();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    return err as OAuthError;
  }
}

const strict = { required: false, allowPlain: false } as const;

describe('PKCE: property-based', () => {
  it('RFC 7636 Appendix B vector', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('s256 is BASE64URL(SHA256(ASCII(verifier))) without padding, and is itself a valid challenge', () => {
    fc.assert(
      fc.property(validVerifier, (v) => {
        const c = s256(v);
        expect(c).toBe(createHash('sha256').update(Buffer.from(v, 'latin1')).digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
        expect(c).toHaveLength(43);
        expect(abnf(c)).toBe(true);
        expect(validateChallenge(c, 'S256', strict)).toEqual({ challenge: c, method: 'S256' });
      }),
      params(4001),
    );
  });

  it('a challenge is accepted exactly when it matches the ABNF', () => {
    fc.assert(
      fc.property(anyString, (c) => {
        const err = oauthError(() => validateChallenge(c, 'S256', strict));
        if (abnf(c)) expect(err).toBeNull();
        else expect({ c, error: err?.error, status: err?.status }).toEqual({ c, error: 'invalid_request', status: 400 });
      }),
      params(4002),
    );
  });

  it('S256 round-trips: the verifier behind a challenge redeems it, and only that one', () => {
    fc.assert(
      fc.property(validVerifier, anyString, (v, other) => {
        const stored = { challenge: s256(v), method: 'S256' };
        expect(oauthError(() => verifyPkce(stored, v))).toBeNull();
        if (other === v) return;
        const err = oauthError(() => verifyPkce(stored, other));
        expect({ other, error: err?.error, status: err?.status }).toEqual({ other, error: 'invalid_grant', status: 400 });
      }),
      params(4003),
    );
  });

  it('a verifier outside the ABNF is refused even when its hash matches the challenge', () => {
    fc.assert(
      fc.property(nearMiss, (v) => {
        fc.pre(!abnf(v));
        const err = oauthError(() => verifyPkce({ challenge: s256(v), method: 'S256' }, v));
        expect({ v, error: err?.error }).toEqual({ v, error: 'invalid_grant' });
      }),
      params(4004),
    );
  });

  it('small changes to a verifier never pass (case, one character, truncation, extension)', () => {
    fc.assert(
      fc.property(validVerifier, fc.nat(), fc.integer({ min: 0, max: 3 }), unreservedChar, (v, i, kind, c) => {
        const k = i % v.length;
        const mutated =
          kind === 0
            ? v.slice(0, k) + (v.charAt(k) === v.charAt(k).toUpperCase() ? v.charAt(k).toLowerCase() : v.charAt(k).toUpperCase()) + v.slice(k + 1)
            : kind === 1
              ? v.slice(0, k) + c + v.slice(k + 1)
              : kind === 2
                ? v.slice(0, -1)
                : v + c;
        fc.pre(mutated !== v);
        const err = oauthError(() => verifyPkce({ challenge: s256(v), method: 'S256' }, mutated));
        expect(err?.error).toBe('invalid_grant');
      }),
      params(4005),
    );
  });

  it('downgrades: a verifier without a challenge and a challenge without a verifier are invalid_grant', () => {
    fc.assert(
      fc.property(anyString, (v) => {
        expect(oauthError(() => verifyPkce({ challenge: null, method: null }, v))?.error).toBe('invalid_grant');
        const c = abnf(v) ? s256(v) : s256('x'.repeat(43));
        expect(oauthError(() => verifyPkce({ challenge: c, method: 'S256' }, undefined))?.error).toBe('invalid_grant');
      }),
      params(4006),
    );
    expect(oauthError(() => verifyPkce({ challenge: null, method: null }, undefined))).toBeNull();
  });

  it('only S256 is accepted as a method by default; plain (explicit or implied) only when allowed', () => {
    const method = fc.oneof(
      fc.constantFrom('S256', 'plain', 's256', 'PLAIN', 'Plain', 'S256 ', ' S256', 'S512', 'sha256', 'S-256', 'none', 'S256\u0000'),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(validVerifier, fc.option(method, { nil: undefined }), fc.boolean(), (c, m, allowPlain) => {
        const err = oauthError(() => validateChallenge(c, m, { required: false, allowPlain }));
        const effective = m ?? 'plain';
        const ok = effective === 'S256' || (effective === 'plain' && allowPlain);
        if (ok) expect(err).toBeNull();
        else expect({ m, error: err?.error }).toEqual({ m, error: 'invalid_request' });
      }),
      params(4007),
    );
  });

  it('plain, when allowed, compares the verifier itself exactly', () => {
    fc.assert(
      fc.property(validVerifier, validVerifier, (c, v) => {
        const stored = validateChallenge(c, 'plain', { required: false, allowPlain: true });
        expect(stored).toEqual({ challenge: c, method: 'plain' });
        const err = oauthError(() => verifyPkce({ challenge: c, method: 'plain' }, v));
        if (v === c) expect(err).toBeNull();
        else expect(err?.error).toBe('invalid_grant');
      }),
      params(4008),
    );
  });

  it('required PKCE: no challenge is invalid_request; a method without a challenge is invalid_request', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), fc.boolean(), (m, required) => {
        const err = oauthError(() => validateChallenge(undefined, m, { required, allowPlain: false }));
        if (m === undefined && !required) expect(err).toBeNull();
        else expect(err?.error).toBe('invalid_request');
      }),
      { ...params(4009), numRuns: 200 },
    );
  });
});
