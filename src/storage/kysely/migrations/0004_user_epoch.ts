/**
 * 0004: users join the cache epoch (issue #5), for the columns a token check reads: email,
 * is_admin, disabled, and deletion. Sign-in bookkeeping (failed_logins, locked_until) and
 * password changes do not move the epoch, so a password-guessing attack cannot flush the cache.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export function userEpochMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`create trigger users_cache_epoch after update of email, is_admin, disabled or delete on users
          for each statement execute function tollgate_bump_cache_epoch()`.execute(db);
        return;
      }
      await sql`create trigger users_cache_epoch_update after update of email, is_admin, disabled on users
        begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
      await sql`create trigger users_cache_epoch_delete after delete on users
        begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`drop trigger if exists users_cache_epoch on users`.execute(db);
        return;
      }
      await sql`drop trigger if exists users_cache_epoch_update`.execute(db);
      await sql`drop trigger if exists users_cache_epoch_delete`.execute(db);
    },
  };
}
