/** SessionRepo on Kysely: browser login sessions (stored by hash of the session id). */
import type { Selectable } from 'kysely';
import type { SessionRepo, SessionRow } from '../../types.js';
import type { SessionsTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

function toRow(row: Selectable<SessionsTable>): SessionRow {
  return { idHash: row.id_hash, userId: row.user_id, expiresAt: row.expires_at, createdAt: row.created_at };
}

export class KyselySessionRepo implements SessionRepo {
  constructor(private readonly db: Db) {}

  async create(session: SessionRow): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: session.idHash,
        user_id: session.userId,
        expires_at: session.expiresAt,
        created_at: session.createdAt,
      })
      .execute();
  }

  async byHash(idHash: string): Promise<SessionRow | null> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteByUser(userId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  async purgeExpired(before: number): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<', before).executeTakeFirst();
    return affected(result);
  }
}
