/** ConsentRepo on Kysely: remembered user consents, one row per (user, client). */
import type { Selectable } from 'kysely';
import type { ConsentRepo, ConsentRow } from '../../types.js';
import type { ConsentsTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

function toRow(row: Selectable<ConsentsTable>): ConsentRow {
  return {
    userId: row.user_id,
    clientId: row.client_id,
    scope: row.scope,
    scopesVersion: row.scopes_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  };
}

export class KyselyConsentRepo implements ConsentRepo {
  constructor(private readonly db: Db) {}

  async get(userId: string, clientId: string): Promise<ConsentRow | null> {
    const row = await this.db
      .selectFrom('consents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** Insert, or replace scope and scopes_version (keeping created_at and last_used_at). */
  async upsert(consent: Omit<ConsentRow, 'createdAt' | 'updatedAt' | 'lastUsedAt'>, now: number): Promise<void> {
    await this.db
      .insertInto('consents')
      .values({
        user_id: consent.userId,
        client_id: consent.clientId,
        scope: consent.scope,
        scopes_version: consent.scopesVersion,
        created_at: now,
        updated_at: now,
        last_used_at: null,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'client_id']).doUpdateSet({
          scope: consent.scope,
          scopes_version: consent.scopesVersion,
          updated_at: now,
        }),
      )
      .execute();
  }

  /** Ordered by creation time, then client id. */
  async listByUser(userId: string): Promise<ConsentRow[]> {
    const rows = await this.db
      .selectFrom('consents')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('client_id')
      .execute();
    return rows.map(toRow);
  }

  async delete(userId: string, clientId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('consents')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return affected(result) > 0;
  }
}
