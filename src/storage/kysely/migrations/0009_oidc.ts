/**
 * 0009 (issue #12): OpenID Connect.
 * - oidc_grants: what an ID token says about the sign-in behind one grant (one row per
 *   authorization, keyed by the token family): the `nonce` the application sent, when and how
 *   the person signed in (`auth_time`, `amr`, `acr`) and the session (`sid`). Written when a
 *   person authorizes a request with the `openid` scope, read when the code is redeemed and at
 *   each refresh (which keeps the original `auth_time`); purged with the grant's tokens.
 * - clients.id_token_signed_response_alg: the algorithm of the application's ID tokens (RS256
 *   when null).
 */
import type { Kysely, Migration } from 'kysely';

export function oidcMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('oidc_grants')
        .addColumn('family_id', 'text', (col) => col.primaryKey())
        .addColumn('client_id', 'text', (col) => col.notNull().references('clients.client_id').onDelete('cascade'))
        .addColumn('user_id', 'text', (col) => col.notNull())
        .addColumn('nonce', 'text')
        .addColumn('auth_time', 'bigint', (col) => col.notNull())
        .addColumn('amr', 'text')
        .addColumn('acr', 'text')
        .addColumn('sid', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('oidc_grants_created_at_idx').on('oidc_grants').column('created_at').execute();
      await db.schema.alterTable('clients').addColumn('id_token_signed_response_alg', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').dropColumn('id_token_signed_response_alg').execute();
      await db.schema.dropTable('oidc_grants').execute();
    },
  };
}
