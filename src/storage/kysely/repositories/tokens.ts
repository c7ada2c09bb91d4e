/**
 * TokenRepo on Kysely: access and refresh tokens (stored by hash).
 * - a refresh token is consumed by its grant's redemption (grants.ts).
 * - every revoke* sets `revoked_at` only where it is still null and returns rows changed.
 */
import { sql, type Selectable } from 'kysely';
import { exchangeFamilyOf, type NewToken, type TokenRepo, type TokenRow } from '../../types.js';
import type { TokensTable } from '../schema.js';
import { affected, fromExchangeText, utcDayOf, type Db, type SqlDialect } from '../shared.js';
import { toColumns } from '../token-columns.js';
import type { HotPath } from '../hot-path.js';

/**
 * Rows per purge DELETE. On SQLite a DELETE runs on the event loop: 5,000 rows of a 1 M-row table
 * held requests for up to ~280 ms (bench, issue #5); 500 keeps each pause short.
 */
const PURGE_BATCH = 500;

function toRow(row: Selectable<TokensTable>): TokenRow {
  const exchange = fromExchangeText(row.exchange);
  return {
    tokenHash: row.token_hash,
    kind: row.kind,
    format: row.format,
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope,
    audience: row.audience,
    familyId: row.family_id,
    parentHash: row.parent_hash,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    consumedAt: row.consumed_at,
    createdAt: row.created_at,
    ...(exchange !== undefined ? { exchange } : {}),
  };
}

export class KyselyTokenRepo implements TokenRepo {
  constructor(
    private readonly db: Db,
    private readonly dialect: SqlDialect,
    private readonly hot?: HotPath,
  ) {}

  async insert(token: NewToken): Promise<void> {
    if (this.hot) return this.hot.insertTokens([token]);
    await this.db.insertInto('tokens').values(toColumns(token)).execute();
  }

  /** One multi-row INSERT (all or nothing); a no-op for an empty list. */
  async insertMany(tokens: readonly NewToken[]): Promise<void> {
    if (tokens.length === 0) return;
    if (this.hot) return this.hot.insertTokens(tokens);
    await this.db.insertInto('tokens').values(tokens.map(toColumns)).execute();
  }

  /**
   * On the root handle, access tokens come from the epoch-validated cache (migration 0006: a
   * revocation or deletion moves the epoch). Refresh tokens are always read: a rotation marks
   * them consumed without moving the epoch.
   */
  async byHash(tokenHash: string): Promise<TokenRow | null> {
    const hot = this.hot;
    if (hot) return hot.cache.get(`token:${tokenHash}`, () => this.read(tokenHash, hot), false, (row) => row?.kind === 'access');
    return this.read(tokenHash, undefined);
  }

  private async read(tokenHash: string, hot: HotPath | undefined): Promise<TokenRow | null> {
    if (hot?.raw.available) {
      const raw = await hot.raw.token(tokenHash);
      return raw ? toRow(raw) : null;
    }
    const row = await this.db.selectFrom('tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async graceResponse(tokenHash: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('tokens')
      .select('grace_response')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row?.grace_response ?? null;
  }

  /**
   * The token itself plus, for a refresh token, the access tokens whose parent it is, and the
   * tokens exchanged from it when it had no family of its own (the family named after it).
   */
  async revoke(tokenHash: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('revoked_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('token_hash', '=', tokenHash),
          eb.and([eb('parent_hash', '=', tokenHash), eb('kind', '=', 'access')]),
          eb('family_id', '=', exchangeFamilyOf(tokenHash)),
        ]),
      )
      .executeTakeFirst();
    return affected(result);
  }

  async revokeFamily(familyId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return affected(result);
  }

  async revokeByClient(clientId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    // What other applications obtained by exchanging them (RFC 8693): their families' tokens.
    const families = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('revoked_at', 'is', null)
      .where('family_id', 'in', (eb) =>
        eb.selectFrom('tokens as s').select('s.family_id').where('s.client_id', '=', clientId).where('s.family_id', 'is not', null),
      )
      .executeTakeFirst();
    const exchanged = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('revoked_at', 'is', null)
      .where('family_id', 'in', (eb) =>
        eb
          .selectFrom('tokens as s')
          .select(sql<string>`${'x.'} || s.token_hash`.as('family_id'))
          .where('s.client_id', '=', clientId)
          .where('s.family_id', 'is', null),
      )
      .executeTakeFirst();
    return affected(result) + affected(families) + affected(exchanged);
  }

  async revokeByUser(userId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return affected(result);
  }

  async revokeByUserAndClient(userId: string, clientId: string, now: number, exceptFamilyId?: string): Promise<number> {
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .$if(exceptFamilyId !== undefined, (qb) => qb.where((eb) => eb.or([eb('family_id', 'is', null), eb('family_id', '!=', exceptFamilyId as string)])))
      .executeTakeFirst();
    // The user's tokens other applications obtained by exchanging these (RFC 8693): the same
    // families, or the families named after these tokens when they had none.
    const exchanged = await this.db
      .updateTable('tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('client_id', '!=', clientId)
      .where('revoked_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('family_id', 'in', eb
            .selectFrom('tokens as s')
            .select('s.family_id')
            .where('s.user_id', '=', userId)
            .where('s.client_id', '=', clientId)
            .where('s.family_id', 'is not', null)
            .$if(exceptFamilyId !== undefined, (qb) => qb.where('s.family_id', '!=', exceptFamilyId as string))),
          eb('family_id', 'in', eb
            .selectFrom('tokens as s')
            .select(sql<string>`${'x.'} || s.token_hash`.as('family_id'))
            .where('s.user_id', '=', userId)
            .where('s.client_id', '=', clientId)
            .where('s.family_id', 'is', null)),
        ]),
      )
      .executeTakeFirst();
    return affected(result) + affected(exchanged);
  }

  /** Expired before `before`, or revoked before `before`; long-lived (null expiry) tokens stay unless revoked. */
  /**
   * In batches: each DELETE stays short (well inside the PostgreSQL query timeout), and between
   * batches the event loop serves requests (SQLite runs on it), so a purge of millions of rows
   * never stalls the server.
   */
  async purgeExpired(before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const started = performance.now();
      const batch = this.db
        .selectFrom('tokens')
        .select('token_hash')
        .where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)]))
        .limit(PURGE_BATCH);
      const result = await this.db.deleteFrom('tokens').where('token_hash', 'in', batch).executeTakeFirst();
      const n = affected(result);
      total += n;
      if (n < PURGE_BATCH) return total;
      // Paced: after each batch, as long again for requests (the purge takes at most half of
      // the event loop on SQLite, and half of the database's write time on PostgreSQL).
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, performance.now() - started)));
    }
  }

  /** Tokens created at or after `since`, per client and UTC day; ordered by day, then client. */
  async countIssuedSince(since: number): Promise<Array<{ clientId: string; day: string; count: number }>> {
    const day = utcDayOf(this.dialect, 'created_at');
    const rows = await this.db
      .selectFrom('tokens')
      .select((eb) => ['client_id', day.as('day'), eb.fn.countAll().as('count')])
      .where('created_at', '>=', since)
      .groupBy(['client_id', day])
      .orderBy(day)
      .orderBy('client_id')
      .execute();
    return rows.map((row) => ({ clientId: row.client_id, day: row.day, count: Number(row.count) }));
  }
}
