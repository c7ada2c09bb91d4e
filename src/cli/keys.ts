/** `tollgate keys …`: list, rotate (T8). */
import { Command, Option } from 'commander';
import { KEY_ALGS, type KeyAlg } from '../config.js';
import { keyView, rotateSigningKey } from '../services/keys.js';
import { action, emit, formatRecord, formatTable, withJson, withRuntime, type JsonOption } from './shared.js';

async function list(opts: JsonOption): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const now = ctx.now();
    const items = (await ctx.storage.keys.listAll()).map((k) => keyView(k, now));
    emit(opts, { items }, () =>
      items.length === 0
        ? 'No signing keys.'
        : formatTable(items, [
            ['KID', 'kid'],
            ['ALG', 'alg'],
            ['STATUS', 'status'],
            ['CREATED', 'created_at'],
            ['PUBLISHED_UNTIL', 'published_until'],
          ]),
    );
  });
}

async function rotate(opts: JsonOption & { alg?: KeyAlg }): Promise<void> {
  await withRuntime(async ({ ctx }) => {
    const row = await rotateSigningKey(ctx, opts.alg ?? ctx.config.keyAlg);
    const view = keyView(row, ctx.now());
    emit(
      opts,
      view,
      () =>
        `Rotated the signing key: new tokens are signed with ${row.kid}; the previous key stays in the JWKS until the tokens it signed expire.\n\n${formatRecord(view)}`,
    );
  });
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('manage token signing keys');
  withJson(keys.command('list').description('list signing keys (active, retired and expired)')).action(action(list));
  withJson(
    keys
      .command('rotate')
      .description('create a new signing key; the old one stays published until its tokens expire')
      .addOption(new Option('--alg <alg>', 'algorithm (default: TOLLGATE_KEY_ALG)').choices(KEY_ALGS)),
  ).action(action(rotate));
  return keys;
}
