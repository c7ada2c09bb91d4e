/**
 * 0013 (issue #14): the device authorization grant (RFC 8628). One row per device request, keyed
 * by the device code's hash; the user code's hash is unique (it is what the person types). Rows
 * go with their application and with the person who answered; the purge removes expired ones.
 */
import type { Kysely, Migration } from 'kysely';

export function deviceCodesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('device_codes')
        .addColumn('device_code_hash', 'text', (col) => col.primaryKey())
        .addColumn('user_code_hash', 'text', (col) => col.notNull().unique())
        .addColumn('client_id', 'text', (col) => col.notNull().references('clients.client_id').onDelete('cascade'))
        .addColumn('scope', 'text', (col) => col.notNull())
        .addColumn('audience', 'text', (col) => col.notNull())
        .addColumn('interval', 'integer', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addColumn('last_polled_at', 'bigint')
        .addColumn('slow_down', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending'))
        .addColumn('user_id', 'text', (col) => col.references('users.id').onDelete('cascade'))
        .addColumn('decided_at', 'bigint')
        .addColumn('granted_scope', 'text')
        .addColumn('family_id', 'text')
        .addColumn('sign_in', 'text')
        .execute();
      await db.schema.createIndex('device_codes_expires_at_idx').on('device_codes').column('expires_at').execute();
      await db.schema.createIndex('device_codes_client_id_idx').on('device_codes').column('client_id').execute();
      await db.schema.createIndex('device_codes_user_id_idx').on('device_codes').column('user_id').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('device_codes').execute();
    },
  };
}
