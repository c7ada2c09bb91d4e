/**
 * Builds the full set of repositories on one Kysely handle. The same classes serve the root
 * instance and a transaction, which is how `Storage.transaction` binds them.
 */
import type { Storage } from '../../types.js';
import type { Db, SqlDialect } from '../shared.js';
import type { HotPath } from '../hot-path.js';
import { KyselyAuditRepo } from './audit.js';
import { KyselyClientRepo } from './clients.js';
import { KyselyCodeRepo } from './codes.js';
import { KyselyConsentRepo } from './consents.js';
import { KyselyGrantRepo } from './grants.js';
import { KyselyKeyRepo } from './keys.js';
import { KyselyOrganizationRepo } from './organizations.js';
import { KyselyResourceServerRepo } from './resource-servers.js';
import { KyselyScopeRepo } from './scopes.js';
import { KyselySessionRepo } from './sessions.js';
import { KyselyInteractionRepo } from './interactions.js';
import { KyselyTokenRepo } from './tokens.js';
import { KyselyUserRepo } from './users.js';
import { KyselyOidcGrantRepo } from './oidc-grants.js';
import { KyselyDeviceCodeRepo } from './device-codes.js';
import { KyselyClientMetadataRepo } from './client-metadata.js';
import { KyselyClientAssertionRepo } from './client-assertions.js';

export type Repositories = Omit<Storage, 'transaction' | 'close' | 'migrate' | 'ping' | 'markArrival'>;

/** `hot` only for the root handle: never for a transaction (see hot-path.ts). */
export function buildRepositories(db: Db, dialect: SqlDialect, hot?: HotPath): Repositories {
  return {
    dialect,
    organizations: new KyselyOrganizationRepo(db, dialect),
    users: new KyselyUserRepo(db, dialect, hot),
    clients: new KyselyClientRepo(db, dialect, hot),
    codes: new KyselyCodeRepo(db, hot),
    tokens: new KyselyTokenRepo(db, dialect, hot),
    grants: new KyselyGrantRepo(db, hot),
    consents: new KyselyConsentRepo(db),
    sessions: new KyselySessionRepo(db),
    interactions: new KyselyInteractionRepo(db),
    keys: new KyselyKeyRepo(db, hot),
    scopes: new KyselyScopeRepo(db, hot),
    resourceServers: new KyselyResourceServerRepo(db, hot),
    audit: new KyselyAuditRepo(db, dialect),
    oidcGrants: new KyselyOidcGrantRepo(db),
    deviceCodes: new KyselyDeviceCodeRepo(db),
    clientMetadata: new KyselyClientMetadataRepo(db),
    clientAssertions: new KyselyClientAssertionRepo(db),
  };
}
