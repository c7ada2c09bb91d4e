/**
 * The message catalogues of the pages for people, behind one i18next instance. Lookups and
 * interpolation are i18next's; escaping is the page templates' (src/http/views/i18n.ts passes
 * values already escaped, so i18next runs with `escapeValue: false` and never escapes twice).
 * To add a locale: a catalogue under ./messages/ typed `Messages`, an entry below and in
 * SUPPORTED_LOCALES (./locales.ts), and `ui_locales_supported` in the OpenID Connect metadata.
 */
import i18next, { type i18n } from 'i18next';
import { en, type Messages } from './messages/en.js';
import { fr } from './messages/fr.js';
import { de } from './messages/de.js';
import { es } from './messages/es.js';
import { it } from './messages/it.js';
import { DEFAULT_LOCALE, SUPPORTED_LOCALES, type Locale } from './locales.js';

export { SUPPORTED_LOCALES, DEFAULT_LOCALE, chooseLocale, isLocale, type Locale, type LocaleChoice } from './locales.js';
export type { Messages } from './messages/en.js';

export const CATALOGUES: Readonly<Record<Locale, Messages>> = { en, fr, de, es, it };

type Paths<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Paths<T[K], `${P}${K}.`>;
}[keyof T & string];

/** Every message's key, e.g. `consent.allow`. */
export type MessageKey = Paths<Messages>;

let instance: i18n | null = null;

function messages(): i18n {
  if (instance !== null) return instance;
  const created = i18next.createInstance();
  void created.init({
    resources: Object.fromEntries(SUPPORTED_LOCALES.map((l) => [l, { translation: CATALOGUES[l] }])),
    lng: DEFAULT_LOCALE,
    fallbackLng: DEFAULT_LOCALE,
    supportedLngs: [...SUPPORTED_LOCALES],
    initAsync: false,
    nsSeparator: false,
    returnNull: false,
    // Values arrive escaped by the templates (src/http/views/i18n.ts); see the module comment.
    interpolation: { escapeValue: false },
  });
  instance = created;
  return created;
}

/** The message `key` in `locale` with `values` inserted as given (the caller escapes them). */
export function message(locale: Locale, key: MessageKey, values: Readonly<Record<string, string>> = {}): string {
  return messages().t(key, { lng: locale, replace: values });
}

const KNOWN = new Map<string, keyof Messages['known']>(
  (Object.entries(en.known) as Array<[keyof Messages['known'], string]>).map(([key, text]) => [text, key]),
);

/** The key of a fixed English error title or explanation, or null for free text. */
export function knownKey(english: string): MessageKey | null {
  const key = KNOWN.get(english);
  return key === undefined ? null : `known.${key}`;
}

const BUILTIN_SCOPES = new Map<string, keyof Messages['scopes']>(
  (Object.keys(en.scopes) as Array<keyof Messages['scopes']>).map((name) => [name, name]),
);

/**
 * What the consent and connected-applications pages say for a scope in `locale`: the scope's own
 * description for that locale, else — for a built-in scope that kept its English description —
 * the shipped translation, else its default description.
 */
export function scopeDescription(locale: Locale, scope: { readonly name: string; readonly description: string; readonly descriptions: Readonly<Record<string, string>> }): string {
  const own = scope.descriptions[locale];
  if (own !== undefined && own !== '') return own;
  const builtin = BUILTIN_SCOPES.get(scope.name);
  if (builtin !== undefined && en.scopes[builtin] === scope.description) return CATALOGUES[locale].scopes[builtin];
  return scope.description;
}
