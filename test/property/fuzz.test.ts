/**
 * Fuzz suite (issue #6 "Hostile input"): malformed requests to every endpoint of a live server —
 * the ones `/openapi.json` documents plus the page routes (/login, /logout, POST
 * /oauth/authorize) and /oauth/register/:id — with wrong methods, content types, broken
 * percent-encodings, invalid UTF-8, repeated parameters, huge values and bodies, odd headers and
 * requests that are not valid HTTP at all. For every one: never a 5xx, the server stays alive, and
 * the answer is RFC-shaped (JSON `{error, error_description}` for APIs, an HTML page for the
 * routes for people). Bodies over the limit get 413 while the client is still sending.
 *
 * The generator is fast-check with a fixed seed, so every run sends the same cases; the number
 * run is asserted (and printed).
 */
import { connect } from 'node:net';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, basic, startTestServer, type TestServer } from '../helpers/server.js';

const SEED = 20_260_606;
const GENERATED_CASES = 3000;
const CONCURRENCY = 16;

interface Endpoint {
  readonly method: string;
  /** Path template; `{id}` is replaced by a fuzzed identifier. */
  readonly path: string;
  /** A route for people: errors are HTML pages. */
  readonly page: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

interface Case {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: Buffer;
  /** Does the route+method exist (otherwise a 404/405 is expected to be JSON unless it is a GET for HTML)? */
  readonly endpoint: Endpoint | null;
}

let s: TestServer;
let port = 0;
let clientId = '';
let clientSecret = '';
/** A signed-in administrator's cookies and CSRF value, so the page handlers are reached, not only the login redirect. */
let sessionCookie = '';
let csrf = '';
let endpoints: Endpoint[] = [];
const PAGE_ROUTES: readonly Endpoint[] = [
  { method: 'GET', path: '/oauth/authorize', page: true },
  { method: 'POST', path: '/oauth/authorize', page: true },
  { method: 'GET', path: '/login', page: true },
  { method: 'POST', path: '/login', page: true },
  { method: 'GET', path: '/logout', page: true },
  { method: 'POST', path: '/logout', page: true },
  // The portal, the back-office and the account pages (issue 3).
  ...(
    [
      ['GET', '/developers'], ['GET', '/developers/new'], ['POST', '/developers/new'], ['GET', '/developers/apps/{id}'],
      ['GET', '/developers/apps/{id}/credentials'], ['GET', '/developers/apps/{id}/edit'], ['POST', '/developers/apps/{id}/edit'],
      ['POST', '/developers/apps/{id}/rotate'], ['POST', '/developers/apps/{id}/active'], ['GET', '/developers/apps/{id}/delete'],
      ['POST', '/developers/apps/{id}/delete'], ['GET', '/admin'], ['GET', '/admin/apps'], ['GET', '/admin/apps/{id}'],
      ['POST', '/admin/apps/{id}/edit'], ['POST', '/admin/apps/{id}/active'], ['GET', '/admin/apps/{id}/delete'],
      ['POST', '/admin/apps/{id}/delete'], ['GET', '/admin/users'], ['POST', '/admin/users'], ['POST', '/admin/users/{id}/disabled'],
      ['POST', '/admin/users/{id}/admin'], ['GET', '/admin/orgs'], ['POST', '/admin/orgs'], ['POST', '/admin/orgs/members'],
      ['GET', '/admin/audit'], ['GET', '/account'], ['GET', '/account/apps'], ['POST', '/account/apps/{id}/revoke'],
    ] as const
  ).map(([method, path]) => ({ method, path, page: true })),
];
/** The paths of the routes for people (a page even when the request is refused before routing). */
const PAGE_PATH = /^\/(?:oauth\/authorize|login|logout|account|developers|admin(?!\/api(?:[/?]|$)))(?=[?/]|$)/;
const EXTRA_API: readonly Endpoint[] = [
  { method: 'GET', path: '/oauth/register/{id}', page: false },
  { method: 'PUT', path: '/oauth/register/{id}', page: false },
  { method: 'DELETE', path: '/oauth/register/{id}', page: false },
];
/** Routes whose successful answers are not error-shaped documents (they are checked only for status). */
const NON_JSON_OK = /^\/(metrics|docs|assets\/|openapi\.json|healthz|readyz|\.well-known\/|$)/;

function send(c: Case, timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // Bodies are always framed (Node does not add Content-Length for DELETE/OPTIONS/TRACE, and
    // the unframed bytes would be read as a second request); unframed bytes are the raw cases' job.
    const headers: OutgoingHttpHeaders = c.body !== undefined ? { ...c.headers, 'content-length': String(c.body.length) } : c.headers;
    const req = httpRequest({ host: '127.0.0.1', port, method: c.method, path: c.path, headers, agent: false, setHost: !('host' in c.headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${c.label}`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

/** A raw byte stream that need not be valid HTTP; returns the status line's code and the rest. */
function sendRaw(bytes: Buffer, timeoutMs = 5_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(new Error('raw timeout')), timeoutMs);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The server may close while we still write; what it answered before that is what counts.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve(parseRaw(Buffer.concat(chunks)));
      else reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks)));
    });
    sock.end(bytes);
  });
}

function parseRaw(buf: Buffer): Answer {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: end < 0 ? Buffer.alloc(0) : buf.subarray(end + 4) };
}

/** What is wrong with an answer (empty when it is fine). */
function problems(c: Case, a: Answer): string[] {
  const out: string[] = [];
  if (a.status === 0) return ['no HTTP answer'];
  if (a.status >= 500) out.push(`status ${a.status}`);
  if (a.status < 400 || c.method === 'HEAD') return out;
  const ct = String(a.headers['content-type'] ?? '');
  const text = a.body.toString('utf8');
  // Refused before routing (header overflow, bad path encoding): a page for the page paths, JSON elsewhere.
  const preRouting = a.status === 431 || a.status === 414 || (a.status === 400 && /^\/[^?]*%(?![0-9a-fA-F]{2})/.test(c.path));
  const wantsPage = preRouting
    ? (c.method === 'GET' || c.method === 'POST') && PAGE_PATH.test(c.path)
    : c.endpoint?.page === true || (c.endpoint === null && c.method === 'GET' && String(c.headers['accept'] ?? '').includes('text/html'));
  if (wantsPage) {
    if (!ct.startsWith('text/html')) out.push(`page expected, got ${ct}`);
    if (!/^<!doctype html>/i.test(text.trimStart())) out.push('not an HTML document');
    if (!/Error code: [a-z_]+|<form/.test(text)) out.push('page names no error code');
  } else {
    if (!ct.startsWith('application/json')) out.push(`JSON expected, got ${ct}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      out.push(`body is not JSON: ${text.slice(0, 80)}`);
      return out;
    }
    const j = json as { error?: unknown; error_description?: unknown };
    // RFC 6749 §5.2: error = 1*NQSCHAR; error_description likewise printable ASCII.
    if (typeof j.error !== 'string' || !/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/.test(j.error)) out.push(`bad error field: ${text.slice(0, 80)}`);
    if (typeof j.error_description !== 'string') out.push(`no error_description: ${text.slice(0, 80)}`);
  }
  return out;
}

async function alive(): Promise<void> {
  const res = await fetch(`${s.url}/healthz`);
  expect(res.status).toBe(200);
}

/** Statuses seen, for the log line (shows the cases reach handlers, not only the router). */
const seen = new Map<number, number>();

async function runAll(cases: readonly Case[]): Promise<Array<{ label: string; status: number; problems: string[] }>> {
  const failures: Array<{ label: string; status: number; problems: string[] }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++];
      if (!c) break;
      let a: Answer;
      try {
        a = await send(c);
      } catch (err) {
        failures.push({ label: c.label, status: 0, problems: [`request failed: ${(err as Error).message}`] });
        continue;
      }
      seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
      const p = problems(c, a);
      if (p.length > 0) failures.push({ label: c.label, status: a.status, problems: p });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

// ---------------------------------------------------------------------------------------------
// The generator

const PARAM_NAMES = [
  'grant_type', 'code', 'redirect_uri', 'client_id', 'client_secret', 'scope', 'state', 'code_verifier', 'code_challenge',
  'code_challenge_method', 'refresh_token', 'token', 'token_type_hint', 'response_type', 'username', 'password', 'csrf',
  'authorization_request', 'decision', 'return_to', 'resource', 'audience', 'prompt', 'nonce', 'redirect_uris', 'client_name',
  'grant_types', 'name', 'scopes', 'email', 'is_admin', 'active',
];
const ENCODED_JUNK = ['%', '%z', '%zz', '%G1', '%%', '%ff', '%c3%28', '%ed%a0%80', '%f8%88%80%80%80', '%00', '%0d%0a', '+', '%2B', '&', '=', ';'];
const VALUES = [
  'client_credentials', 'authorization_code', 'refresh_token', 'password', 'code', 'token', 'S256', 'plain', 'allow',
  'https://client.example/cb', 'javascript:alert(1)', '/../../etc/passwd', '"><script>alert(1)</script>', "' OR 1=1 --",
  '\u0000', '\u202e', '\ud83d\ude00', '{}', '[]', 'null', 'true', '-1', '1e309', '9'.repeat(40), '__proto__', 'constructor',
];
const paramName = fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', ''));
const paramValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 120_000 }).map((n) => 'x'.repeat(n)) },
);
/** One form/query pair, possibly with broken encoding. */
const pair = fc.tuple(paramName, paramValue, fc.integer({ min: 0, max: 6 }), fc.constantFrom(...ENCODED_JUNK)).map(([k, v, mode, junk]) => {
  const enc = (x: string): string => encodeURIComponent(x);
  switch (mode) {
    case 0:
      return `${enc(k)}=${enc(v)}${junk}`;
    case 1:
      return `${enc(k)}${junk}=${enc(v)}`;
    case 2:
      return enc(k);
    case 3:
      return 'csrf=__CSRF__';
    default:
      return `${enc(k)}=${enc(v)}`;
  }
});
/** Form bodies with repeats: some names appear twice. */
const formBody = fc.tuple(fc.array(pair, { maxLength: 8 }), fc.boolean(), fc.nat()).map(([ps, repeat, i]) => {
  const out = [...ps];
  if (repeat && ps.length > 0) out.push(ps[i % ps.length] ?? '');
  return out.join('&');
});
const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.dictionary(fc.constantFrom(...PARAM_NAMES), fc.oneof(paramValue, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<unknown>), { maxKeys: 6 }).map((o) => JSON.stringify(o)),
  fc.constantFrom('{', '{"a":', '{"a":1,}', '[', '"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '1'.repeat(400), '{"a":"\\ud800"}', '\u0000', ''),
);
const body = fc.oneof(
  { weight: 5, arbitrary: formBody.map((b) => Buffer.from(b, 'utf8')) },
  { weight: 3, arbitrary: jsonBody.map((b) => Buffer.from(b, 'utf8')) },
  // Invalid UTF-8 (overlong, lone continuation bytes, surrogates, truncated sequences) around a form.
  { weight: 2, arbitrary: fc.tuple(formBody, fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.constantFrom([0xff], [0xc0, 0xaf], [0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80])).map(([f, junk, bad]) => Buffer.concat([Buffer.from(`${f}&grant_type=`), Buffer.from(bad), Buffer.from(junk), Buffer.from('&scope=a')])) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from('--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--\r\n'), Buffer.alloc(0)) },
);
const contentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/x-www-form-urlencoded; charset=UTF-16',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'application/x-www-form-urlencoded;;;charset=',
    'APPLICATION/X-WWW-FORM-URLENCODED',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'application/jsonx',
    'text/plain',
    'text/html',
    'multipart/form-data; boundary=x',
    'multipart/form-data',
    'application/xml',
    'application/octet-stream',
    '*/*',
    ';',
    'x',
    '\u00ff',
  ),
  fc.constant(undefined),
);
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE'];
const oddHeaders = fc.record(
  {
    authorization: fc.oneof(
      fc.constantFrom('Basic', 'Basic ', 'Basic %%%', 'Basic ====', 'Bearer', 'Bearer ', 'Bearer a b', 'Digest x', 'Basic Og==', 'Basic OjpfOg==', '\u00ff\u00fe'),
      fc.string({ maxLength: 30 }).map((x) => `Basic ${Buffer.from(x).toString('base64')}`),
      fc.constantFrom('%zz:%', 'a:%', '%00:%00', ':').map((x) => `Basic ${Buffer.from(x).toString('base64')}`),
      fc.integer({ min: 1000, max: 12_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
      fc.constant('valid-basic'),
    ),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', '', 'text/html;q=0.1, application/json'),
    cookie: fc.constantFrom('valid-session', 'valid-session', 'tg_session=%zz', 'tg_session=' + 'a'.repeat(3000), 'tg_csrf=%ff; tg_session=x', 'tollgate_session=' + 'a'.repeat(3000), 'a', '=;=;', 'tollgate_csrf=\u00ff'),
    origin: fc.constantFrom('null', 'https://evil.example', ''),
    'x-forwarded-for': fc.constantFrom('1.2.3.4, 5.6.7.8', 'garbage', ''),
    host: fc.constantFrom('evil.example', '', 'a'.repeat(300), '[::1', 'localhost:99999', '\u00ff'),
  },
  { requiredKeys: ['accept'] },
);
const query = fc.oneof(fc.constant(''), formBody.map((q) => `?${q}`), fc.constantFrom('?', '??', '?%', '?%zz=1', '?&&&', '?a=1&a=1', '?client_id=x&client_id=x', '?#'));
const ids = fc.constantFrom('abc', '%zz', '%00', '..%2F..%2Fadmin', 'a'.repeat(190), 'a'.repeat(300), '%F0%9F%98%80', '-1', '0', 'null');

function materialise(): Case[] {
  const all = [...endpoints, ...PAGE_ROUTES, ...EXTRA_API];
  const arb = fc.record({
    endpoint: fc.constantFrom(...all),
    wrongMethod: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    id: ids,
    query,
    body: fc.option(body, { nil: undefined, freq: 5 }),
    contentType,
    duplicateContentType: fc.boolean(),
    headers: oddHeaders,
  });
  return fc.sample(arb, { seed: SEED, numRuns: GENERATED_CASES }).map((g, n) => {
    const method = g.wrongMethod ?? g.endpoint.method;
    const path = g.endpoint.path.replace(/\{[^}]+\}/g, g.id) + g.query;
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(g.headers)) {
      if (v === undefined) continue;
      headers[k] = k === 'authorization' && v === 'valid-basic' ? basic(clientId, clientSecret) : k === 'cookie' && v === 'valid-session' ? sessionCookie : v;
    }
    if (g.contentType !== undefined) headers['content-type'] = g.duplicateContentType ? [g.contentType, 'application/json'] : g.contentType;
    const exists = all.find((e) => e.method === method && e.path === g.endpoint.path) ?? null;
    const sendBody = method !== 'GET' && method !== 'HEAD' && g.body !== undefined;
    return {
      label: `#${n} ${method} ${path.slice(0, 60)} ct=${String(headers['content-type'] ?? '-').slice(0, 40)} body=${sendBody ? (g.body?.length ?? 0) : '-'}B`,
      method,
      path,
      headers,
      ...(sendBody && g.body ? { body: Buffer.from(g.body.toString('latin1').replaceAll('__CSRF__', csrf), 'latin1') } : {}),
      endpoint: exists,
    };
  });
}

// ---------------------------------------------------------------------------------------------

describe('fuzz: malformed requests to every endpoint', () => {
  beforeAll(async () => {
    s = await startTestServer();
    port = Number(new URL(s.url).port);
    const app = await s.createApp({ name: 'Fuzz', redirectUris: ['https://client.example/cb'], scopes: ['profile'], grantTypes: ['authorization_code', 'client_credentials', 'refresh_token'] });
    clientId = app.client.clientId;
    clientSecret = app.clientSecret ?? '';
    const admin = new Browser(s.url);
    expect((await admin.login('admin@localhost', s.adminPassword)).status).toBe(303);
    sessionCookie = `tg_session=${admin.cookie('tg_session') ?? ''}; tg_csrf=${admin.cookie('tg_csrf') ?? ''}`;
    csrf = decodeURIComponent(admin.cookie('tg_csrf') ?? '');
    expect(admin.cookie('tg_session')).toBeTruthy();
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    endpoints = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
        const page = path === '/oauth/authorize';
        endpoints.push({ method: method.toUpperCase(), path, page });
      }
    }
  });
  afterAll(async () => s?.close());

  it('lists the endpoints from /openapi.json', () => {
    const names = endpoints.map((e) => `${e.method} ${e.path}`);
    for (const must of ['POST /oauth/token', 'POST /oauth/revoke', 'POST /oauth/introspect', 'POST /oauth/register', 'GET /oauth/authorize', 'GET /api/me', 'GET /admin/api/apps', 'POST /admin/api/apps']) {
      expect(names).toContain(must);
    }
  });

  it(`${GENERATED_CASES} generated malformed requests: no 5xx, RFC-shaped errors, server alive`, async () => {
    const cases = materialise();
    expect(cases).toHaveLength(GENERATED_CASES);
    // Every endpoint is hit.
    const hit = new Set(cases.map((c) => c.endpoint && `${c.endpoint.method} ${c.endpoint.path}`));
    for (const e of [...endpoints, ...PAGE_ROUTES, ...EXTRA_API]) expect(hit.has(`${e.method} ${e.path}`), `${e.method} ${e.path}`).toBe(true);
    const failures = await runAll(cases);
    console.log(`fuzz: ${cases.length} generated cases run (seed ${SEED}), ${failures.length} failures; statuses ${JSON.stringify(Object.fromEntries([...seen].sort((x, y) => x[0] - y[0])))}`);
    // The cases reach the handlers: successes, redirects and handler-level refusals, not only 404/415.
    for (const status of [200, 303, 400, 401, 403, 404, 413, 415]) expect(seen.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    await alive();
  }, 60_000);

  it('fixed hostile cases on every endpoint: wrong content types, encodings, UTF-8, repeats, huge values and headers', async () => {
    const all = [...endpoints, ...PAGE_ROUTES, ...EXTRA_API];
    const bodies: ReadonlyArray<readonly [string, string | undefined, Buffer | undefined]> = [
      ['text/plain', 'text/plain', Buffer.from('grant_type=client_credentials')],
      ['multipart', 'multipart/form-data; boundary=x', Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n')],
      ['no content type', undefined, Buffer.from('grant_type=client_credentials')],
      ['utf-16 charset', 'application/x-www-form-urlencoded; charset=utf-16', Buffer.from('a\u0000=\u0000b\u0000', 'latin1')],
      ['lone %', 'application/x-www-form-urlencoded', Buffer.from('grant_type=%&scope=%zz&%=1')],
      ['invalid UTF-8', 'application/x-www-form-urlencoded', Buffer.from([0x67, 0x3d, 0xff, 0xfe, 0xc3, 0x28, 0x26, 0xed, 0xa0, 0x80, 0x3d, 0x31])],
      ['invalid UTF-8 in JSON', 'application/json', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc0, 0xaf, 0x22, 0x7d])],
      ['repeated parameters', 'application/x-www-form-urlencoded', Buffer.from('grant_type=client_credentials&grant_type=client_credentials&scope=a&scope=a')],
      ['100 KB parameter', 'application/x-www-form-urlencoded', Buffer.from(`grant_type=client_credentials&scope=${'a'.repeat(60_000)}`)],
      ['broken JSON', 'application/json', Buffer.from('{"grant_type":')],
      ['JSON array', 'application/json', Buffer.from('[["grant_type","client_credentials"]]')],
      ['JSON nested', 'application/json', Buffer.from('{"grant_type":{"$ne":null},"redirect_uris":[{"a":1}]}')],
      ['prototype pollution', 'application/json', Buffer.from('{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}')],
      ['empty JSON', 'application/json', Buffer.alloc(0)],
    ];
    const cases: Case[] = [];
    for (const e of all) {
      const path = e.path.replace(/\{[^}]+\}/g, 'nope');
      for (const [label, ct, b] of bodies) {
        const headers: OutgoingHttpHeaders = { accept: 'application/json' };
        if (ct !== undefined) headers['content-type'] = ct;
        const withBody = e.method !== 'GET';
        cases.push({ label: `${e.method} ${path} ${label}`, method: e.method, path, headers, ...(withBody && b ? { body: b } : {}), endpoint: e });
      }
      const oddHeaders: ReadonlyArray<readonly [string, OutgoingHttpHeaders]> = [
        ['huge Authorization', { authorization: `Basic ${'A'.repeat(12_000)}` }],
        ['duplicate Content-Type', { 'content-type': ['application/x-www-form-urlencoded', 'application/json'] }],
        ['duplicate Authorization', { Authorization: [basic(clientId, clientSecret), basic(clientId, 'wrong')] }],
        ['weird Host', { host: 'evil.example:99999' }],
        ['empty Host', { host: '' }],
        ['Host with a path', { host: 'evil.example/x?y' }],
        ['non-ASCII Host', { host: '\u00e9vil.example' }],
        ['Basic with broken percent-encoding', { authorization: `Basic ${Buffer.from('%zz:%').toString('base64')}` }],
        ['Basic with invalid UTF-8', { authorization: `Basic ${Buffer.from([0xff, 0x3a, 0xc0]).toString('base64')}` }],
      ];
      for (const [label, h] of oddHeaders) {
        const headers: OutgoingHttpHeaders = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...h };
        cases.push({ label: `${e.method} ${path} ${label}`, method: e.method, path, headers, ...(e.method !== 'GET' ? { body: Buffer.from('grant_type=client_credentials&token=x') } : {}), endpoint: e });
      }
      for (const m of METHODS) {
        if (all.some((x) => x.method === m && x.path === e.path) || (m === 'HEAD' && e.method === 'GET')) continue;
        cases.push({ label: `wrong method ${m} ${path}`, method: m, path, headers: { accept: 'application/json' }, endpoint: null });
      }
      cases.push({ label: `GET ${path} with a 100 KB query`, method: 'GET', path: `${path}?redirect_uri=${'a'.repeat(100_000)}`, headers: { accept: 'text/html' }, endpoint: e.method === 'GET' ? e : null });
      cases.push({ label: `${e.method} ${path} with a 6 KB query`, method: e.method, path: `${path}?scope=${'a'.repeat(6_000)}&scope=b`, headers: { accept: 'text/html' }, endpoint: e });
    }
    const failures = await runAll(cases);
    console.log(`fuzz: ${cases.length} fixed hostile cases run, ${failures.length} failures`);
    expect(failures).toEqual([]);
    await alive();
  }, 60_000);

  it('requests that are not valid HTTP get an RFC-shaped 400/431, never a crash', async () => {
    const raw: ReadonlyArray<readonly [string, string | Buffer, number, boolean]> = [
      ['garbage request line', 'HELLO\r\n\r\n', 400, false],
      ['space in the path', 'GET /oauth/token x y HTTP/1.1\r\nHost: a\r\n\r\n', 400, false],
      ['raw 0xff byte in the URL (API)', Buffer.concat([Buffer.from('GET /api/me?a='), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: a\r\n\r\n')]), 400, false],
      ['raw 0xff byte in the URL (page)', Buffer.concat([Buffer.from('GET /oauth/authorize?client_id='), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: a\r\n\r\n')]), 400, true],
      ['header without a colon', 'POST /oauth/token HTTP/1.1\r\nHost: a\r\nbroken header\r\n\r\n', 400, false],
      ['Content-Length and Transfer-Encoding (smuggling)', 'POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, false],
      ['two Content-Length headers', 'POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde', 400, false],
      ['negative Content-Length', 'POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400, false],
      ['bad chunk size', 'POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400, false],
      ['headers over the limit (API)', `GET /api/me HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431, false],
      ['headers over the limit (page)', `GET /oauth/authorize?x=${'b'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 431, true],
      ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, false],
      ['NUL bytes', Buffer.alloc(64, 0), 400, false],
    ];
    for (const [label, bytes, status, page] of raw) {
      const a = await sendRaw(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      expect({ label, status: a.status }).toEqual({ label, status });
      const text = a.body.toString('utf8');
      if (page) {
        expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(text).toMatch(/^<!doctype html>/i);
        expect(text).toContain('Error code: invalid_request');
      } else {
        expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) as string });
      }
      expect(a.headers['cache-control']).toBe('no-store');
    }
    await alive();
  });

  /**
   * A body over the limit: the answer (413) must arrive while the client is still sending, so the
   * server never buffers it whole. The upload is paced so that "still sending" is observable.
   */
  async function oversizeUpload(method: string, path: string, chunked: boolean): Promise<{ status: number; sentWhenAnswered: number; total: number; type: string; text: string }> {
    const total = 1024 * 1024;
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    return new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const headers: OutgoingHttpHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      if (!chunked) headers['content-length'] = String(total);
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        answered = true;
        const sentWhenAnswered = sent;
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, sentWhenAnswered, total, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString() });
        });
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      req.write('grant_type=client_credentials&scope=');
      const pump = (): void => {
        if (answered || sent >= total) {
          if (!answered) req.end();
          return;
        }
        sent += chunk.length;
        req.write(chunk);
        setTimeout(pump, 5);
      };
      pump();
    });
  }

  for (const [method, path, page] of [
    ['POST', '/oauth/token', false],
    ['POST', '/oauth/register', false],
    ['POST', '/login', true],
    ['POST', '/oauth/authorize', true],
  ] as const) {
    for (const chunked of [false, true]) {
      it(`a 1 MB body to ${method} ${path} (${chunked ? 'chunked' : 'Content-Length'}) is refused with 413 before it is all sent`, async () => {
        const r = await oversizeUpload(method, path, chunked);
        expect(r.status).toBe(413);
        expect(r.sentWhenAnswered).toBeLessThan(r.total);
        if (page) {
          expect(r.type).toBe('text/html; charset=utf-8');
          expect(r.text).toContain('Error code: invalid_request');
        } else {
          expect(JSON.parse(r.text)).toEqual({ error: 'invalid_request', error_description: 'The request body is too large' });
        }
        await alive();
      });
    }
  }

  it('still works after the fuzzing: a valid client_credentials request gets 200', async () => {
    const res = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, clientSecret) },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) as string });
  });
});
