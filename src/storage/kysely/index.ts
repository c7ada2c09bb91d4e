/**
 * Kysely-backed `Storage` for SQLite (better-sqlite3) and PostgreSQL (pg).
 *
 *   const storage = await createStorage({ kind: 'sqlite', file: 'data/tollgate.db' });
 *   await storage.migrate();
 *
 * SQLite: WAL, synchronous=NORMAL, foreign keys on, 5 s busy timeout; the parent directory is
 * created when missing. PostgreSQL: a `pg.Pool` whose int8 values parse to JS numbers, with a
 * 5 s connection timeout and an idle-error handler; `schema` (created when missing) becomes the
 * search_path of every pooled connection, which is how tests isolate themselves.
 */
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, sql } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase, SqliteDialectConfig } from 'kysely';

/**
 * SQLite transactions start with BEGIN IMMEDIATE: they take the write lock up front (waiting up
 * to busy_timeout), so a read-then-write transaction cannot fail with "database is locked" when
 * another process (the CLI, a second server) writes to the same file at the same time.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: SqliteDialectConfig) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg);
  }
}
import pg from 'pg';
import type { Storage } from '../types.js';
import { InCodeMigrationProvider } from './migrations/index.js';
import { buildRepositories, type Repositories } from './repositories/index.js';
import type { Database } from './schema.js';
import type { Db, SqlDialect } from './shared.js';
import type { HotPath } from './hot-path.js';
import { EpochCache, WriteTouchPlugin, coalescedEpoch } from './epoch-cache.js';
import { SqliteGroupCommit, SqliteRaw } from './sqlite/raw.js';
import { PgRaw, TokenWriter } from './postgres/raw.js';

export type { Database } from './schema.js';
export type { SqlDialect } from './shared.js';

export interface SqliteStorageOptions {
  readonly kind: 'sqlite';
  /** Database file path (its directory is created when missing), or `:memory:`. */
  readonly file: string;
  /**
   * Called once if the database file is removed or replaced while open (issue #15 §13): the
   * storage then stops (every use fails, `ping` too) rather than writing to a file nobody will
   * ever read again.
   */
  readonly onLost?: (message: string) => void;
}

/** How often an open SQLite file is checked to still be the one that was opened. */
const FILE_CHECK_MS = 2_000;

export interface PostgresStorageOptions {
  readonly kind: 'postgres';
  /** Connection string, e.g. `postgres://user@host:5432/db`. */
  readonly url: string;
  /** Schema to use (created when missing); every pooled connection gets it as its search_path. */
  readonly schema?: string;
  /** Maximum pooled connections (default 10). */
  readonly poolSize?: number;
  /** Called when an idle pooled connection fails (default: ignored; the pool replaces it). */
  readonly onPoolError?: (err: Error) => void;
  /**
   * Upper bound, in ms, on connecting and on any one query (default 5000): during an outage a
   * request fails fast with 503 instead of hanging, even when packets are silently dropped.
   */
  readonly timeoutMs?: number;
}

export type StorageOptions = SqliteStorageOptions | PostgresStorageOptions;

const PG_CONNECT_TIMEOUT_MS = 5_000;
const CHECKPOINT_INTERVAL_MS = 1_000;
const PG_IDLE_TIMEOUT_MS = 30_000;
const PG_INT8_OID = 20;
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function createStorage(options: StorageOptions): Promise<Storage> {
  return options.kind === 'sqlite' ? openSqlite(options) : openPostgres(options);
}

async function openSqlite(options: SqliteStorageOptions): Promise<Storage> {
  if (options.file !== ':memory:' && options.file !== '') {
    mkdirSync(dirname(options.file), { recursive: true });
  }
  const database = new SQLite(options.file);
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
  } catch (err) {
    database.close();
    throw err;
  }
  const raw = new SqliteRaw(database);
  const cache = new EpochCache(coalescedEpoch(() => raw.epoch()));
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }),
    plugins: [new WriteTouchPlugin(cache)],
  });
  // While a Kysely transaction holds the connection, each write falls back to the plain
  // repositories (Kysely), which wait for that transaction to end.
  const group = new SqliteGroupCommit(database);
  const plain = buildRepositories(db, 'sqlite');
  const hot: HotPath = {
    raw,
    cache,
    insertTokens: (rows) => group.run(() => raw.insertRows(rows), () => plain.tokens.insertMany(rows)),
    redeem: (r) => group.run(() => raw.redeem(r), () => plain.grants.redeem(r)),
    insertCode: (code) => group.run(() => raw.insertCode(code), () => plain.codes.create(code)),
  };
  const storage = makeStorage(db, 'sqlite', undefined, hot);
  if (options.file === ':memory:' || options.file === '') return storage;
  // WAL checkpoints off the request path: SQLite's automatic checkpoint runs inside whichever
  // commit crosses 1000 pages, stalling that request. A worker thread with its own connection
  // checkpoints instead, once a second, so the copy never runs on the event loop (PASSIVE never
  // waits for readers or writers).
  database.pragma('wal_autocheckpoint = 0');
  const checkpointer = startCheckpointer(options.file, CHECKPOINT_INTERVAL_MS);

  // The file must stay the one opened: deleted (or its folder), or replaced by another file, the
  // connection would go on writing into an unlinked inode that is lost at the next restart.
  const file = options.file;
  const opened = statSync(file);
  let lost: string | null = null;
  const check = (): string | null => {
    if (lost !== null) return lost;
    let now: ReturnType<typeof statSync> | undefined;
    try {
      now = statSync(file);
    } catch {
      now = undefined;
    }
    if (now === undefined || now.ino !== opened.ino || now.dev !== opened.dev) {
      lost = `the database file ${file} was ${now === undefined ? 'removed' : 'replaced'} while Tollgate was running; refusing to go on (restore it, or restart to start afresh)`;
      options.onLost?.(lost);
      // Every further use fails at once (503 temporarily_unavailable) instead of writing to a lost file.
      try {
        database.close();
      } catch {
        // already closed
      }
      void checkpointer.stop().catch(() => undefined);
    }
    return lost;
  };
  const watcher = setInterval(check, FILE_CHECK_MS);
  watcher.unref();
  return {
    ...storage,
    async ping() {
      const problem = check();
      if (problem !== null) throw new Error(problem);
      await storage.ping();
    },
    async close() {
      clearInterval(watcher);
      await checkpointer.stop();
      await storage.close();
    },
  };
}

/** Runs in the checkpoint worker (CommonJS, evaluated): one connection, one PASSIVE checkpoint a tick. */
const CHECKPOINTER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick tries again */ }
}, workerData.interval);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

function startCheckpointer(file: string, interval: number): { stop(): Promise<void> } {
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { file, interval, driver: createRequire(import.meta.url).resolve('better-sqlite3') },
  });
  worker.unref();
  // A checkpointer that cannot open the file is not fatal: the WAL is then checkpointed when
  // the last connection closes. Never let its failure crash the server.
  worker.on('error', () => {});
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (worker.threadId === -1) return resolve();
        const timeout = setTimeout(() => void worker.terminate().then(() => resolve()), 2_000);
        worker.once('exit', () => {
          clearTimeout(timeout);
          resolve();
        });
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}

/**
 * Kysely prepares every statement afresh; preparing costs about as much as running a small one
 * (profile of the token endpoint: `prepare` ≈ 11 % of CPU). Statements are reused by their SQL
 * text instead: the SQLite driver runs one query at a time on its single connection, so a cached
 * statement is never in use twice at once. Bounded: the least recently used go first.
 */
function withStatementCache(database: SQLite.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

async function openPostgres(options: PostgresStorageOptions): Promise<Storage> {
  if (options.schema !== undefined && !SQL_IDENTIFIER.test(options.schema)) {
    throw new Error(`Invalid PostgreSQL schema name "${options.schema}" (letters, digits and _ only)`);
  }
  const parseInt8 = (value: string): number => Number(value);
  const types: pg.CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === PG_INT8_OID && format !== 'binary'
        ? parseInt8
        : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.timeoutMs ?? PG_CONNECT_TIMEOUT_MS,
    query_timeout: options.timeoutMs ?? PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: PG_IDLE_TIMEOUT_MS,
    types,
    ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would crash
  // the process. The pool discards the broken client, so reporting it is all there is to do.
  const onPoolError = options.onPoolError ?? ((): void => {});
  pool.on('error', (err) => onPoolError(err));
  // A checked-out client has no pool listener: if its connection drops mid-use (an outage), the
  // client emits 'error' with nobody listening, which would crash the process. The query itself
  // fails on its own (→ 503); this listener only keeps the event from being unhandled.
  pool.on('connect', (client) => {
    client.on('error', (err) => onPoolError(err));
  });

  // Declared before the handle it reads through (its plugin needs it); used only after migrate.
  const raw = new PgRaw(pool);
  const cache = new EpochCache(coalescedEpoch(() => raw.epoch()));
  const db: Db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new WriteTouchPlugin(cache)] });
  if (options.schema !== undefined) {
    try {
      await ensurePgSchema(db, options.schema);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  const writer = new TokenWriter((rows) => raw.insertTokens(rows));
  const hot: HotPath = { raw, cache, insertTokens: (rows) => writer.write(rows), redeem: (r) => raw.redeem(r) };
  return makeStorage(db, 'postgres', options.schema, hot);
}

/** `create schema if not exists`, tolerating the race where a concurrent session creates it. */
async function ensurePgSchema(db: Db, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

/** The `Storage` facade: repositories on the root handle plus lifecycle operations. */
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
