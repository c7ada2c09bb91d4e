/** `tollgate scopes …`: create (or replace), update, list (T12); descriptions per locale (issue #12 item 8). */
import { Command, InvalidArgumentError } from 'commander';
import { createScope, scopeView, updateScope } from '../services/directory.js';
import { SUPPORTED_LOCALES } from '../i18n/locales.js';
import { action, CliError, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';


/** `--description-locale fr="Voir vos commandes"`, repeatable: LOCALE=TEXT (an empty TEXT removes that locale's). */
function collectLocale(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected LOCALE=TEXT, e.g. fr="Voir vos commandes"');
  return { ...(previous ?? {}), [value.slice(0, eq).trim()]: value.slice(eq + 1) };
}

const LOCALE_HELP = `description in another language, LOCALE=TEXT (repeatable; ${SUPPORTED_LOCALES.filter((l) => l !== 'en').join(', ')}…); the consent page shows the one for its language`;

interface CreateOptions extends JsonOption {
  name: string;
  description?: string;
  descriptionLocale?: Record<string, string>;
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
      ...(opts.descriptionLocale ? { descriptions: opts.descriptionLocale } : {}),
    });
    emit(opts, scopeView(s), () => `${existed ? 'Updated' : 'Created'} scope "${s.name}"\n\n${formatRecord(scopeView(s))}`);
  });
}

interface UpdateOptions extends JsonOption {
  description?: string;
  descriptionLocale?: Record<string, string>;
  resourceServer?: string;
  default?: boolean;
}

async function update(name: string, opts: UpdateOptions): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const s = await updateScope(ctx, name, {
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      ...(opts.descriptionLocale ? { descriptions: opts.descriptionLocale } : {}),
      ...(opts.resourceServer !== undefined ? { resourceServer: opts.resourceServer === '' ? null : opts.resourceServer } : {}),
      ...(opts.default !== undefined ? { isDefault: opts.default } : {}),
    });
    if (!s) throw new CliError(`No scope named "${name}"`);
    emit(opts, scopeView(s), () => `Updated scope "${s.name}"\n\n${formatRecord(scopeView(s))}`);
  });
}

async function list(opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const items = (await ctx.storage.scopes.list()).map(scopeView);
    emit(opts, { items }, () =>
      items.length === 0
        ? 'No scopes.'
        : formatTable(
            items.map((s) => ({ ...s, default: s['is_default'] ? 'yes' : '' })),
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
      .description('create a scope (or replace the one with this name; its descriptions per locale are kept unless given)')
      .requiredOption('--name <name>', 'scope name, e.g. orders:read')
      .option('--description <text>', 'shown to the user on the consent screen (default: the name)')
      .option('--description-locale <locale=text>', LOCALE_HELP, collectLocale)
      .option('--resource-server <uri>', 'identifier of the resource server the scope belongs to')
      .option('--default', 'give this scope to dynamically registered clients that ask for none'),
  ).action(action(create));
  withJson(
    scopes
      .command('update')
      .description('change a scope; only the options given change')
      .argument('<name>')
      .option('--description <text>', 'shown to the user on the consent screen ("" for the name)')
      .option('--description-locale <locale=text>', `${LOCALE_HELP}; LOCALE= removes that one, others are kept`, collectLocale)
      .option('--resource-server <uri>', 'identifier of the resource server the scope belongs to ("" for none)')
      .option('--default', 'give this scope to dynamically registered clients that ask for none')
      .option('--no-default', 'no longer a default scope'),
  ).action(action(update));
  withJson(scopes.command('list').description('list scopes')).action(action(list));
  return scopes;
}
