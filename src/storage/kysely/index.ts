/**
 * Kysely-backed `Storage` for SQLite (better-sqlite3) and PostgreSQL (pg).
 *
 *   const storage = await createStorage({ kind: 'sqlite', file: 'data/tollgate.db' });
 *   await storage.migrate();
 *
 * Each engine opens in its own folder: ./sqlite/open.ts (WAL, BEGIN IMMEDIATE, the statement
 * cache, the checkpoint worker, the file watch) and ./postgres/open.ts (the pool, its timeouts,
 * the schema); ./storage.ts is the facade both return, ./sqlite/raw.ts and ./postgres/raw.ts
 * their hot paths, ./epoch-cache.ts the cache they share.
 */
import type { Storage } from '../types.js';
import { openSqlite, type SqliteStorageOptions } from './sqlite/open.js';
import { openPostgres, type PostgresStorageOptions } from './postgres/open.js';

export type { Database } from './schema.js';
export type { SqlDialect } from './shared.js';
export type { SqliteStorageOptions } from './sqlite/open.js';
export type { PostgresStorageOptions } from './postgres/open.js';

export type StorageOptions = SqliteStorageOptions | PostgresStorageOptions;

export async function createStorage(options: StorageOptions): Promise<Storage> {
  return options.kind === 'sqlite' ? openSqlite(options) : openPostgres(options);
}
