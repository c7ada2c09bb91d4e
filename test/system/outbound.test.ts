/**
 * The SSRF-safe outbound client (src/net/outbound.ts): which addresses it refuses, that the check
 * is made on the address the socket connects to (a DNS answer cannot be swapped after a check),
 * and that it is bounded (no redirects followed, a size cap, a deadline). Loopback only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundError, isAllowedAddress, outboundFetch } from '../../src/net/outbound.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const STRICT = { allowLoopback: false };
const DEV = { allowLoopback: true };

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof OutboundError ? e.reason : `other: ${String(e)}`;
  }
}

/** A resolver answering fixed addresses, and counting the questions. */
function fakeResolver(answers: string[]): { resolve: typeof lookup; asked: () => number } {
  let asked = 0;
  const resolve = ((_host: string, _opts: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) => {
    asked++;
    cb(null, answers.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4 })));
  }) as unknown as typeof lookup;
  return { resolve, asked: () => asked };
}

it('TOLLGATE_OUTBOUND_INSECURE_LOOPBACK is refused unless the issuer is on localhost', () => {
  expect(loadConfig({ TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: 'true' }).outboundInsecureLoopback).toBe(true);
  expect(loadConfig({}).outboundInsecureLoopback).toBe(false);
  let err: unknown;
  try {
    loadConfig({ TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: 'true', TOLLGATE_ISSUER: 'https://auth.example' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).problems).toEqual(['TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: only for development, with an issuer on localhost']);
});

describe('address classification', () => {
  it.each([
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '255.255.255.255', '224.0.0.1', '192.0.2.10', '198.18.0.1', '198.51.100.7', '203.0.113.9', '240.0.0.1',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:8.8.8.8',
    '2001:db8::1', '64:ff9b::a00:1', '2002:a00:1::', '2001::1', 'not-an-address',
  ])('%s is refused', (address) => {
    expect(isAllowedAddress(address, STRICT)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4007:80a::200e'])('%s is public', (address) => {
    expect(isAllowedAddress(address, STRICT)).toBe(true);
  });

  it('the development switch adds loopback only', () => {
    expect(isAllowedAddress('127.0.0.1', DEV)).toBe(true);
    expect(isAllowedAddress('::1', DEV)).toBe(true);
    expect(isAllowedAddress('10.0.0.1', DEV)).toBe(false);
    expect(isAllowedAddress('::ffff:127.0.0.1', DEV)).toBe(false);
    expect(isAllowedAddress('169.254.169.254', DEV)).toBe(false);
  });
});

describe('outboundFetch', () => {
  let server: Server;
  let base: string;
  let hits: string[];
  beforeAll(async () => {
    hits = [];
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/ok') {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`got ${req.method} ${body}`));
      } else if (req.url === '/redirect') res.writeHead(302, { Location: '/target' }).end();
      else if (req.url === '/big') res.writeHead(200).end(Buffer.alloc(200_000, 97));
      else if (req.url === '/chunked-big') {
        res.writeHead(200);
        const timer = setInterval(() => res.write(Buffer.alloc(16_384, 98)), 5);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/slow') {
        // never answers
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses URLs of the wrong shape before any connection', async () => {
    expect(await reason(outboundFetch('ftp://example.com/x', STRICT))).toBe('refused_url');
    expect(await reason(outboundFetch('http://example.com/x', STRICT))).toBe('refused_url');
    expect(await reason(outboundFetch('https://user:pw@example.com/x', STRICT))).toBe('refused_url');
    expect(await reason(outboundFetch('https://example.com/x#frag', STRICT))).toBe('refused_url');
    expect(await reason(outboundFetch('not a url', STRICT))).toBe('refused_url');
    // plain http even to loopback needs the development switch; to anything else never
    expect(await reason(outboundFetch(`${base}/ok`, STRICT))).toBe('refused_url');
    expect(await reason(outboundFetch('http://10.0.0.1/x', DEV))).toBe('refused_url');
    expect(hits).toEqual([]);
  });

  it('refuses address literals that are not public, in every spelling', async () => {
    for (const url of [
      'https://127.0.0.1/', 'https://[::1]/', 'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/', 'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/', 'https://2130706433/', 'https://0x7f.0.0.1/', 'https://0177.0.0.1/', 'https://127.1/', 'https://[fe80::1]/', 'https://0.0.0.0/',
    ]) {
      expect([url, await reason(outboundFetch(url, STRICT))]).toEqual([url, 'refused_address']);
    }
  });

  it('checks the DNS answer the connection uses: a name resolving inside is refused, even with a public address beside it', async () => {
    for (const answers of [['127.0.0.1'], ['10.0.0.5'], ['93.184.216.34', '127.0.0.1'], ['::ffff:169.254.169.254'], []]) {
      const r = fakeResolver(answers);
      expect(await reason(outboundFetch('https://rebind.example/x', STRICT, {}, r.resolve))).toBe('refused_address');
      expect(r.asked()).toBe(1);
    }
    // localhost itself goes through the system resolver and is refused too
    expect(await reason(outboundFetch('https://localhost/x', STRICT))).toBe('refused_address');
  });

  it('with the development switch, calls loopback and returns status, headers and body', async () => {
    const res = await outboundFetch(`${base}/ok`, DEV, { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain');
    expect(res.body.toString()).toBe('got POST a=1');
  });

  it('never follows a redirect', async () => {
    hits.length = 0;
    const res = await outboundFetch(`${base}/redirect`, DEV);
    expect(res.status).toBe(302);
    expect(hits).toEqual(['/redirect']);
  });

  it('is bounded: a large body (declared or streamed) and a silent server both fail', async () => {
    expect(await reason(outboundFetch(`${base}/big`, DEV, { maxBytes: 100_000 }))).toBe('too_large');
    expect(await reason(outboundFetch(`${base}/chunked-big`, DEV, { maxBytes: 100_000 }))).toBe('too_large');
    // Only the deadline answers 'timeout': the silent server never would.
    expect(await reason(outboundFetch(`${base}/slow`, DEV, { timeoutMs: 300 }))).toBe('timeout');
    expect(await reason(outboundFetch(`${base}/ok`, DEV, { method: 'POST', body: 'x'.repeat(70_000) }))).toBe('too_large');
  });
});
