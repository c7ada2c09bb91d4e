/**
 * Property-based tests (fast-check) of redirect-URI matching and registration
 * (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7.3, docs/security.md): any string that is not exactly a
 * registered URI is refused, whatever mutation produced it (encodings, case changes, dot
 * segments, userinfo, trailing characters, added query/fragment, repeated parameters, unicode
 * look-alikes, ports, whitespace, backslashes); the only exception is the port of a registered
 * loopback `http://127.0.0.1` / `http://[::1]` URI. Seeds are fixed so every run checks the same
 * cases; `PROPERTY_RUNS` below is the number of generated cases per property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { assertRegistrableRedirectUri, redirectUriMatches } from '../../src/oauth/redirect-uri.js';

const PROPERTY_RUNS = 2000;
const params = (seed: number): fc.Parameters<unknown> => ({ seed, numRuns: PROPERTY_RUNS, verbose: 1 });

// ---------------------------------------------------------------------------------------------
// Generators of well-formed registrable URIs
// ---------------------------------------------------------------------------------------------

const lower = 'abcdefghijklmnopqrstuvwxyz';
const label = fc
  .string({ unit: fc.constantFrom(...`${lower}0123456789`.split('')), minLength: 1, maxLength: 10 })
  .filter((s) => /^[a-z]/.test(s));
const host = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));
/** Path characters, including already-encoded octets (so decoding is a mutation too). */
const pathChar = fc.constantFrom(...`${lower}ABCXYZ0123456789-._~`.split(''), '%2F', '%41', '%7E', '%20');
const segment = fc.array(pathChar, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((ss) => `/${ss.join('/')}`);
const queryKey = fc.constantFrom('a', 'x', 'next', 'lang', 'tenant');
const query = fc.option(
  fc.uniqueArray(fc.tuple(queryKey, segment), { minLength: 1, maxLength: 3, selector: ([k]) => k }).map((kvs) => `?${kvs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  { nil: '' },
);
const httpsUri = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), path, query).map(
  ([h, port, p, q]) => `https://${h}${port === undefined ? '' : `:${port}`}${p}${q}`,
);
const customSchemeUri = fc.tuple(fc.array(label, { minLength: 2, maxLength: 3 }), path).map(([ls, p]) => `${ls.join('.')}:${p}`);
const loopbackHost = fc.constantFrom('127.0.0.1', '[::1]');
const loopbackUri = fc.tuple(loopbackHost, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), path, query).map(
  ([h, port, p, q]) => `http://${h}${port === undefined ? '' : `:${port}`}${p}${q}`,
);
const nonLoopbackUri = fc.oneof(httpsUri, customSchemeUri);

// ---------------------------------------------------------------------------------------------
// Mutations: each returns a string that an attacker might hope is "the same" URI
// ---------------------------------------------------------------------------------------------

type Mutation = (uri: string, pos: number, pick: number) => string;
const at = (s: string, pos: number): number => (s.length === 0 ? 0 : pos % s.length);
const hex = (c: string, upper: boolean): string => {
  const h = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? h.toUpperCase() : h}`;
};
const HOMOGLYPHS: Readonly<Record<string, readonly string[]>> = {
  a: ['\u0430', '\u00e0', '\uff41'],
  c: ['\u0441', '\u217d', '\uff43'],
  e: ['\u0435', '\u00e9'],
  o: ['\u043e', '\u03bf', '0'],
  p: ['\u0440'],
  i: ['\u0456', '1', 'l'],
  l: ['1', 'I', '\u04cf'],
  '.': ['\u3002', '\uff0e', '\u2024'],
  '/': ['\u2215', '\uff0f', '\\'],
  ':': ['\uff1a', '\u02d0'],
  '1': ['l', '\uff11'],
  '0': ['o', 'O', '\uff10'],
};
const TRAILERS = ['/', '.', '?', '#', '&', '%', '%00', '%20', ' ', '\t', '\n', '\r\n', '\u0000', '\u200b', '\ufeff', '..', '/.', ';', ',', '@evil.example', ':', '\\'];

const MUTATIONS: ReadonlyArray<readonly [string, Mutation]> = [
  ['percent-encode one character (upper-case hex)', (u, pos) => {
    const i = at(u, pos);
    return u.slice(0, i) + hex(u.charAt(i), true) + u.slice(i + 1);
  }],
  ['percent-encode one character (lower-case hex)', (u, pos) => {
    const i = at(u, pos);
    return u.slice(0, i) + hex(u.charAt(i), false) + u.slice(i + 1);
  }],
  ['decode the percent-encoded octets', (u) => u.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))],
  ['double-encode a percent sign', (u) => u.replace('%', '%25')],
  ['lower-case hex of encodings', (u) => u.replace(/%([0-9A-F]{2})/g, (_m, h: string) => `%${h.toLowerCase()}`)],
  ['flip the case of one character', (u, pos) => {
    const i = at(u, pos);
    const c = u.charAt(i);
    const f = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    return u.slice(0, i) + f + u.slice(i + 1);
  }],
  ['upper-case the scheme', (u) => u.replace(/^[^:]+/, (s) => s.toUpperCase())],
  ['upper-case the host', (u) => u.replace(/^([^:]+:\/\/)([^/?#]*)/, (_m, a: string, h: string) => a + h.toUpperCase())],
  ['upper-case the path', (u) => u.replace(/^([^:]+:(?:\/\/[^/?#]*)?)([^?#]*)/, (_m, a: string, p: string) => a + p.toUpperCase())],
  ['upper-case everything', (u) => u.toUpperCase()],
  ['insert a ./ dot segment', (u, pos) => insertAtSlash(u, pos, '/.')],
  ['insert a ../ dot segment', (u, pos) => insertAtSlash(u, pos, '/x/..')],
  ['insert an encoded dot segment', (u, pos) => insertAtSlash(u, pos, '/%2e')],
  ['insert a double slash', (u, pos) => insertAtSlash(u, pos, '/')],
  ['add userinfo', (u, _p, pick) => u.replace('://', `://${['user@', 'user:pass@', ':@', '@', 'evil.example@'][pick % 5] ?? ''}`)],
  ['put the whole URI in userinfo', (u) => u.replace('://', '://evil.example:80@').replace(/^([^:]+:\/\/[^/?#]*?)@/, '$1@')],
  ['append a trailing character', (u, _p, pick) => u + (TRAILERS[pick % TRAILERS.length] ?? '')],
  ['prepend whitespace', (u, _p, pick) => [' ', '\t', '\n', '\u00a0', '\ufeff'][pick % 5] + u],
  ['append a query', (u) => `${u}${u.includes('?') ? '&' : '?'}next=https%3A%2F%2Fevil.example`],
  ['append an empty query', (u) => (u.includes('?') ? `${u}&` : `${u}?`)],
  ['append a fragment', (u, _p, pick) => `${u}#${['', 'x', '/evil', '@evil.example'][pick % 4] ?? ''}`],
  ['repeat a query parameter', (u) => {
    const q = u.indexOf('?');
    if (q < 0) return `${u}?a=1&a=1`;
    const first = u.slice(q + 1).split('&')[0] ?? '';
    return `${u}&${first}`;
  }],
  ['reorder query parameters', (u) => {
    const q = u.indexOf('?');
    if (q < 0) return `${u}?b=2&a=1`;
    return `${u.slice(0, q)}?${u.slice(q + 1).split('&').reverse().join('&')}&z=0`;
  }],
  ['replace one character by a unicode look-alike', (u, pos, pick) => {
    for (let k = 0; k < u.length; k++) {
      const i = (at(u, pos) + k) % u.length;
      const alts = HOMOGLYPHS[u.charAt(i)];
      if (alts) return u.slice(0, i) + (alts[pick % alts.length] ?? '') + u.slice(i + 1);
    }
    return `${u}\u200b`;
  }],
  ['add a default or other port', (u, _p, pick) => u.replace(/^(https:\/\/[^/?#:]*)(?::\d+)?/, `$1:${[443, 80, 8443, 0][pick % 4] ?? 443}`).replace(/^([a-z.]+:)(?!\/\/)/, '$1//x')],
  ['add a trailing dot to the host', (u) => u.replace(/^([^:]+:\/\/[^/?#:]*)/, '$1.')],
  ['replace a slash by a backslash', (u, pos) => {
    const slashes = [...u.matchAll(/\//g)].map((m) => m.index ?? 0);
    const i = slashes[pos % Math.max(1, slashes.length)];
    return i === undefined ? `${u}\\` : `${u.slice(0, i)}\\${u.slice(i + 1)}`;
  }],
  ['delete one character', (u, pos) => {
    const i = at(u, pos);
    return u.slice(0, i) + u.slice(i + 1);
  }],
  ['switch scheme', (u) => (u.startsWith('https:') ? `http:${u.slice(6)}` : u.startsWith('http:') ? `https:${u.slice(5)}` : `https://${u}`)],
  ['strip the path', (u) => u.replace(/^([^:]+:\/\/[^/?#]*).*$/s, '$1')],
  ['insert a null byte', (u, pos) => {
    const i = at(u, pos);
    return `${u.slice(0, i)}%00${u.slice(i)}`;
  }],
];

function insertAtSlash(u: string, pos: number, insert: string): string {
  const start = u.indexOf('://') >= 0 ? u.indexOf('/', u.indexOf('://') + 3) : u.indexOf(':') + 1;
  const slashes = [...u.matchAll(/\//g)].map((m) => m.index ?? 0).filter((i) => i >= start);
  const i = slashes[pos % Math.max(1, slashes.length)];
  return i === undefined ? `${u}${insert}` : `${u.slice(0, i)}${insert}${u.slice(i)}`;
}

const mutation = fc.tuple(fc.integer({ min: 0, max: MUTATIONS.length - 1 }), fc.nat(), fc.nat());
const apply = ([m, pos, pick]: [number, number, number], uri: string): { name: string; out: string } => {
  const entry = MUTATIONS[m];
  if (!entry) throw new Error('no such mutation');
  return { name: entry[0], out: entry[1](uri, pos, pick) };
};

// ---------------------------------------------------------------------------------------------
// An oracle for the loopback exception, written independently of the implementation's regex
// ---------------------------------------------------------------------------------------------

function loopbackParts(uri: string): { host: string; rest: string } | null {
  for (const h of ['http://127.0.0.1', 'http://[::1]']) {
    if (!uri.startsWith(h)) continue;
    let rest = uri.slice(h.length);
    if (rest.startsWith(':')) {
      let j = 1;
      while (j < rest.length && j <= 6 && rest.charCodeAt(j) >= 48 && rest.charCodeAt(j) <= 57) j++;
      const digits = rest.slice(1, j);
      if (digits.length === 0 || digits.length > 5 || (digits.length > 1 && digits.startsWith('0')) || Number(digits) > 65535) return null;
      rest = rest.slice(j);
    }
    if (rest !== '' && !rest.startsWith('/')) return null;
    return { host: h, rest };
  }
  return null;
}

/** The specification: exact membership, or same loopback host and same rest with any port. */
function oracle(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const req = loopbackParts(requested);
  if (!req) return false;
  return registered.some((r) => {
    const reg = loopbackParts(r);
    return reg !== null && reg.host === req.host && reg.rest === req.rest;
  });
}

// ---------------------------------------------------------------------------------------------

describe('redirectUriMatches: property-based', () => {
  it('every registered URI matches itself', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(nonLoopbackUri, loopbackUri), { minLength: 1, maxLength: 4 }), fc.nat(), (regs, i) => {
        const r = regs[i % regs.length] ?? '';
        expect(redirectUriMatches(r, regs)).toBe(true);
      }),
      params(1001),
    );
  });

  it('any mutation of a registered (non-loopback) URI that changes it is refused', () => {
    let checked = 0;
    const byMutation = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(nonLoopbackUri, { minLength: 1, maxLength: 3 }), fc.nat(), mutation, (regs, i, m) => {
        const r = regs[i % regs.length] ?? '';
        const { name, out } = apply(m, r);
        const expected = regs.includes(out);
        if (!expected) {
          checked++;
          byMutation.set(name, (byMutation.get(name) ?? 0) + 1);
        }
        expect({ name, out, match: redirectUriMatches(out, regs) }).toEqual({ name, out, match: expected });
      }),
      params(1002),
    );
    // The generator really produced refusals for every mutation class.
    expect(checked).toBeGreaterThan(PROPERTY_RUNS * 0.75);
    for (const [name] of MUTATIONS) expect(byMutation.get(name) ?? 0, name).toBeGreaterThan(0);
  });

  it('loopback URIs: any port is accepted, any other change is refused', () => {
    let portOnly = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(loopbackUri, { minLength: 1, maxLength: 3 }), fc.nat(), mutation, (regs, i, m) => {
        const r = regs[i % regs.length] ?? '';
        const { name, out } = apply(m, r);
        const expected = oracle(out, regs);
        if (expected && !regs.includes(out)) portOnly++;
        if (!expected) refused++;
        expect({ name, out, match: redirectUriMatches(out, regs) }).toEqual({ name, out, match: expected });
      }),
      params(1003),
    );
    expect(refused).toBeGreaterThan(PROPERTY_RUNS * 0.8);
    expect(portOnly).toBeGreaterThan(0);
  });

  it('loopback URIs: the same URI with any port 1..65535 (or none) matches', () => {
    fc.assert(
      fc.property(loopbackHost, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), fc.integer({ min: 1, max: 65535 }), path, query, (h, regPort, port, p, q) => {
        const reg = `http://${h}${regPort === undefined ? '' : `:${regPort}`}${p}${q}`;
        expect(redirectUriMatches(`http://${h}:${port}${p}${q}`, [reg])).toBe(true);
        expect(redirectUriMatches(`http://${h}${p}${q}`, [reg])).toBe(true);
        // ... but never for the other loopback host, https, localhost, or a non-port suffix.
        const other = h === '127.0.0.1' ? '[::1]' : '127.0.0.1';
        expect(redirectUriMatches(`http://${other}:${port}${p}${q}`, [reg])).toBe(false);
        expect(redirectUriMatches(`https://${h}:${port}${p}${q}`, [reg])).toBe(false);
        expect(redirectUriMatches(`http://localhost:${port}${p}${q}`, [reg])).toBe(false);
        expect(redirectUriMatches(`http://${h}:${port}999999${p}${q}`, [reg])).toBe(false);
        expect(redirectUriMatches(`http://${h}:0${port}${p}${q}`, [reg])).toBe(false);
        expect(redirectUriMatches(`http://${h}:${port}@evil.example${p}${q}`, [reg])).toBe(false);
      }),
      params(1004),
    );
  });

  it('arbitrary strings and URLs match only when exactly registered', () => {
    const candidate = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ maxLength: 80 }).map((s) => `http://127.0.0.1${s}`),
      fc.string({ maxLength: 80 }).map((s) => `http://[::1]:${s}`),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(nonLoopbackUri, loopbackUri), { minLength: 1, maxLength: 4 }), candidate, (regs, req) => {
        expect(redirectUriMatches(req, regs)).toBe(oracle(req, regs));
      }),
      params(1005),
    );
  });
});

describe('assertRegistrableRedirectUri: property-based', () => {
  const refuses = (uri: string): boolean => {
    try {
      assertRegistrableRedirectUri(uri);
      return false;
    } catch (err) {
      expect(err).toBeInstanceOf(OAuthError);
      expect((err as OAuthError).error).toBe('invalid_redirect_uri');
      expect((err as OAuthError).status).toBe(400);
      return true;
    }
  };

  it('accepts well-formed https, loopback http and reverse-DNS custom-scheme URIs', () => {
    fc.assert(
      fc.property(fc.oneof(httpsUri, loopbackUri, customSchemeUri), (uri) => {
        expect({ uri, refused: refuses(uri) }).toEqual({ uri, refused: false });
      }),
      params(2001),
    );
  });

  it('refuses any URI with a fragment, userinfo, whitespace or control character', () => {
    const bad = fc.tuple(fc.oneof(httpsUri, loopbackUri, customSchemeUri), fc.nat(), fc.integer({ min: 0, max: 5 }), fc.string({ maxLength: 8 })).map(([u, pos, kind, s]) => {
      switch (kind) {
        case 0:
          return `${u}#${s}`;
        case 1:
          return u.includes('://') ? u.replace('://', `://${encodeURIComponent(s) || 'u'}@`) : `https://${encodeURIComponent(s) || 'u'}:p@${u.split(':')[0] ?? ''}/`;
        case 2:
          return u.includes('://') ? u.replace('://', '://u:p@') : `https://u:p@x.example/`;
        case 3: {
          const i = pos % (u.length + 1);
          return `${u.slice(0, i)}${[' ', '\t', '\n', '\r', '\u0000', '\u007f', '\u00a0', '\u2028'][pos % 8] ?? ' '}${u.slice(i)}`;
        }
        case 4:
          return `${u}${[' ', '\n', '\t'][pos % 3] ?? ' '}`;
        default:
          return u.includes('://') ? u.replace('://', `://evil.example\\@`) : `${u}#`;
      }
    });
    fc.assert(
      fc.property(bad, (uri) => {
        expect({ uri, refused: refuses(uri) }).toEqual({ uri, refused: true });
      }),
      params(2002),
    );
  });

  it('refuses plain http except on loopback hosts, and dangerous schemes in any case', () => {
    const httpNonLoopback = fc.tuple(host, path).map(([h, p]) => `http://${h}${p}`);
    const dangerous = fc
      .tuple(fc.constantFrom('javascript', 'data', 'vbscript', 'file', 'blob', 'about'), fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }), fc.string({ maxLength: 20 }))
      .map(([scheme, caps, rest]) => `${scheme.split('').map((c, i) => (caps[i] ? c.toUpperCase() : c)).join('')}:${rest.replace(/[\s#]/g, '')}x`);
    const noDot = fc.tuple(label, path).map(([l, p]) => `${l}:${p}`);
    fc.assert(
      fc.property(fc.oneof(httpNonLoopback, dangerous, noDot), (uri) => {
        expect({ uri, refused: refuses(uri) }).toEqual({ uri, refused: true });
      }),
      params(2003),
    );
  });

  it('refuses a query carrying a response parameter', () => {
    const resp = fc.constantFrom('code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'access_token', 'token_type', 'expires_in', 'scope');
    fc.assert(
      fc.property(fc.oneof(httpsUri, loopbackUri), resp, segment, (u, k, v) => {
        const uri = `${u}${u.includes('?') ? '&' : '?'}${k}=${v}`;
        expect({ uri, refused: refuses(uri) }).toEqual({ uri, refused: true });
      }),
      params(2004),
    );
  });

  it('never throws anything but invalid_redirect_uri on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.webUrl({ withFragments: true, withQueryParameters: true }), fc.string({ minLength: 1990, maxLength: 2100 })), (uri) => {
        refuses(uri);
      }),
      { ...params(2005), numRuns: 500 },
    );
  });
});
