/**
 * A browsable API reference rendered on the server from the OpenAPI document: every path, its
 * methods, summary and the scopes it requires, and — for the operations declared with schemas
 * (the admin API) — their query parameters and body fields with type and meaning. No scripts, no
 * third-party assets.
 */
import { html, type SafeHtml } from './html.js';

interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  items?: FieldSchema;
  anyOf?: FieldSchema[];
  const?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  properties?: Record<string, FieldSchema>;
  required?: string[];
}

interface Operation {
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: FieldSchema }>;
  requestBody?: { content?: Record<string, { schema?: FieldSchema }> };
}

/** A short type label: `string`, `integer 1–200`, `one of a, b`, `array of string`, `string or null`. */
function typeLabel(s: FieldSchema | undefined): string {
  if (!s) return '';
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.anyOf) {
    const consts = s.anyOf.filter((m) => m.const !== undefined);
    if (consts.length === s.anyOf.length) return `one of ${consts.map((m) => String(m.const)).join(', ')}`;
    return s.anyOf.map(typeLabel).join(' or ');
  }
  const type = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (type === 'array') return `array of ${typeLabel(s.items) || 'any'}`;
  const range = s.minimum !== undefined && s.maximum !== undefined ? ` ${s.minimum}–${s.maximum}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : '';
  return `${type}${range}`;
}

function describe(s: FieldSchema | undefined): string {
  const text = s?.description ?? s?.anyOf?.find((m) => m.description)?.description ?? '';
  return s?.default !== undefined ? `${text}${text ? ' ' : ''}(default ${JSON.stringify(s.default)})` : text;
}

function fieldRows(op: Operation): SafeHtml[] {
  const rows: SafeHtml[] = [];
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') continue;
    rows.push(html`<li><code>${p.name}</code> <small>(${p.in}, ${typeLabel(p.schema)}${p.required ? ', required' : ''})</small> ${describe({ ...p.schema, ...(p.description !== undefined ? { description: p.description } : {}) })}</li>`);
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  for (const [name, field] of Object.entries(body?.properties ?? {})) {
    const required = body?.required?.includes(name) ?? false;
    rows.push(html`<li><code>${name}</code> <small>(body, ${typeLabel(field)}${required ? ', required' : ''})</small> ${describe(field)}</li>`);
  }
  return rows;
}

export function docsPage(base: string, doc: Record<string, unknown>): string {
  const paths = (doc['paths'] ?? {}) as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const scopes = (op.security ?? []).flatMap((s) => Object.entries(s).flatMap(([scheme, sc]) => (scheme === 'bearer' ? (sc.length ? sc : ['(any token)']) : [`(${scheme})`])));
      const fields = fieldRows(op);
      const details = fields.length > 0 ? html`<details><summary>Parameters</summary><ul>${fields}</ul></details>` : '';
      return html`<tr><td><code>${method.toUpperCase()}</code></td><td><code>${path}</code></td><td>${op.summary ?? ''}${details}</td><td>${scopes.join(', ') || '—'}</td></tr>`;
    }),
  );
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API reference · Tollgate</title><link rel="stylesheet" href="${base}/assets/tollgate.css"></head>
<body class="wide"><main><h1>Tollgate API reference</h1>
<p>Machine-readable: <a href="${base}/openapi.json">${base}/openapi.json</a> (OpenAPI 3.1). The admin API's entries are generated from the schemas its routes validate with.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Required scope</th></tr></thead><tbody>${rows}</tbody></table>
</main></body></html>`.value;
}
