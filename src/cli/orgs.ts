/** `tollgate orgs …`: create, list. */
import { Command } from 'commander';
import { createOrg } from '../services/directory.js';
import type { OrganizationRow } from '../storage/types.js';
import { action, emit, formatRecord, formatTable, pagedTable, pageQuery, withJson, withPageOptions, withRuntime, type JsonOption, type PageOptions } from './shared.js';

function orgView(o: OrganizationRow): Record<string, unknown> {
  return { id: o.id, name: o.name, created_at: new Date(o.createdAt).toISOString() };
}

async function create(opts: JsonOption & { name: string }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const org = await createOrg(ctx, opts.name);
    emit(opts, orgView(org), () => `Created organization "${org.name}"\n\n${formatRecord(orgView(org))}`);
  });
}

/** One page of organizations by name (issue #15 §12). */
async function list(opts: PageOptions): Promise<void> {
  const query = pageQuery(opts);
  await withRuntime(async ({ ctx }) => {
    const page = await ctx.storage.organizations.page(query);
    const items = page.items.map(orgView);
    emit(opts, { items, next: page.next }, () => {
      if (items.length === 0) return opts.after === undefined ? 'No organizations.' : 'No more organizations.';
      const table = formatTable(items, [
        ['NAME', 'name'],
        ['ID', 'id'],
        ['CREATED', 'created_at'],
      ]);
      return pagedTable('orgs list', opts, table, page.next);
    });
  });
}

export function orgsCommand(): Command {
  const orgs = new Command('orgs').description('manage organizations');
  withJson(orgs.command('create').description('create an organization').requiredOption('--name <name>', 'unique name')).action(
    action(create),
  );
  withPageOptions(orgs.command('list').description('list organizations by name, one page at a time'), 'organizations', 'only organizations whose name starts with this').action(
    action(list),
  );
  return orgs;
}
