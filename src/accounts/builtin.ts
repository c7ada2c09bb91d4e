/**
 * Built-in accounts: users stored in Tollgate's database (U1), with lockout after repeated
 * failures (O7). The lockout expires by itself (`lockoutSeconds`), so it can slow an attacker
 * but never lock a user out for good. People a host platform owns have rows here too (external,
 * no password; their profile is what the host said), so tokens and consents can refer to them.
 */
import type { UserAccountRow, UserRepo } from '../storage/types.js';
import type { Account, Accounts, HostAccount, HostAccounts, LoginResult } from './types.js';
import { dummyHash, verifyPassword } from './passwords.js';

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutSeconds: number;
}

export function toAccount(u: UserAccountRow): Account {
  const name = u.profile?.['name'];
  return { id: u.id, email: u.email, name: typeof name === 'string' ? name : null, isAdmin: u.isAdmin, disabled: u.disabled, external: u.external };
}

/** The claims of the standard scopes, from what Tollgate knows of a person. */
export function standardClaims(account: Account, profile: Readonly<Record<string, unknown>> | null, scopes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if ((scopes.includes('email') || scopes.includes('profile')) && account.email !== null) {
    out['email'] = account.email;
    const verified = profile?.['email_verified'];
    if (typeof verified === 'boolean') out['email_verified'] = verified;
  }
  if (scopes.includes('profile')) {
    // The rest of the profile (given_name, family_name, picture, locale, updated_at…), as kept.
    for (const [k, v] of Object.entries(profile ?? {})) {
      if (k !== 'email' && k !== 'email_verified' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = v;
    }
    if (account.name !== null) out['name'] = account.name;
  }
  return out;
}

export class BuiltinAccounts implements Accounts {
  readonly richClaims = false;

  constructor(
    private readonly users: UserRepo,
    private readonly policy: LockoutPolicy,
  ) {}

  async byId(id: string): Promise<Account | null> {
    const u = await this.users.account(id);
    return u ? toAccount(u) : null;
  }

  async byEmail(email: string): Promise<Account | null> {
    const u = await this.users.byEmail(email);
    return u ? toAccount(u) : null;
  }

  async login(email: string, password: string, now: number): Promise<LoginResult> {
    const user = await this.users.byEmail(email.trim());
    if (!user) {
      await verifyPassword(await dummyHash(), password);
      return { ok: false, reason: 'invalid' };
    }
    // Every outcome costs one full Argon2id verification — unknown email, wrong password, locked,
    // disabled or right — so timing says nothing about which emails exist (issue #15 §2).
    const ok = await verifyPassword(user.passwordHash, password);
    if (user.lockedUntil !== null && user.lockedUntil > now) {
      return { ok: false, reason: 'locked' };
    }
    if (!ok) {
      const failures = await this.users.recordLoginFailure(user.id, now);
      if (failures >= this.policy.maxFailures) {
        await this.users.setLockedUntil(user.id, now + this.policy.lockoutSeconds * 1000);
        await this.users.resetLoginFailures(user.id);
      }
      return { ok: false, reason: 'invalid' };
    }
    if (user.failedLogins > 0 || user.lockedUntil !== null) await this.users.resetLoginFailures(user.id);
    if (user.lockedUntil !== null) await this.users.setLockedUntil(user.id, null);
    if (user.disabled) return { ok: false, reason: 'disabled' };
    return { ok: true, account: toAccount(user) };
  }

  async claims(id: string, scopes: readonly string[]): Promise<Readonly<Record<string, unknown>>> {
    const u = await this.users.account(id);
    return u ? standardClaims(toAccount(u), u.profile, scopes) : {};
  }
}

/** The profile Tollgate keeps of a host's person: only what the host said. */
export function hostProfile(a: HostAccount, extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    ...extra,
    ...(a.email ? { email: a.email } : {}),
    ...(a.emailVerified !== undefined ? { email_verified: a.emailVerified } : {}),
    ...(a.name ? { name: a.name } : {}),
  };
}

/**
 * Embedded mode: the host owns the people. Lookups on the token path read Tollgate's row (kept in
 * step at every sign-in, cached against the epoch); claims come from the host when it gives them.
 * Nobody has a password here, so `login` (the password grant) never succeeds.
 */
export class HostBackedAccounts implements Accounts {
  private readonly local: BuiltinAccounts;
  readonly richClaims: boolean;

  constructor(
    private readonly users: UserRepo,
    private readonly host: HostAccounts,
    policy: LockoutPolicy,
  ) {
    this.local = new BuiltinAccounts(users, policy);
    this.richClaims = host.claims !== undefined;
  }

  byId(id: string): Promise<Account | null> {
    return this.local.byId(id);
  }

  byEmail(_email: string): Promise<Account | null> {
    return Promise.resolve(null);
  }

  async login(_email: string, password: string, _now: number): Promise<LoginResult> {
    // The same cost as a real verification, so timing says nothing either.
    await verifyPassword(await dummyHash(), password);
    return { ok: false, reason: 'invalid' };
  }

  async claims(id: string, scopes: readonly string[]): Promise<Readonly<Record<string, unknown>>> {
    if (this.host.claims) return { ...(await this.host.claims(id, scopes)) };
    return this.local.claims(id, scopes);
  }

  /** The host's current view of a person, written to Tollgate's row; null when the host does not know them. */
  async refresh(subject: string, now: number): Promise<Account | null> {
    const a = await this.host.byId(subject);
    if (!a || a.subject !== subject) return null;
    const ok = await this.users.upsertExternal({ id: subject, profile: hostProfile(a), isAdmin: a.isAdmin === true, disabled: a.disabled === true }, now);
    if (!ok) return null;
    return this.local.byId(subject);
  }
}
