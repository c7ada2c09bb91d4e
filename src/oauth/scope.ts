/**
 * Scopes (RFC 6749 §3.3): space-delimited, case-sensitive strings of NQCHAR
 *   scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
 */
import { invalidRequest, invalidScope } from './errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Parses a scope parameter into unique tokens (order kept). */
export function parseScope(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const parts = raw.split(' ').filter((s) => s.length > 0);
  for (const p of parts) {
    if (!SCOPE_TOKEN.test(p)) throw invalidScope(`Malformed scope "${p.slice(0, 64)}"`);
  }
  return [...new Set(parts)];
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(' ');
}

export function assertValidScopeName(name: string): void {
  if (!SCOPE_TOKEN.test(name) || name.length > 128) {
    throw invalidRequest(`Invalid scope name "${name.slice(0, 64)}": use printable ASCII without spaces, quotes or backslashes`);
  }
}

/**
 * Scopes an application may only hold for itself, through client credentials, never for a person:
 * `login` answers the delegated-login requests of the admin API (issue #11).
 */
export const APPLICATION_ONLY_SCOPES: readonly string[] = ['login'];

/**
 * The scopes to grant: what was asked (or, if nothing was asked, everything the client may have),
 * refused with invalid_scope when any asked scope is not allowed. For a grant that acts for a
 * person (`forPerson`), application-only scopes are never granted: left out of the default, and
 * refused when asked.
 */
export function resolveScopes(requested: readonly string[], allowed: readonly string[], opts: { readonly forPerson?: boolean } = {}): string[] {
  const usable = opts.forPerson ? allowed.filter((s) => !APPLICATION_ONLY_SCOPES.includes(s)) : allowed;
  if (requested.length === 0) return [...usable];
  const bad = requested.filter((s) => !usable.includes(s));
  if (bad.length > 0) throw invalidScope(`Scope not allowed for this client: ${bad.join(' ')}`);
  return [...requested];
}

export function isSubset(a: readonly string[], b: readonly string[]): boolean {
  return a.every((s) => b.includes(s));
}
