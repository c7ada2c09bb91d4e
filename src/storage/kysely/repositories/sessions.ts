/** SessionRepo on Kysely: browser login sessions (stored by hash of the session id). */
import type { Selectable } from 'kysely';
import type { NewSession, SessionRepo, SessionRow } from '../../types.js';
import type { SessionsTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

function toRow(row: Selectable<SessionsTable>): SessionRow {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    authTime: row.auth_time ?? row.created_at,
    amr: row.amr === null ? null : (JSON.parse(row.amr) as string[]),
    acr: row.acr,
    kind: row.kind,
    endedAt: row.ended_at,
  };
}

export class KyselySessionRepo implements SessionRepo {
  constructor(private readonly db: Db) {}

  async create(session: NewSession): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: session.idHash,
        user_id: session.userId,
        expires_at: session.expiresAt,
        created_at: session.createdAt,
        auth_time: session.authTime ?? session.createdAt,
        amr: session.amr ? JSON.stringify(session.amr) : null,
        acr: session.acr ?? null,
        kind: session.kind ?? 'builtin',
        ended_at: null,
      })
      .execute();
  }

  async end(idHash: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('sessions').set({ ended_at: now }).where('id_hash', '=', idHash).where('ended_at', 'is', null).executeTakeFirst();
    if (affected(result) > 0) return true;
    return (await this.byHash(idHash)) !== null;
  }

  async byHash(idHash: string): Promise<SessionRow | null> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async delete(idHash: string): Promise<boolean> {
    return affected(await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst()) > 0;
  }

  async deleteByUser(userId: string): Promise<string[]> {
    const rows = await this.db.deleteFrom('sessions').where('user_id', '=', userId).returning('id_hash').execute();
    return rows.map((r) => r.id_hash);
  }

  async purgeExpired(before: number): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<', before).executeTakeFirst();
    return affected(result);
  }
}
