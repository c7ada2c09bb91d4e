/**
 * Users, organizations, scopes and resource servers (U1, T12): the management operations shared
 * by the CLI, the admin REST API and first start.
 */
import type { MembershipRole, OrganizationRow, ResourceServerRow, ScopeRow, UserRow } from '../storage/types.js';
import type { OAuthContext } from '../oauth/context.js';
import { invalidRequest } from '../oauth/errors.js';
import { randomId, sidOf } from '../oauth/crypto.js';
import { assertValidScopeName } from '../oauth/scope.js';
import { MIN_PASSWORD_LENGTH, hashPassword } from '../accounts/passwords.js';
import { SUPPORTED_LOCALES, isLocale } from '../i18n/locales.js';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export async function createUser(
  ctx: OAuthContext,
  input: {
    email: string;
    password: string;
    isAdmin?: boolean;
    orgName?: string | null;
    role?: MembershipRole;
    /** OpenID Connect profile claims (issue #12): `name`, `given_name`, `family_name`. */
    name?: string | null;
    givenName?: string | null;
    familyName?: string | null;
    /** Whether the email is known to belong to the person (`email_verified`). */
    emailVerified?: boolean;
  },
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<UserRow & { readonly email: string }> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) throw invalidRequest(`Not an email address: "${input.email}"`);
  if (input.password.length < MIN_PASSWORD_LENGTH) throw invalidRequest(`The password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (input.password.length > 1024) throw invalidRequest('The password is too long (1024 max)');
  if (await ctx.storage.users.byEmail(email)) throw invalidRequest(`A user with the email ${email} already exists`);
  const org = input.orgName ? await requireOrg(ctx, input.orgName) : null;
  const { profile } = profileWith(ctx, {}, input);
  const user: UserRow & { readonly email: string } = {
    id: randomId(),
    email,
    passwordHash: await hashPassword(input.password),
    isAdmin: input.isAdmin === true,
    disabled: false,
    failedLogins: 0,
    lockedUntil: null,
    createdAt: ctx.now(),
    external: false,
    profile: Object.keys(profile).length > 0 ? profile : null,
  };
  await ctx.storage.users.create(user);
  if (org) await ctx.storage.users.addMembership({ userId: user.id, orgId: org.id, role: input.role ?? 'member' });
  await ctx.audit.record('user.created', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { userId: user.id, admin: user.isAdmin } });
  return user;
}

export async function requireUserByEmail(ctx: OAuthContext, email: string): Promise<UserRow> {
  const u = await ctx.storage.users.byEmail(email.trim());
  if (!u) throw invalidRequest(`No user with the email ${email}`);
  return u;
}

export async function createOrg(ctx: OAuthContext, name: string, opts: { actorUserId?: string | null; ip?: string | null } = {}): Promise<OrganizationRow> {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > 200) throw invalidRequest('An organization name must be 1 to 200 characters');
  if (await ctx.storage.organizations.byName(clean)) throw invalidRequest(`The organization "${clean}" already exists`);
  const org: OrganizationRow = { id: randomId(), name: clean, createdAt: ctx.now() };
  await ctx.storage.organizations.create(org);
  await ctx.audit.record('org.created', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { orgId: org.id, name: clean } });
  return org;
}

/** An organization by name or id. */
export async function requireOrg(ctx: OAuthContext, nameOrId: string): Promise<OrganizationRow> {
  const org = (await ctx.storage.organizations.byName(nameOrId.trim())) ?? (await ctx.storage.organizations.byId(nameOrId));
  if (!org) throw invalidRequest(`No organization named "${nameOrId}"`);
  return org;
}

const MAX_DESCRIPTION = 1000;

/**
 * Per-locale descriptions as given (CLI, admin API): each locale must be one Tollgate ships
 * (src/i18n/locales.ts); values are trimmed, and an empty one means "none for that locale".
 */
export function scopeDescriptions(input: Readonly<Record<string, string>>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [rawLocale, rawText] of Object.entries(input)) {
    const locale = rawLocale.trim().toLowerCase();
    if (!isLocale(locale)) {
      // Echo the locale only when it is plain ASCII (error descriptions travel in headers too).
      const named = /^[A-Za-z0-9-]{1,35}$/.test(rawLocale) ? ` "${rawLocale}"` : '';
      throw invalidRequest(`Unknown locale${named} for a scope description; shipped: ${SUPPORTED_LOCALES.join(', ')}`);
    }
    if (typeof rawText !== 'string') throw invalidRequest(`The ${locale} description must be a string`);
    const text = rawText.trim();
    if (text.length > MAX_DESCRIPTION || /[\x00-\x1f\x7f]/.test(text)) throw invalidRequest(`The ${locale} description must be at most ${MAX_DESCRIPTION} printable characters`);
    out[locale] = text === '' ? null : text;
  }
  return out;
}

/** `base` with `changes` applied: a null change removes that locale. */
function mergeDescriptions(base: Readonly<Record<string, string>>, changes: Readonly<Record<string, string | null>>): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const [locale, text] of Object.entries(changes)) {
    if (text === null) delete out[locale];
    else out[locale] = text;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Creates a scope, or replaces the one with this name. `descriptions` (by locale) replaces the
 * scope's per-locale descriptions when given; without it, an existing scope keeps its own.
 */
/**
 * The public view of a scope, the same for the admin API and the CLI (issue #16 §2: the two had
 * drifted apart, `is_default` against `default`).
 */
export function scopeView(s: ScopeRow): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    descriptions: s.descriptions,
    resource_server: s.resourceServer,
    is_default: s.isDefault,
    created_at: new Date(s.createdAt).toISOString(),
  };
}

export async function createScope(
  ctx: OAuthContext,
  input: { name: string; description: string; resourceServer?: string | null; isDefault?: boolean; descriptions?: Readonly<Record<string, string>> },
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<ScopeRow> {
  assertValidScopeName(input.name);
  if (input.resourceServer && !(await ctx.storage.resourceServers.byIdentifier(input.resourceServer))) {
    throw invalidRequest(`No resource server with the identifier ${input.resourceServer}`);
  }
  const descriptions = input.descriptions === undefined ? undefined : mergeDescriptions({}, scopeDescriptions(input.descriptions));
  const existing = await ctx.storage.scopes.byName(input.name);
  const scope: ScopeRow = {
    name: input.name,
    description: input.description.trim() || input.name,
    resourceServer: input.resourceServer ?? null,
    isDefault: input.isDefault === true,
    createdAt: existing?.createdAt ?? ctx.now(),
    descriptions: descriptions ?? existing?.descriptions ?? {},
  };
  await ctx.storage.scopes.upsert(scope);
  if (!existing) await ctx.audit.record('scope.created', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { scope: scope.name } });
  return scope;
}

/**
 * Changes some of an existing scope's fields; `descriptions` sets the locales given (an empty
 * text removes that locale's) and leaves the others.
 */
export async function updateScope(
  ctx: OAuthContext,
  name: string,
  patch: { description?: string; resourceServer?: string | null; isDefault?: boolean; descriptions?: Readonly<Record<string, string>> },
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<ScopeRow | null> {
  const existing = await ctx.storage.scopes.byName(name);
  if (!existing) return null;
  if (patch.resourceServer && !(await ctx.storage.resourceServers.byIdentifier(patch.resourceServer))) {
    throw invalidRequest(`No resource server with the identifier ${patch.resourceServer}`);
  }
  const scope: ScopeRow = {
    ...existing,
    ...(patch.description !== undefined ? { description: patch.description.trim() || name } : {}),
    ...(patch.resourceServer !== undefined ? { resourceServer: patch.resourceServer } : {}),
    ...(patch.isDefault !== undefined ? { isDefault: patch.isDefault } : {}),
    descriptions: patch.descriptions === undefined ? existing.descriptions : mergeDescriptions(existing.descriptions, scopeDescriptions(patch.descriptions)),
  };
  await ctx.storage.scopes.upsert(scope);
  await ctx.audit.record('scope.updated', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { scope: name } });
  return scope;
}

/** The applications named as a resource server's introspectors: confidential applications that exist. */
async function validIntrospectors(ctx: OAuthContext, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  for (const id of unique) {
    const c = await ctx.storage.clients.byId(id);
    if (!c) throw invalidRequest(`No application with the client_id ${id}`);
    if (c.clientType === 'public') throw invalidRequest(`${id} is a public application: it cannot introspect`);
  }
  return unique;
}

/**
 * Issue #15 §6: who may introspect tokens issued for this resource server (its own application,
 * typically the one `tollgate/resource` introspects with). Replaces the list.
 */
export async function setIntrospectors(
  ctx: OAuthContext,
  identifier: string,
  introspectors: readonly string[],
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<ResourceServerRow | null> {
  const list = await validIntrospectors(ctx, introspectors);
  if (!(await ctx.storage.resourceServers.setIntrospectors(identifier, list))) return null;
  await ctx.audit.record('resource_server.updated', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { identifier, introspectors: list } });
  return ctx.storage.resourceServers.byIdentifier(identifier);
}

export async function createResourceServer(
  ctx: OAuthContext,
  input: { identifier: string; name: string; scopes?: ReadonlyArray<{ name: string; description: string }>; introspectors?: readonly string[] },
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<ResourceServerRow> {
  let u: URL;
  try {
    u = new URL(input.identifier);
  } catch {
    throw invalidRequest('A resource server identifier must be an absolute URI (RFC 8707)');
  }
  void u;
  if (input.identifier.includes('#')) throw invalidRequest('A resource server identifier must not contain a fragment');
  if (await ctx.storage.resourceServers.byIdentifier(input.identifier)) {
    throw invalidRequest(`The resource server ${input.identifier} already exists`);
  }
  const rs: ResourceServerRow = {
    identifier: input.identifier,
    name: input.name.trim() || input.identifier,
    createdAt: ctx.now(),
    // Nobody but the token's own application introspects until an administrator names who may.
    introspectors: await validIntrospectors(ctx, input.introspectors ?? []),
  };
  await ctx.storage.resourceServers.create(rs);
  for (const s of input.scopes ?? []) {
    await createScope(ctx, { name: s.name, description: s.description, resourceServer: rs.identifier }, opts);
  }
  await ctx.audit.record('resource_server.created', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { identifier: rs.identifier } });
  return rs;
}

/**
 * U1: disables or re-enables a user, grants or removes administrator rights — the one way, used by
 * the admin pages, the admin API and the CLI. Disabling ends their sessions and revokes every
 * token and outstanding code they have (a later re-enable brings none of them back); enabling
 * also lifts a login lockout. Returns the updated user, or null when there is no such user.
 */
export async function updateUser(
  ctx: OAuthContext,
  userId: string,
  patch: { readonly disabled?: boolean | undefined; readonly isAdmin?: boolean | undefined },
  opts: { actorUserId?: string | null; ip?: string | null; via?: string } = {},
): Promise<UserRow | null> {
  const changes = {
    ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
    ...(patch.isAdmin !== undefined ? { isAdmin: patch.isAdmin } : {}),
  };
  if (!(await ctx.storage.users.update(userId, changes))) return null;
  if (Object.keys(changes).length === 0) return ctx.storage.users.byId(userId);
  let revoked = 0;
  if (patch.disabled === true) {
    ctx.features.sessionsEnded(ctx, { sids: (await ctx.storage.sessions.deleteByUser(userId)).map(sidOf) });
    await ctx.storage.codes.deleteByUser(userId);
    revoked = await ctx.storage.tokens.revokeByUser(userId, ctx.now());
  } else if (patch.disabled === false) {
    await ctx.storage.users.resetLoginFailures(userId);
    await ctx.storage.users.setLockedUntil(userId, null);
  }
  await ctx.audit.record('user.updated', {
    actorUserId: opts.actorUserId ?? null,
    ip: opts.ip ?? null,
    details: { userId, ...changes, ...(patch.disabled === true ? { tokensRevoked: revoked } : {}), ...(opts.via ? { via: opts.via } : {}) },
  });
  return ctx.storage.users.byId(userId);
}

export interface ProfileInput {
  /** OpenID Connect `name`, `given_name`, `family_name`: a value sets it, "" or null removes it. */
  readonly name?: string | null | undefined;
  readonly givenName?: string | null | undefined;
  readonly familyName?: string | null | undefined;
  /** Whether the email is known to belong to the person (`email_verified`). */
  readonly emailVerified?: boolean | undefined;
}

/** `current` profile claims with `input`'s changes (validated); `updated_at` moves when anything changed. */
function profileWith(ctx: OAuthContext, current: Readonly<Record<string, unknown>>, input: ProfileInput): { profile: Record<string, unknown>; changed: boolean } {
  const profile: Record<string, unknown> = { ...current };
  let changed = false;
  for (const [claim, value] of [['name', input.name], ['given_name', input.givenName], ['family_name', input.familyName]] as const) {
    if (value === undefined) continue;
    if (value !== null && value.length > 200) throw invalidRequest(`The ${claim.replace('_', ' ')} is too long (200 max)`);
    const next = value === null || value.trim() === '' ? undefined : value.trim();
    if (profile[claim] === next) continue;
    changed = true;
    if (next === undefined) delete profile[claim];
    else profile[claim] = next;
  }
  if (input.emailVerified !== undefined && profile['email_verified'] !== input.emailVerified) {
    profile['email_verified'] = input.emailVerified;
    changed = true;
  }
  if (changed) profile['updated_at'] = Math.floor(ctx.now() / 1000);
  return { profile, changed };
}

/** Changes a built-in user's name claims or `email_verified` (the admin pages, API and CLI). */
export async function setUserProfile(ctx: OAuthContext, userId: string, input: ProfileInput, opts: { actorUserId?: string | null; ip?: string | null; via?: string } = {}): Promise<UserRow | null> {
  const user = await ctx.storage.users.byId(userId);
  if (!user) return null;
  if (user.external) throw invalidRequest('This person comes from the platform: their name is the platform\'s to change');
  const { profile, changed } = profileWith(ctx, user.profile ?? {}, input);
  if (!changed) return user;
  await ctx.storage.users.update(userId, { profile: Object.keys(profile).length > 0 ? profile : null });
  await ctx.audit.record('user.updated', {
    actorUserId: opts.actorUserId ?? null,
    ip: opts.ip ?? null,
    details: { userId, profile: Object.keys(input).filter((k) => input[k as keyof ProfileInput] !== undefined), ...(opts.via ? { via: opts.via } : {}) },
  });
  return ctx.storage.users.byId(userId);
}

/** "Sign out everywhere": every Tollgate session of this person ends; their applications keep their tokens. */
export async function endAllSessions(ctx: OAuthContext, userId: string, opts: { ip?: string | null } = {}): Promise<void> {
  ctx.features.sessionsEnded(ctx, { sids: (await ctx.storage.sessions.deleteByUser(userId)).map(sidOf) });
  await ctx.audit.record('session.ended', { actorUserId: userId, ip: opts.ip ?? null, details: { scope: 'everywhere' } });
}

/**
 * Signs a person out everywhere and revokes everything: every Tollgate session, outstanding code and token of theirs ends
 * at once (issue #15 §8; the host's `revokeSubject`). Returns how many tokens were revoked.
 */
export async function revokeSubjectEverywhere(ctx: OAuthContext, userId: string, opts: { actorUserId?: string | null; ip?: string | null; via?: string } = {}): Promise<number> {
  ctx.features.sessionsEnded(ctx, { sids: (await ctx.storage.sessions.deleteByUser(userId)).map(sidOf) });
  await ctx.storage.codes.deleteByUser(userId);
  const revoked = await ctx.storage.tokens.revokeByUser(userId, ctx.now());
  await ctx.audit.record('subject.revoked', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { userId, tokensRevoked: revoked, ...(opts.via ? { via: opts.via } : {}) } });
  return revoked;
}

export function userView(u: UserRow): Record<string, unknown> {
  return {
    id: u.id,
    email: u.email,
    name: typeof u.profile?.['name'] === 'string' ? u.profile['name'] : null,
    given_name: typeof u.profile?.['given_name'] === 'string' ? u.profile['given_name'] : null,
    family_name: typeof u.profile?.['family_name'] === 'string' ? u.profile['family_name'] : null,
    email_verified: u.profile?.['email_verified'] === true,
    is_admin: u.isAdmin,
    disabled: u.disabled,
    created_at: new Date(u.createdAt).toISOString(),
  };
}

/** Adds a user to an organization, or changes their role there (U1). */
export async function addMember(
  ctx: OAuthContext,
  input: { userId: string; orgId: string; role: MembershipRole },
  opts: { actorUserId?: string | null; ip?: string | null } = {},
): Promise<void> {
  if (!(await ctx.storage.users.byId(input.userId))) throw invalidRequest('No such user');
  if (!(await ctx.storage.organizations.byId(input.orgId))) throw invalidRequest('No such organization');
  await ctx.storage.users.addMembership({ userId: input.userId, orgId: input.orgId, role: input.role });
  await ctx.audit.record('user.updated', {
    actorUserId: opts.actorUserId ?? null,
    ip: opts.ip ?? null,
    details: { userId: input.userId, orgId: input.orgId, role: input.role },
  });
}
