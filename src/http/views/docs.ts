/**
 * A browsable API reference rendered on the server from the OpenAPI document: every path, its
 * methods, summary and the scopes it requires. No scripts, no third-party assets.
 */
import { html } from './html.js';

interface Operation {
  summary?: string;
  security?: Array<Record<string, string[]>>;
}

export function docsPage(base: string, doc: Record<string, unknown>): string {
  const paths = (doc['paths'] ?? {}) as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const scopes = (op.security ?? []).flatMap((s) => Object.entries(s).flatMap(([scheme, sc]) => (scheme === 'bearer' ? (sc.length ? sc : ['(any token)']) : [`(${scheme})`])));
      return html`<tr><td><code>${method.toUpperCase()}</code></td><td><code>${path}</code></td><td>${op.summary ?? ''}</td><td>${scopes.join(', ') || '—'}</td></tr>`;
    }),
  );
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API reference · Tollgate</title><link rel="stylesheet" href="${base}/assets/tollgate.css"></head>
<body class="wide"><main><h1>Tollgate API reference</h1>
<p>Machine-readable: <a href="${base}/openapi.json">${base}/openapi.json</a> (OpenAPI 3.1).</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Required scope</th></tr></thead><tbody>${rows}</tbody></table>
</main></body></html>`.value;
}
