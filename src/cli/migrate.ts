/** `tollgate migrate`: applies pending database migrations and prints their names. */
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { existsSync } from 'node:fs';
import { openStorage, sqliteFile } from '../runtime.js';
import { action, emit, withJson, withRuntime, type JsonOption } from './shared.js';

async function migrate(opts: JsonOption): Promise<void> {
  const config = loadConfig();
  const created = config.databaseUrl === null && !existsSync(sqliteFile(config));
  const storage = await openStorage(config);
  // Never silent (issue #15 §13): say so when this creates the database.
  if (created) process.stderr.write(`note: no database at ${sqliteFile(config)}: created a new, empty one\n`);
  let applied: string[];
  try {
    applied = await storage.migrate();
  } finally {
    await storage.close();
  }
  // Then the first-start bootstrap, like every command (signing key, built-in scopes, admin).
  await withRuntime(async () => {}, { create: true });
  emit(opts, { applied }, () =>
    applied.length === 0
      ? 'The database is up to date: no migration to apply.'
      : `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:\n${applied.map((m) => `  ${m}`).join('\n')}`,
  );
}

export function migrateCommand(): Command {
  return withJson(new Command('migrate').description('apply pending database migrations')).action(action(migrate));
}
