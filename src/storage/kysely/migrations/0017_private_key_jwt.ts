/**
 * 0017 (issue #13; docs/client-authentication.md): client authentication with `private_key_jwt`
 * (RFC 7523 §2.2, OpenID Connect Core §9).
 * - clients.private_key_jwt: for an application that authenticates with a signed assertion
 *   instead of a secret, where its public keys are (JSON: a `jwks` set or a `jwks_uri`); null for
 *   every other application.
 * - client_assertion_jtis: the `jti` of every assertion accepted, until the assertion expires, so
 *   that none is accepted twice. Keyed by a hash of (client_id, jti), indexed by expiry for the
 *   purge job.
 */
import type { Kysely, Migration } from 'kysely';

export function privateKeyJwtMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('private_key_jwt', 'text').execute();
      await db.schema
        .createTable('client_assertion_jtis')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('client_assertion_jtis_expires_idx').on('client_assertion_jtis').column('expires_at').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('client_assertion_jtis').execute();
      await db.schema.alterTable('clients').dropColumn('private_key_jwt').execute();
    },
  };
}
