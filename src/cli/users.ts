/** `tollgate users …`: create, list, disable, enable (U1). */
import { Command, Option } from 'commander';
import type { OAuthContext } from '../oauth/context.js';
import { createUser, requireUserByEmail, setUserProfile, updateUser, userView } from '../services/directory.js';
import type { MembershipRole, UserRow } from '../storage/types.js';
import { action, CliError, emit, formatRecord, formatTable, pagedTable, pageQuery, readStdin, withJson, withPageOptions, withRuntime, type JsonOption, type PageOptions } from './shared.js';

interface CreateOptions extends JsonOption {
  email: string;
  password: string;
  admin?: boolean;
  org?: string;
  role?: MembershipRole;
  name?: string;
  givenName?: string;
  familyName?: string;
  emailVerified?: boolean;
}

async function organizations(ctx: OAuthContext, u: UserRow): Promise<Array<{ id: string; name: string; role: MembershipRole }>> {
  const out: Array<{ id: string; name: string; role: MembershipRole }> = [];
  for (const m of await ctx.storage.users.memberships(u.id)) {
    const org = await ctx.storage.organizations.byId(m.orgId);
    out.push({ id: m.orgId, name: org?.name ?? m.orgId, role: m.role });
  }
  return out;
}

async function fullView(ctx: OAuthContext, u: UserRow): Promise<Record<string, unknown>> {
  return { ...userView(u), organizations: await organizations(ctx, u) };
}

function humanUser(view: Record<string, unknown>): string {
  const orgs = (view['organizations'] as Array<{ name: string; role: string }> | undefined) ?? [];
  return formatRecord({ ...view, organizations: orgs.map((o) => `${o.name} (${o.role})`) });
}

async function create(opts: CreateOptions): Promise<void> {
  if (opts.role !== undefined && opts.org === undefined) throw new CliError('--role needs --org (the organization the role is in)');
  const password = opts.password === '-' ? await readStdin() : opts.password;
  await withRuntime(async ({ ctx }) => {
    const u = await createUser(ctx, {
      email: opts.email,
      password,
      isAdmin: opts.admin === true,
      orgName: opts.org ?? null,
      ...(opts.role !== undefined ? { role: opts.role } : {}),
      name: opts.name ?? null,
      givenName: opts.givenName ?? null,
      familyName: opts.familyName ?? null,
      ...(opts.emailVerified === true ? { emailVerified: true } : {}),
    });
    const view = await fullView(ctx, u);
    emit(opts, view, () => `Created user ${u.email}\n\n${humanUser(view)}`);
  });
}

/** One page of users (issue #15 §12): never the whole table, however many there are. */
async function list(opts: PageOptions): Promise<void> {
  const query = pageQuery(opts);
  await withRuntime(async ({ ctx }) => {
    const page = await ctx.storage.users.page(query);
    const memberships = await ctx.storage.users.membershipsOf(page.items.map((u) => u.id));
    const orgNames = new Map<string, string>();
    for (const orgId of new Set(memberships.map((m) => m.orgId))) orgNames.set(orgId, (await ctx.storage.organizations.byId(orgId))?.name ?? orgId);
    const items = page.items.map((u) => ({
      ...userView(u),
      organizations: memberships.filter((m) => m.userId === u.id).map((m) => ({ id: m.orgId, name: orgNames.get(m.orgId) ?? m.orgId, role: m.role })),
    }));
    emit(opts, { items, next: page.next }, () => {
      if (items.length === 0) return opts.after === undefined ? 'No users.' : 'No more users.';
      const rows = items.map((v, i) => ({
        ...v,
        admin: page.items[i]?.isAdmin ? 'yes' : 'no',
        status: page.items[i]?.disabled ? 'disabled' : 'enabled',
        orgs: v.organizations.map((o) => `${o.name}(${o.role})`),
      }));
      const table = formatTable(rows, [
        ['EMAIL', 'email'],
        ['ID', 'id'],
        ['ADMIN', 'admin'],
        ['STATUS', 'status'],
        ['ORGANIZATIONS', 'orgs'],
      ]);
      return pagedTable('users list', opts, table, page.next);
    });
  });
}

async function setDisabled(opts: JsonOption & { email: string }, disabled: boolean): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const u = await requireUserByEmail(ctx, opts.email);
    // Disabling signs them out everywhere and revokes their tokens; enabling lifts a lockout.
    const updated = (await updateUser(ctx, u.id, { disabled }, { via: 'cli' })) ?? { ...u, disabled };
    const view = await fullView(ctx, updated);
    emit(opts, view, () =>
      disabled
        ? `Disabled user ${u.email}: they cannot sign in and their tokens stop working`
        : `Enabled user ${u.email}`,
    );
  });
}

interface ProfileOptions extends JsonOption {
  email: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  emailVerified?: boolean;
}

async function updateProfile(opts: ProfileOptions): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const u = await requireUserByEmail(ctx, opts.email);
    const updated = (await setUserProfile(ctx, u.id, { name: opts.name, givenName: opts.givenName, familyName: opts.familyName, emailVerified: opts.emailVerified }, { via: 'cli' })) ?? u;
    emit(opts, await fullView(ctx, updated), () => `Updated user ${u.email}`);
  });
}

export function usersCommand(): Command {
  const users = new Command('users').description('manage user accounts');

  withJson(
    users
      .command('create')
      .description('create a user account')
      .requiredOption('--email <email>', 'email address (the login name)')
      .requiredOption('--password <password>', 'initial password, at least 8 characters ("-" reads it from stdin)')
      .option('--admin', 'make the user an administrator')
      .option('--org <name>', 'add the user to this organization')
      .option('--name <name>', 'full name (OpenID Connect `name`)')
      .option('--given-name <name>', 'given name (`given_name`)')
      .option('--family-name <name>', 'family name (`family_name`)')
      .option('--email-verified', 'the email is known to be the person\'s (`email_verified: true`)')
      .addOption(new Option('--role <role>', 'role in the organization (default: member)').choices(['admin', 'member'])),
  ).action(action(create));

  withPageOptions(users.command('list').description('list users, oldest first, one page at a time'), 'users', 'only users whose email starts with this, or whose id is this').action(
    action(list),
  );

  withJson(
    users
      .command('disable')
      .description('disable a user: no sign-in, and their tokens stop working at once')
      .requiredOption('--email <email>', 'the user'),
  ).action(action((opts: JsonOption & { email: string }) => setDisabled(opts, true)));

  withJson(
    users.command('enable').description('enable a disabled (or locked-out) user').requiredOption('--email <email>', 'the user'),
  ).action(action((opts: JsonOption & { email: string }) => setDisabled(opts, false)));

  withJson(
    users
      .command('update')
      .description('change a user\'s OpenID Connect profile: names ("" removes one) and whether the email is verified')
      .requiredOption('--email <email>', 'the user')
      .option('--name <name>', 'full name (`name`)')
      .option('--given-name <name>', 'given name (`given_name`)')
      .option('--family-name <name>', 'family name (`family_name`)')
      .option('--email-verified', 'the email is known to be the person\'s')
      .option('--no-email-verified', 'the email is not verified'),
  ).action(action(updateProfile));

  return users;
}
