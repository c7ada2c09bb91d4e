/**
 * `npm run bench` — Tollgate side by side with node-oidc-provider 9 and a bare Fastify route (the
 * ceiling), all measured in one run on this machine so every ratio is taken under the same noise.
 *
 *   npm run bench                 full run (~5–6 min)
 *   npm run bench -- --quick      shorter scenarios, no second PostgreSQL process (~3 min)
 *   npm run bench -- --no-scale   skip the stored-token scale and purge scenarios
 *   npm run bench -- --scale-tokens=10000000   seed 10 M tokens instead of 1 M (slow: minutes)
 *   TOLLGATE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench   adds PostgreSQL
 *   npm run bench -- --quick --only='oidc|authorization code'   only the matching scenarios (Tollgate,
 *                                 oidc-provider and paired), printed with their ratios, no report
 *   npm run bench -- --latency    open-loop latency at 25/50/75 % of the peer's peak (~5 min; with
 *                                 --quick ~3.5 min; with --only, printed only): its section and target
 *                                 rows go into the existing bench/results/latest.{md,json}
 *   npm run bench -- --latency --pin   the same with the servers on CPU 0 and the generator on
 *                                 CPU 1 (taskset), so the generator's timers never queue behind a server
 *   npm run bench -- --generators autocannon vs wrk on the same paired scenarios (needs wrk), to
 *                                 bench/results/generators-latest.{md,json}
 *   npm run bench -- --no-wrk     the paired peer-target ratios under autocannon only (by default they
 *                                 also run under wrk when it is installed, and the harsher decides)
 *
 * Scenarios: client_credentials (opaque, JWT ES256/EdDSA), introspection, token exchange (RFC
 * 8693, with an actor token; paired against the peer's client_credentials, its nearest figure),
 * GET /api/me (opaque, JWT), refresh with rotation, the authorization code flow with PKCE, the same flow as OpenID
 * Connect (scope=openid + nonce; a flow counts only with its RS256 ID token), the password grant;
 * the peer runs client_credentials, introspection and both code flows. Paired runs (both sides
 * alternating, same machine state) for client_credentials, introspection, /api/me vs the ceiling
 * and both code flows vs the peer; then the stored-token scale and purge run.
 *
 * Every server is its own process; autocannon runs in another one (bench/load.ts). CPU per request
 * is the server process's utime+stime delta (/proc/<pid>/stat) divided by the requests served.
 * Needs a build (`npm run build`): the Tollgate measured is dist/, exactly what `npm start` runs.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { cpuMs, mainThreadCpuMs, rssMb, runCli, startServer, stopAll, wrkAvailable, type Server } from './lib/proc.js';
import {
  HEAD,
  consoleTable,
  mdTable,
  ratioRows,
  svgChart,
  tableRows,
  type Ratio,
  type RunFigures,
  type ScenarioResult,
  machineMeta,
} from './lib/report.js';
import { peerCodeFlow, peerSignIn, type PeerCodeClient } from './lib/peer.js';
import {
  clientCredentials,
  cleanup,
  createApp,
  codeFlow,
  exchangeSetup,
  OIDC_SCOPE,
  PLAIN_SCOPE,
  REDIRECT,
  serveInstance,
  signIn,
  startTollgate,
  USER,
  type App,
  type Instance,
} from './lib/tollgate.js';
import type { LoadResult, LoadSpec, OpenLoopSpec, Reply } from './lib/types.js';
import type { OpenLoopResult } from './lib/open-loop.js';
import {
  LATENCY_HEAD,
  latencyConsoleRows,
  latencyRatios,
  latencySection,
  spliceLatency,
  type LatencyReport,
  type LatencyScenario,
  type LatencySide,
  type LatencyStep,
} from './lib/latency.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
// --latency: only the open-loop latency run (issue #17 §1): both servers at fixed fractions of the
// peer's peak; its section and target rows go into the existing latest.{md,json}.
const LATENCY = args.includes('--latency');
// --generators: autocannon and wrk side by side on the same scenarios (needs wrk installed).
const GENERATORS = args.includes('--generators');
// --pin (with --latency): every thread of each server on CPU 0, the load generator and this
// process on CPU 1, so the generator's timers never wait behind a server on a 2-core machine.
const PIN = args.includes('--pin');
const SCALE = !args.includes('--no-scale');
const SCALE_TOKENS = Number(/^--scale-tokens=(\d+)$/.exec(args.find((a) => a.startsWith('--scale-tokens=')) ?? '')?.[1] ?? 1_000_000);
// --only=<regex>: while working on one scenario, run only the Tollgate scenarios whose
// "server scenario" label matches (or, if it matches "scale", the scale run), print them, and
// write no report.
const ONLY_ARG = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const ONLY = ONLY_ARG !== undefined ? new RegExp(ONLY_ARG, 'i') : undefined;
const PG_URL = process.env['TOLLGATE_DATABASE_URL'] ?? '';
// wrk (Debian package), when installed, is a second closed-loop generator for the peer-target pairs.
const WRK = !args.includes('--no-wrk') && wrkAvailable();
// Only the PostgreSQL instance gets the URL: every other server and CLI call runs on SQLite.
delete process.env['TOLLGATE_DATABASE_URL'];
delete process.env['TOLLGATE_PG_SCHEMA'];
const DURATION = QUICK ? 3 : 5;
const WARMUP = QUICK ? 1 : 2;
const RUNS = 2;
const CONNECTIONS = 32;
const RESULTS_DIR = join(import.meta.dirname, 'results');
const started = Date.now();

if (!existsSync('dist/cli/main.js')) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(1);
}

// --- the load generator process ----------------------------------------------------------------

let loadProc: ChildProcess;
let nextId = 1;
const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

function startLoad(): void {
  loadProc = fork(join(import.meta.dirname, 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  loadProc.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m);
  });
}

function send(msg: { spec: LoadSpec } | { parallel: readonly LoadSpec[] } | { open: OpenLoopSpec }): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    loadProc.send({ id, ...msg });
  });
}

async function load(specs: readonly LoadSpec[]): Promise<readonly LoadResult[]> {
  const r = await send(specs.length === 1 ? { spec: specs[0]! } : { parallel: specs });
  if (!('results' in r)) throw new Error('load: unexpected reply');
  return r.results;
}

/** One open-loop run in the load generator process (bench/lib/open-loop.ts). */
async function openLoad(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const r = await send({ open: spec });
  if (!('openResult' in r)) throw new Error('load: unexpected reply');
  return r.openResult;
}

// --- measuring ----------------------------------------------------------------------------------

const results: ScenarioResult[] = [];
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}`);

function figures(r: LoadResult, cpu: number): RunFigures {
  return {
    unitsPerSec: r.unitsPerSec,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    max: r.max,
    cpuUsPerUnit: r.units > 0 ? (cpu * 1000) / r.units : NaN,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    bad: r.bad,
    requests: r.requests,
  };
}

function summarise(
  server: string,
  scenario: string,
  unit: 'req/s' | 'flows/s',
  connections: number,
  runs: RunFigures[],
  pid: number,
  note?: string,
): ScenarioResult {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sorted = [...runs].map((r) => r.p50).sort((a, b) => a - b);
  const res: ScenarioResult = {
    id: `${server}:${scenario}`,
    server,
    scenario,
    unit,
    connections,
    runs,
    throughput: mean(runs.map((r) => r.unitsPerSec)),
    p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN,
    p99: Math.max(...runs.map((r) => r.p99)),
    cpuUsPerUnit: mean(runs.map((r) => r.cpuUsPerUnit)),
    failures: runs.reduce((n, r) => n + r.errors + (unit === 'flows/s' ? r.bad : r.non2xx + r.bad), 0),
    rssMb: rssMb(pid),
    ...(note ? { note } : {}),
  };
  results.push(res);
  log(
    `${server} · ${scenario}: ${Math.round(res.throughput)} ${unit}, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, ` +
      `${res.cpuUsPerUnit.toFixed(0)} µs CPU/unit, failures ${res.failures}`,
  );
  return res;
}

/** Warm-up, then RUNS measured runs with the server's CPU time read around each. */
async function measure(
  server: Server,
  label: string,
  scenario: string,
  make: (duration: number) => LoadSpec,
  opts: { unit?: 'req/s' | 'flows/s'; connections?: number; note?: string } = {},
): Promise<ScenarioResult> {
  if (ONLY && !ONLY.test(`${label} ${scenario}`)) return skipped(label, scenario);
  await load([make(WARMUP)]);
  const runs: RunFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = cpuMs(server.pid);
    const [r] = await load([make(DURATION)]);
    const c1 = cpuMs(server.pid);
    runs.push(figures(r!, c1 - c0));
  }
  return summarise(label, scenario, opts.unit ?? 'req/s', opts.connections ?? CONNECTIONS, runs, server.pid, opts.note);
}

/** A scenario left out by --only: no figures, never reported. */
function skipped(server: string, scenario: string): ScenarioResult {
  return { id: `${server}:${scenario}`, server, scenario, unit: 'req/s', connections: 0, runs: [], throughput: NaN, p50: NaN, p99: NaN, cpuUsPerUnit: NaN, failures: 0, rssMb: NaN };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const post = (url: string, basic: string, body: string, connections = CONNECTIONS) => (duration: number): LoadSpec => ({
  kind: 'static',
  url,
  method: 'POST',
  headers: { ...form, authorization: `Basic ${basic}` },
  body,
  connections,
  duration,
});
const getBearer = (url: string, token: string, connections = CONNECTIONS, rate?: number) => (duration: number): LoadSpec => ({
  kind: 'static',
  url,
  method: 'GET',
  headers: { authorization: `Bearer ${token}` },
  connections,
  duration,
  ...(rate !== undefined ? { rate } : {}),
});

const DEVICE_POLL = 'device-flow pending poll';
const DEVICE_NOTE = 'one poll of a device code nobody has answered: 400 slow_down/authorization_pending is the expected answer';

/** A device code nobody will answer (RFC 8628 §3.1), for the pending-poll scenario. */
async function deviceCode(base: string, clientId: string, path: string): Promise<string> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: form, body: `client_id=${encodeURIComponent(clientId)}` });
  if (res.status !== 200) throw new Error(`device authorization: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { device_code: string }).device_code;
}

/** Each connection polls its own device code; the expected answer is 400 (pending or slow_down). */
const devicePolls = (tokenUrl: string, clientId: string, codes: readonly string[]) => (duration: number): LoadSpec => ({
  kind: 'static',
  url: tokenUrl,
  method: 'POST',
  headers: form,
  connections: CONNECTIONS,
  duration,
  okStatus: 400,
  bodies: codes.map((c) => `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:device_code')}&device_code=${encodeURIComponent(c)}&client_id=${encodeURIComponent(clientId)}`),
});

/** Token exchange (RFC 8693) with an actor token; the peer's nearest figure is its client_credentials. */
const EXCHANGE = 'token exchange (RFC 8693, actor token)';
const EXCHANGE_NOTE = 'the same exchange each request: a person\'s access token for another audience, with act; a new access token stored each time';
const PEER_VS_EXCHANGE = 'client_credentials opaque, vs token exchange';

/** The code-flow scenarios' names: the same on both servers (and matched by --only). */
const CODE_FLOW = 'authorization code + PKCE (flows)';
const OIDC_FLOW = 'OIDC code flow + PKCE, RS256 ID token (flows)';
const CODE_NOTE = 'one flow = authorize (redirect with code) + token';
const OIDC_NOTE = 'one flow = authorize with scope=openid and a nonce + token; counted only with an RS256 id_token echoing the nonce';
/** Tollgate's code flow; with `oidc`, scope `openid profile`, a nonce, and the ID token required. */
const tgFlow = (inst: Instance, app: App, oidc: boolean) => (duration: number): LoadSpec => ({
  kind: 'authcode',
  base: inst.server.base,
  authorizePath: '/oauth/authorize',
  tokenPath: '/oauth/token',
  clientId: app.clientId,
  basic: app.basic,
  redirectUri: REDIRECT,
  scope: oidc ? OIDC_SCOPE : PLAIN_SCOPE,
  ...(oidc ? { oidc: { alg: 'RS256' } } : {}),
  cookie: inst.cookie,
  connections: CONNECTIONS,
  duration,
});
/** The same flow on oidc-provider (its endpoints are /auth and /token). */
const peerFlow = (base: string, client: PeerCodeClient, cookie: string, oidc: boolean) => (duration: number): LoadSpec => ({
  kind: 'authcode',
  base,
  authorizePath: '/auth',
  tokenPath: '/token',
  clientId: client.clientId,
  basic: client.basic,
  redirectUri: client.redirectUri,
  scope: oidc ? OIDC_SCOPE : PLAIN_SCOPE,
  ...(oidc ? { oidc: { alg: 'RS256' } } : {}),
  cookie,
  connections: CONNECTIONS,
  duration,
});

// --- the servers --------------------------------------------------------------------------------

async function benchCeiling(): Promise<void> {
  const s = await startServer('ceiling', ['--import', 'tsx', join(import.meta.dirname, 'servers/ceiling.ts')], {}, '/json');
  await measure(s, 'ceiling', 'GET /json (bare Fastify)', (d) => ({ kind: 'static', url: `${s.base}/json`, method: 'GET', headers: {}, connections: CONNECTIONS, duration: d }));
  await s.stop();
}

const PEER_CLIENT = { id: 'bench-client', codeId: 'bench-code', deviceId: 'bench-device', pkjId: 'bench-pkj', secret: 'bench-secret-bench-secret-bench-secret' };

/** The private_key_jwt client's key (both servers register its public half). */
const PKJ_KEY = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'bench-pkj-1';
  return {
    kid,
    privateJwk: privateKey.export({ format: 'jwk' }) as Record<string, string>,
    jwks: { keys: [{ ...(publicKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: 'ES256', use: 'sig' }] },
  };
})();
const PKJ = 'client_credentials private_key_jwt ES256';
const PKJ_NOTE = 'each request carries a new ES256 client assertion (signed by the load generator, a fresh jti), verified and its jti recorded; opaque token';

/**
 * oidc-provider with its two confidential clients; `basic` is the client_credentials client's HTTP
 * Basic value, `code` the code-flow client.
 */
async function startPeer(name: string): Promise<{ server: Server; basic: string; code: PeerCodeClient }> {
  const server = await startServer(
    name,
    ['--no-warnings', '--import', 'tsx', join(import.meta.dirname, 'servers/peer.ts')],
    {
      PEER_CLIENT_ID: PEER_CLIENT.id,
      PEER_CODE_CLIENT_ID: PEER_CLIENT.codeId,
      PEER_DEVICE_CLIENT_ID: PEER_CLIENT.deviceId,
      PEER_PKJ_CLIENT_ID: PEER_CLIENT.pkjId,
      PEER_PKJ_JWKS: JSON.stringify(PKJ_KEY.jwks),
      PEER_CLIENT_SECRET: PEER_CLIENT.secret,
      PEER_REDIRECT_URI: REDIRECT,
      NODE_ENV: 'production',
    },
    '/.well-known/openid-configuration',
  );
  const basicOf = (id: string) => Buffer.from(`${id}:${PEER_CLIENT.secret}`).toString('base64');
  return { server, basic: basicOf(PEER_CLIENT.id), code: { clientId: PEER_CLIENT.codeId, basic: basicOf(PEER_CLIENT.codeId), redirectUri: REDIRECT } };
}

/**
 * Signs the peer's account in once (granting `openid profile`), and checks one flow of each kind
 * before any load: the plain one without an ID token, the OpenID Connect one with it.
 */
async function peerSession(base: string, code: PeerCodeClient): Promise<string> {
  const cookie = await peerSignIn(base, code, OIDC_SCOPE);
  const plain = await peerCodeFlow(base, code, cookie, PLAIN_SCOPE);
  const oidc = await peerCodeFlow(base, code, cookie, OIDC_SCOPE, 'bench-nonce');
  if (plain.id_token !== undefined || oidc.id_token === undefined || plain.refresh_token === undefined) {
    throw new Error('peer: the plain code flow must answer without an ID token, the OpenID Connect one with it, both with a refresh token');
  }
  return cookie;
}

async function benchPeer(): Promise<void> {
  const { id, secret } = PEER_CLIENT;
  const { server: s, basic, code } = await startPeer('oidc-provider');
  const tokenUrl = `${s.base}/token`;
  await measure(s, 'peer', 'client_credentials opaque', post(tokenUrl, basic, 'grant_type=client_credentials&scope=api%3Aread'));
  await measure(s, 'peer', 'client_credentials JWT ES256', post(tokenUrl, basic, 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Abench%3Aapi'));
  const opaque = await clientCredentials(s.base, { clientId: id, secret, basic }, { scope: 'api:read' }, '/token');
  await measure(s, 'peer', 'introspection opaque', post(`${s.base}/token/introspection`, basic, `token=${opaque}`));
  if (!ONLY || ONLY.test(`peer ${DEVICE_POLL}`)) {
    const codes = await Promise.all(Array.from({ length: CONNECTIONS }, () => deviceCode(s.base, PEER_CLIENT.deviceId, '/device/auth')));
    await measure(s, 'peer', DEVICE_POLL, devicePolls(`${s.base}/token`, PEER_CLIENT.deviceId, codes), { note: DEVICE_NOTE });
  }
  // After the client_credentials scenarios: they fill the in-memory adapter's 1,000-entry LRU.
  const cookie = await peerSession(s.base, code);
  await measure(s, 'peer', CODE_FLOW, peerFlow(s.base, code, cookie, false), { unit: 'flows/s', note: CODE_NOTE });
  await measure(s, 'peer', OIDC_FLOW, peerFlow(s.base, code, cookie, true), { unit: 'flows/s', note: OIDC_NOTE });
  await s.stop();
}

/**
 * Client ID Metadata Documents (issue #13): the authorization request of an MCP-style client whose
 * client_id is a document URL, answered with the consent page, three ways in paired runs on one
 * Tollgate (bench/servers/tollgate-cimd.ts: the documents come from memory through the production
 * checks and a stub resolver, never the loopback setting):
 * - first use: a new client_id URL every request (the document fetched, checked and the
 *   application's row written before the page);
 * - cached: one client_id URL whose document was fetched before (the stored row is used);
 * - a registered public application, the same page: the baseline both are divided by.
 */
const CIMD_FIRST = 'CIMD authorize, first use (new client_id each request)';
const CIMD_CACHED = 'CIMD authorize, cached document';
const CIMD_BASE = 'authorize, registered public app (consent page)';
const CIMD_NOTE = 'GET /oauth/authorize of a signed-in person answered with the consent page (200)';

async function benchCimd(): Promise<void> {
  const scenarios = [CIMD_FIRST, CIMD_CACHED, CIMD_BASE];
  if (ONLY && !scenarios.some((sc) => ONLY.test(`tollgate sqlite cimd ${sc}`))) return;
  const PAIRED_RUNS = 3;
  const inst = await startTollgate('sqlite cimd', { TOLLGATE_KEY_ALG: 'ES256' }, false);
  const registered = JSON.parse(runCli(['dist/cli/main.js', 'apps', 'create', '--name', 'bench public web', '--public', '--redirect-uri', REDIRECT, '--scope', 'profile', '--json'], inst.env)) as { client_id: string };
  inst.server = await startServer('tollgate sqlite cimd', ['--import', 'tsx', join(import.meta.dirname, 'servers/tollgate-cimd.ts')], { ...inst.env, BENCH_REDIRECT: REDIRECT }, '/.well-known/oauth-authorization-server');
  try {
    await signIn(inst);
    const base = inst.server.base;
    const query = (clientId: string) =>
      `${base}/oauth/authorize?response_type=code&client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=profile&state=s` +
      `&code_challenge=${'E'.repeat(43)}&code_challenge_method=S256`;
    const cachedUrl = query(encodeURIComponent('https://agent-cached.bench.example/client.json'));
    const page = async (url: string) => {
      const r = await fetch(url, { headers: { cookie: inst.cookie } });
      const body = await r.text();
      if (r.status !== 200 || !body.includes('name="decision"')) throw new Error(`cimd: expected the consent page, got ${r.status}: ${body.slice(0, 300)}`);
    };
    await page(cachedUrl);
    await page(query(encodeURIComponent(registered.client_id)));
    const get = (url: string, unique = false) => (duration: number): LoadSpec => ({ kind: 'static', url, method: 'GET', headers: { cookie: inst.cookie }, connections: CONNECTIONS, duration, ...(unique ? { unique: true } : {}) });
    const sides: Array<[string, (d: number) => LoadSpec]> = [
      [CIMD_FIRST, get(query('https%3A%2F%2Fagent-{n}.bench.example%2Fclient.json'), true)],
      [CIMD_CACHED, get(cachedUrl)],
      [CIMD_BASE, get(query(encodeURIComponent(registered.client_id)))],
    ];
    for (const [, make] of sides) await load([make(WARMUP)]);
    const runs = sides.map((): RunFigures[] => []);
    for (let i = 0; i < PAIRED_RUNS; i++) {
      for (const [j, [, make]] of sides.entries()) {
        const c0 = cpuMs(inst.server.pid);
        const [r] = await load([make(DURATION)]);
        runs[j]!.push(figures(r!, cpuMs(inst.server.pid) - c0));
      }
    }
    const [first, cached, baseline] = sides.map(([scenario], j) => summarise('tollgate sqlite cimd', scenario, 'req/s', CONNECTIONS, runs[j]!, inst.server.pid, CIMD_NOTE));
    ratio('CIMD authorize, first use vs a registered app\'s consent page (SQLite), paired runs', null, first, baseline, 'x');
    ratio('CIMD authorize, cached document vs a registered app\'s consent page (SQLite), paired runs', null, cached, baseline, 'x');
  } finally {
    await inst.server.stop();
    cleanup(inst);
  }
}

/**
 * Paired runs: for each ratio target, the two sides run alternately (A, B, A, B, …) with every
 * server up at once, so both see the same machine. The sequential scenarios above measure each
 * server minutes apart, and on a shared 2-core machine the speed drifts between them.
 */
async function benchPaired(): Promise<void> {
  const PAIRED_RUNS = 3;
  const ceiling = await startServer('ceiling (paired)', ['--import', 'tsx', join(import.meta.dirname, 'servers/ceiling.ts')], {}, '/json');
  const { server: peer, basic: peerBasic, code: peerCode } = await startPeer('oidc-provider (paired)');
  const inst = await startTollgate('sqlite (paired)', { TOLLGATE_KEY_ALG: 'ES256' });
  try {
    await signIn(inst);
    const tg = inst.server;
    const peerOpaque = await clientCredentials(peer.base, { clientId: PEER_CLIENT.id, secret: PEER_CLIENT.secret, basic: peerBasic }, { scope: 'api:read' }, '/token');
    const tgOpaque = await clientCredentials(tg.base, inst.apps.cc);
    const userOpaque = (await codeFlow(inst, inst.apps.code)).access_token;
    const userJwt = (await codeFlow(inst, inst.apps.codeJwt)).access_token;
    if ((await codeFlow(inst, inst.apps.oidc, OIDC_SCOPE, 'bench-nonce')).id_token === undefined) throw new Error('tollgate: the OpenID Connect code flow answered without an ID token');
    const tx = await exchangeSetup(inst);
    // private_key_jwt: the same key registered on both; each side's assertions name its issuer.
    const jwksFile = join(inst.dataDir, 'bench-pkj-jwks.json');
    writeFileSync(jwksFile, JSON.stringify(PKJ_KEY.jwks));
    const tgPkj = createApp(inst.env, 'bench cc private_key_jwt', ['--grant-type', 'client_credentials', '--scope', 'profile', '--jwks-file', jwksFile]);
    const issuerOf = async (url: string) => ((await (await fetch(url)).json()) as { issuer: string }).issuer;
    const tgIssuer = await issuerOf(`${tg.base}/.well-known/oauth-authorization-server`);
    const peerIssuer = await issuerOf(`${peer.base}/.well-known/openid-configuration`);
    const signed = (url: string, clientId: string, aud: string, body: string) => (duration: number): LoadSpec => ({
      kind: 'static',
      url,
      method: 'POST',
      headers: form,
      body,
      connections: CONNECTIONS,
      duration,
      assertion: { clientId, aud, privateJwk: PKJ_KEY.privateJwk, kid: PKJ_KEY.kid },
    });
    // oidc-provider's in-memory adapter is an LRU of 1,000 entries: the client_credentials pairs
    // evict the session and grant, so the peer signs in again right before each code-flow pair.
    let peerCookie = '';
    const peerSignedIn = async () => {
      peerCookie = await peerSession(peer.base, peerCode);
    };
    type Side = { server: Server; label: string; scenario: string; make: (d: number) => LoadSpec };
    const side = (server: Server, label: string, scenario: string, make: (d: number) => LoadSpec): Side => ({ server, label, scenario, make });
    const pairs: Array<{ what: string; target: number | null; kind: 'x' | '%'; unit?: 'flows/s'; note?: string; before?: () => Promise<void>; a: Side; b: Side }> = [
      {
        what: 'client_credentials opaque (SQLite) vs oidc-provider opaque, paired runs',
        target: 2.0,
        kind: 'x',
        a: side(tg, 'tollgate sqlite (paired)', 'client_credentials opaque', post(`${tg.base}/oauth/token`, inst.apps.cc.basic, 'grant_type=client_credentials')),
        b: side(peer, 'peer (paired)', 'client_credentials opaque', post(`${peer.base}/token`, peerBasic, 'grant_type=client_credentials&scope=api%3Aread')),
      },
      {
        what: 'client_credentials JWT ES256 (SQLite) vs oidc-provider ES256, paired runs',
        target: 2.5,
        kind: 'x',
        a: side(tg, 'tollgate sqlite (paired)', 'client_credentials JWT ES256', post(`${tg.base}/oauth/token`, inst.apps.ccJwt.basic, 'grant_type=client_credentials')),
        b: side(peer, 'peer (paired)', 'client_credentials JWT ES256', post(`${peer.base}/token`, peerBasic, 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Abench%3Aapi')),
      },
      {
        what: 'introspection (SQLite) vs oidc-provider, paired runs',
        target: 3.0,
        kind: 'x',
        a: side(tg, 'tollgate sqlite (paired)', 'introspection opaque', post(`${tg.base}/oauth/introspect`, inst.apps.cc.basic, `token=${tgOpaque}`)),
        b: side(peer, 'peer (paired)', 'introspection opaque', post(`${peer.base}/token/introspection`, peerBasic, `token=${peerOpaque}`)),
      },
      {
        what: 'GET /api/me opaque (SQLite) vs ceiling, paired runs',
        target: 0.4,
        kind: '%',
        a: side(tg, 'tollgate sqlite (paired)', 'GET /api/me opaque', getBearer(`${tg.base}/api/me`, userOpaque)),
        b: side(ceiling, 'ceiling (paired)', 'GET /json (bare Fastify), vs /api/me opaque', (d) => ({ kind: 'static', url: `${ceiling.base}/json`, method: 'GET', headers: {}, connections: CONNECTIONS, duration: d })),
      },
      {
        what: 'GET /api/me JWT (SQLite) vs ceiling, paired runs',
        target: 0.4,
        kind: '%',
        a: side(tg, 'tollgate sqlite (paired)', 'GET /api/me JWT', getBearer(`${tg.base}/api/me`, userJwt)),
        b: side(ceiling, 'ceiling (paired)', 'GET /json (bare Fastify), vs /api/me JWT', (d) => ({ kind: 'static', url: `${ceiling.base}/json`, method: 'GET', headers: {}, connections: CONNECTIONS, duration: d })),
      },
      // Issue #13: client authentication by signed assertion, both servers verifying ES256 and
      // recording the jti. No target: measured for the ratio alone.
      {
        what: 'client_credentials with private_key_jwt (SQLite) vs oidc-provider private_key_jwt, paired runs',
        target: null,
        kind: 'x',
        note: PKJ_NOTE,
        a: side(tg, 'tollgate sqlite (paired)', PKJ, signed(`${tg.base}/oauth/token`, tgPkj.clientId, tgIssuer, 'grant_type=client_credentials')),
        b: side(peer, 'peer (paired)', PKJ, signed(`${peer.base}/token`, PEER_CLIENT.pkjId, peerIssuer, 'grant_type=client_credentials&scope=api%3Aread')),
      },
      // oidc-provider has no token exchange: its client_credentials is the nearest figure (one
      // authenticated token request that issues and stores a token). No target: for the ratio alone.
      {
        what: 'token exchange with actor (SQLite) vs oidc-provider client_credentials opaque, paired runs',
        target: null,
        kind: 'x',
        a: side(tg, 'tollgate sqlite (paired)', EXCHANGE, post(`${tg.base}/oauth/token`, tx.app.basic, tx.body)),
        b: side(peer, 'peer (paired)', PEER_VS_EXCHANGE, post(`${peer.base}/token`, peerBasic, 'grant_type=client_credentials&scope=api%3Aread')),
      },
      // The code flows have no target in issue #5: measured for the ratio alone.
      {
        what: 'authorization code + PKCE flows (SQLite) vs oidc-provider, paired runs',
        target: null,
        kind: 'x',
        unit: 'flows/s',
        before: peerSignedIn,
        a: side(tg, 'tollgate sqlite (paired)', CODE_FLOW, tgFlow(inst, inst.apps.code, false)),
        b: side(peer, 'peer (paired)', CODE_FLOW, (d) => peerFlow(peer.base, peerCode, peerCookie, false)(d)),
      },
      {
        what: 'OIDC code flows, RS256 ID token (SQLite) vs oidc-provider, paired runs',
        target: null,
        kind: 'x',
        unit: 'flows/s',
        before: peerSignedIn,
        a: side(tg, 'tollgate sqlite (paired)', OIDC_FLOW, tgFlow(inst, inst.apps.oidc, true)),
        b: side(peer, 'peer (paired)', OIDC_FLOW, (d) => peerFlow(peer.base, peerCode, peerCookie, true)(d)),
      },
    ];
    for (const pair of pairs) {
      // --only: the pairs where either side's "server scenario" label matches.
      if (ONLY && ![`${pair.a.label} ${pair.a.scenario}`, `${pair.b.label} ${pair.b.scenario}`].some((t) => ONLY.test(t))) continue;
      await pair.before?.();
      // The peer-target pairs also run under wrk when it is installed (issue #17): the two
      // generators alternate rep by rep, and a target counts as met only under both.
      const both = WRK && pair.target !== null && pair.b.label === 'peer (paired)' && pair.a.make(1).kind === 'static' && pair.b.make(1).kind === 'static';
      const gens: ReadonlyArray<'autocannon' | 'wrk'> = both ? ['autocannon', 'wrk'] : ['autocannon'];
      const spec = (sd: Side, g: 'autocannon' | 'wrk', d: number): LoadSpec => {
        const sp = sd.make(d);
        return g === 'wrk' && sp.kind === 'static' ? { ...sp, generator: 'wrk' } : sp;
      };
      for (const g of gens) {
        await load([spec(pair.a, g, WARMUP)]);
        await load([spec(pair.b, g, WARMUP)]);
      }
      const runs = new Map(gens.map((g) => [g, { a: [] as RunFigures[], b: [] as RunFigures[] }]));
      for (let i = 0; i < PAIRED_RUNS; i++) {
        for (const g of i % 2 === 0 ? gens : [...gens].reverse()) {
          const rg = runs.get(g)!;
          for (const [sd, rs] of [[pair.a, rg.a], [pair.b, rg.b]] as const) {
            const c0 = cpuMs(sd.server.pid);
            const [r] = await load([spec(sd, g, DURATION)]);
            rs.push(figures(r!, cpuMs(sd.server.pid) - c0));
          }
        }
      }
      const unit = pair.unit ?? 'req/s';
      const ac = runs.get('autocannon')!;
      const a = summarise(pair.a.label, pair.a.scenario, unit, CONNECTIONS, ac.a, pair.a.server.pid, pair.note);
      const b = summarise(pair.b.label, pair.b.scenario, unit, CONNECTIONS, ac.b, pair.b.server.pid, pair.note);
      ratio(pair.what, pair.target, a, b, pair.kind);
      const wr = runs.get('wrk');
      if (wr) {
        const primary = ratios.pop()!;
        const wa = summarise(pair.a.label.replace(')', ', wrk)'), pair.a.scenario, unit, CONNECTIONS, wr.a, pair.a.server.pid, pair.note);
        const wb = summarise(pair.b.label.replace(')', ', wrk)'), pair.b.scenario, unit, CONNECTIONS, wr.b, pair.b.server.pid, pair.note);
        ratio(`${pair.what}, wrk`, pair.target, wa, wb, pair.kind);
        const w = ratios.pop()!;
        // The harsher figure decides: met only when met under both generators.
        ratios.push({ ...primary, met: primary.met === null || w.met === null ? null : primary.met && w.met, detail: `${primary.detail}; under wrk ${w.measured}` }, w);
      }
    }
  } finally {
    await Promise.all([ceiling.stop(), peer.stop(), inst.server.stop()]);
    cleanup(inst);
  }
}

async function refreshPool(inst: Instance, n: number): Promise<string[]> {
  const out: string[] = [];
  const workers = Array.from({ length: 8 }, async () => {
    while (out.length < n) {
      const t = await codeFlow(inst, inst.apps.code);
      if (t.refresh_token) out.push(t.refresh_token);
    }
  });
  await Promise.all(workers);
  return out;
}

async function benchTollgate(inst: Instance, full: boolean): Promise<Map<string, ScenarioResult>> {
  const s = inst.server;
  const L = `tollgate ${inst.label}`;
  const out = new Map<string, ScenarioResult>();
  const tokenUrl = `${s.base}/oauth/token`;
  const { cc, ccJwt, code, codeJwt, pw } = inst.apps;
  await signIn(inst);
  out.set('cc', await measure(s, L, 'client_credentials opaque', post(tokenUrl, cc.basic, 'grant_type=client_credentials')));
  out.set('jwt', await measure(s, L, `client_credentials JWT ${inst.env['TOLLGATE_KEY_ALG'] ?? 'ES256'}`, post(tokenUrl, ccJwt.basic, 'grant_type=client_credentials')));
  if (!full) return out;
  const opaque = await clientCredentials(s.base, cc);
  out.set('introspect', await measure(s, L, 'introspection opaque', post(`${s.base}/oauth/introspect`, cc.basic, `token=${opaque}`)));
  // RFC 8628: what a waiting device costs. Each connection polls its own device code nobody
  // answers, back to back: after its first poll every answer is slow_down, which is the same work
  // as authorization_pending (one read, one conditional UPDATE of the row).
  if (!ONLY || ONLY.test(`${L} ${DEVICE_POLL}`)) {
    const deviceCodes = await Promise.all(Array.from({ length: CONNECTIONS }, () => deviceCode(s.base, inst.apps.device.clientId, '/oauth/device_authorization')));
    out.set('device', await measure(s, L, DEVICE_POLL, devicePolls(tokenUrl, inst.apps.device.clientId, deviceCodes), { note: DEVICE_NOTE }));
  }
  if (!ONLY || ONLY.test(`${L} ${EXCHANGE}`)) {
    const tx = await exchangeSetup(inst);
    out.set('exchange', await measure(s, L, EXCHANGE, post(tokenUrl, tx.app.basic, tx.body), { note: EXCHANGE_NOTE }));
  }
  const userOpaque = (await codeFlow(inst, code)).access_token;
  const userJwt = (await codeFlow(inst, codeJwt)).access_token;
  out.set('me', await measure(s, L, 'GET /api/me opaque', getBearer(`${s.base}/api/me`, userOpaque)));
  out.set('meJwt', await measure(s, L, 'GET /api/me JWT', getBearer(`${s.base}/api/me`, userJwt)));
  // Refresh: rotation chains over a shared pool of refresh tokens, each from its own authorization-code
  // flow (so each is its own family). A chain loses a token only when a run stops mid-request.
  const pool = ONLY && !ONLY.test(`${L} refresh`) ? [] : await refreshPool(inst, CONNECTIONS * (RUNS + 2) + 32);
  await measure(s, L, 'refresh (rotation)', (d) => ({ kind: 'refresh', url: tokenUrl, basic: code.basic, poolName: inst.label, pool, connections: CONNECTIONS, duration: d }));
  out.set('code', await measure(s, L, CODE_FLOW, tgFlow(inst, code, false), { unit: 'flows/s', note: CODE_NOTE }));
  out.set('oidc', await measure(s, L, OIDC_FLOW, tgFlow(inst, inst.apps.oidc, true), { unit: 'flows/s', note: OIDC_NOTE }));
  // Password grant (Argon2id by design), with a rate-capped /api/me probe before and during it.
  if (ONLY && !ONLY.test(`${L} password grant`)) return out;
  const probe = getBearer(`${s.base}/api/me`, userOpaque, 4, 500);
  const pwBody = `grant_type=password&username=${encodeURIComponent(USER.email)}&password=${encodeURIComponent(USER.password)}&scope=profile`;
  const pwLoad = post(tokenUrl, pw.basic, pwBody, CONNECTIONS);
  const idle: RunFigures[] = [];
  const during: RunFigures[] = [];
  const pwRuns: RunFigures[] = [];
  await load([pwLoad(WARMUP)]);
  for (let i = 0; i < RUNS; i++) {
    const [a] = await load([probe(Math.max(2, DURATION - 2))]);
    idle.push(figures(a!, NaN));
    const c0 = cpuMs(s.pid);
    const [p, b] = await load([pwLoad(DURATION), probe(DURATION)]);
    const c1 = cpuMs(s.pid);
    pwRuns.push(figures(p!, c1 - c0));
    during.push(figures(b!, NaN));
  }
  out.set('pw', summarise(L, 'password grant (Argon2id)', 'req/s', CONNECTIONS, pwRuns, s.pid, 'CPU includes the 500 req/s /api/me probe running at the same time'));
  out.set('probeIdle', summarise(L, 'GET /api/me @500 req/s, idle', 'req/s', 4, idle, s.pid));
  out.set('probeDuring', summarise(L, 'GET /api/me @500 req/s, during password load', 'req/s', 4, during, s.pid));
  return out;
}

// --- scale: stored tokens, RSS, purge -------------------------------------------------------------

interface ScaleReport {
  tokens: number;
  seedSeconds: number;
  empty: { rps: number; p99: number; rssMb: number };
  loaded: { rps: number; p99: number; rssMb: number };
  dbBeforePurgeMb: number;
  dbAfterPurgeMb: number;
  freePagesAfterPurgeMb: number;
  purgeSeconds: number;
  /** False when the run stopped waiting (PURGE_WAIT_MS) before the purge had removed 99 %. */
  purgeComplete: boolean;
  purged: number;
  issuanceDuringPurge?: { rps: number; p99: number; max: number };
}

function dbSizes(file: string): { fileMb: number; freeMb: number; count: number } {
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const count = (db.prepare('select count(*) as n from tokens').get() as { n: number }).n;
  db.close();
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return { fileMb: (size(file) + size(`${file}-wal`)) / 1048576, freeMb: (free * pageSize) / 1048576, count };
}

/** How long the scale run waits for the purge to finish. */
const PURGE_WAIT_MS = 120_000;

async function benchScale(): Promise<ScaleReport> {
  const inst = await startTollgate('sqlite scale', {}, false);
  const file = join(inst.dataDir, 'tollgate.db');
  const spec = (base: string) => post(`${base}/oauth/token`, inst.apps.cc.basic, 'grant_type=client_credentials');
  const quickMeasure = async (label: string) => {
    const s = await serveInstance(inst);
    const r = await measure(s, 'tollgate sqlite', label, spec(s.base));
    await s.stop();
    return { rps: r.throughput, p99: r.p99, rssMb: r.rssMb };
  };
  const empty = await quickMeasure('client_credentials opaque, 0 stored tokens');
  // Seed directly in SQL: expired access tokens (so the purge can remove them afterwards).
  const t0 = Date.now();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('cache_size = -262144');
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const chunk = 250_000;
  for (let done = 0; done < SCALE_TOKENS; done += chunk) {
    const n = Math.min(chunk, SCALE_TOKENS - done);
    db.prepare(
      `with recursive c(x) as (select 1 union all select x + 1 from c where x < ${n})
       insert into tokens (token_hash, kind, format, client_id, user_id, scope, audience, family_id, parent_hash, expires_at, revoked_at, consumed_at, created_at)
       select lower(hex(randomblob(32))), 'access', 'opaque', ?, null, 'profile', ?, null, null, ?, null, null, ? from c`,
    ).run(inst.apps.cc.clientId, 'seed', now - 7_200_000, now - 10_800_000);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const seedSeconds = (Date.now() - t0) / 1000;
  log(`seeded ${SCALE_TOKENS.toLocaleString('en-US')} tokens in ${seedSeconds.toFixed(1)} s`);
  const loaded = await quickMeasure(`client_credentials opaque, ${(SCALE_TOKENS / 1e6).toFixed(0)} M stored tokens`);
  const before = dbSizes(file);
  // Purge: a server with a 1 s purge interval, issuance load running while the purge runs.
  const s = await serveInstance(inst, { TOLLGATE_PURGE_INTERVAL: '1' });
  const p0 = Date.now();
  const [during] = await load([spec(s.base)(4)]);
  let after = dbSizes(file);
  while (after.count > before.count - SCALE_TOKENS * 0.99 && Date.now() - p0 < PURGE_WAIT_MS) {
    await new Promise((r) => setTimeout(r, 250));
    after = dbSizes(file);
  }
  const complete = after.count <= before.count - SCALE_TOKENS * 0.99;
  const purgeSeconds = (Date.now() - p0) / 1000 - 1;
  await s.stop();
  after = dbSizes(file);
  cleanup(inst);
  const rep: ScaleReport = {
    tokens: SCALE_TOKENS,
    seedSeconds,
    empty,
    loaded,
    dbBeforePurgeMb: before.fileMb,
    dbAfterPurgeMb: after.fileMb,
    freePagesAfterPurgeMb: after.freeMb,
    purgeSeconds,
    purgeComplete: complete,
    purged: before.count - after.count,
    issuanceDuringPurge: { rps: during!.unitsPerSec, p99: during!.p99, max: during!.max },
  };
  log(`purge: ${rep.purged} tokens; db ${before.fileMb.toFixed(0)} MB -> ${after.fileMb.toFixed(0)} MB (free pages ${after.freeMb.toFixed(0)} MB); issuance during purge ${Math.round(during!.unitsPerSec)} req/s, max latency ${during!.max.toFixed(0)} ms`);
  return rep;
}

// --- PostgreSQL ---------------------------------------------------------------------------------

/** The machine's CPU counters (all cores) from /proc/stat: idle and total ticks. */
function machineCpu(): { idle: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

function idlePct(a: { idle: number; total: number }, b: { idle: number; total: number }): number {
  return b.total > a.total ? (100 * (b.idle - a.idle)) / (b.total - a.total) : NaN;
}

async function withPgSchema<T>(fn: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create schema "${schema}"`);
  try {
    return await fn(schema);
  } finally {
    await c.query(`drop schema "${schema}" cascade`).catch(() => {});
    await c.end();
  }
}

// --- latency at fixed rates (issue #17 §1) -------------------------------------------------------

const LAT_STEP = QUICK ? 3 : 5;
const LAT_WARMUP = 1;
const LAT_FRACTIONS = [0.25, 0.5, 0.75] as const;
/** Open-loop connection pool: far above rate × latency at these loads, so it is never the limit. */
const LAT_CONNECTIONS = 64;

type OpenUnitSpec = OpenLoopSpec['unit'];

/**
 * Open-loop runs: per scenario, the peer's closed-loop peak (as the rest of the bench measures it),
 * then Tollgate and the peer each driven at 25, 50 and 75 % of it — the same absolute rates — with
 * latency counted from each unit's scheduled send time. GET /api/me has no peer equivalent: its
 * base is Tollgate's own closed-loop peak, and the bare-Fastify ceiling runs beside it at the same
 * rates. All three servers stay up the whole time, as in the paired runs.
 */
async function benchLatency(): Promise<LatencyReport> {
  const ceiling = await startServer('ceiling (latency)', ['--import', 'tsx', join(import.meta.dirname, 'servers/ceiling.ts')], {}, '/json');
  const { server: peer, basic: peerBasic, code: peerCode } = await startPeer('oidc-provider (latency)');
  const inst = await startTollgate('sqlite (latency)', { TOLLGATE_KEY_ALG: 'ES256' });
  if (PIN) {
    for (const s of [ceiling, peer, inst.server]) pin(s.pid, '0');
    pin(loadProc.pid ?? 0, '1');
    pin(process.pid, '1');
  }
  const scenarios: LatencyScenario[] = [];
  try {
    await signIn(inst);
    const tg = inst.server;
    const TG = 'tollgate sqlite';
    const PEER = 'oidc-provider';
    const CEIL = 'ceiling';
    const tgOpaque = await clientCredentials(tg.base, inst.apps.cc);
    const userOpaque = (await codeFlow(inst, inst.apps.code)).access_token;
    let peerOpaque = '';
    let peerCookie = '';
    const unitOf = (make: (d: number) => LoadSpec): OpenUnitSpec => {
      const { connections: _c, duration: _d, ...unit } = make(1);
      return unit;
    };
    type Side = { server: Server; label: string; unit: () => OpenUnitSpec };
    interface Def {
      scenario: string;
      unit: 'req/s' | 'flows/s';
      single: boolean;
      base: string;
      /** closed-loop spec on the base server, for its peak */
      peak: { server: Server; make: (d: number) => LoadSpec };
      a: Side;
      b: Side;
      bIsPeer: boolean;
      before?: () => Promise<void>;
      note?: string;
    }
    const peerPool: string[] = [];
    const tgPool: string[] = [];
    const peerTokenUrl = `${peer.base}/token`;
    const tgTokenUrl = `${tg.base}/oauth/token`;
    const peerBase = "the peer's closed-loop peak in this run";
    const defs: Def[] = [
      {
        scenario: 'client_credentials opaque',
        unit: 'req/s',
        single: true,
        base: peerBase,
        bIsPeer: true,
        peak: { server: peer, make: post(peerTokenUrl, peerBasic, 'grant_type=client_credentials&scope=api%3Aread') },
        a: { server: tg, label: TG, unit: () => unitOf(post(tgTokenUrl, inst.apps.cc.basic, 'grant_type=client_credentials')) },
        b: { server: peer, label: PEER, unit: () => unitOf(post(peerTokenUrl, peerBasic, 'grant_type=client_credentials&scope=api%3Aread')) },
      },
      {
        scenario: 'client_credentials JWT ES256',
        unit: 'req/s',
        single: true,
        base: peerBase,
        bIsPeer: true,
        peak: { server: peer, make: post(peerTokenUrl, peerBasic, 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Abench%3Aapi') },
        a: { server: tg, label: TG, unit: () => unitOf(post(tgTokenUrl, inst.apps.ccJwt.basic, 'grant_type=client_credentials')) },
        b: { server: peer, label: PEER, unit: () => unitOf(post(peerTokenUrl, peerBasic, 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Abench%3Aapi')) },
      },
      {
        scenario: 'introspection opaque',
        unit: 'req/s',
        single: true,
        base: peerBase,
        bIsPeer: true,
        // The peer's token right before: the client_credentials runs fill its 1,000-entry LRU.
        before: async () => {
          peerOpaque = await clientCredentials(peer.base, { clientId: PEER_CLIENT.id, secret: PEER_CLIENT.secret, basic: peerBasic }, { scope: 'api:read' }, '/token');
        },
        peak: { server: peer, make: (d) => post(`${peer.base}/token/introspection`, peerBasic, `token=${peerOpaque}`)(d) },
        a: { server: tg, label: TG, unit: () => unitOf(post(`${tg.base}/oauth/introspect`, inst.apps.cc.basic, `token=${tgOpaque}`)) },
        b: { server: peer, label: PEER, unit: () => unitOf(post(`${peer.base}/token/introspection`, peerBasic, `token=${peerOpaque}`)) },
      },
      {
        scenario: 'GET /api/me opaque',
        unit: 'req/s',
        single: true,
        base: "Tollgate's own closed-loop peak in this run (oidc-provider has no equivalent; the ceiling, GET /json on bare Fastify, runs at the same rates)",
        bIsPeer: false,
        peak: { server: tg, make: getBearer(`${tg.base}/api/me`, userOpaque) },
        a: { server: tg, label: TG, unit: () => unitOf(getBearer(`${tg.base}/api/me`, userOpaque)) },
        b: { server: ceiling, label: CEIL, unit: () => unitOf((d) => ({ kind: 'static', url: `${ceiling.base}/json`, method: 'GET', headers: {}, connections: CONNECTIONS, duration: d })) },
      },
      {
        scenario: 'refresh',
        unit: 'req/s',
        single: true,
        base: peerBase,
        bIsPeer: true,
        note: 'Tollgate rotates (each answer a new refresh token, the old one consumed, durable); oidc-provider does not rotate a confidential client\'s refresh token by default, so it presents the same ones again (in memory). Each server chains over its own pool of refresh tokens, each from its own code flow.',
        before: async () => {
          peerCookie = await peerSession(peer.base, peerCode);
          peerPool.length = 0;
          while (peerPool.length < 200) {
            const t = await peerCodeFlow(peer.base, peerCode, peerCookie, PLAIN_SCOPE);
            if (t.refresh_token) peerPool.push(t.refresh_token);
          }
          if (tgPool.length === 0) tgPool.push(...(await refreshPool(inst, 160)));
        },
        peak: { server: peer, make: (d) => ({ kind: 'refresh', url: peerTokenUrl, basic: peerCode.basic, poolName: 'peer (latency)', pool: peerPool, connections: CONNECTIONS, duration: d }) },
        a: { server: tg, label: TG, unit: () => ({ kind: 'refresh', url: tgTokenUrl, basic: inst.apps.code.basic, poolName: 'tollgate (latency)', pool: tgPool }) },
        b: { server: peer, label: PEER, unit: () => ({ kind: 'refresh', url: peerTokenUrl, basic: peerCode.basic, poolName: 'peer (latency)', pool: peerPool }) },
      },
      {
        scenario: CODE_FLOW,
        unit: 'flows/s',
        single: false,
        base: peerBase,
        bIsPeer: true,
        note: 'Rate in flows/s; a flow\'s latency runs from its scheduled time to its token response (authorize → 303 with the code → token, on one connection).',
        before: async () => {
          peerCookie = await peerSession(peer.base, peerCode);
        },
        peak: { server: peer, make: (d) => peerFlow(peer.base, peerCode, peerCookie, false)(d) },
        a: { server: tg, label: TG, unit: () => unitOf(tgFlow(inst, inst.apps.code, false)) },
        b: { server: peer, label: PEER, unit: () => unitOf(peerFlow(peer.base, peerCode, peerCookie, false)) },
      },
    ];
    for (const def of defs) {
      if (ONLY && ![`latency ${def.scenario}`, `${def.a.label} ${def.scenario}`, `${def.b.label} ${def.scenario}`].some((t) => ONLY.test(t))) continue;
      await def.before?.();
      await load([def.peak.make(WARMUP)]);
      const c0 = cpuMs(def.peak.server.pid);
      const [pk] = await load([def.peak.make(DURATION)]);
      const peak = figures(pk!, cpuMs(def.peak.server.pid) - c0);
      log(`latency · ${def.scenario}: base peak ${Math.round(peak.unitsPerSec)} ${def.unit} (closed loop, ${CONNECTIONS} connections), p99 ${peak.p99.toFixed(2)} ms`);
      const steps: LatencyStep[] = [];
      for (const [k, fraction] of LAT_FRACTIONS.entries()) {
        const rate = Math.max(10, Math.round(peak.unitsPerSec * fraction));
        const order = k % 2 === 0 ? [def.a, def.b] : [def.b, def.a];
        const got = new Map<Side, LatencySide>();
        for (const side of order) {
          const unit = side.unit();
          await openLoad({ kind: 'open', rate, duration: LAT_WARMUP, connections: LAT_CONNECTIONS, unit });
          const c1 = cpuMs(side.server.pid);
          const result = await openLoad({ kind: 'open', rate, duration: LAT_STEP, connections: LAT_CONNECTIONS, unit });
          const cpu = cpuMs(side.server.pid) - c1;
          got.set(side, { label: side.label, result, cpuUsPerUnit: result.ok > 0 ? (cpu * 1000) / result.ok : NaN });
          const l = result.latency;
          log(
            `  ${side.label} @ ${rate} ${def.unit} (${Math.round(fraction * 100)} %): p50 ${l.p50.toFixed(2)} / p99 ${l.p99.toFixed(2)} / p99.9 ${l.p999.toFixed(2)} ms, ` +
              `achieved ${Math.round(result.achievedRate)}, errors ${result.failed + result.timeouts}, lag p99 ${result.sendLag.p99.toFixed(2)} ms, max in flight ${result.maxInFlight}` +
              (result.firstError ? `, first error: ${result.firstError}` : ''),
          );
        }
        steps.push({ fraction, rate, a: got.get(def.a)!, b: got.get(def.b)! });
      }
      scenarios.push({
        scenario: def.scenario,
        unit: def.unit,
        single: def.single,
        base: def.base,
        peak: peak.unitsPerSec,
        peakP99: peak.p99,
        peakCpuUsPerUnit: peak.cpuUsPerUnit,
        aLabel: def.a.label,
        bLabel: def.b.label,
        bIsPeer: def.bIsPeer,
        steps,
        ...(def.note ? { note: def.note } : {}),
      });
    }
  } finally {
    await Promise.all([ceiling.stop(), peer.stop(), inst.server.stop()]);
    cleanup(inst);
  }
  const m = machineMeta();
  return {
    meta: { ...m, quick: QUICK, pinned: PIN, stepSeconds: LAT_STEP, warmupSeconds: LAT_WARMUP, connections: LAT_CONNECTIONS, totalSeconds: Math.round((Date.now() - started) / 1000) },
    scenarios,
  };
}

/** --latency: the open-loop run alone; without --only, spliced into latest.{md,json}. */
async function latencyMain(): Promise<void> {
  const rep = await benchLatency();
  const lr = latencyRatios(rep);
  console.log('\n' + consoleTable(LATENCY_HEAD, latencyConsoleRows(rep)));
  console.log('\n' + consoleTable(['target', 'goal', 'measured', 'status', 'detail'], ratioRows(lr)));
  if (ONLY) return;
  const jsonFile = join(RESULTS_DIR, 'latest.json');
  const mdFile = join(RESULTS_DIR, 'latest.md');
  const json = existsSync(jsonFile) ? (JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(jsonFile, JSON.stringify({ ...json, latency: rep }, null, 2) + '\n');
  const rows = mdTable(['x'], ratioRows(lr)).split('\n').slice(2);
  const md = existsSync(mdFile) ? readFileSync(mdFile, 'utf8') : '# Tollgate benchmark — latest run\n\n## Targets\n\n| target | goal | measured | status | detail |\n|---|---|---|---|---|\n\n## All scenarios\n';
  writeFileSync(mdFile, spliceLatency(md, rep, rows));
  console.log(`\nwrote the latency section into bench/results/latest.{json,md} in ${rep.meta.totalSeconds} s`);
}

/** The last --latency run, kept by a full run that did not measure it again. */
function previousLatency(): LatencyReport | undefined {
  try {
    return (JSON.parse(readFileSync(join(RESULTS_DIR, 'latest.json'), 'utf8')) as { latency?: LatencyReport }).latency;
  } catch {
    return undefined;
  }
}

// --- autocannon vs wrk (issue #17: why the two read different ratios) ----------------------------

/**
 * `wrk, pinned`: wrk on CPU 1 and every thread of the server on CPU 0, so the server cannot spread
 * its off-event-loop work (libuv pool, GC helpers) over the second core.
 */
type Gen = 'autocannon' | 'wrk' | 'wrk, pinned';
const GENS: readonly Gen[] = ['autocannon', 'wrk', 'wrk, pinned'];

function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

interface GeneratorRun {
  readonly scenario: string;
  readonly generator: Gen;
  readonly server: string;
  readonly rep: number;
  readonly rps: number;
  readonly p99: number;
  readonly failures: number;
  /** server CPU per request (all threads), µs */
  readonly serverCpuUs: number;
  /** server cores busy during the run (all threads / main thread alone) */
  readonly serverCores: number;
  readonly serverMainCores: number;
  /** load generator CPU per request, µs, and cores */
  readonly generatorCpuUs: number;
  readonly generatorCores: number;
  /** machine idle during the run, % of both cores */
  readonly machineIdlePct: number;
}

/**
 * `--generators`: the same closed-loop scenarios (32 connections, keep-alive, no pipelining, the
 * same request bytes) driven by autocannon and by wrk (1 thread), Tollgate and the peer alternating
 * run by run and the generator order alternating rep by rep (and wrk once more with the server
 * pinned to one core, wrk to the other); per run the server's CPU (all threads
 * and the event-loop thread alone), the generator's CPU and the machine's idle time.
 */
async function benchGenerators(): Promise<void> {
  if (!wrkAvailable()) throw new Error('--generators needs wrk (apt-get install wrk)');
  const REPS = 3;
  const { server: peer, basic: peerBasic } = await startPeer('oidc-provider (generators)');
  const inst = await startTollgate('sqlite (generators)', { TOLLGATE_KEY_ALG: 'ES256' });
  const out: GeneratorRun[] = [];
  try {
    const tg = inst.server;
    const tgOpaque = await clientCredentials(tg.base, inst.apps.cc);
    type Side = { server: Server; label: string; make: (d: number) => LoadSpec };
    const scenarios: Array<{ name: string; before?: () => Promise<void>; a: Side; b: () => Side }> = [];
    let peerOpaque = '';
    scenarios.push(
      {
        name: 'client_credentials opaque',
        a: { server: tg, label: 'tollgate', make: post(`${tg.base}/oauth/token`, inst.apps.cc.basic, 'grant_type=client_credentials') },
        b: () => ({ server: peer, label: 'peer', make: post(`${peer.base}/token`, peerBasic, 'grant_type=client_credentials&scope=api%3Aread') }),
      },
      {
        name: 'client_credentials JWT ES256',
        a: { server: tg, label: 'tollgate', make: post(`${tg.base}/oauth/token`, inst.apps.ccJwt.basic, 'grant_type=client_credentials') },
        b: () => ({ server: peer, label: 'peer', make: post(`${peer.base}/token`, peerBasic, 'grant_type=client_credentials&scope=api%3Aread&resource=urn%3Abench%3Aapi') }),
      },
      {
        name: 'introspection opaque',
        before: async () => {
          peerOpaque = await clientCredentials(peer.base, { clientId: PEER_CLIENT.id, secret: PEER_CLIENT.secret, basic: peerBasic }, { scope: 'api:read' }, '/token');
        },
        a: { server: tg, label: 'tollgate', make: post(`${tg.base}/oauth/introspect`, inst.apps.cc.basic, `token=${tgOpaque}`) },
        b: () => ({ server: peer, label: 'peer', make: post(`${peer.base}/token/introspection`, peerBasic, `token=${peerOpaque}`) }),
      },
    );
    for (const sc of scenarios) {
      if (ONLY && !ONLY.test(sc.name)) continue;
      await sc.before?.();
      const sides = [sc.a, sc.b()];
      const withGen = (side: Side, g: Gen, d: number): LoadSpec => {
        const spec = side.make(d);
        if (spec.kind !== 'static') return spec;
        return g === 'autocannon' ? { ...spec, generator: 'autocannon' } : { ...spec, generator: 'wrk', ...(g === 'wrk, pinned' ? { generatorCpus: '1' } : {}) };
      };
      for (const side of sides) for (const g of GENS.slice(0, 2)) await load([withGen(side, g, WARMUP)]);
      for (let rep = 0; rep < REPS; rep++) {
        const gens = rep % 2 === 0 ? GENS : [...GENS].reverse();
        for (const g of gens) {
          for (const side of sides) {
            if (g === 'wrk, pinned') pin(side.server.pid, '0');
            const c0 = cpuMs(side.server.pid);
            const m0 = mainThreadCpuMs(side.server.pid);
            const t0 = machineCpu();
            const w0 = Date.now();
            const [r] = await load([withGen(side, g, DURATION)]).finally(() => {
              if (g === 'wrk, pinned') pin(side.server.pid, '0-1');
            });
            const wall = (Date.now() - w0) / 1000;
            const cpu = cpuMs(side.server.pid) - c0;
            const main = mainThreadCpuMs(side.server.pid) - m0;
            const gen = r!.generatorCpuMs ?? NaN;
            const row: GeneratorRun = {
              scenario: sc.name,
              generator: g,
              server: side.label,
              rep,
              rps: r!.unitsPerSec,
              p99: r!.p99,
              failures: r!.errors + r!.timeouts + r!.non2xx,
              serverCpuUs: (cpu * 1000) / r!.requests,
              serverCores: cpu / 1000 / r!.seconds,
              serverMainCores: main / 1000 / r!.seconds,
              generatorCpuUs: (gen * 1000) / r!.requests,
              generatorCores: gen / 1000 / wall,
              machineIdlePct: idlePct(t0, machineCpu()),
            };
            out.push(row);
            log(
              `${sc.name} · ${g} · ${side.label}: ${Math.round(row.rps)} req/s, server ${row.serverCpuUs.toFixed(0)} µs/req (${row.serverCores.toFixed(2)} cores, main thread ${row.serverMainCores.toFixed(2)}), ` +
                `generator ${row.generatorCpuUs.toFixed(0)} µs/req (${row.generatorCores.toFixed(2)} cores), machine idle ${row.machineIdlePct.toFixed(0)} %` +
                (row.failures > 0 ? `, failures ${row.failures}` : ''),
            );
          }
        }
      }
    }
  } finally {
    await Promise.all([peer.stop(), inst.server.stop()]);
    cleanup(inst);
  }
  // Summary: per scenario and generator, the mean of each figure over the reps, and the ratio.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const head = ['scenario', 'generator', 'tollgate req/s', 'peer req/s', 'ratio (per rep)', 'server CPU µs/req tg / peer', 'server cores tg / peer (main thread)', 'generator µs/req at tg / peer', 'generator cores at tg / peer', 'machine idle % tg / peer'];
  const rows: string[][] = [];
  for (const sc of [...new Set(out.map((r) => r.scenario))]) {
    for (const g of GENS) {
      const pick = (server: string) => out.filter((r) => r.scenario === sc && r.generator === g && r.server === server);
      const a = pick('tollgate');
      const b = pick('peer');
      const m = (rs: GeneratorRun[], f: (r: GeneratorRun) => number) => mean(rs.map(f));
      const perRep = a.map((r, i) => (b[i] ? r.rps / b[i]!.rps : NaN));
      rows.push([
        sc,
        g,
        m(a, (r) => r.rps).toFixed(0),
        m(b, (r) => r.rps).toFixed(0),
        `${(m(a, (r) => r.rps) / m(b, (r) => r.rps)).toFixed(2)}× (${perRep.map((x) => x.toFixed(2)).join(', ')})`,
        `${m(a, (r) => r.serverCpuUs).toFixed(0)} / ${m(b, (r) => r.serverCpuUs).toFixed(0)}`,
        `${m(a, (r) => r.serverCores).toFixed(2)} (${m(a, (r) => r.serverMainCores).toFixed(2)}) / ${m(b, (r) => r.serverCores).toFixed(2)} (${m(b, (r) => r.serverMainCores).toFixed(2)})`,
        `${m(a, (r) => r.generatorCpuUs).toFixed(0)} / ${m(b, (r) => r.generatorCpuUs).toFixed(0)}`,
        `${m(a, (r) => r.generatorCores).toFixed(2)} / ${m(b, (r) => r.generatorCores).toFixed(2)}`,
        `${m(a, (r) => r.machineIdlePct).toFixed(0)} / ${m(b, (r) => r.machineIdlePct).toFixed(0)}`,
      ]);
    }
  }
  console.log('\n' + consoleTable(head, rows));
  if (ONLY) return;
  const meta = { ...machineMeta(), quick: QUICK, durationSeconds: DURATION, warmupSeconds: WARMUP, reps: REPS, connections: CONNECTIONS, totalSeconds: Math.round((Date.now() - started) / 1000) };
  writeFileSync(join(RESULTS_DIR, 'generators-latest.json'), JSON.stringify({ meta, runs: out }, null, 2) + '\n');
  writeFileSync(
    join(RESULTS_DIR, 'generators-latest.md'),
    [
      '# autocannon vs wrk — latest run',
      '',
      `\`npm run bench -- --generators${QUICK ? ' --quick' : ''}\` on ${meta.cpus}, Node ${meta.node}, commit ${meta.commit}, ${meta.date}. ` +
        `${CONNECTIONS} connections, keep-alive, no pipelining, the same request bytes; wrk with 1 thread. Tollgate (SQLite) and oidc-provider alternate run by run, ` +
        `the generator order alternates rep by rep; ${REPS} reps of ${DURATION} s each after ${WARMUP} s of warm-up per side and generator. ` +
        'Server CPU counts all its threads; "main thread" is the event-loop thread alone. Generator CPU: the autocannon process, or wrk (its shell\'s cutime+stime). ' +
        '"wrk, pinned": wrk on CPU 1 and every thread of the server on CPU 0 (taskset), so the server cannot put its off-event-loop work (libuv pool, GC helpers) on the second core.',
      '',
      mdTable(head, rows),
      '',
    ].join('\n'),
  );
  console.log('wrote bench/results/generators-latest.{json,md}');
}

// --- main ---------------------------------------------------------------------------------------

const ratios: Ratio[] = [];
/** A ratio row; `target` null: reported without a goal (status n/a). */
function ratio(what: string, target: number | null, a: ScenarioResult | undefined, b: ScenarioResult | undefined, kind: 'x' | '%'): void {
  if (!a || !b || a.runs.length === 0 || b.runs.length === 0) return;
  const t = a.throughput / b.throughput;
  const cpu = b.cpuUsPerUnit / a.cpuUsPerUnit;
  const per = a.unit === 'flows/s' ? 'flow' : 'req';
  ratios.push({
    what,
    target: target === null ? '–' : kind === 'x' ? `≥ ${target.toFixed(1)}×` : `≥ ${(target * 100).toFixed(0)} %`,
    measured: kind === 'x' ? `${t.toFixed(2)}×` : `${(t * 100).toFixed(0)} %`,
    met: target === null ? null : t >= target,
    detail:
      `${Math.round(a.throughput)} vs ${Math.round(b.throughput)} ${a.unit}; CPU/${per} ratio ${cpu.toFixed(2)}× (${a.cpuUsPerUnit.toFixed(0)} vs ${b.cpuUsPerUnit.toFixed(0)} µs)` +
      (a.failures + b.failures > 0 ? `; failures ${a.failures} vs ${b.failures}` : ''),
  });
}

/**
 * --only: the matching Tollgate scenarios on SQLite (and PostgreSQL when configured), the matching
 * oidc-provider scenarios and the matching paired runs, with their ratios; no report.
 */
async function benchOnly(): Promise<void> {
  if (ONLY?.test('scale')) {
    await benchScale();
    console.log(consoleTable(HEAD, tableRows(results)));
    return;
  }
  const sqlite = await startTollgate('sqlite', { TOLLGATE_KEY_ALG: 'ES256' });
  await benchTollgate(sqlite, true);
  await sqlite.server.stop();
  cleanup(sqlite);
  if (PG_URL) {
    await withPgSchema(async (schema) => {
      const inst = await startTollgate('postgres', { TOLLGATE_DATABASE_URL: PG_URL, TOLLGATE_PG_SCHEMA: schema });
      await benchTollgate(inst, true);
      await inst.server.stop();
      cleanup(inst);
    });
  }
  const peerScenarios = ['client_credentials opaque', 'client_credentials JWT ES256', 'introspection opaque', DEVICE_POLL, CODE_FLOW, OIDC_FLOW];
  if (peerScenarios.some((sc) => ONLY?.test(`peer ${sc}`))) await benchPeer();
  // The paired runs start three servers: only when one of their scenarios can match.
  const pairedScenarios = ['client_credentials opaque', 'client_credentials JWT ES256', 'introspection opaque', 'GET /api/me opaque', 'GET /api/me JWT', EXCHANGE, PEER_VS_EXCHANGE, PKJ, CODE_FLOW, OIDC_FLOW];
  if (pairedScenarios.some((sc) => ONLY?.test(`tollgate sqlite (paired) ${sc}`) || ONLY?.test(`peer (paired) ${sc}`))) await benchPaired();
  await benchCimd();
  const ran = results.filter((r) => r.runs.length > 0);
  console.log('\n' + consoleTable(HEAD, tableRows(ran)));
  if (ratios.length > 0) console.log('\n' + consoleTable(['target', 'goal', 'measured', 'status', 'detail'], ratioRows(ratios)));
}

async function main(): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  startLoad();
  log(`mode ${QUICK ? 'quick' : 'full'}: ${DURATION} s × ${RUNS} runs + ${WARMUP} s warm-up per scenario, ${CONNECTIONS} connections`);
  if (LATENCY) return latencyMain();
  if (GENERATORS) return benchGenerators();
  if (ONLY) return benchOnly();
  await benchCeiling();
  await benchPeer();
  const sqlite = await startTollgate('sqlite', { TOLLGATE_KEY_ALG: 'ES256' });
  const t = await benchTollgate(sqlite, true);
  await sqlite.server.stop();
  // The same database served by `--workers 2` (node:cluster): CPU counts every worker.
  const workers = await serveInstance(sqlite, {}, ['--workers', '2']);
  await measure(workers, 'tollgate sqlite --workers 2', 'client_credentials opaque', post(`${workers.base}/oauth/token`, sqlite.apps.cc.basic, 'grant_type=client_credentials'));
  await workers.stop();
  cleanup(sqlite);
  const ed = await startTollgate('sqlite EdDSA', { TOLLGATE_KEY_ALG: 'EdDSA' });
  const te = await benchTollgate(ed, false);
  await ed.server.stop();
  cleanup(ed);

  let tp: Map<string, ScenarioResult> | undefined;
  let pgTwo: { one: number; two: number; oneIdle: number; twoIdle: number } | undefined;
  if (PG_URL) {
    await withPgSchema(async (schema) => {
      const inst = await startTollgate('postgres', { TOLLGATE_DATABASE_URL: PG_URL, TOLLGATE_PG_SCHEMA: schema });
      tp = await benchTollgate(inst, true);
      if (!QUICK) {
        // Two processes on the same database, load split between them.
        // How busy the whole machine is with one process, then with two: whether a second process
        // has any idle CPU left to use.
        const one = post(`${inst.server.base}/oauth/token`, inst.apps.cc.basic, 'grant_type=client_credentials');
        const t0 = machineCpu();
        await load([one(DURATION)]);
        const oneIdle = idlePct(t0, machineCpu());
        const second = await startServer('tollgate postgres #2', ['dist/cli/main.js', 'serve'], inst.env, '/.well-known/oauth-authorization-server');
        const mk = (base: string) => post(`${base}/oauth/token`, inst.apps.cc.basic, 'grant_type=client_credentials', CONNECTIONS / 2);
        await load([mk(inst.server.base)(WARMUP), mk(second.base)(WARMUP)]);
        const sums: number[] = [];
        const t1 = machineCpu();
        for (let i = 0; i < RUNS; i++) {
          const rs = await load([mk(inst.server.base)(DURATION), mk(second.base)(DURATION)]);
          sums.push(rs.reduce((n, r) => n + r.unitsPerSec, 0));
        }
        const twoIdle = idlePct(t1, machineCpu());
        pgTwo = { one: tp.get('cc')?.throughput ?? NaN, two: sums.reduce((a, b) => a + b, 0) / sums.length, oneIdle, twoIdle };
        log(`two Tollgate processes on PostgreSQL: ${Math.round(pgTwo.two)} req/s`);
        await second.stop();
      }
      await inst.server.stop();
      cleanup(inst);
    });
  }

  // Paired runs: their ratios come first in the targets table (the others are added below).
  await benchPaired();
  await benchCimd();

  const scale = SCALE ? await benchScale() : undefined;

  // --- ratios -----------------------------------------------------------------------------------
  const find = (server: string, scenario: string) => results.find((r) => r.server === server && r.scenario === scenario);
  const ceiling = find('ceiling', 'GET /json (bare Fastify)');
  const peerOpaque = find('peer', 'client_credentials opaque');
  const peerJwt = find('peer', 'client_credentials JWT ES256');
  const peerIntro = find('peer', 'introspection opaque');
  const peerCode = find('peer', CODE_FLOW);
  const peerOidc = find('peer', OIDC_FLOW);
  for (const [label, m] of [['SQLite', t], ['PostgreSQL', tp]] as const) {
    if (!m) continue;
    ratio(`client_credentials opaque (${label}) vs oidc-provider opaque`, 2.0, m.get('cc'), peerOpaque, 'x');
    ratio(`client_credentials JWT ES256 (${label}) vs oidc-provider ES256`, 2.5, m.get('jwt'), peerJwt, 'x');
    ratio(`introspection (${label}) vs oidc-provider`, 3.0, m.get('introspect'), peerIntro, 'x');
    ratio(`token exchange with actor (${label}) vs oidc-provider client_credentials opaque`, null, m.get('exchange'), peerOpaque, 'x');
    ratio(`GET /api/me opaque (${label}) vs ceiling`, 0.4, m.get('me'), ceiling, '%');
    ratio(`GET /api/me JWT (${label}) vs ceiling`, 0.4, m.get('meJwt'), ceiling, '%');
    ratio(`authorization code + PKCE flows (${label}) vs oidc-provider`, null, m.get('code'), peerCode, 'x');
    ratio(`OIDC code flows, RS256 ID token (${label}) vs oidc-provider`, null, m.get('oidc'), peerOidc, 'x');
    ratio(`device-flow pending poll (${label}) vs oidc-provider`, null, m.get('device'), find('peer', DEVICE_POLL), 'x');
  }
  ratio('client_credentials JWT EdDSA (SQLite) vs oidc-provider ES256', 2.5, te.get('jwt'), peerJwt, 'x');
  const tokenScenarios = results.filter((r) => r.server.startsWith('tollgate') && !/password|@500/.test(r.scenario));
  const worst = tokenScenarios.reduce<ScenarioResult | undefined>((w, r) => (!w || r.p99 > w.p99 ? r : w), undefined);
  const over = tokenScenarios.filter((r) => r.p99 > 5);
  if (worst) {
    ratios.push({
      what: 'p99 at saturation, every Tollgate token scenario',
      target: '≤ 5 ms',
      measured: `worst ${worst.p99.toFixed(2)} ms`,
      met: over.length === 0,
      detail: `${over.length} of ${tokenScenarios.length} scenarios over 5 ms; worst: ${worst.server} ${worst.scenario}`,
    });
  }
  const pi = t.get('probeIdle');
  const pd = t.get('probeDuring');
  if (pi && pd) {
    ratios.push({
      what: 'GET /api/me latency while the password grant saturates (SQLite)',
      target: 'latency kept',
      measured: `p50 ${pd.p50.toFixed(2)} / p99 ${pd.p99.toFixed(2)} ms`,
      met: null,
      detail: `idle: p50 ${pi.p50.toFixed(2)} / p99 ${pi.p99.toFixed(2)} ms (500 req/s probe, 4 connections); password grant ${Math.round(t.get('pw')?.throughput ?? 0)} req/s`,
    });
  }
  if (scale) {
    const r = scale.loaded.rps / scale.empty.rps;
    ratios.push({
      what: `issuance with ${(scale.tokens / 1e6).toFixed(0)} M stored tokens vs empty (target is set at 10 M)`,
      target: '≥ 80 %',
      measured: `${(r * 100).toFixed(0)} %`,
      met: scale.tokens >= 10_000_000 ? r >= 0.8 : null,
      detail: `${Math.round(scale.loaded.rps)} vs ${Math.round(scale.empty.rps)} req/s; RSS ${scale.loaded.rssMb.toFixed(0)} vs ${scale.empty.rssMb.toFixed(0)} MB`,
    });
  }
  if (pgTwo) {
    const r = pgTwo.two / pgTwo.one;
    ratios.push({
      what: 'two Tollgate processes on one PostgreSQL vs one',
      target: '≥ 1.5×',
      measured: `${r.toFixed(2)}×`,
      met: r >= 1.5,
      detail: `${Math.round(pgTwo.two)} vs ${Math.round(pgTwo.one)} req/s (client_credentials opaque); machine CPU idle ${pgTwo.oneIdle.toFixed(0)} % with one process, ${pgTwo.twoIdle.toFixed(0)} % with two: the 2 cores are shared by Tollgate, PostgreSQL and the load generator`,
    });
  }

  // The open-loop latency figures come from the last `--latency` run (their own date and commit).
  const latency = previousLatency();
  if (latency) ratios.push(...latencyRatios(latency));

  // --- output -----------------------------------------------------------------------------------
  const meta = {
    ...machineMeta(),
    mode: QUICK ? 'quick' : 'full',
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    runs: RUNS,
    connections: CONNECTIONS,
    postgres: Boolean(PG_URL),
    totalSeconds: Math.round((Date.now() - started) / 1000),
  };
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify({ meta, results, ratios, scale: scale ?? null, pgTwoProcesses: pgTwo ?? null, ...(latency ? { latency } : {}) }, null, 2) + '\n');
  const chartResults = results.filter((r) => !/@500/.test(r.scenario));
  writeFileSync(join(RESULTS_DIR, 'latest.svg'), svgChart(chartResults, `Tollgate vs oidc-provider 9 vs bare Fastify — ${meta.date.slice(0, 10)}, ${meta.cpus}`));
  const rows = tableRows(results);
  const rrows = ratioRows(ratios);
  const RHEAD = ['target', 'goal', 'measured', 'status', 'detail'];
  const md = [
    '# Tollgate benchmark — latest run',
    '',
    `\`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${meta.cpus}, Node ${meta.node}, commit ${meta.commit}, ${meta.date}. ` +
      `${meta.connections} connections, ${meta.warmupSeconds} s warm-up then ${meta.runs} runs of ${meta.durationSeconds} s per scenario; ` +
      `throughput is the mean of the runs, p50 the median, p99 the worst run. CPU is the server process's user+system time per request ` +
      `(per flow for the code-flow scenarios) — on 2 cores the load generator competes with the server, so CPU/request is the steadier figure. ` +
      `PostgreSQL ${meta.postgres ? 'included' : 'not measured (set TOLLGATE_DATABASE_URL)'}.`,
    '',
    '![throughput and latency](latest.svg)',
    '',
    '## Targets (issue #5)',
    '',
    mdTable(RHEAD, rrows),
    '',
    ...(latency ? [latencySection(latency), ''] : []),
    '## All scenarios',
    '',
    mdTable(HEAD, rows),
    '',
    ...(scale
      ? [
          '## Scale: stored tokens, RSS and purge (SQLite)',
          '',
          `- ${scale.tokens.toLocaleString('en-US')} expired access tokens seeded directly in SQL in ${scale.seedSeconds.toFixed(1)} s.`,
          `- client_credentials opaque: ${Math.round(scale.empty.rps)} req/s (p99 ${scale.empty.p99.toFixed(2)} ms, RSS ${scale.empty.rssMb.toFixed(0)} MB) on an empty table, ` +
            `${Math.round(scale.loaded.rps)} req/s (p99 ${scale.loaded.p99.toFixed(2)} ms, RSS ${scale.loaded.rssMb.toFixed(0)} MB) with the seeded tokens.`,
          `- purge (TOLLGATE_PURGE_INTERVAL=1): removed ${scale.purged.toLocaleString('en-US')} tokens in ~${scale.purgeSeconds.toFixed(1)} s` +
            `${scale.purgeComplete ? '' : ` (${Math.round(scale.purged / scale.purgeSeconds).toLocaleString('en-US')} per second; the run stopped waiting after ${PURGE_WAIT_MS / 1000} s, before the purge had finished)`}; database file ${scale.dbBeforePurgeMb.toFixed(0)} MB before, ` +
            `${scale.dbAfterPurgeMb.toFixed(0)} MB after, of which ${scale.freePagesAfterPurgeMb.toFixed(0)} MB free pages (reused by new rows; the file only shrinks with VACUUM).`,
          ...(scale.issuanceDuringPurge
            ? [`- issuance while the purge ran (4 s, 32 connections): ${Math.round(scale.issuanceDuringPurge.rps)} req/s, p99 ${scale.issuanceDuringPurge.p99.toFixed(1)} ms, max ${scale.issuanceDuringPurge.max.toFixed(0)} ms.`]
            : []),
          '',
        ]
      : []),
    '## Method notes',
    '',
    '- Servers: ceiling = bare Fastify 5 route; peer = oidc-provider 9 (in-memory adapter, NODE_ENV=production), one confidential client, opaque tokens without `resource`, ES256 JWT with `resource=urn:bench:api`, introspection at `/token/introspection`; Tollgate = `node dist/cli/main.js serve` with `TOLLGATE_LOG_LEVEL=silent`, `TOLLGATE_PURGE_INTERVAL=0`, fresh data directory (or PostgreSQL schema).',
    '- All requests authenticate with HTTP Basic (client_secret_basic).',
    '- GET /api/me uses a user token (from an authorization-code flow), opaque or RFC 9068 JWT.',
    '- Refresh grant: rotation chains over a shared pool of refresh tokens, each obtained from its own authorization-code flow (its own family). Each response\'s rotated token goes back into the pool, so a token is never presented twice; a run that stops mid-request loses that chain, so the pool holds connections × (runs + 2) + 32 tokens.',
    '- Authorization code + PKCE: per flow, a fresh verifier, `GET /oauth/authorize` with the signed-in session cookie (consent given once before) → 303 with the code → `POST /oauth/token`; flows/s counts token responses with status 200. Latencies are per request. Both servers issue an opaque access token and a refresh token per flow. On oidc-provider the same flow goes to `/auth` and `/token`, with a session cookie and a grant left by one sign-in through a stand-in interaction step (bench/servers/peer.ts).',
    '- OIDC code flow: the same flow with `scope=openid profile` and a fresh `nonce`, on a third Tollgate application (consent to `openid profile` given once) and on the same oidc-provider client; the token response must carry an `id_token` whose header says RS256 and whose payload echoes the nonce (decoded by the load generator, not verified), or the flow counts as a failure. Tollgate\'s ID token has `auth_time`, `sid`, `amr`, `azp` and `at_hash` beside `iss`/`sub`/`aud`/`exp`/`iat`/`nonce`; oidc-provider\'s (defaults, `conformIdTokenClaims`) has the latter six only. The code flows have no issue #5 target: their ratios are reported with status n/a.',
    '- Password grant: Argon2id-bound by design. A 500 req/s GET /api/me probe (4 connections) runs alone, then during the password load, to show the other endpoints keep their latency.',
    '',
  ].join('\n');
  writeFileSync(join(RESULTS_DIR, 'latest.md'), md);
  console.log('\n' + consoleTable(HEAD, rows) + '\n\n' + consoleTable(RHEAD, rrows));
  console.log(`\nwrote bench/results/latest.{json,md,svg} in ${meta.totalSeconds} s`);
}

const shutdown = async (code: number) => {
  await stopAll();
  loadProc?.kill();
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(130));
main().then(
  () => shutdown(0),
  async (err: unknown) => {
    console.error(err);
    await shutdown(1);
  },
);
