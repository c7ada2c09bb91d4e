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
 */
import type SQLite from 'better-sqlite3';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryId,
  QueryResult,
  RootOperationNode,
  Selectable,
  UnknownRow,
} from 'kysely';
import type { AuthorizationCodeRow, GrantRedemption, NewToken } from '../types.js';
import type { TokensTable, UsersTable } from './schema.js';
import { toExchangeText } from './shared.js';

const CACHE_MAX_ENTRIES = 10_000;

/** A cache that trusts its entries only while the database's cache epoch is unchanged. */
export class EpochCache {
  private epoch = -1;
  private readonly entries = new Map<string, { readonly value: unknown }>();
  /** Arrival marks: see `markArrival`. */
  private marking = false;
  private arrivals = 0;
  private memo: { readonly epoch: number; readonly at: number } | null = null;

  /**
   * @param readEpoch the current epoch, or null when it cannot be read without waiting for an
   *   open transaction (the cache is then bypassed).
   */
  constructor(private readonly readEpoch: () => number | null | Promise<number | null>) {}

  /**
   * A request arrived. An epoch read taken after a request arrived sees every commit made before
   * it, so it can serve every request that arrived before the read, and no later one. Until the
   * first mark, every use reads the epoch afresh (callers that never mark lose nothing).
   */
  markArrival(): void {
    this.marking = true;
    this.arrivals++;
  }

  /** A write went through this handle: the next use reads the epoch again. */
  touch(): void {
    this.arrivals++;
  }

  private async currentEpoch(): Promise<number | null> {
    const at = this.arrivals;
    if (this.marking && this.memo !== null && this.memo.at === at) return this.memo.epoch;
    const epoch = await this.readEpoch();
    if (epoch !== null && this.marking) this.memo = { epoch, at };
    return epoch;
  }

  /**
   * @param keep which loaded values may be kept (default: any non-null one; `cacheNull` keeps
   *   null too).
   */
  async get<T>(key: string, load: () => Promise<T>, cacheNull = false, keep?: (value: T) => boolean): Promise<T> {
    const epoch = await this.currentEpoch();
    if (epoch === null) return load();
    if (epoch !== this.epoch) {
      this.entries.clear();
      this.epoch = epoch;
    }
    const hit = this.entries.get(key);
    if (hit) return hit.value as T;
    const value = await load();
    // Loaded after the epoch was read, so at least as new as it; kept only if no newer epoch
    // has been seen meanwhile.
    if ((value !== null || cacheNull) && this.epoch === epoch && (keep === undefined || keep(value))) {
      if (this.entries.size >= CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value });
    }
    return value;
  }
}

/**
 * Coalesces epoch reads: every request waiting in one event-loop turn shares one read, made
 * after all of them arrived (so it sees every change committed before any of them).
 */
export function coalescedEpoch<T>(read: () => T | Promise<T>): () => Promise<T> {
  let waiters: Array<{ resolve: (value: T) => void; reject: (e: unknown) => void }> = [];
  return () =>
    new Promise<T>((resolve, reject) => {
      waiters.push({ resolve, reject });
      if (waiters.length > 1) return;
      setImmediate(() => {
        const batch = waiters;
        waiters = [];
        new Promise<T>((done) => done(read())).then(
          (value) => batch.forEach((w) => w.resolve(value)),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        );
      });
    });
}

interface Pending {
  readonly rows: readonly NewToken[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Group commit of token inserts on PostgreSQL: one multi-row INSERT per event-loop turn. */
export class TokenWriter {
  private queue: Pending[] = [];

  /**
   * @param writeBatch writes all rows atomically (all or none), resolving after the commit.
   */
  constructor(private readonly writeBatch: (rows: readonly NewToken[]) => Promise<void>) {}

  write(rows: readonly NewToken[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1) {
      const only = batch[0] as Pending;
      return this.writeBatch(only.rows).then(only.resolve, only.reject);
    }
    try {
      await this.writeBatch(batch.flatMap((p) => p.rows));
      for (const p of batch) p.resolve();
    } catch {
      // One member's rows (a client deleted meanwhile, say) must not fail the others.
      for (const p of batch) await this.writeBatch(p.rows).then(p.resolve, p.reject);
    }
  }
}

/** Hot reads and the batched insert without query building: SQLite or PostgreSQL. */
export interface RawPath {
  /** False while the raw path could see uncommitted data (SQLite: a transaction is open). */
  readonly available: boolean;
  token(hash: string): Selectable<TokensTable> | null | Promise<Selectable<TokensTable> | null>;
  user(id: string): Selectable<UsersTable> | null | Promise<Selectable<UsersTable> | null>;
}

/** Whether the raw path may use the connection: open, and no (Kysely) transaction on it. */
function connectionFree(db: SQLite.Database): boolean {
  return db.open && !db.inTransaction;
}

/** Prepared better-sqlite3 statements for the hot reads and the batched insert. */
export class SqliteRaw implements RawPath {
  private statements: {
    epoch: SQLite.Statement<[], number>;
    token: SQLite.Statement<[string], Selectable<TokensTable>>;
    user: SQLite.Statement<[string], Selectable<UsersTable>>;
    insert: SQLite.Statement<unknown[]>;
    consumeCode: SQLite.Statement<[number, string]>;
    consumeRefresh: SQLite.Statement<[number, string | null, string]>;
    touchConsent: SQLite.Statement<[number, string, string]>;
    insertCode: SQLite.Statement<unknown[]>;
  } | null = null;

  constructor(private readonly db: SQLite.Database) {}

  /** The rows' INSERTs, on the open transaction (the group commit's). */
  insertRows(rows: readonly NewToken[]): void {
    const { insert } = this.prepared();
    for (const t of rows) {
      insert.run(t.tokenHash, t.kind, t.format, t.clientId, t.userId, t.scope, t.audience, t.familyId, t.parentHash, t.expiresAt, t.createdAt, toExchangeText(t.exchange));
    }
  }

  /** A redemption's statements, on the open transaction: whether this one consumed the code or token. */
  redeem(r: GrantRedemption): boolean {
    const st = this.prepared();
    const consumed =
      r.consume.kind === 'code'
        ? st.consumeCode.run(r.now, r.consume.hash)
        : st.consumeRefresh.run(r.now, r.graceResponse, r.consume.hash);
    if (consumed.changes !== 1) return false;
    if (r.consent) st.touchConsent.run(r.now, r.consent.userId, r.consent.clientId);
    this.insertRows(r.tokens);
    return true;
  }

  /** An authorization code's INSERT, on the open transaction. */
  insertCode(c: AuthorizationCodeRow): void {
    this.prepared().insertCode.run(
      c.codeHash, c.clientId, c.userId, c.redirectUri, c.scope, c.resource, c.codeChallenge, c.codeChallengeMethod, c.familyId, c.expiresAt, c.consumedAt, c.createdAt, c.replaceExisting ? 1 : 0,
    );
  }

  /** Prepared on first use (after migrations ran). */
  private prepared(): NonNullable<SqliteRaw['statements']> {
    this.statements ??= {
      epoch: this.db.prepare<[], number>('select epoch from cache_epoch where id = 1').pluck(),
      token: this.db.prepare<[string], Selectable<TokensTable>>('select * from tokens where token_hash = ?'),
      user: this.db.prepare<[string], Selectable<UsersTable>>('select * from users where id = ?'),
      insert: this.db.prepare<unknown[]>(
        `insert into tokens (${TOKEN_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      consumeCode: this.db.prepare<[number, string]>(
        'update authorization_codes set consumed_at = ? where code_hash = ? and consumed_at is null',
      ),
      consumeRefresh: this.db.prepare<[number, string | null, string]>(
        "update tokens set consumed_at = ?, grace_response = ? where token_hash = ? and kind = 'refresh' " +
          'and consumed_at is null and revoked_at is null',
      ),
      touchConsent: this.db.prepare<[number, string, string]>(
        'update consents set last_used_at = ? where user_id = ? and client_id = ?',
      ),
      insertCode: this.db.prepare<unknown[]>(
        'insert into authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, resource, code_challenge, ' +
          'code_challenge_method, family_id, expires_at, consumed_at, created_at, replace_existing) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
    return this.statements;
  }

  /** False while a (Kysely) transaction is open on the connection: then go through Kysely. */
  get available(): boolean {
    return connectionFree(this.db);
  }

  epoch(): number | null {
    if (!this.available) return null;
    return this.prepared().epoch.get() ?? 0;
  }

  token(hash: string): Selectable<TokensTable> | null {
    return this.prepared().token.get(hash) ?? null;
  }

  user(id: string): Selectable<UsersTable> | null {
    return this.prepared().user.get(id) ?? null;
  }
}

interface PendingUnit {
  readonly run: () => unknown;
  readonly fallback: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { readonly value: unknown } | { readonly error: unknown };

/** Thrown inside the optimistic batch when one of its writes fails. */
class UnitFailed extends Error {}

/**
 * Group commit on SQLite: the writes requested in one event-loop turn (token inserts, code
 * inserts, grant redemptions) run as prepared statements in one BEGIN IMMEDIATE … COMMIT, and
 * every caller is answered after that commit. If one write fails (a constraint, say), the batch
 * is rolled back and run again with a savepoint per write, so the failing one is undone and
 * fails alone. While a Kysely transaction holds the connection, each write's `fallback`
 * (Kysely, which waits for that transaction to end) is used instead.
 */
export class SqliteGroupCommit {
  private queue: PendingUnit[] = [];
  private readonly commitAll: SQLite.Transaction<(units: readonly PendingUnit[]) => Outcome[]>;
  private readonly commitEach: SQLite.Transaction<(units: readonly PendingUnit[]) => Outcome[]>;

  constructor(private readonly db: SQLite.Database) {
    this.commitAll = db.transaction((units: readonly PendingUnit[]) =>
      units.map((u): Outcome => {
        try {
          return { value: u.run() };
        } catch {
          throw new UnitFailed();
        }
      }),
    );
    // Called inside commitEach's transaction, a better-sqlite3 transaction function is a savepoint.
    const inSavepoint = db.transaction((run: () => unknown) => run());
    this.commitEach = db.transaction((units: readonly PendingUnit[]) =>
      units.map((u): Outcome => {
        try {
          return { value: inSavepoint(u.run) };
        } catch (error) {
          return { error };
        }
      }),
    );
  }

  run<T>(unit: () => T, fallback: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: unit, fallback, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (!connectionFree(this.db)) {
      for (const u of batch) u.fallback().then(u.resolve, u.reject);
      return;
    }
    let outcomes: Outcome[];
    try {
      try {
        outcomes = this.commitAll.immediate(batch);
      } catch (err) {
        if (!(err instanceof UnitFailed)) throw err;
        outcomes = this.commitEach.immediate(batch);
      }
    } catch (err) {
      // BEGIN or COMMIT failed (busy beyond busy_timeout, I/O): nothing was written.
      for (const u of batch) u.reject(err);
      return;
    }
    batch.forEach((u, i) => {
      const outcome = outcomes[i] as Outcome;
      if ('value' in outcome) u.resolve(outcome.value);
      else u.reject(outcome.error);
    });
  }
}

/** The subset of `pg.Pool` the raw path needs. */
interface PgQueryable {
  query<R extends object>(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

const TOKEN_COLUMNS = 'token_hash, kind, format, client_id, user_id, scope, audience, family_id, parent_hash, expires_at, created_at, exchange';

/**
 * Named (server-side prepared) statements on PostgreSQL: parsed and planned once per pooled
 * connection. The batched insert is one fixed statement for any batch size (`unnest` of one
 * array per column). Pooled queries never see another transaction's uncommitted rows, so the
 * path is always available.
 */
export class PgRaw implements RawPath {
  readonly available = true;

  constructor(private readonly pool: PgQueryable) {}

  async epoch(): Promise<number> {
    const { rows } = await this.pool.query<{ epoch: number }>({ name: 'tollgate_epoch', text: 'select epoch from cache_epoch where id = 1' });
    return Number(rows[0]?.epoch ?? 0);
  }

  async token(hash: string): Promise<Selectable<TokensTable> | null> {
    const { rows } = await this.pool.query<Selectable<TokensTable>>({
      name: 'tollgate_token_by_hash',
      text: 'select * from tokens where token_hash = $1',
      values: [hash],
    });
    return rows[0] ?? null;
  }

  async user(id: string): Promise<Selectable<UsersTable> | null> {
    const { rows } = await this.pool.query<Selectable<UsersTable>>({ name: 'tollgate_user_by_id', text: 'select * from users where id = $1', values: [id] });
    return rows[0] ?? null;
  }

  /** One statement, so all rows or none. */
  async insertTokens(rows: readonly NewToken[]): Promise<void> {
    await this.pool.query({ name: 'tollgate_insert_tokens', text: `insert into tokens (${TOKEN_COLUMNS}) ${unnestTokens(1)}`, values: tokenArrays(rows) });
  }

  /**
   * A redemption in one statement (one round trip, atomic by itself): the consume is a
   * data-modifying CTE, and the consent update and the insert run only when it changed a row.
   */
  async redeem(r: GrantRedemption): Promise<boolean> {
    const consent = r.consent ?? { userId: null, clientId: null };
    const { rows } =
      r.consume.kind === 'code'
        ? await this.pool.query<{ won: number }>({
            name: 'tollgate_redeem_code',
            text: redeemSql(
              'update authorization_codes set consumed_at = $1 where code_hash = $2 and consumed_at is null returning 1',
              3,
            ),
            values: [r.now, r.consume.hash, consent.userId, consent.clientId, ...tokenArrays(r.tokens)],
          })
        : await this.pool.query<{ won: number }>({
            name: 'tollgate_redeem_refresh',
            text: redeemSql(
              "update tokens set consumed_at = $1, grace_response = $3::text where token_hash = $2 and kind = 'refresh' " +
                'and consumed_at is null and revoked_at is null returning 1',
              4,
            ),
            values: [r.now, r.consume.hash, r.graceResponse, consent.userId, consent.clientId, ...tokenArrays(r.tokens)],
          });
    return Number(rows[0]?.won ?? 0) === 1;
  }
}

/** `select * from unnest(...)` of the token columns, as parameters from `$first` on. */
function unnestTokens(first: number): string {
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'text'];
  return `select * from unnest(${types.map((t, i) => `$${first + i}::${t}[]`).join(', ')})`;
}

/** The redemption statement around a consume (`$1` = now): consent at `$n`, `$n+1`, tokens after. */
function redeemSql(consume: string, n: number): string {
  return (
    `with consumed as (${consume}), ` +
    `touched as (update consents set last_used_at = $1 where user_id = $${n}::text and client_id = $${n + 1}::text ` +
    'and exists (select 1 from consumed)), ' +
    `inserted as (insert into tokens (${TOKEN_COLUMNS}) ${unnestTokens(n + 2)} where exists (select 1 from consumed)) ` +
    'select count(*)::int as won from consumed'
  );
}

function tokenArrays(rows: readonly NewToken[]): unknown[] {
  return [
    rows.map((t) => t.tokenHash),
    rows.map((t) => t.kind),
    rows.map((t) => t.format),
    rows.map((t) => t.clientId),
    rows.map((t) => t.userId),
    rows.map((t) => t.scope),
    rows.map((t) => t.audience),
    rows.map((t) => t.familyId),
    rows.map((t) => t.parentHash),
    rows.map((t) => t.expiresAt),
    rows.map((t) => t.createdAt),
    rows.map((t) => toExchangeText(t.exchange)),
  ];
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

/**
 * Touches the cache after every write made through Kysely on this handle (its transactions
 * included), so a process reading back what it just changed never gets a memoised epoch.
 */
export class WriteTouchPlugin implements KyselyPlugin {
  private readonly writes = new WeakSet<QueryId>();

  constructor(private readonly cache: EpochCache) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const kind = args.node.kind;
    if (kind === 'InsertQueryNode' || kind === 'UpdateQueryNode' || kind === 'DeleteQueryNode' || kind === 'RawNode') {
      this.writes.add(args.queryId);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.writes.has(args.queryId)) this.cache.touch();
    return args.result;
  }
}
