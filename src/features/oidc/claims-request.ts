/**
 * The `claims` authorization request parameter (OpenID Connect Core §5.5): a JSON object whose
 * `id_token` and `userinfo` members name individual claims (each `null` or an object with
 * `essential`, `value` or `values`).
 *
 * What Tollgate does with it: a claim asked for in `id_token` is put in the ID token, when the
 * granted scopes release it (the consent page speaks in scopes, so a claim outside them is never
 * released — §5.5 lets a server leave out a claim it will not give). `userinfo` requests change
 * nothing: UserInfo already answers every claim the scopes release. A `sub` with a `value` names
 * the person the request is for, like `id_token_hint` (§5.5.1). `essential` and `values` are
 * voluntary hints (§5.5.1) and are read but not acted on.
 */
import { invalidRequest } from '../../oauth/errors.js';

const MAX_LENGTH = 4096;
const MAX_CLAIMS = 50;

export interface ClaimsRequest {
  /** Claim names asked for in the ID token. */
  readonly idToken: readonly string[];
  /** The person named by `sub.value` (in either member), if any. */
  readonly subject: string | null;
}

function member(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`claims.${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Parses and checks `claims`; null when absent. Throws invalid_request for anything malformed. */
export function parseClaimsRequest(raw: string | undefined): ClaimsRequest | null {
  if (raw === undefined || raw === '') return null;
  if (raw.length > MAX_LENGTH) throw invalidRequest(`claims is too long (${MAX_LENGTH} max)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidRequest('claims must be a JSON object');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidRequest('claims must be a JSON object');
  const top = parsed as Record<string, unknown>;
  const idToken = member(top['id_token'], 'id_token');
  const userinfo = member(top['userinfo'], 'userinfo');
  let subject: string | null = null;
  for (const [where, claims] of [['id_token', idToken], ['userinfo', userinfo]] as const) {
    const names = Object.keys(claims);
    if (names.length > MAX_CLAIMS) throw invalidRequest(`claims.${where} names too many claims (${MAX_CLAIMS} max)`);
    for (const name of names) {
      const spec = claims[name];
      if (spec === null) continue;
      if (typeof spec !== 'object' || Array.isArray(spec)) throw invalidRequest(`claims.${where}.${name.slice(0, 64)} must be null or an object`);
      const s = spec as Record<string, unknown>;
      if (s['essential'] !== undefined && typeof s['essential'] !== 'boolean') throw invalidRequest(`claims.${where}.${name.slice(0, 64)}.essential must be true or false`);
      if (s['values'] !== undefined && !Array.isArray(s['values'])) throw invalidRequest(`claims.${where}.${name.slice(0, 64)}.values must be an array`);
      if (name === 'sub' && s['value'] !== undefined) {
        if (typeof s['value'] !== 'string' || s['value'] === '') throw invalidRequest('claims sub.value must be a string');
        if (subject !== null && subject !== s['value']) throw invalidRequest('claims names two different sub values');
        subject = s['value'];
      }
    }
  }
  return { idToken: Object.keys(idToken), subject };
}
