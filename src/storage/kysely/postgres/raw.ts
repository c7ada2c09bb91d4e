/**
 * PostgreSQL's hot path (see ../hot-path.ts): named statements for the hot reads, token inserts
 * group-committed as one multi-row INSERT (`unnest`) per event-loop turn, and a grant redemption
 * as one statement.
 */
import type { Selectable } from 'kysely';
import { CONSENT_USE_GRANULARITY_MS, type GrantRedemption, type NewToken } from '../../types.js';
import type { TokensTable, UsersTable } from '../schema.js';
import type { RawPath } from '../hot-path.js';
import { TOKEN_COLUMNS, tokenArrays, unnestTokens } from '../token-columns.js';

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

/** The subset of `pg.Pool` the raw path needs. */
interface PgQueryable {
  query<R extends object>(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}


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

/** The redemption statement around a consume (`$1` = now): consent at `$n`, `$n+1`, tokens after. */
function redeemSql(consume: string, n: number): string {
  return (
    `with consumed as (${consume}), ` +
    `touched as (update consents set last_used_at = $1 where user_id = $${n}::text and client_id = $${n + 1}::text ` +
    `and (last_used_at is null or last_used_at <= $1::bigint - ${CONSENT_USE_GRANULARITY_MS}) ` +
    'and exists (select 1 from consumed)), ' +
    `inserted as (insert into tokens (${TOKEN_COLUMNS}) ${unnestTokens(n + 2)} where exists (select 1 from consumed)) ` +
    'select count(*)::int as won from consumed'
  );
}
