/**
 * The page shell shared by every people-facing page: a header with the (configurable) brand, the
 * navigation for the signed-in person, a skip link, and the main column. No inline script or
 * style anywhere (CSP `script-src 'self'; style-src 'self'`): styling comes from
 * /assets/tollgate.css (+ /assets/brand.css for the primary colour), behaviour from files under
 * /assets/.
 */
import { html, type SafeHtml } from './html.js';
import type { Branding } from '../../branding.js';
import { accountLabel } from '../../accounts/types.js';
import { ENGLISH, type Tr } from './i18n.js';

/**
 * What a page needs of its instance: the path it is served under (every link starts with it) and
 * the branding. An `OAuthContext` is one.
 */
export interface Site {
  readonly base: string;
  readonly branding: Branding;
}

/** The CSS served at /assets/brand.css: only the primary colour, from validated configuration. */
export function brandCss(branding: Branding): string {
  return branding.color ? `:root{--accent:${branding.color};--accent-strong:${branding.color}}\n` : '/* default colours */\n';
}

export interface Viewer {
  readonly id: string;
  readonly email: string | null;
  readonly name: string | null;
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
  /** The page's language (src/http/views/i18n.ts); English when not given (the back-office). */
  readonly tr?: Tr;
}

function nav(site: Site, chrome: Chrome): SafeHtml | string {
  const v = chrome.viewer;
  if (!v) return '';
  const tr = chrome.tr ?? ENGLISH;
  const link = (href: string, label: SafeHtml, section: Section) =>
    html`<a href="${href}"${chrome.section === section ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="site-nav" aria-label="${tr.t('layout.nav')}">
${link(`${site.base}/developers`, tr.t('layout.developers'), 'developers')}
${link(`${site.base}/account/apps`, tr.t('layout.connectedApps'), 'account')}
${v.isAdmin ? link(`${site.base}/admin`, tr.t('layout.admin'), 'admin') : ''}
</nav>
<div class="who"><span class="muted">${accountLabel(v)}</span>
${chrome.csrf
  ? html`<form method="post" action="${site.base}/logout" class="inline">
<input type="hidden" name="csrf" value="${chrome.csrf}">
<button type="submit" class="link">${tr.t('layout.signOut')}</button>
</form>`
  : ''}</div>`;
}

export function layout(site: Site, title: string | SafeHtml, body: SafeHtml, chrome: Chrome = {}): string {
  const b = site.branding;
  const tr = chrome.tr ?? ENGLISH;
  return html`<!doctype html>
<html lang="${tr.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${b.name}</title><link rel="stylesheet" href="${site.base}/assets/tollgate.css"><link rel="stylesheet" href="${site.base}/assets/brand.css">
${(chrome.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body class="${chrome.width === 'wide' ? 'wide' : 'narrow'}">
<a class="skip" href="#content">${tr.t('layout.skip')}</a>
<header class="site-header"><div class="bar">
<a class="brand" href="${site.base}/developers">${b.logoUrl ? html`<img src="${b.logoUrl}" alt="" width="28" height="28">` : html`<span class="mark" aria-hidden="true">${b.name.slice(0, 1)}</span>`}<span>${b.name}</span></a>
${nav(site, chrome)}
</div></header>
<main id="content" tabindex="-1">${body}</main>
</body></html>`.value;
}
