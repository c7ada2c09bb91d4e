/**
 * The storage hot path (issue #5): what the token, introspection and API endpoints do on every
 * request, made cheap without weakening any guarantee.
 *
 * - **Epoch cache.** Clients, scopes, resource servers and the current signing kid are kept in
 *   memory, tagged with the cache epoch (migration 0003: a counter that triggers increment on
 *   every change to those tables, from any process or tool). Every use first reads the counter —
 *   one indexed single-row read, shared by the requests of one event-loop turn that arrived
 *   before it — and drops the whole cache when it moved. A deactivation or a
 *   rotation made anywhere is therefore honoured on the next request, exactly as before.
 * - **Group commit.** Writes made outside a transaction on the request path — token inserts,
 *   authorization-code inserts, grant redemptions — are queued and committed together, once per
 *   event-loop turn: on SQLite one transaction of prepared statements (run again with a
 *   savepoint per write if one fails); on PostgreSQL token inserts become one multi-row INSERT
 *   and a redemption is one statement. Each caller's promise settles only after that commit, so nothing is answered
 *   before it is durable, and one failing write fails only its own request.
 * - **Raw statements.** The few hot reads run as prepared statements, skipping query building.
 *   On SQLite only while no transaction is open on the connection: otherwise they go through
 *   Kysely, which waits for the transaction to finish, so nothing uncommitted is ever read.
 *
 * Only the root repositories use it; repositories bound to a transaction always query directly.
 *
 * The parts live apart: the epoch cache in ./epoch-cache.ts, SQLite's raw statements and group
 * commit in ./sqlite/raw.ts, PostgreSQL's in ./postgres/raw.ts, the token row both (and Kysely)
 * write in ./token-columns.ts; this file holds the interfaces they share.
 */
import type { Selectable } from 'kysely';
import type { AuthorizationCodeRow, GrantRedemption, NewToken } from '../types.js';
import type { TokensTable, UsersTable } from './schema.js';
import type { EpochCache } from './epoch-cache.js';

/** Hot reads and the batched insert without query building: SQLite or PostgreSQL. */
export interface RawPath {
  /** False while the raw path could see uncommitted data (SQLite: a transaction is open). */
  readonly available: boolean;
  token(hash: string): Selectable<TokensTable> | null | Promise<Selectable<TokensTable> | null>;
  user(id: string): Selectable<UsersTable> | null | Promise<Selectable<UsersTable> | null>;
}

/** What the root repositories use; transaction-bound repositories get none. */
export interface HotPath {
  readonly cache: EpochCache;
  readonly raw: RawPath;
  /** Stores tokens, group-committed; resolves after the commit (all rows or none). */
  readonly insertTokens: (rows: readonly NewToken[]) => Promise<void>;
  /** Commits a grant redemption (see GrantRepo.redeem) without a Kysely transaction. */
  readonly redeem: (r: GrantRedemption) => Promise<boolean>;
  /** Stores an authorization code, group-committed (SQLite; PostgreSQL inserts it directly). */
  readonly insertCode?: (code: AuthorizationCodeRow) => Promise<void>;
}
