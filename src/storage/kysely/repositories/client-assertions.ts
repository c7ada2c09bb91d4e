/**
 * ClientAssertionRepo on Kysely (migration 0017): the `jti` of each accepted `private_key_jwt`
 * assertion, kept until the assertion expires. One INSERT decides a use: a new pair is inserted, a
 * pair whose earlier assertion has expired is overwritten, and a live pair is left as it is and
 * reported as a replay — so of any number of parallel uses exactly one wins.
 */
import { createHash } from 'node:crypto';
import type { ClientAssertionRepo } from '../../types.js';
import { affected, type Db } from '../shared.js';

function idOf(clientId: string, jti: string): string {
  // Length-prefixed so that no (client_id, jti) pair can be spelt as another.
  return createHash('sha256').update(`${clientId.length}:${clientId}:${jti}`).digest('base64url');
}

export class KyselyClientAssertionRepo implements ClientAssertionRepo {
  constructor(private readonly db: Db) {}

  async use(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('client_assertion_jtis')
      .values({ id: idOf(clientId, jti), expires_at: expiresAt })
      .onConflict((oc) => oc.column('id').doUpdateSet({ expires_at: expiresAt }).where('client_assertion_jtis.expires_at', '<=', now))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async purgeExpired(before: number): Promise<number> {
    return affected(await this.db.deleteFrom('client_assertion_jtis').where('expires_at', '<', before).executeTakeFirst());
  }
}
