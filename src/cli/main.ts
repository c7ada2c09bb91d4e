#!/usr/bin/env node
/**
 * The `tollgate` command line. Every command works on the configured database directly
 * (configuration from the environment, see src/config.ts), takes `--json`, and exits non-zero
 * with one message on stderr for bad input (2 for an invalid configuration).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { appsCommand } from './apps.js';
import { clientMetadataCommand } from './client-metadata.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { orgsCommand } from './orgs.js';
import { resourceServersCommand } from './resource-servers.js';
import { scopesCommand } from './scopes.js';
import { serveCommand } from './serve.js';
import { reportError } from './shared.js';
import { tokensCommand } from './tokens.js';
import { usersCommand } from './users.js';

/** The package version; the same relative path works from src/cli and dist/cli. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command('tollgate')
    .description('Tollgate OAuth 2.0 authorization server')
    .version(version(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (TOLLGATE_DATA_DIR, TOLLGATE_DATABASE_URL, …).\nEvery command takes --json for machine-readable output.',
    );
  for (const cmd of [
    serveCommand(),
    migrateCommand(),
    appsCommand(),
    usersCommand(),
    orgsCommand(),
    scopesCommand(),
    resourceServersCommand(),
    clientMetadataCommand(),
    keysCommand(),
    tokensCommand(),
  ]) {
    program.addCommand(cmd);
  }
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => reportError(err));
