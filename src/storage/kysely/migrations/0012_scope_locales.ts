/**
 * 0012 (issue #12 item 8): pages in the person's language. scopes.descriptions: the scope's
 * description in other languages, a JSON object by locale (`{"fr": "…"}`); null for none. The
 * consent page shows the one for its language, else `description`.
 */
import type { Kysely, Migration } from 'kysely';

export function scopeLocalesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('scopes').addColumn('descriptions', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('scopes').dropColumn('descriptions').execute();
    },
  };
}
