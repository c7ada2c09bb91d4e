/**
 * Property-based tests (fast-check) of the one strict parameter reader (src/oauth/params.ts):
 * RFC 6749 §3.1/§3.2 "parameters MUST NOT be included more than once" — in any encoding of the
 * name, with any values, empty or not; parameters sent without a value are omitted; values
 * round-trip exactly through form encoding; arbitrary bodies never throw anything but
 * `invalid_request`. Fixed seeds; `PROPERTY_RUNS` cases per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { assertNoRepeats, paramsFromForm, paramsFromJson, single, type Params } from '../../src/oauth/params.js';

const PROPERTY_RUNS = 2000;
const params = (seed: number): fc.Parameters<unknown> => ({ seed, numRuns: PROPERTY_RUNS, verbose: 1 });

const NAMES = ['grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'scope', 'state', 'code_verifier', 'refresh_token', 'token', 'resource', 'a'];
const name = fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 12 }));
const value = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constant(''));

function formEncode(s: string): string {
  return new URLSearchParams([['', s]]).toString().slice(1);
}

/** Every way a form body can spell the name `n`: plain, fully percent-encoded (either hex case), `+` for space. */
const nameSpelling = (n: string): fc.Arbitrary<string> =>
  fc.constantFrom(
    formEncode(n),
    [...Buffer.from(n, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
    [...Buffer.from(n, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    encodeURIComponent(n),
  );

function expectInvalidRequest(fn: () => unknown): OAuthError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(OAuthError);
  const e = caught as OAuthError;
  expect(e.error).toBe('invalid_request');
  expect(e.status).toBe(400);
  return e;
}

describe('paramsFromForm / single / assertNoRepeats: property-based', () => {
  it('unique names round-trip exactly; an empty value reads as absent', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { maxLength: 20, selector: ([k]) => k }), (pairs) => {
        const body = new URLSearchParams(pairs.map(([k, v]): [string, string] => [k, v])).toString();
        const p = paramsFromForm(body);
        assertNoRepeats(p);
        expect(p.size).toBe(pairs.length);
        for (const [k, v] of pairs) {
          expect(p.get(k)).toEqual([v]);
          expect(single(p, k)).toBe(v === '' ? undefined : v);
        }
      }),
      params(3001),
    );
  });

  it('a name present twice is refused, however it is spelled and whatever the values', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, value), { minLength: 1, maxLength: 10, selector: ([k]) => k }),
        fc.nat(),
        value,
        fc.nat(),
        fc.boolean(),
        (pairs, which, second, where, noEquals) => {
          const [n, v] = pairs[which % pairs.length] ?? ['a', ''];
          return fc.assert(
            fc.property(nameSpelling(n), nameSpelling(n), (s1, s2) => {
              const parts = pairs.map(([k, val]) => (k === n ? `${s1}=${formEncode(v)}` : `${formEncode(k)}=${formEncode(val)}`));
              // The repeat: anywhere in the body, with any value, even none at all ("name" / "name=").
              const repeat = noEquals && second === '' ? s2 : `${s2}=${formEncode(second)}`;
              parts.splice(where % (parts.length + 1), 0, repeat);
              const p = paramsFromForm(parts.join('&'));
              expect(p.get(n)?.length).toBe(2);
              const e1 = expectInvalidRequest(() => assertNoRepeats(p));
              expect(e1.description).toContain('must not be repeated');
              const e2 = expectInvalidRequest(() => single(p, n));
              expect(e2.description).toContain('must not be repeated');
            }),
            { seed: 3002 + which, numRuns: 3 },
          );
        },
      ),
      { ...params(3002), numRuns: PROPERTY_RUNS / 2 },
    );
  });

  it('names are compared exactly: case or look-alike variants are different parameters', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), value, value, (n, v1, v2) => {
        const variant = n.toUpperCase() !== n ? n.toUpperCase() : `${n}\u200b`;
        const p = paramsFromForm(`${formEncode(n)}=${formEncode(v1)}&${formEncode(variant)}=${formEncode(v2)}`);
        assertNoRepeats(p);
        expect(single(p, n)).toBe(v1 === '' ? undefined : v1);
        expect(single(p, variant)).toBe(v2 === '' ? undefined : v2);
      }),
      params(3003),
    );
  });

  it('any body of arbitrary bytes parses or is refused with invalid_request — never anything else', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.constantFrom('%', '%z', '%zz', '%G0', '%ff', '%c3', '%c3%28', '%ed%a0%80', '&', '=', '+', 'a', 'a=', '==', '&&', ';', '\u0000', '\ud800'), { maxLength: 60 }).map((xs) => xs.join('')),
    );
    fc.assert(
      fc.property(body, (b) => {
        let p: Params;
        try {
          p = paramsFromForm(b);
        } catch (err) {
          expect(err).toBeInstanceOf(OAuthError);
          expect((err as OAuthError).error).toBe('invalid_request');
          return;
        }
        for (const [k, vs] of p) {
          expect(typeof k).toBe('string');
          for (const v of vs) expect(typeof v).toBe('string');
          if (vs.length > 1) expectInvalidRequest(() => single(p, k));
          else single(p, k);
        }
      }),
      params(3004),
    );
  });

  it('more than 64 parameters are refused; up to 64 are read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), (n) => {
        const body = Array.from({ length: n }, (_, i) => `p${i}=v`).join('&');
        if (n > 64) expectInvalidRequest(() => paramsFromForm(body));
        else expect(paramsFromForm(body).size).toBe(n);
      }),
      { ...params(3005), numRuns: 300 },
    );
  });

  it('JSON bodies: only objects of scalar values are accepted', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const ok =
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v) &&
          Object.keys(v).length <= 64 &&
          Object.values(v).every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x));
        if (ok) {
          const p = paramsFromJson(v);
          assertNoRepeats(p);
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            if (x === null) expect(p.has(k)).toBe(false);
            else expect(p.get(k)).toEqual([String(x)]);
          }
        } else {
          expectInvalidRequest(() => paramsFromJson(v));
        }
      }),
      params(3006),
    );
  });
});
