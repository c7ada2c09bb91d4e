/**
 * Audiences (T12, RFC 8707 resource indicators). A token is issued for one resource server:
 * the `resource` parameter picks it; without one, the resource server that owns all the requested
 * scopes, or else Tollgate's own API. A token for one resource server is refused by another.
 */
import type { OAuthContext } from './context.js';
import { defaultAudience } from './context.js';
import { invalidScope, invalidTarget } from './errors.js';

/**
 * The form two resource indicators are compared in (issue #13 item 6, as MCP allows): scheme and
 * host in lower case, the scheme's default port dropped — and nothing more. The path and query
 * stay exactly as written: no dot-segment resolution, no percent-decoding, and a trailing slash
 * is a different resource. Null for what is not an absolute http(s) URI.
 */
export function normalizeResource(resource: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/.exec(resource);
  if (!m) return null;
  let u: URL;
  try {
    u = new URL(`${m[1] ?? ''}://${m[2] ?? ''}`);
  } catch {
    return null;
  }
  if (u.username !== '' || u.password !== '') return null;
  return `${u.protocol}//${u.host}${m[3] ?? ''}`;
}

/** The registered identifier `resource` names (exactly, or after normalisation), or null. */
async function registeredResource(ctx: OAuthContext, resource: string, own: string): Promise<string | null> {
  if (resource === own || (await ctx.storage.resourceServers.byIdentifier(resource))) return resource;
  const wanted = normalizeResource(resource);
  if (wanted === null) return null;
  if (normalizeResource(own) === wanted) return own;
  // Resource servers are few and cached: a scan of the list, only when the exact form missed.
  const match = (await ctx.storage.resourceServers.list()).find((rs) => normalizeResource(rs.identifier) === wanted);
  return match?.identifier ?? null;
}

export async function resolveAudience(
  ctx: OAuthContext,
  resource: string | undefined,
  scopes: readonly string[],
): Promise<string> {
  const own = defaultAudience(ctx.config);
  const scopeRows = await Promise.all(scopes.map((s) => ctx.storage.scopes.byName(s)));
  const owners = new Set(scopeRows.map((r) => r?.resourceServer ?? null));
  if (resource !== undefined) {
    // RFC 8707 §2: "an absolute URI … MUST NOT include a fragment component"
    let u: URL;
    try {
      u = new URL(resource);
    } catch {
      throw invalidTarget('resource must be an absolute URI');
    }
    if (resource.includes('#') || !u.protocol) throw invalidTarget('resource must not contain a fragment');
    // Tokens carry the identifier as registered, whatever case or default port the client wrote.
    const registered = await registeredResource(ctx, resource, own);
    if (registered === null) throw invalidTarget('Unknown resource server');
    for (const owner of owners) {
      if (owner !== null && owner !== registered) {
        throw invalidScope('A requested scope belongs to another resource server');
      }
    }
    return registered;
  }
  const named = [...owners].filter((o): o is string => o !== null);
  if (named.length === 1) return named[0] as string;
  if (named.length > 1) throw invalidScope('The requested scopes belong to several resource servers; send one `resource`');
  return own;
}
