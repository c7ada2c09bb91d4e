/**
 * English, the reference catalogue: every other locale has exactly these keys (the type checker
 * says so). Messages are HTML fragments written by us; `{{name}}` values are escaped by the page
 * templates before i18next inserts them (src/http/views/i18n.ts). English must stay the exact
 * text the pages always had.
 */
export const en = {
  layout: {
    skip: 'Skip to content',
    nav: 'Main',
    developers: 'Developers',
    connectedApps: 'Connected applications',
    admin: 'Admin',
    signOut: 'Sign out',
  },
  login: {
    title: 'Sign in',
    heading: 'Sign in to {{brand}}',
    email: 'Email',
    password: 'Password',
    submit: 'Sign in',
    returning: 'After signing in you will return to the application that sent you here.',
    expired: 'The form has expired. Please sign in again.',
    invalid: 'Invalid email or password, or too many attempts. Try again later.',
  },
  consent: {
    title: 'Authorize',
    heading: '{{app}} wants to access your account',
    unverified: 'This application registered itself: {{brand}} has not verified who runs it. Continue only if you trust it.',
    documentAt: 'This application identifies itself with a document published at <strong>{{host}}</strong>. {{brand}} has not verified who runs it: continue only if you trust {{host}}.',
    localOnly: 'Every address this application returns to is on your own computer (localhost): any program running on it could claim to be {{host}}. Continue only if you started this application yourself.',
    sentTo: 'You will be sent to <strong>{{host}}</strong>',
    website: 'Website: {{url}}',
    publishedBy: 'Published by {{org}}',
    registeredBy: 'Registered by {{who}}',
    signedInAs: 'Signed in as {{email}}.',
    notYou: 'Not you?',
    ableTo: 'It will be able to:',
    untick: 'Untick anything you do not want to share.',
    nothing: 'It asks for no specific permission.',
    allow: 'Allow',
    deny: 'Deny',
    revokeLater: 'You can revoke this access at any time under Connected applications.',
  },
  device: {
    title: 'Connect a device',
    heading: 'Connect a device',
    help: 'Enter the code shown on your device (a TV, a command-line tool, an assistant…).',
    code: 'Code',
    codeHint: 'Eight letters, like WDJB-MJHT. Capitals and the dash are optional.',
    next: 'Continue',
    malformed: 'That is not a device code: it has eight letters, like WDJB-MJHT. Check it and try again.',
    unknown: 'No device is waiting for this code. Check it and try again.',
    expired: 'This code has expired. Start again on your device to get a new one.',
    answered: 'This code has already been used. Start again on your device if it is not connected.',
    confirmTitle: 'Connect {{app}}',
    codeIs: 'Code shown on the device: <strong class="user-code">{{code}}</strong>',
    checkCode: 'Check that this is exactly the code on your device.',
    warning: 'Only continue if you started this yourself, on your own device. If someone sent you this code or link, choose Deny: allowing would give them access to your account.',
    doneTitle: 'Device connected',
    doneHeading: 'You may return to your device',
    doneBody: '{{app}} now has the access you allowed. You can close this page.',
    deniedTitle: 'Access denied',
    deniedHeading: 'The device was not connected',
    deniedBody: '{{app}} was not given access to your account. You can close this page.',
  },
  error: {
    code: 'Error code: {{code}}',
    back: 'Back to {{brand}}',
  },
  logout: {
    title: 'Sign out',
    heading: 'Sign out',
    appAsks: '<strong>{{app}}</strong> asks to sign you out of {{brand}}.',
    someAppAsks: 'An application asks to sign you out of {{brand}}.',
    signedInAs: 'You are signed in as {{email}}.',
    notSignedIn: 'You are not signed in.',
    hostManaged: 'You sign in and out on {{brand}} itself; signing out there ends your session here too.',
    submit: 'Sign out',
    stay: 'Stay signed in',
    signedOutTitle: 'Signed out',
    signedOutHeading: 'You are signed out',
    closePage: 'You may close this page.',
  },
  apps: {
    title: 'Connected applications',
    intro: 'Applications you allowed to access your account. Revoking one stops its access at once; it will have to ask you again.',
    signOutEverywhere: 'Sign out everywhere',
    signOutEverywhereHint: 'Ends your sign-in in every browser, this one included. Applications keep the access you gave them.',
    none: 'You have not authorized any application.',
    by: 'by {{org}}',
    inactive: 'Inactive',
    canDo: 'It can:',
    noPermission: 'No specific permission',
    granted: 'Granted',
    updated: 'Updated',
    lastUsed: 'Last used',
    never: 'Never',
    revoke: 'Revoke access',
    revokeFor: 'Revoke access for {{app}}',
    revokeQuestion: 'Revoke access for {{app}}?',
    revokeWarning: 'It loses access to your account at once: every token it holds for you stops working, and it will have to ask you again.',
    cancel: 'Cancel',
    revoked: 'Access revoked: the application’s tokens no longer work.',
  },
  /**
   * Titles and explanations of error pages that come from a fixed set (the protocol core, the
   * sign-in drivers, the request guards): a page shows the translation of the English text it
   * was given when that text is one of these; any other text is shown as it is.
   */
  known: {
    invalidAuthorization: 'This authorization request is not valid',
    invalidSignOut: 'This sign-out request is not valid',
    refused: 'Request refused',
    formExpiredBack: 'The form has expired or was not sent by this site. Go back and try again.',
    formExpiredReload: 'The form has expired or was not sent by this site. Go back, reload the page and try again.',
    formExpired: 'The form has expired.',
    platformSignIn: 'Sign in on the platform',
    platformSignInMessage: 'People sign in on the platform’s own page here, not with a Tollgate password.',
    notSignedIn: 'You could not be signed in',
    notRenewed: 'The sign-in was not renewed',
    notRenewedMessage: 'The application asked you to sign in again, but the sign-in page reported your earlier sign-in. Go back to the application and try again.',
    linkExpired: 'This sign-in link has expired',
    linkExpiredMessage: 'It was already used, or it is too old. Go back to the application and start again.',
    otherBrowser: 'This sign-in was started in another browser',
    otherBrowserMessage: 'For your safety it can only be completed in the browser where it began. Go back to the application and start again here.',
    youAreNotSignedIn: 'You are not signed in',
    signInIncomplete: 'The sign-in did not complete. Go back to the application and try again.',
    notFinished: 'The sign-in is not finished',
    notFinishedMessage: 'The platform has not confirmed this sign-in. Go back to the application and start again.',
    reservedAccount: 'This account cannot sign in here',
    reservedAccountMessage: 'The platform named an account that Tollgate keeps for itself.',
    notFound: 'Not found',
    noPage: 'There is no page at this address.',
    notCompleted: 'The request could not be completed',
    wentWrong: 'Something went wrong',
  },
  /**
   * The built-in scopes' descriptions (src/services/bootstrap.ts, the OpenID Connect feature):
   * shown translated while a scope keeps its built-in English description and has none of its
   * own for the locale.
   */
  scopes: {
    profile: 'See your basic profile (your user id and email address)',
    email: 'See your email address',
    admin: 'Administer Tollgate: manage applications, users and keys',
    login: 'Answer sign-in requests for the platform (delegated login; applications only, given by an administrator)',
    openid: 'Sign you in with your account (confirms who you are to the application)',
    offline_access: 'Keep access while you are not using the application',
  },
} as const;

type Widen<T> = { readonly [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };

/** The shape every locale's catalogue has. */
export type Messages = Widen<typeof en>;
