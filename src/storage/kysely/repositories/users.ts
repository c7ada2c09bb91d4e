/**
 * UserRepo on Kysely: accounts, login-failure counters and organization memberships.
 * Emails are stored lower-cased, so `byEmail` is case-insensitive on both dialects.
 */
import { sql, type Selectable } from 'kysely';
import type { ExternalUser, MembershipRow, UserAccountRow, UserRepo, UserRow } from '../../types.js';
import type { UsersTable } from '../schema.js';
import { affected, escapeLike, fromIntBool, toIntBool, type Db, type SqlDialect } from '../shared.js';
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

/** A page position: the last row's creation time and id, opaque to callers. */
function encodeCursor(at: number, id: string): string {
  return `${at}.${Buffer.from(id, 'utf8').toString('base64url')}`;
}

function decodeCursor(cursor: string | null | undefined): { at: number; id: string } | null {
  if (!cursor) return null;
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{1,400})$/.exec(cursor);
  if (!m) return null;
  return { at: Number(m[1]), id: Buffer.from(m[2] ?? '', 'base64url').toString('utf8') };
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
    private readonly dialect: SqlDialect,
    private readonly hot?: HotPath,
  ) {}

  async create(user: Omit<UserRow, 'external' | 'profile'> & { readonly profile?: Readonly<Record<string, unknown>> | null }): Promise<void> {
    if (user.email === null) throw new Error('a built-in user needs an email');
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: normalizeEmail(user.email),
        external: 0,
        profile: user.profile ? JSON.stringify(user.profile) : null,
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

  async page(opts: { readonly search?: string; readonly after?: string | null; readonly limit: number }): Promise<{ items: UserRow[]; next: string | null }> {
    const limit = Math.max(1, Math.min(500, Math.floor(opts.limit)));
    let q = this.db.selectFrom('users').selectAll();
    const raw = opts.search?.trim() ?? '';
    if (raw !== '') {
      // A prefix of the (lower-cased) email, from an index, or the exact id. SQLite compares
      // bytes, so the prefix is a range ending at the highest code point; PostgreSQL matches it
      // with LIKE, served by a pattern-ops index whatever the database's collation.
      const prefix = raw.toLowerCase();
      q =
        this.dialect === 'postgres'
          ? q.where((eb) => eb.or([sql<boolean>`${sql.ref('email')} like ${`${escapeLike(prefix)}%`} escape '\\'`, eb('id', '=', raw)]))
          : q.where((eb) => eb.or([eb.and([eb('email', '>=', prefix), eb('email', '<', `${prefix}\u{10FFFF}`)]), eb('id', '=', raw)]));
    }
    const after = decodeCursor(opts.after);
    if (after) {
      q = q.where((eb) => eb.or([eb('created_at', '>', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '>', after.id)])]));
    }
    const rows = await q.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(toRow);
    const last = items[items.length - 1];
    return { items, next: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  async count(filter: { readonly disabled?: boolean } = {}): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .$if(filter.disabled !== undefined, (qb) => qb.where('disabled', '=', toIntBool(filter.disabled === true)))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async anyAdmin(): Promise<boolean> {
    return (await this.db.selectFrom('users').select('id').where('is_admin', '=', 1).limit(1).executeTakeFirst()) !== undefined;
  }

  async byIds(ids: readonly string[]): Promise<UserRow[]> {
    const unique = [...new Set(ids)].slice(0, 1000);
    if (unique.length === 0) return [];
    return (await this.db.selectFrom('users').selectAll().where('id', 'in', unique).execute()).map(toRow);
  }

  async membershipsOf(userIds: readonly string[]): Promise<MembershipRow[]> {
    const unique = [...new Set(userIds)].slice(0, 1000);
    if (unique.length === 0) return [];
    const rows = await this.db.selectFrom('memberships').selectAll().where('user_id', 'in', unique).orderBy('user_id').orderBy('org_id').execute();
    return rows.map((row) => ({ userId: row.user_id, orgId: row.org_id, role: row.role }));
  }

  async membersOf(orgId: string, limit: number): Promise<{ items: Array<MembershipRow & { readonly email: string | null }>; total: number }> {
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.user_id', 'memberships.org_id', 'memberships.role', 'users.email', 'users.external', 'users.profile'])
      .where('memberships.org_id', '=', orgId)
      .orderBy('memberships.user_id')
      .limit(Math.max(1, Math.min(500, limit)))
      .execute();
    const total = await this.db.selectFrom('memberships').select((eb) => eb.fn.countAll().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
    return {
      items: rows.map((r) => {
        const profile = parseProfile(r.profile);
        const email = fromIntBool(r.external) ? (typeof profile?.['email'] === 'string' ? (profile['email'] as string) : null) : r.email;
        return { userId: r.user_id, orgId: r.org_id, role: r.role, email };
      }),
      total: Number(total.n),
    };
  }


  async update(
    id: string,
    patch: Partial<Pick<UserRow, 'passwordHash' | 'isAdmin' | 'disabled' | 'profile'>>,
  ): Promise<boolean> {
    const values = {
      ...(patch.profile !== undefined ? { profile: patch.profile === null ? null : JSON.stringify(patch.profile) } : {}),
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
