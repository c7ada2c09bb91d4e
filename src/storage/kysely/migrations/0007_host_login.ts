/**
 * 0007 (issue #11): Tollgate inside platforms that already have users.
 * - users: `external` rows are people the host platform owns, keyed by the host's subject id, with
 *   no password; `profile` holds what the host said about them (JSON: email, name, claims…).
 *   The cache epoch follows `profile` too, since a token check reads the email from it.
 * - sessions: when and how the person signed in (`auth_time`, `amr`, `acr`), which login made the
 *   session (`kind`: builtin, host, delegated) and when the host ended it (`ended_at`).
 * - interactions: a sign-in Tollgate is waiting for — an authorization request kept whole on the
 *   server (or a page to return to), bound to the browser that started it; a delegated login's
 *   challenge is one of them.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export function hostLoginMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('users').addColumn('external', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('profile', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('auth_time', 'bigint').execute();
      await db.schema.alterTable('sessions').addColumn('amr', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('acr', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('kind', 'text', (col) => col.notNull().defaultTo('builtin')).execute();
      await db.schema.alterTable('sessions').addColumn('ended_at', 'bigint').execute();

      await db.schema
        .createTable('interactions')
        .addColumn('id_hash', 'text', (col) => col.primaryKey())
        .addColumn('browser_hash', 'text', (col) => col.notNull())
        .addColumn('client_id', 'text', (col) => col.references('clients.client_id').onDelete('cascade'))
        .addColumn('request', 'text', (col) => col.notNull())
        .addColumn('return_to', 'text')
        .addColumn('session_subject', 'text')
        .addColumn('login_requested_at', 'bigint', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('result', 'text')
        .addColumn('decided_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .execute();
      await db.schema.createIndex('interactions_expires_at_idx').on('interactions').column('expires_at').execute();
      await db.schema.createIndex('interactions_client_id_idx').on('interactions').column('client_id').execute();

      if (dialect === 'postgres') {
        await sql`drop trigger if exists users_cache_epoch on users`.execute(db);
        await sql`create trigger users_cache_epoch after update of email, is_admin, disabled, profile or delete on users
          for each statement execute function tollgate_bump_cache_epoch()`.execute(db);
        return;
      }
      await sql`drop trigger if exists users_cache_epoch_update`.execute(db);
      await sql`create trigger users_cache_epoch_update after update of email, is_admin, disabled, profile on users
        begin update cache_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('interactions').execute();
      for (const c of ['auth_time', 'amr', 'acr', 'kind', 'ended_at']) await db.schema.alterTable('sessions').dropColumn(c).execute();
      for (const c of ['external', 'profile']) await db.schema.alterTable('users').dropColumn(c).execute();
    },
  };
}
