/** OrganizationRepo on Kysely: tenants that own clients and group users. */
import type { Selectable } from 'kysely';
import type { OrganizationRepo, OrganizationRow } from '../../types.js';
import type { OrganizationsTable } from '../schema.js';
import type { Db } from '../shared.js';

function toRow(row: Selectable<OrganizationsTable>): OrganizationRow {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export class KyselyOrganizationRepo implements OrganizationRepo {
  constructor(private readonly db: Db) {}

  async create(org: OrganizationRow): Promise<void> {
    await this.db
      .insertInto('organizations')
      .values({ id: org.id, name: org.name, created_at: org.createdAt })
      .execute();
  }

  async byId(id: string): Promise<OrganizationRow | null> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async byName(name: string): Promise<OrganizationRow | null> {
    const row = await this.db.selectFrom('organizations').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** Ordered by name. */
  async list(): Promise<OrganizationRow[]> {
    const rows = await this.db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id').execute();
    return rows.map(toRow);
  }
}
