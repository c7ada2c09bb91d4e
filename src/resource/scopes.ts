/** Scope checks (RFC 6750 §3.1 `insufficient_scope`): all of a list, or any of it. */
import { InsufficientScopeError } from './errors.js';

export type ScopeMode = 'all' | 'any';

export interface RequireScopesOptions {
  /** `all` (default): every listed scope is needed; `any`: one of them is enough. */
  readonly mode?: ScopeMode | undefined;
  /** The `realm` of the challenge, if any. */
  readonly realm?: string | undefined;
}

/**
 * Throws `InsufficientScopeError` (403) unless `token.scopes` satisfies `required`. An empty
 * `required` list always passes (any valid token).
 */
export function requireScopes(token: { readonly scopes: readonly string[] }, required: readonly string[], opts: RequireScopesOptions = {}): void {
  if (required.length === 0) return;
  const mode = opts.mode ?? 'all';
  const ok = mode === 'any' ? required.some((s) => token.scopes.includes(s)) : required.every((s) => token.scopes.includes(s));
  if (ok) return;
  const description =
    mode === 'any' && required.length > 1
      ? `This endpoint requires one of the scopes: ${required.join(' ')}`
      : required.length > 1
        ? `This endpoint requires the scopes: ${required.join(' ')}`
        : `This endpoint requires the scope: ${required.join(' ')}`;
  throw new InsufficientScopeError(description, required, { realm: opts.realm });
}
