/**
 * 0003: the cache epoch (issue #5). One row whose counter every change to clients, scopes,
 * resource servers or signing keys increments, by trigger, in the same transaction as the
 * change: whichever process or tool made it. A process keeps those rows in memory and reads the
 * counter (one tiny indexed read) before trusting them, so a deactivation, rotation or deletion
 * made anywhere is honoured on the very next request, and every other request skips the lookups.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export const EPOCH_TABLES = ['clients', 'scopes', 'resource_servers', 'signing_keys'] as const;

export function cacheEpochMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cache_epoch')
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('epoch', 'bigint', (col) => col.notNull())
        .execute();
      await sql`insert into cache_epoch (id, epoch) values (1, 0)`.execute(db);
      if (dialect === 'postgres') {
        await sql`create or replace function tollgate_bump_cache_epoch() returns trigger language plpgsql as $$
          begin
            update cache_epoch set epoch = epoch + 1 where id = 1;
            return null;
          end $$`.execute(db);
        for (const table of EPOCH_TABLES) {
          await sql`create trigger ${sql.id(`${table}_cache_epoch`)} after insert or update or delete on ${sql.id(table)}
            for each statement execute function tollgate_bump_cache_epoch()`.execute(db);
        }
        return;
      }
      for (const table of EPOCH_TABLES) {
        for (const op of ['insert', 'update', 'delete'] as const) {
          await sql`create trigger ${sql.id(`${table}_cache_epoch_${op}`)} after ${sql.raw(op)} on ${sql.id(table)}
            begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
        }
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        for (const table of EPOCH_TABLES) await sql`drop trigger if exists ${sql.id(`${table}_cache_epoch`)} on ${sql.id(table)}`.execute(db);
        await sql`drop function if exists tollgate_bump_cache_epoch()`.execute(db);
      } else {
        for (const table of EPOCH_TABLES) {
          for (const op of ['insert', 'update', 'delete']) await sql`drop trigger if exists ${sql.id(`${table}_cache_epoch_${op}`)}`.execute(db);
        }
      }
      await db.schema.dropTable('cache_epoch').execute();
    },
  };
}
