/**
 * The standard claims of OpenID Connect Core §5.1, by the scope that releases them (§5.4), from
 * what the accounts (Tollgate's users, or the host's `accounts.claims`) say about a person.
 */
import type { OAuthContext } from '../../oauth/context.js';

export const PROFILE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
] as const;

export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  profile: PROFILE_CLAIMS,
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

const STANDARD = new Set(Object.values(CLAIMS_BY_SCOPE).flat());

/** Every claim name the discovery document lists (`claims_supported`). */
export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid', ...STANDARD];

/**
 * What may be said about the person for these scopes: each standard claim only with its scope,
 * `email_verified` always beside `email`, and claims outside the standard set as the accounts give
 * them for the granted scopes (a host's own claims). `sub` is the caller's.
 */
export async function scopedClaims(ctx: OAuthContext, userId: string, scopes: readonly string[]): Promise<Record<string, unknown>> {
  const released = new Set(scopes.flatMap((s) => CLAIMS_BY_SCOPE[s] ?? []));
  if (released.size === 0 && !ctx.accounts.richClaims) return {};
  // The accounts answer for `profile` and `email` together (Tollgate's API releases the email with
  // `profile`); the filter below keeps only what these scopes release.
  const raw = await ctx.accounts.claims(userId, [...new Set([...scopes, 'profile', 'email'])]);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null || name === 'sub') continue;
    if (STANDARD.has(name) ? released.has(name) : ctx.accounts.richClaims) out[name] = value;
  }
  if (released.has('email') && typeof out['email'] === 'string' && typeof out['email_verified'] !== 'boolean') out['email_verified'] = false;
  if (typeof out['updated_at'] === 'string') {
    const t = Date.parse(out['updated_at']);
    if (Number.isFinite(t)) out['updated_at'] = Math.floor(t / 1000);
  }
  return out;
}
