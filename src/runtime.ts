/**
 * Opens the configured database, migrates it, and assembles the protocol context. Used by
 * `tollgate serve` and by every CLI command (the CLI works on the database directly).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from './config.js';
import type { Storage } from './storage/types.js';
import { brandingFromEnv, type Branding } from './branding.js';
import { FeatureSet, type Feature } from './oauth/feature.js';
import { BUILT_IN_FEATURES } from './features/index.js';
import { issuerBase, type LoginMode } from './oauth/context.js';
import { createStorage } from './storage/kysely/index.js';
import { BuiltinAccounts, HostBackedAccounts } from './accounts/builtin.js';
import type { HostAccounts } from './accounts/types.js';
import { createAuditLog } from './oauth/audit.js';
import type { OAuthContext, OAuthEvents } from './oauth/context.js';
import { KeyManager } from './oauth/tokens/keys.js';
import { createMailer, mailOptionsFromEnv, notifyAppCreated, type Mailer } from './mail/index.js';
import type { ClientRow } from './storage/types.js';
import { outboundClient, type Outbound } from './net/outbound.js';

export interface Runtime {
  readonly ctx: OAuthContext;
  readonly storage: Storage;
  /** The embedded database file did not exist and was created now (said out loud by its users). */
  readonly databaseCreated: boolean;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly events?: OAuthEvents;
  readonly onAuditError?: (err: unknown) => void;
  /** PostgreSQL schema (tests isolate themselves in a throwaway schema). */
  readonly pgSchema?: string;
  readonly now?: () => number;
  /** The features of this instance (default: every built-in feature). */
  readonly features?: readonly Feature[];
  /** Features added to the built-in (or given) ones: a host's extension grants and endpoints. */
  readonly extraFeatures?: readonly Feature[];
  /** Default: from TOLLGATE_BRAND_* (config.mailAndBranding). */
  readonly branding?: Branding;
  /** An already open storage (default: the configured database, opened and migrated here). */
  readonly storage?: Storage;
  /** The host's accounts (embedded mode): people are looked up there, Tollgate keeps a row per subject. */
  readonly accounts?: HostAccounts;
  /** Set by createTollgate when the host gives its own login (embedded mode). */
  readonly embeddedLogin?: boolean;
  /** How URLs others registered are called (default: the SSRF-safe outbound client under the configured policy). */
  readonly outbound?: Outbound;
}

/** The instance's features, checked against the configuration that names grant types. */
export function featureSet(config: Config, opts: Pick<RuntimeOptions, 'features' | 'extraFeatures'> = {}): FeatureSet {
  const features = new FeatureSet([...(opts.features ?? BUILT_IN_FEATURES), ...(opts.extraFeatures ?? [])]);
  const known = features.clientGrantTypes();
  const unknown = config.registrationGrantTypes.filter((g) => !known.includes(g));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((g) => `TOLLGATE_REGISTRATION_GRANT_TYPES: unknown grant type "${g}" (this instance has ${known.join(', ')})`));
  }
  return features;
}

/** Where the embedded database lives. */
export function sqliteFile(config: Config): string {
  return join(config.dataDir, 'tollgate.db');
}

/** Loud, on stderr: the database file disappeared under a running server (issue #15 §13). */
function reportLost(message: string): void {
  process.stderr.write(`ERROR: ${message}\n`);
}

export async function openStorage(config: Config, pgSchema?: string, onLost: (message: string) => void = reportLost): Promise<Storage> {
  return config.databaseUrl !== null
    ? createStorage({ kind: 'postgres', url: config.databaseUrl, timeoutMs: config.dbTimeoutMs, ...(pgSchema ? { schema: pgSchema } : {}) })
    : createStorage({ kind: 'sqlite', file: sqliteFile(config), onLost });
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const features = featureSet(config, opts);
  if (opts.embeddedLogin && config.loginUrl !== null) {
    throw new ConfigError(['TOLLGATE_LOGIN_URL: an instance with the host\'s own login (createTollgate({ login })) does not delegate sign-in as well']);
  }
  const databaseCreated = opts.storage === undefined && config.databaseUrl === null && !existsSync(sqliteFile(config));
  const storage = opts.storage ?? (await openStorage(config, opts.pgSchema ?? process.env['TOLLGATE_PG_SCHEMA']));
  await storage.migrate();
  const now = opts.now ?? Date.now;
  const policy = { maxFailures: config.loginMaxFailures, lockoutSeconds: config.lockoutSeconds };
  const loginMode: LoginMode = opts.embeddedLogin ? 'embedded' : config.loginUrl !== null ? 'delegated' : 'builtin';
  const mailer = createMailer(mailOptionsFromEnv(config.mailAndBranding, config.dataDir, config.issuer));
  const ctx: OAuthContext = {
    config,
    storage,
    keys: new KeyManager(storage.keys, config.keyAlg, now),
    accounts: opts.accounts ? new HostBackedAccounts(storage.users, opts.accounts, policy) : new BuiltinAccounts(storage.users, policy),
    audit: createAuditLog(storage.audit, now, opts.onAuditError ?? (() => {})),
    events: { tokenIssued: () => {}, appCreated: (client, actor) => notifyOwner(storage, config, mailer, client, actor), ...opts.events },
    features,
    base: issuerBase(config.issuer),
    branding: opts.branding ?? brandingFromEnv(config.mailAndBranding),
    loginMode,
    outbound: opts.outbound ?? outboundClient({ allowLoopback: config.outboundInsecureLoopback }),
    now,
  };
  return { ctx, storage, databaseCreated, close: () => storage.close() };
}

/** A9: tells the application's owner (or TOLLGATE_MAIL_TO) that it was created. */
async function notifyOwner(storage: Storage, config: Config, mailer: Mailer, client: ClientRow, actorUserId: string | null): Promise<void> {
  const owner = client.ownerId === null ? null : await storage.users.byId(client.ownerId);
  const actor = actorUserId === null ? null : await storage.users.byId(actorUserId);
  await notifyAppCreated(mailer, {
    appName: client.name,
    clientId: client.clientId,
    clientType: client.clientType,
    ownerEmail: owner?.email ?? null,
    createdBy: actor?.email ?? (client.dynamic ? 'dynamic registration' : 'an administrator'),
    portalUrl: `${config.issuer}/developers/apps/${encodeURIComponent(client.clientId)}`,
    product: config.mailAndBranding['TOLLGATE_BRAND_NAME']?.trim() || 'Tollgate',
  });
}
