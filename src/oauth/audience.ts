/**
 * Audiences (T12, RFC 8707 resource indicators). A token is issued for one resource server:
 * the `resource` parameter picks it; without one, the resource server that owns all the requested
 * scopes, or else Tollgate's own API. A token for one resource server is refused by another.
 */
import type { OAuthContext } from './context.js';
import { defaultAudience } from './context.js';
import { invalidScope, invalidTarget } from './errors.js';

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
    if (resource !== own && !(await ctx.storage.resourceServers.byIdentifier(resource))) {
      throw invalidTarget('Unknown resource server');
    }
    for (const owner of owners) {
      if (owner !== null && owner !== resource) {
        throw invalidScope('A requested scope belongs to another resource server');
      }
    }
    return resource;
  }
  const named = [...owners].filter((o): o is string => o !== null);
  if (named.length === 1) return named[0] as string;
  if (named.length > 1) throw invalidScope('The requested scopes belong to several resource servers; send one `resource`');
  return own;
}
