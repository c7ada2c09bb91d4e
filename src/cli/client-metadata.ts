/**
 * `tollgate client-metadata …`: the block-list of Client ID Metadata Documents
 * (docs/client-id-metadata.md) — block a host, a domain's subdomains (`*.example.com`) or one
 * client_id URL; list and lift blocks. Blocking deactivates the applications already known there.
 */
import { Command } from 'commander';
import { blockMetadataClients, blockView, unblockMetadataClients } from '../services/client-metadata.js';
import { action, CliError, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

async function block(pattern: string, opts: JsonOption & { reason?: string }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const r = await blockMetadataClients(ctx, pattern, { reason: opts.reason ?? null });
    const view = { ...blockView(r.block), deactivated: r.deactivated };
    emit(opts, view, () => `${r.created ? 'Blocked' : 'Already blocked:'} ${r.block.pattern} (${r.deactivated} application${r.deactivated === 1 ? '' : 's'} deactivated)\n\n${formatRecord(view)}`);
  });
}

async function unblock(pattern: string, opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    if (!(await unblockMetadataClients(ctx, pattern))) throw new CliError(`No block for ${pattern}`);
    emit(opts, { unblocked: pattern }, () => `Unblocked ${pattern}. Applications it deactivated stay deactivated until you activate them (tollgate apps activate).`);
  });
}

async function list(opts: JsonOption & { limit?: string; offset?: string }): Promise<void> {
  const limit = Number(opts.limit ?? '100');
  const offset = Number(opts.offset ?? '0');
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('--limit must be a whole number from 1 to 500');
  if (!Number.isInteger(offset) || offset < 0) throw new CliError('--offset must be a whole number from 0');
  await withRuntime(async ({ ctx }) => {
    const page = await ctx.storage.clientMetadata.blocks({ limit, offset });
    const items = page.items.map(blockView);
    emit(opts, { items, total: page.total }, () =>
      items.length === 0
        ? 'No blocks.'
        : formatTable(items, [
            ['PATTERN', 'pattern'],
            ['REASON', 'reason'],
            ['CREATED', 'created_at'],
          ]),
    );
  });
}

export function clientMetadataCommand(): Command {
  const cmd = new Command('client-metadata').description('Client ID Metadata Documents: the block-list (docs/client-id-metadata.md)');
  withJson(
    cmd
      .command('block')
      .description('refuse documents from a host (agents.example), a domain\'s subdomains (*.example.com) or one client_id URL, and deactivate the applications already known there')
      .argument('<pattern>')
      .option('--reason <text>', 'why (kept with the block and in the audit log)'),
  ).action(action(block));
  withJson(cmd.command('unblock').description('lift a block').argument('<pattern>')).action(action(unblock));
  withJson(cmd.command('blocks').description('list the blocks').option('--limit <n>', 'page size (default 100)').option('--offset <n>', 'skip this many')).action(action(list));
  return cmd;
}
