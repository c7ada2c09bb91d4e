/**
 * Kysely table definitions for Tollgate's storage (snake_case, identical on SQLite and PostgreSQL).
 *
 * Column conventions (see migrations/0001_initial.ts):
 * - times are epoch milliseconds in `bigint` columns; the PostgreSQL pool parses int8 as a JS
 *   number, SQLite returns integers as numbers, so they are typed `number` here;
 * - booleans are `integer` 0/1 on both dialects;
 * - lists (redirect URIs, scopes, grant types) and audit details are JSON text.
 */
import type { Generated } from 'kysely';
import type { ClientType, MembershipRole, SessionKind, TokenFormat, TokenKind } from '../types.js';

/** 0 or 1. */
export type IntBool = number;
/** JSON text (an array of strings, or an object for audit details). */
export type JsonText = string;

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  /** Always stored lower-cased. */
  email: string;
  password_hash: string;
  is_admin: IntBool;
  disabled: IntBool;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  /** A person the host platform owns (id = the host's subject); no password. */
  external: IntBool;
  /** JSON object: what the host said about an external person (email, email_verified, name, claims). */
  profile: JsonText | null;
}

export interface MembershipsTable {
  user_id: string;
  org_id: string;
  role: MembershipRole;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  description: string | null;
  website: string | null;
  logo_uri: string | null;
  redirect_uris: JsonText;
  scopes: JsonText;
  grant_types: JsonText;
  client_type: ClientType;
  org_id: string | null;
  owner_id: string | null;
  acts_as_user_id: string | null;
  internal: IntBool;
  active: IntBool;
  secret_hash: string | null;
  token_format: TokenFormat;
  access_ttl: number | null;
  refresh_enabled: IntBool;
  refresh_ttl: number | null;
  refresh_grace_seconds: number;
  scopes_version: number;
  registration_token_hash: string | null;
  dynamic: IntBool;
  created_at: number;
  updated_at: number;
  used_at: number | null;
  admin_deactivated: IntBool;
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  /** 0009: ES256, RS256 or EdDSA; null for RS256. */
  id_token_signed_response_alg: string | null;
  /** 0010: JSON list; null for none. */
  post_logout_redirect_uris: JsonText | null;
  /** 0011: JSON object (OidcClientSettings); null for the defaults. */
  oidc_settings: JsonText | null;
  /** 0014: JSON object (TokenExchangePolicy); null for none. */
  token_exchange: JsonText | null;
  /** 0016: JSON object (ClientMetadataState); null unless the client_id is a metadata document's URL. */
  metadata_document: JsonText | null;
  /** 0016: that URL's host (lower case), for the block-list. */
  metadata_host: string | null;
  /** 0017: JSON object (PrivateKeyJwtSettings); null unless it authenticates with private_key_jwt. */
  private_key_jwt: JsonText | null;
}

export interface ClientAssertionJtisTable {
  /** SHA-256 of client_id and jti. */
  id: string;
  expires_at: number;
}

export interface ClientLogosTable {
  client_id: string;
  content_type: string;
  /** base64 */
  data: string;
  fetched_at: number;
}

export interface ClientMetadataBlocksTable {
  pattern: string;
  reason: string | null;
  created_by: string | null;
  created_at: number;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  resource: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  family_id: string;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
  replace_existing: IntBool;
}

export interface TokensTable {
  token_hash: string;
  kind: TokenKind;
  format: TokenFormat;
  client_id: string;
  user_id: string | null;
  scope: string;
  audience: string | null;
  family_id: string | null;
  parent_hash: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  consumed_at: number | null;
  created_at: number;
  grace_response: string | null;
  /** 0014: JSON object (TokenExchangeFacts) on a token made by a token exchange; null otherwise. */
  exchange: JsonText | null;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  scopes_version: number;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  expires_at: number;
  created_at: number;
  /** When the person signed in (epoch ms); null on sessions older than migration 0007 (= created_at). */
  auth_time: number | null;
  amr: JsonText | null;
  acr: string | null;
  kind: Generated<SessionKind>;
  ended_at: number | null;
}

export interface InteractionsTable {
  id_hash: string;
  browser_hash: string;
  client_id: string | null;
  request: string;
  return_to: string | null;
  session_subject: string | null;
  login_requested_at: number;
  created_at: number;
  expires_at: number;
  result: JsonText | null;
  decided_at: number | null;
  consumed_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
  expires_at: number | null;
}

export interface ScopesTable {
  name: string;
  description: string;
  resource_server: string | null;
  is_default: IntBool;
  created_at: number;
  /** JSON object locale → description (0012); null for none. */
  descriptions: string | null;
}

export interface ResourceServersTable {
  identifier: string;
  name: string;
  created_at: number;
  /** JSON list of client_ids allowed to introspect for it; null = any confidential client (before 0008). */
  introspectors: JsonText | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  actor_user_id: string | null;
  client_id: string | null;
  ip: string | null;
  details: JsonText;
}

export interface CacheEpochTable {
  id: number;
  epoch: number;
}

/** 0009: the sign-in behind an OpenID Connect grant, by token family. */
export interface OidcGrantsTable {
  family_id: string;
  client_id: string;
  user_id: string;
  nonce: string | null;
  auth_time: number;
  /** JSON list. */
  amr: JsonText | null;
  acr: string | null;
  sid: string | null;
  /** 0011: JSON list of claim names for the ID token (the `claims` parameter); null for none. */
  id_token_claims: JsonText | null;
  created_at: number;
}

/** 0013: device authorization requests (RFC 8628). */
export interface DeviceCodesTable {
  device_code_hash: string;
  user_code_hash: string;
  client_id: string;
  scope: string;
  audience: string;
  interval: number;
  created_at: number;
  expires_at: number;
  last_polled_at: number | null;
  /** 1 when the last poll came too early (it answered slow_down). */
  slow_down: number;
  status: string;
  user_id: string | null;
  decided_at: number | null;
  granted_scope: string | null;
  family_id: string | null;
  /** JSON: auth_time, amr, acr, sid. */
  sign_in: JsonText | null;
}

export interface Database {
  cache_epoch: CacheEpochTable;
  organizations: OrganizationsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  clients: ClientsTable;
  authorization_codes: AuthorizationCodesTable;
  tokens: TokensTable;
  consents: ConsentsTable;
  sessions: SessionsTable;
  interactions: InteractionsTable;
  signing_keys: SigningKeysTable;
  scopes: ScopesTable;
  resource_servers: ResourceServersTable;
  audit_events: AuditEventsTable;
  oidc_grants: OidcGrantsTable;
  device_codes: DeviceCodesTable;
  client_logos: ClientLogosTable;
  client_metadata_blocks: ClientMetadataBlocksTable;
  client_assertion_jtis: ClientAssertionJtisTable;
}
