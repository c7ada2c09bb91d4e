/**
 * How the protocol core finds people and what it may say about them (docs/design.md habit 13).
 * The built-in store (./builtin.ts) keeps users in Tollgate's database with passwords; a platform
 * that already has users gives its own `HostAccounts` (embedded mode), and Tollgate keeps only a
 * row keyed by the host's subject id for its consents, tokens and audit records.
 */
export interface Account {
  readonly id: string;
  /** The built-in sign-in email, or the email the host gave (null when none). */
  readonly email: string | null;
  readonly name: string | null;
  readonly isAdmin: boolean;
  readonly disabled: boolean;
  /** Owned by the host platform (no password here). */
  readonly external: boolean;
}

/** How to show a person: their name or email, else their id. */
export function accountLabel(a: Pick<Account, 'id' | 'email' | 'name'>): string {
  return a.email ?? a.name ?? a.id;
}

export type LoginResult =
  | { readonly ok: true; readonly account: Account }
  /** One reason for unknown email and wrong password alike; `locked` when the account is locked out. */
  | { readonly ok: false; readonly reason: 'invalid' | 'locked' | 'disabled' };

export interface Accounts {
  byId(id: string): Promise<Account | null>;
  byEmail(email: string): Promise<Account | null>;
  /** Verifies a password with lockout accounting. Never reveals whether the email exists. */
  login(email: string, password: string, now: number): Promise<LoginResult>;
  /**
   * What may be said about a person for these scopes (`/api/me`, the consent page and, with
   * OpenID Connect, the ID token): `email` for `email` or `profile`, `name` for `profile`, plus
   * whatever the host adds.
   */
  claims(id: string, scopes: readonly string[]): Promise<Readonly<Record<string, unknown>>>;
  /** Whether `claims` may say more than the email (the host gives its own claims); false skips the call on the token path. */
  readonly richClaims: boolean;
}

/** A person as the host platform describes them (embedded mode). */
export interface HostAccount {
  /** The host's stable id for the person; Tollgate's `sub`. */
  readonly subject: string;
  readonly email?: string | null;
  readonly emailVerified?: boolean;
  readonly name?: string | null;
  /** An administrator of Tollgate's back-office. */
  readonly isAdmin?: boolean;
  /** A disabled person is signed in nowhere and their tokens stop working. */
  readonly disabled?: boolean;
}

/** The host's accounts (option `accounts` of createTollgate). */
export interface HostAccounts {
  byId(subject: string): Promise<HostAccount | null> | HostAccount | null;
  /** Claims for these scopes; default: email and name from `byId`. */
  claims?(subject: string, scopes: readonly string[]): Promise<Readonly<Record<string, unknown>>> | Readonly<Record<string, unknown>>;
}
