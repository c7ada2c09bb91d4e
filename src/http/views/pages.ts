/**
 * The plain built-in pages: login, consent and error. Automated clients rely on the form
 * contract: login fields `username` and `password`; consent checkboxes `scope` (one per requested
 * scope) and submit buttons `decision=allow|deny`; every form carries `csrf`.
 * The polished pages (issue #3) replace these views, not the contract.
 */
import { html, type SafeHtml } from './html.js';

export const STYLESHEET = `
:root{--fg:#1d2330;--muted:#5b6475;--bg:#f5f6f8;--card:#fff;--accent:#2454d6;--danger:#b3261e;--border:#d5d9e0}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:.75rem}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.6rem;border:1px solid var(--border);border-radius:.4rem;font:inherit}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;margin-top:1rem}
button.secondary{background:#fff;color:var(--accent)}
:focus-visible{outline:3px solid #f0b429;outline-offset:2px}
.error{color:var(--danger);background:#fdecea;padding:.6rem;border-radius:.4rem}
.muted{color:var(--muted)}ul.scopes{list-style:none;padding:0}ul.scopes li{margin:.5rem 0}
.actions{display:flex;gap:.75rem}
`;

function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Tollgate</title><link rel="stylesheet" href="/assets/tollgate.css"></head>
<body><main>${body}</main></body></html>`.value;
}

export function loginPage(opts: { csrf: string; returnTo: string; error?: string; email?: string }): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="${opts.csrf}">
<input type="hidden" name="return_to" value="${opts.returnTo}">
<label for="username">Email</label>
<input id="username" name="username" type="email" autocomplete="username" required value="${opts.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface ConsentView {
  readonly csrf: string;
  readonly request: string;
  readonly appName: string;
  readonly appDescription: string | null;
  readonly appWebsite: string | null;
  readonly userEmail: string;
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
}

export function consentPage(v: ConsentView): string {
  return layout(
    'Authorize',
    html`<h1>${v.appName} wants to access your account</h1>
${v.appDescription ? html`<p>${v.appDescription}</p>` : ''}
${v.appWebsite ? html`<p class="muted">Website: ${v.appWebsite}</p>` : ''}
<p class="muted">Signed in as ${v.userEmail}</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="authorization_request" value="${v.request}">
${v.scopes.length > 0 ? html`<p>It will be able to:</p>` : html`<p>It asks for no specific permission.</p>`}
<ul class="scopes">
${v.scopes.map(
  (s) =>
    html`<li><label><input type="checkbox" name="scope" value="${s.name}" checked> ${s.description} <span class="muted">(${s.name})</span></label></li>`,
)}
</ul>
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  );
}

export function errorPage(title: string, message: string, code?: string): string {
  return layout(
    title,
    html`<h1>${title}</h1><p class="error" role="alert">${message}</p>${code ? html`<p class="muted">Error code: ${code}</p>` : ''}`,
  );
}
