/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document an API publishes so that a
 * client holding no token yet (an MCP client, say) learns which authorization server issues
 * tokens for it and which scopes it knows. Served at the well-known path inserted before the
 * resource's own path (§3.1), named in every challenge (`resource_metadata`, §5.1), readable
 * from any origin (it is public by design).
 */

export interface ResourceMetadataOptions {
  /**
   * The resource identifier (§2 `resource`): the URL this API is served at. Default: the
   * verifier's first audience, which must then be such a URL.
   */
  readonly resource?: string | undefined;
  /** `scopes_supported`: the scopes this API understands (recommended). */
  readonly scopesSupported?: readonly string[] | undefined;
  /** `resource_name`: a human-readable name. */
  readonly resourceName?: string | undefined;
  /** `resource_documentation`: a page for developers. */
  readonly resourceDocumentation?: string | undefined;
}

export interface ResourceMetadata {
  /** Where the document is served (absolute). */
  readonly url: string;
  /** Its path on the resource's host: `/.well-known/oauth-protected-resource` + the resource's path. */
  readonly path: string;
  readonly document: Readonly<Record<string, unknown>>;
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** §3.1: the well-known path goes between the host and the resource identifier's path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const u = new URL(resource);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${WELL_KNOWN}${path}${u.search}`;
}

function checkedResource(resource: string): string {
  let u: URL;
  try {
    u = new URL(resource);
  } catch {
    throw new TypeError(`createVerifier: resourceMetadata.resource must be an absolute URL, got "${resource}" (set it, or make the first audience the API's URL)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`createVerifier: resourceMetadata.resource must be an http(s) URL, got "${resource}"`);
  // §2: a resource identifier has no fragment.
  if (u.hash !== '' || resource.includes('#')) throw new TypeError(`createVerifier: resourceMetadata.resource must not have a fragment, got "${resource}"`);
  return resource;
}

export function buildResourceMetadata(issuer: string, audience: readonly string[], opts: ResourceMetadataOptions): ResourceMetadata {
  const resource = checkedResource(opts.resource ?? audience[0] ?? '');
  const url = protectedResourceMetadataUrl(resource);
  const document: Record<string, unknown> = {
    resource,
    authorization_servers: [issuer],
    // §2: tokens are only read from the Authorization header (RFC 6750 §2.1).
    bearer_methods_supported: ['header'],
    ...(opts.scopesSupported !== undefined ? { scopes_supported: [...opts.scopesSupported] } : {}),
    ...(opts.resourceName !== undefined ? { resource_name: opts.resourceName } : {}),
    ...(opts.resourceDocumentation !== undefined ? { resource_documentation: opts.resourceDocumentation } : {}),
  };
  return { url, path: new URL(url).pathname + new URL(url).search, document };
}

/** The response for a GET of the metadata document, in any framework. */
export function resourceMetadataResponse(metadata: ResourceMetadata): { readonly status: 200; readonly headers: Readonly<Record<string, string>>; readonly body: Readonly<Record<string, unknown>> } {
  return {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'public, max-age=300',
      // Public by design, and fetched by browser-based clients: any origin, never credentials.
      'access-control-allow-origin': '*',
    },
    body: metadata.document,
  };
}

/** The answer to a CORS preflight of the metadata document (a client sending `MCP-Protocol-Version`). */
export const RESOURCE_METADATA_PREFLIGHT: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET',
  'access-control-allow-headers': 'MCP-Protocol-Version, Content-Type',
  'access-control-max-age': '600',
};
