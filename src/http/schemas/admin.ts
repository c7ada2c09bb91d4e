/**
 * The admin API's schemas (issue #16 §3): every body, query and response of /admin/api, declared
 * once with TypeBox. The same objects give
 *   - the validation: src/http/plugins/schema-reader.ts reads requests against them (unknown
 *     fields refused, form bodies accepted, Tollgate's messages);
 *   - the handlers' types: `Static<…>` through the type provider, so a handler cannot read a
 *     field the schema does not declare;
 *   - the OpenAPI document: @fastify/swagger collects them from the routes (src/http/openapi.ts).
 * test/api/admin-schema.test.ts checks that real responses match the response schemas.
 *
 * Ranges and lengths given here (`minimum`, `maxLength`) document what the services check; the
 * services refuse out-of-range values with messages that name the range, so the reader checks
 * types and shapes only.
 */
import { Type, type TSchema } from 'typebox';
import { BUILTIN_GRANTS } from '../../oauth/grant-types.js';
import { ID_TOKEN_ALGS, KEY_ALGS } from '../../config.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

const Opt = Type.Optional;
const str = (description?: string) => Type.String(description ? { description } : {});
const nullableStr = (description?: string, extra: Record<string, unknown> = {}) =>
  Type.Union([Type.String(extra), Type.Null()], description ? { description } : {});
/** Whole seconds, or null; a form body may send digits, or "" for null. */
const seconds = (description: string, range: { minimum?: number; maximum?: number } = {}) =>
  Type.Union([Type.Integer(range), Type.Null()], { description });
const bool = (description?: string) => Type.Boolean(description ? { description } : {});
/** A list of strings; a form body sends the field once per item. */
const strList = (description?: string) => Type.Array(Type.String(), description ? { description } : {});
const oneOf = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {});
const dateTime = Type.String({ format: 'date-time' });
const nullableDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
/** Marks a schema the reader passes through untouched: a service checks it (and says why it fails). */
const checkedByService = { 'x-checked-by': 'service' } as const;

/** A response object: every listed member is always present, nothing else is. */
const Shape = <P extends Record<string, TSchema>>(properties: P, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

export const ErrorBody = Type.Object(
  { error: Type.String(), error_description: Opt(Type.String()) },
  { description: 'RFC 6749 §5.2 error', additionalProperties: true },
);

// ---------------------------------------------------------------------------------------------
// Pagination: `limit` and `cursor` in, `{ items, next }` out (docs/admin-api.md)

export interface PageSize {
  readonly def: number;
  readonly max: number;
}
export const PAGE: PageSize = { def: 50, max: 200 };
export const CONFIG_PAGE: PageSize = { def: 100, max: 200 };
export const AUDIT_PAGE: PageSize = { def: 100, max: 1000 };
export const BLOCK_PAGE: PageSize = { def: 100, max: 500 };

const limit = (size: PageSize) => Opt(Type.Integer({ minimum: 1, maximum: size.max, default: size.def, description: 'Page size' }));
/** The `next` of the previous page; `pattern` is what this list's cursors look like. */
const cursor = (pattern: string) =>
  Opt(Type.String({ pattern, description: 'The `next` of the previous page', errorMessage: '"cursor" is not a cursor this API returned' }));
const offset = () => Opt(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0, description: 'Items to skip (instead of cursor)' }));

export const CURSOR = {
  offset: '^\\d{1,10}$',
  user: '^\\d{1,16}\\.[A-Za-z0-9_-]{1,400}$',
  name: '^[A-Za-z0-9_-]{1,600}$',
  org: '^[A-Za-z0-9_-]{1,400}$',
  audit: '^\\d{1,16}\\.\\d{1,16}$',
} as const;

const pageOf = (item: TSchema) =>
  Shape({
    items: Type.Array(item),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
  });

export const PagedQuery = (size: PageSize, pattern: string) => Type.Object({ limit: limit(size), cursor: cursor(pattern) }, { additionalProperties: false });
export const SearchQuery = (description: string, pattern: string) =>
  Type.Object({ q: Opt(Type.String({ description })), limit: limit(PAGE), cursor: cursor(pattern) }, { additionalProperties: false });

export const NoQuery = Type.Object({}, { additionalProperties: false });
export const NoBody = Type.Object({}, { additionalProperties: false });

// ---------------------------------------------------------------------------------------------
// Applications

const TokenExchangePolicy = {
  audiences: Opt(strList('Resource server identifiers (or Tollgate’s own API) the app may exchange tokens for')),
  impersonation: Opt(bool('May exchange without an actor token (the new token has no act)')),
  refresh_tokens: Opt(bool('May ask for a refresh token (requested_token_type refresh_token)')),
};

/** Fields an application accepts on create and update (snake_case, like RFC 7591). */
const appFields = {
  name: Opt(Type.String({ minLength: 1, maxLength: 200, description: 'Display name shown on the consent screen (required at creation)' })),
  description: Opt(nullableStr(undefined, { maxLength: 2000 })),
  website: Opt(nullableStr(undefined, { format: 'uri' })),
  logo_uri: Opt(nullableStr(undefined, { format: 'uri' })),
  redirect_uris: Opt(strList()),
  scopes: Opt(strList('Scopes the app may request (each must exist)')),
  scope: Opt(str('Alternative to `scopes`: space-separated')),
  grant_types: Opt(Type.Array(oneOf(BUILTIN_GRANTS))),
  client_type: Opt(oneOf(['confidential', 'public'] as const, 'Cannot change after creation')),
  org: Opt(nullableStr('Organization name or id; null clears')),
  owner: Opt(nullableStr('Owner email (or user id); null clears')),
  acts_as: Opt(nullableStr('client_credentials tokens act for this user (email or id); null clears')),
  internal: Opt(bool('The owner receives a long-lived refresh token at creation')),
  token_format: Opt(oneOf(['opaque', 'jwt'] as const)),
  access_ttl: Opt(seconds('Seconds; null = long-lived access tokens', { minimum: 1 })),
  refresh_enabled: Opt(bool()),
  refresh_ttl: Opt(seconds('Seconds; null = never expires', { minimum: 1 })),
  refresh_grace_seconds: Opt(seconds('Refresh grace window in seconds; 0 or null = off', { minimum: 0, maximum: 300 })),
  active: Opt(bool()),
  id_token_signed_response_alg: Opt(oneOf(ID_TOKEN_ALGS, "OpenID Connect: the ID tokens' algorithm (default RS256)")),
  post_logout_redirect_uris: Opt(strList('OpenID Connect: where the app may send a person after signing out (matched exactly)')),
  application_type: Opt(oneOf(['web', 'native'] as const, 'OpenID Connect Registration §2 (default web)')),
  default_max_age: Opt(seconds('Seconds: an older sign-in is asked again unless the request says max_age; null = none', { minimum: 0 })),
  contacts: Opt(strList('Email addresses of the people responsible for the app (at most 10)')),
  backchannel_logout_uri: Opt(nullableStr('OpenID Connect Back-Channel Logout: https URL Tollgate posts a logout token to when a session ends')),
  backchannel_logout_session_required: Opt(bool('The app needs sid in logout tokens (Tollgate always sends it)')),
  token_exchange: Opt(
    Type.Union([Type.Object(TokenExchangePolicy, { additionalProperties: false }), Type.Null()], {
      description: 'Token exchange (RFC 8693) policy, administrators only; the fields given replace the current ones, null removes the policy (docs/token-exchange.md)',
    }),
  ),
  jwks: Opt(
    Type.Union([Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: true }), Type.Null()], {
      description: "private_key_jwt: the application's public keys as a JWK Set (RSA, EC or OKP; no private members). With jwks or jwks_uri at creation the application authenticates with signed assertions and gets no secret (docs/client-authentication.md)",
      ...checkedByService,
    }),
  ),
  jwks_uri: Opt(nullableStr('private_key_jwt: the https URL of its JWK Set (instead of jwks); fetched through the SSRF-safe client, cached, fetched again for an unknown kid', { format: 'uri' })),
};

export const AppCreate = Type.Object({ ...appFields, name: Type.String({ minLength: 1, maxLength: 200, description: 'Display name shown on the consent screen' }) }, { additionalProperties: false });
export const AppUpdate = Type.Object(appFields, { additionalProperties: false });

export const App = Shape({
  client_id: Type.String(),
  name: Type.String(),
  description: nullableStr(),
  website: nullableStr(),
  logo_uri: nullableStr(),
  redirect_uris: strList(),
  scopes: strList(),
  grant_types: strList(),
  client_type: oneOf(['confidential', 'public'] as const),
  token_endpoint_auth_method: oneOf(['client_secret_basic', 'private_key_jwt', 'none'] as const, 'client_secret_basic stands for both secret methods (Basic and post)'),
  jwks: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  jwks_uri: nullableStr(),
  org_id: nullableStr(),
  owner_id: nullableStr(),
  acts_as_user_id: nullableStr(),
  internal: Type.Boolean(),
  active: Type.Boolean(),
  token_format: oneOf(['opaque', 'jwt'] as const),
  access_ttl: Type.Union([Type.Integer(), Type.Null()]),
  refresh_enabled: Type.Boolean(),
  refresh_ttl: Type.Union([Type.Integer(), Type.Null()]),
  refresh_grace_seconds: Type.Integer(),
  id_token_signed_response_alg: Type.String(),
  post_logout_redirect_uris: strList(),
  application_type: oneOf(['web', 'native'] as const),
  default_max_age: Type.Union([Type.Integer(), Type.Null()]),
  contacts: strList(),
  backchannel_logout_uri: nullableStr(),
  backchannel_logout_session_required: Type.Boolean(),
  token_exchange: Type.Union([Shape({ audiences: strList(), impersonation: Type.Boolean(), refresh_tokens: Type.Boolean() }), Type.Null()]),
  dynamic: Type.Boolean(),
  metadata_document: Type.Union(
    [Shape({ url: Type.String(), fetched_at: dateTime, expires_at: dateTime, logo_source: nullableStr() }), Type.Null()],
    { description: 'When the client_id is the URL of a Client ID Metadata Document: what the last fetch recorded (docs/client-id-metadata.md)' },
  ),
  deactivated_by_admin: Type.Boolean(),
  previous_secret_expires_at: nullableDateTime,
  created_at: dateTime,
  updated_at: dateTime,
});

export const CreatedApp = Type.Object(
  {
    ...App.properties,
    client_secret: Opt(Type.String({ description: 'Shown only once; absent for public clients and private_key_jwt' })),
    refresh_token: Opt(Type.String({ description: 'Internal apps: the owner’s long-lived refresh token, shown only once' })),
  },
  { additionalProperties: false },
);

export const AppListQuery = Type.Object(
  {
    name: Opt(str('Names containing this text (case-insensitive)')),
    org: Opt(str('Organization name or id')),
    status: Opt(oneOf(['active', 'inactive'] as const, 'Active or deactivated apps')),
    owner: Opt(str('Owner email or id')),
    limit: limit(PAGE),
    offset: offset(),
    cursor: cursor(CURSOR.offset),
  },
  { additionalProperties: false },
);

export const AppPage = Shape({
  items: Type.Array(App),
  next: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' }),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

export const ClientIdParams = Type.Object({ clientId: Type.String() });
export const RotateSecret = Type.Object(
  { overlap_seconds: Opt(seconds('The old secret keeps working this long (0 or null: it stops at once)', { minimum: 0, maximum: 604_800 })) },
  { additionalProperties: false },
);
export const ClientSecret = Type.Object(
  { client_id: Type.String(), client_secret: Type.String(), previous_secret_expires_at: Opt(dateTime) },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Users, organizations, scopes, resource servers

const Membership = Shape({ id: Type.String(), name: Type.String(), role: oneOf(['admin', 'member'] as const) });
export const User = Shape({
  id: Type.String(),
  email: Type.String(),
  name: nullableStr(),
  given_name: nullableStr(),
  family_name: nullableStr(),
  email_verified: Type.Boolean(),
  is_admin: Type.Boolean(),
  disabled: Type.Boolean(),
  created_at: dateTime,
  organizations: Type.Array(Membership),
});
export const UserPage = pageOf(User);
export const UserCreate = Type.Object(
  {
    email: Type.String({ format: 'email' }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
    is_admin: Opt(bool()),
    org: Opt(nullableStr('Organization name or id to add the user to')),
    role: Opt(oneOf(['admin', 'member'] as const, 'Role in `org` (default member)')),
  },
  { additionalProperties: false },
);
export const UserUpdate = Type.Object(
  {
    disabled: Opt(bool('A disabled user cannot sign in and their tokens stop working at once')),
    is_admin: Opt(bool()),
    name: Opt(nullableStr('OpenID Connect profile: full name; null or "" clears')),
    given_name: Opt(nullableStr('OpenID Connect profile: given name')),
    family_name: Opt(nullableStr('OpenID Connect profile: family name')),
    email_verified: Opt(bool('OpenID Connect profile: whether the email address was verified')),
  },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Type.String() });

export const Organization = Shape({ id: Type.String(), name: Type.String(), created_at: dateTime });
export const OrganizationPage = pageOf(Organization);
export const OrganizationCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const Scope = Shape({
  name: Type.String(),
  description: Type.String(),
  descriptions: Type.Record(Type.String(), Type.String(), {
    description: 'The description by locale (en, fr, de, es, it); the consent page shows the one for its language, else `description`',
  }),
  resource_server: nullableStr(),
  is_default: Type.Boolean(),
  created_at: dateTime,
});
export const ScopePage = pageOf(Scope);
export const ScopeCreate = Type.Object(
  {
    name: Type.String({ maxLength: 128 }),
    description: Opt(Type.String()),
    descriptions: Opt(
      Type.Record(Type.String(), Type.String({ maxLength: 1000 }), {
        description:
          "The description in other languages by locale, e.g. {\"fr\": \"Voir vos commandes\"}: a shipped locale (en, fr, de, es, it) each; an empty text is none. Replaces the scope's per-locale descriptions; omitted, an existing scope keeps them",
        errorMessage: '"descriptions" must be a JSON object of texts by locale, e.g. {"fr": "text"}',
      }),
    ),
    resource_server: Opt(nullableStr('Identifier of an existing resource server')),
    is_default: Opt(bool('Granted to dynamically registered clients that ask for no scope')),
  },
  { additionalProperties: false },
);

export const ResourceServer = Shape({
  identifier: Type.String({ format: 'uri' }),
  name: Type.String(),
  scopes: strList(),
  introspectors: strList('client_ids allowed to introspect tokens issued for it (besides each token’s own application)'),
  created_at: dateTime,
});
export const ResourceServerPage = pageOf(ResourceServer);
export const ResourceServerCreate = Type.Object(
  {
    identifier: Type.String({ format: 'uri', description: 'RFC 8707 resource indicator, used as the token audience' }),
    name: Opt(Type.String()),
    scopes: Opt(Type.Array(Type.Object({ name: Type.String(), description: Opt(Type.String()) }, { additionalProperties: false }))),
    introspectors: Opt(strList('client_ids allowed to introspect tokens issued for it (besides each token’s own application)')),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Client ID Metadata Document blocks, keys, audit, import, revocation

export const MetadataBlock = Shape({ pattern: Type.String(), reason: nullableStr(), created_by: nullableStr(), created_at: dateTime });
export const MetadataBlockPage = Type.Object({ ...pageOf(MetadataBlock).properties, total: Type.Integer() }, { additionalProperties: false });
export const MetadataBlockCreated = Type.Object(
  { ...MetadataBlock.properties, deactivated: Type.Integer({ description: 'Applications deactivated by this request' }) },
  { additionalProperties: false },
);
export const MetadataBlockQuery = Type.Object({ limit: limit(BLOCK_PAGE), offset: offset(), cursor: cursor(CURSOR.offset) }, { additionalProperties: false });
export const MetadataBlockCreate = Type.Object(
  {
    pattern: Type.String({ description: 'A host (agents.example), *.domain for its subdomains, or one client_id URL' }),
    reason: Opt(Type.String()),
  },
  { additionalProperties: false },
);
export const MetadataUnblockQuery = Type.Object({ pattern: Type.String({ description: 'The block to lift' }) }, { additionalProperties: false });

export const SigningKey = Shape({
  kid: Type.String(),
  alg: Type.String(),
  status: oneOf(['active', 'retired (published)', 'expired'] as const),
  created_at: dateTime,
  retired_at: nullableDateTime,
  published_until: nullableStr('date-time, or "forever"'),
});
export const SigningKeyPage = pageOf(SigningKey);
export const KeyRotate = Type.Object({ alg: Opt(oneOf(KEY_ALGS)) }, { additionalProperties: false });

export const AuditEvent = Shape({
  id: Type.Integer(),
  at: dateTime,
  type: Type.String(),
  actor_user_id: nullableStr(),
  client_id: nullableStr(),
  ip: nullableStr(),
  details: Type.Object({}, { additionalProperties: true, description: 'Never contains secrets' }),
});
export const AuditPage = pageOf(AuditEvent);
export const AuditQuery = Type.Object(
  {
    type: Opt(str('Event type, e.g. app.created')),
    client_id: Opt(str('Events about this application')),
    limit: limit(AUDIT_PAGE),
    cursor: cursor(CURSOR.audit),
  },
  { additionalProperties: false },
);

export const Import = Type.Object(
  {
    apps: Opt(Type.Array(Type.Object({}, { additionalProperties: true, description: 'client_id (required), client_secret, name (required), description, website, logo_uri, redirect_uris, scopes, grant_types, client_type, owner, token_format, access_ttl, refresh_ttl, active' }))),
    grants: Opt(Type.Array(Type.Object({}, { additionalProperties: true, description: 'client_id (required), user, scope, access_token, access_expires_at, refresh_token, refresh_expires_at' }))),
  },
  { description: 'Checked record by record by the import itself, which reports every problem at once (docs/import.md)', ...checkedByService },
);
export const ImportQuery = Type.Object({ dry_run: Opt(Type.Boolean({ default: false, description: 'Check every record, write nothing' })) }, { additionalProperties: false });
export const ImportResult = Shape({ apps: Type.Integer(), grants: Type.Integer(), tokens: Type.Integer(), dry_run: Type.Boolean() });

export const TokenRevoke = Type.Object(
  {
    token: Opt(str('An access or refresh token; a refresh token revokes its family')),
    client_id: Opt(str('Every token of this application')),
    user_email: Opt(str('With client_id: only this user’s tokens for that application')),
  },
  { additionalProperties: false, description: 'Exactly one of: `token`; `client_id`; `client_id` with `user_email`' },
);
export const Revoked = Shape({ revoked: Type.Integer({ description: 'Tokens revoked' }) });

// ---------------------------------------------------------------------------------------------
// Delegated login (src/http/routes/login-requests.ts)

export const REJECT_ERRORS = ['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required', 'temporarily_unavailable', 'server_error'] as const;

export const ChallengeParams = Type.Object({ challenge: Type.String() });
export const LoginRequest = Shape({
  challenge_expires_at: Type.Integer(),
  client: Type.Union([Shape({ client_id: Type.String(), name: nullableStr(), redirect_uri_host: nullableStr() }), Type.Null()]),
  requested_scope: strList(),
  prompt: strList(),
  max_age: Type.Union([Type.Integer(), Type.Null()]),
  login_hint: nullableStr(),
  ui_locales: nullableStr(),
  acr_values: nullableStr(),
  session_subject: nullableStr(),
  skip: Type.Boolean(),
  answered: Type.Boolean(),
  issuer: Type.String(),
});
export const LoginAccept = Type.Object(
  {
    subject: Type.String({ maxLength: 255 }),
    email: Opt(Type.String({ maxLength: 320 })),
    email_verified: Opt(bool()),
    name: Opt(Type.String({ maxLength: 200 })),
    claims: Opt(Type.Record(Type.String(), Type.Unknown(), { description: 'Further claims of the person (8 KiB at most; not sub, iss, aud, exp, iat, auth_time, nonce, azp, sid)' })),
    auth_time: Opt(Type.Integer({ minimum: 0, description: 'Seconds since the epoch' })),
    amr: Opt(strList()),
    acr: Opt(Type.String({ maxLength: 200 })),
    remember: Opt(bool()),
    remember_for: Opt(Type.Integer({ description: 'Seconds, from 60 to TOLLGATE_SESSION_TTL' })),
  },
  { additionalProperties: false },
);
export const LoginReject = Type.Object(
  { error: Opt(oneOf(REJECT_ERRORS)), error_description: Opt(Type.String({ maxLength: 300 })) },
  { additionalProperties: false },
);
export const RedirectTo = Shape({ redirect_to: Type.String() });
