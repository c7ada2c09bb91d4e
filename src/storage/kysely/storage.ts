/**
 * The `Storage` facade both engines return (./sqlite/open.ts, ./postgres/open.ts): the
 * repositories on the root handle, transactions, migrations and the lifecycle.
 */
import { Migrator, sql } from 'kysely';
import type { Storage } from '../types.js';
import { InCodeMigrationProvider } from './migrations/index.js';
import { buildRepositories, type Repositories } from './repositories/index.js';
import type { Db, SqlDialect } from './shared.js';
import type { HotPath } from './hot-path.js';

export /** The `Storage` facade: repositories on the root handle plus lifecycle operations. */
function makeStorage(db: Db, dialect: SqlDialect, pgSchema: string | undefined, hot: HotPath): Storage {
  let closing: Promise<void> | undefined;
  return {
    ...buildRepositories(db, dialect, hot),

    async transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
      try {
        return await db.transaction().execute((trx) => fn(buildRepositories(trx, dialect)));
      } finally {
        // Its writes touched the cache before the commit; the commit is what makes them visible.
        hot.cache.touch();
      }
    },

    markArrival: () => hot.cache.markArrival(),

    migrate: () => runMigrations(db, dialect, pgSchema),

    async ping(): Promise<void> {
      await sql`select 1`.execute(db);
    },

    async close(): Promise<void> {
      closing ??= db.destroy();
      await closing;
    },
  };
}

/** Applies pending migrations; returns their names. Throws when one fails. */
async function runMigrations(db: Db, dialect: SqlDialect, pgSchema: string | undefined): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(dialect),
    // On PostgreSQL, Kysely looks for its bookkeeping tables in every schema unless told which
    // one; pin it to the schema the tables live in so isolated schemas never see each other.
    ...(dialect === 'postgres' ? { migrationTableSchema: pgSchema ?? (await currentPgSchema(db)) } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration ran)';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Storage migration ${failed} failed: ${reason}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function currentPgSchema(db: Db): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check the search_path of the connection');
  return schema;
}
