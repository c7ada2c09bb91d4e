/**
 * In-code migration provider: the migrations are imported modules, not files discovered on
 * disk, so the migrator works the same from `src/` (tsx, vitest) and from `dist/`.
 * Add new migrations to `tollgateMigrations` with a name that sorts after the previous one.
 */
import type { Migration, MigrationProvider } from 'kysely';
import type { SqlDialect } from '../shared.js';
import { initialMigration } from './0001_initial.js';
import { refreshGraceMigration } from './0002_refresh_grace.js';
import { cacheEpochMigration } from './0003_cache_epoch.js';
import { userEpochMigration } from './0004_user_epoch.js';
import { partialTokenIndexesMigration } from './0005_partial_token_indexes.js';
import { tokenEpochMigration } from './0006_token_epoch.js';
import { hostLoginMigration } from './0007_host_login.js';
import { hardeningMigration } from './0008_hardening.js';
import { oidcMigration } from './0009_oidc.js';
import { postLogoutMigration } from './0010_post_logout.js';
import { oidcClientsMigration } from './0011_oidc_clients.js';
import { scopeLocalesMigration } from './0012_scope_locales.js';
import { deviceCodesMigration } from './0013_device_codes.js';
import { tokenExchangeMigration } from './0014_token_exchange.js';
import { clientMetadataMigration } from './0016_client_metadata.js';
import { privateKeyJwtMigration } from './0017_private_key_jwt.js';

export function tollgateMigrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_initial': initialMigration(dialect),
    '0002_refresh_grace': refreshGraceMigration(),
    '0003_cache_epoch': cacheEpochMigration(dialect),
    '0004_user_epoch': userEpochMigration(dialect),
    '0005_partial_token_indexes': partialTokenIndexesMigration(),
    '0006_token_epoch': tokenEpochMigration(dialect),
    '0007_host_login': hostLoginMigration(dialect),
    '0008_hardening': hardeningMigration(dialect),
    '0009_oidc': oidcMigration(),
    '0010_post_logout': postLogoutMigration(),
    '0011_oidc_clients': oidcClientsMigration(),
    '0012_scope_locales': scopeLocalesMigration(),
    '0013_device_codes': deviceCodesMigration(),
    '0014_token_exchange': tokenExchangeMigration(),
    '0016_client_metadata': clientMetadataMigration(),
    '0017_private_key_jwt': privateKeyJwtMigration(),
  };
}

export class InCodeMigrationProvider implements MigrationProvider {
  readonly #dialect: SqlDialect;

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    return tollgateMigrations(this.#dialect);
  }
}
