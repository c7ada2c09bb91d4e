/** `tollgate resource-servers …`: create, list, update (RFC 8707 resource identifiers, T12). */
import { Command } from 'commander';
import { createResourceServer, setIntrospectors } from '../services/directory.js';
import type { ResourceServerRow, ScopeRow } from '../storage/types.js';
import { action, CliError, collectRaw, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

interface CreateOptions extends JsonOption {
  identifier: string;
  name: string;
  scope?: string[];
  introspector?: string[];
}

function rsView(rs: ResourceServerRow, scopes: readonly ScopeRow[]): Record<string, unknown> {
  return {
    identifier: rs.identifier,
    name: rs.name,
    scopes: scopes.filter((s) => s.resourceServer === rs.identifier).map((s) => s.name),
    introspectors: rs.introspectors ?? 'any confidential application (set --introspector)',
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
    const rs = await createResourceServer(ctx, { identifier: opts.identifier, name: opts.name, scopes, introspectors: opts.introspector ?? [] });
    const view = rsView(rs, await ctx.storage.scopes.list());
    emit(opts, view, () => `Created resource server ${rs.identifier}\n\n${formatRecord(view)}`);
  });
}

async function update(identifier: string, opts: JsonOption & { introspector?: string[] }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const rs = await setIntrospectors(ctx, identifier, opts.introspector ?? []);
    if (!rs) throw new CliError(`No resource server with the identifier ${identifier}`);
    const view = rsView(rs, await ctx.storage.scopes.list());
    emit(opts, view, () => `Updated resource server ${rs.identifier}\n\n${formatRecord(view)}`);
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
      .option('--scope <name=description>', 'a scope of this resource server, repeatable', collectRaw)
      .option('--introspector <client_id>', 'an application allowed to introspect tokens issued for it (its own, for tollgate/resource), repeatable', collectRaw),
  ).action(action(create));
  withJson(
    rs
      .command('update')
      .description('set the applications allowed to introspect tokens issued for this resource server (replaces the list)')
      .argument('<identifier>')
      .option('--introspector <client_id>', 'an allowed application, repeatable; none given: only a token\'s own application may', collectRaw),
  ).action(action(update));
  withJson(rs.command('list').description('list resource servers')).action(action(list));
  return rs;
}
