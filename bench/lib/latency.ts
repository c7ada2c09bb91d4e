/**
 * The "latency at fixed rates" report (issue #17 §1): its JSON shape, the tables of latest.md, the
 * target rows, and the splice that puts a `--latency` run into an existing latest.{md,json}.
 */
import type { OpenLoopResult } from './open-loop.js';
import { mdTable, type Ratio } from './report.js';

export interface LatencySide {
  readonly label: string;
  readonly result: OpenLoopResult;
  /** server CPU (user+system) per completed unit, µs */
  readonly cpuUsPerUnit: number;
}

export interface LatencyStep {
  readonly fraction: number;
  readonly rate: number;
  /** Tollgate */
  readonly a: LatencySide;
  /** the peer (or the ceiling where the peer has no equivalent) */
  readonly b: LatencySide;
}

export interface LatencyScenario {
  readonly scenario: string;
  readonly unit: 'req/s' | 'flows/s';
  /** one request per unit (the 2 ms target applies), or a multi-request flow */
  readonly single: boolean;
  /** whose closed-loop peak the rates are fractions of, and how it was measured */
  readonly base: string;
  readonly peak: number;
  readonly peakP99: number;
  readonly peakCpuUsPerUnit: number;
  readonly aLabel: string;
  readonly bLabel: string;
  /** b is the peer (the "half the peer's p99" target applies) */
  readonly bIsPeer: boolean;
  readonly steps: readonly LatencyStep[];
  readonly note?: string;
}

export interface LatencyReport {
  readonly meta: {
    readonly date: string;
    readonly commit: string;
    readonly cpus: string;
    readonly node: string;
    readonly quick: boolean;
    /** --pin: servers on CPU 0, the generator on CPU 1 (absent in older reports). */
    readonly pinned?: boolean;
    readonly stepSeconds: number;
    readonly warmupSeconds: number;
    readonly connections: number;
    readonly totalSeconds: number;
  };
  readonly scenarios: readonly LatencyScenario[];
}

const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '–');
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const trio = (r: OpenLoopResult) => `${ms(r.latency.p50)} / ${ms(r.latency.p99)} / ${ms(r.latency.p999)}`;
const errs = (r: OpenLoopResult) => r.failed + r.timeouts;

/** The row of the 50 % step (or the one nearest to it). */
function half(s: LatencyScenario): LatencyStep | undefined {
  return [...s.steps].sort((x, y) => Math.abs(x.fraction - 0.5) - Math.abs(y.fraction - 0.5))[0];
}

/** Issue #17's targets at 50 % of the peer's peak: p99 ≤ 2 ms (single requests), ≤ half the peer's p99. */
export function latencyRatios(rep: LatencyReport): Ratio[] {
  const out: Ratio[] = [];
  for (const s of rep.scenarios) {
    const h = half(s);
    if (!h) continue;
    const a = h.a.result.latency.p99;
    const b = h.b.result.latency.p99;
    const goals: string[] = [];
    const checks: boolean[] = [];
    if (s.single) {
      goals.push('≤ 2 ms');
      checks.push(a <= 2);
    }
    if (s.bIsPeer) {
      goals.push('≤ ½ peer p99');
      checks.push(a <= b / 2);
    }
    const failures = errs(h.a.result) + errs(h.b.result);
    out.push({
      what: `open-loop p99 at ${Math.round(h.fraction * 100)} % of ${s.bIsPeer ? "the peer's" : "Tollgate's own"} peak: ${s.scenario}`,
      target: goals.join(' and '),
      measured: `${ms(a)} ms` + (s.bIsPeer ? ` (${(a / b).toFixed(2)}× the peer's)` : ''),
      met: checks.length === 0 ? null : checks.every(Boolean) && failures === 0,
      detail:
        `${f0(h.rate)} ${s.unit} (${f0(s.peak)} = ${s.base}); ${s.bLabel} p99 ${ms(b)} ms; p50 ${ms(h.a.result.latency.p50)} vs ${ms(h.b.result.latency.p50)} ms` +
        (failures > 0 ? `; errors ${errs(h.a.result)} vs ${errs(h.b.result)}` : ''),
    });
  }
  return out;
}

export const LATENCY_START = '<!-- latency:start -->';
export const LATENCY_END = '<!-- latency:end -->';

/** The "Latency at fixed rates" section of latest.md, between its markers. */
export function latencySection(rep: LatencyReport): string {
  const m = rep.meta;
  const lines = [
    LATENCY_START,
    '## Latency at fixed rates (open loop)',
    '',
    `\`npm run bench -- --latency${m.quick ? ' --quick' : ''}${m.pinned ? ' --pin' : ''}\` on ${m.cpus}, Node ${m.node}, commit ${m.commit}, ${m.date} (${m.totalSeconds} s). ` +
      (m.pinned ? 'Pinned: every thread of each server on CPU 0, the load generator and the bench on CPU 1 (taskset). ' : '') +
      `For each scenario the base server's peak is measured closed-loop first (autocannon, 32 connections), then both servers are driven ` +
      `at 25 / 50 / 75 % of that peak, the same absolute rate for both, alternating which goes first: ${m.warmupSeconds} s of warm-up at the rate, ` +
      `then ${m.stepSeconds} s measured. Fixed-rate schedule over a pool of ${m.connections} keep-alive connections; each unit's latency counts from its ` +
      `*scheduled* send time (coordinated-omission correction, as wrk2), in an HDR histogram (node:perf_hooks). ` +
      `"send lag p99" is the time from schedule to actual send (the generator's timer lateness plus any wait for a free connection), already inside the latency figures; "p99 from actual send" is what a generator without the correction would report. CPU is the server's user+system time per completed unit.`,
    '',
  ];
  for (const s of rep.scenarios) {
    lines.push(`### ${s.scenario}`, '');
    lines.push(
      `Base: ${s.base}, ${f0(s.peak)} ${s.unit} (p99 ${ms(s.peakP99)} ms, ${f0(s.peakCpuUsPerUnit)} µs CPU/unit at saturation).` + (s.note ? ` ${s.note}` : ''),
      '',
    );
    const head = [
      'load',
      `rate ${s.unit}`,
      `${s.aLabel} p50 / p99 / p99.9 ms`,
      `${s.bLabel} p50 / p99 / p99.9 ms`,
      'p99 ratio',
      'p99 from actual send ms',
      'achieved',
      'errors',
      'CPU µs/unit',
      'send lag p99 ms',
    ];
    const rows = s.steps.map((st) => [
      `${Math.round(st.fraction * 100)} %`,
      f0(st.rate),
      trio(st.a.result),
      trio(st.b.result),
      `${(st.a.result.latency.p99 / st.b.result.latency.p99).toFixed(2)}×`,
      `${ms(st.a.result.service.p99)} / ${ms(st.b.result.service.p99)}`,
      `${f0(st.a.result.achievedRate)} / ${f0(st.b.result.achievedRate)}`,
      `${errs(st.a.result)} / ${errs(st.b.result)}`,
      `${f0(st.a.cpuUsPerUnit)} / ${f0(st.b.cpuUsPerUnit)}`,
      `${ms(st.a.result.sendLag.p99)} / ${ms(st.b.result.sendLag.p99)}`,
    ]);
    lines.push(mdTable(head, rows), '');
  }
  lines.push(LATENCY_END);
  return lines.join('\n');
}

/** Console rows: one per step. */
export function latencyConsoleRows(rep: LatencyReport): string[][] {
  return rep.scenarios.flatMap((s) =>
    s.steps.map((st) => [
      s.scenario,
      `${Math.round(st.fraction * 100)} % = ${f0(st.rate)}`,
      trio(st.a.result),
      trio(st.b.result),
      `${f0(st.a.result.achievedRate)} / ${f0(st.b.result.achievedRate)}`,
      `${errs(st.a.result)} / ${errs(st.b.result)}`,
      `${f0(st.a.cpuUsPerUnit)} / ${f0(st.b.cpuUsPerUnit)}`,
      `${ms(st.a.result.sendLag.p99)} / ${ms(st.b.result.sendLag.p99)}`,
      `${st.a.result.maxInFlight} / ${st.b.result.maxInFlight}`,
    ]),
  );
}
export const LATENCY_HEAD = ['scenario', 'load = rate', 'tollgate p50/p99/p99.9', 'other p50/p99/p99.9', 'achieved', 'errors', 'CPU µs', 'lag p99', 'max in flight'];

/** Target rows are recognised by this prefix when a --latency run replaces them in latest.md. */
export const LATENCY_ROW_PREFIX = '| open-loop p99 at ';

/**
 * Puts a --latency run into an existing latest.md: its target rows at the end of the Targets table
 * (replacing earlier ones), its section before "## All scenarios" (replacing an earlier one).
 */
export function spliceLatency(md: string, rep: LatencyReport, ratioRowsMd: readonly string[]): string {
  let text = md;
  const s = text.indexOf(LATENCY_START);
  const e = text.indexOf(LATENCY_END);
  if (s >= 0 && e > s) text = text.slice(0, s) + text.slice(e + LATENCY_END.length).replace(/^\n+/, '');
  const lines = text.split('\n').filter((l) => !l.startsWith(LATENCY_ROW_PREFIX));
  const t = lines.findIndex((l) => l.startsWith('## Targets'));
  if (t >= 0) {
    let end = t + 1;
    while (end < lines.length && !lines[end]!.startsWith('|')) end++;
    while (end < lines.length && lines[end]!.startsWith('|')) end++;
    lines.splice(end, 0, ...ratioRowsMd);
  }
  const all = lines.findIndex((l) => l.startsWith('## All scenarios'));
  const section = latencySection(rep).split('\n');
  if (all >= 0) lines.splice(all, 0, ...section, '');
  else lines.push('', ...section, '');
  return lines.join('\n');
}
