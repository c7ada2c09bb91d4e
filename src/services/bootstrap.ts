/**
 * First start (issue #2 §4): on an empty database, create a signing key, the scopes `profile`,
 * `email` and `admin`, and an admin user whose password comes from TOLLGATE_ADMIN_PASSWORD or
 * is generated and printed once.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { algForKey, keyRowFromPrivateKey } from '../oauth/tokens/keys.js';
import { rotateSigningKey } from './keys.js';
import type { OAuthContext } from '../oauth/context.js';
import { createScope, createUser } from './directory.js';

export interface BootstrapResult {
  readonly keyCreated: boolean;
  readonly scopesCreated: readonly string[];
  /** Set when the admin user was created. `generatedPassword` only when it was generated. */
  readonly admin: { readonly email: string; readonly generatedPassword: string | null } | null;
  /** Problems worth a clear warning at start (e.g. a configured key file that is missing). */
  readonly warnings: readonly string[];
}

export const BUILTIN_SCOPES = [
  { name: 'profile', description: 'See your basic profile (your user id and email address)' },
  { name: 'email', description: 'See your email address' },
  { name: 'admin', description: 'Administer Tollgate: manage applications, users and keys' },
  { name: 'login', description: 'Answer sign-in requests for the platform (delegated login; applications only, given by an administrator)' },
] as const;

/**
 * T8: a configured key file becomes the signing key (the previous key stays published until its
 * tokens expire). A missing or unusable file is a clear warning, and Tollgate signs with the key
 * it keeps in its database instead.
 */
async function importKeyFile(ctx: OAuthContext, file: string): Promise<string | null> {
  if (!existsSync(file)) {
    return `TOLLGATE_SIGNING_KEY_FILE: ${file} does not exist; signing with the key kept in the database instead`;
  }
  let key;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (err) {
    return `TOLLGATE_SIGNING_KEY_FILE: ${file} is not a PEM private key (${(err as Error).message}); signing with the key kept in the database instead`;
  }
  const alg = algForKey(key);
  if (alg === null) {
    return `TOLLGATE_SIGNING_KEY_FILE: ${file} must hold a P-256, RSA (2048 bits or more) or Ed25519 key; signing with the key kept in the database instead`;
  }
  const { kid } = await keyRowFromPrivateKey(key, alg, ctx.now());
  const known = (await ctx.storage.keys.listAll()).find((k) => k.kid === kid);
  if (known && known.retiredAt !== null) {
    return `TOLLGATE_SIGNING_KEY_FILE: the key in ${file} was used before and retired; generate a new one`;
  }
  if (!known) await rotateSigningKey(ctx, alg, {}, key);
  ctx.keys.useForAccessTokens(alg);
  return null;
}

export async function bootstrap(ctx: OAuthContext): Promise<BootstrapResult> {
  const keyCreated = await ctx.keys.ensureKey(ctx.features.keyAlgs());
  const warnings: string[] = [];
  if (ctx.config.signingKeyFile !== null) {
    const warning = await importKeyFile(ctx, ctx.config.signingKeyFile);
    if (warning) warnings.push(warning);
  }
  if (ctx.config.cimdInsecureLoopback) {
    warnings.push('TOLLGATE_CIMD_INSECURE_LOOPBACK=true: Client ID Metadata Documents on http://localhost and http://127.0.0.1 are accepted (development and tests only)');
  }
  if (ctx.config.outboundInsecureLoopback) {
    warnings.push('TOLLGATE_OUTBOUND_INSECURE_LOOPBACK=true: Tollgate will call loopback URLs that applications register (development and tests only)');
  }
  const scopesCreated: string[] = [];
  // The kernel's scopes, then those the instance's features let anyone ask for (OpenID Connect's).
  for (const s of [...BUILTIN_SCOPES, ...ctx.features.personScopeList]) {
    if (!(await ctx.storage.scopes.byName(s.name))) {
      await createScope(ctx, { name: s.name, description: s.description, isDefault: s.name === 'profile' });
      scopesCreated.push(s.name);
    }
  }
  for (const rs of await ctx.storage.resourceServers.list()) {
    if (rs.introspectors === null) {
      warnings.push(
        `resource server ${rs.identifier} lets any confidential application introspect its tokens (registered before introspectors existed); ` +
          `name its own with: tollgate resource-servers update ${rs.identifier} --introspector <client_id>`,
      );
    }
  }
  let admin: BootstrapResult['admin'] = null;
  // With the host's or the platform's login there are no passwords here: administrators are the
  // people the host marks as such (embedded) or TOLLGATE_ADMIN_SUBJECTS (delegated).
  if (ctx.loginMode !== 'builtin') return { keyCreated, scopesCreated, admin, warnings };
  const anyAdmin = await ctx.storage.users.anyAdmin();
  if (!anyAdmin && !(await ctx.storage.users.byEmail(ctx.config.adminEmail))) {
    const generated = ctx.config.adminPassword === null ? randomBytes(15).toString('base64url') : null;
    await createUser(ctx, { email: ctx.config.adminEmail, password: ctx.config.adminPassword ?? (generated as string), isAdmin: true });
    admin = { email: ctx.config.adminEmail, generatedPassword: generated };
  }
  return { keyCreated, scopesCreated, admin, warnings };
}
