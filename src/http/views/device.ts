/**
 * The device verification pages (RFC 8628 §3.3; issue #14): the person types the code their
 * device shows, confirms it and answers. Form contract, as for the other pages: the code field is
 * `user_code`; the answer form carries `csrf`, `user_code`, one `scope` checkbox per scope and the
 * buttons `decision=allow|deny`.
 */
import { html } from './html.js';
import { layout, type Site } from './layout.js';
import { consentCard } from './pages.js';
import { ENGLISH, type Tr } from './i18n.js';

/** GET /device: where the person types the code (again, with the reason, after a wrong one). */
export function deviceEntryPage(site: Site, opts: { readonly csrf: string; readonly tr?: Tr; readonly error?: 'malformed' | 'unknown' | 'expired' | 'answered'; readonly typed?: string }): string {
  const tr = opts.tr ?? ENGLISH;
  return layout(
    site,
    tr.t('device.title'),
    html`<div class="card">
<h1>${tr.t('device.heading')}</h1>
${opts.error ? html`<p class="error" role="alert">${tr.t(`device.${opts.error}`)}</p>` : ''}
<p>${tr.t('device.help')}</p>
<form method="post" action="${site.base}/device">
<input type="hidden" name="csrf" value="${opts.csrf}">
<label for="user_code">${tr.t('device.code')} <span class="hint">${tr.t('device.codeHint')}</span></label>
<input id="user_code" name="user_code" class="code-input" type="text" required autofocus autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" value="${opts.typed ?? ''}">
<div class="actions"><button type="submit">${tr.t('device.next')}</button></div>
</form></div>`,
    { tr },
  );
}

export interface DeviceConsentView {
  readonly csrf: string;
  readonly userCode: string;
  readonly appName: string;
  readonly appDescription: string | null;
  readonly appWebsite: string | null;
  readonly appLogo: string | null;
  readonly orgName: string | null;
  readonly registeredBy: string | null;
  readonly unverified: boolean;
  /** A Client ID Metadata Document client: its document's host (see ConsentView). */
  readonly metadataHost?: string | null;
  readonly userEmail: string;
  readonly logoutHref: string | null;
  readonly scopes: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly tr?: Tr;
}

/**
 * The code, shown for the person to compare with their device (never submitted for them,
 * RFC 8628 §3.3.1), the warning against a code someone else sent (§5.4), and the consent form.
 */
export function deviceConsentPage(site: Site, v: DeviceConsentView): string {
  const tr = v.tr ?? ENGLISH;
  return layout(
    site,
    tr.t('device.confirmTitle', { app: v.appName }),
    consentCard(site, tr, v, {
      notice: html`<div class="code-box"><p>${tr.t('device.codeIs', { code: v.userCode })}</p><p class="muted">${tr.t('device.checkCode')}</p></div>
<p class="warning" role="alert">${tr.t('device.warning')}</p>
`,
      facts: { className: 'muted' },
      action: `${site.base}/device/decision`,
      hidden: html`<input type="hidden" name="user_code" value="${v.userCode}">`,
    }),
    { tr },
  );
}

/** After the answer: back to the device (allowed), or nothing happened (denied). */
export function deviceDonePage(site: Site, opts: { readonly appName: string; readonly allowed: boolean; readonly tr?: Tr }): string {
  const tr = opts.tr ?? ENGLISH;
  const [title, heading, body] = opts.allowed
    ? (['device.doneTitle', 'device.doneHeading', 'device.doneBody'] as const)
    : (['device.deniedTitle', 'device.deniedHeading', 'device.deniedBody'] as const);
  return layout(site, tr.t(title), html`<div class="card"><h1>${tr.t(heading)}</h1><p${opts.allowed ? html` class="notice" role="status"` : ''}>${tr.t(body, { app: opts.appName })}</p></div>`, { tr });
}
