/**
 * 0005 (issue #5): the token indexes on family_id, parent_hash and (user_id, client_id) become
 * partial, `where … is not null`. A client-credentials token has none of those, so its insert now
 * touches three B-trees instead of six; every lookup by those columns (`= ?`) still uses them,
 * since an equality implies "is not null" on both databases.
 */
import { sql, type Kysely, type Migration } from 'kysely';

const INDEXES = [
  { name: 'tokens_family_id_idx', columns: 'family_id', where: 'family_id is not null' },
  { name: 'tokens_parent_hash_idx', columns: 'parent_hash', where: 'parent_hash is not null' },
  { name: 'tokens_user_id_client_id_idx', columns: 'user_id, client_id', where: 'user_id is not null' },
] as const;

export function partialTokenIndexesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const ix of INDEXES) {
        await sql`drop index ${sql.id(ix.name)}`.execute(db);
        await sql`create index ${sql.id(ix.name)} on tokens (${sql.raw(ix.columns)}) where ${sql.raw(ix.where)}`.execute(db);
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const ix of INDEXES) {
        await sql`drop index ${sql.id(ix.name)}`.execute(db);
        await sql`create index ${sql.id(ix.name)} on tokens (${sql.raw(ix.columns)})`.execute(db);
      }
    },
  };
}
