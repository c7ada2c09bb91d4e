/**
 * Opens the PostgreSQL storage (pg): a pool whose int8 values parse to JS numbers, bounded
 * connect and query timeouts, idle-error handlers; `schema` (created when missing) becomes the
 * search_path of every pooled connection, which is how tests isolate themselves.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Storage } from '../../types.js';
import type { Database } from '../schema.js';
import type { Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';
import { EpochCache, WriteTouchPlugin, coalescedEpoch } from '../epoch-cache.js';
import { makeStorage } from '../storage.js';
import { PgRaw, TokenWriter } from './raw.js';

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

const PG_CONNECT_TIMEOUT_MS = 5_000;
const PG_IDLE_TIMEOUT_MS = 30_000;
const PG_INT8_OID = 20;
const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function openPostgres(options: PostgresStorageOptions): Promise<Storage> {
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
