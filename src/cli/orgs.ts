/** `tollgate orgs …`: create, list. */
import { Command } from 'commander';
import { createOrg } from '../services/directory.js';
import type { OrganizationRow } from '../storage/types.js';
import { action, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

function orgView(o: OrganizationRow): Record<string, unknown> {
  return { id: o.id, name: o.name, created_at: new Date(o.createdAt).toISOString() };
}

async function create(opts: JsonOption & { name: string }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const org = await createOrg(ctx, opts.name);
    emit(opts, orgView(org), () => `Created organization "${org.name}"\n\n${formatRecord(orgView(org))}`);
  });
}

async function list(opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const items = (await ctx.storage.organizations.list()).map(orgView);
    emit(opts, { items }, () =>
      items.length === 0
        ? 'No organizations.'
        : formatTable(items, [
            ['NAME', 'name'],
            ['ID', 'id'],
            ['CREATED', 'created_at'],
          ]),
    );
  });
}

export function orgsCommand(): Command {
  const orgs = new Command('orgs').description('manage organizations');
  withJson(orgs.command('create').description('create an organization').requiredOption('--name <name>', 'unique name')).action(
    action(create),
  );
  withJson(orgs.command('list').description('list organizations')).action(action(list));
  return orgs;
}
