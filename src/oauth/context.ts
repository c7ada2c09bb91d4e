/**
 * Everything the protocol core needs, passed explicitly: one context per instance, so two
 * instances in one process share nothing. The core never imports Fastify.
 */
import type { Config } from '../config.js';
import type { Accounts } from '../accounts/types.js';
import type { Branding } from '../branding.js';
import type { ClientRow, Storage } from '../storage/types.js';
import type { AuditLog } from './audit.js';
import type { FeatureSet } from './feature.js';
import type { KeyManager } from './tokens/keys.js';
import type { Outbound } from '../net/outbound.js';

export interface OAuthEvents {
  tokenIssued(grantType: string, clientId: string): void;
  /** A9: an application was created (by the portal, the CLI, the admin API or registration). */
  appCreated?(client: ClientRow, actorUserId: string | null): Promise<void>;
}

export type LoginMode = 'builtin' | 'embedded' | 'delegated';

export interface OAuthContext {
  readonly config: Config;
  readonly storage: Storage;
  readonly keys: KeyManager;
  readonly accounts: Accounts;
  readonly audit: AuditLog;
  readonly events: OAuthEvents;
  /** The grants, response types, endpoints and metadata of this instance. */
  readonly features: FeatureSet;
  /**
   * The path everything is served under: the issuer's path (`''` at a host's root, `/oauth` for
   * an issuer `https://platform.example/oauth`). Every link and redirect Tollgate makes starts with it.
   */
  readonly base: string;
  readonly branding: Branding;
  /**
   * Who signs people in: Tollgate's own password form (`builtin`), the host's session (`embedded`,
   * createTollgate's `login` option) or the platform's login page (`delegated`, TOLLGATE_LOGIN_URL).
   */
  readonly loginMode: LoginMode;
  /** Every call to a URL someone else registered goes through this (src/net/outbound.ts: SSRF-safe, bounded). */
  readonly outbound: Outbound;
  readonly now: () => number;
}

/** The audience of tokens issued without a `resource`: Tollgate's own protected API. */
export function defaultAudience(config: Config): string {
  return `${config.issuer}/api`;
}

/** The path part of an issuer, without a trailing slash (`''` for none). */
export function issuerBase(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '');
}
