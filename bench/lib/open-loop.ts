/**
 * An open-loop load generator (issue #17 §1): units (a request, or a whole code flow) are sent on a
 * fixed-rate schedule, whatever the server's speed, and each unit's latency is measured from the
 * time it was *scheduled*, not from when it was actually sent (the coordinated-omission correction
 * wrk2 makes). When the server stalls, the units scheduled meanwhile wait for a free connection and
 * that wait is part of their latency, as it is for a real client arriving at that moment.
 *
 * - Schedule: unit i is due at t0 + i / rate. Whenever the event loop runs (a tick, or any
 *   response), every unit already due is started on a free connection, oldest first. The ticks come
 *   from a worker thread that sleeps until the next due time with Atomics.wait (futex precision,
 *   tens of µs) and posts a message: Node's own timers have 1 ms granularity, which on a 0.2 ms
 *   request would be most of the measured latency.
 * - Connections: a fixed pool of keep-alive HTTP/1.1 connections opened before the schedule starts,
 *   one unit at a time on each (no pipelining). The pool is sized well above rate × latency so the
 *   generator is not the bottleneck; `maxInFlight` and `saturatedMs` say whether it ever was.
 * - Histograms: node:perf_hooks' RecordableHistogram, which is HdrHistogram (Node's bundled C
 *   hdr_histogram, 3 significant digits), in microseconds. Three of them: latency from schedule
 *   (the figure reported), service time from the actual send, and send lag (actual − scheduled).
 *
 * The HTTP client is a minimal one over node:net (status line, headers, Content-Length or chunked
 * bodies): node:http's client costs several times the CPU per request, and on 2 cores the
 * generator's CPU is taken from the servers. Loopback only; it opens exactly `connections` sockets.
 */
import { connect, type Socket } from 'node:net';
import { performance, createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** Wall-clock milliseconds with sub-µs resolution, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

/**
 * The ticker thread: sleeps (Atomics.wait) until the first unit the main thread has not started is
 * due, then posts a wake-up. The main thread publishes how far it got (`shared[0]`, the next unit
 * index) and how many connections are free (`shared[1]`): while responses keep it dispatching on
 * time no message is needed, while every connection is busy the responses wake it, and wake-ups
 * are at least MIN_GAP_MS apart. Plain JavaScript, evaluated (no loader needed).
 */
const MIN_GAP_MS = 0.2;
const TICKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { t0, interval, total, sab, minGap } = workerData;
const shared = new Int32Array(sab);
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => performance.timeOrigin + performance.now();
let lastPost = -Infinity;
for (;;) {
  const next = Atomics.load(shared, 0);
  if (next >= total) break;
  if (Atomics.load(shared, 1) === 0) { Atomics.wait(cell, 0, 0, 1); continue; }
  const wake = Math.max(t0 + next * interval, lastPost + minGap);
  const t = now();
  if (wake > t) { Atomics.wait(cell, 0, 0, wake - t); continue; }
  parentPort.postMessage(0);
  lastPost = now();
  // give the main thread the time to take it before looking again
  Atomics.wait(cell, 0, 0, minGap);
}
`;

export interface HttpResponse {
  readonly status: number;
  /** header names lower-cased; a repeated header keeps its last value */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** One keep-alive connection, one request at a time. */
export class Connection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void } | undefined;
  private closeAfter = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port, noDelay: true });
      s.once('connect', () => {
        s.off('error', reject);
        s.on('error', (e) => this.fail(e));
        resolve();
      });
      s.once('error', reject);
      s.on('data', (d: Buffer) => this.onData(d));
      s.on('close', () => {
        this.socket = undefined;
        this.fail(new Error('connection closed'));
      });
      this.socket = s;
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  async request(method: string, path: string, headers: Readonly<Record<string, string>>, body?: string): Promise<HttpResponse> {
    if (!this.socket || this.closeAfter) {
      this.close();
      this.closeAfter = false;
      this.buf = Buffer.alloc(0);
      await this.open();
    }
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    head += '\r\n';
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket!.write(body !== undefined ? head + body : head);
    });
  }

  private fail(e: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]?.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    let body: Buffer;
    let rest: Buffer;
    const start = end + 4;
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const nl = this.buf.indexOf('\r\n', at);
        if (nl < 0) return; // incomplete
        const size = parseInt(this.buf.subarray(at, nl).toString('latin1'), 16);
        if (!Number.isFinite(size)) return this.fail(new Error('bad chunk size'));
        if (this.buf.length < nl + 2 + size + 2) return;
        if (size === 0) {
          at = nl + 4; // no trailers expected
          break;
        }
        parts.push(this.buf.subarray(nl + 2, nl + 2 + size));
        at = nl + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      rest = this.buf.subarray(at);
    } else {
      const len = Number(headers['content-length'] ?? 0);
      if (this.buf.length < start + len) return;
      body = this.buf.subarray(start, start + len);
      rest = this.buf.subarray(start + len);
    }
    this.buf = rest.length > 0 ? Buffer.from(rest) : Buffer.alloc(0);
    if (headers['connection']?.toLowerCase() === 'close') this.closeAfter = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve({ status, headers, body: body.toString() });
  }
}

/** One unit of work on a connection: resolves true when it succeeded (a counted unit). */
export type Unit = (conn: Connection) => Promise<boolean>;

export interface OpenLoopOptions {
  readonly host: string;
  readonly port: number;
  /** units per second */
  readonly rate: number;
  /** seconds of schedule */
  readonly duration: number;
  readonly connections: number;
  readonly unit: Unit;
  /** a unit still running this long after the schedule ends counts as a timeout (ms) */
  readonly timeoutMs?: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface OpenLoopResult {
  readonly rate: number;
  readonly scheduled: number;
  readonly completed: number;
  readonly ok: number;
  readonly failed: number;
  readonly timeouts: number;
  /** completed units per second of schedule */
  readonly achievedRate: number;
  /** ms, from the scheduled send time (coordinated-omission corrected) */
  readonly latency: Percentiles;
  /** ms, from the actual send (what a closed-loop generator would report) */
  readonly service: Percentiles;
  /** ms, actual send minus scheduled send: timer lateness plus any wait for a free connection */
  readonly sendLag: Percentiles;
  readonly connections: number;
  readonly maxInFlight: number;
  /** ms during which every connection was busy while units were due (the pool was the limit) */
  readonly saturatedMs: number;
  readonly firstError?: string;
}

function percentiles(h: RecordableHistogram): Percentiles {
  const q = (p: number) => (h.count > 0 ? h.percentile(p) / 1000 : NaN);
  return { p50: q(50), p90: q(90), p99: q(99), p999: q(99.9), max: h.count > 0 ? h.max / 1000 : NaN };
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const conns = Array.from({ length: o.connections }, () => new Connection(o.host, o.port));
  await Promise.all(conns.map((c) => c.open()));
  const free = [...conns];
  const latency = createHistogram();
  const service = createHistogram();
  const lag = createHistogram();
  const interval = 1000 / o.rate;
  const total = Math.max(1, Math.round(o.rate * o.duration));
  let next = 0;
  let done = 0;
  let ok = 0;
  let failed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let saturatedSince = -1;
  let saturatedMs = 0;
  let firstError: string | undefined;
  const rec = (h: RecordableHistogram, ms: number) => h.record(Math.max(1, Math.round(ms * 1000)));

  return new Promise<OpenLoopResult>((resolve) => {
    // The ticker thread takes some tens of ms to start: the schedule begins after that.
    const t0 = now() + 150;
    const sab = new SharedArrayBuffer(8);
    const shared = new Int32Array(sab);
    Atomics.store(shared, 1, free.length);
    const ticker = new Worker(TICKER, { eval: true, workerData: { t0, interval, total, sab, minGap: MIN_GAP_MS } });
    ticker.unref();
    ticker.on('message', () => pump());
    let finished = false;
    const finish = (timeouts: number) => {
      if (finished) return;
      finished = true;
      Atomics.store(shared, 0, total);
      void ticker.terminate();
      clearTimeout(deadline);
      for (const c of conns) c.close();
      resolve({
        rate: o.rate,
        scheduled: total,
        completed: done,
        ok,
        failed,
        timeouts,
        achievedRate: ok / o.duration,
        latency: percentiles(latency),
        service: percentiles(service),
        sendLag: percentiles(lag),
        connections: o.connections,
        maxInFlight,
        saturatedMs,
        ...(firstError !== undefined ? { firstError } : {}),
      });
    };
    const deadline = setTimeout(() => finish(total - done), o.duration * 1000 + 150 + (o.timeoutMs ?? 10_000));

    const start = (i: number, conn: Connection) => {
      const scheduledAt = t0 + i * interval;
      const sentAt = now();
      rec(lag, sentAt - scheduledAt);
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      o.unit(conn).then(
        (good) => {
          if (good) ok++;
          else failed++;
        },
        (err: unknown) => {
          failed++;
          firstError ??= String(err);
        },
      ).finally(() => {
        const end = now();
        rec(latency, end - scheduledAt);
        rec(service, end - sentAt);
        inFlight--;
        done++;
        free.push(conn);
        if (done === total) finish(0);
        else pump();
      });
    };

    const pump = () => {
      if (finished) return;
      const t = now();
      const due = Math.max(0, Math.min(total, Math.floor((t - t0) / interval) + 1));
      while (next < due && free.length > 0) start(next++, free.pop()!);
      Atomics.store(shared, 0, next);
      Atomics.store(shared, 1, free.length);
      if (next < due) {
        // Every connection is busy and units are waiting: their wait counts from their schedule.
        if (saturatedSince < 0) saturatedSince = t;
      } else if (saturatedSince >= 0) {
        saturatedMs += t - saturatedSince;
        saturatedSince = -1;
      }
    };
  });
}
