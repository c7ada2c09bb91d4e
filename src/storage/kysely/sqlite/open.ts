/**
 * Opens the SQLite storage (better-sqlite3): WAL, synchronous=NORMAL, foreign keys on, 5 s busy
 * timeout, the parent directory created when missing; transactions BEGIN IMMEDIATE; statements
 * reused by their SQL text; WAL checkpoints in a worker thread; the file watched so that a
 * removed or replaced database stops the storage instead of writing into a lost inode.
 */
import { mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase, SqliteDialectConfig } from 'kysely';
import type { Storage } from '../../types.js';
import { buildRepositories } from '../repositories/index.js';
import type { Database } from '../schema.js';
import type { HotPath } from '../hot-path.js';
import { EpochCache, WriteTouchPlugin, coalescedEpoch } from '../epoch-cache.js';
import { makeStorage } from '../storage.js';
import { SqliteGroupCommit, SqliteRaw } from './raw.js';

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

const CHECKPOINT_INTERVAL_MS = 1_000;

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

export async function openSqlite(options: SqliteStorageOptions): Promise<Storage> {
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

function startCheckpointer(file: string, interval: number): { stop(): Promise<void> } {
  const worker = new Worker(new URL('./checkpointer.mjs', import.meta.url), {
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
