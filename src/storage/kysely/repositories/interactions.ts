/** InteractionRepo on Kysely: authorization requests waiting for a sign-in (migration 0007). */
import type { Selectable } from 'kysely';
import type { InteractionRepo, InteractionRow } from '../../types.js';
import type { InteractionsTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

function toRow(row: Selectable<InteractionsTable>): InteractionRow {
  return {
    idHash: row.id_hash,
    browserHash: row.browser_hash,
    clientId: row.client_id,
    request: row.request,
    returnTo: row.return_to,
    sessionSubject: row.session_subject,
    loginRequestedAt: row.login_requested_at,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    result: row.result,
    decidedAt: row.decided_at,
    consumedAt: row.consumed_at,
  };
}

export class KyselyInteractionRepo implements InteractionRepo {
  constructor(private readonly db: Db) {}

  async create(row: Omit<InteractionRow, 'result' | 'decidedAt' | 'consumedAt'>): Promise<void> {
    await this.db
      .insertInto('interactions')
      .values({
        id_hash: row.idHash,
        browser_hash: row.browserHash,
        client_id: row.clientId,
        request: row.request,
        return_to: row.returnTo,
        session_subject: row.sessionSubject,
        login_requested_at: row.loginRequestedAt,
        created_at: row.createdAt,
        expires_at: row.expiresAt,
        result: null,
        decided_at: null,
        consumed_at: null,
      })
      .execute();
  }

  async byHash(idHash: string): Promise<InteractionRow | null> {
    const row = await this.db.selectFrom('interactions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** One conditional UPDATE: the first answer wins, a second one changes nothing. */
  async decide(idHash: string, result: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('interactions')
      .set({ result, decided_at: now })
      .where('id_hash', '=', idHash)
      .where('decided_at', 'is', null)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return affected(r) === 1;
  }

  async consume(idHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('interactions')
      .set({ consumed_at: now })
      .where('id_hash', '=', idHash)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return affected(r) === 1;
  }

  async purgeExpired(before: number): Promise<number> {
    return affected(await this.db.deleteFrom('interactions').where('expires_at', '<', before).executeTakeFirst());
  }
}
