/**
 * A server-rendered SVG bar chart (no script, no inline style: colours are SVG presentation
 * attributes): tokens issued per application per day, stacked, with a legend and a data table
 * for screen readers.
 */
import { html, type SafeHtml } from './html.js';

export const PALETTE = ['#1f4fd1', '#d1731f', '#1f9d6b', '#a8329e', '#6b6f7a', '#b8a11c'] as const;

export interface Series {
  readonly label: string;
  /** One value per day, aligned with `days`. */
  readonly values: readonly number[];
}

export function stackedBarChart(title: string, days: readonly string[], series: readonly Series[]): SafeHtml {
  const width = 720;
  const height = 260;
  const left = 44;
  const bottom = 36;
  const top = 12;
  const plotH = height - top - bottom;
  const totals = days.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const step = (width - left - 8) / Math.max(1, days.length);
  const barW = Math.max(4, step * 0.7);
  const ticks = [0, Math.ceil(max / 2), max];
  const bars: SafeHtml[] = [];
  days.forEach((day, i) => {
    let y = top + plotH;
    series.forEach((s, si) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return;
      const h = (v / max) * plotH;
      y -= h;
      bars.push(
        html`<rect x="${(left + i * step + (step - barW) / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${day}: ${s.label} ${v}</title></rect>`,
      );
    });
  });
  return html`<figure class="chart">
<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-title">
<title id="chart-title">${title}</title>
${ticks.map((t) => {
  const y = top + plotH - (t / max) * plotH;
  return html`<line x1="${left}" x2="${width - 4}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#d5d9e0"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#4f5869">${t}</text>`;
})}
${bars}
${days.map((d, i) =>
  i % 2 === 0 || days.length <= 8
    ? html`<text x="${(left + i * step + step / 2).toFixed(1)}" y="${height - 14}" text-anchor="middle" font-size="11" fill="#4f5869">${d.slice(5)}</text>`
    : '',
)}
</svg>
<figcaption><ul class="legend">${series.map((s, i) => html`<li><span class="swatch s${i % PALETTE.length}" aria-hidden="true"></span>${s.label}</li>`)}</ul></figcaption>
</figure>
<details><summary>Data table</summary><div class="table-wrap"><table>
<thead><tr><th scope="col">Day</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}<th scope="col">Total</th></tr></thead>
<tbody>${days.map((d, i) => html`<tr><th scope="row">${d}</th>${series.map((s) => html`<td>${s.values[i] ?? 0}</td>`)}<td>${totals[i] ?? 0}</td></tr>`)}</tbody>
</table></div></details>`;
}
