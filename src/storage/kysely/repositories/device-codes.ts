/**
 * DeviceCodeRepo on Kysely (migration 0013): device authorization requests (RFC 8628). Every
 * change of state is one conditional UPDATE, so parallel polls and answers have one winner on
 * SQLite and PostgreSQL alike.
 */
import { sql, type Selectable } from 'kysely';
import type { DeviceCodeRepo, DeviceCodeRow, DeviceCodeStatus, DevicePoll, DeviceSignIn } from '../../types.js';
import type { DeviceCodesTable } from '../schema.js';
import { affected, type Db } from '../shared.js';

const STATUSES: readonly DeviceCodeStatus[] = ['pending', 'approved', 'denied', 'redeemed'];

function toRow(row: Selectable<DeviceCodesTable>): DeviceCodeRow {
  const status = STATUSES.find((s) => s === row.status);
  if (status === undefined) throw new Error(`Corrupt device_codes.status: ${row.status.slice(0, 20)}`);
  return {
    deviceCodeHash: row.device_code_hash,
    userCodeHash: row.user_code_hash,
    clientId: row.client_id,
    scope: row.scope,
    audience: row.audience,
    interval: Number(row.interval),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastPolledAt: row.last_polled_at === null ? null : Number(row.last_polled_at),
    status,
    userId: row.user_id,
    decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    grantedScope: row.granted_scope,
    familyId: row.family_id,
    signIn: row.sign_in === null ? null : (JSON.parse(row.sign_in) as DeviceSignIn),
  };
}

export class KyselyDeviceCodeRepo implements DeviceCodeRepo {
  constructor(private readonly db: Db) {}

  async create(row: Omit<DeviceCodeRow, 'lastPolledAt' | 'status' | 'userId' | 'decidedAt' | 'grantedScope' | 'familyId' | 'signIn'>): Promise<void> {
    await this.db
      .insertInto('device_codes')
      .values({
        device_code_hash: row.deviceCodeHash,
        user_code_hash: row.userCodeHash,
        client_id: row.clientId,
        scope: row.scope,
        audience: row.audience,
        interval: row.interval,
        created_at: row.createdAt,
        expires_at: row.expiresAt,
        last_polled_at: null,
        slow_down: 0,
        status: 'pending',
        user_id: null,
        decided_at: null,
        granted_scope: null,
        family_id: null,
        sign_in: null,
      })
      .execute();
  }

  async byDeviceCode(deviceCodeHash: string): Promise<DeviceCodeRow | null> {
    const row = await this.db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async byUserCode(userCodeHash: string): Promise<DeviceCodeRow | null> {
    const row = await this.db.selectFrom('device_codes').selectAll().where('user_code_hash', '=', userCodeHash).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  async poll(deviceCodeHash: string, clientId: string, now: number): Promise<DevicePoll | null> {
    // Every SET expression reads the row as it was before this UPDATE (SQL semantics, on both).
    const early = sql<boolean>`last_polled_at is not null and ${now} - last_polled_at < interval * 1000`;
    const row = await this.db
      .updateTable('device_codes')
      .set({
        slow_down: sql<number>`case when ${early} then 1 else 0 end`,
        interval: sql<number>`case when ${early} then interval + 5 else interval end`,
        last_polled_at: now,
      })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('client_id', '=', clientId)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return row ? { row: toRow(row), slowDown: Number(row.slow_down) === 1 } : null;
  }

  async approve(
    userCodeHash: string,
    decision: { readonly userId: string; readonly grantedScope: string; readonly familyId: string; readonly signIn: DeviceSignIn },
    now: number,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('device_codes')
      .set({
        status: 'approved',
        user_id: decision.userId,
        decided_at: now,
        granted_scope: decision.grantedScope,
        family_id: decision.familyId,
        sign_in: JSON.stringify(decision.signIn),
      })
      .where('user_code_hash', '=', userCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return affected(r) === 1;
  }

  async deny(userCodeHash: string, userId: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('device_codes')
      .set({ status: 'denied', user_id: userId, decided_at: now })
      .where('user_code_hash', '=', userCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return affected(r) === 1;
  }

  async redeem(deviceCodeHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('device_codes')
      .set({ status: 'redeemed', last_polled_at: now })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'approved')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return affected(r) === 1;
  }

  async purgeExpired(before: number): Promise<number> {
    return affected(await this.db.deleteFrom('device_codes').where('expires_at', '<', before).executeTakeFirst());
  }
}
