/**
 * Issue #15 §2: every sign-in outcome costs the same. A locked account used to answer without
 * verifying the password (~3 ms against ~30 ms), which told an attacker that the email exists.
 * Here the Argon2id verification is counted: exactly one per attempt, whatever the outcome, for the
 * login form and the password grant alike (both go through `Accounts.login`).
 */
import { describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => ({ verify: 0 }));
vi.mock('../../src/accounts/passwords.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/accounts/passwords.js')>();
  return {
    ...real,
    verifyPassword: async (hashed: string, password: string) => {
      calls.verify += 1;
      return real.verifyPassword(hashed, password);
    },
  };
});

const { BuiltinAccounts } = await import('../../src/accounts/builtin.js');
const { hashPassword } = await import('../../src/accounts/passwords.js');
import type { UserRepo, UserRow } from '../../src/storage/types.js';

function repo(users: UserRow[]): UserRepo {
  const byEmail = (email: string) => users.find((u) => u.email === email.toLowerCase()) ?? null;
  const byId = (id: string) => users.find((u) => u.id === id) ?? null;
  const patch = (id: string, p: Partial<UserRow>) => {
    const i = users.findIndex((u) => u.id === id);
    if (i >= 0) users[i] = { ...(users[i] as UserRow), ...p };
  };
  return {
    create: async () => {},
    upsertExternal: async () => false,
    byId: async (id) => byId(id),
    account: async (id) => byId(id),
    byEmail: async (email) => byEmail(email),
    update: async () => true,
    recordLoginFailure: async (id) => {
      const u = byId(id);
      patch(id, { failedLogins: (u?.failedLogins ?? 0) + 1 });
      return (u?.failedLogins ?? 0) + 1;
    },
    setLockedUntil: async (id, until) => patch(id, { lockedUntil: until }),
    resetLoginFailures: async (id) => patch(id, { failedLogins: 0 }),
    addMembership: async () => {},
    memberships: async () => [],
    page: async () => ({ items: users, next: null }),
    count: async () => users.length,
    anyAdmin: async () => false,
    byIds: async () => [],
    membershipsOf: async () => [],
    membersOf: async () => ({ items: [], total: 0 }),
  };
}

describe('issue #15 §2: one Argon2id verification for every sign-in outcome', () => {
  it('unknown email, wrong password, locked account, disabled account and the right password each verify once', async () => {
    const hash = await hashPassword('right-password-1');
    const base = { passwordHash: hash, isAdmin: false, failedLogins: 0, createdAt: 0, external: false, profile: null };
    const now = Date.now();
    const users: UserRow[] = [
      { ...base, id: 'ok', email: 'ok@example.com', disabled: false, lockedUntil: null },
      { ...base, id: 'locked', email: 'locked@example.com', disabled: false, lockedUntil: now + 60_000 },
      { ...base, id: 'off', email: 'off@example.com', disabled: true, lockedUntil: null },
    ];
    const accounts = new BuiltinAccounts(repo(users), { maxFailures: 5, lockoutSeconds: 900 });
    const attempts: Array<[string, string, string]> = [
      ['nobody@example.com', 'whatever-password', 'invalid'],
      ['ok@example.com', 'wrong-password', 'invalid'],
      ['locked@example.com', 'right-password-1', 'locked'],
      ['locked@example.com', 'wrong-password', 'locked'],
      ['off@example.com', 'right-password-1', 'disabled'],
      ['ok@example.com', 'right-password-1', 'ok'],
    ];
    for (const [email, password, outcome] of attempts) {
      const before = calls.verify;
      const result = await accounts.login(email, password, now);
      expect(result.ok ? 'ok' : result.reason, email).toBe(outcome);
      expect(calls.verify - before, `${email} (${outcome})`).toBe(1);
    }
  });
});
