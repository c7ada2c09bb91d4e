/**
 * Small helpers shared by the page routes (portal, connected applications, back-office): sending
 * pages, the 303-after-POST redirect, reading form fields, and the "who is signed in" guards
 * (sign-in redirect for anonymous visitors, a 403 page for non-admins on admin pages).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthContext } from '../../oauth/context.js';
import type { Account } from '../../accounts/types.js';
import type { OrganizationRow } from '../../storage/types.js';
import { OAuthError } from '../../oauth/errors.js';
import { bodyObject } from '../plugins/body.js';
import { csrfToken, csrfValid } from '../session.js';
import type { HttpContext } from '../context.js';
import { signInThenReturn } from '../sign-in.js';
import { errorPage } from './pages.js';
import { html, type SafeHtml } from './html.js';
import { layout, type Section, type Site } from './layout.js';
import type { Tr } from './i18n.js';

export function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(body);
}

/** Every successful POST ends with a 303 so a reload never re-posts. */
export function redirect303(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('Cache-Control', 'no-store').header('Location', location).send();
}

export type Form = Readonly<Record<string, unknown>>;

export function formOf(request: FastifyRequest): Form {
  return bodyObject(request);
}

/** A single-valued text field, trimmed ('' when absent; the first value when repeated). */
export function text(form: Form, name: string, max = 4000): string {
  const v = form[name];
  const s = typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
  return s.trim().slice(0, max);
}

/** Every value of a repeated field (checkbox lists). */
export function list(form: Form, name: string): string[] {
  const v = form[name];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

export function checked(form: Form, name: string): boolean {
  return list(form, name).length > 0;
}

/** The query string's single value for `name`, or ''. */
export function query(request: FastifyRequest, name: string, max = 500): string {
  const i = request.url.indexOf('?');
  if (i < 0) return '';
  return (new URLSearchParams(request.url.slice(i + 1)).get(name) ?? '').trim().slice(0, max);
}

export interface PageContext {
  readonly site: Site;
  readonly user: Account;
  readonly csrf: string;
}

/** The signed-in person, or null after answering: a sign-in redirect (GET) or a 403 page (POST without session). */
export async function requireViewer(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply): Promise<PageContext | null> {
  const session = await ctx.login.current(request);
  if (!session) {
    const back = request.method === 'GET' ? request.url : `${ctx.base}/developers`;
    await signInThenReturn(ctx, request, reply, back);
    return null;
  }
  return { site: ctx, user: session.account, csrf: csrfToken(ctx, request, reply) };
}

/** A signed-in administrator, or null after answering (sign-in redirect, or a 403 page). */
export async function requireAdmin(ctx: HttpContext, request: FastifyRequest, reply: FastifyReply): Promise<PageContext | null> {
  const pc = await requireViewer(ctx, request, reply);
  if (!pc) return null;
  if (!pc.user.isAdmin) {
    sendPage(reply, 403, errorPage(ctx, 'Administrators only', 'This page is only available to administrators.', 'forbidden', pc.user));
    return null;
  }
  return pc;
}

/** For POST handlers: true when the CSRF field matches; otherwise answers with a 403 page (in `tr`'s language). */
export function checkCsrf(site: Site, request: FastifyRequest, reply: FastifyReply, form: Form, tr?: Tr): boolean {
  if (csrfValid(request, form['csrf'])) return true;
  sendPage(reply, 403, errorPage(site, 'Request refused', 'The form has expired or was not sent by this site. Go back, reload the page and try again.', 'invalid_request', null, tr));
  return false;
}

export function notFoundPage(reply: FastifyReply, pc: PageContext, what = 'application'): FastifyReply {
  return sendPage(reply, 404, errorPage(pc.site, 'Not found', `There is no such ${what}, or it is not yours.`, 'not_found', pc.user));
}

/** The message of a validation error thrown by a service, for showing next to the form. */
export function errorMessage(err: unknown): string {
  if (err instanceof OAuthError && err.status < 500) return err.description;
  throw err;
}

/** A page of the signed-in area (English unless `tr` is given). */
export function shell(pc: PageContext, title: string | SafeHtml, section: Section, body: SafeHtml, scripts?: readonly string[], tr?: Tr): string {
  return layout(pc.site, title, body, { viewer: pc.user, csrf: pc.csrf, section, width: 'wide', ...(scripts ? { scripts } : {}), ...(tr ? { tr } : {}) });
}

/** Fixed confirmation messages after a 303, chosen by a code in `?done=` (never reflected text). */
const NOTICES: Readonly<Record<string, string>> = {
  updated: 'Changes saved.',
  deleted: 'The application was deleted.',
  activated: 'The application is active again.',
  deactivated: 'The application was deactivated: its tokens stop working at once.',
  blocked: 'The host is blocked: its applications were deactivated and no new document from it is accepted.',
  revoked: 'Access revoked: the application’s tokens no longer work.',
  user_created: 'User created.',
  profile_updated: 'Profile saved.',
  user_disabled: 'User disabled: their sessions ended and their tokens stopped working.',
  user_enabled: 'User enabled.',
  admin_granted: 'Administrator rights granted.',
  admin_removed: 'Administrator rights removed.',
  org_created: 'Organization created.',
  member_added: 'Membership saved.',
};

/** Notices shown on translated pages (the others are the back-office's and the portal's, in English). */
const TRANSLATED_NOTICES = { revoked: 'apps.revoked' } as const;

export function notice(request: FastifyRequest, tr?: Tr): SafeHtml | string {
  const code = query(request, 'done', 40);
  if (tr && Object.hasOwn(TRANSLATED_NOTICES, code)) return html`<p class="notice" role="status">${tr.t(TRANSLATED_NOTICES[code as keyof typeof TRANSLATED_NOTICES])}</p>`;
  // Own entries only: `?done=constructor` is no notice.
  const msg = Object.hasOwn(NOTICES, code) ? NOTICES[code] : undefined;
  return msg ? html`<p class="notice" role="status">${msg}</p>` : '';
}

export function formatDate(ms: number | null): string {
  if (ms === null) return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function statusBadge(active: boolean): SafeHtml {
  return active ? html`<span class="badge on">Active</span>` : html`<span class="badge off">Inactive</span>`;
}

/**
 * Which organizations a form offers (issue #15 §12): a list when there are few, otherwise a text
 * field taking a name or an id — never a `<select>` of every organization.
 */
export const ORG_LIST_MAX = 200;
export type OrgChoices = { readonly kind: 'list'; readonly orgs: readonly OrganizationRow[] } | { readonly kind: 'text' };

export async function orgChoicesOf(ctx: OAuthContext): Promise<OrgChoices> {
  const first = await ctx.storage.organizations.page({ limit: ORG_LIST_MAX });
  return first.next === null ? { kind: 'list', orgs: first.items } : { kind: 'text' };
}

/** An organization typed or picked in a form: its id, or else its exact name. */
export async function resolveOrg(ctx: OAuthContext, value: string): Promise<OrganizationRow | null> {
  if (value === '') return null;
  return (await ctx.storage.organizations.byId(value)) ?? (await ctx.storage.organizations.byName(value));
}

/** The organization field of a form: a `<select>` of `choices`, or a text field for a name or id. */
export function orgField(o: {
  readonly id: string;
  readonly name: string;
  readonly choices: OrgChoices;
  /** The chosen organization's id, and its name for the text field. */
  readonly selected: string;
  readonly selectedName?: string | null;
  /** The empty choice's label (omitted: a choice is required). */
  readonly emptyLabel?: string;
}): SafeHtml {
  if (o.choices.kind === 'text') {
    return html`<input id="${o.id}" name="${o.name}" type="text" maxlength="200" value="${o.selectedName ?? o.selected}" autocomplete="off"${o.emptyLabel === undefined ? html` required` : ''} aria-describedby="${o.id}-hint"><span class="hint" id="${o.id}-hint">The organization's name or id${o.emptyLabel === undefined ? '' : '; empty for none'}.</span>`;
  }
  return html`<select id="${o.id}" name="${o.name}"${o.emptyLabel === undefined ? html` required` : ''}>${o.emptyLabel !== undefined ? html`<option value="">${o.emptyLabel}</option>` : ''}${o.choices.orgs.map((org) => html`<option value="${org.id}"${org.id === o.selected ? html` selected` : ''}>${org.name}</option>`)}</select>`;
}
