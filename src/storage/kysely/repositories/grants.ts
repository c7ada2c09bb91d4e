/**
 * GrantRepo on Kysely: a grant's redemption as one commit. The consume is a conditional UPDATE
 * whose affected-row count picks the single winner; only the winner writes anything else.
 * On the root handle the hot path (hot-path.ts) commits it instead: group-committed prepared
 * statements on SQLite, one statement on PostgreSQL.
 */
import { CONSENT_USE_GRANULARITY_MS, type GrantRedemption, type GrantRepo } from '../../types.js';
import { affected, inTransaction, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';
import { toColumns } from '../token-columns.js';

export class KyselyGrantRepo implements GrantRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  redeem(redemption: GrantRedemption): Promise<boolean> {
    if (this.hot) return this.hot.redeem(redemption);
    return inTransaction(this.db, (trx) => redeemWithKysely(trx, redemption));
  }
}

/** The redemption's statements on `db`, which must be a transaction (or the caller's). */
async function redeemWithKysely(db: Db, r: GrantRedemption): Promise<boolean> {
  const consumed =
    r.consume.kind === 'code'
      ? await db
          .updateTable('authorization_codes')
          .set({ consumed_at: r.now })
          .where('code_hash', '=', r.consume.hash)
          .where('consumed_at', 'is', null)
          .executeTakeFirst()
      : await db
          .updateTable('tokens')
          .set({ consumed_at: r.now, grace_response: r.graceResponse })
          .where('token_hash', '=', r.consume.hash)
          .where('kind', '=', 'refresh')
          .where('consumed_at', 'is', null)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
  if (affected(consumed) !== 1) return false;
  if (r.consent) {
    await db
      .updateTable('consents')
      .set({ last_used_at: r.now })
      .where('user_id', '=', r.consent.userId)
      .where('client_id', '=', r.consent.clientId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', r.now - CONSENT_USE_GRANULARITY_MS)]))
      .execute();
  }
  if (r.tokens.length > 0) await db.insertInto('tokens').values(r.tokens.map(toColumns)).execute();
  return true;
}
