/**
 * ClientRepo on Kysely: registered OAuth clients. Lists are JSON text, booleans 0/1.
 * `update` bumps `scopes_version` (in SQL, `+ 1`) when the patch's scopes differ from the stored
 * set, so remembered consents for the old scope set can be invalidated.
 */
import { sql, type Selectable, type Updateable } from 'kysely';
import type { KeyAlg } from '../../../config.js';
import { DEFAULT_OIDC_SETTINGS, type ClientFilter, type ClientPatch, type ClientRepo, type ClientRow, type GrantType, type NewClient, type OidcClientSettings, type TokenExchangePolicy, type ClientMetadataState, type PrivateKeyJwtSettings, type PublicJwks } from '../../types.js';
import type { ClientsTable } from '../schema.js';
import type { HotPath } from '../hot-path.js';
import {
  affected,
  escapeLike,
  fromIntBool,
  fromJsonList,
  inTransaction,
  sameSet,
  toIntBool,
  toJsonList,
  type Db,
  type SqlDialect,
} from '../shared.js';

function toRow(row: Selectable<ClientsTable>): ClientRow {
  return {
    clientId: row.client_id,
    name: row.name,
    description: row.description,
    website: row.website,
    logoUri: row.logo_uri,
    redirectUris: fromJsonList(row.redirect_uris),
    scopes: fromJsonList(row.scopes),
    grantTypes: fromJsonList(row.grant_types) as GrantType[],
    clientType: row.client_type,
    orgId: row.org_id,
    ownerId: row.owner_id,
    actsAsUserId: row.acts_as_user_id,
    internal: fromIntBool(row.internal),
    active: fromIntBool(row.active),
    secretHash: row.secret_hash,
    tokenFormat: row.token_format,
    accessTtl: row.access_ttl,
    refreshEnabled: fromIntBool(row.refresh_enabled),
    refreshTtl: row.refresh_ttl,
    refreshGraceSeconds: row.refresh_grace_seconds,
    scopesVersion: row.scopes_version,
    registrationTokenHash: row.registration_token_hash,
    dynamic: fromIntBool(row.dynamic),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    usedAt: row.used_at,
    adminDeactivated: fromIntBool(row.admin_deactivated),
    previousSecretHash: row.previous_secret_hash,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    idTokenSignedResponseAlg: (row.id_token_signed_response_alg as KeyAlg | null) ?? null,
    postLogoutRedirectUris: row.post_logout_redirect_uris === null ? [] : fromJsonList(row.post_logout_redirect_uris),
    oidc: oidcSettingsFrom(row.oidc_settings),
    tokenExchange: tokenExchangeFrom(row.token_exchange),
    metadataDocument: metadataFrom(row.metadata_document),
    privateKeyJwt: privateKeyJwtFrom(row.private_key_jwt),
  };
}

function metadataTo(state: ClientMetadataState | null): string | null {
  return state === null ? null : JSON.stringify({ fetchedAt: state.fetchedAt, expiresAt: state.expiresAt, etag: state.etag, logoSource: state.logoSource });
}

function metadataFrom(text: string | null): ClientMetadataState | null {
  if (text === null) return null;
  const p = JSON.parse(text) as Partial<Record<keyof ClientMetadataState, unknown>>;
  return {
    fetchedAt: typeof p.fetchedAt === 'number' ? p.fetchedAt : 0,
    expiresAt: typeof p.expiresAt === 'number' ? p.expiresAt : 0,
    etag: typeof p.etag === 'string' ? p.etag : null,
    logoSource: typeof p.logoSource === 'string' ? p.logoSource : null,
  };
}

function privateKeyJwtTo(settings: PrivateKeyJwtSettings | null): string | null {
  return settings === null ? null : JSON.stringify({ jwks: settings.jwks, jwksUri: settings.jwksUri });
}

function privateKeyJwtFrom(text: string | null): PrivateKeyJwtSettings | null {
  if (text === null) return null;
  const p = JSON.parse(text) as { jwks?: unknown; jwksUri?: unknown };
  const jwks = typeof p.jwks === 'object' && p.jwks !== null && Array.isArray((p.jwks as { keys?: unknown }).keys) ? (p.jwks as PublicJwks) : null;
  return { jwks, jwksUri: typeof p.jwksUri === 'string' ? p.jwksUri : null };
}

/** The host of a metadata document's client_id (its URL), lower case. */
function metadataHostOf(clientId: string, state: ClientMetadataState | null): string | null {
  if (state === null) return null;
  try {
    return new URL(clientId).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function tokenExchangeTo(policy: TokenExchangePolicy | null): string | null {
  return policy === null ? null : JSON.stringify({ audiences: policy.audiences, impersonation: policy.impersonation, refreshTokens: policy.refreshTokens });
}

function tokenExchangeFrom(text: string | null): TokenExchangePolicy | null {
  if (text === null) return null;
  const p = JSON.parse(text) as Partial<Record<keyof TokenExchangePolicy, unknown>>;
  return {
    audiences: Array.isArray(p.audiences) ? p.audiences.filter((a): a is string => typeof a === 'string') : [],
    impersonation: p.impersonation === true,
    refreshTokens: p.refreshTokens === true,
  };
}

function oidcSettingsTo(settings: OidcClientSettings): string {
  return JSON.stringify(settings);
}

/** Null (a row from before 0011) is the defaults; a stored object is read over them (settings added later). */
function oidcSettingsFrom(text: string | null): OidcClientSettings {
  return text === null ? DEFAULT_OIDC_SETTINGS : { ...DEFAULT_OIDC_SETTINGS, ...(JSON.parse(text) as Partial<OidcClientSettings>) };
}

/** Maps the keys present in the patch (undefined = not provided) to column values. */
function patchToColumns(patch: ClientPatch): Updateable<ClientsTable> {
  const out: Updateable<ClientsTable> = {};
  if (patch.name !== undefined) out.name = patch.name;
  if (patch.description !== undefined) out.description = patch.description;
  if (patch.website !== undefined) out.website = patch.website;
  if (patch.logoUri !== undefined) out.logo_uri = patch.logoUri;
  if (patch.redirectUris !== undefined) out.redirect_uris = toJsonList(patch.redirectUris);
  if (patch.scopes !== undefined) out.scopes = toJsonList(patch.scopes);
  if (patch.grantTypes !== undefined) out.grant_types = toJsonList(patch.grantTypes);
  if (patch.clientType !== undefined) out.client_type = patch.clientType;
  if (patch.orgId !== undefined) out.org_id = patch.orgId;
  if (patch.ownerId !== undefined) out.owner_id = patch.ownerId;
  if (patch.actsAsUserId !== undefined) out.acts_as_user_id = patch.actsAsUserId;
  if (patch.internal !== undefined) out.internal = toIntBool(patch.internal);
  if (patch.active !== undefined) out.active = toIntBool(patch.active);
  if (patch.secretHash !== undefined) out.secret_hash = patch.secretHash;
  if (patch.tokenFormat !== undefined) out.token_format = patch.tokenFormat;
  if (patch.accessTtl !== undefined) out.access_ttl = patch.accessTtl;
  if (patch.refreshEnabled !== undefined) out.refresh_enabled = toIntBool(patch.refreshEnabled);
  if (patch.refreshTtl !== undefined) out.refresh_ttl = patch.refreshTtl;
  if (patch.refreshGraceSeconds !== undefined) out.refresh_grace_seconds = patch.refreshGraceSeconds;
  if (patch.registrationTokenHash !== undefined) out.registration_token_hash = patch.registrationTokenHash;
  if (patch.adminDeactivated !== undefined) out.admin_deactivated = toIntBool(patch.adminDeactivated);
  if (patch.previousSecretHash !== undefined) out.previous_secret_hash = patch.previousSecretHash;
  if (patch.previousSecretExpiresAt !== undefined) out.previous_secret_expires_at = patch.previousSecretExpiresAt;
  if (patch.idTokenSignedResponseAlg !== undefined) out.id_token_signed_response_alg = patch.idTokenSignedResponseAlg;
  if (patch.oidc !== undefined) out.oidc_settings = oidcSettingsTo(patch.oidc);
  if (patch.tokenExchange !== undefined) out.token_exchange = tokenExchangeTo(patch.tokenExchange);
  if (patch.metadataDocument !== undefined) out.metadata_document = metadataTo(patch.metadataDocument);
  if (patch.privateKeyJwt !== undefined) out.private_key_jwt = privateKeyJwtTo(patch.privateKeyJwt);
  if (patch.postLogoutRedirectUris !== undefined) out.post_logout_redirect_uris = patch.postLogoutRedirectUris.length === 0 ? null : toJsonList(patch.postLogoutRedirectUris);
  return out;
}

export class KyselyClientRepo implements ClientRepo {
  constructor(
    private readonly db: Db,
    private readonly dialect: SqlDialect,
    private readonly hot?: HotPath,
  ) {}

  /** New clients start at `scopesVersion` 1. */
  async create(client: NewClient, now: number): Promise<ClientRow> {
    const values: Selectable<ClientsTable> = {
      client_id: client.clientId,
      name: client.name,
      description: client.description,
      website: client.website,
      logo_uri: client.logoUri,
      redirect_uris: toJsonList(client.redirectUris),
      scopes: toJsonList(client.scopes),
      grant_types: toJsonList(client.grantTypes),
      client_type: client.clientType,
      org_id: client.orgId,
      owner_id: client.ownerId,
      acts_as_user_id: client.actsAsUserId,
      internal: toIntBool(client.internal),
      active: toIntBool(client.active),
      secret_hash: client.secretHash,
      token_format: client.tokenFormat,
      access_ttl: client.accessTtl,
      refresh_enabled: toIntBool(client.refreshEnabled),
      refresh_ttl: client.refreshTtl,
      refresh_grace_seconds: client.refreshGraceSeconds,
      scopes_version: 1,
      registration_token_hash: client.registrationTokenHash,
      dynamic: toIntBool(client.dynamic),
      created_at: now,
      updated_at: now,
      used_at: null,
      admin_deactivated: 0,
      previous_secret_hash: null,
      previous_secret_expires_at: null,
      id_token_signed_response_alg: client.idTokenSignedResponseAlg ?? null,
      post_logout_redirect_uris: client.postLogoutRedirectUris && client.postLogoutRedirectUris.length > 0 ? toJsonList(client.postLogoutRedirectUris) : null,
      oidc_settings: client.oidc === undefined ? null : oidcSettingsTo(client.oidc),
      token_exchange: tokenExchangeTo(client.tokenExchange ?? null),
      metadata_document: metadataTo(client.metadataDocument ?? null),
      metadata_host: metadataHostOf(client.clientId, client.metadataDocument ?? null),
      private_key_jwt: privateKeyJwtTo(client.privateKeyJwt ?? null),
    };
    await this.db.insertInto('clients').values(values).execute();
    return toRow(values);
  }

  async byId(clientId: string): Promise<ClientRow | null> {
    return this.hot ? this.hot.cache.get(`client:${clientId}`, () => this.load(clientId)) : this.load(clientId);
  }

  private async load(clientId: string): Promise<ClientRow | null> {
    const row = await this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row ? toRow(row) : null;
  }

  /**
   * Filters: `name` (case-insensitive substring, wildcards matched literally), `orgId`, `active`,
   * `ownerId`. Ordered by `created_at` desc, then `client_id`. `total` ignores limit/offset.
   */
  async list(filter: ClientFilter = {}): Promise<{ items: ClientRow[]; total: number }> {
    let where = this.db.selectFrom('clients');
    if (filter.name !== undefined && filter.name !== '') {
      const pattern = `%${escapeLike(filter.name.toLowerCase())}%`;
      where = where.where(sql<boolean>`lower(${sql.ref('name')}) like ${pattern} escape '\\'`);
    }
    if (filter.orgId !== undefined) where = where.where('org_id', '=', filter.orgId);
    if (filter.active !== undefined) where = where.where('active', '=', toIntBool(filter.active));
    if (filter.ownerId !== undefined) where = where.where('owner_id', '=', filter.ownerId);

    const countRow = await where.select((eb) => eb.fn.countAll().as('total')).executeTakeFirstOrThrow();

    // Sorted by the database (issue #15 §12), never by loading the table into memory.
    const dir = filter.dir ?? 'desc';
    let page = where.selectAll('clients');
    switch (filter.sort ?? 'created') {
      case 'name':
        page = page.orderBy(sql`lower(${sql.ref('clients.name')})`, dir);
        break;
      case 'status':
        page = page.orderBy('clients.active', dir);
        break;
      case 'org':
        page = page
          .leftJoin('organizations', 'organizations.id', 'clients.org_id')
          .orderBy(sql`coalesce(lower(${sql.ref('organizations.name')}), '')`, dir);
        break;
      case 'created':
        break;
    }
    const byCreation = filter.sort === undefined || filter.sort === 'created';
    page = page.orderBy('clients.created_at', byCreation ? dir : 'desc').orderBy('clients.client_id');
    const offset = Math.max(0, Math.floor(filter.offset ?? 0));
    if (filter.limit !== undefined) {
      page = page.limit(Math.max(0, Math.floor(filter.limit)));
    } else if (offset > 0) {
      page = page.limit(Number.MAX_SAFE_INTEGER); // SQLite needs LIMIT before OFFSET
    }
    if (offset > 0) page = page.offset(offset);
    const rows = await page.execute();
    return { items: rows.map(toRow), total: Number(countRow.total) };
  }

  async update(clientId: string, patch: ClientPatch, now: number): Promise<ClientRow | null> {
    return inTransaction(this.db, async (trx) => {
      const current = await trx
        .selectFrom('clients')
        .select('scopes')
        .where('client_id', '=', clientId)
        .$if(this.dialect === 'postgres', (qb) => qb.forUpdate())
        .executeTakeFirst();
      if (!current) return null;
      const scopesChanged = patch.scopes !== undefined && !sameSet(fromJsonList(current.scopes), patch.scopes);
      await trx
        .updateTable('clients')
        .set({ ...patchToColumns(patch), updated_at: now })
        .$if(scopesChanged, (qb) => qb.set((eb) => ({ scopes_version: eb('scopes_version', '+', 1) })))
        .where('client_id', '=', clientId)
        .execute();
      const row = await trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return row ? toRow(row) : null;
    });
  }

  /** Records the first use once (one write per application, ever). */
  async markUsed(clientId: string, now: number): Promise<void> {
    await this.db.updateTable('clients').set({ used_at: now }).where('client_id', '=', clientId).where('used_at', 'is', null).execute();
  }

  /**
   * Deletes dynamically registered applications that never obtained a token and were registered
   * before `before` (at most `limit`, oldest first); returns how many.
   */
  async purgeUnused(before: number, limit: number): Promise<number> {
    const ids = await this.db
      .selectFrom('clients')
      .select('client_id')
      .where('dynamic', '=', 1)
      .where('used_at', 'is', null)
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    if (ids.length === 0) return 0;
    const result = await this.db.deleteFrom('clients').where('client_id', 'in', ids.map((r) => r.client_id)).where('used_at', 'is', null).executeTakeFirst();
    return affected(result);
  }

  /** Codes, tokens and consents of the client go with it (ON DELETE CASCADE). */
  async delete(clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
    return affected(result) > 0;
  }
}
