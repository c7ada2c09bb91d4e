/**
 * Pages in the person's language (issue #12 item 8), over HTTP: the authorization request's
 * `ui_locales` (kept across the sign-in detour), then `Accept-Language`, then English; region
 * tags fall back to their language; `<html lang>` and `Vary: Accept-Language`; scope
 * descriptions per locale; escaping in every language; `ui_locales_supported`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, DEFAULT_PASSWORD, authorize, hiddenField, type TestServer, startTestServer } from '../helpers/server.js';
import { createScope } from '../../src/services/directory.js';
import { BUILTIN_SCOPES } from '../../src/services/bootstrap.js';
import { openIdConnectFeature } from '../../src/features/oidc/feature.js';
import { CATALOGUES, SUPPORTED_LOCALES, chooseLocale } from '../../src/i18n/index.js';
import { en } from '../../src/i18n/messages/en.js';

const NB = '\u00a0';
const REDIRECT = 'https://shop.example/cb';
const CHALLENGE = 'c'.repeat(43);

let s: TestServer;
let clientId = '';
let evilId = '';

function authorizeUrl(client: string, extra: Record<string, string> = {}, scope = 'profile orders:read'): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client,
    redirect_uri: REDIRECT,
    scope,
    state: 'st',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    ...extra,
  });
  return `/oauth/authorize?${q.toString()}`;
}

/** A browser signed in as `email`, sending `acceptLanguage` (or none) with every request. */
class LangBrowser extends Browser {
  constructor(
    base: string,
    private readonly acceptLanguage: string | null,
  ) {
    super(base);
  }

  override async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.acceptLanguage !== null) headers.set('accept-language', this.acceptLanguage);
    return super.fetch(path, { ...init, headers });
  }
}

async function signedIn(email: string, acceptLanguage: string | null): Promise<LangBrowser> {
  const b = new LangBrowser(s.url, acceptLanguage);
  expect((await b.login(email, DEFAULT_PASSWORD)).status).toBe(303);
  return b;
}

/** The consent page for a fresh person (so no remembered consent skips it). */
let people = 0;
async function consentPage(acceptLanguage: string | null, extra: Record<string, string> = {}, client = clientId, scope?: string): Promise<{ res: Response; body: string }> {
  people += 1;
  const email = `person${people}@example.com`;
  await s.createUser(email);
  const b = await signedIn(email, acceptLanguage);
  const res = await b.fetch(authorizeUrl(client, extra, scope));
  return { res, body: await res.text() };
}

function lang(body: string): string | undefined {
  return /<html lang="([^"]*)">/.exec(body)?.[1];
}

beforeAll(async () => {
  s = await startTestServer();
  await createScope(s.ctx, {
    name: 'orders:read',
    description: 'See your orders',
    descriptions: { fr: 'Voir vos commandes', it: 'Vedere i tuoi ordini' },
  });
  await createScope(s.ctx, {
    name: 'evil:scope',
    description: 'Default <script>alert("en")</script>',
    descriptions: {
      fr: 'Français <script>alert("fr")</script>',
      de: 'Deutsch <script>alert("de")</script>',
      es: 'Español <script>alert("es")</script>',
      it: 'Italiano <img src=x onerror=alert("it")>',
    },
  });
  const app = await s.createApp({ name: 'Photo Shop', redirectUris: [REDIRECT], scopes: ['profile', 'orders:read'] });
  clientId = app.client.clientId;
  const evil = await s.createApp({
    name: '<script>alert("app")</script> {{brand}} $t(consent.allow)',
    redirectUris: [REDIRECT],
    scopes: ['profile', 'evil:scope'],
  });
  evilId = evil.client.clientId;
});
afterAll(async () => s?.close());

describe('pages in the person\'s language', () => {
  it('ui_locales=fr on an authorization request: French sign-in page (kept across the detour), French consent page', async () => {
    const b = new LangBrowser(s.url, 'de');
    await s.createUser('francoise@example.com');
    const start = await b.fetch(authorizeUrl(clientId, { ui_locales: 'fr' }));
    expect(start.status).toBe(303);
    const loginAt = start.headers.get('location') ?? '';
    expect(loginAt).toMatch(/^\/login\?return_to=%2Foauth%2Fauthorize%2Fresume%3Finteraction%3Dtgl_/);
    // The sign-in page's URL says nothing of the language: it comes from the stored request.
    expect(loginAt).not.toContain('ui_locales');

    const login = await b.fetch(loginAt);
    expect(login.status).toBe(200);
    expect(login.headers.get('vary')).toContain('Accept-Language');
    const page = await login.text();
    expect(lang(page)).toBe('fr');
    expect(page).toContain('<title>Connexion · Tollgate</title>');
    expect(page).toContain('<h1>Se connecter à Tollgate</h1>');
    expect(page).toContain('<label for="username">Adresse e-mail</label>');
    expect(page).toContain('<label for="password">Mot de passe</label>');
    expect(page).toContain('<button type="submit">Se connecter</button>');
    expect(page).toContain('<p class="muted">Une fois connecté, vous reviendrez à l’application qui vous a envoyé ici.</p>');
    expect(page).toContain('<a class="skip" href="#content">Aller au contenu</a>');

    const returnTo = hiddenField(page, 'return_to');
    const csrf = hiddenField(page, 'csrf');
    // A wrong password: the same page again, still in French.
    const wrong = await b.postForm('/login', [['csrf', csrf], ['return_to', returnTo], ['username', 'francoise@example.com'], ['password', 'wrong-password']]);
    expect(wrong.status).toBe(401);
    const wrongPage = await wrong.text();
    expect(lang(wrongPage)).toBe('fr');
    expect(wrongPage).toContain('<p class="error" role="alert">Adresse e-mail ou mot de passe incorrect, ou trop de tentatives. Réessayez plus tard.</p>');

    const signed = await b.postForm('/login', [['csrf', hiddenField(wrongPage, 'csrf')], ['return_to', returnTo], ['username', 'francoise@example.com'], ['password', DEFAULT_PASSWORD]]);
    expect(signed.status).toBe(303);
    expect(signed.headers.get('location')).toBe(returnTo);
    const consent = await b.fetch(returnTo);
    expect(consent.status).toBe(200);
    expect(consent.headers.get('vary')).toContain('Accept-Language');
    const body = await consent.text();
    expect(lang(body)).toBe('fr');
    expect(body).toContain('<title>Autoriser · Tollgate</title>');
    expect(body).toContain('<h1>Photo Shop souhaite accéder à votre compte</h1>');
    expect(body).toContain('<li>Vous serez redirigé vers <strong>shop.example</strong></li>');
    expect(body).toContain('<p class="muted">Connecté en tant que francoise@example.com. <a href="/logout">Ce n’est pas vous' + NB + '?</a></p>');
    expect(body).toContain('<legend>Elle pourra' + NB + ':</legend>');
    expect(body).toContain('<p class="hint">Décochez ce que vous ne souhaitez pas partager.</p>');
    // Per-locale description, and the built-in scope's shipped translation.
    expect(body).toContain('<span>Voir vos commandes <code>orders:read</code></span>');
    expect(body).toContain('<span>Voir votre profil de base (votre identifiant et votre adresse e-mail) <code>profile</code></span>');
    expect(body).toContain('<button type="submit" name="decision" value="allow">Autoriser</button>');
    expect(body).toContain('<button type="submit" name="decision" value="deny" class="secondary">Refuser</button>');
    expect(body).toContain('<p class="muted"><small>Vous pouvez révoquer cet accès à tout moment dans Applications connectées.</small></p>');

    // The consent form still works (the request it carries keeps ui_locales).
    const request = hiddenField(body, 'authorization_request');
    expect(new URLSearchParams(request).get('ui_locales')).toBe('fr');
    const decided = await b.postForm('/oauth/authorize', [['csrf', hiddenField(body, 'csrf')], ['authorization_request', request], ['scope', 'profile'], ['decision', 'allow']]);
    expect(decided.status).toBe(303);
    expect(decided.headers.get('location')).toMatch(/^https:\/\/shop\.example\/cb\?code=tgo_/);
  });

  it('Accept-Language: de gives a German consent page', async () => {
    const { res, body } = await consentPage('de-DE,de;q=0.9,en;q=0.5');
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toContain('Accept-Language');
    expect(lang(body)).toBe('de');
    expect(body).toContain('<title>Autorisieren · Tollgate</title>');
    expect(body).toContain('<h1>Photo Shop möchte auf Ihr Konto zugreifen</h1>');
    expect(body).toContain('<legend>Die Anwendung darf dann:</legend>');
    expect(body).toContain('<button type="submit" name="decision" value="allow">Erlauben</button>');
    expect(body).toContain('<button type="submit" name="decision" value="deny" class="secondary">Ablehnen</button>');
    // No German description of its own: the default one.
    expect(body).toContain('<span>See your orders <code>orders:read</code></span>');
    expect(body).toContain('<span>Ihr Basisprofil sehen (Ihre Benutzerkennung und E-Mail-Adresse) <code>profile</code></span>');
  });

  it('ui_locales wins over Accept-Language', async () => {
    const { res, body } = await consentPage('de', { ui_locales: 'it' });
    expect(res.status).toBe(200);
    expect(lang(body)).toBe('it');
    expect(body).toContain('<h1>Photo Shop vuole accedere al tuo account</h1>');
    expect(body).toContain('<span>Vedere i tuoi ordini <code>orders:read</code></span>');
    expect(body).toContain('<button type="submit" name="decision" value="allow">Consenti</button>');
  });

  it('an unsupported locale falls back to Accept-Language, and then to English', async () => {
    const toGerman = await consentPage('de', { ui_locales: 'ja zh-Hant' });
    expect(lang(toGerman.body)).toBe('de');
    const english = await consentPage('ja, zh;q=0.8', { ui_locales: 'ko' });
    expect(english.res.status).toBe(200);
    expect(lang(english.body)).toBe('en');
    expect(english.body).toContain('<title>Authorize · Tollgate</title>');
    expect(english.body).toContain('<h1>Photo Shop wants to access your account</h1>');
    expect(english.body).toContain('<legend>It will be able to:</legend>');
    expect(english.body).toContain('<span>See your basic profile (your user id and email address) <code>profile</code></span>');
    expect(english.body).toContain('<button type="submit" name="decision" value="allow">Allow</button>');
    // Nothing at all: English.
    const plain = await consentPage(null);
    expect(lang(plain.body)).toBe('en');
    // A malformed list is ignored, not an error.
    const junk = await consentPage(null, { ui_locales: 'fr;q=1 <x> ' + 'a'.repeat(60) });
    expect(junk.res.status).toBe(200);
    expect(lang(junk.body)).toBe('en');
  });

  it('region tags fall back to their language (fr-CA → fr, es-419 → es); ui_locales keeps its order', async () => {
    expect(lang((await consentPage(null, { ui_locales: 'fr-CA' })).body)).toBe('fr');
    expect(lang((await consentPage('es-419')).body)).toBe('es');
    expect(lang((await consentPage('de', { ui_locales: 'pt-BR es-MX fr' })).body)).toBe('es');
    const spanish = await consentPage('es-MX');
    expect(spanish.body).toContain('<h1>Photo Shop quiere acceder a tu cuenta</h1>');
    expect(spanish.body).toContain('<button type="submit" name="decision" value="deny" class="secondary">Denegar</button>');
    // The choice itself (negotiator underneath).
    expect(chooseLocale({ uiLocales: 'it-CH de', acceptLanguage: 'fr' })).toEqual({ locale: 'it', byAcceptLanguage: false });
    expect(chooseLocale({ uiLocales: null, acceptLanguage: 'fr-CA;q=0.5, de-AT;q=0.9' })).toEqual({ locale: 'de', byAcceptLanguage: true });
    expect(chooseLocale({ uiLocales: '', acceptLanguage: '' })).toEqual({ locale: 'en', byAcceptLanguage: true });
  });

  it('escapes an application name and scope descriptions containing markup, in every language', async () => {
    for (const locale of SUPPORTED_LOCALES) {
      const { res, body } = await consentPage(null, { ui_locales: locale }, evilId, 'profile evil:scope');
      expect(res.status, locale).toBe(200);
      expect(lang(body), locale).toBe(locale);
      expect(body, locale).not.toMatch(/<script>alert|<img src=x/);
      expect(body, locale).toContain('&lt;script&gt;alert(&quot;app&quot;)&lt;/script&gt; {{brand}} $t(consent.allow)');
      const description =
        locale === 'en'
          ? 'Default &lt;script&gt;alert(&quot;en&quot;)&lt;/script&gt;'
          : locale === 'it'
            ? 'Italiano &lt;img src=x onerror=alert(&quot;it&quot;)&gt;'
            : `${{ fr: 'Français', de: 'Deutsch', es: 'Español' }[locale]} &lt;script&gt;alert(&quot;${locale}&quot;)&lt;/script&gt;`;
      expect(body, locale).toContain(`<span>${description} <code>evil:scope</code></span>`);
    }
  });

  it('error pages: the explanation in the person\'s language, the error code as it is', async () => {
    const english = await new LangBrowser(s.url, null).fetch(authorizeUrl('tgc_unknown'));
    expect(english.status).toBe(400);
    const englishBody = await english.text();
    const code = /<p class="muted">Error code: ([a-z_]+)<\/p>/.exec(englishBody)?.[1] ?? '';
    expect(code).not.toBe('');
    expect(englishBody).toContain('<h1>This authorization request is not valid</h1>');

    const spanish = await new LangBrowser(s.url, 'de').fetch(authorizeUrl('tgc_unknown', { ui_locales: 'es' }));
    expect(spanish.status).toBe(400);
    const body = await spanish.text();
    expect(lang(body)).toBe('es');
    expect(body).toContain('<h1>Esta solicitud de autorización no es válida</h1>');
    expect(body).toContain(`<p class="muted">Código de error: ${code}</p>`);
    expect(body).toContain('<a href="/">Volver a Tollgate</a>');

    // A sign-in link opened in another browser: a fixed explanation, translated.
    const a = new LangBrowser(s.url, null);
    const start = await a.fetch(authorizeUrl(clientId));
    const returnTo = new URLSearchParams((start.headers.get('location') ?? '').split('?')[1]).get('return_to') ?? '';
    const other = await new LangBrowser(s.url, 'it').fetch(returnTo);
    expect(other.status).toBe(403);
    const otherBody = await other.text();
    expect(otherBody).toContain('<h1>Questo accesso è stato avviato in un altro browser</h1>');
    expect(otherBody).toContain('Per la tua sicurezza può essere completato solo nel browser in cui è iniziato.');

    // The form guard on the consent form.
    const refused = await new LangBrowser(s.url, 'fr').postForm('/oauth/authorize', [['authorization_request', authorizeUrl(clientId).split('?')[1] ?? ''], ['csrf', 'x'], ['decision', 'allow']]);
    expect(refused.status).toBe(403);
    const refusedBody = await refused.text();
    expect(refusedBody).toContain('<h1>Demande refusée</h1>');
    expect(refusedBody).toContain('<p class="error" role="alert">Le formulaire a expiré ou n’a pas été envoyé par ce site. Revenez en arrière et réessayez.</p>');
    expect(refusedBody).toContain('<p class="muted">Code d’erreur' + NB + ': invalid_request</p>');
  });

  it('sign-out pages: /logout by Accept-Language, RP-initiated logout by ui_locales', async () => {
    await s.createUser('ilse@example.com');
    const b = await signedIn('ilse@example.com', 'de');
    const logout = await b.fetch('/logout');
    expect(logout.status).toBe(200);
    expect(logout.headers.get('vary')).toContain('Accept-Language');
    const page = await logout.text();
    expect(lang(page)).toBe('de');
    expect(page).toContain('<h1>Abmelden</h1>');
    expect(page).toContain('<p>Sie sind angemeldet als ilse@example.com.</p>');
    expect(page).toContain('<button type="submit">Abmelden</button><a class="button secondary" href="/developers">Angemeldet bleiben</a>');

    // RP-initiated logout without a hint: the person confirms, in the request's language.
    const confirm = await b.fetch(`/oauth/logout?client_id=${clientId}&ui_locales=es`);
    expect(confirm.status).toBe(200);
    const confirmPage = await confirm.text();
    expect(lang(confirmPage)).toBe('es');
    expect(confirmPage).toContain('<p><strong>Photo Shop</strong> pide cerrar tu sesión en Tollgate.</p>');
    expect(confirmPage).toContain('<p>Has iniciado sesión como ilse@example.com.</p>');
    expect(confirmPage).toContain('<input type="hidden" name="ui_locales" value="es">');
    const out = await b.postForm('/oauth/logout', [['csrf', hiddenField(confirmPage, 'csrf')], ['client_id', clientId], ['ui_locales', 'es'], ['confirm', 'yes']]);
    expect(out.status).toBe(200);
    const outPage = await out.text();
    expect(lang(outPage)).toBe('es');
    expect(outPage).toContain('<div class="card"><h1>Has cerrado sesión</h1><p>Puedes cerrar esta página.</p></div>');
    const english = await new LangBrowser(s.url, null).fetch('/oauth/logout');
    expect(english.status).toBe(200);
    expect(await english.text()).toContain('<div class="card"><h1>You are signed out</h1><p>You may close this page.</p></div>');
  });

  it('connected applications follow Accept-Language, with the scopes\' descriptions in that language', async () => {
    await s.createUser('italo@example.com');
    const b = await signedIn('italo@example.com', 'it-IT,it;q=0.9');
    expect((await authorize(b, authorizeUrl(clientId))).status).toBe(303);
    const res = await b.fetch('/account/apps');
    expect(res.status).toBe(200);
    expect(res.headers.get('vary')).toContain('Accept-Language');
    const page = await res.text();
    expect(lang(page)).toBe('it');
    expect(page).toContain('<title>Applicazioni collegate · Tollgate</title>');
    expect(page).toContain('<h1>Applicazioni collegate</h1>');
    expect(page).toContain('<li>Vedere i tuoi ordini <code>orders:read</code></li>');
    expect(page).toContain('<li>Vedere il tuo profilo di base (il tuo ID utente e il tuo indirizzo email) <code>profile</code></li>');
    expect(page).toContain('<dt>Ultimo utilizzo</dt>');
    expect(page).toContain('aria-label="Revoca l’accesso a Photo Shop">Revoca accesso</button>');
    const csrf = hiddenField(page, 'csrf');
    const ask = await b.postForm(`/account/apps/${clientId}/revoke`, [['csrf', csrf]]);
    expect(ask.status).toBe(200);
    const askPage = await ask.text();
    expect(askPage).toContain('<h1>Revocare l’accesso a Photo Shop?</h1>');
    expect(askPage).toContain('<a href="/account/apps">Annulla</a>');
    const done = await b.postForm(`/account/apps/${clientId}/revoke`, [['csrf', csrf], ['confirm', 'yes']]);
    expect(done.status).toBe(303);
    const after = await (await b.fetch(done.headers.get('location') ?? '')).text();
    expect(after).toContain('<p class="notice" role="status">Accesso revocato: i token dell’applicazione non funzionano più.</p>');
    expect(after).toContain('<p>Non hai autorizzato nessuna applicazione.</p>');
  });

  it('unknown pages answer in the browser\'s language', async () => {
    const res = await fetch(`${s.url}/no-such-page`, { headers: { accept: 'text/html', 'accept-language': 'fr' } });
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(lang(body)).toBe('fr');
    expect(body).toContain('<h1>Introuvable</h1><p class="error" role="alert">Il n’y a aucune page à cette adresse.</p>');
  });

  it('discovery lists the shipped locales as ui_locales_supported', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const doc = (await (await fetch(`${s.url}${path}`)).json()) as Record<string, unknown>;
      expect(doc['ui_locales_supported'], path).toEqual([...SUPPORTED_LOCALES]);
    }
  });

  it('the catalogues: every locale has every message, and the built-in scopes\' English is the one they are created with', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [`${p}${k}`] : keys(v as object, `${p}${k}.`)));
    for (const locale of SUPPORTED_LOCALES) {
      expect(keys(CATALOGUES[locale]), locale).toEqual(keys(en));
      for (const k of keys(CATALOGUES[locale])) {
        const text = k.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], CATALOGUES[locale]);
        expect(typeof text === 'string' && text.trim() !== '', `${locale} ${k}`).toBe(true);
      }
    }
    const builtin = [...BUILTIN_SCOPES, ...(openIdConnectFeature.personScopes ?? [])];
    expect(Object.fromEntries(builtin.map((b) => [b.name, b.description]))).toEqual({ ...en.scopes });
  });
});
