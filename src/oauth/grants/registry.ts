/**
 * Grants are registry entries (DESIGN.md habit 1): `{ type, parameters, handle }`. Built-in grants
 * register through the same `registerGrant()` an extension would use. The token endpoint drops
 * parameters a grant does not declare and refuses repeated ones.
 */
import type { ClientRow } from '../../storage/types.js';
import type { AuthMethod } from '../client-auth.js';
import type { OAuthContext } from '../context.js';
import type { Params } from '../params.js';
import type { TokenResponse } from '../tokens/issue.js';

export interface GrantRequest {
  readonly client: ClientRow;
  readonly authMethod: AuthMethod;
  /** Only the parameters the grant declared. */
  readonly params: Params;
  readonly ip: string | null;
}

export interface Grant {
  /** The `grant_type` value (RFC 6749 §4, or an absolute URI for extension grants). */
  readonly type: string;
  /** Parameters the grant reads, beyond grant_type and client authentication. */
  readonly parameters: readonly string[];
  /** Whether a public client may use this grant. */
  readonly publicClients: boolean;
  handle(ctx: OAuthContext, req: GrantRequest): Promise<TokenResponse>;
}

const grants = new Map<string, Grant>();

export function registerGrant(grant: Grant): void {
  grants.set(grant.type, grant);
}

export function findGrant(type: string): Grant | undefined {
  return grants.get(type);
}

export function grantTypes(): string[] {
  return [...grants.keys()];
}
