/**
 * Built-in accounts: users stored in Tollgate's database (U1), with lockout after repeated
 * failures (O7). The lockout expires by itself (`lockoutSeconds`), so it can slow an attacker
 * but never lock a user out for good.
 */
import type { UserAccountRow, UserRepo } from '../storage/types.js';
import type { Account, Accounts, LoginResult } from './types.js';
import { dummyHash, verifyPassword } from './passwords.js';

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutSeconds: number;
}

export function toAccount(u: UserAccountRow): Account {
  return { id: u.id, email: u.email, isAdmin: u.isAdmin, disabled: u.disabled };
}

export class BuiltinAccounts implements Accounts {
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
    if (user.lockedUntil !== null && user.lockedUntil > now) {
      return { ok: false, reason: 'locked' };
    }
    const ok = await verifyPassword(user.passwordHash, password);
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
}
