import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
/** The console table, bench/results/latest.{json,md} and the SVG chart. */

export interface RunFigures {
  readonly unitsPerSec: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly cpuUsPerUnit: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly bad: number;
  readonly requests: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly server: string;
  readonly scenario: string;
  readonly unit: 'req/s' | 'flows/s';
  readonly connections: number;
  readonly runs: readonly RunFigures[];
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUsPerUnit: number;
  readonly failures: number;
  readonly rssMb: number;
  readonly note?: string;
}

export interface Ratio {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | null;
  readonly detail: string;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');

export function tableRows(results: readonly ScenarioResult[]): string[][] {
  return results.map((r) => [
    r.server,
    r.scenario,
    `${f0(r.throughput)} ${r.unit}`,
    r.runs.map((x) => f0(x.unitsPerSec)).join(' / '),
    f2(r.p50),
    f2(r.p99),
    f0(r.cpuUsPerUnit),
    String(r.failures),
    f0(r.rssMb),
  ]);
}

export const HEAD = ['server', 'scenario', 'throughput', 'runs', 'p50 ms', 'p99 ms', 'CPU µs/unit', 'errors+non-2xx', 'RSS MB'];

export function consoleTable(head: readonly string[], rows: readonly string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function mdTable(head: readonly string[], rows: readonly string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function ratioRows(ratios: readonly Ratio[]): string[][] {
  return ratios.map((r) => [r.what, r.target, r.measured, r.met === null ? 'n/a' : r.met ? 'met' : 'MISSED', r.detail]);
}

const xmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two horizontal bar panels: throughput, and p50/p99 latency (ms). */
export function svgChart(results: readonly ScenarioResult[], title: string): string {
  const rowH = 22;
  const labelW = 330;
  const panelW = 360;
  const gap = 40;
  const top = 50;
  const h = top + results.length * rowH + 30;
  const w = labelW + panelW * 2 + gap + 40;
  const maxT = Math.max(1, ...results.map((r) => r.throughput));
  const lat = results.map((r) => Math.min(r.p99, 50));
  const maxL = Math.max(1, ...lat);
  const colour = (s: string) => (s.startsWith('tollgate') ? '#2f7d32' : s === 'peer' ? '#c26b00' : '#5c6bc0');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">${xmlEsc(title)}</text>`);
  const x1 = labelW;
  const x2 = labelW + panelW + gap;
  out.push(`<text x="${x1}" y="40" font-weight="bold">throughput (req/s or flows/s)</text>`);
  out.push(`<text x="${x2}" y="40" font-weight="bold">latency ms: p50 (dark) / p99 (light), capped at 50</text>`);
  results.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${xmlEsc(`${r.server} · ${r.scenario}`)}</text>`);
    const tw = (r.throughput / maxT) * (panelW - 70);
    out.push(`<rect x="${x1}" y="${y + 3}" width="${tw.toFixed(1)}" height="${rowH - 6}" fill="${colour(r.server)}"/>`);
    out.push(`<text x="${(x1 + tw + 4).toFixed(1)}" y="${y + 14}">${Math.round(r.throughput).toLocaleString('en-US')}</text>`);
    const p99w = (Math.min(r.p99, 50) / maxL) * (panelW - 80);
    const p50w = (Math.min(r.p50, 50) / maxL) * (panelW - 80);
    out.push(`<rect x="${x2}" y="${y + 3}" width="${p99w.toFixed(1)}" height="${rowH - 6}" fill="${colour(r.server)}" fill-opacity="0.35"/>`);
    out.push(`<rect x="${x2}" y="${y + 3}" width="${p50w.toFixed(1)}" height="${rowH - 6}" fill="${colour(r.server)}"/>`);
    out.push(`<text x="${(x2 + Math.max(p99w, p50w) + 4).toFixed(1)}" y="${y + 14}">${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}</text>`);
  });
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

/** What every results file records about the machine and the code it measured. */
export function machineMeta(): { date: string; node: string; cpus: string; commit: string } {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
  } catch {
    // not a git checkout
  }
  return { date: new Date().toISOString(), node: process.version, cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, commit };
}

