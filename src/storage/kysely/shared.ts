/**
 * Small helpers shared by the Kysely repositories: the dialect tag, row-value conversions
 * (booleans, JSON lists, affected-row counts) and the few places where SQL differs per dialect.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';
import type { ActClaim, TokenExchangeFacts } from '../types.js';

export type SqlDialect = 'sqlite' | 'postgres';

/** A Kysely handle: the root instance or a transaction (a `Transaction` is a `Kysely`). */
export type Db = Kysely<Database>;

export function toIntBool(value: boolean): number {
  return value ? 1 : 0;
}

export function fromIntBool(value: number): boolean {
  return value !== 0;
}

export function toJsonList(list: readonly string[]): string {
  return JSON.stringify(list);
}

export function fromJsonList(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) {
    throw new Error(`Corrupt list column: expected a JSON array of strings, got ${text.slice(0, 80)}`);
  }
  return parsed;
}

export function fromJsonObject(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`Corrupt details column: expected a JSON object, got ${text.slice(0, 80)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Kysely reports affected rows as bigint; callers want a number. */
export function affected(result: { numUpdatedRows: bigint } | { numDeletedRows: bigint }): number {
  return Number('numUpdatedRows' in result ? result.numUpdatedRows : result.numDeletedRows);
}

/** Same-set comparison (order and duplicates ignored). */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** Runs `fn` in a transaction, reusing the current one when `db` already is a transaction. */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Escapes LIKE wildcards so user input matches literally (used with `escape '\'`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/**
 * The UTC day (`YYYY-MM-DD`) of an epoch-millisecond column. Contains no bound parameters, so
 * the same expression can appear in SELECT and GROUP BY on PostgreSQL.
 */
export function utcDayOf(dialect: SqlDialect, column: 'created_at' | 'at'): RawBuilder<string> {
  const col = sql.ref(column);
  return dialect === 'postgres'
    ? sql<string>`to_char(to_timestamp(${col} / 1000.0) at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string>`strftime('%Y-%m-%d', ${col} / 1000, 'unixepoch')`;
}

/** tokens.exchange (0014): a token exchange's facts as JSON text; null for any other token. */
export function toExchangeText(facts: TokenExchangeFacts | undefined): string | null {
  return facts === undefined ? null : JSON.stringify(facts);
}

export function fromExchangeText(text: string | null | undefined): TokenExchangeFacts | undefined {
  if (text === null || text === undefined) return undefined;
  const parsed = fromJsonObject(text);
  return {
    act: actFrom(parsed['act']),
    notAfter: typeof parsed['notAfter'] === 'number' ? parsed['notAfter'] : null,
    subject: typeof parsed['subject'] === 'string' ? parsed['subject'] : null,
  };
}

function actFrom(value: unknown): ActClaim | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (typeof v['sub'] !== 'string') throw new Error('Corrupt exchange column: act without sub');
  const inner = actFrom(v['act']);
  return inner === null ? { sub: v['sub'] } : { sub: v['sub'], act: inner };
}
