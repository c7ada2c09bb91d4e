/**
 * Resolving a Client ID Metadata Document client (docs/client-id-metadata.md): the first time a
 * `client_id` URL is used, and whenever the stored copy's caching time is over, its document is
 * fetched through `ctx.outbound` (SSRF-safe: public addresses only, checked at connect time; no
 * redirects; bounded size and time), checked (./document.ts) and written as the application's
 * row, so that tokens, consents, Connected applications and the back-office treat it like any
 * other application. In between, the stored row is used as is.
 *
 * - Errors and invalid documents are never cached (draft §5.2): the next use tries again.
 * - A conditional fetch (If-None-Match) that answers 304 only extends the stored copy.
 * - One fetch per URL at a time in an instance (later callers wait for it), and at most
 *   MAX_PARALLEL_FETCHES different documents at once: beyond that, `temporarily_unavailable`
 *   rather than a queue a flood of made-up client_ids could grow.
 * - The logo is fetched through the same guard and served by Tollgate (src/http/routes/logos.ts).
 */
import type { OAuthContext } from '../../oauth/context.js';
import type { ClientMetadataState, ClientRow, NewClient, Storage } from '../../storage/types.js';
import { DEFAULT_OIDC_SETTINGS } from '../../storage/types.js';
import { OAuthError, invalidClient, temporarilyUnavailable } from '../../oauth/errors.js';
import { cacheSeconds, OutboundError, type OutboundResponse } from '../../net/outbound.js';
import { readDocument, DocumentError, type DocumentFields } from './document.js';
import { blockPatternsFor, clientIdUrlProblem, hostAllowed, hostOf, looksLikeMetadataUrl } from './policy.js';
import { fetchLogo, logoUrl } from './logo.js';

const MAX_PARALLEL_FETCHES = 64;

interface InstanceState {
  readonly inFlight: Map<string, Promise<ClientRow>>;
}

// Per instance (its storage), so that two instances in one process share nothing.
const states = new WeakMap<Storage, InstanceState>();
function stateOf(ctx: OAuthContext): InstanceState {
  let s = states.get(ctx.storage);
  if (s === undefined) {
    s = { inFlight: new Map() };
    states.set(ctx.storage, s);
  }
  return s;
}

/** Why a fetch failed, for the person or the client (never the URL's query). */
function fetchProblem(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof OutboundError) {
    const why =
      err.reason === 'refused_address' || err.reason === 'refused_url'
        ? 'its address is not one Tollgate may call (only public https hosts)'
        : err.reason === 'too_large'
          ? 'it is larger than this server accepts'
          : err.reason === 'timeout'
            ? 'its host did not answer in time'
            : 'its host could not be reached';
    return new DocumentError(why);
  }
  return new DocumentError('it could not be fetched');
}

function isJson(contentType: string | string[] | undefined): boolean {
  const ct = String(contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return ct === 'application/json' || (ct.startsWith('application/') && ct.endsWith('+json'));
}

/** Checks that this client_id URL may be used at all (policy, shape, allow- and block-lists). */
async function admit(ctx: OAuthContext, clientId: string): Promise<void> {
  if (ctx.config.cimd === 'off') throw invalidClient('Unknown application: client_id URLs (Client ID Metadata Documents) are not accepted by this server');
  const problem = clientIdUrlProblem(clientId, ctx.config);
  if (problem !== null) throw new DocumentError(problem);
  if (!hostAllowed(hostOf(clientId), ctx.config)) throw invalidClient('This server does not accept applications from this host');
  if (await ctx.storage.clientMetadata.anyBlocked(blockPatternsFor(clientId))) throw invalidClient('An administrator has blocked applications from this host');
}

/**
 * The application a `client_id` URL names, fetched when unknown or stale; undefined when the
 * client_id is not such a URL (the caller looks it up as usual). Throws an OAuthError
 * (`invalid_client`, or `temporarily_unavailable`) when it cannot be used.
 */
export async function resolveMetadataClient(ctx: OAuthContext, clientId: string): Promise<ClientRow | null | undefined> {
  if (!looksLikeMetadataUrl(clientId)) return undefined;
  const stored = await ctx.storage.clients.byId(clientId);
  if (stored !== null && stored.metadataDocument === null) return stored; // an ordinary application whose id looks like a URL (imported)
  if (stored !== null && stored.metadataDocument !== null && stored.metadataDocument.expiresAt > ctx.now()) return stored;
  const state = stateOf(ctx);
  const running = state.inFlight.get(clientId);
  if (running) return running;
  if (state.inFlight.size >= MAX_PARALLEL_FETCHES) throw temporarilyUnavailable('too many metadata documents are being fetched');
  const p = refresh(ctx, clientId, stored).finally(() => state.inFlight.delete(clientId));
  state.inFlight.set(clientId, p);
  return p;
}

async function refresh(ctx: OAuthContext, clientId: string, stored: ClientRow | null): Promise<ClientRow> {
  await admit(ctx, clientId);
  const now = ctx.now();
  let res: OutboundResponse;
  try {
    res = await ctx.outbound(clientId, {
      headers: { Accept: 'application/json', ...(stored?.metadataDocument?.etag ? { 'If-None-Match': stored.metadataDocument.etag } : {}) },
      timeoutMs: ctx.config.cimdTimeoutMs,
      maxBytes: ctx.config.cimdMaxBytes,
      ...(ctx.config.cimdInsecureLoopback ? { allowLoopback: true } : {}),
    });
  } catch (err) {
    throw fetchProblem(err);
  }
  const expiresAt = now + cacheSeconds(res.headers, ctx.config.cimdCacheMin, ctx.config.cimdCacheMax, now) * 1000;
  if (res.status === 304 && stored?.metadataDocument) {
    const updated = await ctx.storage.clients.update(clientId, { metadataDocument: { ...stored.metadataDocument, fetchedAt: now, expiresAt } }, now);
    return updated ?? stored;
  }
  if (res.status >= 300 && res.status < 400) throw new DocumentError(`its URL answered with a redirect (${res.status}), which is not followed`);
  if (res.status !== 200) throw new DocumentError(`its URL answered ${res.status}`);
  if (!isJson(res.headers['content-type'])) throw new DocumentError('it is not served as application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new DocumentError('it is not valid JSON');
  }
  const fields = readDocument(ctx, clientId, parsed);
  const etag = typeof res.headers['etag'] === 'string' && res.headers['etag'].length <= 200 ? res.headers['etag'] : null;
  const keepLogo = stored?.metadataDocument?.logoSource === fields.logoSource && stored.logoUri !== null;
  const logo = keepLogo || fields.logoSource === null ? null : await fetchLogo(ctx, fields.logoSource);
  const state: ClientMetadataState = { fetchedAt: now, expiresAt, etag, logoSource: fields.logoSource };
  const logoUri = keepLogo ? stored.logoUri : logo !== null ? logoUrl(ctx, clientId) : null;
  const row = await write(ctx, clientId, fields, state, logoUri, stored);
  if (logo !== null) await ctx.storage.clientMetadata.putLogo(clientId, logo);
  else if (!keepLogo) await ctx.storage.clientMetadata.deleteLogo(clientId);
  return row;
}

function rowFields(fields: DocumentFields) {
  return {
    name: fields.name,
    website: fields.website,
    redirectUris: fields.redirectUris,
    scopes: fields.scopes,
    grantTypes: fields.grantTypes,
    clientType: fields.authMethod === 'none' ? ('public' as const) : ('confidential' as const),
    postLogoutRedirectUris: fields.postLogoutRedirectUris,
    privateKeyJwt: fields.authMethod === 'private_key_jwt' ? { jwks: fields.jwks, jwksUri: fields.jwksUri } : null,
  };
}

async function write(ctx: OAuthContext, clientId: string, fields: DocumentFields, state: ClientMetadataState, logoUri: string | null, stored: ClientRow | null): Promise<ClientRow> {
  const now = ctx.now();
  if (stored !== null) {
    const updated = await ctx.storage.clients.update(clientId, { ...rowFields(fields), logoUri, metadataDocument: state }, now);
    if (updated === null) throw invalidClient('Unknown application');
    return updated;
  }
  const row: NewClient = {
    clientId,
    ...rowFields(fields),
    description: null,
    logoUri,
    orgId: null,
    ownerId: null,
    actsAsUserId: null,
    internal: false,
    active: true,
    secretHash: null,
    tokenFormat: 'opaque',
    accessTtl: ctx.config.accessTtl,
    refreshEnabled: true,
    refreshTtl: ctx.config.refreshTtl,
    refreshGraceSeconds: 0,
    registrationTokenHash: null,
    dynamic: false,
    oidc: DEFAULT_OIDC_SETTINGS,
    metadataDocument: state,
  };
  try {
    const created = await ctx.storage.clients.create(row, now);
    await ctx.audit.record('app.registered', {
      clientId,
      details: { name: created.name, type: created.clientType, grants: created.grantTypes, via: 'metadata document' },
    });
    return created;
  } catch (err) {
    // Another instance wrote it first: take its row, brought up to date with this fetch.
    const updated = await ctx.storage.clients.update(clientId, { ...rowFields(fields), logoUri, metadataDocument: state }, now).catch(() => null);
    if (updated === null) throw err;
    return updated;
  }
}
