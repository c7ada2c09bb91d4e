/**
 * 0010 (issue #12): OpenID Connect RP-initiated logout. clients.post_logout_redirect_uris: where
 * the application may have a person sent after signing out (JSON list, matched exactly); null
 * for none.
 */
import type { Kysely, Migration } from 'kysely';

export function postLogoutMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('post_logout_redirect_uris', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').dropColumn('post_logout_redirect_uris').execute();
    },
  };
}
