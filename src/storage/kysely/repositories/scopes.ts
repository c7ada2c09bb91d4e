/** ScopeRepo on Kysely: the scope catalogue. */
import type { Selectable } from 'kysely';
import type { ScopeInput, ScopeRepo, ScopeRow } from '../../types.js';
import type { ScopesTable } from '../schema.js';
import { affected, fromIntBool, fromJsonObject, toIntBool, type Db } from '../shared.js';
import type { HotPath } from '../hot-path.js';

function toRow(row: Selectable<ScopesTable>): ScopeRow {
  return {
    name: row.name,
    description: row.description,
    resourceServer: row.resource_server,
    isDefault: fromIntBool(row.is_default),
    createdAt: row.created_at,
    descriptions: descriptionsOf(row.descriptions),
  };
}

function descriptionsOf(text: string | null): Record<string, string> {
  if (text === null) return {};
  const parsed = fromJsonObject(text);
  const out: Record<string, string> = {};
  for (const [locale, value] of Object.entries(parsed)) if (typeof value === 'string') out[locale] = value;
  return out;
}

function descriptionsText(map: Readonly<Record<string, string>>): string | null {
  const entries = Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? null : JSON.stringify(Object.fromEntries(entries));
}

export class KyselyScopeRepo implements ScopeRepo {
  constructor(
    private readonly db: Db,
    private readonly hot?: HotPath,
  ) {}

  /**
   * Insert, or update description/resourceServer/isDefault (the original createdAt is kept), and
   * the per-locale descriptions when given (omitted: an existing scope keeps its own).
   */
  async upsert(scope: ScopeInput): Promise<void> {
    const descriptions = scope.descriptions === undefined ? undefined : descriptionsText(scope.descriptions);
    await this.db
      .insertInto('scopes')
      .values({
        name: scope.name,
        description: scope.description,
        resource_server: scope.resourceServer,
        is_default: toIntBool(scope.isDefault),
        created_at: scope.createdAt,
        descriptions: descriptions ?? null,
      })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          description: scope.description,
          resource_server: scope.resourceServer,
          is_default: toIntBool(scope.isDefault),
          ...(descriptions !== undefined ? { descriptions } : {}),
        }),
      )
      .execute();
  }

  async byName(name: string): Promise<ScopeRow | null> {
    return this.hot ? this.hot.cache.get(`scope:${name}`, () => this.load(name)) : this.load(name);
  }

  private async load(name: string): Promise<ScopeRow | null> {
    const row = await this.db.selectFrom('scopes').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /** Ordered by name. */
  async list(): Promise<ScopeRow[]> {
    const rows = await this.db.selectFrom('scopes').selectAll().orderBy('name').execute();
    return rows.map(toRow);
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('scopes').where('name', '=', name).executeTakeFirst();
    return affected(result) > 0;
  }
}
