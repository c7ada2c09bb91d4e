/**
 * The built-in pages for people: sign-in, consent and error (Z3, Z4, Z9, Z11), and the shared
 * stylesheet. Automated clients rely on the form contract: login fields `username` and
 * `password`; consent checkboxes `scope` (one per requested scope) and submit buttons
 * `decision=allow|deny`; every form carries `csrf`, each hidden input on its own line
 * (`name` before `value`), so `sed` and simple regexes can read them.
 */
import { html, type SafeHtml } from './html.js';
import { layout, type Site, type Viewer } from './layout.js';
import { ENGLISH, type Tr } from './i18n.js';

export { layout } from './layout.js';

export const STYLESHEET = `
:root{--fg:#1b2130;--muted:#4f5869;--bg:#f4f5f8;--card:#fff;--accent:#1f4fd1;--accent-strong:#163da6;--danger:#a4221b;--danger-bg:#fdecea;
--ok:#13623a;--ok-bg:#e6f4ea;--warn-bg:#fff6dd;--warn:#6b4a00;--border:#cfd5df;--focus:#f0b429;--radius:.6rem}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent-strong)}a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px;border-radius:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:10}.skip:focus{left:.5rem;top:.5rem}
.site-header{background:var(--card);border-bottom:1px solid var(--border)}
.site-header .bar{max-width:72rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:700;color:var(--fg);text-decoration:none;font-size:1.1rem}
.brand img{border-radius:.3rem}
.mark{display:inline-grid;place-items:center;width:1.75rem;height:1.75rem;border-radius:.4rem;background:var(--accent);color:#fff;font-size:1rem}
.site-nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;flex:1}
.site-nav a{text-decoration:none;padding:.25rem .1rem;color:var(--muted);font-weight:600}
.site-nav a[aria-current=page]{color:var(--fg);border-bottom:3px solid var(--accent)}
.who{display:flex;align-items:center;gap:.75rem;font-size:.9rem}
main{margin:2rem auto;padding:0 1rem}
body.narrow main{max-width:32rem}body.wide main{max-width:72rem}
main:focus{outline:none}
.card{background:var(--card);border:1px solid var(--border);border-radius:var(--radius);padding:1.5rem;margin-bottom:1.25rem}
body.narrow main>.card{padding:2rem}
h1{font-size:1.45rem;line-height:1.25;margin:0 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .75rem}h2:first-child{margin-top:0}
label,.label{display:block;margin:.9rem 0 .3rem;font-weight:600}
.hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}
input[type=email],input[type=password],input[type=text],input[type=url],input[type=number],input[type=date],input[type=search],select,textarea{
width:100%;padding:.55rem .65rem;border:1px solid #8a93a3;border-radius:.4rem;font:inherit;background:#fff;color:var(--fg)}
textarea{min-height:5.5rem;resize:vertical}
fieldset{border:1px solid var(--border);border-radius:.4rem;margin:1rem 0;padding:.5rem 1rem 1rem}legend{font-weight:600;padding:0 .3rem}
.check{display:flex;gap:.6rem;align-items:flex-start;font-weight:400;margin:.5rem 0}.check input{margin-top:.3rem;width:1.1rem;height:1.1rem;flex:none}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.55rem 1.15rem;border-radius:.4rem;border:2px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;line-height:1.3}
button:hover,.button:hover{background:var(--accent-strong);border-color:var(--accent-strong)}
button.secondary,.button.secondary{background:#fff;color:var(--accent-strong)}
button.danger,.button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
button.link{background:none;border:none;color:var(--accent-strong);padding:0;text-decoration:underline;font-weight:600}
button.small,.button.small{padding:.25rem .6rem;font-size:.875rem}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem;align-items:center}
.error{color:var(--danger);background:var(--danger-bg);padding:.65rem .8rem;border-radius:.4rem;border-left:4px solid var(--danger)}
.notice{color:var(--ok);background:var(--ok-bg);padding:.65rem .8rem;border-radius:.4rem;border-left:4px solid var(--ok)}
.warning{color:var(--warn);background:var(--warn-bg);padding:.65rem .8rem;border-radius:.4rem;border-left:4px solid #d19b00}
.muted{color:var(--muted)}small.muted{font-size:.85rem}
.app-head{display:flex;gap:1rem;align-items:center;margin-bottom:1rem}
.app-logo{width:56px;height:56px;border-radius:.6rem;border:1px solid var(--border);object-fit:cover;flex:none;background:#fff}
.app-logo.placeholder{display:grid;place-items:center;background:var(--accent);color:#fff;font-weight:700;font-size:1.5rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0 0 1rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.scopes{list-style:none;padding:0;margin:.5rem 0}ul.scopes li{border:1px solid var(--border);border-radius:.4rem;margin:.5rem 0;padding:.4rem .75rem}
ul.scopes code{font-size:.8rem;color:var(--muted)}
.user-code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.5rem;letter-spacing:.12em}
.code-box{text-align:center;border:2px dashed var(--border);border-radius:var(--radius);padding:.75rem;margin:1rem 0}
input.code-input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.4rem;letter-spacing:.12em;text-transform:uppercase;text-align:center}
.secret{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
.secret code{flex:1;min-width:12rem;padding:.55rem .65rem;background:#f0f2f6;border:1px solid var(--border);border-radius:.4rem;overflow-wrap:anywhere;font-size:.95rem}
.table-wrap{overflow-x:auto}
table{width:100%;border-collapse:collapse;background:var(--card)}
th,td{text-align:left;padding:.55rem .6rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
th a{color:inherit}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.8rem;font-weight:600;border:1px solid}
.badge.on{color:var(--ok);background:var(--ok-bg)}.badge.off{color:var(--danger);background:var(--danger-bg)}.badge.neutral{color:var(--muted);background:#eef0f4}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.5rem 1rem;align-items:end}
.filters label{margin-top:0}
details.more{position:relative;display:inline-block}
details.more summary{cursor:pointer;list-style:none;padding:.25rem .6rem;border:1px solid var(--border);border-radius:.4rem;font-weight:600;background:#fff}
details.more summary::-webkit-details-marker{display:none}
details.more[open] .menu{position:absolute;right:0;z-index:5;min-width:11rem;background:#fff;border:1px solid var(--border);border-radius:.4rem;box-shadow:0 4px 16px rgba(0,0,0,.12);padding:.35rem 0}
.menu a,.menu button{display:block;width:100%;text-align:left;padding:.4rem .9rem;background:none;border:none;color:var(--fg);font-weight:400;text-decoration:none;margin:0;border-radius:0}
.menu a:hover,.menu button:hover{background:#eef1f8}.menu .danger-text{color:var(--danger)}
.admin-nav{margin:0 0 1.25rem;padding-bottom:.5rem;border-bottom:1px solid var(--border)}
@media (min-width:60rem){.table-wrap{overflow:visible}}
@media (max-width:59.99rem){details.more[open] .menu{position:static;box-shadow:none}}
.pager{display:flex;gap:1rem;align-items:center;margin-top:1rem}
.grid-cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
.stat{font-size:1.8rem;font-weight:700}
.chart svg{max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:.5rem 1rem;list-style:none;padding:0;font-size:.9rem}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:.2rem;vertical-align:middle;margin-right:.3rem}
.s0{background:#1f4fd1}.s1{background:#d1731f}.s2{background:#1f9d6b}.s3{background:#a8329e}.s4{background:#6b6f7a}.s5{background:#b8a11c}
pre.details{margin:0;white-space:pre-wrap;font-size:.8rem;max-width:28rem;overflow-wrap:anywhere}
@media (max-width:40rem){main{margin:1rem auto}.card,body.narrow main>.card{padding:1rem}th,td{padding:.45rem .4rem}.hide-sm{display:none}}
@media (prefers-reduced-motion:reduce){*{scroll-behavior:auto!important;transition:none!important}}
`;

export function loginPage(site: Site, opts: { csrf: string; returnTo: string; error?: string | SafeHtml; email?: string; tr?: Tr }): string {
  const brand = site.branding;
  const tr = opts.tr ?? ENGLISH;
  return layout(
    site,
    tr.t('login.title'),
    html`<div class="card">
<h1>${tr.t('login.heading', { brand: brand.name })}</h1>
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
<form method="post" action="${site.base}/login">
<input type="hidden" name="csrf" value="${opts.csrf}">
<input type="hidden" name="return_to" value="${opts.returnTo}">
<label for="username">${tr.t('login.email')}</label>
<input id="username" name="username" type="email" autocomplete="username" required autofocus value="${opts.email ?? ''}">
<label for="password">${tr.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button type="submit">${tr.t('login.submit')}</button></div>
</form>
${opts.returnTo.startsWith(`${site.base}/oauth/authorize`) ? html`<p class="muted">${tr.t('login.returning')}</p>` : ''}
</div>`,
    { tr },
  );
}

export interface ConsentView {
  readonly csrf: string;
  readonly request: string;
  readonly appName: string;
  readonly appDescription: string | null;
  readonly appWebsite: string | null;
  readonly appLogo?: string | null;
  readonly orgName?: string | null;
  readonly userEmail: string;
  /** "Not you?": where to sign out; null hides the link (a host without a sign-out page). */
  readonly logoutHref: string | null;
  /** Where the person will be sent: the host of the redirect URI (or an app's scheme). */
  readonly redirectHost: string;
  /** Registered by itself (dynamic registration): not verified by the platform. */
  readonly unverified: boolean;
  /** Who registered it (its owner), when known. */
  readonly registeredBy: string | null;
  /**
   * A Client ID Metadata Document client: the host its document is published at (the one thing
   * about it a person can check), and whether every redirect URI is on localhost (then anything
   * on the person's computer could claim that host).
   */
  readonly metadataHost?: string | null;
  readonly onlyLocalRedirects?: boolean;
  /** Each requested scope with its description in the page's language. */
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly tr?: Tr;
}

/**
 * The warning of an application the platform has not verified: one that registered itself, or
 * one known only by its metadata document (then its host, and the localhost caveat, come first).
 */
export function unverifiedNote(site: Site, tr: Tr, v: Pick<ConsentView, 'unverified' | 'metadataHost' | 'onlyLocalRedirects'>): SafeHtml {
  if (v.metadataHost) {
    return html`<p class="warning" role="note" data-metadata-host="${v.metadataHost}">${tr.t('consent.documentAt', { host: v.metadataHost, brand: site.branding.name })}</p>
${v.onlyLocalRedirects ? html`<p class="warning" role="note">${tr.t('consent.localOnly', { host: v.metadataHost })}</p>` : ''}`;
  }
  return v.unverified ? html`<p class="warning" role="note">${tr.t('consent.unverified', { brand: site.branding.name })}</p>` : html``;
}

export function appLogo(name: string, logo: string | null | undefined): SafeHtml {
  // Decorative (the name is the heading): a logo that fails to load shows no stray text.
  return logo
    ? html`<img class="app-logo" src="${logo}" alt="" width="56" height="56">`
    : html`<span class="app-logo placeholder" aria-hidden="true">${name.slice(0, 1).toUpperCase()}</span>`;
}

/** The consent page's facts about the application (list items): website, publisher, registrant. */
export function appFacts(tr: Tr, v: { readonly appWebsite: string | null; readonly orgName?: string | null; readonly registeredBy: string | null }): SafeHtml {
  return html`${v.appWebsite ? html`<li><a href="${v.appWebsite}" rel="noopener noreferrer" target="_blank">${tr.t('consent.website', { url: v.appWebsite })}</a></li>` : ''}
${v.orgName ? html`<li>${tr.t('consent.publishedBy', { org: v.orgName })}</li>` : ''}
${v.registeredBy ? html`<li>${tr.t('consent.registeredBy', { who: v.registeredBy })}</li>` : ''}`;
}

/** "Signed in as …", with the "Not you?" link when there is a sign-out page. */
export function signedInAs(tr: Tr, v: { readonly userEmail: string; readonly logoutHref: string | null }): SafeHtml {
  return html`<p class="muted">${tr.t('consent.signedInAs', { email: v.userEmail })}${v.logoutHref ? html` <a href="${v.logoutHref}">${tr.t('consent.notYou')}</a>` : ''}</p>`;
}

/** A consent form's scope checkboxes (all ticked) and its Allow / Deny buttons. */
export function consentChoices(tr: Tr, scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>): SafeHtml {
  return html`${scopes.length > 0
  ? html`<fieldset><legend>${tr.t('consent.ableTo')}</legend>
<p class="hint">${tr.t('consent.untick')}</p>
<ul class="scopes">
${scopes.map((s) => html`<li><label class="check"><input type="checkbox" name="scope" value="${s.name}" checked> <span>${s.description} <code>${s.name}</code></span></label></li>`)}
</ul></fieldset>`
  : html`<p>${tr.t('consent.nothing')}</p>`}
<div class="actions">
<button type="submit" name="decision" value="allow">${tr.t('consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${tr.t('consent.deny')}</button>
</div>`;
}

/** What the consent card shows of the application and the person (both consent pages). */
type ConsentCardView = Pick<ConsentView, 'unverified' | 'metadataHost' | 'onlyLocalRedirects'> &
  Parameters<typeof appFacts>[1] &
  Parameters<typeof signedInAs>[1] & {
    readonly appName: string;
    readonly appLogo?: string | null;
    readonly appDescription: string | null;
    readonly csrf: string;
    readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  };

/**
 * The consent card of the authorization and device pages: the application, what is known of
 * it, who is signed in, and the choices, posted to `action` with the CSRF token and `hidden`.
 */
export function consentCard(
  site: Site,
  tr: Tr,
  v: ConsentCardView,
  o: { readonly notice?: SafeHtml; readonly facts: { readonly className: string; readonly first?: SafeHtml }; readonly action: string; readonly hidden: SafeHtml },
): SafeHtml {
  return html`<div class="card">
<div class="app-head">${appLogo(v.appName, v.appLogo)}<h1>${tr.t('consent.heading', { app: v.appName })}</h1></div>
${o.notice ?? ''}${unverifiedNote(site, tr, v)}
${v.appDescription ? html`<p>${v.appDescription}</p>` : ''}
<ul class="${o.facts.className}">
${o.facts.first ?? ''}${appFacts(tr, v)}
</ul>
${signedInAs(tr, v)}
<form method="post" action="${o.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
${o.hidden}
${consentChoices(tr, v.scopes)}
</form>
<p class="muted"><small>${tr.t('consent.revokeLater')}</small></p>
</div>`;
}

export function consentPage(site: Site, v: ConsentView): string {
  const tr = v.tr ?? ENGLISH;
  return layout(
    site,
    tr.t('consent.title'),
    consentCard(site, tr, v, {
      facts: { className: v.metadataHost ? 'identity' : 'muted', first: html`<li>${tr.t('consent.sentTo', { host: v.redirectHost })}</li>` },
      action: `${site.base}/oauth/authorize`,
      hidden: html`<input type="hidden" name="authorization_request" value="${v.request}">`,
    }),
    { tr },
  );
}

/**
 * An error page. `title` and `message` are English; one from the fixed set of Tollgate's own
 * (src/i18n/messages/en.ts `known`) is shown in the page's language, any other text as it is.
 * The error code is never translated.
 */
export function errorPage(site: Site, title: string, message: string, code?: string, viewer?: Viewer | null, tr: Tr = ENGLISH): string {
  const heading = tr.known(title);
  return layout(
    site,
    heading,
    html`<div class="card"><h1>${heading}</h1><p class="error" role="alert">${tr.known(message)}</p>${code ? html`<p class="muted">${tr.t('error.code', { code })}</p>` : ''}
<p><a href="${site.base}/">${tr.t('error.back', { brand: site.branding.name })}</a></p></div>`,
    { viewer: viewer ?? null, tr },
  );
}

function signedInLine(tr: Tr, email: string | null): SafeHtml {
  return email ? html`<p>${tr.t('logout.signedInAs', { email })}</p>` : html`<p>${tr.t('logout.notSignedIn')}</p>`;
}

/** GET /logout: a confirmation form (sign-out is a POST with the CSRF field). */
/** RP-initiated logout (OIDC): the person confirms signing out; the request's fields ride along. */
export function endSessionPage(site: Site, opts: { csrf: string; email: string | null; appName: string | null; fields: ReadonlyArray<readonly [string, string]>; tr?: Tr }): string {
  const tr = opts.tr ?? ENGLISH;
  const brand = site.branding.name;
  return layout(
    site,
    tr.t('logout.title'),
    html`<div class="card"><h1>${tr.t('logout.heading')}</h1>
${opts.appName ? html`<p>${tr.t('logout.appAsks', { app: opts.appName, brand })}</p>` : html`<p>${tr.t('logout.someAppAsks', { brand })}</p>`}
${signedInLine(tr, opts.email)}
<form method="post" action="${site.base}/oauth/logout">
<input type="hidden" name="csrf" value="${opts.csrf}">
${opts.fields.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit">${tr.t('logout.submit')}</button><a class="button secondary" href="${site.base}/developers">${tr.t('logout.stay')}</a></div>
</form></div>`,
    { tr },
  );
}

/** After an RP-initiated logout with nowhere to return to. */
export function signedOutPage(site: Site, tr: Tr = ENGLISH): string {
  return layout(site, tr.t('logout.signedOutTitle'), html`<div class="card"><h1>${tr.t('logout.signedOutHeading')}</h1><p>${tr.t('logout.closePage')}</p></div>`, { tr });
}

export function logoutPage(site: Site, opts: { csrf: string; email: string | null; hostManaged?: boolean; tr?: Tr }): string {
  const tr = opts.tr ?? ENGLISH;
  if (opts.hostManaged) {
    return layout(
      site,
      tr.t('logout.title'),
      html`<div class="card"><h1>${tr.t('logout.heading')}</h1>
${signedInLine(tr, opts.email)}
<p>${tr.t('logout.hostManaged', { brand: site.branding.name })}</p></div>`,
      { tr },
    );
  }
  return layout(
    site,
    tr.t('logout.title'),
    html`<div class="card"><h1>${tr.t('logout.heading')}</h1>
${signedInLine(tr, opts.email)}
<form method="post" action="${site.base}/logout">
<input type="hidden" name="csrf" value="${opts.csrf}">
<div class="actions"><button type="submit">${tr.t('logout.submit')}</button><a class="button secondary" href="${site.base}/developers">${tr.t('logout.stay')}</a></div>
</form></div>`,
    { tr },
  );
}
