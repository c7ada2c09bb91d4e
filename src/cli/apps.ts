/** `tollgate apps …`: create, list, show, update, delete, (de)activate, rotate-secret (A1–A7), import (H5). */
import { readFileSync } from 'node:fs';
import { ID_TOKEN_ALGS, type KeyAlg } from '../config.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { OAuthContext } from '../oauth/context.js';
import {
  appView,
  createApp,
  deleteApp,
  rotateSecret,
  setAppActive,
  updateApp,
  type AppInput,
} from '../services/apps.js';
import type { ClientRow, TokenFormat } from '../storage/types.js';
import { ImportError, importPlatform } from '../services/import.js';
import {
  action,
  CliError,
  collectList,
  emit,
  formatRecord,
  formatTable,
  orgIdByName,
  printJson,
  readStdin,
  requireApp,
  seconds,
  userIdByEmail,
  wholeNumber,
  withJson,
  withRuntime,
  type JsonOption,
} from './shared.js';

/**
 * Redirect URIs: repeatable, and several in one value separated by whitespace, or by a comma
 * directly followed by the next URI's scheme (so a comma inside a query string survives).
 */
function collectUris(value: string, previous: string[] | undefined): string[] {
  const parts = value.split(/\s+|,(?=\s*[A-Za-z][A-Za-z0-9+.-]*:)/).map((s) => s.trim());
  return [...(previous ?? []), ...parts.filter((s) => s.length > 0)];
}

/**
 * `--refresh-ttl`: seconds, or `never` (kept as the string: commander turns a parser's `null`
 * into an empty string).
 */
function refreshTtl(value: string): number | 'never' {
  if (value.trim().toLowerCase() === 'never') return 'never';
  try {
    return seconds(value);
  } catch {
    throw new InvalidArgumentError('Expected a whole number of seconds, or "never".');
  }
}

interface AppOptions extends JsonOption {
  name?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  idTokenAlg?: KeyAlg;
  applicationType?: 'web' | 'native';
  defaultMaxAge?: number;
  contact?: string[];
  backchannelLogoutUri?: string;
  backchannelLogoutSessionRequired?: boolean;
  scope?: string[];
  grantType?: string[];
  public?: boolean;
  org?: string;
  owner?: string;
  actsAs?: string;
  internal?: boolean;
  tokenFormat?: TokenFormat;
  accessTtl?: number;
  longLived?: boolean;
  refresh?: boolean;
  refreshTtl?: number | 'never';
  refreshGrace?: number;
  description?: string;
  website?: string;
  logoUri?: string;
  inactive?: boolean;
  tokenExchangeAudience?: string[];
  tokenExchangeImpersonation?: boolean;
  tokenExchangeRefresh?: boolean;
  removeTokenExchange?: boolean;
  jwksUri?: string;
  jwksFile?: string;
}

/** `--jwks-uri` / `--jwks-file`: the application's public keys for private_key_jwt (the service checks them). */
function keysInput(opts: AppOptions): AppInput['privateKeyJwt'] {
  if (opts.jwksUri !== undefined && opts.jwksFile !== undefined) throw new CliError('Use either --jwks-uri or --jwks-file, not both');
  if (opts.jwksUri !== undefined) return { jwksUri: opts.jwksUri };
  if (opts.jwksFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(opts.jwksFile, 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${opts.jwksFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return { jwks: JSON.parse(text) as unknown };
  } catch {
    throw new CliError(`${opts.jwksFile} is not JSON (a JWK Set: {"keys": [...]})`);
  }
}

/** The token-exchange options as a policy change, or undefined when none was given. */
function tokenExchangeInput(opts: AppOptions): AppInput['tokenExchange'] {
  if (opts.removeTokenExchange) {
    if (opts.tokenExchangeAudience || opts.tokenExchangeImpersonation !== undefined || opts.tokenExchangeRefresh !== undefined) {
      throw new CliError('Use either --remove-token-exchange or the other --token-exchange options, not both');
    }
    return null;
  }
  const policy = {
    ...(opts.tokenExchangeAudience !== undefined ? { audiences: opts.tokenExchangeAudience } : {}),
    ...(opts.tokenExchangeImpersonation !== undefined ? { impersonation: opts.tokenExchangeImpersonation } : {}),
    ...(opts.tokenExchangeRefresh !== undefined ? { refreshTokens: opts.tokenExchangeRefresh } : {}),
  };
  return Object.keys(policy).length > 0 ? policy : undefined;
}

interface UpdateOptions extends AppOptions {
  addRedirectUri?: string[];
  removeRedirectUri?: string[];
  addScope?: string[];
  removeScope?: string[];
  active?: boolean;
}

interface ListOptions extends JsonOption {
  name?: string;
  org?: string;
  status?: 'active' | 'inactive';
  owner?: string;
  limit?: number;
  offset?: number;
}

/** The options `create` and `update` share; on update every one is optional. */
function addAppOptions(cmd: Command, mode: 'create' | 'update'): Command {
  if (mode === 'create') cmd.requiredOption('--name <name>', 'display name shown on the consent screen');
  else cmd.option('--name <name>', 'new display name');
  const replace = mode === 'update' ? ' (replaces the list)' : '';
  cmd
    .option('--redirect-uri <uri>', `redirect URI, repeatable${replace}`, collectUris)
    .option('--scope <scope>', `scope the app may request, repeatable or space/comma-separated${replace}`, collectList)
    .option('--post-logout-redirect-uri <uri>', `OpenID Connect: where the app may send a person after signing out, repeatable${replace}`, collectUris)
    .addOption(new Option('--id-token-alg <alg>', 'OpenID Connect: the ID tokens\' algorithm (default RS256)').choices(ID_TOKEN_ALGS))
    .addOption(new Option('--application-type <type>', 'OpenID Connect: web (default) or native').choices(['web', 'native']))
    .option('--default-max-age <seconds>', 'OpenID Connect: ask for a new sign-in when the last one is older, unless the request says max_age', wholeNumber)
    .option('--contact <email>', `OpenID Connect: who is responsible for the app, repeatable${replace}`, collectUris)
    .option('--backchannel-logout-uri <url>', `OpenID Connect Back-Channel Logout: https URL that receives a logout token when a session ends${mode === 'update' ? ' ("" to clear)' : ''}`)
    .option('--backchannel-logout-session-required', 'OpenID Connect: the app needs sid in logout tokens')
    .addOption(
      new Option(
        '--grant-type <grant>',
        `grant type, repeatable: authorization_code, refresh_token, client_credentials, password, implicit, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange${
          mode === 'create' ? ' (default: authorization_code refresh_token)' : replace
        }`,
      ).argParser(collectList),
    )
    .option('--public', mode === 'create' ? 'public client: no secret (native and browser apps; PKCE required)' : 'assert a public client (the type cannot change)')
    .option('--org <name>', `organization the app belongs to${mode === 'update' ? ' ("" to clear)' : ''}`)
    .option('--owner <email>', `user who owns the app${mode === 'update' ? ' ("" to clear)' : ''}`)
    .option('--acts-as <email>', `client_credentials tokens act on behalf of this user${mode === 'update' ? ' ("" to clear)' : ''}`)
    .option('--internal', 'internal app: its owner gets a long-lived refresh token at creation (needs --owner)');
  if (mode === 'update') cmd.option('--no-internal', 'no longer an internal app');
  cmd
    .addOption(new Option('--token-format <format>', 'access token format').choices(['opaque', 'jwt']))
    .option('--access-ttl <seconds>', 'access token lifetime in seconds', seconds)
    .option('--long-lived', 'access tokens never expire (and no refresh tokens are issued)');
  if (mode === 'update') cmd.option('--refresh', 'issue refresh tokens again');
  cmd
    .option('--no-refresh', 'do not issue refresh tokens')
    .option('--refresh-ttl <seconds>', 'refresh token lifetime in seconds, or "never"', refreshTtl)
    .option('--refresh-grace <seconds>', 'refresh grace window (0–300 s, default 0 = off): a just-rotated refresh token presented again gets the same new pair', wholeNumber)
    .option('--token-exchange-audience <uri>', `token exchange (RFC 8693): an audience the app may obtain tokens for, repeatable${replace}`, collectUris)
    .option('--token-exchange-impersonation', 'token exchange: allowed without an actor token (the new token has no act)')
    .option('--token-exchange-refresh', 'token exchange: may ask for a refresh token')
    .option('--jwks-uri <url>', `private_key_jwt: the https URL of the app's public keys (a JWK Set)${mode === 'create' ? '; the app authenticates with signed assertions and gets no secret' : '; replaces its keys'}`)
    .option('--jwks-file <path>', `private_key_jwt: a file holding the app's public keys as a JWK Set${mode === 'create' ? ' (instead of --jwks-uri)' : '; replaces its keys'}`);
  if (mode === 'update') {
    cmd
      .option('--no-token-exchange-impersonation', 'token exchange: an actor token is required again')
      .option('--no-token-exchange-refresh', 'token exchange: no refresh tokens')
      .option('--remove-token-exchange', 'remove the token-exchange policy (the app can no longer exchange tokens)');
  }
  cmd
    .option('--description <text>', 'description shown on the consent screen')
    .option('--website <url>', 'home page of the app')
    .option('--logo-uri <url>', 'logo shown on the consent screen');
  if (mode === 'create') {
    cmd.option('--inactive', 'create the app deactivated');
  } else {
    cmd
      .option('--active', 'activate the app')
      .option('--inactive', 'deactivate the app (its tokens stop working at once)')
      .option('--add-redirect-uri <uri>', 'add a redirect URI, repeatable', collectUris)
      .option('--remove-redirect-uri <uri>', 'remove a redirect URI, repeatable', collectUris)
      .option('--add-scope <scope>', 'add a scope, repeatable', collectList)
      .option('--remove-scope <scope>', 'remove a scope, repeatable', collectList);
  }
  return withJson(cmd);
}

/** An empty value clears an optional reference on update. */
async function resolveRef(
  value: string | undefined,
  resolve: (v: string) => Promise<string>,
): Promise<string | null | undefined> {
  if (value === undefined) return undefined;
  if (value.trim() === '') return null;
  return resolve(value);
}

/** The human form of an application: the view, with ids resolved to names where it helps. */
async function appHuman(ctx: OAuthContext, c: ClientRow): Promise<Record<string, unknown>> {
  const view = appView(c);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(view)) {
    if (k === 'org_id' && c.orgId !== null) {
      const org = await ctx.storage.organizations.byId(c.orgId);
      out['org'] = org ? `${org.name} (${c.orgId})` : c.orgId;
    } else if ((k === 'owner_id' && c.ownerId !== null) || (k === 'acts_as_user_id' && c.actsAsUserId !== null)) {
      const id = k === 'owner_id' ? c.ownerId : c.actsAsUserId;
      const user = id === null ? null : await ctx.storage.users.byId(id);
      out[k === 'owner_id' ? 'owner' : 'acts_as'] = user ? `${user.email} (${id})` : id;
    } else if (k === 'access_ttl') {
      out[k] = v === null ? 'long-lived (never expires)' : v;
    } else if (k === 'refresh_ttl') {
      out[k] = v === null ? 'never expires' : v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

async function create(opts: AppOptions): Promise<void> {
  if (opts.longLived && opts.accessTtl !== undefined) throw new CliError('Use either --access-ttl or --long-lived, not both');
  const tokenExchange = tokenExchangeInput(opts);
  const keys = keysInput(opts);
  await withRuntime(async ({ ctx }) => {
    const input: AppInput = {
      name: opts.name ?? '',
      description: opts.description ?? null,
      website: opts.website ?? null,
      logoUri: opts.logoUri ?? null,
      redirectUris: opts.redirectUri ?? [],
      postLogoutRedirectUris: opts.postLogoutRedirectUri ?? [],
      ...(opts.idTokenAlg !== undefined ? { idTokenSignedResponseAlg: opts.idTokenAlg } : {}),
      oidc: {
        ...(opts.applicationType !== undefined ? { applicationType: opts.applicationType } : {}),
        ...(opts.defaultMaxAge !== undefined ? { defaultMaxAge: opts.defaultMaxAge } : {}),
        ...(opts.contact !== undefined ? { contacts: opts.contact } : {}),
        ...(opts.backchannelLogoutUri !== undefined ? { backchannelLogoutUri: opts.backchannelLogoutUri } : {}),
        ...(opts.backchannelLogoutSessionRequired !== undefined ? { backchannelLogoutSessionRequired: opts.backchannelLogoutSessionRequired } : {}),
      },
      scopes: opts.scope ?? [],
      grantTypes: opts.grantType ?? ['authorization_code', 'refresh_token'],
      public: opts.public === true,
      orgId: opts.org === undefined ? null : await orgIdByName(ctx, opts.org),
      ownerId: opts.owner === undefined ? null : await userIdByEmail(ctx, opts.owner),
      actsAsUserId: opts.actsAs === undefined ? null : await userIdByEmail(ctx, opts.actsAs),
      internal: opts.internal === true,
      tokenFormat: opts.tokenFormat ?? 'opaque',
      ...(opts.longLived ? { accessTtl: null } : opts.accessTtl !== undefined ? { accessTtl: opts.accessTtl } : {}),
      refreshEnabled: opts.longLived ? false : opts.refresh !== false,
      ...(opts.refreshTtl !== undefined ? { refreshTtl: opts.refreshTtl === 'never' ? null : opts.refreshTtl } : {}),
      ...(opts.refreshGrace !== undefined ? { refreshGraceSeconds: opts.refreshGrace } : {}),
      ...(tokenExchange !== undefined ? { tokenExchange } : {}),
      ...(keys !== undefined ? { privateKeyJwt: keys } : {}),
      active: opts.inactive !== true,
    };
    const created = await createApp(ctx, input);
    const c = created.client;
    const doc = {
      client_id: c.clientId,
      ...(created.clientSecret !== null ? { client_secret: created.clientSecret } : {}),
      ...(created.refreshToken !== null ? { refresh_token: created.refreshToken } : {}),
      ...appView(c),
    };
    const human = {
      ...(created.clientSecret !== null ? { client_secret: created.clientSecret } : {}),
      ...(created.refreshToken !== null ? { refresh_token: created.refreshToken } : {}),
      ...(await appHuman(ctx, c)),
    };
    emit(opts, doc, () => {
      const lines = [`Created application "${c.name}"`, '', formatRecord({ client_id: c.clientId, ...human })];
      const shown = [created.clientSecret !== null ? 'client secret' : null, created.refreshToken !== null ? 'refresh token' : null]
        .filter((s) => s !== null)
        .join(' and ');
      if (shown) lines.push('', `Store the ${shown} now: ${shown.includes(' and ') ? 'they are' : 'it is'} shown only once.`);
      return lines.join('\n');
    });
  });
}

async function list(opts: ListOptions): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const page = await ctx.storage.clients.list({
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.org !== undefined ? { orgId: await orgIdByName(ctx, opts.org) } : {}),
      ...(opts.owner !== undefined ? { ownerId: await userIdByEmail(ctx, opts.owner) } : {}),
      ...(opts.status !== undefined ? { active: opts.status === 'active' } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
    });
    const items = page.items.map(appView);
    emit(opts, { items, total: page.total }, () => {
      if (page.total === 0) return 'No applications.';
      const rows = page.items.map((c) => ({
        client_id: c.clientId,
        name: c.name,
        type: c.clientType,
        status: c.active ? 'active' : 'inactive',
        grants: c.grantTypes,
        scopes: c.scopes,
      }));
      const table = formatTable(rows, [
        ['CLIENT_ID', 'client_id'],
        ['NAME', 'name'],
        ['TYPE', 'type'],
        ['STATUS', 'status'],
        ['GRANTS', 'grants'],
        ['SCOPES', 'scopes'],
      ]);
      const shown = page.items.length === page.total ? `${page.total}` : `${page.items.length} of ${page.total}`;
      return `${table}\n\n${shown} application${page.total === 1 ? '' : 's'}`;
    });
  });
}

async function show(clientId: string, opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const c = await requireApp(ctx, clientId);
    const human = await appHuman(ctx, c);
    emit(opts, appView(c), () => formatRecord(human));
  });
}

function removeAll(from: readonly string[], remove: readonly string[], what: string, clientId: string): string[] {
  for (const r of remove) {
    if (!from.includes(r)) throw new CliError(`${what} ${r} is not registered for ${clientId}`);
  }
  return from.filter((v) => !remove.includes(v));
}

async function update(clientId: string, opts: UpdateOptions): Promise<void> {
  if (opts.longLived && opts.accessTtl !== undefined) throw new CliError('Use either --access-ttl or --long-lived, not both');
  if (opts.longLived && opts.refresh === true) throw new CliError('Use either --refresh or --long-lived, not both');
  if (opts.active && opts.inactive) throw new CliError('Use either --active or --inactive, not both');
  if (opts.redirectUri && (opts.addRedirectUri || opts.removeRedirectUri)) {
    throw new CliError('Use either --redirect-uri or --add-redirect-uri/--remove-redirect-uri, not both');
  }
  if (opts.scope && (opts.addScope || opts.removeScope)) {
    throw new CliError('Use either --scope or --add-scope/--remove-scope, not both');
  }
  await withRuntime(async ({ ctx }) => {
    const current = await requireApp(ctx, clientId);

    let redirectUris = opts.redirectUri;
    if (opts.addRedirectUri || opts.removeRedirectUri) {
      const kept = removeAll(current.redirectUris, opts.removeRedirectUri ?? [], 'The redirect URI', clientId);
      redirectUris = [...kept, ...(opts.addRedirectUri ?? []).filter((u) => !kept.includes(u))];
    }
    let scopes = opts.scope;
    if (opts.addScope || opts.removeScope) {
      const kept = removeAll(current.scopes, opts.removeScope ?? [], 'The scope', clientId);
      scopes = [...kept, ...(opts.addScope ?? []).filter((s) => !kept.includes(s))];
    }

    const patch: { -readonly [K in keyof AppInput]?: AppInput[K] } = {};
    if (opts.name !== undefined) patch.name = opts.name;
    if (opts.description !== undefined) patch.description = opts.description;
    if (opts.website !== undefined) patch.website = opts.website;
    if (opts.logoUri !== undefined) patch.logoUri = opts.logoUri;
    if (redirectUris !== undefined) patch.redirectUris = redirectUris;
    if (opts.postLogoutRedirectUri !== undefined) patch.postLogoutRedirectUris = opts.postLogoutRedirectUri;
    if (opts.idTokenAlg !== undefined) patch.idTokenSignedResponseAlg = opts.idTokenAlg;
    const oidc = {
      ...(opts.applicationType !== undefined ? { applicationType: opts.applicationType } : {}),
      ...(opts.defaultMaxAge !== undefined ? { defaultMaxAge: opts.defaultMaxAge } : {}),
      ...(opts.contact !== undefined ? { contacts: opts.contact } : {}),
      ...(opts.backchannelLogoutUri !== undefined ? { backchannelLogoutUri: opts.backchannelLogoutUri === '' ? null : opts.backchannelLogoutUri } : {}),
      ...(opts.backchannelLogoutSessionRequired !== undefined ? { backchannelLogoutSessionRequired: opts.backchannelLogoutSessionRequired } : {}),
    };
    if (Object.keys(oidc).length > 0) patch.oidc = oidc;
    if (scopes !== undefined) patch.scopes = scopes;
    if (opts.grantType !== undefined) patch.grantTypes = opts.grantType;
    if (opts.public !== undefined) patch.public = opts.public;
    const orgId = await resolveRef(opts.org, (v) => orgIdByName(ctx, v));
    if (orgId !== undefined) patch.orgId = orgId;
    const ownerId = await resolveRef(opts.owner, (v) => userIdByEmail(ctx, v));
    if (ownerId !== undefined) patch.ownerId = ownerId;
    const actsAs = await resolveRef(opts.actsAs, (v) => userIdByEmail(ctx, v));
    if (actsAs !== undefined) patch.actsAsUserId = actsAs;
    if (opts.internal !== undefined) patch.internal = opts.internal;
    if (opts.tokenFormat !== undefined) patch.tokenFormat = opts.tokenFormat;
    if (opts.longLived) {
      patch.accessTtl = null;
      patch.refreshEnabled = false;
    }
    if (opts.accessTtl !== undefined) patch.accessTtl = opts.accessTtl;
    if (opts.refresh !== undefined) patch.refreshEnabled = opts.refresh;
    if (opts.refreshTtl !== undefined) patch.refreshTtl = opts.refreshTtl === 'never' ? null : opts.refreshTtl;
    if (opts.refreshGrace !== undefined) patch.refreshGraceSeconds = opts.refreshGrace;
    const tokenExchange = tokenExchangeInput(opts);
    if (tokenExchange !== undefined) patch.tokenExchange = tokenExchange;
    const keys = keysInput(opts);
    if (keys !== undefined) patch.privateKeyJwt = keys;

    const activate = opts.active ? true : opts.inactive ? false : undefined;
    if (Object.keys(patch).length === 0 && activate === undefined) {
      throw new CliError(`Nothing to update: give at least one option (see tollgate apps update --help)`);
    }
    let c: ClientRow | null = current;
    if (Object.keys(patch).length > 0) c = await updateApp(ctx, clientId, patch);
    if (c && activate !== undefined && c.active !== activate) c = await setAppActive(ctx, clientId, activate);
    if (!c) throw new CliError(`No application with the client_id ${clientId}`);
    const updated = c;
    const human = await appHuman(ctx, updated);
    emit(opts, appView(updated), () => `Updated application "${updated.name}"\n\n${formatRecord(human)}`);
  });
}

async function remove(clientId: string, opts: JsonOption & { yes?: boolean }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const c = await requireApp(ctx, clientId);
    if (!opts.yes) {
      throw new CliError(
        `Refusing to delete ${clientId} ("${c.name}") without --yes: this deletes the application with its tokens and consents`,
      );
    }
    if (!(await deleteApp(ctx, clientId))) throw new CliError(`No application with the client_id ${clientId}`);
    emit(opts, { deleted: true, client_id: clientId }, () => `Deleted application ${clientId} ("${c.name}")`);
  });
}

async function setActive(clientId: string, active: boolean, opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    await requireApp(ctx, clientId);
    const c = await setAppActive(ctx, clientId, active);
    if (!c) throw new CliError(`No application with the client_id ${clientId}`);
    emit(opts, appView(c), () =>
      active
        ? `Activated application ${clientId} ("${c.name}")`
        : `Deactivated application ${clientId} ("${c.name}"): its tokens stop working at once`,
    );
  });
}

async function rotate(clientId: string, opts: JsonOption & { overlap?: number }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    await requireApp(ctx, clientId);
    const r = await rotateSecret(ctx, clientId, { overlapSeconds: opts.overlap ?? 0 });
    if (!r) throw new CliError(`No application with the client_id ${clientId}`);
    const until = r.client.previousSecretExpiresAt === null ? null : new Date(r.client.previousSecretExpiresAt).toISOString();
    emit(opts, { client_id: clientId, client_secret: r.clientSecret, ...(until ? { previous_secret_expires_at: until } : {}) }, () =>
      [
        until ? `New secret for ${clientId} ("${r.client.name}"); the old one keeps working until ${until}.` : `New secret for ${clientId} ("${r.client.name}"); the old one stopped working.`,
        '',
        formatRecord({ client_id: clientId, client_secret: r.clientSecret }),
        '',
        'Store the client secret now: it is shown only once.',
      ].join('\n'),
    );
  });
}

/** H5: `tollgate apps import --file apps.json` (docs/import.md): all records or none. */
async function importFile(opts: JsonOption & { file: string; dryRun?: boolean; hostUsers?: boolean }): Promise<void> {
  let doc: unknown;
  try {
    doc = JSON.parse(opts.file === '-' ? await readStdin() : readFileSync(opts.file, 'utf8'));
  } catch (err) {
    throw new CliError(`Cannot read ${opts.file}: ${(err as Error).message}`);
  }
  await withRuntime(async ({ ctx }) => {
    try {
      const r = await importPlatform(ctx, doc, { ...(opts.dryRun ? { dryRun: true } : {}), ...(opts.hostUsers ? { hostUsers: true } : {}) });
      emit(opts, { apps: r.apps, grants: r.grants, tokens: r.tokens, dry_run: r.dryRun }, () =>
        `${r.dryRun ? 'Checked (nothing written)' : 'Imported'}: ${r.apps} application${r.apps === 1 ? '' : 's'}, ${r.grants} grant${r.grants === 1 ? '' : 's'} (${r.tokens} token${r.tokens === 1 ? '' : 's'})`,
      );
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      if (opts.json) printJson({ error: 'invalid_request', error_description: err.message, problems: err.problems });
      throw new CliError([`${err.message}:`, ...err.problems.map((p) => `  ${p.record}: ${p.message}`)].join('\n'));
    }
  });
}

export function appsCommand(): Command {
  const apps = new Command('apps').description('manage applications (OAuth clients)');

  addAppOptions(apps.command('create').description('register an application; prints its credentials once'), 'create').action(
    action(create),
  );

  withJson(
    apps
      .command('list')
      .description('list applications, newest first')
      .option('--name <text>', 'only names containing this text (case-insensitive)')
      .option('--org <name>', 'only apps of this organization')
      .option('--owner <email>', 'only apps owned by this user')
      .addOption(new Option('--status <status>', 'only active or inactive apps').choices(['active', 'inactive']))
      .option('--limit <n>', 'at most this many', wholeNumber)
      .option('--offset <n>', 'skip this many', wholeNumber),
  ).action(action(list));

  withJson(apps.command('show').description('show one application').argument('<client_id>')).action(action(show));

  addAppOptions(
    apps.command('update').description('change an application; only the options given change').argument('<client_id>'),
    'update',
  ).action(action(update));

  withJson(
    apps
      .command('delete')
      .description('delete an application with its tokens and consents')
      .argument('<client_id>')
      .option('--yes', 'confirm the deletion'),
  ).action(action(remove));

  withJson(apps.command('activate').description('activate an application').argument('<client_id>')).action(
    action((id: string, opts: JsonOption) => setActive(id, true, opts)),
  );
  withJson(
    apps.command('deactivate').description('deactivate an application: its tokens stop working at once').argument('<client_id>'),
  ).action(action((id: string, opts: JsonOption) => setActive(id, false, opts)));

  withJson(
    apps
      .command('rotate-secret')
      .description('issue a new client secret (shown once); the old one stops working at once, or after --overlap')
      .argument('<client_id>')
      .option('--overlap <seconds>', 'keep the old secret working this long (0–604800; default 0: stops at once)', wholeNumber),
  ).action(action(rotate));

  withJson(
    apps
      .command('import')
      .description('import existing applications (their client_id and secret) and grants from a JSON file; all or nothing')
      .requiredOption('--file <path>', 'the JSON document ("-" reads stdin); format in docs/import.md')
      .option('--dry-run', 'check every record, write nothing')
      .option('--host-users', 'users not found are the host platform\'s subject ids'),
  ).action(action(importFile));

  return apps;
}
