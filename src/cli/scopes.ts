/** `tollgate scopes …`: create (or update), list (T12). */
import { Command } from 'commander';
import { createScope } from '../services/directory.js';
import type { ScopeRow } from '../storage/types.js';
import { action, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

export function scopeView(s: ScopeRow): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    resource_server: s.resourceServer,
    default: s.isDefault,
    created_at: new Date(s.createdAt).toISOString(),
  };
}

interface CreateOptions extends JsonOption {
  name: string;
  description?: string;
  resourceServer?: string;
  default?: boolean;
}

async function create(opts: CreateOptions): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const existed = (await ctx.storage.scopes.byName(opts.name)) !== null;
    const s = await createScope(ctx, {
      name: opts.name,
      description: opts.description ?? '',
      resourceServer: opts.resourceServer ?? null,
      isDefault: opts.default === true,
    });
    emit(opts, scopeView(s), () => `${existed ? 'Updated' : 'Created'} scope "${s.name}"\n\n${formatRecord(scopeView(s))}`);
  });
}

async function list(opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const items = (await ctx.storage.scopes.list()).map(scopeView);
    emit(opts, { items }, () =>
      items.length === 0
        ? 'No scopes.'
        : formatTable(
            items.map((s) => ({ ...s, default: s['default'] ? 'yes' : '' })),
            [
              ['NAME', 'name'],
              ['DEFAULT', 'default'],
              ['RESOURCE_SERVER', 'resource_server'],
              ['DESCRIPTION', 'description'],
            ],
          ),
    );
  });
}

export function scopesCommand(): Command {
  const scopes = new Command('scopes').description('manage scopes');
  withJson(
    scopes
      .command('create')
      .description('create a scope (or update the one with this name)')
      .requiredOption('--name <name>', 'scope name, e.g. orders:read')
      .option('--description <text>', 'shown to the user on the consent screen (default: the name)')
      .option('--resource-server <uri>', 'identifier of the resource server the scope belongs to')
      .option('--default', 'give this scope to dynamically registered clients that ask for none'),
  ).action(action(create));
  withJson(scopes.command('list').description('list scopes')).action(action(list));
  return scopes;
}
