/**
 * The load generator: a separate process (forked by bench/run.ts) that runs autocannon on request.
 * It never shares a process with a server, so its CPU is not the server's. Latencies are recorded
 * per response in microseconds (autocannon's own histogram is whole milliseconds and skips 3xx).
 */
import { createHash, createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { openLoop, type Unit } from './lib/open-loop.js';
import type { AssertionSpec, AuthCodeSpec, LoadResult, LoadSpec, OpenLoopSpec, RefreshSpec, Reply, Request, StaticSpec } from './lib/types.js';

type Instance = autocannon.Instance;
type AcOptions = Parameters<typeof autocannon>[0];
// autocannon's request objects are shared by all connections unless each gets its own copy.
type AcRequest = NonNullable<AcOptions['requests']>[number];
interface AcClient {
  setRequests(requests: AcRequest[]): void;
}

const pools = new Map<string, string[]>();

function finish(opts: AcOptions, unitsOf: (ok: Record<string, number>) => number, counters: { bad: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const hist = createHistogram();
    let inst: Instance;
    try {
      inst = autocannon(opts, (err, res) => {
        if (err) return reject(err);
        const statusCodes: Record<string, number> = {};
        for (const [code, v] of Object.entries(res.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count;
        const seconds = res.duration;
        const requests = res.requests.total;
        const units = unitsOf(statusCodes);
        const q = (p: number) => (hist.count > 0 ? hist.percentile(p) / 1000 : 0);
        resolve({
          requests,
          units,
          seconds,
          rps: requests / seconds,
          unitsPerSec: units / seconds,
          p50: q(50),
          p90: q(90),
          p99: q(99),
          max: hist.count > 0 ? hist.max / 1000 : 0,
          errors: res.errors,
          timeouts: res.timeouts,
          non2xx: res.non2xx,
          bad: counters.bad,
          statusCodes,
        });
      });
    } catch (err) {
      reject(err);
      return;
    }
    inst.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      hist.record(Math.max(1, Math.round(responseTime * 1000)));
    });
  });
}

function perClient(requests: () => AcRequest[]): (client: unknown) => void {
  return (client) => (client as AcClient).setRequests(requests());
}

let uniqueCounter = 0;

/** A client assertion (RFC 7523 §3) for one request: ES256, 60 s, a new jti. */
function assertionSigner(a: AssertionSpec): () => string {
  const key = createPrivateKey({ key: { ...a.privateJwk }, format: 'jwk' });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const header = b64({ alg: 'ES256', kid: a.kid, typ: 'JWT' });
  return () => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${header}.${b64({ iss: a.clientId, sub: a.clientId, aud: a.aud, iat: now, exp: now + 60, jti: randomUUID() })}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
}

function runStatic(s: StaticSpec): Promise<LoadResult> {
  const bodies = s.bodies;
  let next = 0;
  const assertion = s.assertion ? assertionSigner(s.assertion) : null;
  const perConnection = assertion
    ? {
        setupClient: perClient(() => [
          {
            method: s.method,
            path: new URL(s.url).pathname,
            headers: s.headers,
            setupRequest: (req) => ({
              ...req,
              body: `${s.body ?? ''}&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${assertion()}`,
            }),
          },
        ]),
      }
    : s.unique
    ? {
        // A new number per request (per process run, so repeated runs never reuse one).
        setupClient: perClient(() => [
          {
            method: s.method,
            headers: s.headers,
            setupRequest: (req) => {
              const u = new URL(s.url.replace('{n}', `${process.pid}-${Date.now().toString(36)}-${uniqueCounter++}`));
              return { ...req, path: `${u.pathname}${u.search}` };
            },
          },
        ]),
      }
    : bodies && bodies.length > 0
      ? { setupClient: perClient(() => [{ method: s.method, path: new URL(s.url).pathname, headers: s.headers, body: bodies[next++ % bodies.length] ?? '' }]) }
      : {};
  return finish(
    {
      url: s.unique ? s.url.replace('{n}', '0') : s.url,
      method: s.method,
      headers: s.headers,
      ...(s.body !== undefined ? { body: s.body } : {}),
      ...perConnection,
      connections: s.connections,
      duration: s.duration,
      ...(s.rate !== undefined ? { overallRate: s.rate } : {}),
      timeout: 10,
    },
    (codes) => Object.entries(codes).reduce((n, [c, v]) => ((s.okStatus !== undefined ? c === String(s.okStatus) : c.startsWith('2')) ? n + v : n), 0),
    { bad: 0 },
  ).then((r) => (s.okStatus === undefined ? r : { ...r, non2xx: r.requests - r.units }));
}

function runRefresh(s: RefreshSpec): Promise<LoadResult> {
  let pool = pools.get(s.poolName);
  if (!pool) {
    pool = [...s.pool];
    pools.set(s.poolName, pool);
  }
  const shared = pool;
  const counters = { bad: 0 };
  const headers = { authorization: `Basic ${s.basic}`, 'content-type': 'application/x-www-form-urlencoded' };
  const make = (): AcRequest[] => [
    {
      method: 'POST',
      path: new URL(s.url).pathname,
      setupRequest: (req, context) => {
        // Each connection takes a token, the response's rotated token goes back to the pool:
        // every chain is sequential, so no token is ever presented twice. A server that does not
        // rotate (oidc-provider, for a confidential client) answers without a new one: the token
        // presented goes back instead.
        const rt = shared.shift() ?? 'pool-exhausted';
        (context as Record<string, string>)['rt'] = rt;
        return { ...req, headers, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(rt)}` };
      },
      onResponse: (status, body, context) => {
        if (status !== 200) {
          counters.bad++;
          return;
        }
        const rt = (JSON.parse(body) as { refresh_token?: string }).refresh_token ?? (context as Record<string, string>)['rt'];
        if (rt) shared.push(rt);
      },
    },
  ];
  return finish(
    { url: s.url, connections: s.connections, duration: s.duration, timeout: 10, setupClient: perClient(make) },
    (codes) => codes['200'] ?? 0,
    counters,
  );
}

/** The ID token's problem, or null when it is there, signed with `alg`, and echoes `nonce`. */
function idTokenProblem(body: string, alg: string, nonce: string): string | null {
  let idToken: unknown;
  try {
    idToken = (JSON.parse(body) as { id_token?: unknown }).id_token;
  } catch {
    return 'token response is not JSON';
  }
  if (typeof idToken !== 'string') return 'no id_token';
  const [h, p, sig] = idToken.split('.');
  if (!h || !p || !sig) return 'id_token is not a JWS';
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { nonce?: string };
    if (header.alg !== alg) return `id_token alg ${header.alg}`;
    if (payload.nonce !== nonce) return 'id_token nonce mismatch';
  } catch {
    return 'id_token does not decode';
  }
  return null;
}

function runAuthCode(s: AuthCodeSpec): Promise<LoadResult> {
  const counters = { bad: 0, ok: 0 };
  const tokenHeaders = { authorization: `Basic ${s.basic}`, 'content-type': 'application/x-www-form-urlencoded' };
  const authHeaders = { cookie: s.cookie };
  const redirect = encodeURIComponent(s.redirectUri);
  const oidc = s.oidc;
  let reported = 0;
  const make = (): AcRequest[] => [
    {
      method: 'GET',
      setupRequest: (req, context) => {
        const c = context as Record<string, string>;
        const verifier = randomBytes(32).toString('base64url');
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        c['verifier'] = verifier;
        let path =
          `${s.authorizePath}?response_type=code&client_id=${encodeURIComponent(s.clientId)}&redirect_uri=${redirect}` +
          `&scope=${encodeURIComponent(s.scope)}&state=${randomBytes(6).toString('hex')}` +
          `&code_challenge=${challenge}&code_challenge_method=S256`;
        if (oidc) {
          c['nonce'] = randomBytes(12).toString('base64url');
          path += `&nonce=${c['nonce']}`;
        }
        return { ...req, path, headers: authHeaders };
      },
      onResponse: (status, _body, context, headers) => {
        // autocannon keeps the header names as sent: `location` (Tollgate), `Location` (oidc-provider).
        const h = (headers ?? {}) as Record<string, string | undefined>;
        const location = h['location'] ?? h['Location'];
        const code =
          (status === 302 || status === 303) && location?.startsWith(s.redirectUri) ? new URL(location).searchParams.get('code') : null;
        if (!code) counters.bad++;
        (context as Record<string, string>)['code'] = code ?? 'no-code';
      },
    },
    {
      method: 'POST',
      path: s.tokenPath,
      setupRequest: (req, context) => {
        const c = context as Record<string, string>;
        const body =
          `grant_type=authorization_code&code=${encodeURIComponent(c['code'] ?? '')}` +
          `&redirect_uri=${redirect}&code_verifier=${c['verifier'] ?? ''}`;
        return { ...req, headers: tokenHeaders, body };
      },
      onResponse: (status, body, context) => {
        if (status !== 200) {
          counters.bad++;
          return;
        }
        if (oidc) {
          const problem = idTokenProblem(body, oidc.alg, (context as Record<string, string>)['nonce'] ?? '');
          if (problem !== null) {
            counters.bad++;
            if (reported++ < 3) console.error(`load: OpenID Connect flow failed: ${problem}`);
            return;
          }
        }
        counters.ok++;
      },
    },
  ];
  return finish(
    { url: s.base, connections: s.connections, duration: s.duration, timeout: 10, setupClient: perClient(make) },
    () => counters.ok, // one per completed flow (a 200 token response, with its ID token for OIDC)
    counters,
  );
}

/** The open-loop unit for a spec: one request, one refresh from the shared pool, or one code flow. */
function openUnit(u: OpenLoopSpec['unit']): { url: URL; unit: Unit } {
  switch (u.kind) {
    case 'static': {
      if (u.assertion || u.unique || u.bodies) throw new Error('open loop: static units send one fixed request');
      const url = new URL(u.url);
      const path = url.pathname + url.search;
      const good = (status: number) => (u.okStatus !== undefined ? status === u.okStatus : status >= 200 && status < 300);
      return { url, unit: async (c) => good((await c.request(u.method, path, u.headers, u.body)).status) };
    }
    case 'refresh': {
      let pool = pools.get(u.poolName);
      if (!pool) {
        pool = [...u.pool];
        pools.set(u.poolName, pool);
      }
      const shared = pool;
      const url = new URL(u.url);
      const headers = { authorization: `Basic ${u.basic}`, 'content-type': 'application/x-www-form-urlencoded' };
      return {
        url,
        unit: async (c) => {
          const rt = shared.shift();
          if (rt === undefined) throw new Error('refresh pool exhausted');
          const r = await c.request('POST', url.pathname, headers, `grant_type=refresh_token&refresh_token=${encodeURIComponent(rt)}`);
          if (r.status !== 200) return false;
          // rotated (Tollgate) or the same token again (oidc-provider, confidential client)
          shared.push((JSON.parse(r.body) as { refresh_token?: string }).refresh_token ?? rt);
          return true;
        },
      };
    }
    case 'authcode': {
      const url = new URL(u.base);
      const redirect = encodeURIComponent(u.redirectUri);
      const tokenHeaders = { authorization: `Basic ${u.basic}`, 'content-type': 'application/x-www-form-urlencoded' };
      const authHeaders = { cookie: u.cookie };
      return {
        url,
        unit: async (c) => {
          const verifier = randomBytes(32).toString('base64url');
          const challenge = createHash('sha256').update(verifier).digest('base64url');
          const nonce = u.oidc ? randomBytes(12).toString('base64url') : '';
          const path =
            `${u.authorizePath}?response_type=code&client_id=${encodeURIComponent(u.clientId)}&redirect_uri=${redirect}` +
            `&scope=${encodeURIComponent(u.scope)}&state=${randomBytes(6).toString('hex')}` +
            `&code_challenge=${challenge}&code_challenge_method=S256` +
            (u.oidc ? `&nonce=${nonce}` : '');
          const a = await c.request('GET', path, authHeaders);
          const location = a.headers['location'];
          const code = (a.status === 302 || a.status === 303) && location?.startsWith(u.redirectUri) ? new URL(location).searchParams.get('code') : null;
          if (!code) return false;
          const body = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${redirect}&code_verifier=${verifier}`;
          const t = await c.request('POST', u.tokenPath, tokenHeaders, body);
          if (t.status !== 200) return false;
          return u.oidc ? idTokenProblem(t.body, u.oidc.alg, nonce) === null : true;
        },
      };
    }
  }
}

function runOpen(spec: OpenLoopSpec) {
  const { url, unit } = openUnit(spec.unit);
  if (url.hostname !== '127.0.0.1') throw new Error(`open loop: loopback only, not ${url.hostname}`);
  return openLoop({ host: url.hostname, port: Number(url.port), rate: spec.rate, duration: spec.duration, connections: spec.connections, unit });
}

const lua = (v: string) => JSON.stringify(v); // a JSON string literal is a valid Lua string literal here (ASCII)

/**
 * One closed-loop run with wrk (1 thread, `connections` keep-alive connections, no pipelining),
 * the request from a Lua script. wrk's CPU comes from its parent shell's cutime+cstime.
 */
function runWrk(s: StaticSpec): Promise<LoadResult> {
  if (s.assertion || s.unique || s.bodies) return Promise.reject(new Error('wrk: static requests with one fixed body only'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'req.lua');
  const headers = Object.entries(s.headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`);
  writeFileSync(
    script,
    [
      `wrk.method = ${lua(s.method)}`,
      ...(s.body !== undefined ? [`wrk.body = ${lua(s.body)}`] : []),
      ...headers,
      'done = function(sm, lat, req)',
      '  io.write(string.format("@@WRK %f %f %f %f %f %f %f %f %f %f %f\\n", sm.requests, sm.duration, sm.errors.connect, sm.errors.read, sm.errors.write, sm.errors.status, sm.errors.timeout, lat:percentile(50), lat:percentile(90), lat:percentile(99), lat.max))',
      'end',
      '',
    ].join('\n'),
  );
  return new Promise((resolve, reject) => {
    const wrk = s.generatorCpus !== undefined ? `taskset -c ${s.generatorCpus} wrk` : 'wrk';
    const args = ['-c', `${wrk} "$@"; echo "@@STAT $(cat /proc/$$/stat)"`, 'sh', '-t1', `-c${s.connections}`, `-d${s.duration}s`, '--timeout', '10s', '-s', script, s.url];
    const child = spawn('sh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', () => {
      rmSync(dir, { recursive: true, force: true });
      const w = /@@WRK (.*)/.exec(out)?.[1]?.trim().split(/\s+/).map(Number);
      const st = /@@STAT (.*)/.exec(out)?.[1] ?? '';
      if (!w || w.length < 11) return reject(new Error(`wrk: no summary\n${out}\n${err}`));
      const [requests, durUs, connect, read, write, status, timeout, p50, p90, p99, max] = w as [number, number, number, number, number, number, number, number, number, number, number];
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const seconds = durUs / 1e6;
      const units = requests - status;
      resolve({
        requests,
        units,
        seconds,
        rps: requests / seconds,
        unitsPerSec: units / seconds,
        p50: p50 / 1000,
        p90: p90 / 1000,
        p99: p99 / 1000,
        max: max / 1000,
        errors: connect + read + write,
        timeouts: timeout,
        non2xx: status,
        bad: 0,
        statusCodes: {},
        generatorCpuMs: ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK,
      });
    });
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

async function run(spec: LoadSpec): Promise<LoadResult> {
  if (spec.kind === 'static' && spec.generator === 'wrk') return runWrk(spec);
  // autocannon runs in this process: its CPU is this process's, from the start to the end.
  const c0 = process.cpuUsage();
  const r = await runAutocannon(spec);
  const c = process.cpuUsage(c0);
  return { ...r, generatorCpuMs: (c.user + c.system) / 1000 };
}

function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  switch (spec.kind) {
    case 'static':
      return runStatic(spec);
    case 'refresh':
      return runRefresh(spec);
    case 'authcode':
      return runAuthCode(spec);
  }
}

process.on('message', (msg: Request) => {
  if ('open' in msg) {
    runOpen(msg.open).then(
      (openResult) => process.send?.({ id: msg.id, openResult } satisfies Reply),
      (err: unknown) => process.send?.({ id: msg.id, error: String((err as Error)?.stack ?? err) } satisfies Reply),
    );
    return;
  }
  const specs = 'spec' in msg ? [msg.spec] : msg.parallel;
  Promise.all(specs.map(run)).then(
    (results) => process.send?.({ id: msg.id, results } satisfies Reply),
    (err: unknown) => process.send?.({ id: msg.id, error: String((err as Error)?.stack ?? err) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));
