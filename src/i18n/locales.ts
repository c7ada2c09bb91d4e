/**
 * The languages of the pages for people (issue #12 item 8) and how one is chosen: the
 * authorization request's `ui_locales` (OpenID Connect Core §3.1.2.1, in the order given), then
 * the browser's `Accept-Language` (negotiated by `negotiator`), then English. A tag Tollgate does
 * not ship falls back to its language (`fr-CA` → `fr`). No Fastify here: the pages pass headers in.
 */
import Negotiator from 'negotiator';

/** The shipped locales, English first (the fallback). Also `ui_locales_supported` in the metadata. */
export const SUPPORTED_LOCALES = ['en', 'fr', 'de', 'es', 'it'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

export function isLocale(value: string): value is Locale {
  return (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** A BCP 47 language tag, syntactically (RFC 5646 §2.1, without the grandfathered irregulars). */
const TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

function negotiate(acceptLanguage: string): Locale | null {
  const best = new Negotiator({ headers: { 'accept-language': acceptLanguage } }).language([...SUPPORTED_LOCALES]);
  return best !== undefined && isLocale(best) ? best : null;
}

export interface LocaleChoice {
  readonly locale: Locale;
  /** Whether `Accept-Language` decided (the response then varies on it). */
  readonly byAcceptLanguage: boolean;
}

/**
 * The page's locale: the first `ui_locales` tag Tollgate can serve (each tag on its own, so the
 * order given wins), else the best match for `Accept-Language`, else English.
 */
export function chooseLocale(input: { readonly uiLocales?: string | null; readonly acceptLanguage?: string | null }): LocaleChoice {
  for (const tag of (input.uiLocales ?? '').split(' ').slice(0, 20)) {
    if (tag === '' || tag.length > 35 || !TAG.test(tag)) continue;
    const found = negotiate(tag);
    if (found !== null) return { locale: found, byAcceptLanguage: false };
  }
  const header = input.acceptLanguage;
  if (typeof header === 'string' && header.trim() !== '') {
    const found = negotiate(header.slice(0, 1000));
    if (found !== null) return { locale: found, byAcceptLanguage: true };
  }
  return { locale: DEFAULT_LOCALE, byAcceptLanguage: true };
}
