/**
 * The one description of a token row as it is written: each column the INSERT sets, the
 * `NewToken` field it comes from and its PostgreSQL type. The three writers derive from it —
 * Kysely (`toColumns`, used inside transactions), SQLite's positional prepared statement
 * (./sqlite/raw.ts) and PostgreSQL's `unnest` of one array per column (./postgres/raw.ts) — so a
 * new column is one entry here (plus its migration), and the storage contract suite proves the
 * three write the same row and that every column of the table is either here or set later.
 */
import type { Insertable } from 'kysely';
import type { NewToken } from '../types.js';
import type { TokensTable } from './schema.js';
import { toExchangeText } from './shared.js';

/** Columns no INSERT sets: they change when a token is revoked, consumed or rotated. */
export const TOKEN_COLUMNS_SET_LATER = ['revoked_at', 'consumed_at', 'grace_response'] as const;

type WrittenColumn = Exclude<keyof TokensTable & string, (typeof TOKEN_COLUMNS_SET_LATER)[number]>;

interface ColumnWriter<K extends WrittenColumn> {
  /** The element type of its `unnest` array on PostgreSQL. */
  readonly pg: 'text' | 'bigint';
  readonly of: (t: NewToken) => Insertable<TokensTable>[K];
}

/** Keyed by column, so the compiler refuses a written column without an entry. */
const WRITERS: { readonly [K in WrittenColumn]: ColumnWriter<K> } = {
  token_hash: { pg: 'text', of: (t) => t.tokenHash },
  kind: { pg: 'text', of: (t) => t.kind },
  format: { pg: 'text', of: (t) => t.format },
  client_id: { pg: 'text', of: (t) => t.clientId },
  user_id: { pg: 'text', of: (t) => t.userId },
  scope: { pg: 'text', of: (t) => t.scope },
  audience: { pg: 'text', of: (t) => t.audience },
  family_id: { pg: 'text', of: (t) => t.familyId },
  parent_hash: { pg: 'text', of: (t) => t.parentHash },
  expires_at: { pg: 'bigint', of: (t) => t.expiresAt },
  created_at: { pg: 'bigint', of: (t) => t.createdAt },
  exchange: { pg: 'text', of: (t) => toExchangeText(t.exchange) },
};

interface WrittenColumnEntry {
  readonly name: WrittenColumn;
  readonly pg: 'text' | 'bigint';
  readonly of: (t: NewToken) => unknown;
}

/** The written columns, in the order the raw INSERTs list them. */
export const TOKEN_WRITE_COLUMNS: readonly WrittenColumnEntry[] = (Object.keys(WRITERS) as WrittenColumn[]).map(
  (name) => ({ name, pg: WRITERS[name].pg, of: WRITERS[name].of as (t: NewToken) => unknown }),
);

/** `token_hash, kind, …`: the column list of every raw token INSERT. */
export const TOKEN_COLUMNS = TOKEN_WRITE_COLUMNS.map((c) => c.name).join(', ');

const OFS = TOKEN_WRITE_COLUMNS.map((c) => c.of);

/** A token's values, positionally in TOKEN_COLUMNS order (SQLite's prepared INSERT). */
export function tokenValues(t: NewToken): unknown[] {
  const values = new Array<unknown>(OFS.length);
  for (let i = 0; i < OFS.length; i++) values[i] = (OFS[i] as (t: NewToken) => unknown)(t);
  return values;
}

/** One array per column, in TOKEN_COLUMNS order (PostgreSQL's `unnest` INSERT). */
export function tokenArrays(rows: readonly NewToken[]): unknown[][] {
  return OFS.map((of) => rows.map(of));
}

/** `select * from unnest($first::text[], …)`: the token rows as PostgreSQL parameters from `$first` on. */
export function unnestTokens(first: number): string {
  return `select * from unnest(${TOKEN_WRITE_COLUMNS.map((c, i) => `$${first + i}::${c.pg}[]`).join(', ')})`;
}

/** The row Kysely inserts (inside transactions): every written column, and the later ones null. */
export function toColumns(t: NewToken): Insertable<TokensTable> {
  const row: Record<string, unknown> = { revoked_at: null, consumed_at: null };
  for (const c of TOKEN_WRITE_COLUMNS) row[c.name] = c.of(t);
  return row as unknown as Insertable<TokensTable>;
}
