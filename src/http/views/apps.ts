/**
 * Application views shared by the developer portal (U2) and the back-office (U4): the A1 form
 * (create and edit), the details list, the shown-once credentials screen (A2) and the delete
 * confirmation.
 */
import { GRANT, type BuiltinGrant } from '../../oauth/grant-types.js';
import type { ClientRow, ScopeRow } from '../../storage/types.js';
import { ID_TOKEN_ALGS } from '../../config.js';
import { html, type SafeHtml } from './html.js';
import { formatDate, orgField, statusBadge, type OrgChoices } from './kit.js';

const GRANT_LABELS: Readonly<Record<BuiltinGrant, string>> = {
  [GRANT.authorizationCode]: 'Authorization code (users sign in and consent)',
  [GRANT.refreshToken]: 'Refresh token',
  [GRANT.clientCredentials]: 'Client credentials (the app acts as itself)',
  [GRANT.password]: 'Resource owner password (trusted first-party apps only)',
  [GRANT.implicit]: 'Implicit (legacy browser apps; not recommended)',
  [GRANT.deviceCode]: 'Device authorization (TVs, command-line tools and agents sign in with a code)',
  [GRANT.tokenExchange]: 'Token exchange (services acting for a person; administrators only)',
};

/** A grant type in plain words; an extension grant a host added is shown by its identifier. */
export function grantLabel(type: string): string {
  return (GRANT_LABELS as Readonly<Record<string, string>>)[type] ?? type;
}

/** What the form shows: a stored app, or the values just submitted (after a validation error). */
export interface AppFormValues {
  readonly name: string;
  readonly description: string;
  readonly website: string;
  readonly logoUri: string;
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly grantTypes: readonly string[];
  readonly clientType: 'confidential' | 'public';
  readonly orgId: string;
  readonly ownerId: string;
  readonly active: boolean;
  /** OpenID Connect settings (shown when the instance has the feature). */
  readonly oidc: OidcFormValues;
  /** Token exchange policy (RFC 8693; shown in the back-office only). */
  readonly tokenExchange: TokenExchangeFormValues;
}

export interface TokenExchangeFormValues {
  /** Whether the application has a policy at all. */
  readonly enabled: boolean;
  readonly audiences: readonly string[];
  readonly impersonation: boolean;
  readonly refreshTokens: boolean;
}

export const NO_TOKEN_EXCHANGE: TokenExchangeFormValues = { enabled: false, audiences: [], impersonation: false, refreshTokens: false };

export interface OidcFormValues {
  readonly idTokenAlg: string;
  readonly postLogoutRedirectUris: readonly string[];
  readonly backchannelLogoutUri: string;
  readonly defaultMaxAge: string;
  readonly contacts: readonly string[];
}

export const EMPTY_OIDC: OidcFormValues = { idTokenAlg: 'RS256', postLogoutRedirectUris: [], backchannelLogoutUri: '', defaultMaxAge: '', contacts: [] };

export const EMPTY_APP: AppFormValues = {
  name: '',
  description: '',
  website: '',
  logoUri: '',
  redirectUris: [],
  scopes: ['profile'],
  grantTypes: ['authorization_code', 'refresh_token'],
  clientType: 'confidential',
  orgId: '',
  ownerId: '',
  active: true,
  oidc: EMPTY_OIDC,
  tokenExchange: NO_TOKEN_EXCHANGE,
};

export function formValuesOf(c: ClientRow): AppFormValues {
  return {
    name: c.name,
    description: c.description ?? '',
    website: c.website ?? '',
    logoUri: c.logoUri ?? '',
    redirectUris: c.redirectUris,
    scopes: c.scopes,
    grantTypes: c.grantTypes,
    clientType: c.clientType,
    orgId: c.orgId ?? '',
    ownerId: c.ownerId ?? '',
    active: c.active,
    oidc: {
      idTokenAlg: c.idTokenSignedResponseAlg ?? 'RS256',
      postLogoutRedirectUris: c.postLogoutRedirectUris,
      backchannelLogoutUri: c.oidc.backchannelLogoutUri ?? '',
      defaultMaxAge: c.oidc.defaultMaxAge === null ? '' : String(c.oidc.defaultMaxAge),
      contacts: c.oidc.contacts,
    },
    tokenExchange: c.tokenExchange === null ? NO_TOKEN_EXCHANGE : { enabled: true, ...c.tokenExchange },
  };
}

export interface AppFormOptions {
  readonly action: string;
  readonly csrf: string;
  readonly mode: 'create' | 'edit';
  readonly values: AppFormValues;
  readonly scopes: readonly ScopeRow[];
  /** The grant types this instance offers (its features' `clientGrantTypes`). */
  readonly grantTypes: readonly string[];
  /** The organizations offered; `orgName` is the chosen one's name for the text field. */
  readonly orgs: OrgChoices;
  readonly orgName?: string | null;
  /**
   * `text`: an owner field (back-office only) taking an email or a user id — a text field, not a
   * list, since there may be a million users; null hides it (the portal's owner is the viewer).
   */
  readonly owners: 'text' | null;
  readonly error?: string | null;
  /** The instance signs people in with OpenID Connect: show its settings. */
  readonly oidc?: boolean;
  /** Show the token-exchange policy (the back-office, for administrators; never the portal). */
  readonly tokenExchange?: boolean;
  readonly submitLabel: string | SafeHtml;
  readonly cancelHref: string;
  /** Default "Cancel". */
  readonly cancelLabel?: string | SafeHtml;
}

export function appForm(o: AppFormOptions): SafeHtml {
  const v = o.values;
  return html`${o.error ? html`<p class="error" role="alert" id="form-error">${o.error}</p>` : ''}
<form method="post" action="${o.action}" class="card">
<input type="hidden" name="csrf" value="${o.csrf}">
<label for="name">Name <span class="hint">Shown to people on the consent page.</span></label>
<input id="name" name="name" type="text" required maxlength="200" value="${v.name}">
<label for="description">Description</label>
<textarea id="description" name="description" maxlength="2000">${v.description}</textarea>
<label for="website">Website <span class="hint">https://…</span></label>
<input id="website" name="website" type="url" value="${v.website}">
<label for="logo_uri">Logo URL <span class="hint">A square image, https://…</span></label>
<input id="logo_uri" name="logo_uri" type="url" value="${v.logoUri}">
<label for="redirect_uris">Redirect URIs <span class="hint">One per line. https, loopback http (127.0.0.1, [::1], localhost) or a reverse-DNS custom scheme.</span></label>
<textarea id="redirect_uris" name="redirect_uris">${v.redirectUris.join('\n')}</textarea>
<fieldset><legend>Scopes the application may request</legend>
${o.scopes.map(
  (s) =>
    html`<label class="check"><input type="checkbox" name="scopes" value="${s.name}"${v.scopes.includes(s.name) ? html` checked` : ''}> <span>${s.description} <code>${s.name}</code></span></label>`,
)}
</fieldset>
<fieldset><legend>Grant types</legend>
${o.grantTypes.map(
  (g) =>
    html`<label class="check"><input type="checkbox" name="grant_types" value="${g}"${v.grantTypes.includes(g) ? html` checked` : ''}> <span>${grantLabel(g)}</span></label>`,
)}
</fieldset>
${o.mode === 'create'
  ? html`<fieldset><legend>Client type</legend>
<label class="check"><input type="radio" name="client_type" value="confidential"${v.clientType === 'confidential' ? html` checked` : ''}> <span>Confidential — a server that can keep a secret</span></label>
<label class="check"><input type="radio" name="client_type" value="public"${v.clientType === 'public' ? html` checked` : ''}> <span>Public — a mobile, desktop or single-page app (no secret; PKCE required)</span></label>
</fieldset>`
  : html`<p class="muted">Client type: ${v.clientType} (cannot be changed)</p>`}
<label for="org_id">Organization</label>
${orgField({ id: 'org_id', name: 'org_id', choices: o.orgs, selected: v.orgId, selectedName: o.orgName ?? null, emptyLabel: '— none —' })}
${o.owners
  ? html`<label for="owner_id">Owner <span class="hint">Their email or user id; empty for none.</span></label>
<input id="owner_id" name="owner_id" type="text" value="${v.ownerId}" autocomplete="off">`
  : ''}
${o.oidc ? oidcFieldset(v.oidc) : ''}
${o.tokenExchange ? tokenExchangeFieldset(v.tokenExchange) : ''}
<label class="check"><input type="checkbox" name="active" value="1"${v.active ? html` checked` : ''}> <span>Active <span class="hint">An inactive application cannot obtain tokens and its tokens stop working.</span></span></label>
<div class="actions"><button type="submit">${o.submitLabel}</button><a href="${o.cancelHref}">${o.cancelLabel ?? 'Cancel'}</a></div>
</form>`;
}

function oidcFieldset(v: OidcFormValues): SafeHtml {
  return html`<fieldset><legend>Sign-in with OpenID Connect</legend>
<label for="id_token_alg">ID token algorithm</label>
<select id="id_token_alg" name="id_token_alg">${ID_TOKEN_ALGS.map((a) => html`<option value="${a}"${v.idTokenAlg === a ? html` selected` : ''}>${a}${a === 'RS256' ? ' (default)' : ''}</option>`)}</select>
<label for="post_logout_redirect_uris">After sign-out, send people back to <span class="hint">One URI per line, matched exactly.</span></label>
<textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris">${v.postLogoutRedirectUris.join('\n')}</textarea>
<label for="backchannel_logout_uri">Back-channel logout URL <span class="hint">https://… — told when a session ends; empty for none.</span></label>
<input id="backchannel_logout_uri" name="backchannel_logout_uri" type="url" value="${v.backchannelLogoutUri}">
<label for="default_max_age">Ask for a new sign-in after <span class="hint">Seconds; empty for never.</span></label>
<input id="default_max_age" name="default_max_age" type="number" min="0" step="1" value="${v.defaultMaxAge}">
<label for="contacts">Contacts <span class="hint">Email addresses, one per line.</span></label>
<textarea id="contacts" name="contacts">${v.contacts.join('\n')}</textarea>
</fieldset>`;
}

function tokenExchangeFieldset(v: TokenExchangeFormValues): SafeHtml {
  return html`<fieldset><legend>Token exchange (RFC 8693)</legend>
<input type="hidden" name="token_exchange_form" value="1">
<p class="hint">Applies when the application holds the token exchange grant. It may only exchange tokens issued to it or addressed to it.</p>
<label class="check"><input type="checkbox" name="token_exchange_enabled" value="1"${v.enabled ? html` checked` : ''}> <span>Allow token exchange under this policy</span></label>
<label for="token_exchange_audiences">Audiences it may obtain tokens for <span class="hint">Resource server identifiers, one per line.</span></label>
<textarea id="token_exchange_audiences" name="token_exchange_audiences">${v.audiences.join('\n')}</textarea>
<label class="check"><input type="checkbox" name="token_exchange_impersonation" value="1"${v.impersonation ? html` checked` : ''}> <span>Impersonation <span class="hint">Exchange without an actor token: the new token does not say who acts.</span></span></label>
<label class="check"><input type="checkbox" name="token_exchange_refresh_tokens" value="1"${v.refreshTokens ? html` checked` : ''}> <span>Refresh tokens <span class="hint">When asked with requested_token_type; never beyond the subject token's lifetime.</span></span></label>
</fieldset>`;
}

export function appFacts(c: ClientRow, extra: { orgName: string | null; ownerEmail: string | null }): SafeHtml {
  return html`<dl class="facts">
<dt>Client ID</dt><dd><code>${c.clientId}</code></dd>
<dt>Status</dt><dd>${statusBadge(c.active)}</dd>
<dt>Client type</dt><dd>${c.clientType}</dd>
${c.privateKeyJwt !== null
  ? html`<dt>Authentication</dt><dd>private_key_jwt (signed assertions; no secret) — keys ${c.privateKeyJwt.jwksUri !== null ? html`from <code>${c.privateKeyJwt.jwksUri}</code>` : html`registered inline (${String(c.privateKeyJwt.jwks?.keys.length ?? 0)})`}</dd>`
  : ''}
${c.metadataDocument !== null
  ? html`<dt>Metadata document</dt><dd><a href="${c.clientId}" rel="noopener noreferrer">${c.clientId}</a><br><span class="hint">Not verified by this platform. Fetched ${formatDate(c.metadataDocument.fetchedAt)}, used until ${formatDate(c.metadataDocument.expiresAt)}${c.metadataDocument.logoSource ? html`; logo from <code>${c.metadataDocument.logoSource}</code>` : ''}.</span></dd>`
  : ''}
<dt>Description</dt><dd>${c.description ?? '—'}</dd>
<dt>Website</dt><dd>${c.website ? html`<a href="${c.website}" rel="noopener noreferrer">${c.website}</a>` : '—'}</dd>
<dt>Logo</dt><dd>${c.logoUri ?? '—'}</dd>
<dt>Redirect URIs</dt><dd>${c.redirectUris.length ? c.redirectUris.map((u) => html`<code>${u}</code><br>`) : '—'}</dd>
<dt>Scopes</dt><dd>${c.scopes.join(' ') || '—'}</dd>
<dt>Grant types</dt><dd>${c.grantTypes.join(', ')}</dd>
<dt>Organization</dt><dd>${extra.orgName ?? '—'}</dd>
<dt>Owner</dt><dd>${extra.ownerEmail ?? '—'}</dd>
<dt>Token format</dt><dd>${c.tokenFormat}</dd>
<dt>Created</dt><dd>${formatDate(c.createdAt)}</dd>
<dt>Updated</dt><dd>${formatDate(c.updatedAt)}</dd>
</dl>`;
}

/** A2: the credentials screen. `secret` is present only on the one request right after creation/rotation. */
export function credentialsBody(c: ClientRow, secret: string | null, opts: { backHref: string; rotated: boolean }): SafeHtml {
  const copy = (id: string, label: string) =>
    html`<button type="button" class="secondary small" data-copy="${id}" aria-label="Copy ${label}">Copy</button>`;
  return html`<div class="card">
<h1>${opts.rotated ? 'New client secret' : 'Credentials'} for ${c.name}</h1>
<p class="label">Client ID</p>
<div class="secret"><code id="client-id">${c.clientId}</code>${copy('client-id', 'client ID')}</div>
${c.clientType === 'public'
  ? html`<p class="muted">This is a public application: it has no secret and must use PKCE.</p>`
  : c.privateKeyJwt !== null
    ? html`<p class="muted">This application authenticates with signed assertions (private_key_jwt): it has no secret.</p>`
  : secret
    ? html`<p class="label">Client secret</p>
<div class="secret"><code id="client-secret" data-secret>${secret}</code>${copy('client-secret', 'client secret')}</div>
<p class="warning" role="note"><strong>Copy the secret now.</strong> It is shown only this once and Tollgate keeps only a hash of it. If you lose it, rotate the secret to get a new one.</p>
${opts.rotated && c.previousSecretExpiresAt !== null ? html`<p class="notice" role="status">The previous secret keeps working until ${formatDate(c.previousSecretExpiresAt)}.</p>` : ''}`
    : html`<p class="warning" role="note">The client secret is no longer shown: it was displayed once when it was created. If you lost it, rotate the secret to get a new one (the old one stops working).</p>`}
<p class="muted" role="status" aria-live="polite" id="copy-status"></p>
<div class="actions"><a class="button" href="${opts.backHref}">Done</a></div>
</div>`;
}

export function deleteConfirmBody(c: ClientRow, csrf: string, action: string, cancelHref: string): SafeHtml {
  return html`<div class="card">
<h1>Delete ${c.name}?</h1>
<p class="warning">This deletes the application with all its tokens and every user’s consent. Applications using its credentials stop working at once. This cannot be undone.</p>
<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit" class="danger">Delete application</button><a href="${cancelHref}">Cancel</a></div>
</form></div>`;
}

/**
 * "Are you sure?" for an action that cannot be undone or takes something away (issue #15 §14):
 * the first POST answers with this page; its form repeats the fields with `confirm=yes`.
 */
export function confirmBody(o: {
  readonly title: string | SafeHtml;
  readonly warning: string | SafeHtml;
  readonly action: string;
  readonly csrf: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly submitLabel: string | SafeHtml;
  readonly cancelHref: string;
  /** Default "Cancel". */
  readonly cancelLabel?: string | SafeHtml;
  /** Extra form controls (e.g. the rotation overlap). */
  readonly extra?: SafeHtml;
}): SafeHtml {
  return html`<div class="card">
<h1>${o.title}</h1>
<p class="warning" role="note">${o.warning}</p>
<form method="post" action="${o.action}">
<input type="hidden" name="csrf" value="${o.csrf}">
${o.fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<input type="hidden" name="confirm" value="yes">
${o.extra ?? ''}
<div class="actions"><button type="submit" class="danger">${o.submitLabel}</button><a href="${o.cancelHref}">${o.cancelLabel ?? 'Cancel'}</a></div>
</form></div>`;
}

/** The rotation's opt-in overlap: how long the old secret keeps working (immediately by default). */
export const OVERLAP_CHOICES: ReadonlyArray<readonly [string, string]> = [
  ['0', 'Stops working immediately (recommended if it may have leaked)'],
  ['3600', 'Keeps working for 1 hour'],
  ['86400', 'Keeps working for 1 day'],
  ['604800', 'Keeps working for 7 days'],
];

export function overlapControl(): SafeHtml {
  return html`<fieldset><legend>The old secret</legend>
${OVERLAP_CHOICES.map(([v, label]) => html`<label class="check"><input type="radio" name="overlap" value="${v}"${v === '0' ? html` checked` : ''}> <span>${label}</span></label>`)}
</fieldset>`;
}
