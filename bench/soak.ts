/**
 * `npm run soak` — issue #6 "Soak": one Tollgate (SQLite, built dist/) under a fixed request rate
 * over a mix of every grant for N minutes; per minute it reports the server's RSS, its event-loop
 * delay (read from Tollgate's own /metrics), client-side latency p50/p99, requests and failures,
 * and at the end a verdict on whether those numbers stayed flat.
 *
 *   npm run soak                           10 minutes at 200 req/s
 *   npm run soak -- --minutes 3 --rate 100
 *
 * The driver is open-loop: every operation type is its own fixed-rate stream, fired on schedule
 * whether or not earlier requests have answered (autocannon's closed loop would slow down with the
 * server and hide a degradation). Latency is measured per HTTP request from the moment it is sent;
 * the driver's own lateness against the schedule is reported too, so a slow driver cannot pass for
 * a fast server. Access tokens live 120 s and the purge job runs every 60 s, so expiry and purge
 * happen during the run; `tokens stored` shows the table reaching a plateau.
 *
 * Writes bench/results/soak-latest.{json,md}. Exit code 0 when flat, 1 when not, 2 on a setup failure.
 * Needs a build (`npm run build`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, performance, type RecordableHistogram } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { cpuMs, rssMb, stopAll } from './lib/proc.js';
import { consoleTable, machineMeta, mdTable } from './lib/report.js';
import { cleanup, REDIRECT, signIn, startTollgate, USER, type App, type Instance } from './lib/tollgate.js';

// --- options --------------------------------------------------------------------------------------

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const raw = args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`soak: --${name} needs a positive number`);
    process.exit(2);
  }
  return n;
}

const MINUTES = Math.max(1, Math.round(option('minutes', 10)));
const RATE = option('rate', 200);
const PASSWORD_RATE = Math.min(1, RATE * 0.01); // Argon2id by design: ~1 per second
const ACCESS_TTL = 120;
const REFRESH_TTL = 180;
const PURGE_INTERVAL = 60;
const CHAIN_LENGTH = 20; // rotations per refresh chain, then the chain is revoked
const CHAIN_POOL = 48; // live refresh chains
const TIMEOUT_MS = 10_000;
const MAX_IN_FLIGHT = 2_000;
const RESULTS_DIR = join(import.meta.dirname, 'results');

if (!existsSync('dist/cli/main.js')) {
  console.error('soak: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
// SQLite only, whatever the environment says.
delete process.env['TOLLGATE_DATABASE_URL'];
delete process.env['TOLLGATE_PG_SCHEMA'];
delete process.env['TOLLGATE_REDIS_URL'];

const t0 = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}`);

// Hard stop: whatever happens, the run ends (the server is stopped with it).
const watchdog = setTimeout(() => {
  console.error('soak: watchdog expired, stopping');
  void stopAll().finally(() => process.exit(2));
}, (MINUTES * 60 + 240) * 1000);
watchdog.unref();

// --- per-minute accounting -------------------------------------------------------------------------

type OpName =
  | 'cc_opaque'
  | 'cc_jwt'
  | 'introspect'
  | 'me_opaque'
  | 'me_jwt'
  | 'refresh'
  | 'authorize'
  | 'code_token'
  | 'revoke'
  | 'password';

interface MinuteStats {
  readonly latency: RecordableHistogram; // µs, every request
  readonly perOp: Map<OpName, { hist: RecordableHistogram; requests: number; failures: number }>;
  requests: number;
  errors: number; // network errors and timeouts
  unexpected: number; // a status (or body) the operation does not expect
  dropped: number; // not sent: too many in flight
  lateMaxMs: number; // driver: worst lateness of a send against its schedule
  statuses: Record<string, number>;
  readonly failureSamples: string[];
}

const minutes: MinuteStats[] = [];
let soakStart = 0; // performance.now() at the start of minute 1
let inFlight = 0;

function minuteAt(t: number): MinuteStats {
  const i = Math.max(0, Math.min(MINUTES - 1, Math.floor((t - soakStart) / 60_000)));
  let m = minutes[i];
  while (minutes.length <= i) {
    minutes.push({
      latency: createHistogram(),
      perOp: new Map(),
      requests: 0,
      errors: 0,
      unexpected: 0,
      dropped: 0,
      lateMaxMs: 0,
      statuses: {},
      failureSamples: [],
    });
    m = minutes[i];
  }
  return m!;
}

function opStats(m: MinuteStats, op: OpName) {
  let s = m.perOp.get(op);
  if (!s) {
    s = { hist: createHistogram(), requests: 0, failures: 0 };
    m.perOp.set(op, s);
  }
  return s;
}

// --- the HTTP part ------------------------------------------------------------------------------

let inst: Instance;
let base = '';
const form = 'application/x-www-form-urlencoded';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

/**
 * One request, accounted in the minute it was sent. `ok` decides whether the answer is the one the
 * operation expects (a 303 from /oauth/authorize is a success). Resolves null on any failure.
 */
async function send(
  op: OpName,
  path: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  ok: (a: Answer) => boolean,
): Promise<Answer | null> {
  const started = performance.now();
  const m = minuteAt(started);
  const s = opStats(m, op);
  m.requests++;
  s.requests++;
  inFlight++;
  try {
    const res = await fetch(base + path, {
      method: init.method,
      headers: init.headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await res.text();
    const us = Math.max(1, Math.round((performance.now() - started) * 1000));
    m.latency.record(us);
    s.hist.record(us);
    m.statuses[String(res.status)] = (m.statuses[String(res.status)] ?? 0) + 1;
    const answer: Answer = { status: res.status, body, location: res.headers.get('location') };
    if (!ok(answer)) {
      m.unexpected++;
      s.failures++;
      if (m.failureSamples.length < 5) m.failureSamples.push(`${op}: ${res.status} ${body.slice(0, 160)}`);
      return null;
    }
    return answer;
  } catch (err) {
    m.errors++;
    s.failures++;
    if (m.failureSamples.length < 5) m.failureSamples.push(`${op}: ${(err as Error).name} ${(err as Error).message}`);
    return null;
  } finally {
    inFlight--;
  }
}

const is200 = (a: Answer) => a.status === 200;
const json = <T>(a: Answer): T => JSON.parse(a.body) as T;
const basic = (app: App) => ({ authorization: `Basic ${app.basic}`, 'content-type': form });

/** Bounded queues: the driver keeps only recent tokens, so its own memory stays flat too. */
class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly cap: number) {}
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.cap) this.items.shift();
  }
  shift(): T | undefined {
    return this.items.shift();
  }
  random(): T | undefined {
    return this.items[Math.floor(Math.random() * this.items.length)];
  }
  get size(): number {
    return this.items.length;
  }
}

interface Chain {
  readonly app: App;
  rt: string;
  rotations: number;
}

const introspectable = new Ring<string>(256); // recent client_credentials opaque tokens
const revocable = new Ring<{ app: App; token: string }>(256); // tokens waiting for the revocation stream
const chains: Chain[] = [];
const userToken: { opaque: string; jwt: string } = { opaque: '', jwt: '' };
let ccCount = 0;
let revokeCount = 0;

// --- the operations -----------------------------------------------------------------------------

async function clientCredentials(op: 'cc_opaque' | 'cc_jwt'): Promise<void> {
  const app = op === 'cc_opaque' ? inst.apps.cc : inst.apps.ccJwt;
  const a = await send(op, '/oauth/token', { method: 'POST', headers: basic(app), body: 'grant_type=client_credentials' }, is200);
  if (!a || op !== 'cc_opaque') return;
  const token = json<{ access_token: string }>(a).access_token;
  // every other opaque token is introspected, the others revoked
  if (ccCount++ % 2 === 0) introspectable.push(token);
  else revocable.push({ app, token });
}

async function introspect(): Promise<void> {
  const token = introspectable.random() ?? 'none';
  await send(
    'introspect',
    '/oauth/introspect',
    { method: 'POST', headers: basic(inst.apps.cc), body: `token=${encodeURIComponent(token)}` },
    // tokens here are never revoked and younger than their lifetime: they must be active
    (a) => a.status === 200 && json<{ active?: boolean }>(a).active === true,
  );
}

async function me(op: 'me_opaque' | 'me_jwt'): Promise<void> {
  const token = op === 'me_opaque' ? userToken.opaque : userToken.jwt;
  await send(op, '/api/me', { method: 'GET', headers: { authorization: `Bearer ${token}` } }, is200);
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

let flowCount = 0;

/** GET /oauth/authorize (signed in, consent remembered) → 303 with a code → POST /oauth/token with PKCE. */
async function codeFlow(): Promise<void> {
  const jwt = flowCount++ % 3 === 2; // two opaque flows, one JWT flow
  const app = jwt ? inst.apps.codeJwt : inst.apps.code;
  const { verifier, challenge } = pkce();
  const path =
    `/oauth/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}` +
    `&scope=profile&state=s${randomBytes(4).toString('hex')}&code_challenge=${challenge}&code_challenge_method=S256`;
  const codeOf = (a: Answer) => (a.location ? new URL(a.location).searchParams.get('code') : null);
  const r1 = await send('authorize', path, { method: 'GET', headers: { cookie: inst.cookie } }, (a) => (a.status === 302 || a.status === 303) && codeOf(a) !== null);
  if (!r1) return;
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: codeOf(r1)!, redirect_uri: REDIRECT, code_verifier: verifier }).toString();
  const r2 = await send('code_token', '/oauth/token', { method: 'POST', headers: basic(app), body }, is200);
  if (!r2) return;
  const t = json<{ access_token: string; refresh_token?: string }>(r2);
  if (jwt) userToken.jwt = t.access_token;
  else userToken.opaque = t.access_token;
  if (!t.refresh_token) return;
  // New refresh chains while the pool is short; the other refresh tokens go to the revocation stream.
  if (chains.length < CHAIN_POOL) chains.push({ app, rt: t.refresh_token, rotations: 0 });
  else revocable.push({ app, token: t.refresh_token });
}

async function refresh(): Promise<void> {
  const chain = chains.shift();
  if (!chain) {
    // cannot happen while code flows succeed; counted so it would show
    const m = minuteAt(performance.now());
    m.dropped++;
    return;
  }
  const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(chain.rt)}`;
  const a = await send('refresh', '/oauth/token', { method: 'POST', headers: basic(chain.app), body }, is200);
  if (!a) return; // the chain is lost (counted as a failure)
  const t = json<{ access_token: string; refresh_token?: string }>(a);
  if (chain.app === inst.apps.code) userToken.opaque = t.access_token;
  else userToken.jwt = t.access_token;
  if (!t.refresh_token) return;
  chain.rt = t.refresh_token;
  chain.rotations++;
  // A chain ends by revocation of its last refresh token (which revokes the family, T9).
  if (chain.rotations >= CHAIN_LENGTH) revocable.push({ app: chain.app, token: chain.rt });
  else chains.push(chain);
}

async function revoke(): Promise<void> {
  const item = revocable.shift() ?? { app: inst.apps.cc, token: `unknown-${revokeCount}` };
  revokeCount++;
  await send('revoke', '/oauth/revoke', { method: 'POST', headers: basic(item.app), body: `token=${encodeURIComponent(item.token)}` }, is200);
}

async function password(): Promise<void> {
  const body = new URLSearchParams({ grant_type: 'password', username: USER.email, password: USER.password, scope: 'profile' }).toString();
  const a = await send('password', '/oauth/token', { method: 'POST', headers: basic(inst.apps.pw), body }, is200);
  if (!a) return;
  const rt = json<{ refresh_token?: string }>(a).refresh_token;
  if (rt) revocable.push({ app: inst.apps.pw, token: rt });
}

// --- the schedule ---------------------------------------------------------------------------------

interface Stream {
  readonly name: string;
  /** share of the request rate (password excepted) */
  readonly share: number;
  /** HTTP requests per operation */
  readonly requests: number;
  readonly run: () => Promise<void>;
}

const STREAMS: readonly Stream[] = [
  { name: 'client_credentials opaque', share: 0.2, requests: 1, run: () => clientCredentials('cc_opaque') },
  { name: 'client_credentials JWT', share: 0.1, requests: 1, run: () => clientCredentials('cc_jwt') },
  { name: 'introspection', share: 0.15, requests: 1, run: introspect },
  { name: 'GET /api/me opaque', share: 0.12, requests: 1, run: () => me('me_opaque') },
  { name: 'GET /api/me JWT', share: 0.08, requests: 1, run: () => me('me_jwt') },
  { name: 'refresh (rotation chains)', share: 0.12, requests: 1, run: refresh },
  { name: 'authorization code + PKCE (authorize + token)', share: 0.16, requests: 2, run: codeFlow },
  { name: 'revocation', share: 0.07, requests: 1, run: revoke },
];

interface Scheduled {
  readonly stream: Stream;
  readonly periodMs: number;
  next: number;
}

function schedule(start: number): Scheduled[] {
  const other = RATE - PASSWORD_RATE;
  const all: Array<{ stream: Stream; opsPerSec: number }> = [
    ...STREAMS.map((s) => ({ stream: s, opsPerSec: (other * s.share) / s.requests })),
    { stream: { name: 'password grant (Argon2id)', share: 0, requests: 1, run: password }, opsPerSec: PASSWORD_RATE },
  ];
  // staggered phases, so the streams do not all fire on the same tick
  return all.map(({ stream, opsPerSec }, i) => ({ stream, periodMs: 1000 / opsPerSec, next: start + ((1000 / opsPerSec) * i) / all.length }));
}

/** Fires every stream on its schedule until `end`; never waits for answers (open loop). */
function drive(streams: Scheduled[], end: number): Promise<void> {
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (const s of streams) {
        while (s.next <= now && s.next < end) {
          const m = minuteAt(s.next);
          m.lateMaxMs = Math.max(m.lateMaxMs, now - s.next);
          if (inFlight >= MAX_IN_FLIGHT) m.dropped += s.stream.requests;
          else void s.stream.run();
          s.next += s.periodMs;
        }
      }
      if (now >= end) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
}

// --- server-side samples --------------------------------------------------------------------------

interface Sample {
  readonly minute: number;
  readonly rssMb: number;
  readonly rssMaxMb: number;
  readonly cpuPercent: number;
  readonly heapUsedMb: number;
  readonly eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
  readonly activeHandles: number;
  readonly tokensStored: number;
  readonly dbMb: number;
  readonly driverLagP99Ms: number;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.includes('{')) continue;
    const [name, value] = line.split(' ');
    if (name && value !== undefined) out.set(name, Number(value));
  }
  return out;
}

function storage(): { tokens: number; mb: number } {
  const file = join(inst.dataDir, 'tollgate.db');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tokens = (db.prepare('select count(*) as n from tokens').get() as { n: number }).n;
    const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
    return { tokens, mb: (size(file) + size(`${file}-wal`)) / 1048576 };
  } finally {
    db.close();
  }
}

// --- report ---------------------------------------------------------------------------------------

const ms = (us: number) => us / 1000;
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');

interface Check {
  readonly what: string;
  readonly rule: string;
  readonly measured: string;
  readonly ok: boolean | null;
}

function verdict(rows: ReturnType<typeof minuteRows>): Check[] {
  const checks: Check[] = [];
  const ref = rows[1] ?? rows[0]!;
  const last = rows[rows.length - 1]!;
  const later = rows.slice(1);
  // RSS is judged from mid-run: the token table (and RSS with it) only reaches its plateau once the
  // purge job removes tokens as fast as they are issued (lifetime + purge grace ≈ 3 minutes).
  const mid = rows[Math.ceil(rows.length / 2) - 1] ?? ref;
  const midMinute = mid.minute;
  checks.push({
    what: 'RSS',
    rule: `last minute ≤ minute ${midMinute} (mid-run, after the purge plateau) + 10 %`,
    measured: `${f1(mid.rssMb)} → ${f1(last.rssMb)} MB (${f1(((last.rssMb - mid.rssMb) / mid.rssMb) * 100)} %)`,
    ok: rows.length < 3 ? null : last.rssMb <= mid.rssMb * 1.1,
  });
  const worstP99 = Math.max(...later.map((r) => r.p99));
  checks.push({
    what: 'latency p99',
    rule: 'every minute from 2 on ≤ 2 × minute 2',
    measured: `minute 2 ${f2(ref.p99)} ms, worst ${f2(worstP99)} ms, last ${f2(last.p99)} ms`,
    ok: rows.length < 2 ? null : worstP99 <= ref.p99 * 2,
  });
  const worstLag = Math.max(...later.map((r) => r.eventLoopP99Ms));
  checks.push({
    what: 'event-loop delay p99 (server)',
    rule: 'every minute from 2 on ≤ 2 × minute 2',
    measured: `minute 2 ${f2(ref.eventLoopP99Ms)} ms, worst ${f2(worstLag)} ms, last ${f2(last.eventLoopP99Ms)} ms`,
    ok: rows.length < 2 ? null : worstLag <= ref.eventLoopP99Ms * 2,
  });
  const failures = rows.reduce((n, r) => n + r.errors + r.unexpected + r.dropped, 0);
  checks.push({ what: 'failures', rule: 'no error, unexpected status or dropped request', measured: String(failures), ok: failures === 0 });
  const target = RATE * 60;
  const worstRate = Math.min(...rows.map((r) => r.requests / target));
  checks.push({
    what: 'rate held',
    rule: 'every minute ≥ 98 % of the target rate',
    measured: `worst minute ${(worstRate * 100).toFixed(1)} % of ${target.toLocaleString('en-US')} requests`,
    ok: worstRate >= 0.98,
  });
  checks.push({
    what: 'tokens stored (purge keeps up)',
    rule: 'last minute ≤ 1.25 × the middle minute (runs of 8+ minutes)',
    measured: `${mid.tokensStored.toLocaleString('en-US')} at minute ${mid.minute} → ${last.tokensStored.toLocaleString('en-US')}`,
    ok: rows.length >= 8 ? last.tokensStored <= mid.tokensStored * 1.25 : null,
  });
  return checks;
}

function minuteRows(samples: readonly Sample[]) {
  return samples.map((s) => {
    const m = minutes[s.minute - 1]!;
    const h = m.latency;
    return {
      minute: s.minute,
      rssMb: s.rssMb,
      rssMaxMb: s.rssMaxMb,
      heapUsedMb: s.heapUsedMb,
      cpuPercent: s.cpuPercent,
      eventLoopP50Ms: s.eventLoop.p50Ms,
      eventLoopP99Ms: s.eventLoop.p99Ms,
      eventLoopMaxMs: s.eventLoop.maxMs,
      p50: h.count > 0 ? ms(h.percentile(50)) : NaN,
      p99: h.count > 0 ? ms(h.percentile(99)) : NaN,
      max: h.count > 0 ? ms(h.max) : NaN,
      requests: m.requests,
      errors: m.errors,
      unexpected: m.unexpected,
      dropped: m.dropped,
      statuses: m.statuses,
      tokensStored: s.tokensStored,
      dbMb: s.dbMb,
      activeHandles: s.activeHandles,
      driverLateMaxMs: m.lateMaxMs,
      driverLagP99Ms: s.driverLagP99Ms,
      perOp: Object.fromEntries(
        [...m.perOp].map(([op, o]) => [op, { requests: o.requests, failures: o.failures, p50: o.hist.count ? ms(o.hist.percentile(50)) : NaN, p99: o.hist.count ? ms(o.hist.percentile(99)) : NaN }]),
      ),
      failureSamples: m.failureSamples,
    };
  });
}

const HEAD = ['min', 'RSS MB', 'heap MB', 'CPU %', 'ev-loop p99 ms', 'ev-loop max ms', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'errors', 'non-2xx*', 'tokens stored'];

function tableOf(rows: ReturnType<typeof minuteRows>): string[][] {
  return rows.map((r) => [
    String(r.minute),
    f1(r.rssMb),
    f1(r.heapUsedMb),
    f1(r.cpuPercent),
    f2(r.eventLoopP99Ms),
    f1(r.eventLoopMaxMs),
    f2(r.p50),
    f2(r.p99),
    f1(r.max),
    r.requests.toLocaleString('en-US'),
    String(r.errors + r.dropped),
    String(r.unexpected),
    r.tokensStored.toLocaleString('en-US'),
  ]);
}

// --- main -----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  log(`soak: ${MINUTES} min at ${RATE} req/s (password grant ${PASSWORD_RATE}/s), SQLite, access TTL ${ACCESS_TTL} s, purge every ${PURGE_INTERVAL} s`);
  inst = await startTollgate('soak', {
    TOLLGATE_PURGE_INTERVAL: String(PURGE_INTERVAL),
    TOLLGATE_ACCESS_TTL: String(ACCESS_TTL),
    TOLLGATE_REFRESH_TTL: String(REFRESH_TTL),
    TOLLGATE_LOGIN_RATE_LIMIT: '1000000',
  });
  base = inst.server.base;
  const pid = inst.server.pid;
  await signIn(inst);

  // Warm-up (not measured): seed the refresh chains and the user tokens through the real flows.
  const warm = performance.now();
  soakStart = warm; // warm-up requests land in a throwaway bucket, reset below
  for (let i = 0; i < CHAIN_POOL + 3; i++) await codeFlow();
  for (let i = 0; i < 20; i++) await clientCredentials('cc_opaque');
  if (chains.length < CHAIN_POOL / 2 || !userToken.opaque || !userToken.jwt) {
    throw new Error(`warm-up failed: ${minutes[0]?.failureSamples.join('; ') ?? 'no detail'}\n${inst.server.stderr()}`);
  }
  log(`warm-up: ${chains.length} refresh chains, ${Math.round(performance.now() - warm)} ms; pid ${pid}`);
  minutes.length = 0;
  await scrape(); // resets the server's event-loop histogram: minute 1 starts clean

  const driverLag = monitorEventLoopDelay({ resolution: 10 });
  driverLag.enable();
  const samples: Sample[] = [];
  let cpu0 = cpuMs(pid);
  let rssMax = rssMb(pid);
  const rssTimer = setInterval(() => {
    try {
      rssMax = Math.max(rssMax, rssMb(pid));
    } catch {
      /* process gone: reported below */
    }
  }, 5_000);

  soakStart = performance.now();
  const end = soakStart + MINUTES * 60_000;
  const streams = schedule(soakStart);
  const driving = drive(streams, end);
  for (let k = 1; k <= MINUTES; k++) {
    const at = soakStart + k * 60_000;
    await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
    if (inst.server.proc.exitCode !== null || inst.server.proc.signalCode !== null) {
      throw new Error(`the server exited during the soak:\n${inst.server.stderr()}`);
    }
    const cpu1 = cpuMs(pid);
    const rss = rssMb(pid);
    const metrics = await scrape();
    const st = storage();
    const g = (name: string) => metrics.get(`tollgate_process_${name}`) ?? NaN;
    const sample: Sample = {
      minute: k,
      rssMb: rss,
      rssMaxMb: Math.max(rssMax, rss),
      cpuPercent: ((cpu1 - cpu0) / 60_000) * 100,
      heapUsedMb: g('nodejs_heap_size_used_bytes') / 1048576,
      eventLoop: {
        p50Ms: g('nodejs_eventloop_lag_p50_seconds') * 1000,
        p99Ms: g('nodejs_eventloop_lag_p99_seconds') * 1000,
        maxMs: g('nodejs_eventloop_lag_max_seconds') * 1000,
        meanMs: g('nodejs_eventloop_lag_mean_seconds') * 1000,
      },
      activeHandles: g('nodejs_active_handles_total'),
      tokensStored: st.tokens,
      dbMb: st.mb,
      driverLagP99Ms: driverLag.percentile(99) / 1e6,
    };
    driverLag.reset();
    cpu0 = cpu1;
    rssMax = rss;
    samples.push(sample);
    const m = minutes[k - 1];
    const h = m?.latency;
    log(
      `minute ${k}: RSS ${f1(rss)} MB, ev-loop p99 ${f2(sample.eventLoop.p99Ms)} ms, ` +
        `p50 ${f2(h && h.count ? ms(h.percentile(50)) : NaN)} / p99 ${f2(h && h.count ? ms(h.percentile(99)) : NaN)} ms, ` +
        `${m?.requests ?? 0} requests, ${(m?.errors ?? 0) + (m?.dropped ?? 0)} errors, ${m?.unexpected ?? 0} unexpected, ${st.tokens} tokens stored` +
        (m && m.failureSamples.length > 0 ? `\n        e.g. ${m.failureSamples[0]}` : ''),
    );
  }
  await driving;
  clearInterval(rssTimer);
  driverLag.disable();
  // The last sends of the final minute may still be answering: wait (bounded), then count them.
  const drainUntil = performance.now() + TIMEOUT_MS + 1000;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  await inst.server.stop();
  cleanup(inst);

  const rows = minuteRows(samples);
  const checks = verdict(rows);
  const flat = checks.every((c) => c.ok !== false);
  const meta = {
    ...machineMeta(),
    minutes: MINUTES,
    rate: RATE,
    passwordRate: PASSWORD_RATE,
    accessTtlSeconds: ACCESS_TTL,
    refreshTtlSeconds: REFRESH_TTL,
    purgeIntervalSeconds: PURGE_INTERVAL,
    refreshChainLength: CHAIN_LENGTH,
    refreshChains: CHAIN_POOL,
    mix: [
      ...STREAMS.map((s) => ({ stream: s.name, requestsPerSec: +((RATE - PASSWORD_RATE) * s.share).toFixed(2) })),
      { stream: 'password grant (Argon2id)', requestsPerSec: PASSWORD_RATE },
    ],
    totalSeconds: Math.round((Date.now() - t0) / 1000),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'soak-latest.json'), JSON.stringify({ meta, flat, checks, minutes: rows }, null, 2) + '\n');
  const table = tableOf(rows);
  const CHEAD = ['check', 'rule', 'measured', 'result'];
  const crow = checks.map((c) => [c.what, c.rule, c.measured, c.ok === null ? 'n/a' : c.ok ? 'flat' : 'NOT FLAT']);
  const md = [
    '# Tollgate soak — latest run',
    '',
    `\`npm run soak -- --minutes ${MINUTES} --rate ${RATE}\` on ${meta.cpus}, Node ${meta.node}, commit ${meta.commit}, ${meta.date}.`,
    '',
    `**Verdict: ${flat ? 'flat' : 'NOT flat'}.**`,
    '',
    mdTable(CHEAD, crow),
    '',
    '## Per minute',
    '',
    mdTable(HEAD, table),
    '',
    '\\* non-2xx = answers the operation does not expect (the 303 of `/oauth/authorize` is expected and counts as a success). ' +
      'errors = network errors, timeouts (10 s) and requests not sent because too many were in flight.',
    '',
    '## Method',
    '',
    `- One Tollgate (\`node dist/cli/main.js serve\`, SQLite in a fresh temp directory, \`TOLLGATE_LOG_LEVEL=silent\`), ` +
      `\`TOLLGATE_ACCESS_TTL=${ACCESS_TTL}\`, \`TOLLGATE_REFRESH_TTL=${REFRESH_TTL}\`, \`TOLLGATE_PURGE_INTERVAL=${PURGE_INTERVAL}\` (tokens expire and are purged during the run), ` +
      '`TOLLGATE_LOGIN_RATE_LIMIT=1000000`. Apps and the user are created with the CLI; the user signs in and consents once (bench/lib/tollgate.ts).',
    `- Open-loop driver in its own process: each operation is a fixed-rate stream, fired on schedule whether or not earlier requests answered; ${RATE} HTTP requests/s in total:`,
    ...meta.mix.map((x) => `  - ${x.stream}: ${x.requestsPerSec} req/s`),
    `- Refresh: ${CHAIN_POOL} rotation chains (each from its own code flow, so its own family); each rotation returns the next refresh token to the chain, ` +
      `after ${CHAIN_LENGTH} rotations the chain's last refresh token is revoked (revoking the family) and a fresh code flow replaces it. ` +
      'Revocation also takes every other client_credentials opaque token, surplus refresh tokens from code flows and the password grant\'s refresh tokens. ' +
      'Introspection asks about recent unrevoked opaque tokens and expects `active: true`.',
    '- Latency: per HTTP request from the moment it is sent to the end of its body (client side, so it includes the loopback and the driver); ' +
      'p50/p99 over every request sent in that minute. The driver\'s lateness against its schedule stays in the JSON (`driverLateMaxMs`, `driverLagP99Ms`).',
    '- RSS: VmRSS of the server process (/proc/<pid>/status) at the end of each minute (max of 5 s samples in the JSON). CPU: utime+stime over the minute. ' +
      'Event-loop delay: Tollgate\'s own `/metrics` (prom-client `tollgate_process_nodejs_eventloop_lag_*`, a `monitorEventLoopDelay` histogram reset at each scrape), scraped once a minute; ' +
      'it samples every 10 ms, so ~10 ms is the floor of an idle loop. Tokens stored: `count(*)` of the tokens table at the end of the minute.',
    '- Minute 1 includes JIT warm-up, so minute 2 is the reference for the flatness checks.',
    '',
  ].join('\n');
  writeFileSync(join(RESULTS_DIR, 'soak-latest.md'), md);
  console.log('\n' + consoleTable(HEAD, table) + '\n\n' + consoleTable(CHEAD, crow));
  console.log(`\nverdict: ${flat ? 'flat' : 'NOT flat'}; wrote bench/results/soak-latest.{json,md} in ${meta.totalSeconds} s`);
  return flat ? 0 : 1;
}

const shutdown = async (code: number) => {
  await stopAll();
  if (inst) cleanup(inst);
  process.exit(code);
};
process.on('SIGINT', () => void shutdown(130));
process.on('SIGTERM', () => void shutdown(143));
main().then(
  (code) => shutdown(code),
  async (err: unknown) => {
    console.error(err);
    await shutdown(2);
  },
);
