/**
 * 0002: the opt-in refresh-token grace window (issue #6). Per application, how many seconds a
 * just-rotated refresh token may be presented again to get the same new pair back; and, on the
 * rotated token, that pair encrypted under a key only the old refresh token can derive.
 */
import type { Kysely, Migration } from 'kysely';

export function refreshGraceMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('clients')
        .addColumn('refresh_grace_seconds', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('tokens').addColumn('grace_response', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tokens').dropColumn('grace_response').execute();
      await db.schema.alterTable('clients').dropColumn('refresh_grace_seconds').execute();
    },
  };
}
