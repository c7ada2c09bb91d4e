/**
 * 0011 (issue #12): OpenID Connect client metadata and back-channel logout.
 * - clients.oidc_settings: the application's OpenID Connect Registration metadata that has no
 *   column of its own (`application_type`, `default_max_age`, `contacts`,
 *   `backchannel_logout_uri`, `backchannel_logout_session_required`), as one JSON object; null
 *   (rows from before it) for the defaults.
 * - oidc_grants.id_token_claims: the claims the request's `claims` parameter asked for in the ID
 *   token (OIDC Core §5.5), a JSON list; null for none.
 * - oidc_grants(sid) and oidc_grants(user_id): when a session ends, which applications received an
 *   ID token for it (back-channel logout) is one indexed read.
 */
import type { Kysely, Migration } from 'kysely';

export function oidcClientsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('oidc_settings', 'text').execute();
      await db.schema.alterTable('oidc_grants').addColumn('id_token_claims', 'text').execute();
      await db.schema.createIndex('oidc_grants_sid_idx').on('oidc_grants').column('sid').execute();
      await db.schema.createIndex('oidc_grants_user_id_idx').on('oidc_grants').column('user_id').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('oidc_grants_user_id_idx').execute();
      await db.schema.dropIndex('oidc_grants_sid_idx').execute();
      await db.schema.alterTable('oidc_grants').dropColumn('id_token_claims').execute();
      await db.schema.alterTable('clients').dropColumn('oidc_settings').execute();
    },
  };
}
