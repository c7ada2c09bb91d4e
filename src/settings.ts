/**
 * Every setting Tollgate reads, declared once: its name (the environment variable and the key
 * in a `TOLLGATE_CONFIG` file), its kind (whole number in a range, boolean, one of a list,
 * list, text), its default and its documentation. From this one table come:
 *
 * - the per-field validation and the defaults (`loadConfig` in ./config.ts reads through it;
 *   cross-field rules and the parsing of structured text — URLs, origins, CIDRs — stay there);
 * - the keys and value types a config file may hold (`CONFIG_FILE_SCHEMA`, a TypeBox schema,
 *   also written out as docs/tollgate-config.schema.json for editors);
 * - the tables of docs/configuration.md and docs/pages.md (`npm run docs:config`; a test fails
 *   when a page and this table disagree).
 */
import { Type, type TSchema } from 'typebox';

/** The JWS algorithms Tollgate signs with, in the order its messages list them. */
export const KEY_ALGS = ['ES256', 'RS256', 'EdDSA'] as const;
export const COMPAT_PROFILES = ['anyfetch', 'fyle', 'oro', 'gancio', 'frappe'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Which documentation table a setting belongs to. */
export type SettingTable = 'configuration' | 'mail' | 'branding';

interface SettingBase {
  /** The meaning column (Markdown, links relative to docs/). */
  readonly doc: string;
  readonly table?: SettingTable;
  /** The default column, when it is not simply the value (a derived or generated default). */
  readonly shownDefault?: string;
  /** Read from the environment only, never from a config file (TOLLGATE_CONFIG itself). */
  readonly envOnly?: boolean;
}

export type Setting =
  | (SettingBase & { readonly kind: 'int'; readonly def: number; readonly min: number; readonly max: number })
  | (SettingBase & { readonly kind: 'bool'; readonly def: boolean })
  | (SettingBase & { readonly kind: 'enum'; readonly def: string; readonly values: readonly string[] })
  | (SettingBase & { readonly kind: 'list'; readonly def: readonly string[] })
  | (SettingBase & { readonly kind: 'text'; readonly def: string | null; readonly accepts?: string });

const int = (def: number, min: number, max: number, doc: string, more: Partial<SettingBase> = {}) =>
  ({ kind: 'int', def, min, max, doc, ...more }) as const;
const bool = (def: boolean, doc: string, more: Partial<SettingBase> = {}) => ({ kind: 'bool', def, doc, ...more }) as const;
const oneOf = <const V extends readonly string[]>(values: V, def: V[number], doc: string, more: Partial<SettingBase> = {}) =>
  ({ kind: 'enum', values, def, doc, ...more }) as const;
const list = (def: readonly string[], doc: string, more: Partial<SettingBase> = {}) => ({ kind: 'list', def, doc, ...more }) as const;
const text = <const D extends string | null>(def: D, doc: string, more: Partial<SettingBase> & { readonly accepts?: string } = {}) =>
  ({ kind: 'text', def, doc, ...more }) as const;

const DAY = 86_400;

export const SETTINGS = {
  PORT: int(8080, 0, 65535, 'HTTP port'),
  HOST: text('127.0.0.1', 'address to bind (`0.0.0.0` to listen on every interface)', { accepts: 'address' }),
  TOLLGATE_ISSUER: text(null, 'public base URL; the issuer in metadata, tokens and `iss`. Plain `http` only for localhost; no query or fragment', {
    shownDefault: '`http://localhost:$PORT`',
    accepts: 'URL',
  }),
  TOLLGATE_DATA_DIR: text('data', 'where the SQLite database lives (`tollgate.db`, WAL mode)', { shownDefault: '`./data`', accepts: 'path' }),
  TOLLGATE_DATABASE_URL: text(null, '`postgres://…` to use PostgreSQL instead of SQLite', { accepts: 'URL' }),
  TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT: int(
    20,
    1,
    1_000_000,
    'failed client authentications (401 `invalid_client`) per client IP and per `client_id` per minute at the token, revocation and introspection endpoints; beyond it those get `429` until the minute ends, even with the right secret (online guessing, RFC 6819 §5.1.4.2.3). Shared through Redis when configured',
  ),
  TOLLGATE_REDIS_URL: text(
    null,
    '`redis://…` or `rediss://…`: keep the sign-in and failed-client-authentication counters in Redis, shared by every process (without it, each process counts in memory). A Redis outage never blocks sign-in',
    { accepts: 'URL' },
  ),
  TOLLGATE_DB_TIMEOUT: int(
    5000,
    100,
    120_000,
    'PostgreSQL: bound in ms on connecting and on each query; during an outage requests answer `503 temporarily_unavailable` within it instead of hanging',
  ),
  TOLLGATE_CONFIG: text(null, 'path of a JSON config file whose keys are these variable names (the environment wins); its JSON Schema is [tollgate-config.schema.json](tollgate-config.schema.json)', {
    envOnly: true,
    accepts: 'path',
  }),
  TOLLGATE_KEY_ALG: oneOf(KEY_ALGS, 'ES256', 'algorithm of new signing keys'),
  TOLLGATE_ACCESS_TTL: int(3600, 1, 10 * 365 * DAY, 'default access-token lifetime, seconds (per application override)'),
  TOLLGATE_REFRESH_TTL: int(365 * DAY, 60, 20 * 365 * DAY, 'default refresh-token lifetime, seconds (1 year)'),
  TOLLGATE_CODE_TTL: int(60, 5, 600, 'authorization-code lifetime, seconds'),
  TOLLGATE_DEVICE_CODE_TTL: int(600, 60, 3600, 'device authorization: how long a device code and its user code live, seconds'),
  TOLLGATE_DEVICE_POLL_INTERVAL: int(5, 1, 60, 'device authorization: the `interval` a device waits between polls, seconds; each `slow_down` adds 5 for that device'),
  TOLLGATE_DEVICE_RATE_LIMIT: int(
    10,
    1,
    1_000_000,
    'user codes a client IP may try per minute on the verification page (the page itself is free); the next one gets a `429` page with `Retry-After`',
  ),
  TOLLGATE_ID_TOKEN_TTL: int(3600, 60, DAY, 'OpenID Connect ID-token lifetime, seconds'),
  TOLLGATE_SESSION_TTL: int(8 * 3600, 60, 90 * DAY, 'browser session lifetime, seconds'),
  TOLLGATE_REGISTRATION: oneOf(['open', 'token', 'off'], 'open', 'dynamic registration: `open`, `token` (initial access token) or `off`'),
  TOLLGATE_REGISTRATION_TOKEN: text(null, 'the initial access token for `token` mode (16+ characters)', { accepts: 'secret' }),
  TOLLGATE_REGISTRATION_SCOPES: list(['profile', 'email'], 'scopes a dynamically registered application may hold (never `admin` or `login`)'),
  TOLLGATE_REGISTRATION_DEFAULT_SCOPE: list(['profile'], 'scope given when a registration asks for none; each in `TOLLGATE_REGISTRATION_SCOPES`'),
  TOLLGATE_REGISTRATION_GRANT_TYPES: list(
    ['authorization_code', 'refresh_token'],
    'grants a registered application may have (add `client_credentials` or `password` deliberately)',
  ),
  TOLLGATE_ADMIN_EMAIL: text('admin@localhost', 'the admin user created on first start', { accepts: 'email' }),
  TOLLGATE_ADMIN_PASSWORD: text(null, "that user's password (8+ characters)", { shownDefault: 'generated, printed once', accepts: 'secret' }),
  TOLLGATE_ALLOW_PLAIN_PKCE: bool(false, 'accept `code_challenge_method=plain` (RFC 9700 advises against)'),
  TOLLGATE_LOG_LEVEL: oneOf(LOG_LEVELS, 'info', 'log level (`silent` logs nothing)'),
  TOLLGATE_CORS_ORIGINS: list(
    ['*'],
    'who may call the public endpoints from a browser — discovery, JWKS, token, revocation, registration (and RFC 7592), UserInfo, device authorization — so single-page apps and browser-based MCP clients work: `*` (any origin, answered `Access-Control-Allow-Origin: *`, never with credentials), a list of origins (echoed, with `Vary: Origin`), or `none`. Never the authorization endpoint, introspection or any page',
  ),
  TOLLGATE_PURGE_INTERVAL: int(3600, 0, 7 * DAY, 'seconds between purges of expired codes, tokens and sessions (`0` disables)'),
  TOLLGATE_REGISTRATION_RATE_LIMIT: int(
    20,
    1,
    1_000_000,
    "registrations per client IP per hour, counted across every registration path (`/oauth/register`, Gancio's `/api/client`); `429` beyond. Shared through Redis when configured",
  ),
  TOLLGATE_REGISTRATION_UNUSED_TTL: int(
    7 * DAY,
    0,
    365 * DAY,
    'seconds after which a dynamically registered application that never obtained a token is deleted by the purge (`0` keeps them); never one an administrator created or imported',
  ),
  TOLLGATE_AUDIT_RETENTION_DAYS: int(400, 0, 36_500, 'audit events older than this are deleted by the purge (`0` keeps them forever)'),
  TOLLGATE_HEADERS_TIMEOUT: int(10, 1, 600, 'seconds a client has to send its request headers; then `408` and the connection closes'),
  TOLLGATE_REQUEST_TIMEOUT: int(30, 1, 3600, 'seconds a client has to send its whole request, body included'),
  TOLLGATE_METRICS_TOKEN: text(
    null,
    'a Bearer token (16+ printable characters, no spaces) required to read `/metrics`; without it `/metrics` answers only clients on this machine (loopback), e.g. a local Prometheus agent',
    { accepts: 'secret' },
  ),
  TOLLGATE_IDLE_TIMEOUT: int(72, 1, 3600, "seconds an idle keep-alive connection stays open (above a load balancer's usual 60)"),
  TOLLGATE_LOGIN_MAX_FAILURES: int(5, 1, 1000, 'failed sign-ins (form or password grant) before an account is locked'),
  TOLLGATE_LOCKOUT_SECONDS: int(900, 1, DAY, 'how long the lock lasts; it always expires by itself'),
  TOLLGATE_LOGIN_RATE_LIMIT: int(
    20,
    1,
    1_000_000,
    'sign-in attempts per client IP per minute, for the login form and (separately) the password grant; the next one gets `429` (a page, or `temporarily_unavailable` JSON) with `Retry-After`. Counted in each process\'s memory',
  ),
  TOLLGATE_TRUST_PROXY: text(
    null,
    "behind reverse proxies: how many (`1` for one nginx in front) or their addresses/CIDRs (`10.0.0.0/8 192.168.1.5`); the client's address (rate limits, audit log) is then the nearest `X-Forwarded-For` entry that is not a trusted proxy. `true` (trust every hop) is refused: any client could choose its address",
    { shownDefault: '`false`', accepts: 'hops or CIDRs' },
  ),
  TOLLGATE_SIGNING_KEY_FILE: text(
    null,
    'a PEM private key (P-256, RSA ≥ 2048 or Ed25519) to sign with; at start it becomes the signing key (the previous one stays published until its tokens expire). If the file is missing or unusable, a clear `WARNING:` line is printed and the database key is used',
    { accepts: 'path' },
  ),
  TOLLGATE_KEY_GRACE: int(300, 0, DAY, 'extra seconds a retired signing key stays published after its last token expires'),
  TOLLGATE_LOGIN_URL: text(
    null,
    "delegated login: the platform's sign-in page (https; plain http only for localhost); Tollgate sends people to `<url>?login_challenge=…` instead of its own password form ([docs/delegated-login.md](delegated-login.md))",
    { accepts: 'URL' },
  ),
  TOLLGATE_ADMIN_SUBJECTS: list([], "with delegated login: the platform's user ids that administer Tollgate"),
  TOLLGATE_LOGIN_REQUEST_TTL: int(600, 30, 3600, 'seconds a sign-in Tollgate waits for (a login challenge, a sign-in detour) stays valid'),
  TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: bool(
    false,
    'development and tests only: the outbound client may call loopback URLs an application registered (a `backchannel_logout_uri` on 127.0.0.1), plain `http` included; refused unless the issuer is on `localhost` ([docs/openid-connect.md](openid-connect.md#the-outbound-client-how-tollgate-calls-a-url-someone-else-registered))',
  ),
  TOLLGATE_CIMD: oneOf(
    ['on', 'off'],
    'on',
    'Client ID Metadata Documents: a `client_id` that is an https URL is resolved by fetching its document; `off` refuses them ([docs/client-id-metadata.md](client-id-metadata.md))',
  ),
  TOLLGATE_CIMD_ALLOWED_HOSTS: list([], 'only documents on these hosts (`*.example.com` for subdomains); empty: every host', { shownDefault: '*(all)*' }),
  TOLLGATE_CIMD_CACHE_MIN: int(300, 0, 7 * DAY, 'the least time a fetched document is used before it is fetched again (its HTTP caching within the two bounds), seconds'),
  TOLLGATE_CIMD_CACHE_MAX: int(DAY, 1, 30 * DAY, 'the most time a fetched document is used before it is fetched again, seconds; not below the minimum'),
  TOLLGATE_CIMD_MAX_BYTES: int(16 * 1024, 512, 256 * 1024, 'the largest document accepted, bytes'),
  TOLLGATE_CIMD_TIMEOUT_MS: int(3000, 100, 30_000, "the whole document fetch's deadline, ms"),
  TOLLGATE_CIMD_INSECURE_LOOPBACK: bool(
    false,
    'development and tests only: documents on `http://localhost:*` / `http://127.0.0.1:*` too; refused unless the issuer is on `localhost`',
  ),
  TOLLGATE_COMPAT: list([], `compatibility profiles: ${COMPAT_PROFILES.map((p) => `\`${p}\``).join(', ')}, or \`all\` ([docs/compat.md](compat.md))`),

  TOLLGATE_SMTP_URL: text(
    null,
    '`smtp://user:pass@host:587` or `smtps://…`: send through SMTP (nodemailer). Without it, each message is written as an `.eml` file (RFC 5322, exactly what SMTP would carry) under `data/outbox/` (`$TOLLGATE_DATA_DIR/outbox`)',
    { table: 'mail', accepts: 'URL' },
  ),
  TOLLGATE_MAIL_FROM: text(null, 'sender', { table: 'mail', shownDefault: '`Tollgate <no-reply@HOST>`', accepts: 'address' }),
  TOLLGATE_MAIL_TO: text(null, 'send every notification to this address instead of the owner', { table: 'mail', accepts: 'email' }),
  TOLLGATE_MAIL_TEMPLATES: text(
    null,
    'a folder with template overrides: `app-created.txt` (first line `Subject: …`, a blank line, then the body) and optionally `app-created.html`. Placeholders: `{{app_name}}`, `{{client_id}}`, `{{client_type}}`, `{{owner_email}}`, `{{created_by}}`, `{{portal_url}}`, `{{product}}` (escaped in HTML)',
    { table: 'mail', accepts: 'path' },
  ),
  TOLLGATE_BRAND_NAME: text('Tollgate', 'product name in the header, titles and emails', { table: 'branding', accepts: 'text' }),
  TOLLGATE_BRAND_LOGO_URL: text(null, 'logo image (`https://…` or a same-site path)', { table: 'branding', accepts: 'URL' }),
  TOLLGATE_BRAND_COLOR: text('#1f4fd1', 'primary colour (served as `/assets/brand.css`)', { table: 'branding', accepts: '`#rgb` or `#rrggbb`' }),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;
type KeysOf<Kind extends Setting['kind']> = { [K in SettingKey]: (typeof SETTINGS)[K]['kind'] extends Kind ? K : never }[SettingKey];
export type IntKey = KeysOf<'int'>;
export type BoolKey = KeysOf<'bool'>;
export type EnumKey = KeysOf<'enum'>;
export type ListKey = KeysOf<'list'>;
export type TextKey = KeysOf<'text'>;
/** The values an enum setting accepts. */
export type EnumValue<K extends EnumKey> = (typeof SETTINGS)[K]['values'][number];

const ENTRIES = Object.entries(SETTINGS) as ReadonlyArray<[SettingKey, Setting]>;

/** The keys a `TOLLGATE_CONFIG` file may hold: every setting but TOLLGATE_CONFIG itself. */
export const CONFIG_FILE_KEYS: readonly SettingKey[] = ENTRIES.filter(([, s]) => !s.envOnly).map(([k]) => k);

/** The mail and branding keys, handed to those modules as given. */
export const MAIL_AND_BRANDING_KEYS: readonly SettingKey[] = ENTRIES.filter(([, s]) => s.table === 'mail' || s.table === 'branding').map(([k]) => k);

/** What one key of a config file may hold: its JSON value, or (as in the environment) text; lists may be arrays. */
function fileValueSchema(s: Setting): TSchema {
  const meta = { description: s.doc.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1'), ...(s.def !== null && s.def !== undefined ? { default: s.def } : {}) };
  switch (s.kind) {
    case 'int':
      return Type.Union([Type.Integer({ minimum: s.min, maximum: s.max }), Type.String()], meta);
    case 'bool':
      return Type.Union([Type.Boolean(), Type.String()], meta);
    case 'enum':
      return Type.Union([...s.values.map((v) => Type.Literal(v)), Type.String()], meta);
    case 'list':
      return Type.Union([Type.Array(Type.String()), Type.String()], meta);
    case 'text':
      return Type.Union([Type.String(), Type.Number(), Type.Boolean()], meta);
  }
}

/**
 * The JSON Schema of a config file (TypeBox): one optional property per setting, nothing else.
 * `loadConfig` reports a file's problems in its own words (unknown key, value type), from the
 * same keys; this document is for editors and tools (docs/tollgate-config.schema.json).
 */
export const CONFIG_FILE_SCHEMA = Type.Object(
  Object.fromEntries(ENTRIES.filter(([, s]) => !s.envOnly).map(([k, s]) => [k, Type.Optional(fileValueSchema(s))])),
  { additionalProperties: false, title: 'Tollgate configuration file (TOLLGATE_CONFIG)' },
);

/** The accepted-values column. */
function accepts(s: Setting): string {
  switch (s.kind) {
    case 'int':
      return `${s.min}–${s.max}`;
    case 'bool':
      return '`true` / `false`';
    case 'enum':
      return s.values.map((v) => `\`${v}\``).join(', ');
    case 'list':
      return 'list (spaces or commas)';
    case 'text':
      return s.accepts ?? 'text';
  }
}

function shownDefault(s: Setting): string {
  if (s.shownDefault !== undefined) return s.shownDefault;
  if (s.kind === 'list') return s.def.length === 0 ? '—' : `\`${s.def.join(' ')}\``;
  if (s.def === null) return '—';
  return `\`${String(s.def)}\``;
}

/** One documentation table, in Markdown, generated from SETTINGS. */
export function settingsTable(table: SettingTable): string {
  const rows = ENTRIES.filter(([, s]) => (s.table ?? 'configuration') === table).map(
    ([k, s]) => `| \`${k}\` | ${shownDefault(s)} | ${accepts(s)} | ${s.doc} |`,
  );
  return ['| variable | default | accepts | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

const MARKER = /<!-- settings:(configuration|mail|branding) -->\n[\s\S]*?<!-- \/settings -->/g;

/**
 * A documentation page with every generated table (between `<!-- settings:<table> -->` and
 * `<!-- /settings -->`) rewritten from SETTINGS; the prose around them is kept.
 */
export function withSettingsTables(page: string): string {
  return page.replace(MARKER, (_all, table: SettingTable) => `<!-- settings:${table} -->\n${settingsTable(table)}\n<!-- /settings -->`);
}

/** docs/tollgate-config.schema.json's content. */
export function configFileSchemaJson(): string {
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...CONFIG_FILE_SCHEMA }, null, 2)}\n`;
}
