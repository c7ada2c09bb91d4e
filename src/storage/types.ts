/**
 * Storage contracts. Every aggregate has a narrow repository interface; the protocol core and
 * the services depend on these interfaces only, never on Kysely or a driver.
 *
 * Conventions:
 * - times are epoch milliseconds (number); `null` means "never" / "absent";
 * - lists (redirect URIs, scopes, grant types) are arrays of strings;
 * - every secret, code and token is stored only as its SHA-256 hash (`*_hash`, base64url).
 * - "atomic consume" operations (codes, refresh tokens) are a single conditional UPDATE whose
 *   affected-row count decides the winner (docs/design.md habit 4).
 */
import type { KeyAlg } from '../config.js';


export type ClientType = 'confidential' | 'public';
export type TokenFormat = 'opaque' | 'jwt';
/**
 * A grant type an application may hold: a token-endpoint `grant_type` of one of the instance's
 * features, or `implicit`. Which values exist is the instance's business (src/oauth/feature.ts),
 * so storage keeps them as plain strings.
 */
export type GrantType = string;
export type MembershipRole = 'admin' | 'member';
/** Which login made a session: Tollgate's password form, the host's own session, or a delegated login. */
export type SessionKind = 'builtin' | 'host' | 'delegated';
export type TokenKind = 'access' | 'refresh';

export interface OrganizationRow {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface UserRow {
  readonly id: string;
  /**
   * The sign-in email of a built-in user. For an external user (one the host platform owns), the
   * email the host gave, or null when it gave none.
   */
  readonly email: string | null;
  /** Empty for an external user: Tollgate never holds their password. */
  readonly passwordHash: string;
  readonly isAdmin: boolean;
  readonly disabled: boolean;
  readonly failedLogins: number;
  readonly lockedUntil: number | null;
  readonly createdAt: number;
  /** A person the host platform owns: `id` is the host's subject id (issue #11). */
  readonly external: boolean;
  /** What the host said about an external person (email, email_verified, name, other claims); null for built-in users. */
  readonly profile: Readonly<Record<string, unknown>> | null;
}

/** An external person's row as the host describes them; created on first use, refreshed at each sign-in. */
export interface ExternalUser {
  readonly id: string;
  readonly profile: Readonly<Record<string, unknown>>;
  readonly isAdmin?: boolean;
  readonly disabled?: boolean;
}

export interface MembershipRow {
  readonly userId: string;
  readonly orgId: string;
  readonly role: MembershipRole;
}

export interface ClientRow {
  readonly clientId: string;
  readonly name: string;
  readonly description: string | null;
  readonly website: string | null;
  readonly logoUri: string | null;
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly grantTypes: readonly GrantType[];
  readonly clientType: ClientType;
  readonly orgId: string | null;
  readonly ownerId: string | null;
  /** A5: client-credentials tokens are issued on behalf of this user; null = the app itself. */
  readonly actsAsUserId: string | null;
  readonly internal: boolean;
  readonly active: boolean;
  /** SHA-256 of the client secret; null for public clients. */
  readonly secretHash: string | null;
  readonly tokenFormat: TokenFormat;
  /** Access-token lifetime in seconds; null = long-lived (never expires, A7). */
  readonly accessTtl: number | null;
  readonly refreshEnabled: boolean;
  /** Refresh-token lifetime in seconds; null = never expires. */
  readonly refreshTtl: number | null;
  /**
   * Refresh grace window (issue #6), seconds; 0 = off. Within it, presenting a just-rotated refresh
   * token again returns the same new pair (apps open in several tabs) instead of revoking the family.
   */
  readonly refreshGraceSeconds: number;
  /** Bumped whenever `scopes` changes, so remembered consents can be invalidated (Z5). */
  readonly scopesVersion: number;
  /** RFC 7592 registration access token hash; null when not dynamically registered. */
  readonly registrationTokenHash: string | null;
  readonly dynamic: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it first obtained a token; null = never used (a never-used registration expires). */
  readonly usedAt: number | null;
  /** Deactivated by an administrator: only an administrator may activate it again. */
  readonly adminDeactivated: boolean;
  /** After a rotation with an overlap: the old secret's hash, accepted until `previousSecretExpiresAt`. */
  readonly previousSecretHash: string | null;
  readonly previousSecretExpiresAt: number | null;
  /** OpenID Connect `id_token_signed_response_alg`; null for RS256 (issue #12). */
  readonly idTokenSignedResponseAlg: KeyAlg | null;
  /** OpenID Connect `post_logout_redirect_uris`, matched exactly (issue #12). */
  readonly postLogoutRedirectUris: readonly string[];
  /** The rest of its OpenID Connect Registration metadata (issue #12). */
  readonly oidc: OidcClientSettings;
  /**
   * Token exchange (RFC 8693; docs/token-exchange.md): what an administrator allows this
   * application to exchange tokens for; null for nothing (clients.token_exchange, 0014).
   */
  readonly tokenExchange: TokenExchangePolicy | null;
  /**
   * Client ID Metadata Documents (docs/client-id-metadata.md): when the client_id is the URL of
   * the application's metadata document, what the last fetch recorded; null otherwise.
   */
  readonly metadataDocument: ClientMetadataState | null;
  /**
   * Client authentication with a signed assertion (`private_key_jwt`, docs/client-authentication.md):
   * where its public keys are; null when it authenticates with a secret (or is public).
   */
  readonly privateKeyJwt: PrivateKeyJwtSettings | null;
}

/** A JSON Web Key Set as registered: public keys only (checked when registered). */
export interface PublicJwks {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/** Exactly one of the two is set. */
export interface PrivateKeyJwtSettings {
  readonly jwks: PublicJwks | null;
  readonly jwksUri: string | null;
}

/** Single use of client assertions' `jti` (RFC 7523 §3 item 7). */
export interface ClientAssertionRepo {
  /**
   * Records that `clientId` used `jti` in an assertion valid until `expiresAt`. False when the same
   * pair was recorded before and has not expired yet (a replay); one of any number of parallel
   * uses gets true.
   */
  use(clientId: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}

/** What Tollgate keeps of a fetched Client ID Metadata Document besides the application's fields. */
export interface ClientMetadataState {
  /** When the document was last fetched (or confirmed unchanged), epoch ms. */
  readonly fetchedAt: number;
  /** Until when it is used without fetching it again (its HTTP caching within the configured bounds), epoch ms. */
  readonly expiresAt: number;
  /** The response's ETag, for a conditional fetch. */
  readonly etag: string | null;
  /** The document's own `logo_uri` (Tollgate serves a copy it fetched; `logoUri` points there). */
  readonly logoSource: string | null;
}

/** An administrator's block on Client ID Metadata Documents. */
export interface ClientMetadataBlock {
  /** A host (`agents.example`), a domain's subdomains (`*.example`), or one exact client_id URL. */
  readonly pattern: string;
  readonly reason: string | null;
  readonly createdBy: string | null;
  readonly createdAt: number;
}

/** A logo Tollgate fetched and serves itself. */
export interface ClientLogo {
  readonly contentType: string;
  readonly data: Buffer;
  readonly fetchedAt: number;
}

/** Client ID Metadata Documents' own storage (0016): logos and the block-list. */
export interface ClientMetadataRepo {
  logo(clientId: string): Promise<ClientLogo | null>;
  putLogo(clientId: string, logo: ClientLogo): Promise<void>;
  deleteLogo(clientId: string): Promise<void>;
  /** Adds a block; false when the pattern was already blocked. */
  block(entry: ClientMetadataBlock): Promise<boolean>;
  unblock(pattern: string): Promise<boolean>;
  getBlock(pattern: string): Promise<ClientMetadataBlock | null>;
  /** Ordered by pattern. */
  blocks(page?: { readonly limit?: number; readonly offset?: number }): Promise<{ items: ClientMetadataBlock[]; total: number }>;
  /** Whether any of these patterns (the client_id, its host, `*.` its parent domains) is blocked. */
  anyBlocked(patterns: readonly string[]): Promise<boolean>;
  /** The client_ids of metadata-document applications on `host`, or on its subdomains with `subdomains` (indexed). */
  clientIdsOnHost(host: string, subdomains: boolean, limit: number): Promise<string[]>;
}

/** An application's token-exchange policy, set by an administrator only. */
export interface TokenExchangePolicy {
  /** The audiences (resource server identifiers, or Tollgate's own API) it may obtain tokens for. */
  readonly audiences: readonly string[];
  /** It may exchange without an actor token: the new token then carries no `act` (impersonation). */
  readonly impersonation: boolean;
  /** It may ask for a refresh token with the exchanged access token. */
  readonly refreshTokens: boolean;
}

/** RFC 8693 §4.1: the acting party, and (nested) the one it acted for, in a delegation chain. */
export interface ActClaim {
  readonly sub: string;
  readonly act?: ActClaim;
}

/** What a token exchange fixed on the tokens it made (and on those refreshed from them). */
export interface TokenExchangeFacts {
  /** Who acts; null for impersonation. */
  readonly act: ActClaim | null;
  /** The subject token's expiry (epoch ms), which none of these tokens outlives; null for none. */
  readonly notAfter: number | null;
  /**
   * The subject when it is an application, not a person (a client-credentials token's client_id);
   * null when the subject is the token's user.
   */
  readonly subject: string | null;
}

/** OpenID Connect Registration §2 metadata without a column of its own (clients.oidc_settings). */
export interface OidcClientSettings {
  /** `web` (the default) or `native`. */
  readonly applicationType: 'web' | 'native';
  /** Seconds: a sign-in older than this is asked again, as if the request said `max_age`; null = none. */
  readonly defaultMaxAge: number | null;
  readonly contacts: readonly string[];
  /** OIDC Back-Channel Logout §2.2: where Tollgate posts a logout token when a session ends. */
  readonly backchannelLogoutUri: string | null;
  /** §2.2: the logout token must carry `sid`. */
  readonly backchannelLogoutSessionRequired: boolean;
}

export const DEFAULT_OIDC_SETTINGS: OidcClientSettings = {
  applicationType: 'web',
  defaultMaxAge: null,
  contacts: [],
  backchannelLogoutUri: null,
  backchannelLogoutSessionRequired: false,
};

export type NewClient = Omit<ClientRow, 'createdAt' | 'updatedAt' | 'scopesVersion' | 'usedAt' | 'adminDeactivated' | 'previousSecretHash' | 'previousSecretExpiresAt' | 'idTokenSignedResponseAlg' | 'postLogoutRedirectUris' | 'oidc' | 'tokenExchange' | 'metadataDocument' | 'privateKeyJwt'> & {
  readonly idTokenSignedResponseAlg?: KeyAlg | null;
  readonly postLogoutRedirectUris?: readonly string[];
  readonly oidc?: OidcClientSettings;
  readonly tokenExchange?: TokenExchangePolicy | null;
  readonly metadataDocument?: ClientMetadataState | null;
  readonly privateKeyJwt?: PrivateKeyJwtSettings | null;
};
export type ClientPatch = Partial<
  Omit<ClientRow, 'clientId' | 'createdAt' | 'updatedAt' | 'scopesVersion' | 'dynamic' | 'usedAt'>
>;

export interface ClientFilter {
  readonly name?: string; // substring, case-insensitive
  readonly orgId?: string;
  readonly active?: boolean;
  readonly ownerId?: string;
  /** Default: newest first. `org` orders by the organization's name (no organization first). */
  readonly sort?: 'created' | 'name' | 'status' | 'org';
  readonly dir?: 'asc' | 'desc';
  readonly limit?: number;
  readonly offset?: number;
}

export interface AuthorizationCodeRow {
  readonly codeHash: string;
  readonly clientId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly resource: string | null;
  readonly codeChallenge: string | null;
  readonly codeChallengeMethod: string | null;
  /** Tokens issued from this code share this family id; a replay revokes the family (Z10). */
  readonly familyId: string;
  readonly expiresAt: number;
  readonly consumedAt: number | null;
  readonly createdAt: number;
  /**
   * AnyFetch's replace_existing_token (Z6): the user's earlier tokens for this application are
   * revoked when this code is redeemed — by the application — never by the GET that asked for it.
   */
  readonly replaceExisting?: boolean;
}

export interface TokenRow {
  /** SHA-256 of the opaque token, or of the JWT's `jti`. */
  readonly tokenHash: string;
  readonly kind: TokenKind;
  readonly format: TokenFormat;
  readonly clientId: string;
  readonly userId: string | null;
  readonly scope: string;
  readonly audience: string | null;
  /** Refresh-token family (and the access tokens issued with it); null for client credentials. */
  readonly familyId: string | null;
  /** For an access token: the hash of the refresh token issued with it (null otherwise). */
  readonly parentHash: string | null;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  /** For refresh tokens: set when rotated (used once). */
  readonly consumedAt: number | null;
  readonly createdAt: number;
  /** Made by a token exchange (or refreshed from such a token): absent on every other token. */
  readonly exchange?: TokenExchangeFacts;
}

export type NewToken = Omit<TokenRow, 'revokedAt' | 'consumedAt'>;

/**
 * The family of the tokens exchanged from a subject token that has none of its own (client
 * credentials, a grant without refresh tokens): named after the subject token's hash, so revoking
 * that token revokes them (docs/token-exchange.md, "Revocation").
 */
export function exchangeFamilyOf(tokenHash: string): string {
  return `x.${tokenHash}`;
}

export interface ConsentRow {
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly scopesVersion: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastUsedAt: number | null;
}

export interface SessionRow {
  readonly idHash: string;
  readonly userId: string;
  readonly expiresAt: number;
  readonly createdAt: number;
  /** When the person signed in (epoch ms). */
  readonly authTime: number;
  /** Authentication methods (RFC 8176), when known. */
  readonly amr: readonly string[] | null;
  readonly acr: string | null;
  readonly kind: SessionKind;
  /** Set when the session was ended (sign-out, `endSession`); an ended session signs nobody in. */
  readonly endedAt: number | null;
}

export type NewSession = Omit<SessionRow, 'endedAt' | 'amr' | 'acr' | 'kind' | 'authTime'> &
  Partial<Pick<SessionRow, 'amr' | 'acr' | 'kind' | 'authTime'>>;

/**
 * An authorization request waiting for a sign-in (issue #11): kept whole on the server, bound to
 * the browser that started it (`browserHash`, the hash of a cookie), single-use. For a delegated
 * login it is the login challenge; the platform's answer is `result`.
 */
export interface InteractionRow {
  readonly idHash: string;
  readonly browserHash: string;
  /** The application asking; null for a plain sign-in (a page of Tollgate's own). */
  readonly clientId: string | null;
  /** The authorization request's parameters, as a query string ('' for a plain sign-in). */
  readonly request: string;
  /** Where a plain sign-in returns to (a path under the issuer). */
  readonly returnTo: string | null;
  /** Who was signed in on this browser when the sign-in was asked for (prompt=login, max_age), if anyone. */
  readonly sessionSubject: string | null;
  /** When the person was sent to sign in: a sign-in that satisfies the request is not older. */
  readonly loginRequestedAt: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The delegated login's answer (JSON), once accepted or rejected. */
  readonly result: string | null;
  readonly decidedAt: number | null;
  readonly consumedAt: number | null;
}

export interface InteractionRepo {
  create(row: Omit<InteractionRow, 'result' | 'decidedAt' | 'consumedAt'>): Promise<void>;
  byHash(idHash: string): Promise<InteractionRow | null>;
  /** Records the answer once: false when already decided, consumed or expired at `now`. */
  decide(idHash: string, result: string, now: number): Promise<boolean>;
  /** Uses it once: false when already consumed or expired at `now`. */
  consume(idHash: string, now: number): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  /** Private key as a JWK (JSON text). */
  readonly privateJwk: string;
  /** Public key as a JWK (JSON text). */
  readonly publicJwk: string;
  readonly createdAt: number;
  /** Set when the key stops signing (rotated); it stays published until `expiresAt`. */
  readonly retiredAt: number | null;
  /** After this time the key is removed from the JWKS; null while active. */
  readonly expiresAt: number | null;
}

export interface ScopeRow {
  readonly name: string;
  readonly description: string;
  /** Identifier of the resource server this scope belongs to, or null for Tollgate's own. */
  readonly resourceServer: string | null;
  /** Granted to dynamically registered clients that ask for no scope (A8). */
  readonly isDefault: boolean;
  readonly createdAt: number;
  /**
   * The description in other languages, by locale (`{"fr": "…"}`, issue #12 item 8); the consent
   * page shows the one for its language, else `description`. Empty when there is none.
   */
  readonly descriptions: Readonly<Record<string, string>>;
}

/** A scope to save: without `descriptions`, an existing scope keeps its own (a new one has none). */
export type ScopeInput = Omit<ScopeRow, 'descriptions'> & { readonly descriptions?: Readonly<Record<string, string>> };

export interface ResourceServerRow {
  /** RFC 8707 resource identifier (absolute URI), used as the token audience. */
  readonly identifier: string;
  readonly name: string;
  readonly createdAt: number;
  /**
   * The applications allowed to introspect tokens issued for this resource server (issue #15 §6);
   * null on one registered before that rule: any confidential client may (a warning at start).
   */
  readonly introspectors: readonly string[] | null;
}

export interface AuditEventRow {
  readonly id: number;
  readonly at: number;
  readonly type: string;
  readonly actorUserId: string | null;
  readonly clientId: string | null;
  readonly ip: string | null;
  /** Free-form, never contains secrets (the audit writer strips them). */
  readonly details: Readonly<Record<string, unknown>>;
}

export type NewAuditEvent = Omit<AuditEventRow, 'id'>;

export interface AuditFilter {
  readonly type?: string;
  readonly clientId?: string;
  readonly actorUserId?: string;
  readonly since?: number;
  readonly limit?: number;
  /** The page after this event (newest first): the previous page's last `at` and `id`. */
  readonly before?: { readonly at: number; readonly id: number };
}

export interface OrganizationRepo {
  create(org: OrganizationRow): Promise<void>;
  byId(id: string): Promise<OrganizationRow | null>;
  byName(name: string): Promise<OrganizationRow | null>;
  /**
   * One page by name (issue #15 §12): `search` matches the start of the name, case-insensitively;
   * `after` is the previous page's `next`.
   */
  page(opts: { readonly search?: string; readonly after?: string | null; readonly limit: number }): Promise<{ items: OrganizationRow[]; next: string | null }>;
  count(): Promise<number>;
  byIds(ids: readonly string[]): Promise<OrganizationRow[]>;
}

/** What a token check needs of a user; cached against the cache epoch (migrations 0004, 0007). */
export type UserAccountRow = Pick<UserRow, 'id' | 'email' | 'isAdmin' | 'disabled' | 'external' | 'profile'>;

export interface UserRepo {
  /** A built-in user; `profile` holds their OpenID Connect profile claims (name, given_name…), if any. */
  create(user: Omit<UserRow, 'external' | 'profile'> & { readonly profile?: Readonly<Record<string, unknown>> | null }): Promise<void>;
  /**
   * Creates or refreshes the row of a person the host owns. Never touches a built-in user: false
   * (and nothing written) when `id` is a built-in user's id.
   */
  upsertExternal(user: ExternalUser, now: number): Promise<boolean>;
  byId(id: string): Promise<UserRow | null>;
  /** Identity and status only (no sign-in bookkeeping): may be served from a validated cache. */
  account(id: string): Promise<UserAccountRow | null>;
  /** A built-in user by sign-in email (case-insensitive); external users are not found here. */
  byEmail(email: string): Promise<UserRow | null>;
  /**
   * One page of users in creation order (issue #15 §12), from an index: `search` matches the
   * start of the sign-in email or the whole id; `after` is the previous page's `next`.
   */
  page(opts: { readonly search?: string; readonly after?: string | null; readonly limit: number }): Promise<{ items: UserRow[]; next: string | null }>;
  /** How many users (only the disabled ones with `disabled: true`). */
  count(filter?: { readonly disabled?: boolean }): Promise<number>;
  anyAdmin(): Promise<boolean>;
  byIds(ids: readonly string[]): Promise<UserRow[]>;
  /** The memberships of several users at once. */
  membershipsOf(userIds: readonly string[]): Promise<MembershipRow[]>;
  /** An organization's members (at most `limit`), with their emails, and how many there are in all. */
  membersOf(orgId: string, limit: number): Promise<{ items: Array<MembershipRow & { readonly email: string | null }>; total: number }>;
  /** `profile`: a built-in user's OpenID Connect profile claims, replaced whole. */
  update(id: string, patch: Partial<Pick<UserRow, 'passwordHash' | 'isAdmin' | 'disabled' | 'profile'>>): Promise<boolean>;
  /** Atomically increments the failure counter and returns the new count. */
  recordLoginFailure(id: string, now: number): Promise<number>;
  setLockedUntil(id: string, until: number | null): Promise<void>;
  resetLoginFailures(id: string): Promise<void>;
  addMembership(m: MembershipRow): Promise<void>;
  memberships(userId: string): Promise<MembershipRow[]>;
}

export interface ClientRepo {
  create(client: NewClient, now: number): Promise<ClientRow>;
  byId(clientId: string): Promise<ClientRow | null>;
  list(filter?: ClientFilter): Promise<{ items: ClientRow[]; total: number }>;
  /** Records the application's first use (a no-op once recorded). */
  markUsed(clientId: string, now: number): Promise<void>;
  /** Deletes never-used dynamically registered applications registered before `before` (at most `limit`); returns how many. */
  purgeUnused(before: number, limit: number): Promise<number>;
  /** Applies the patch; bumps `scopesVersion` when `scopes` changes. Returns null when absent. */
  update(clientId: string, patch: ClientPatch, now: number): Promise<ClientRow | null>;
  delete(clientId: string): Promise<boolean>;
}

export interface CodeRepo {
  create(code: AuthorizationCodeRow): Promise<void>;
  byHash(codeHash: string): Promise<AuthorizationCodeRow | null>;
  /** Deletes a user's outstanding codes for one client (the user revoked the application); returns how many. */
  deleteByUserAndClient(userId: string, clientId: string): Promise<number>;
  /** Deletes every outstanding code of a user (disabled, or signed out everywhere); returns how many. */
  deleteByUser(userId: string): Promise<number>;
  /** Deletes codes that expired before `before`; returns how many. */
  purgeExpired(before: number): Promise<number>;
}

export interface TokenRepo {
  insert(token: NewToken): Promise<void>;
  insertMany(tokens: readonly NewToken[]): Promise<void>;
  byHash(tokenHash: string): Promise<TokenRow | null>;
  /** The (encrypted) response of a rotation, kept on the rotated refresh token for the grace window. */
  graceResponse(tokenHash: string): Promise<string | null>;
  /**
   * Revokes one token; for a refresh token also the access tokens issued with it; for any token
   * also the family exchanged from it (`exchangeFamilyOf`). Returns rows changed.
   */
  revoke(tokenHash: string, now: number): Promise<number>;
  /** Every token of the family, whichever application holds it (exchanged tokens join the subject's family). */
  revokeFamily(familyId: string, now: number): Promise<number>;
  /**
   * Every token of an application, and every token of a family one of them belongs to or is the
   * subject of (`exchangeFamilyOf`): what other applications obtained by exchanging them.
   */
  revokeByClient(clientId: string, now: number): Promise<number>;
  /**
   * A user's tokens of one application; `exceptFamilyId` keeps the tokens of that one grant. Also
   * the user's tokens, of any application, in those tokens' families (or exchanged from them).
   */
  revokeByUserAndClient(userId: string, clientId: string, now: number, exceptFamilyId?: string): Promise<number>;
  /** Every token acting for this user, of every application (the user was disabled or signed out everywhere). */
  revokeByUser(userId: string, now: number): Promise<number>;
  /** Deletes tokens that expired (or were revoked) before `before`; returns how many. */
  purgeExpired(before: number): Promise<number>;
  /** Count of tokens issued per client per UTC day since `since` (for dashboards). */
  countIssuedSince(since: number): Promise<Array<{ clientId: string; day: string; count: number }>>;
}

/**
 * One grant's writes (the token request of the authorization-code or refresh grant), committed
 * atomically: the presented code or refresh token is consumed, and only if this request is the
 * one that consumed it are the consent's last use, the new tokens and the grace response written.
 */
/** See GrantRedemption.consent. */
export const CONSENT_USE_GRANULARITY_MS = 60_000;

export interface GrantRedemption {
  /** What the client presented, by hash: an authorization code or a refresh token. */
  readonly consume: { readonly kind: 'code' | 'refresh'; readonly hash: string };
  readonly now: number;
  /**
   * The consent whose last use this records, or null (no user). Recorded to the minute: only
   * when the stored last use is null or at least CONSENT_USE_GRANULARITY_MS older than `now`, so
   * that one person's redemptions for one application do not each write (and, on PostgreSQL,
   * wait for one another's commit on) the same row. Pages show the last use to the minute.
   */
  readonly consent: { readonly userId: string; readonly clientId: string } | null;
  readonly tokens: readonly NewToken[];
  /** Refresh only: the sealed response kept on the consumed token for the grace window. */
  readonly graceResponse: string | null;
}

export interface GrantRepo {
  /**
   * Consumes and writes as one commit. False, with nothing written, when the code or token is
   * unknown, already consumed or (a refresh token) revoked: the caller lost a race or replayed it.
   */
  redeem(redemption: GrantRedemption): Promise<boolean>;
}

export interface ConsentRepo {
  get(userId: string, clientId: string): Promise<ConsentRow | null>;
  upsert(consent: Omit<ConsentRow, 'createdAt' | 'updatedAt' | 'lastUsedAt'>, now: number): Promise<void>;
  listByUser(userId: string): Promise<ConsentRow[]>;
  delete(userId: string, clientId: string): Promise<boolean>;
}

export interface SessionRepo {
  create(session: NewSession): Promise<void>;
  byHash(idHash: string): Promise<SessionRow | null>;
  /** False when there was no such session. */
  delete(idHash: string): Promise<boolean>;
  /** Deletes every session of the person; returns the deleted sessions' id hashes (for their `sid`). */
  deleteByUser(userId: string): Promise<string[]>;
  /** Marks a session ended (kept, so that a host still reporting it is not believed); false when unknown. */
  end(idHash: string, now: number): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}

export interface KeyRepo {
  insert(key: SigningKeyRow): Promise<void>;
  /** All keys not yet expired at `now` (active first, newest first). */
  listPublished(now: number): Promise<SigningKeyRow[]>;
  listAll(): Promise<SigningKeyRow[]>;
  /** The kid of the newest active (signing) key, or null: one cheap read to notice a rotation. */
  currentKid(): Promise<string | null>;
  /** Retires every active key (of `alg` only, when given) except `exceptKid`: sets retiredAt and expiresAt. */
  retireAllExcept(exceptKid: string, now: number, expiresAt: number, alg?: string): Promise<void>;
}

export interface ScopeRepo {
  upsert(scope: ScopeInput): Promise<void>;
  byName(name: string): Promise<ScopeRow | null>;
  list(): Promise<ScopeRow[]>;
  delete(name: string): Promise<boolean>;
}

export interface ResourceServerRepo {
  create(rs: ResourceServerRow): Promise<void>;
  setIntrospectors(identifier: string, introspectors: readonly string[] | null): Promise<boolean>;
  byIdentifier(identifier: string): Promise<ResourceServerRow | null>;
  list(): Promise<ResourceServerRow[]>;
  delete(identifier: string): Promise<boolean>;
}

export interface AuditRepo {
  append(event: NewAuditEvent): Promise<void>;
  /** Events of these types per UTC day (YYYY-MM-DD) since `since`. */
  countPerDay(since: number, types: readonly string[]): Promise<Array<{ type: string; day: string; count: number }>>;
  /** Deletes events recorded before `before`, oldest first, at most `limit`; returns how many. */
  purgeBefore(before: number, limit: number): Promise<number>;
  list(filter?: AuditFilter): Promise<AuditEventRow[]>;
}

/** The sign-in behind an OpenID Connect grant (issue #12), by token family. */
export interface OidcGrantRow {
  readonly familyId: string;
  readonly clientId: string;
  readonly userId: string;
  readonly nonce: string | null;
  /** Epoch ms. */
  readonly authTime: number;
  readonly amr: readonly string[] | null;
  readonly acr: string | null;
  readonly sid: string | null;
  /** Claims the request's `claims` parameter asked for in the ID token (Core §5.5); null for none. */
  readonly idTokenClaims?: readonly string[] | null;
  readonly createdAt: number;
}

export interface OidcGrantRepo {
  create(row: OidcGrantRow): Promise<void>;
  byFamily(familyId: string): Promise<OidcGrantRow | null>;
  /** The grants made in the session `sid`, newest first, at most `limit` (back-channel logout). */
  bySid(sid: string, limit: number): Promise<OidcGrantRow[]>;
  /** Deletes rows created before `before` whose family has no token left; returns how many. */
  purgeOrphans(before: number, limit: number): Promise<number>;
}

/**
 * A device authorization request (RFC 8628; issue #14): the device polls with its `device_code`,
 * the person types the `user_code` on another screen. Both are stored only hashed.
 */
export interface DeviceCodeRow {
  readonly deviceCodeHash: string;
  /** SHA-256 of the normalised user code (upper case, no separator). */
  readonly userCodeHash: string;
  readonly clientId: string;
  /** The scopes asked for, space-separated ('' for none). */
  readonly scope: string;
  /** The token audience the request resolved to (RFC 8707 `resource`, or the default API). */
  readonly audience: string;
  /** Seconds between polls; grows by 5 with every `slow_down` (RFC 8628 §3.5). */
  readonly interval: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly lastPolledAt: number | null;
  readonly status: DeviceCodeStatus;
  /** Who decided and when (approved or denied). */
  readonly userId: string | null;
  readonly decidedAt: number | null;
  /** Approved: the scopes the person left ticked, the token family and their sign-in. */
  readonly grantedScope: string | null;
  readonly familyId: string | null;
  readonly signIn: DeviceSignIn | null;
}

export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

/** What an approval records of the person's sign-in (for an OpenID Connect ID token). */
export interface DeviceSignIn {
  readonly authTime: number;
  readonly amr: readonly string[] | null;
  readonly acr: string | null;
  readonly sid: string | null;
}

/** What one poll found: the row as it is after the poll, and whether the poll came too early. */
export interface DevicePoll {
  readonly row: DeviceCodeRow;
  /** The poll came sooner than `interval` after the previous one: the interval grew by 5 s. */
  readonly slowDown: boolean;
}

export interface DeviceCodeRepo {
  create(row: Omit<DeviceCodeRow, 'lastPolledAt' | 'status' | 'userId' | 'decidedAt' | 'grantedScope' | 'familyId' | 'signIn'>): Promise<void>;
  byDeviceCode(deviceCodeHash: string): Promise<DeviceCodeRow | null>;
  byUserCode(userCodeHash: string): Promise<DeviceCodeRow | null>;
  /**
   * Records a poll of this client's pending, unexpired request as one conditional UPDATE: a poll
   * sooner than `interval` seconds after the previous one grows the interval by 5 s (and says so).
   * Null when there is no such request (unknown, another client's, expired, decided, redeemed):
   * the caller reads it to say which.
   */
  poll(deviceCodeHash: string, clientId: string, now: number): Promise<DevicePoll | null>;
  /** The person's answer: only a pending, unexpired request takes one; false otherwise. */
  approve(userCodeHash: string, decision: { readonly userId: string; readonly grantedScope: string; readonly familyId: string; readonly signIn: DeviceSignIn }, now: number): Promise<boolean>;
  deny(userCodeHash: string, userId: string, now: number): Promise<boolean>;
  /** Approved → redeemed, once: exactly one of any number of parallel polls gets true. */
  redeem(deviceCodeHash: string, now: number): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}

export interface Storage {
  readonly dialect: 'sqlite' | 'postgres';
  readonly organizations: OrganizationRepo;
  readonly users: UserRepo;
  readonly clients: ClientRepo;
  readonly codes: CodeRepo;
  readonly tokens: TokenRepo;
  readonly grants: GrantRepo;
  readonly consents: ConsentRepo;
  readonly sessions: SessionRepo;
  readonly interactions: InteractionRepo;
  readonly keys: KeyRepo;
  readonly scopes: ScopeRepo;
  readonly resourceServers: ResourceServerRepo;
  readonly audit: AuditRepo;
  readonly oidcGrants: OidcGrantRepo;
  readonly deviceCodes: DeviceCodeRepo;
  readonly clientMetadata: ClientMetadataRepo;
  readonly clientAssertions: ClientAssertionRepo;
  /** Runs `fn` in one database transaction, with repositories bound to it. */
  transaction<T>(fn: (tx: Omit<Storage, 'transaction' | 'close' | 'migrate' | 'ping' | 'markArrival'>) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /**
   * Called by the HTTP server as each request arrives. Caches validated against the database
   * (see storage/kysely/hot-path.ts) may then share one validation among the requests that
   * arrived before it; without calls, every use validates afresh.
   */
  markArrival?(): void;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
