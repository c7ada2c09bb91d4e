/** ResourceServerRepo on Kysely: RFC 8707 resource identifiers (token audiences). */
import type { Selectable } from 'kysely';
import type { ResourceServerRepo, ResourceServerRow } from '../../types.js';
import type { ResourceServersTable } from '../schema.js';
import { affected, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function toRow(row: Selectable<ResourceServersTable>): ResourceServerRow {
  return {
    identifier: row.identifier,
    name: row.name,
    createdAt: row.created_at,
    introspectors: row.introspectors === null ? null : (JSON.parse(row.introspectors) as string[]),
  };
}

export class KyselyResourceServerRepo implements ResourceServerRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  async create(rs: ResourceServerRow): Promise<void> {
    await this.db
      .insertInto('resource_servers')
      .values({ identifier: rs.identifier, name: rs.name, created_at: rs.createdAt, introspectors: rs.introspectors === null ? null : JSON.stringify(rs.introspectors) })
      .execute();
  }

  async setIntrospectors(identifier: string, introspectors: readonly string[] | null): Promise<boolean> {
    const result = await this.db
      .updateTable('resource_servers')
      .set({ introspectors: introspectors === null ? null : JSON.stringify(introspectors) })
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return affected(result) > 0;
  }

  async byIdentifier(identifier: string): Promise<ResourceServerRow | null> {
    return this.hot ? this.hot.cache.get(`rs:${identifier}`, () => this.load(identifier)) : this.load(identifier);
  }

  private async load(identifier: string): Promise<ResourceServerRow | null> {
    const row = await this.db
      .selectFrom('resource_servers')
      .selectAll()
      .where('identifier', '=', identifier)
      .executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** Ordered by identifier. */
  async list(): Promise<ResourceServerRow[]> {
    const rows = await this.db.selectFrom('resource_servers').selectAll().orderBy('identifier').execute();
    return rows.map(toRow);
  }

  async delete(identifier: string): Promise<boolean> {
    const result = await this.db.deleteFrom('resource_servers').where('identifier', '=', identifier).executeTakeFirst();
    return affected(result) > 0;
  }
}
