/**
 * The OpenAPI 3.1 document (O6, R4): every endpoint, with the scope each protected operation
 * requires (`security: [{ bearer: [scope] }]`, repeated as `x-required-scopes`).
 */
import { BUILTIN_GRANTS } from '../oauth/grant-types.js';
import { ID_TOKEN_ALGS, KEY_ALGS, type Config } from '../config.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema): Schema => ({ content: { 'application/json': { schema } } });
const nullable = (type: string, extra: Schema = {}): Schema => ({ type: [type, 'null'], ...extra });
const stringList: Schema = { type: 'array', items: { type: 'string' } };
const dateTime: Schema = { type: 'string', format: 'date-time' };
function tokenExchangeProperties(): Record<string, Schema> {
  return {
    audiences: { ...stringList, description: 'Resource server identifiers (or Tollgate’s own API) the app may exchange tokens for' },
    impersonation: { type: 'boolean', description: 'May exchange without an actor token (the new token has no act)' },
    refresh_tokens: { type: 'boolean', description: 'May ask for a refresh token (requested_token_type refresh_token)' },
  };
}
/** The one pagination shape of the admin API's lists: `items`, and `next` (null on the last page). */
const listOf = (item: string): Schema => ({
  type: 'object',
  required: ['items', 'next'],
  properties: {
    items: { type: 'array', items: ref(item) },
    next: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
  },
});

/** Fields an application accepts on create and update (snake_case, like RFC 7591). */
const appFields: Record<string, Schema> = {
  name: { type: 'string', minLength: 1, maxLength: 200, description: 'Display name shown on the consent screen' },
  description: nullable('string', { maxLength: 2000 }),
  website: nullable('string', { format: 'uri' }),
  logo_uri: nullable('string', { format: 'uri' }),
  redirect_uris: stringList,
  scopes: { ...stringList, description: 'Scopes the app may request (each must exist)' },
  scope: { type: 'string', description: 'Alternative to `scopes`: space-separated' },
  grant_types: { type: 'array', items: { type: 'string', enum: [...BUILTIN_GRANTS] } },
  client_type: { type: 'string', enum: ['confidential', 'public'], description: 'Cannot change after creation' },
  org: nullable('string', { description: 'Organization name or id; null clears' }),
  owner: nullable('string', { description: 'Owner email (or user id); null clears' }),
  acts_as: nullable('string', { description: 'client_credentials tokens act for this user (email or id); null clears' }),
  internal: { type: 'boolean', description: 'The owner receives a long-lived refresh token at creation' },
  token_format: { type: 'string', enum: ['opaque', 'jwt'] },
  access_ttl: nullable('integer', { minimum: 1, description: 'Seconds; null = long-lived access tokens' }),
  refresh_enabled: { type: 'boolean' },
  refresh_ttl: nullable('integer', { minimum: 1, description: 'Seconds; null = never expires' }),
  refresh_grace_seconds: { type: 'integer', minimum: 0, maximum: 300, description: 'Refresh grace window in seconds; 0 = off' },
  active: { type: 'boolean' },
  id_token_signed_response_alg: { type: 'string', enum: [...ID_TOKEN_ALGS], description: 'OpenID Connect: the ID tokens\' algorithm (default RS256)' },
  post_logout_redirect_uris: { ...stringList, description: 'OpenID Connect: where the app may send a person after signing out (matched exactly)' },
  application_type: { type: 'string', enum: ['web', 'native'], description: 'OpenID Connect Registration §2 (default web)' },
  default_max_age: nullable('integer', { minimum: 0, description: 'Seconds: an older sign-in is asked again unless the request says max_age; null = none' }),
  contacts: { ...stringList, description: 'Email addresses of the people responsible for the app (at most 10)' },
  backchannel_logout_uri: nullable('string', { description: 'OpenID Connect Back-Channel Logout: https URL Tollgate posts a logout token to when a session ends' }),
  backchannel_logout_session_required: { type: 'boolean', description: 'The app needs sid in logout tokens (Tollgate always sends it)' },
  token_exchange: nullable('object', { description: 'Token exchange (RFC 8693) policy, administrators only; the fields given replace the current ones, null removes the policy (docs/token-exchange.md)', properties: tokenExchangeProperties(), additionalProperties: false }),
  jwks: nullable('object', { description: 'private_key_jwt: the application\'s public keys as a JWK Set (RSA, EC or OKP; no private members). With jwks or jwks_uri at creation the application authenticates with signed assertions and gets no secret (docs/client-authentication.md)', properties: { keys: { type: 'array', items: { type: 'object' } } } }),
  jwks_uri: nullable('string', { format: 'uri', description: 'private_key_jwt: the https URL of its JWK Set (instead of jwks); fetched through the SSRF-safe client, cached, fetched again for an unknown kid' }),
};

const adminSchemas: Record<string, Schema> = {
  App: {
    type: 'object',
    properties: {
      client_id: { type: 'string' },
      name: { type: 'string' },
      description: nullable('string'),
      website: nullable('string'),
      logo_uri: nullable('string'),
      redirect_uris: stringList,
      scopes: stringList,
      grant_types: stringList,
      client_type: { type: 'string', enum: ['confidential', 'public'] },
      token_endpoint_auth_method: { type: 'string', enum: ['client_secret_basic', 'private_key_jwt', 'none'], description: 'client_secret_basic stands for both secret methods (Basic and post)' },
      jwks: nullable('object'),
      jwks_uri: nullable('string'),
      org_id: nullable('string'),
      owner_id: nullable('string'),
      acts_as_user_id: nullable('string'),
      internal: { type: 'boolean' },
      active: { type: 'boolean' },
      token_format: { type: 'string', enum: ['opaque', 'jwt'] },
      access_ttl: nullable('integer'),
      refresh_enabled: { type: 'boolean' },
      refresh_ttl: nullable('integer'),
      refresh_grace_seconds: { type: 'integer' },
      id_token_signed_response_alg: { type: 'string' },
      post_logout_redirect_uris: stringList,
      application_type: { type: 'string', enum: ['web', 'native'] },
      default_max_age: nullable('integer'),
      contacts: stringList,
      backchannel_logout_uri: nullable('string'),
      backchannel_logout_session_required: { type: 'boolean' },
      token_exchange: nullable('object', { properties: tokenExchangeProperties() }),
      dynamic: { type: 'boolean' },
      metadata_document: nullable('object', { description: 'When the client_id is the URL of a Client ID Metadata Document: what the last fetch recorded (docs/client-id-metadata.md)', properties: { url: { type: 'string' }, fetched_at: dateTime, expires_at: dateTime, logo_source: nullable('string') } }),
      deactivated_by_admin: { type: 'boolean' },
      previous_secret_expires_at: nullable('string', { format: 'date-time' }),
      created_at: dateTime,
      updated_at: dateTime,
    },
  },
  CreatedApp: {
    allOf: [
      ref('App'),
      {
        type: 'object',
        properties: {
          client_secret: { type: 'string', description: 'Shown only once; absent for public clients' },
          refresh_token: { type: 'string', description: 'Internal apps: the owner’s long-lived refresh token, shown only once' },
        },
      },
    ],
  },
  AppCreate: { type: 'object', required: ['name'], additionalProperties: false, properties: appFields },
  AppUpdate: { type: 'object', additionalProperties: false, properties: appFields },
  AppPage: {
    type: 'object',
    required: ['items', 'next', 'total', 'limit', 'offset'],
    properties: {
      items: { type: 'array', items: ref('App') },
      next: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page' },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
  },
  ClientSecret: { type: 'object', required: ['client_id', 'client_secret'], properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } } },
  User: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      email: { type: 'string' },
      is_admin: { type: 'boolean' },
      disabled: { type: 'boolean' },
      created_at: dateTime,
      organizations: {
        type: 'array',
        items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', enum: ['admin', 'member'] } } },
      },
    },
  },
  UserCreate: {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: {
      email: { type: 'string', format: 'email' },
      password: { type: 'string', minLength: 8, maxLength: 1024 },
      is_admin: { type: 'boolean' },
      org: nullable('string', { description: 'Organization name or id to add the user to' }),
      role: { type: 'string', enum: ['admin', 'member'], description: 'Role in `org` (default member)' },
    },
  },
  UserUpdate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      disabled: { type: 'boolean', description: 'A disabled user cannot sign in and their tokens stop working at once' },
      is_admin: { type: 'boolean' },
    },
  },
  Organization: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, created_at: dateTime } },
  OrganizationCreate: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
  Scope: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      descriptions: { type: 'object', additionalProperties: { type: 'string' }, description: 'The description by locale (en, fr, de, es, it); the consent page shows the one for its language, else `description`' },
      resource_server: nullable('string'),
      is_default: { type: 'boolean' },
      created_at: dateTime,
    },
  },
  ScopeCreate: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', maxLength: 128 },
      description: { type: 'string' },
      descriptions: {
        type: 'object',
        additionalProperties: { type: 'string', maxLength: 1000 },
        description: 'The description in other languages by locale, e.g. {"fr": "Voir vos commandes"}: a shipped locale (en, fr, de, es, it) each; an empty text is none. Replaces the scope\'s per-locale descriptions; omitted, an existing scope keeps them',
      },
      resource_server: nullable('string', { description: 'Identifier of an existing resource server' }),
      is_default: { type: 'boolean', description: 'Granted to dynamically registered clients that ask for no scope' },
    },
  },
  ResourceServer: {
    type: 'object',
    properties: { identifier: { type: 'string', format: 'uri' }, name: { type: 'string' }, scopes: stringList, created_at: dateTime },
  },
  MetadataBlock: {
    type: 'object',
    properties: { pattern: { type: 'string' }, reason: { type: ['string', 'null'] }, created_by: { type: ['string', 'null'] }, created_at: dateTime, deactivated: { type: 'integer', description: 'Applications deactivated by this request (POST only)' } },
  },
  MetadataBlockCreate: {
    type: 'object',
    required: ['pattern'],
    additionalProperties: false,
    properties: {
      pattern: { type: 'string', description: 'A host (agents.example), *.domain for its subdomains, or one client_id URL' },
      reason: { type: 'string' },
    },
  },
  ResourceServerCreate: {
    type: 'object',
    required: ['identifier'],
    additionalProperties: false,
    properties: {
      identifier: { type: 'string', format: 'uri', description: 'RFC 8707 resource indicator, used as the token audience' },
      name: { type: 'string' },
      scopes: {
        type: 'array',
        items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, description: { type: 'string' } } },
      },
      introspectors: { type: 'array', items: { type: 'string' }, description: 'client_ids allowed to introspect tokens issued for it (besides each token’s own application)' },
    },
  },
  SigningKey: {
    type: 'object',
    properties: {
      kid: { type: 'string' },
      alg: { type: 'string' },
      status: { type: 'string', enum: ['active', 'retired (published)', 'expired'] },
      created_at: dateTime,
      retired_at: nullable('string', { format: 'date-time' }),
      published_until: nullable('string', { description: 'date-time, or "forever"' }),
    },
  },
  KeyRotate: { type: 'object', additionalProperties: false, properties: { alg: { type: 'string', enum: [...KEY_ALGS] } } },
  AuditEvent: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      at: dateTime,
      type: { type: 'string' },
      actor_user_id: nullable('string'),
      client_id: nullable('string'),
      ip: nullable('string'),
      details: { type: 'object', description: 'Never contains secrets' },
    },
  },
  Import: {
    type: 'object',
    additionalProperties: false,
    properties: {
      apps: { type: 'array', items: { type: 'object', required: ['client_id', 'name'], description: 'client_id, client_secret, name, description, website, logo_uri, redirect_uris, scopes, grant_types, client_type, owner, token_format, access_ttl, refresh_ttl, active' } },
      grants: { type: 'array', items: { type: 'object', required: ['client_id'], description: 'client_id, user, scope, access_token, access_expires_at, refresh_token, refresh_expires_at' } },
    },
  },
  ImportResult: {
    type: 'object',
    properties: { apps: { type: 'integer' }, grants: { type: 'integer' }, tokens: { type: 'integer' }, dry_run: { type: 'boolean' } },
  },
  LoginRequest: {
    type: 'object',
    properties: {
      challenge_expires_at: { type: 'integer' },
      client: { type: ['object', 'null'], properties: { client_id: { type: 'string' }, name: { type: ['string', 'null'] }, redirect_uri_host: { type: ['string', 'null'] } } },
      requested_scope: { type: 'array', items: { type: 'string' } },
      prompt: { type: 'array', items: { type: 'string' } },
      max_age: { type: ['integer', 'null'] },
      login_hint: { type: ['string', 'null'] },
      ui_locales: { type: ['string', 'null'] },
      acr_values: { type: ['string', 'null'] },
      session_subject: { type: ['string', 'null'] },
      skip: { type: 'boolean' },
      answered: { type: 'boolean' },
      issuer: { type: 'string' },
    },
  },
  LoginAccept: {
    type: 'object',
    additionalProperties: false,
    required: ['subject'],
    properties: {
      subject: { type: 'string' },
      email: { type: 'string' },
      email_verified: { type: 'boolean' },
      name: { type: 'string' },
      claims: { type: 'object' },
      auth_time: { type: 'integer', description: 'Seconds since the epoch' },
      amr: { type: 'array', items: { type: 'string' } },
      acr: { type: 'string' },
      remember: { type: 'boolean' },
      remember_for: { type: 'integer', description: 'Seconds' },
    },
  },
  LoginReject: {
    type: 'object',
    additionalProperties: false,
    properties: { error: { type: 'string', enum: ['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required', 'temporarily_unavailable', 'server_error'] }, error_description: { type: 'string' } },
  },
  RedirectTo: { type: 'object', properties: { redirect_to: { type: 'string' } } },
  TokenRevoke: {
    type: 'object',
    additionalProperties: false,
    description: 'Exactly one of: `token`; `client_id`; `client_id` with `user_email`',
    properties: {
      token: { type: 'string', description: 'An access or refresh token; a refresh token revokes its family' },
      client_id: { type: 'string', description: 'Every token of this application' },
      user_email: { type: 'string', description: 'With client_id: only this user’s tokens for that application' },
    },
  },
  Revoked: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer', description: 'Tokens revoked' } } },
};

interface AdminOp {
  readonly summary: string;
  /** [status, description, schema?] of the success response. */
  readonly ok: readonly [string, string, Schema?];
  readonly body?: Schema;
  readonly query?: ReadonlyArray<readonly [string, Schema, string]>;
  readonly path?: string;
  /** The operation can answer 404 `not_found`. */
  readonly notFound?: boolean;
  /** The scope the token needs (default `admin`, acting for an administrator). */
  readonly scope?: 'admin' | 'login';
}

/** An /admin/api operation: Bearer token with scope `admin`, acting for an administrator (A10). */
function adminOperation(op: AdminOp, jsonError: (description: string) => Schema): Schema {
  const [status, description, schema] = op.ok;
  const parameters = [
    ...(op.path ? [{ name: op.path, in: 'path', required: true, schema: { type: 'string' } }] : []),
    ...(op.query ?? []).map(([name, sch, desc]) => ({ name, in: 'query', required: false, schema: sch, description: desc })),
  ];
  return {
    summary: op.summary,
    tags: ['admin'],
    security: [{ bearer: [op.scope ?? 'admin'] }],
    'x-required-scopes': [op.scope ?? 'admin'],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: op.body }, 'application/x-www-form-urlencoded': { schema: op.body } },
          },
        }
      : {}),
    responses: {
      [status]: schema ? { description, ...json(schema) } : { description },
      '400': jsonError('invalid_request, invalid_client_metadata or invalid_redirect_uri (unknown fields are refused)'),
      '401': jsonError('No token (challenge only), or invalid_token: unknown, expired, revoked, or for another audience'),
      '403': jsonError(
        op.scope === 'login'
          ? 'insufficient_scope: the token lacks the login scope, or acts for a person instead of the platform\'s application'
          : 'insufficient_scope: the token lacks the admin scope, or acts for no user or a user who is not an administrator',
      ),
      ...(op.notFound ? { '404': jsonError('not_found: no such resource') } : {}),
    },
  };
}

function adminPaths(jsonError: (description: string) => Schema): Record<string, Record<string, Schema>> {
  const op = (o: AdminOp): Schema => adminOperation(o, jsonError);
  const limit = (max: number, def: number): readonly [string, Schema, string] => ['limit', { type: 'integer', minimum: 1, maximum: max, default: def }, 'Page size'];
  const cursor: readonly [string, Schema, string] = ['cursor', { type: 'string' }, 'The `next` of the previous page'];
  const paged = (max: number, def: number): ReadonlyArray<readonly [string, Schema, string]> => [limit(max, def), cursor];
  const appAction = (summary: string, ok: AdminOp['ok']): Schema => op({ summary, path: 'clientId', ok, notFound: true });
  return {
    '/admin/api/apps': {
      get: op({
        summary: 'List applications, newest first',
        query: [
          ['name', { type: 'string' }, 'Names containing this text (case-insensitive)'],
          ['org', { type: 'string' }, 'Organization name or id'],
          ['status', { type: 'string', enum: ['active', 'inactive'] }, 'Active or deactivated apps'],
          ['owner', { type: 'string' }, 'Owner email or id'],
          ...paged(200, 50),
          ['offset', { type: 'integer', minimum: 0, default: 0 }, 'Items to skip (instead of cursor)'],
        ],
        ok: ['200', 'A page of applications', ref('AppPage')],
      }),
      post: op({ summary: 'Create an application; the secret is shown only once', body: ref('AppCreate'), ok: ['201', 'Created', ref('CreatedApp')] }),
    },
    '/admin/api/apps/{clientId}': {
      get: appAction('Show an application', ['200', 'The application', ref('App')]),
      patch: op({ summary: 'Update an application (only the fields given change)', path: 'clientId', body: ref('AppUpdate'), ok: ['200', 'Updated', ref('App')], notFound: true }),
      delete: appAction('Delete an application with its tokens and consents', ['204', 'Deleted']),
    },
    '/admin/api/apps/{clientId}/activate': { post: appAction('Activate an application', ['200', 'Activated', ref('App')]) },
    '/admin/api/apps/{clientId}/deactivate': {
      post: appAction('Deactivate an application: its tokens stop working at once', ['200', 'Deactivated', ref('App')]),
    },
    '/admin/api/apps/{clientId}/rotate-secret': {
      post: op({
        summary: 'New client secret, shown once; the old one stops working at once, or after overlap_seconds',
        path: 'clientId',
        body: { type: 'object', additionalProperties: false, properties: { overlap_seconds: { type: 'integer', minimum: 0, maximum: 604800, default: 0 } } },
        ok: ['200', 'The new secret', ref('ClientSecret')],
        notFound: true,
      }),
    },
    '/admin/api/users': {
      get: op({
        summary: 'List users, oldest first',
        query: [['q', { type: 'string' }, 'Emails starting with this, or this exact user id'], ...paged(200, 50)],
        ok: ['200', 'A page of users', listOf('User')],
      }),
      post: op({ summary: 'Create a user', body: ref('UserCreate'), ok: ['201', 'Created', ref('User')] }),
    },
    '/admin/api/users/{id}': {
      patch: op({
        summary: 'Disable/enable a user or change admin rights (not your own)',
        path: 'id',
        body: ref('UserUpdate'),
        ok: ['200', 'Updated', ref('User')],
        notFound: true,
      }),
    },
    '/admin/api/orgs': {
      get: op({
        summary: 'List organizations by name',
        query: [['q', { type: 'string' }, 'Names starting with this (case-insensitive)'], ...paged(200, 50)],
        ok: ['200', 'A page of organizations', listOf('Organization')],
      }),
      post: op({ summary: 'Create an organization', body: ref('OrganizationCreate'), ok: ['201', 'Created', ref('Organization')] }),
    },
    '/admin/api/scopes': {
      get: op({ summary: 'List scopes by name', query: paged(200, 100), ok: ['200', 'A page of scopes', listOf('Scope')] }),
      post: op({ summary: 'Create a scope (201), or update an existing one (200)', body: ref('ScopeCreate'), ok: ['201', 'Created', ref('Scope')] }),
    },
    '/admin/api/resource-servers': {
      get: op({ summary: 'List resource servers (token audiences)', query: paged(200, 100), ok: ['200', 'A page of resource servers', listOf('ResourceServer')] }),
      post: op({ summary: 'Register a resource server with its scopes', body: ref('ResourceServerCreate'), ok: ['201', 'Created', ref('ResourceServer')] }),
    },
    '/admin/api/client-metadata/blocks': {
      get: op({
        summary: 'Client ID Metadata Documents: the block-list, by pattern',
        query: [limit(500, 100), cursor, ['offset', { type: 'integer', minimum: 0, default: 0 }, 'Items to skip (instead of cursor)']],
        ok: ['200', 'A page of blocks', listOf('MetadataBlock')],
      }),
      post: op({ summary: 'Block documents from a host, a domain or one client_id URL (201; 200 when already blocked); deactivates the applications already known there', body: ref('MetadataBlockCreate'), ok: ['201', 'Blocked', ref('MetadataBlock')] }),
      delete: op({ summary: 'Lift a block (its applications stay deactivated)', query: [['pattern', { type: 'string' }, 'The block to lift']], ok: ['204', 'Lifted'], notFound: true }),
    },
    '/admin/api/keys': { get: op({ summary: 'List signing keys', query: paged(200, 100), ok: ['200', 'A page of keys', listOf('SigningKey')] }) },
    '/admin/api/keys/rotate': {
      post: op({ summary: 'Rotate the signing key; the old one stays published until its tokens expire', body: ref('KeyRotate'), ok: ['201', 'The new key', ref('SigningKey')] }),
    },
    '/admin/api/audit': {
      get: op({
        summary: 'Audit events, newest first',
        query: [['type', { type: 'string' }, 'Event type, e.g. app.created'], ['client_id', { type: 'string' }, 'Events about this application'], ...paged(1000, 100)],
        ok: ['200', 'A page of events', listOf('AuditEvent')],
      }),
    },
    '/admin/api/import': {
      post: op({
        summary: 'Import existing applications (client_id and secret kept) and grants; all or nothing (docs/import.md)',
        query: [['dry_run', { type: 'boolean', default: false }, 'Check every record, write nothing']],
        body: ref('Import'),
        ok: ['201', 'Imported (200 for a dry run)', ref('ImportResult')],
      }),
    },
    '/admin/api/login-requests/{challenge}': {
      get: op({ summary: 'Delegated login: what a waiting sign-in asks (TOLLGATE_LOGIN_URL)', path: 'challenge', scope: 'login', ok: ['200', 'The login request', ref('LoginRequest')], notFound: true }),
    },
    '/admin/api/login-requests/{challenge}/accept': {
      post: op({ summary: 'Delegated login: say who signed in; answers where to send the browser', path: 'challenge', scope: 'login', body: ref('LoginAccept'), ok: ['200', 'Where to send the browser', ref('RedirectTo')], notFound: true }),
    },
    '/admin/api/login-requests/{challenge}/reject': {
      post: op({ summary: 'Delegated login: refuse; the application receives the error with its state', path: 'challenge', scope: 'login', body: ref('LoginReject'), ok: ['200', 'Where to send the browser', ref('RedirectTo')], notFound: true }),
    },
    '/admin/api/tokens/revoke': {
      post: op({ summary: 'Revoke one token, every token of an app, or one user’s tokens for an app', body: ref('TokenRevoke'), ok: ['200', 'How many were revoked', ref('Revoked')], notFound: true }),
    },
  };
}

export function openApiDocument(config: Config): Record<string, unknown> {
  const err = { $ref: '#/components/schemas/Error' };
  const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: err } } });
  return {
    openapi: '3.1.0',
    info: { title: 'Tollgate', version: '0.1.0', description: 'OAuth 2.0 authorization server' },
    servers: [{ url: config.issuer }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token issued by this server (RFC 6750)' },
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_id and client_secret (RFC 6749 §2.3.1)' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
        ...adminSchemas,
      },
    },
    paths: {
      '/oauth/authorize': {
        get: { summary: 'Authorization endpoint (RFC 6749 §4.1.1, §4.2.1)', responses: { '303': { description: 'Redirect to the client' }, '400': { description: 'Error page' } } },
      },
      '/oauth/token': {
        post: {
          summary: 'Token endpoint (RFC 6749 §3.2)',
          security: [{ clientBasic: [] }, {}],
          responses: { '200': { description: 'Tokens' }, '400': jsonError('OAuth error'), '401': jsonError('invalid_client') },
        },
      },
      '/oauth/revoke': { post: { summary: 'Revocation (RFC 7009)', security: [{ clientBasic: [] }], responses: { '200': { description: 'Revoked (or unknown)' } } } },
      '/oauth/introspect': { post: { summary: 'Introspection (RFC 7662)', security: [{ clientBasic: [] }], responses: { '200': { description: 'Token state' } } } },
      '/oauth/device_authorization': {
        post: {
          summary: 'Device authorization (RFC 8628 §3.1): a device code and a user code for a device that cannot receive a redirect',
          security: [{ clientBasic: [] }, {}],
          responses: { '200': { description: 'device_code, user_code, verification_uri(_complete), expires_in, interval' }, '400': jsonError('OAuth error'), '401': jsonError('invalid_client') },
        },
      },
      '/oauth/register': { post: { summary: 'Dynamic client registration (RFC 7591)', responses: { '201': { description: 'Registered' }, '400': jsonError('invalid_client_metadata') } } },
      '/.well-known/oauth-authorization-server': { get: { summary: 'Metadata (RFC 8414)', responses: { '200': { description: 'Metadata' } } } },
      '/.well-known/jwks.json': { get: { summary: 'Signing keys (RFC 7517)', responses: { '200': { description: 'JWK set' } } } },
      '/api/': {
        get: { summary: 'Who this token is for (R1); no scope needed', security: [{ bearer: [] }], responses: { '200': { description: 'Token owner' }, '401': jsonError('invalid_token') } },
      },
      '/api/me': {
        get: {
          summary: 'The signed-in user',
          security: [{ bearer: ['profile'] }],
          'x-required-scopes': ['profile'],
          responses: { '200': { description: 'User' }, '401': jsonError('invalid_token'), '403': jsonError('insufficient_scope') },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness (database reachable)', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } } },
      ...adminPaths(jsonError),
    },
  };
}
