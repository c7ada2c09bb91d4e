/**
 * A fetched Client ID Metadata Document, checked and turned into the application's fields
 * (draft-ietf-oauth-client-id-metadata-document §4; docs/client-id-metadata.md).
 *
 * Refused (the whole document): a `client_id` that is not exactly the URL it was fetched from;
 * no `client_name` or no `redirect_uris`; a symmetric authentication method, a `client_secret`,
 * or private key material (§4.1: such a document is public, so a secret in it is no secret).
 * Ignored: members Tollgate does not know, and grant types it will not give such a client (they
 * are dropped, not failed): without `private_key_jwt` only the redirect-based grants, because
 * with no redirect URI to bind it anyone could claim a trusted host's client_id.
 */
import type { OAuthContext } from '../../oauth/context.js';
import type { GrantType, PublicJwks } from '../../storage/types.js';
import { readPublicJwks } from '../../oauth/client-assertion.js';
import { assertRegistrableRedirectUri } from '../../oauth/redirect-uri.js';
import { OAuthError } from '../../oauth/errors.js';

const MAX_REDIRECT_URIS = 10;
/** The grants a client authenticated only by its redirect URI may hold. */
const REDIRECT_GRANTS: readonly string[] = ['authorization_code', 'refresh_token'];
const SYMMETRIC_METHODS = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt'];

/** What the document says, as the application's fields. */
export interface DocumentFields {
  readonly name: string;
  readonly website: string | null;
  readonly logoSource: string | null;
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly grantTypes: readonly GrantType[];
  /** `none` (public) or `private_key_jwt` (with `jwks` or `jwksUri`). */
  readonly authMethod: 'none' | 'private_key_jwt';
  readonly jwks: PublicJwks | null;
  readonly jwksUri: string | null;
  readonly postLogoutRedirectUris: readonly string[];
}

/** A document that cannot be used: the application is refused with this reason (never cached). */
export class DocumentError extends OAuthError {
  constructor(reason: string) {
    super('invalid_client', `The application's metadata document cannot be used: ${reason}`, 401);
    this.name = 'DocumentError';
  }
}

function optionalString(doc: Readonly<Record<string, unknown>>, name: string, max: number): string | null {
  const v = doc[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new DocumentError(`${name} must be a string`);
  if (v.length > max) throw new DocumentError(`${name} is longer than ${max} characters`);
  return v;
}

function stringList(doc: Readonly<Record<string, unknown>>, name: string): string[] | null {
  const v = doc[name];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new DocumentError(`${name} must be a list of strings`);
  return v as string[];
}

function httpsUrlOrNull(value: string | null): string | null {
  if (value === null) return null;
  try {
    return new URL(value).protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

/** Checks the parsed document fetched from `clientId`; throws DocumentError. */
export function readDocument(ctx: OAuthContext, clientId: string, doc: unknown): DocumentFields {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DocumentError('it is not a JSON object');
  const d = doc as Readonly<Record<string, unknown>>;
  // §4.1: exact string comparison, no normalisation.
  if (d['client_id'] !== clientId) throw new DocumentError('its client_id is not exactly the URL it was fetched from');
  const name = optionalString(d, 'client_name', 200)?.trim() ?? '';
  if (name === '') throw new DocumentError('client_name is required');

  const method = optionalString(d, 'token_endpoint_auth_method', 100) ?? 'none';
  if (SYMMETRIC_METHODS.includes(method)) throw new DocumentError(`token_endpoint_auth_method ${method} needs a shared secret, which a public document cannot hold`);
  if (method !== 'none' && method !== 'private_key_jwt') throw new DocumentError(`unsupported token_endpoint_auth_method "${method.slice(0, 40)}" (none or private_key_jwt)`);
  if ('client_secret' in d || 'client_secret_expires_at' in d) throw new DocumentError('it carries a client_secret, which a public document cannot keep secret');

  const jwksUri = optionalString(d, 'jwks_uri', 2000);
  const jwksRaw = d['jwks'];
  let jwks: PublicJwks | null = null;
  if (jwksRaw !== undefined && jwksRaw !== null) {
    try {
      jwks = readPublicJwks(jwksRaw);
    } catch (err) {
      throw new DocumentError((err as Error).message);
    }
  }
  if (method === 'private_key_jwt') {
    if ((jwks === null) === (jwksUri === null)) throw new DocumentError('private_key_jwt needs jwks or jwks_uri (one of them)');
    if (jwksUri !== null && httpsUrlOrNull(jwksUri) === null && !ctx.config.cimdInsecureLoopback) throw new DocumentError('jwks_uri must be an https URL');
  }

  const redirectUris = stringList(d, 'redirect_uris') ?? [];
  if (redirectUris.length === 0) throw new DocumentError('redirect_uris is required');
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new DocumentError(`at most ${MAX_REDIRECT_URIS} redirect_uris`);
  for (const uri of redirectUris) {
    try {
      assertRegistrableRedirectUri(uri);
    } catch (err) {
      throw new DocumentError(`redirect_uris: ${err instanceof OAuthError ? err.description : 'invalid'}`);
    }
  }

  // Grants: what the document asks, minus what such a client may not hold (dropped, not failed).
  const asked = stringList(d, 'grant_types') ?? ['authorization_code', 'refresh_token'];
  const known = ctx.features.clientGrantTypes();
  const allowedForKind = method === 'private_key_jwt' ? [...new Set([...REDIRECT_GRANTS, ...ctx.config.registrationGrantTypes])] : REDIRECT_GRANTS;
  const grantTypes = [...new Set(asked)].filter((g) => known.includes(g) && allowedForKind.includes(g)) as GrantType[];
  if (!grantTypes.includes('authorization_code')) {
    // Every such client signs people in through a redirect; a document asking only for others
    // is still refused, so that it cannot become a machine client by omission.
    if (method !== 'private_key_jwt' || grantTypes.length === 0) throw new DocumentError('it asks for no grant Tollgate gives such an application (authorization_code)');
  }

  // Scopes: those the document names that self-registered applications may hold; without a
  // `scope`, all of those (the person still approves each on the consent page).
  const askedScopes = optionalString(d, 'scope', 2000);
  const personScopes = ctx.features.personScopes;
  const allowed = ctx.config.registrationScopes;
  const scopes =
    askedScopes === null
      ? [...allowed]
      : [...new Set(askedScopes.split(' ').filter((s) => s !== '' && allowed.includes(s) && !personScopes.includes(s)))];

  const postLogout = (stringList(d, 'post_logout_redirect_uris') ?? []).filter((u) => {
    try {
      assertRegistrableRedirectUri(u);
      return true;
    } catch {
      return false;
    }
  });

  return {
    name,
    website: httpsUrlOrNull(optionalString(d, 'client_uri', 2000)),
    logoSource: httpsUrlOrNull(optionalString(d, 'logo_uri', 2000)) ?? (ctx.config.cimdInsecureLoopback ? optionalString(d, 'logo_uri', 2000) : null),
    redirectUris: [...new Set(redirectUris)],
    scopes: scopes.length > 0 ? scopes : [...ctx.config.registrationDefaultScope],
    grantTypes,
    authMethod: method,
    jwks,
    jwksUri,
    postLogoutRedirectUris: postLogout.slice(0, MAX_REDIRECT_URIS),
  };
}
