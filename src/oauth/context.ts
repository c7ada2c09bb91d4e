/**
 * Everything the protocol core needs, passed explicitly. The core never imports Fastify.
 */
import type { Config } from '../config.js';
import type { Accounts } from '../accounts/types.js';
import type { ClientRow, Storage } from '../storage/types.js';
import type { AuditLog } from './audit.js';
import type { KeyManager } from './tokens/keys.js';

export interface OAuthEvents {
  tokenIssued(grantType: string, clientId: string): void;
  /** A9: an application was created (by the portal, the CLI, the admin API or registration). */
  appCreated?(client: ClientRow, actorUserId: string | null): Promise<void>;
}

export interface OAuthContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly keys: KeyManager;
  readonly accounts: Accounts;
  readonly audit: AuditLog;
  readonly events: OAuthEvents;
  readonly now: () => number;
}

/** The audience of tokens issued without a `resource`: Tollgate's own protected API. */
export function defaultAudience(config: Config): string {
  return `${config.issuer}/api`;
}
