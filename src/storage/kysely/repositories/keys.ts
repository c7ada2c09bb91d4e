/** KeyRepo on Kysely: JWT signing keys, published in the JWKS until they expire. */
import { sql, type Selectable } from 'kysely';
import type { KeyRepo, SigningKeyRow } from '../../types.js';
import type { SigningKeysTable } from '../schema.js';
import type { Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function toRow(row: Selectable<SigningKeysTable>): SigningKeyRow {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: row.private_jwk,
    publicJwk: row.public_jwk,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    expiresAt: row.expires_at,
  };
}

export class KyselyKeyRepo implements KeyRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  async insert(key: SigningKeyRow): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        private_jwk: key.privateJwk,
        public_jwk: key.publicJwk,
        created_at: key.createdAt,
        retired_at: key.retiredAt,
        expires_at: key.expiresAt,
      })
      .execute();
  }

  /** Keys with no expiry or expiring after `now`: active (not retired) first, then newest first. */
  async listPublished(now: number): Promise<SigningKeyRow[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy(sql`case when ${sql.ref('retired_at')} is null then 0 else 1 end`)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map(toRow);
  }

  async currentKid(): Promise<string | null> {
    return this.hot ? this.hot.cache.get('kid', () => this.loadCurrentKid(), true) : this.loadCurrentKid();
  }

  private async loadCurrentKid(): Promise<string | null> {
    const row = await this.db
      .selectFrom('signing_keys')
      .select('kid')
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .limit(1)
      .executeTakeFirst();
    return row?.kid ?? null;
  }

  /** Every key, newest first. */
  async listAll(): Promise<SigningKeyRow[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map(toRow);
  }

  async retireAllExcept(exceptKid: string, now: number, expiresAt: number, alg?: string): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ retired_at: now, expires_at: expiresAt })
      .where('retired_at', 'is', null)
      .where('kid', '!=', exceptKid)
      .$if(alg !== undefined, (qb) => qb.where('alg', '=', alg as string))
      .execute();
  }
}
