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
 * - indexes for paging users by creation and listing an organization's members (§12).
 * The cache-epoch triggers of 0003 already follow every column of these tables.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../shared.js';

export function hardeningMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('resource_servers').addColumn('introspectors', 'text').execute();
      await db.schema.alterTable('clients').addColumn('used_at', 'bigint').execute();
      await db.schema.alterTable('clients').addColumn('admin_deactivated', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_hash', 'text').execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_expires_at', 'bigint').execute();
      await db.schema.alterTable('authorization_codes').addColumn('replace_existing', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.createIndex('clients_dynamic_unused_idx').on('clients').columns(['dynamic', 'used_at', 'created_at']).execute();
      // Lists that page through a million users (issue #15 §12): by creation, and an organization's members.
      await db.schema.createIndex('users_created_at_id_idx').on('users').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('memberships_org_id_idx').on('memberships').columns(['org_id', 'user_id']).execute();
      // Searching users by the start of their email: PostgreSQL serves `LIKE 'prefix%'` from a
      // pattern-ops index whatever the database's collation; SQLite's unique email index
      // (binary collation) already serves the range the repository uses there.
      if (dialect === 'postgres') await sql`create index users_email_prefix_idx on users (email text_pattern_ops)`.execute(db);
      // Organizations by the start of their name, case-insensitively; applications in list order.
      if (dialect === 'postgres') await sql`create index organizations_name_lower_idx on organizations (lower(name) text_pattern_ops)`.execute(db);
      else await sql`create index organizations_name_lower_idx on organizations (lower(name))`.execute(db);
      await db.schema.createIndex('clients_created_at_idx').on('clients').columns(['created_at', 'client_id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('clients_dynamic_unused_idx').execute();
      await db.schema.dropIndex('users_created_at_id_idx').execute();
      await db.schema.dropIndex('memberships_org_id_idx').execute();
      if (dialect === 'postgres') await db.schema.dropIndex('users_email_prefix_idx').execute();
      await db.schema.dropIndex('organizations_name_lower_idx').execute();
      await db.schema.dropIndex('clients_created_at_idx').execute();
      await db.schema.alterTable('authorization_codes').dropColumn('replace_existing').execute();
      await db.schema.alterTable('clients').dropColumn('admin_deactivated').execute();
      await db.schema.alterTable('clients').dropColumn('previous_secret_hash').execute();
      await db.schema.alterTable('clients').dropColumn('previous_secret_expires_at').execute();
      await db.schema.alterTable('clients').dropColumn('used_at').execute();
      await db.schema.alterTable('resource_servers').dropColumn('introspectors').execute();
    },
  };
}
