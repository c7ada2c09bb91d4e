/**
 * UserRepo on Kysely: accounts, login-failure counters and organization memberships.
 * Emails are stored lower-cased, so `byEmail` is case-insensitive on both dialects.
 */
import type { Selectable } from 'kysely';
import type { MembershipRow, UserAccountRow, UserRepo, UserRow } from '../../types.js';
import type { UsersTable } from '../schema.js';
import { affected, fromIntBool, toIntBool, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function normalizeEmail(email: string): string {
  return email.toLowerCase();
}

function toRow(row: Selectable<UsersTable>): UserRow {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    isAdmin: fromIntBool(row.is_admin),
    disabled: fromIntBool(row.disabled),
    failedLogins: row.failed_logins,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}

export class KyselyUserRepo implements UserRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  async create(user: UserRow): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: normalizeEmail(user.email),
        password_hash: user.passwordHash,
        is_admin: toIntBool(user.isAdmin),
        disabled: toIntBool(user.disabled),
        failed_logins: user.failedLogins,
        locked_until: user.lockedUntil,
        created_at: user.createdAt,
      })
      .execute();
  }

  async byId(id: string): Promise<UserRow | null> {
    if (this.hot?.raw.available) {
      const raw = await this.hot.raw.user(id);
      return raw ? toRow(raw) : null;
    }
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async account(id: string): Promise<UserAccountRow | null> {
    const load = async (): Promise<UserAccountRow | null> => {
      const u = await this.byId(id);
      return u ? { id: u.id, email: u.email, isAdmin: u.isAdmin, disabled: u.disabled } : null;
    };
    return this.hot ? this.hot.cache.get(`user:${id}`, load) : load();
  }

  async byEmail(email: string): Promise<UserRow | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** Ordered by creation time, then id. */
  async list(): Promise<UserRow[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toRow);
  }

  async update(
    id: string,
    patch: Partial<Pick<UserRow, 'passwordHash' | 'isAdmin' | 'disabled'>>,
  ): Promise<boolean> {
    const values = {
      ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
      ...(patch.isAdmin !== undefined ? { is_admin: toIntBool(patch.isAdmin) } : {}),
      ...(patch.disabled !== undefined ? { disabled: toIntBool(patch.disabled) } : {}),
    };
    if (Object.keys(values).length === 0) {
      // Nothing to change: report whether the user exists.
      return (await this.byId(id)) !== null;
    }
    const result = await this.db.updateTable('users').set(values).where('id', '=', id).executeTakeFirst();
    return affected(result) > 0;
  }

  /** One atomic `failed_logins = failed_logins + 1 … RETURNING`; 0 when the user does not exist. */
  async recordLoginFailure(id: string, _now: number): Promise<number> {
    const row = await this.db
      .updateTable('users')
      .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
      .where('id', '=', id)
      .returning('failed_logins')
      .executeTakeFirst();
    return row ? Number(row.failed_logins) : 0;
  }

  async setLockedUntil(id: string, until: number | null): Promise<void> {
    await this.db.updateTable('users').set({ locked_until: until }).where('id', '=', id).execute();
  }

  /** Resets the counter only; `lockedUntil` is left alone (use `setLockedUntil`). */
  async resetLoginFailures(id: string): Promise<void> {
    await this.db.updateTable('users').set({ failed_logins: 0 }).where('id', '=', id).execute();
  }

  /** Adds the membership, or changes the role when it already exists. */
  async addMembership(m: MembershipRow): Promise<void> {
    await this.db
      .insertInto('memberships')
      .values({ user_id: m.userId, org_id: m.orgId, role: m.role })
      .onConflict((oc) => oc.columns(['user_id', 'org_id']).doUpdateSet({ role: m.role }))
      .execute();
  }

  /** Ordered by organization id. */
  async memberships(userId: string): Promise<MembershipRow[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('org_id')
      .execute();
    return rows.map((row) => ({ userId: row.user_id, orgId: row.org_id, role: row.role }));
  }
}
