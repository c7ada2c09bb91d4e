/**
 * CodeRepo on Kysely: authorization codes (stored by hash). A code is consumed by its grant's
 * redemption (grants.ts).
 */
import type { Selectable } from 'kysely';
import type { AuthorizationCodeRow, CodeRepo } from '../../types.js';
import type { AuthorizationCodesTable } from '../schema.js';
import { affected, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function toRow(row: Selectable<AuthorizationCodesTable>): AuthorizationCodeRow {
  return {
    codeHash: row.code_hash,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    resource: row.resource,
    codeChallenge: row.code_challenge,
    codeChallengeMethod: row.code_challenge_method,
    familyId: row.family_id,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
    createdAt: row.created_at,
    replaceExisting: row.replace_existing === 1,
  };
}

export class KyselyCodeRepo implements CodeRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  async create(code: AuthorizationCodeRow): Promise<void> {
    if (this.hot?.insertCode) return this.hot.insertCode(code);
    await this.db
      .insertInto('authorization_codes')
      .values({
        code_hash: code.codeHash,
        client_id: code.clientId,
        user_id: code.userId,
        redirect_uri: code.redirectUri,
        scope: code.scope,
        resource: code.resource,
        code_challenge: code.codeChallenge,
        code_challenge_method: code.codeChallengeMethod,
        family_id: code.familyId,
        expires_at: code.expiresAt,
        consumed_at: code.consumedAt,
        created_at: code.createdAt,
        replace_existing: code.replaceExisting ? 1 : 0,
      })
      .execute();
  }

  async byHash(codeHash: string): Promise<AuthorizationCodeRow | null> {
    const row = await this.db
      .selectFrom('authorization_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async deleteByUser(userId: string): Promise<number> {
    const result = await this.db.deleteFrom('authorization_codes').where('user_id', '=', userId).executeTakeFirst();
    return affected(result);
  }

  async deleteByUserAndClient(userId: string, clientId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('authorization_codes')
      .where('user_id', '=', userId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return affected(result);
  }

  async purgeExpired(before: number): Promise<number> {
    const result = await this.db.deleteFrom('authorization_codes').where('expires_at', '<', before).executeTakeFirst();
    return affected(result);
  }
}
