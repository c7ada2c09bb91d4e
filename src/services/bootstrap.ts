/**
 * First start (issue #2 §4): on an empty database, create a signing key, the scopes `profile`,
 * `email` and `admin`, and an admin user whose password comes from TOLLGATE_ADMIN_PASSWORD or
 * is generated and printed once.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthContext } from '../oauth/context.js';
import { createScope, createUser } from './directory.js';

export interface BootstrapResult {
  readonly keyCreated: boolean;
  readonly scopesCreated: readonly string[];
  /** Set when the admin user was created. `generatedPassword` only when it was generated. */
  readonly admin: { readonly email: string; readonly generatedPassword: string | null } | null;
}

export const BUILTIN_SCOPES = [
  { name: 'profile', description: 'See your basic profile (your user id and email address)' },
  { name: 'email', description: 'See your email address' },
  { name: 'admin', description: 'Administer Tollgate: manage applications, users and keys' },
] as const;

export async function bootstrap(ctx: OAuthContext): Promise<BootstrapResult> {
  const keyCreated = await ctx.keys.ensureKey();
  const scopesCreated: string[] = [];
  for (const s of BUILTIN_SCOPES) {
    if (!(await ctx.storage.scopes.byName(s.name))) {
      await createScope(ctx, { name: s.name, description: s.description, isDefault: s.name === 'profile' });
      scopesCreated.push(s.name);
    }
  }
  let admin: BootstrapResult['admin'] = null;
  const anyAdmin = (await ctx.storage.users.list()).some((u) => u.isAdmin);
  if (!anyAdmin && !(await ctx.storage.users.byEmail(ctx.config.adminEmail))) {
    const generated = ctx.config.adminPassword === null ? randomBytes(15).toString('base64url') : null;
    await createUser(ctx, { email: ctx.config.adminEmail, password: ctx.config.adminPassword ?? (generated as string), isAdmin: true });
    admin = { email: ctx.config.adminEmail, generatedPassword: generated };
  }
  return { keyCreated, scopesCreated, admin };
}
