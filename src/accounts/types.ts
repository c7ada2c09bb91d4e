/**
 * The Accounts interface: how the protocol core finds and authenticates people. The built-in
 * store (./builtin.ts) keeps users in Tollgate's database; a platform that already has users
 * plugs in its own implementation (SPEC "Embedded").
 */
export interface Account {
  readonly id: string;
  readonly email: string;
  readonly isAdmin: boolean;
  readonly disabled: boolean;
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
}
