/**
 * SQLite's hot path (see ../hot-path.ts): prepared better-sqlite3 statements for the hot reads,
 * and the group commit of the request path's writes (token and code inserts, grant redemptions)
 * in one transaction per event-loop turn, run again with a savepoint per write if one fails.
 */
import type SQLite from 'better-sqlite3';
import type { Selectable } from 'kysely';
import { CONSENT_USE_GRANULARITY_MS, type AuthorizationCodeRow, type GrantRedemption, type NewToken } from '../../types.js';
import type { TokensTable, UsersTable } from '../schema.js';
import type { RawPath } from '../hot-path.js';
import { TOKEN_COLUMNS, TOKEN_WRITE_COLUMNS, tokenValues } from '../token-columns.js';

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
    touchConsent: SQLite.Statement<[number, string, string, number]>;
    insertCode: SQLite.Statement<unknown[]>;
  } | null = null;

  constructor(private readonly db: SQLite.Database) {}

  /** The rows' INSERTs, on the open transaction (the group commit's). */
  insertRows(rows: readonly NewToken[]): void {
    const { insert } = this.prepared();
    for (const t of rows) {
      insert.run(...tokenValues(t));
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
    if (r.consent) st.touchConsent.run(r.now, r.consent.userId, r.consent.clientId, r.now - CONSENT_USE_GRANULARITY_MS);
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
        `insert into tokens (${TOKEN_COLUMNS}) values (${TOKEN_WRITE_COLUMNS.map(() => '?').join(', ')})`,
      ),
      consumeCode: this.db.prepare<[number, string]>(
        'update authorization_codes set consumed_at = ? where code_hash = ? and consumed_at is null',
      ),
      consumeRefresh: this.db.prepare<[number, string | null, string]>(
        "update tokens set consumed_at = ?, grace_response = ? where token_hash = ? and kind = 'refresh' " +
          'and consumed_at is null and revoked_at is null',
      ),
      touchConsent: this.db.prepare<[number, string, string, number]>(
        'update consents set last_used_at = ? where user_id = ? and client_id = ? and (last_used_at is null or last_used_at <= ?)',
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
