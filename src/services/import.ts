/**
 * H5: bringing a platform's existing third-party applications and their grants into Tollgate, so
 * installed integrations keep working (`tollgate apps import --file apps.json`, and
 * `POST /admin/api/import`). Format and rules: docs/import.md.
 *
 * - Applications keep their `client_id` verbatim and their current secret, hashed on the way in.
 *   A `client_id` shaped like a URL is refused: that form means a Client ID Metadata Document.
 * - Grants (long-lived access tokens, refresh tokens) are given as values with their user, scope
 *   and expiry, hashed on the way in, and remembered as the user's consent.
 * - Every record is checked first; if any is wrong, nothing is imported and every problem is
 *   reported with its record. The writes then happen in one transaction.
 */
import type { OAuthContext } from '../oauth/context.js';
import { OAuthError, invalidRequest } from '../oauth/errors.js';
import { randomId, sha256 } from '../oauth/crypto.js';
import { defaultAudience } from '../oauth/context.js';
import { parseScope, formatScope, APPLICATION_ONLY_SCOPES } from '../oauth/scope.js';
import type { NewClient, NewToken, TokenFormat } from '../storage/types.js';
import { prepareApp, type AppInput } from './apps.js';

export interface ImportProblem {
  /** `apps[3]` or `grants[12]` (or `document`). */
  readonly record: string;
  readonly message: string;
}

/** Something in the document is wrong: nothing was imported. */
export class ImportError extends Error {
  constructor(readonly problems: readonly ImportProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'}: nothing was imported`);
    this.name = 'ImportError';
  }
}

export interface ImportResult {
  readonly apps: number;
  readonly grants: number;
  readonly tokens: number;
  readonly dryRun: boolean;
}

type Json = Readonly<Record<string, unknown>>;

const APP_FIELDS = ['client_id', 'client_secret', 'name', 'description', 'website', 'logo_uri', 'redirect_uris', 'scopes', 'grant_types', 'client_type', 'owner', 'token_format', 'access_ttl', 'refresh_ttl', 'active'];
const GRANT_FIELDS = ['client_id', 'user', 'scope', 'access_token', 'access_expires_at', 'refresh_token', 'refresh_expires_at'];
const SECRET = /^[\x21-\x7e]{16,512}$/;
const TOKEN = /^[\x21-\x7e]{16,4096}$/;
const CLIENT_ID = /^[\x21-\x7e]{1,200}$/;
export const MAX_IMPORT_RECORDS = 100_000;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(message: string): never {
  throw invalidRequest(message);
}

function str(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`"${key}" must be a string`);
  return v;
}

function strList(o: Json, key: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((x) => x.length > 0);
  if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return v;
  fail(`"${key}" must be a list of strings`);
}

function seconds(o: Json, key: string): number | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  fail(`"${key}" must be a whole number of seconds, or null`);
}

/** An expiry: an ISO 8601 time, epoch seconds, or null for never. Epoch ms out. */
function expiry(o: Json, key: string, now: number): number | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) fail(`"${key}" must be an ISO 8601 time, epoch seconds, or null`);
  if (ms <= now) fail(`"${key}" is in the past: the token has already expired`);
  return ms;
}

function onlyFields(o: Json, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) if (!allowed.includes(key)) fail(`Unknown field "${key}"; expected ${allowed.join(', ')}`);
}

function message(err: unknown): string {
  if (err instanceof OAuthError && err.status < 500) return err.description;
  throw err;
}

interface PreparedGrant {
  readonly clientId: string;
  readonly userId: string | null;
  readonly external: boolean;
  readonly scope: string;
  readonly tokens: readonly NewToken[];
}

export async function importPlatform(
  ctx: OAuthContext,
  doc: unknown,
  opts: {
    readonly dryRun?: boolean;
    /** Users not found are a host platform's subject ids (default: when the host or the platform signs people in). */
    readonly hostUsers?: boolean;
    readonly actorUserId?: string | null;
    readonly ip?: string | null;
  } = {},
): Promise<ImportResult> {
  const hostUsers = opts.hostUsers ?? ctx.loginMode !== 'builtin';
  const problems: ImportProblem[] = [];
  if (!isObject(doc)) throw new ImportError([{ record: 'document', message: 'The document must be a JSON object with "apps" and/or "grants"' }]);
  for (const key of Object.keys(doc)) if (key !== 'apps' && key !== 'grants') problems.push({ record: 'document', message: `Unknown field "${key}"; expected apps, grants` });
  const apps = doc['apps'] ?? [];
  const grants = doc['grants'] ?? [];
  if (!Array.isArray(apps) || !Array.isArray(grants)) throw new ImportError([{ record: 'document', message: '"apps" and "grants" must be arrays' }]);
  if (apps.length + grants.length > MAX_IMPORT_RECORDS) {
    throw new ImportError([{ record: 'document', message: `At most ${MAX_IMPORT_RECORDS} records per import; split the file` }]);
  }
  const now = ctx.now();

  // ---- applications: every rule of createApp, plus the imported identifier and secret.
  const rows = new Map<string, NewClient>();
  for (const [i, raw] of apps.entries()) {
    const record = `apps[${i}]`;
    try {
      if (!isObject(raw)) fail('must be an object');
      onlyFields(raw, APP_FIELDS);
      const clientId = str(raw, 'client_id') ?? fail('"client_id" is required');
      if (!CLIENT_ID.test(clientId)) fail('"client_id" must be 1 to 200 printable characters without spaces');
      // That form names a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document §3).
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(clientId)) fail('"client_id" must not be a URL: that form means a Client ID Metadata Document');
      if (rows.has(clientId)) fail(`"client_id" ${clientId} appears twice in the file`);
      if (await ctx.storage.clients.byId(clientId)) fail(`An application with the client_id ${clientId} already exists`);
      const type = str(raw, 'client_type') ?? 'confidential';
      if (type !== 'confidential' && type !== 'public') fail('"client_type" must be confidential or public');
      const secret = str(raw, 'client_secret') ?? null;
      if (secret !== null && !SECRET.test(secret)) fail('"client_secret" must be 16 to 512 printable characters');
      const ownerRef = str(raw, 'owner');
      const owner = ownerRef === undefined ? null : ((await ctx.storage.users.byEmail(ownerRef)) ?? (await ctx.storage.users.byId(ownerRef)));
      if (ownerRef !== undefined && !owner) fail(`No user "${ownerRef}" for "owner"`);
      const format = str(raw, 'token_format');
      if (format !== undefined && format !== 'opaque' && format !== 'jwt') fail('"token_format" must be opaque or jwt');
      const active = raw['active'];
      if (active !== undefined && typeof active !== 'boolean') fail('"active" must be true or false');
      const input: AppInput = {
        name: str(raw, 'name') ?? fail('"name" is required'),
        description: str(raw, 'description') ?? null,
        website: str(raw, 'website') ?? null,
        logoUri: str(raw, 'logo_uri') ?? null,
        redirectUris: strList(raw, 'redirect_uris') ?? [],
        scopes: strList(raw, 'scopes') ?? [],
        ...(strList(raw, 'grant_types') !== undefined ? { grantTypes: strList(raw, 'grant_types') } : {}),
        public: type === 'public',
        ownerId: owner?.id ?? null,
        ...(format !== undefined ? { tokenFormat: format as TokenFormat } : {}),
        ...(seconds(raw, 'access_ttl') !== undefined ? { accessTtl: seconds(raw, 'access_ttl') } : {}),
        ...(seconds(raw, 'refresh_ttl') !== undefined ? { refreshTtl: seconds(raw, 'refresh_ttl') } : {}),
        ...(typeof active === 'boolean' ? { active } : {}),
      };
      const { row } = await prepareApp(ctx, input, { imported: { clientId, clientSecret: secret } });
      rows.set(clientId, row);
    } catch (err) {
      problems.push({ record, message: message(err) });
    }
  }

  // ---- grants: tokens given as values, for an application of the file or of Tollgate.
  const prepared: PreparedGrant[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of grants.entries()) {
    const record = `grants[${i}]`;
    try {
      if (!isObject(raw)) fail('must be an object');
      onlyFields(raw, GRANT_FIELDS);
      const clientId = str(raw, 'client_id') ?? fail('"client_id" is required');
      const client = rows.get(clientId) ?? (await ctx.storage.clients.byId(clientId));
      if (!client) fail(`No application with the client_id ${clientId} (in the file or in Tollgate)`);
      const userRef = str(raw, 'user');
      let userId: string | null = null;
      let external = false;
      if (userRef !== undefined) {
        const known = (await ctx.storage.users.byEmail(userRef)) ?? (await ctx.storage.users.byId(userRef));
        if (known) userId = known.id;
        else if (hostUsers) {
          // The host owns the people: its subject id is enough, Tollgate keeps a row for it.
          if (userRef.length > 255) fail('"user" is too long');
          userId = userRef;
          external = true;
        } else fail(`No user "${userRef}"`);
      }
      const scopes = parseScope((strList(raw, 'scope') ?? []).join(' '));
      const outside = scopes.filter((s) => !client.scopes.includes(s) || (userId !== null && APPLICATION_ONLY_SCOPES.includes(s)));
      if (outside.length > 0) fail(`Scope not allowed for this application: ${outside.join(' ')}`);
      const access = str(raw, 'access_token');
      const refresh = str(raw, 'refresh_token');
      if (access === undefined && refresh === undefined) fail('Give "access_token", "refresh_token" or both');
      for (const [name, value] of [['access_token', access], ['refresh_token', refresh]] as const) {
        if (value === undefined) continue;
        if (!TOKEN.test(value)) fail(`"${name}" must be 16 to 4096 printable characters`);
        const hash = sha256(value);
        if (seen.has(hash) || (await ctx.storage.tokens.byHash(hash))) fail(`"${name}" is already known (in the file or in Tollgate)`);
        seen.add(hash);
      }
      if (refresh !== undefined && !client.grantTypes.includes('refresh_token')) fail('The application does not have the refresh_token grant');
      const scope = formatScope(scopes);
      const familyId = refresh !== undefined ? randomId() : null;
      const base = { format: 'opaque' as const, clientId, userId, scope, audience: defaultAudience(ctx.config), familyId, createdAt: now };
      const refreshHash = refresh !== undefined ? sha256(refresh) : null;
      const tokens: NewToken[] = [];
      if (refresh !== undefined) {
        tokens.push({ ...base, tokenHash: sha256(refresh), kind: 'refresh', parentHash: null, expiresAt: expiry(raw, 'refresh_expires_at', now) ?? null });
      }
      if (access !== undefined) {
        tokens.push({ ...base, tokenHash: sha256(access), kind: 'access', parentHash: refreshHash, expiresAt: expiry(raw, 'access_expires_at', now) ?? null });
      }
      prepared.push({ clientId, userId, external, scope, tokens });
    } catch (err) {
      problems.push({ record, message: message(err) });
    }
  }

  if (problems.length > 0) throw new ImportError(problems);
  const tokenCount = prepared.reduce((n, g) => n + g.tokens.length, 0);
  if (opts.dryRun) return { apps: rows.size, grants: prepared.length, tokens: tokenCount, dryRun: true };

  await ctx.storage.transaction(async (tx) => {
    for (const row of rows.values()) await tx.clients.create(row, now);
    for (const g of prepared) {
      if (g.external && g.userId !== null) await tx.users.upsertExternal({ id: g.userId, profile: {} }, now);
      if (g.userId !== null) {
        const client = await tx.clients.byId(g.clientId);
        const previous = await tx.consents.get(g.userId, g.clientId);
        const scope = formatScope([...new Set([...parseScope(previous?.scope), ...parseScope(g.scope)])]);
        await tx.consents.upsert({ userId: g.userId, clientId: g.clientId, scope, scopesVersion: client?.scopesVersion ?? 1 }, now);
      }
    }
    await tx.tokens.insertMany(prepared.flatMap((g) => g.tokens));
  });
  for (const row of rows.values()) {
    await ctx.audit.record('app.imported', { actorUserId: opts.actorUserId ?? null, clientId: row.clientId, ip: opts.ip ?? null, details: { name: row.name, type: row.clientType } });
  }
  if (prepared.length > 0) {
    await ctx.audit.record('tokens.imported', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { grants: prepared.length, tokens: tokenCount } });
  }
  return { apps: rows.size, grants: prepared.length, tokens: tokenCount, dryRun: false };
}
