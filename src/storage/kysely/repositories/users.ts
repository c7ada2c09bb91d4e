/**
 * UserRepo on Kysely: accounts, login-failure counters and organization memberships.
 * Emails are stored lower-cased, so `byEmail` is case-insensitive on both dialects.
 */
import type { Selectable } from 'kysely';
import type { ExternalUser, MembershipRow, UserAccountRow, UserRepo, UserRow } from '../../types.js';
import type { UsersTable } from '../schema.js';
import { affected, fromIntBool, toIntBool, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function normalizeEmail(email: string): string {
  return email.toLowerCase();
}

/**
 * The `email` column is unique and NOT NULL, for built-in sign-in. An external person's row keeps a
 * placeholder there that no built-in email can equal (it holds a space, which the email check
 * refuses); their email, when the host gives one, is in `profile`.
 */
function externalEmailKey(id: string): string {
  return `external ${id}`;
}

function parseProfile(text: string | null): Readonly<Record<string, unknown>> | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function toRow(row: Selectable<UsersTable>): UserRow {
  const external = fromIntBool(row.external);
  const profile = parseProfile(row.profile);
  const profileEmail = profile?.['email'];
  return {
    id: row.id,
    email: external ? (typeof profileEmail === 'string' ? profileEmail : null) : row.email,
    passwordHash: row.password_hash,
    isAdmin: fromIntBool(row.is_admin),
    disabled: fromIntBool(row.disabled),
    failedLogins: row.failed_logins,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
    external,
    profile,
  };
}

export class KyselyUserRepo implements UserRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  async create(user: Omit<UserRow, 'external' | 'profile'>): Promise<void> {
    if (user.email === null) throw new Error('a built-in user needs an email');
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: normalizeEmail(user.email),
        external: 0,
        profile: null,
        password_hash: user.passwordHash,
        is_admin: toIntBool(user.isAdmin),
        disabled: toIntBool(user.disabled),
        failed_logins: user.failedLogins,
        locked_until: user.lockedUntil,
        created_at: user.createdAt,
      })
      .execute();
  }

  async upsertExternal(user: ExternalUser, now: number): Promise<boolean> {
    const profile = JSON.stringify(user.profile);
    const flags = {
      ...(user.isAdmin !== undefined ? { is_admin: toIntBool(user.isAdmin) } : {}),
      ...(user.disabled !== undefined ? { disabled: toIntBool(user.disabled) } : {}),
    };
    const current = await this.db.selectFrom('users').select(['external', 'profile', 'is_admin', 'disabled']).where('id', '=', user.id).executeTakeFirst();
    if (current && !fromIntBool(current.external)) return false;
    if (!current) {
      await this.db
        .insertInto('users')
        .values({
          id: user.id,
          email: externalEmailKey(user.id),
          password_hash: '',
          is_admin: toIntBool(user.isAdmin === true),
          disabled: toIntBool(user.disabled === true),
          failed_logins: 0,
          locked_until: null,
          created_at: now,
          external: 1,
          profile,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      // A concurrent first sign-in may have created it: then refresh it like any later one.
      const created = await this.db.selectFrom('users').select(['external', 'profile']).where('id', '=', user.id).executeTakeFirst();
      if (!created || !fromIntBool(created.external)) return false;
      if (created.profile === profile) return true;
    }
    // Written only when something changed, so a sign-in does not move the cache epoch for nothing.
    const changed =
      current === undefined ||
      current.profile !== profile ||
      (flags.is_admin !== undefined && flags.is_admin !== current.is_admin) ||
      (flags.disabled !== undefined && flags.disabled !== current.disabled);
    if (changed) {
      await this.db.updateTable('users').set({ profile, ...flags }).where('id', '=', user.id).where('external', '=', 1).execute();
    }
    return true;
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
      return u ? { id: u.id, email: u.email, isAdmin: u.isAdmin, disabled: u.disabled, external: u.external, profile: u.profile } : null;
    };
    return this.hot ? this.hot.cache.get(`user:${id}`, load) : load();
  }

  async byEmail(email: string): Promise<UserRow | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizeEmail(email))
      .where('external', '=', 0)
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
