/**
 * Configuration: environment variables, optionally on top of a JSON config file
 * (`TOLLGATE_CONFIG=path.json`, keys are the environment variable names). Validated once at
 * start; every problem is reported on its own line and the start stops (O4).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { GrantType } from './storage/types.js';
import { BRAND_COLOR } from './branding.js';
import {
  COMPAT_PROFILES,
  CONFIG_FILE_KEYS,
  KEY_ALGS,
  MAIL_AND_BRANDING_KEYS,
  SETTINGS,
  type BoolKey,
  type EnumKey,
  type EnumValue,
  type IntKey,
  type ListKey,
  type SettingKey,
} from './settings.js';

export { COMPAT_PROFILES, KEY_ALGS };
export type KeyAlg = (typeof KEY_ALGS)[number];
/** The algorithms an application may choose for its ID tokens: every key algorithm, RS256 (OpenID Connect's default) first. */
export const ID_TOKEN_ALGS: readonly KeyAlg[] = ['RS256', ...KEY_ALGS.filter((a) => a !== 'RS256')];
/** `localhost`, `127.0.0.1` or `[::1]` (a URL's hostname): this machine, for development. */
export function isLocalHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}
export type RegistrationMode = 'open' | 'token' | 'off';
export type CompatProfile = (typeof COMPAT_PROFILES)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly issuer: string;
  readonly dataDir: string;
  /** `postgres://…` or null for the embedded SQLite database in `dataDir`. */
  readonly databaseUrl: string | null;
  readonly keyAlg: KeyAlg;
  readonly accessTtl: number;
  readonly refreshTtl: number;
  readonly codeTtl: number;
  /** OpenID Connect ID-token lifetime, seconds. */
  readonly idTokenTtl: number;
  /** Device authorization grant (RFC 8628): how long a device and user code live, seconds. */
  readonly deviceCodeTtl: number;
  /** RFC 8628 §3.2 `interval`: the seconds a device waits between polls (more after `slow_down`). */
  readonly devicePollInterval: number;
  /** User codes a client IP may try per minute on the verification page (RFC 8628 §5.1). */
  readonly deviceRateLimit: number;
  readonly sessionTtl: number;
  readonly registration: RegistrationMode;
  /** Initial access token required by `registration=token` (compared by hash). */
  readonly registrationToken: string | null;
  /** Scopes a dynamically registered client may hold. */
  readonly registrationScopes: readonly string[];
  /** Scope given to a dynamically registered client that asks for none. */
  readonly registrationDefaultScope: readonly string[];
  /** Grant types a dynamically registered client may be given. */
  readonly registrationGrantTypes: readonly GrantType[];
  readonly adminEmail: string;
  readonly adminPassword: string | null;
  readonly allowPlainPkce: boolean;
  readonly logLevel: string;
  /**
   * Origins a browser may call the public endpoints from (discovery, JWKS, token, revocation,
   * registration, UserInfo, device authorization): `['*']` (the default: any origin, never with
   * credentials), a list of origins, or `[]` (`none`: no CORS).
   */
  readonly corsOrigins: readonly string[];
  readonly purgeIntervalSeconds: number;
  /** Never-used dynamically registered applications are deleted after this many seconds; 0 keeps them. */
  readonly registrationUnusedTtl: number;
  /** Registrations (every registration path) per client IP per hour (issue #15 §3). */
  readonly registrationRateLimit: number;
  /** Audit events older than this many days are deleted by the purge job; 0 keeps them forever. */
  readonly auditRetentionDays: number;
  /** Seconds a client has to send the request headers (issue #15 §4). */
  readonly headersTimeout: number;
  /** Seconds a client has to send the whole request, body included. */
  readonly requestTimeout: number;
  /** Seconds an idle keep-alive connection stays open. */
  readonly idleTimeout: number;
  /** Bearer token for /metrics; null = served to loopback clients only. */
  readonly metricsToken: string | null;
  readonly loginMaxFailures: number;
  readonly lockoutSeconds: number;
  /** Failed client authentications per IP and per client_id per minute before 429 (issue #6). */
  readonly clientAuthFailureLimit: number;
  /** `redis://…`: rate limits shared by every process; null = counted in each process's memory. */
  readonly redisUrl: string | null;
  /** PostgreSQL: bound on connecting and on each query, ms; an outage answers 503 within it. */
  readonly dbTimeoutMs: number;
  /** Sign-in attempts (login form and password grant) per client IP per minute (O7). */
  readonly loginRateLimit: number;
  /**
   * Which proxies in front may set `X-Forwarded-For` (issue #15 §5): false (none), a hop count,
   * or their addresses / CIDRs. The client's address is then the nearest one not trusted.
   */
  readonly trustProxy: false | number | readonly string[];
  /** How long a retired signing key stays in the JWKS beyond the longest access-token lifetime. */
  readonly keyGraceSeconds: number;
  /** PEM private key to sign with (P-256, RSA ≥2048 or Ed25519); null = keys generated and kept in the database. */
  readonly signingKeyFile: string | null;
  /**
   * Delegated login (issue #11): the platform's page that signs people in. When set, Tollgate sends
   * the browser to `<loginUrl>?login_challenge=…` instead of showing its own password form.
   */
  readonly loginUrl: string | null;
  /** Subjects (platform user ids) who administer Tollgate when people sign in through the platform. */
  readonly adminSubjects: readonly string[];
  /** How long a sign-in Tollgate waits for (a login challenge) stays valid, seconds. */
  readonly loginRequestTtl: number;
  /**
   * Development and tests only: the outbound client (src/net/outbound.ts) may also call loopback
   * addresses, over plain http too. Refused unless the issuer itself is on loopback.
   */
  readonly outboundInsecureLoopback: boolean;
  /**
   * Client ID Metadata Documents (docs/client-id-metadata.md): a `client_id` that is an https URL
   * is resolved by fetching its document. `off` refuses such client_ids.
   */
  readonly cimd: 'on' | 'off';
  /** When not empty, only documents on these hosts (`host` exact, `*.example.com` for subdomains). */
  readonly cimdAllowedHosts: readonly string[];
  /** How long a fetched document is used before it is fetched again: its HTTP caching within these bounds, seconds. */
  readonly cimdCacheMin: number;
  readonly cimdCacheMax: number;
  /** Largest document accepted, bytes; the whole fetch's deadline, ms. */
  readonly cimdMaxBytes: number;
  readonly cimdTimeoutMs: number;
  /**
   * Development and tests only: documents at http(s)://127.0.0.1:* and http(s)://localhost:* are
   * fetched too (CIMD draft §8.6). Refused unless the issuer itself is on loopback.
   */
  readonly cimdInsecureLoopback: boolean;
  /** Compatibility profiles: the seed platforms' documented paths and shapes also served (docs/compat.md). */
  readonly compat: readonly CompatProfile[];
  /** Email (A9) and branding settings, as given: TOLLGATE_SMTP_URL, TOLLGATE_MAIL_*, TOLLGATE_BRAND_*. */
  readonly mailAndBranding: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Source = Readonly<Record<string, string | undefined>>;

/** Reads the optional JSON config file named by TOLLGATE_CONFIG and overlays the environment. */
function mergedSource(env: Source, problems: string[]): Source {
  const file = env['TOLLGATE_CONFIG'];
  if (!file) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (err) {
    problems.push(`TOLLGATE_CONFIG: cannot read ${file}: ${(err as Error).message}`);
    return env;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`TOLLGATE_CONFIG: ${file} must hold a JSON object`);
    return env;
  }
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(CONFIG_FILE_KEYS as readonly string[]).includes(key)) {
      problems.push(`TOLLGATE_CONFIG: unknown key "${key}" in ${file}`);
      continue;
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[key] = String(value);
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      out[key] = value.join(' ');
    } else {
      problems.push(`TOLLGATE_CONFIG: "${key}" must be a string, number, boolean or list of strings`);
    }
  }
  for (const key of CONFIG_FILE_KEYS) if (env[key] !== undefined) out[key] = env[key];
  return out;
}

/** TOLLGATE_CORS_ORIGINS: `*`, `none`, or origins (`https://app.example`, no path). */
function corsOrigins(values: readonly string[], problems: string[]): readonly string[] {
  if (values.length === 1 && values[0] === 'none') return [];
  if (values.includes('*')) return ['*'];
  for (const v of values) {
    let ok = false;
    try {
      const u = new URL(v);
      ok = (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === v;
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`TOLLGATE_CORS_ORIGINS: "${v}" is not an origin (scheme://host[:port], no path), "*" or "none"`);
  }
  return values;
}

function metricsToken(raw: string | undefined, problems: string[]): string | null {
  const v = raw?.trim() ?? '';
  if (v === '') return null;
  if (v.length < 16 || !/^[\x21-\x7e]+$/.test(v)) problems.push('TOLLGATE_METRICS_TOKEN: must be at least 16 printable characters without spaces');
  return v;
}

/** TOLLGATE_TRUST_PROXY: `false`, a number of hops, or proxy addresses / CIDRs (never "trust every hop"). */
function trustProxySetting(raw: string | undefined, problems: string[]): false | number | readonly string[] {
  const v = raw?.trim() ?? '';
  if (v === '' || ['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
  if (/^\d{1,2}$/.test(v)) return Number(v);
  if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) {
    problems.push(
      'TOLLGATE_TRUST_PROXY: "true" would trust every hop, so any client could choose the address used by rate limits and the audit log; ' +
        'give the number of proxies in front of Tollgate (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.0/8)',
    );
    return false;
  }
  const list = v.split(/[\s,]+/).filter((x) => x.length > 0);
  for (const entry of list) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      problems.push(`TOLLGATE_TRUST_PROXY: "${entry}" is neither a hop count nor an IP address or CIDR`);
    }
  }
  return list;
}

export function loadConfig(env: Source = process.env): Config {
  const problems: string[] = [];
  // Typed by SETTINGS: reading a key that is not declared there does not compile.
  const src: { readonly [K in SettingKey]?: string } = mergedSource(env, problems);

  // Per field, as SETTINGS (./settings.ts) declares it: an empty value is the default.
  const int = (key: IntKey): number => {
    const { def, min, max } = SETTINGS[key];
    const raw = src[key];
    if (raw === undefined || raw === '') return def;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${key}: expected a whole number, got "${raw}"`);
      return def;
    }
    const n = Number(raw.trim());
    if (n < min || n > max) {
      problems.push(`${key}: must be between ${min} and ${max}, got ${n}`);
      return def;
    }
    return n;
  };
  const bool = (key: BoolKey): boolean => {
    const { def } = SETTINGS[key];
    const raw = src[key];
    if (raw === undefined || raw === '') return def;
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    problems.push(`${key}: expected true or false, got "${raw}"`);
    return def;
  };
  const oneOf = <K extends EnumKey>(key: K): EnumValue<K> => {
    const { def, values } = SETTINGS[key] as { readonly def: EnumValue<K>; readonly values: readonly EnumValue<K>[] };
    const raw = src[key];
    if (raw === undefined || raw === '') return def;
    if ((values as readonly string[]).includes(raw.trim())) return raw.trim() as EnumValue<K>;
    problems.push(`${key}: expected one of ${values.join(', ')}, got "${raw}"`);
    return def;
  };
  const list = (key: ListKey): readonly string[] => {
    const raw = src[key];
    if (raw === undefined) return SETTINGS[key].def;
    return raw.split(/[\s,]+/).filter((s) => s.length > 0);
  };

  const port = int('PORT');
  const host = src['HOST']?.trim() || SETTINGS.HOST.def;

  let issuer = src['TOLLGATE_ISSUER']?.trim() || `http://localhost:${port}`;
  try {
    const u = new URL(issuer);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      problems.push(`TOLLGATE_ISSUER: must be an http(s) URL, got "${issuer}"`);
    } else if (u.search || u.hash) {
      problems.push(`TOLLGATE_ISSUER: must not contain a query or fragment (RFC 8414 §2)`);
    } else if (
      u.protocol === 'http:' &&
      !isLocalHostname(u.hostname)
    ) {
      problems.push(`TOLLGATE_ISSUER: plain http is only allowed for localhost, got "${issuer}"`);
    }
    issuer = issuer.replace(/\/+$/, '');
  } catch {
    problems.push(`TOLLGATE_ISSUER: not a valid URL: "${issuer}"`);
  }

  const smtp = src['TOLLGATE_SMTP_URL']?.trim();
  if (smtp && !/^smtps?:\/\//.test(smtp)) problems.push('TOLLGATE_SMTP_URL: expected smtp://… or smtps://…');
  const color = src['TOLLGATE_BRAND_COLOR']?.trim();
  if (color && !BRAND_COLOR.test(color)) problems.push(`TOLLGATE_BRAND_COLOR: expected a #rgb or #rrggbb colour, got "${color}"`);

  const redis = src['TOLLGATE_REDIS_URL']?.trim();
  if (redis && !/^rediss?:\/\//.test(redis)) problems.push('TOLLGATE_REDIS_URL: expected redis://… or rediss://…');

  const databaseUrl = src['TOLLGATE_DATABASE_URL']?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`TOLLGATE_DATABASE_URL: expected postgres://…, got a value of another scheme`);
  }

  // Checked against the instance's grant types when it is built (createRuntime): a host may add grants.
  const grantTypes = list('TOLLGATE_REGISTRATION_GRANT_TYPES');

  const registration = oneOf('TOLLGATE_REGISTRATION');
  const registrationToken = src['TOLLGATE_REGISTRATION_TOKEN']?.trim() || null;
  if (registration === 'token' && registrationToken === null) {
    problems.push('TOLLGATE_REGISTRATION_TOKEN: required when TOLLGATE_REGISTRATION=token');
  }
  if (registrationToken !== null && registrationToken.length < 16) {
    problems.push('TOLLGATE_REGISTRATION_TOKEN: must be at least 16 characters');
  }

  const adminPassword = src['TOLLGATE_ADMIN_PASSWORD'] || null;
  if (adminPassword !== null && adminPassword.length < 8) {
    problems.push('TOLLGATE_ADMIN_PASSWORD: must be at least 8 characters');
  }
  const adminEmail = (src['TOLLGATE_ADMIN_EMAIL']?.trim() || SETTINGS.TOLLGATE_ADMIN_EMAIL.def).toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) {
    problems.push(`TOLLGATE_ADMIN_EMAIL: not an email address: "${adminEmail}"`);
  }

  const loginUrl = src['TOLLGATE_LOGIN_URL']?.trim() || null;
  if (loginUrl !== null) {
    try {
      const u = new URL(loginUrl);
      const loopback = isLocalHostname(u.hostname);
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) problems.push('TOLLGATE_LOGIN_URL: must be an https URL (plain http only for localhost)');
      if (u.hash || u.username || u.password) problems.push('TOLLGATE_LOGIN_URL: must not contain a fragment or credentials');
      if (u.searchParams.has('login_challenge')) problems.push('TOLLGATE_LOGIN_URL: must not contain login_challenge (Tollgate adds it)');
    } catch {
      problems.push(`TOLLGATE_LOGIN_URL: not a valid URL: "${loginUrl}"`);
    }
  }

  const compatNames = list('TOLLGATE_COMPAT');
  const compat: CompatProfile[] = [];
  for (const name of compatNames) {
    const n = name.toLowerCase();
    if (n === 'all') compat.push(...COMPAT_PROFILES.filter((p) => !compat.includes(p)));
    else if ((COMPAT_PROFILES as readonly string[]).includes(n)) {
      if (!compat.includes(n as CompatProfile)) compat.push(n as CompatProfile);
    } else problems.push(`TOLLGATE_COMPAT: unknown profile "${name}"; use ${COMPAT_PROFILES.join(', ')} or all`);
  }

  const outboundInsecureLoopback = bool('TOLLGATE_OUTBOUND_INSECURE_LOOPBACK');
  if (outboundInsecureLoopback) {
    let loopbackIssuer = false;
    try {
      loopbackIssuer = isLocalHostname(new URL(issuer).hostname);
    } catch {
      // reported above
    }
    if (!loopbackIssuer) problems.push('TOLLGATE_OUTBOUND_INSECURE_LOOPBACK: only for development, with an issuer on localhost');
  }

  const cimdInsecureLoopback = bool('TOLLGATE_CIMD_INSECURE_LOOPBACK');
  if (cimdInsecureLoopback) {
    let loopbackIssuer = false;
    try {
      loopbackIssuer = isLocalHostname(new URL(issuer).hostname);
    } catch {
      // reported above
    }
    // CIMD draft §8.6: loopback documents only where the server itself is on loopback.
    if (!loopbackIssuer) problems.push('TOLLGATE_CIMD_INSECURE_LOOPBACK: only for development, with an issuer on localhost');
  }
  const cimdAllowedHosts = list('TOLLGATE_CIMD_ALLOWED_HOSTS').map((h) => h.toLowerCase());
  for (const h of cimdAllowedHosts) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/.test(h)) {
      problems.push(`TOLLGATE_CIMD_ALLOWED_HOSTS: "${h}" is not a host name (example.com, or *.example.com for its subdomains)`);
    }
  }
  const cimdCacheMin = int('TOLLGATE_CIMD_CACHE_MIN');
  const cimdCacheMax = int('TOLLGATE_CIMD_CACHE_MAX');
  if (cimdCacheMax < cimdCacheMin) problems.push('TOLLGATE_CIMD_CACHE_MAX must not be below TOLLGATE_CIMD_CACHE_MIN');

  const registrationScopes = list('TOLLGATE_REGISTRATION_SCOPES');
  for (const s of ['admin', 'login']) {
    if (registrationScopes.includes(s)) problems.push(`TOLLGATE_REGISTRATION_SCOPES: "${s}" can only be given by an administrator`);
  }
  const registrationDefaultScope = list('TOLLGATE_REGISTRATION_DEFAULT_SCOPE');
  for (const s of registrationDefaultScope) {
    if (!registrationScopes.includes(s)) {
      problems.push(`TOLLGATE_REGISTRATION_DEFAULT_SCOPE: "${s}" is not in TOLLGATE_REGISTRATION_SCOPES`);
    }
  }

  const config: Config = {
    port,
    host,
    issuer,
    dataDir: resolve(src['TOLLGATE_DATA_DIR']?.trim() || SETTINGS.TOLLGATE_DATA_DIR.def),
    databaseUrl,
    keyAlg: oneOf('TOLLGATE_KEY_ALG'),
    accessTtl: int('TOLLGATE_ACCESS_TTL'),
    refreshTtl: int('TOLLGATE_REFRESH_TTL'),
    codeTtl: int('TOLLGATE_CODE_TTL'),
    idTokenTtl: int('TOLLGATE_ID_TOKEN_TTL'),
    deviceCodeTtl: int('TOLLGATE_DEVICE_CODE_TTL'),
    devicePollInterval: int('TOLLGATE_DEVICE_POLL_INTERVAL'),
    deviceRateLimit: int('TOLLGATE_DEVICE_RATE_LIMIT'),
    sessionTtl: int('TOLLGATE_SESSION_TTL'),
    registration,
    registrationToken,
    registrationScopes,
    registrationDefaultScope,
    registrationGrantTypes: grantTypes as GrantType[],
    adminEmail,
    adminPassword,
    allowPlainPkce: bool('TOLLGATE_ALLOW_PLAIN_PKCE'),
    logLevel: oneOf('TOLLGATE_LOG_LEVEL'),
    corsOrigins: corsOrigins(list('TOLLGATE_CORS_ORIGINS'), problems),
    purgeIntervalSeconds: int('TOLLGATE_PURGE_INTERVAL'),
    registrationUnusedTtl: int('TOLLGATE_REGISTRATION_UNUSED_TTL'),
    registrationRateLimit: int('TOLLGATE_REGISTRATION_RATE_LIMIT'),
    auditRetentionDays: int('TOLLGATE_AUDIT_RETENTION_DAYS'),
    headersTimeout: int('TOLLGATE_HEADERS_TIMEOUT'),
    requestTimeout: int('TOLLGATE_REQUEST_TIMEOUT'),
    idleTimeout: int('TOLLGATE_IDLE_TIMEOUT'),
    metricsToken: metricsToken(src['TOLLGATE_METRICS_TOKEN'], problems),
    loginMaxFailures: int('TOLLGATE_LOGIN_MAX_FAILURES'),
    lockoutSeconds: int('TOLLGATE_LOCKOUT_SECONDS'),
    loginRateLimit: int('TOLLGATE_LOGIN_RATE_LIMIT'),
    dbTimeoutMs: int('TOLLGATE_DB_TIMEOUT'),
    redisUrl: src['TOLLGATE_REDIS_URL']?.trim() || null,
    clientAuthFailureLimit: int('TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT'),
    trustProxy: trustProxySetting(src['TOLLGATE_TRUST_PROXY'], problems),
    keyGraceSeconds: int('TOLLGATE_KEY_GRACE'),
    mailAndBranding: Object.fromEntries(MAIL_AND_BRANDING_KEYS.map((k) => [k, src[k]])),
    signingKeyFile: src['TOLLGATE_SIGNING_KEY_FILE']?.trim() ? resolve(src['TOLLGATE_SIGNING_KEY_FILE'].trim()) : null,
    loginUrl,
    adminSubjects: list('TOLLGATE_ADMIN_SUBJECTS'),
    loginRequestTtl: int('TOLLGATE_LOGIN_REQUEST_TTL'),
    compat,
    outboundInsecureLoopback,
    cimd: oneOf('TOLLGATE_CIMD'),
    cimdAllowedHosts,
    cimdCacheMin,
    cimdCacheMax,
    cimdMaxBytes: int('TOLLGATE_CIMD_MAX_BYTES'),
    cimdTimeoutMs: int('TOLLGATE_CIMD_TIMEOUT_MS'),
    cimdInsecureLoopback,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

