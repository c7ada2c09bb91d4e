/**
 * ClientMetadataRepo on Kysely (migration 0016): what Client ID Metadata Documents need besides the
 * application's row — the logos Tollgate serves itself and the administrators' block-list.
 */
import { sql } from 'kysely';
import type { ClientLogo, ClientMetadataBlock, ClientMetadataRepo } from '../../types.js';
import { affected, escapeLike, type Db } from '../shared.js';

export class KyselyClientMetadataRepo implements ClientMetadataRepo {
  constructor(private readonly db: Db) {}

  async logo(clientId: string): Promise<ClientLogo | null> {
    const row = await this.db.selectFrom('client_logos').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row ? { contentType: row.content_type, data: Buffer.from(row.data, 'base64'), fetchedAt: Number(row.fetched_at) } : null;
  }

  async putLogo(clientId: string, logo: ClientLogo): Promise<void> {
    const values = { content_type: logo.contentType, data: logo.data.toString('base64'), fetched_at: logo.fetchedAt };
    await this.db
      .insertInto('client_logos')
      .values({ client_id: clientId, ...values })
      .onConflict((oc) => oc.column('client_id').doUpdateSet(values))
      .execute();
  }

  async deleteLogo(clientId: string): Promise<void> {
    await this.db.deleteFrom('client_logos').where('client_id', '=', clientId).execute();
  }

  async block(entry: ClientMetadataBlock): Promise<boolean> {
    const r = await this.db
      .insertInto('client_metadata_blocks')
      .values({ pattern: entry.pattern, reason: entry.reason, created_by: entry.createdBy, created_at: entry.createdAt })
      .onConflict((oc) => oc.column('pattern').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async unblock(pattern: string): Promise<boolean> {
    return affected(await this.db.deleteFrom('client_metadata_blocks').where('pattern', '=', pattern).executeTakeFirst()) > 0;
  }

  async getBlock(pattern: string): Promise<ClientMetadataBlock | null> {
    const r = await this.db.selectFrom('client_metadata_blocks').selectAll().where('pattern', '=', pattern).executeTakeFirst();
    return r ? { pattern: r.pattern, reason: r.reason, createdBy: r.created_by, createdAt: Number(r.created_at) } : null;
  }

  async blocks(page: { readonly limit?: number; readonly offset?: number } = {}): Promise<{ items: ClientMetadataBlock[]; total: number }> {
    const count = await this.db.selectFrom('client_metadata_blocks').select((eb) => eb.fn.countAll().as('total')).executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom('client_metadata_blocks')
      .selectAll()
      .orderBy('pattern')
      .limit(Math.min(Math.max(page.limit ?? 100, 1), 500))
      .offset(Math.max(page.offset ?? 0, 0))
      .execute();
    return {
      items: rows.map((r) => ({ pattern: r.pattern, reason: r.reason, createdBy: r.created_by, createdAt: Number(r.created_at) })),
      total: Number(count.total),
    };
  }

  async anyBlocked(patterns: readonly string[]): Promise<boolean> {
    if (patterns.length === 0) return false;
    const row = await this.db.selectFrom('client_metadata_blocks').select('pattern').where('pattern', 'in', [...patterns]).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async clientIdsOnHost(host: string, subdomains: boolean, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('clients').select('client_id');
    q = subdomains
      ? q.where(sql<boolean>`${sql.ref('metadata_host')} like ${`%.${escapeLike(host)}`} escape '\\'`)
      : q.where('metadata_host', '=', host);
    const rows = await q.orderBy('client_id').limit(limit).execute();
    return rows.map((r) => r.client_id);
  }
}
