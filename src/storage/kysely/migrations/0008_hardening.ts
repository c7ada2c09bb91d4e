/**
 * 0008 (issue #15): what the hardening pass needs in storage.
 * - resource_servers.introspectors: the applications allowed to introspect tokens for this
 *   resource server (JSON list). Null on resource servers created before: they keep answering any
 *   confidential client, with a warning at start, until an administrator names theirs.
 * - clients.used_at: when the application first obtained a token (never-used dynamically
 *   registered applications expire); clients.admin_deactivated: an administrator deactivated it,
 *   so its owner cannot reactivate it.
 * - clients.previous_secret_hash / previous_secret_expires_at: a rotation with an overlap keeps
 *   the old secret working until then (opt-in; by default a rotation is immediate).
 * - authorization_codes.replace_existing: AnyFetch's replace_existing_token, applied when the
 *   code is redeemed rather than by the GET that asked for it.
 * The cache-epoch triggers of 0003 already follow every column of these tables.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export function hardeningMigration(_dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('resource_servers').addColumn('introspectors', 'text').execute();
      await db.schema.alterTable('clients').addColumn('used_at', 'bigint').execute();
      await db.schema.alterTable('clients').addColumn('admin_deactivated', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_hash', 'text').execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_expires_at', 'bigint').execute();
      await db.schema.alterTable('authorization_codes').addColumn('replace_existing', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('clients_dynamic_unused_idx').on('clients').columns(['dynamic', 'used_at', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('clients_dynamic_unused_idx').execute();
      await db.schema.alterTable('authorization_codes').dropColumn('replace_existing').execute();
      await db.schema.alterTable('clients').dropColumn('admin_deactivated').execute();
      await db.schema.alterTable('clients').dropColumn('previous_secret_hash').execute();
      await db.schema.alterTable('clients').dropColumn('previous_secret_expires_at').execute();
      await db.schema.alterTable('clients').dropColumn('used_at').execute();
      await db.schema.alterTable('resource_servers').dropColumn('introspectors').execute();
    },
  };
}
