/**
 * Opens the configured database, migrates it, and assembles the protocol context. Used by
 * `tollgate serve` and by every CLI command (the CLI works on the database directly).
 */
import { join } from 'node:path';
import type { Config } from './config.js';
import type { Storage } from './storage/types.js';
import { createStorage } from './storage/kysely/index.js';
import { BuiltinAccounts } from './accounts/builtin.js';
import { createAuditLog } from './oauth/audit.js';
import type { OAuthContext, OAuthEvents } from './oauth/context.js';
import { KeyManager } from './oauth/tokens/keys.js';

export interface Runtime {
  readonly ctx: OAuthContext;
  readonly storage: Storage;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly events?: OAuthEvents;
  readonly onAuditError?: (err: unknown) => void;
  /** PostgreSQL schema (tests isolate themselves in a throwaway schema). */
  readonly pgSchema?: string;
  readonly now?: () => number;
}

export async function openStorage(config: Config, pgSchema?: string): Promise<Storage> {
  return config.databaseUrl !== null
    ? createStorage({ kind: 'postgres', url: config.databaseUrl, ...(pgSchema ? { schema: pgSchema } : {}) })
    : createStorage({ kind: 'sqlite', file: join(config.dataDir, 'tollgate.db') });
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const storage = await openStorage(config, opts.pgSchema ?? process.env['TOLLGATE_PG_SCHEMA']);
  await storage.migrate();
  const now = opts.now ?? Date.now;
  const ctx: OAuthContext = {
    config,
    storage,
    keys: new KeyManager(storage.keys, config.keyAlg, now),
    accounts: new BuiltinAccounts(storage.users, { maxFailures: config.loginMaxFailures, lockoutSeconds: config.lockoutSeconds }),
    audit: createAuditLog(storage.audit, now, opts.onAuditError ?? (() => {})),
    events: opts.events ?? { tokenIssued: () => {} },
    now,
  };
  return { ctx, storage, close: () => storage.close() };
}
