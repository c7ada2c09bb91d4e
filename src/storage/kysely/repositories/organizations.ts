/** OrganizationRepo on Kysely: tenants that own clients and group users. */
import { sql, type Selectable } from 'kysely';
import type { OrganizationRepo, OrganizationRow } from '../../types.js';
import type { OrganizationsTable } from '../schema.js';
import { escapeLike, type Db, type SqlDialect } from '../shared.js';

/** A page position: the last name, opaque to callers (names are unique). */
function decodeCursor(cursor: string | null | undefined): string | null {
  if (!cursor || !/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return null;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

function toRow(row: Selectable<OrganizationsTable>): OrganizationRow {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

export class KyselyOrganizationRepo implements OrganizationRepo {
  constructor(
    private readonly db: Db,
    private readonly dialect: SqlDialect,
  ) {}

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

  /**
   * One page by name (issue #15 §12): `search` matches the start of the name, case-insensitively,
   * from an index on lower(name); `after` is the previous page's `next`.
   */
  async page(opts: { readonly search?: string; readonly after?: string | null; readonly limit: number }): Promise<{ items: OrganizationRow[]; next: string | null }> {
    const limit = Math.max(1, Math.min(500, Math.floor(opts.limit)));
    let q = this.db.selectFrom('organizations').selectAll();
    const prefix = opts.search?.trim().toLowerCase() ?? '';
    if (prefix !== '') {
      const lowered = sql<string>`lower(${sql.ref('name')})`;
      q =
        this.dialect === 'postgres'
          ? q.where(sql<boolean>`${lowered} like ${`${escapeLike(prefix)}%`} escape '\\'`)
          : q.where(sql<boolean>`${lowered} >= ${prefix} and ${lowered} < ${`${prefix}\u{10FFFF}`}`);
    }
    const after = decodeCursor(opts.after);
    if (after !== null) q = q.where('name', '>', after);
    const rows = await q.orderBy('name').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(toRow);
    const last = items[items.length - 1];
    return { items, next: rows.length > limit && last ? Buffer.from(last.name, 'utf8').toString('base64url') : null };
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('organizations').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async byIds(ids: readonly string[]): Promise<OrganizationRow[]> {
    const unique = [...new Set(ids)].slice(0, 1000);
    if (unique.length === 0) return [];
    return (await this.db.selectFrom('organizations').selectAll().where('id', 'in', unique).execute()).map(toRow);
  }
}
