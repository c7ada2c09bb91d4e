/** AuditRepo on Kysely: append-only audit trail; details are JSON text. */
import type { Selectable } from 'kysely';
import type { AuditEventRow, AuditFilter, AuditRepo, NewAuditEvent } from '../../types.js';
import type { AuditEventsTable } from '../schema.js';
import { fromJsonObject, utcDayOf, type Db, type SqlDialect } from '../shared.js';

export const DEFAULT_AUDIT_LIMIT = 100;

function toRow(row: Selectable<AuditEventsTable>): AuditEventRow {
  return {
    id: Number(row.id),
    at: row.at,
    type: row.type,
    actorUserId: row.actor_user_id,
    clientId: row.client_id,
    ip: row.ip,
    details: fromJsonObject(row.details),
  };
}

export class KyselyAuditRepo implements AuditRepo {
  constructor(
    private readonly db: Db,
    private readonly dialect: SqlDialect,
  ) {}

  /** Events of these types per UTC day since `since`, counted by the database (the dashboard). */
  async countPerDay(since: number, types: readonly string[]): Promise<Array<{ type: string; day: string; count: number }>> {
    if (types.length === 0) return [];
    const day = utcDayOf(this.dialect, 'at');
    const rows = await this.db
      .selectFrom('audit_events')
      .select((eb) => ['type', day.as('day'), eb.fn.countAll().as('count')])
      .where('at', '>=', since)
      .where('type', 'in', [...types])
      .groupBy(['type', day])
      .execute();
    return rows.map((row) => ({ type: row.type, day: row.day, count: Number(row.count) }));
  }

  async append(event: NewAuditEvent): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        at: event.at,
        type: event.type,
        actor_user_id: event.actorUserId,
        client_id: event.clientId,
        ip: event.ip,
        details: JSON.stringify(event.details),
      })
      .execute();
  }

  /** Deletes the oldest events recorded before `before`, at most `limit` (the audit retention); returns how many. */
  async purgeBefore(before: number, limit: number): Promise<number> {
    const ids = await this.db.selectFrom('audit_events').select('id').where('at', '<', before).orderBy('at').limit(limit).execute();
    if (ids.length === 0) return 0;
    const result = await this.db.deleteFrom('audit_events').where('id', 'in', ids.map((r) => r.id)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Newest first (`at` desc, then id desc); `since` is inclusive; default limit 100. */
  async list(filter: AuditFilter = {}): Promise<AuditEventRow[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
    if (filter.actorUserId !== undefined) query = query.where('actor_user_id', '=', filter.actorUserId);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    const before = filter.before;
    if (before !== undefined) {
      query = query.where((eb) => eb.or([eb('at', '<', before.at), eb.and([eb('at', '=', before.at), eb('id', '<', before.id)])]));
    }
    const limit = Math.max(0, Math.floor(filter.limit ?? DEFAULT_AUDIT_LIMIT));
    const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toRow);
  }
}
