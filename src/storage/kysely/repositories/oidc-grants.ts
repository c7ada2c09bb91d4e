/** OidcGrantRepo on Kysely: the sign-in behind each OpenID Connect grant (migration 0009). */
import { sql, type Selectable } from 'kysely';
import type { OidcGrantRepo, OidcGrantRow } from '../../types.js';
import type { OidcGrantsTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

function toRow(row: Selectable<OidcGrantsTable>): OidcGrantRow {
  return {
    familyId: row.family_id,
    clientId: row.client_id,
    userId: row.user_id,
    nonce: row.nonce,
    authTime: Number(row.auth_time),
    amr: row.amr === null ? null : (JSON.parse(row.amr) as string[]),
    acr: row.acr,
    sid: row.sid,
    idTokenClaims: row.id_token_claims === null ? null : (JSON.parse(row.id_token_claims) as string[]),
    createdAt: Number(row.created_at),
  };
}

export class KyselyOidcGrantRepo implements OidcGrantRepo {
  constructor(private readonly db: Db) {}

  async create(row: OidcGrantRow): Promise<void> {
    await this.db
      .insertInto('oidc_grants')
      .values({
        family_id: row.familyId,
        client_id: row.clientId,
        user_id: row.userId,
        nonce: row.nonce,
        auth_time: row.authTime,
        amr: row.amr === null ? null : JSON.stringify(row.amr),
        acr: row.acr,
        sid: row.sid,
        id_token_claims: row.idTokenClaims && row.idTokenClaims.length > 0 ? JSON.stringify(row.idTokenClaims) : null,
        created_at: row.createdAt,
      })
      .execute();
  }

  async byFamily(familyId: string): Promise<OidcGrantRow | null> {
    const row = await this.db.selectFrom('oidc_grants').selectAll().where('family_id', '=', familyId).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async bySid(sid: string, limit: number): Promise<OidcGrantRow[]> {
    const rows = await this.db.selectFrom('oidc_grants').selectAll().where('sid', '=', sid).orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map(toRow);
  }

  /** Oldest first, from the created_at index; the family check uses tokens_family_id_idx. */
  async purgeOrphans(before: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oidc_grants')
      .where('family_id', 'in', (eb) =>
        eb
          .selectFrom('oidc_grants as g')
          .select('g.family_id')
          .where('g.created_at', '<', before)
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tokens').select(sql.lit(1).as('one')).whereRef('tokens.family_id', '=', 'g.family_id'))))
          .orderBy('g.created_at')
          .limit(limit),
      )
      .executeTakeFirst();
    return affected(result);
  }
}
