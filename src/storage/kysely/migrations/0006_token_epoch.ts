/**
 * 0006 (issue #5): revoking or deleting a token moves the cache epoch, so active access tokens
 * can be served from the validated cache too (a rotation's `consumed_at` does not: refresh
 * tokens are never cached). On SQLite the triggers are per row, on PostgreSQL per statement.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export function tokenEpochMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`create trigger tokens_cache_epoch after update of revoked_at or delete on tokens
          for each statement execute function tollgate_bump_cache_epoch()`.execute(db);
        return;
      }
      await sql`create trigger tokens_cache_epoch_revoke after update of revoked_at on tokens
        begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
      await sql`create trigger tokens_cache_epoch_delete after delete on tokens
        begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`drop trigger if exists tokens_cache_epoch on tokens`.execute(db);
        return;
      }
      await sql`drop trigger if exists tokens_cache_epoch_revoke`.execute(db);
      await sql`drop trigger if exists tokens_cache_epoch_delete`.execute(db);
    },
  };
}
