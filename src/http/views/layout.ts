/**
 * The page shell shared by every people-facing page: a header with the (configurable) brand, the
 * navigation for the signed-in person, a skip link, and the main column. No inline script or
 * style anywhere (CSP `script-src 'self'; style-src 'self'`): styling comes from
 * /assets/tollgate.css (+ /assets/brand.css for the primary colour), behaviour from files under
 * /assets/.
 */
import { html, type SafeHtml } from './html.js';

export interface Branding {
  /** Product name shown in the header and the page titles. */
  readonly name: string;
  /** Absolute https URL or a same-site path of a logo image; null for none. */
  readonly logoUrl: string | null;
  /** Primary colour as `#rgb` / `#rrggbb`; null for the default blue. */
  readonly color: string | null;
}

const DEFAULT_BRANDING: Branding = { name: 'Tollgate', logoUrl: null, color: null };
let branding: Branding = DEFAULT_BRANDING;

/** Reads branding from `TOLLGATE_BRAND_NAME`, `TOLLGATE_BRAND_LOGO_URL`, `TOLLGATE_BRAND_COLOR`; invalid values are ignored. */
export function brandingFromEnv(env: Readonly<Record<string, string | undefined>>): Branding {
  const name = env['TOLLGATE_BRAND_NAME']?.trim();
  const logo = env['TOLLGATE_BRAND_LOGO_URL']?.trim();
  const color = env['TOLLGATE_BRAND_COLOR']?.trim();
  return {
    name: name && name.length <= 60 ? name : DEFAULT_BRANDING.name,
    logoUrl: logo && (/^https:\/\/[^\s"']+$/.test(logo) || /^\/[^/\s"'][^\s"']*$/.test(logo)) ? logo : null,
    color: color && /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(color) ? color : null,
  };
}

export function setBranding(b: Branding): void {
  branding = b;
}

export function getBranding(): Branding {
  return branding;
}

/** The CSS served at /assets/brand.css: only the primary colour, from validated configuration. */
export function brandCss(): string {
  return branding.color ? `:root{--accent:${branding.color};--accent-strong:${branding.color}}\n` : '/* default colours */\n';
}

export interface Viewer {
  readonly email: string;
  readonly isAdmin: boolean;
}

export type Section = 'developers' | 'account' | 'admin' | 'none';

export interface Chrome {
  /** The signed-in person; null/undefined shows no navigation. */
  readonly viewer?: Viewer | null;
  /** CSRF token for the sign-out form in the header (only when `viewer` is set). */
  readonly csrf?: string;
  readonly section?: Section;
  /** `narrow` (forms: sign-in, consent) or `wide` (portal, back-office). */
  readonly width?: 'narrow' | 'wide';
  /** Extra scripts served by Tollgate (e.g. /assets/copy.js). */
  readonly scripts?: readonly string[];
}

function nav(chrome: Chrome): SafeHtml | string {
  const v = chrome.viewer;
  if (!v) return '';
  const link = (href: string, label: string, section: Section) =>
    html`<a href="${href}"${chrome.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="site-nav" aria-label="Main">
${link('/developers', 'Developers', 'developers')}
${link('/account/apps', 'Connected applications', 'account')}
${v.isAdmin ? link('/admin', 'Admin', 'admin') : ''}
</nav>
<div class="who"><span class="muted">${v.email}</span>
${chrome.csrf
  ? html`<form method="post" action="/logout" class="inline">
<input type="hidden" name="csrf" value="${chrome.csrf}">
<button type="submit" class="link">Sign out</button>
</form>`
  : ''}</div>`;
}

export function layout(title: string, body: SafeHtml, chrome: Chrome = {}): string {
  const b = branding;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${b.name}</title><link rel="stylesheet" href="/assets/tollgate.css"><link rel="stylesheet" href="/assets/brand.css">
${(chrome.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body class="${chrome.width === 'wide' ? 'wide' : 'narrow'}">
<a class="skip" href="#content">Skip to content</a>
<header class="site-header"><div class="bar">
<a class="brand" href="/developers">${b.logoUrl ? html`<img src="${b.logoUrl}" alt="" width="28" height="28">` : html`<span class="mark" aria-hidden="true">${b.name.slice(0, 1)}</span>`}<span>${b.name}</span></a>
${nav(chrome)}
</div></header>
<main id="content" tabindex="-1">${body}</main>
</body></html>`.value;
}
