/** `tollgate resource-servers …`: create, list (RFC 8707 resource identifiers, T12). */
import { Command } from 'commander';
import { createResourceServer } from '../services/directory.js';
import type { ResourceServerRow, ScopeRow } from '../storage/types.js';
import { action, CliError, collectRaw, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

interface CreateOptions extends JsonOption {
  identifier: string;
  name: string;
  scope?: string[];
}

function rsView(rs: ResourceServerRow, scopes: readonly ScopeRow[]): Record<string, unknown> {
  return {
    identifier: rs.identifier,
    name: rs.name,
    scopes: scopes.filter((s) => s.resourceServer === rs.identifier).map((s) => s.name),
    created_at: new Date(rs.createdAt).toISOString(),
  };
}

/** `name=description`; the description may contain spaces, commas and `=`. */
function parseScope(value: string): { name: string; description: string } {
  const i = value.indexOf('=');
  const name = (i < 0 ? value : value.slice(0, i)).trim();
  const description = i < 0 ? '' : value.slice(i + 1).trim();
  if (name === '') throw new CliError(`--scope expects name=description, got "${value}"`);
  return { name, description };
}

async function create(opts: CreateOptions): Promise<void> {
  const scopes = (opts.scope ?? []).map(parseScope);
  await withRuntime(async ({ ctx }) => {
    const rs = await createResourceServer(ctx, { identifier: opts.identifier, name: opts.name, scopes });
    const view = rsView(rs, await ctx.storage.scopes.list());
    emit(opts, view, () => `Created resource server ${rs.identifier}\n\n${formatRecord(view)}`);
  });
}

async function list(opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const scopes = await ctx.storage.scopes.list();
    const items = (await ctx.storage.resourceServers.list()).map((rs) => rsView(rs, scopes));
    emit(opts, { items }, () =>
      items.length === 0
        ? 'No resource servers.'
        : formatTable(items, [
            ['IDENTIFIER', 'identifier'],
            ['NAME', 'name'],
            ['SCOPES', 'scopes'],
          ]),
    );
  });
}

export function resourceServersCommand(): Command {
  const rs = new Command('resource-servers').description('manage resource servers (token audiences)');
  withJson(
    rs
      .command('create')
      .description('register a resource server and, optionally, its scopes')
      .requiredOption('--identifier <uri>', 'absolute URI used as the token audience, e.g. https://api.example.com')
      .requiredOption('--name <name>', 'display name')
      .option('--scope <name=description>', 'a scope of this resource server, repeatable', collectRaw),
  ).action(action(create));
  withJson(rs.command('list').description('list resource servers')).action(action(list));
  return rs;
}
