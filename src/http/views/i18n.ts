/**
 * Translation for the page templates: `tr.t(key, values)` is the message in the page's locale as
 * `SafeHtml`. Each value is escaped first, by the same renderer as every `html` template value
 * (a nested `SafeHtml` stays as it is), and only then handed to i18next, which inserts it without
 * escaping again. The messages themselves are ours (src/i18n/messages/).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { chooseLocale, DEFAULT_LOCALE, knownKey, message, scopeDescription, type Locale, type MessageKey } from '../../i18n/index.js';
import { fragment, SafeHtml, type Part } from './html.js';

export interface Tr {
  readonly locale: Locale;
  t(key: MessageKey, values?: Readonly<Record<string, Part>>): SafeHtml;
  /** A fixed English error title or explanation, translated; any other text as it is (escaped). */
  known(english: string): SafeHtml;
  scope(s: { readonly name: string; readonly description: string; readonly descriptions: Readonly<Record<string, string>> }): string;
}

const cache = new Map<Locale, Tr>();

export function translator(locale: Locale = DEFAULT_LOCALE): Tr {
  const existing = cache.get(locale);
  if (existing) return existing;
  const t = (key: MessageKey, values: Readonly<Record<string, Part>> = {}): SafeHtml =>
    new SafeHtml(message(locale, key, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fragment(v)]))));
  const tr: Tr = {
    locale,
    t,
    known(english) {
      const key = knownKey(english);
      return key === null ? new SafeHtml(fragment(english)) : t(key);
    },
    scope: (s) => scopeDescription(locale, s),
  };
  cache.set(locale, tr);
  return tr;
}

/** English: the admin back-office and anything not yet translated. */
export const ENGLISH: Tr = translator(DEFAULT_LOCALE);

/** Adds `Accept-Language` to the response's `Vary` header (once). */
function varyOnLanguage(reply: FastifyReply): void {
  const current = reply.getHeader('Vary');
  const list = (Array.isArray(current) ? current.join(',') : typeof current === 'string' ? current : '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.includes('*') || list.some((s) => s.toLowerCase() === 'accept-language')) return;
  reply.header('Vary', [...list, 'Accept-Language'].join(', '));
}

/**
 * The translator for a page: the request's `ui_locales` when given (an authorization or sign-out
 * request's, or the stored one of a waiting sign-in), then the browser's `Accept-Language`, then
 * English. Every such page answers `Vary: Accept-Language`.
 */
export function pageTr(request: FastifyRequest, reply: FastifyReply, uiLocales?: string | null): Tr {
  const header = request.headers['accept-language'];
  const choice = chooseLocale({ uiLocales: uiLocales ?? null, acceptLanguage: Array.isArray(header) ? header.join(',') : (header ?? null) });
  varyOnLanguage(reply);
  return translator(choice.locale);
}
