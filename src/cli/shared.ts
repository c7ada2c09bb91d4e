/**
 * What every CLI command shares: opening the runtime (config from the environment, migrate,
 * bootstrap), output in JSON or human form, option parsers, and turning errors into one clear
 * line on stderr with the right exit code (2 for configuration problems, 1 for everything else).
 */
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { OAuthError } from '../oauth/errors.js';
import { createRuntime, sqliteFile, type Runtime } from '../runtime.js';
import { bootstrap } from '../services/bootstrap.js';
import { requireOrg, requireUserByEmail } from '../services/directory.js';
import type { OAuthContext } from '../oauth/context.js';
import type { ClientRow } from '../storage/types.js';

/** A user error raised by the CLI itself (bad input); printed as one line, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface JsonOption {
  readonly json?: boolean;
}

/** Adds the `--json` option every command takes. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print one JSON document on stdout instead of the human form');
}

function writeErr(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}

/** Prints an error the way the contract says and sets the exit code. */
export function reportError(err: unknown): void {
  if (err instanceof ConfigError) {
    writeErr('error: invalid configuration');
    for (const p of err.problems) writeErr(`  ${p}`);
    process.exitCode = 2;
  } else if (err instanceof OAuthError) {
    writeErr(`error: ${err.description}`);
    process.exitCode = 1;
  } else if (err instanceof CliError) {
    writeErr(`error: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    writeErr(`error: ${message}`);
    if (process.env['TOLLGATE_DEBUG'] && err instanceof Error && err.stack) writeErr(err.stack);
    else writeErr('(set TOLLGATE_DEBUG=1 to see the stack trace)');
    process.exitCode = 1;
  }
}

/** Wraps an action so any error is reported (never thrown to commander, never a stack trace). */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(err);
    }
  };
}

export interface CliRuntime {
  readonly ctx: OAuthContext;
  readonly config: Config;
  readonly runtime: Runtime;
}

/**
 * Loads the configuration, opens (and migrates) the database, runs first-start bootstrap, runs
 * `fn`, and closes the database whatever happens.
 */
export async function withRuntime<T>(fn: (rt: CliRuntime) => Promise<T>, opts: { readonly create?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  // Issue #15 §13: only `migrate` (and `serve`) create a database. Any other command refuses to
  // start afresh where one was expected: its file may have been moved or deleted.
  if (opts.create !== true && config.databaseUrl === null && !existsSync(sqliteFile(config))) {
    throw new CliError(
      `no database at ${sqliteFile(config)}. A new installation: create it with "tollgate migrate" (or start the server). ` +
        'If one was expected here, it was moved or deleted: restore it, or point TOLLGATE_DATA_DIR at it, rather than starting afresh.',
    );
  }
  const runtime = await createRuntime(config);
  try {
    // Never silent (issue #15 §13): a database that was expected here may have been removed.
    if (runtime.databaseCreated) writeErr(`note: no database at ${sqliteFile(config)}: created a new, empty one`);
    const result = await bootstrap(runtime.ctx);
    for (const w of result.warnings) writeErr(`warning: ${w}`);
    if (result.admin?.generatedPassword) {
      writeErr(
        [
          `note: first start: created the administrator ${result.admin.email}`,
          `note: generated password: ${result.admin.generatedPassword}`,
          'note: store it now, it will not be shown again (set TOLLGATE_ADMIN_PASSWORD to choose it)',
        ].join('\n'),
      );
    }
    return await fn({ ctx: runtime.ctx, config, runtime });
  } finally {
    await runtime.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

export function printJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

export function printLines(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map((x) => cell(x)).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** `key: value` lines, keys aligned. */
export function formatRecord(rec: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(rec);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${`${k}:`.padEnd(width + 2)}${cell(rec[k])}`).join('\n');
}

/** A plain text table; `columns` maps a header to the record key. */
export function formatTable(
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>,
  columns: ReadonlyArray<readonly [header: string, key: string]>,
): string {
  const matrix = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, k]) => cell(r[k])))];
  const widths = columns.map((_, i) => Math.max(...matrix.map((line) => (line[i] ?? '').length)));
  return matrix
    .map((line) =>
      line
        .map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Prints `json` with --json, else the human text. */
export function emit(opts: JsonOption, json: unknown, human: () => string): void {
  if (opts.json) printJson(json);
  else printLines(human());
}

// ---------------------------------------------------------------------------------------------
// Option parsers (commander argParsers: their InvalidArgumentError becomes commander's usual
// "error: option '--x <v>' argument 'y' is invalid. …" message, exit 1).

/** Repeatable list option: `--scope a --scope b`, `--scope "a b"`, `--scope a,b`. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(/[\s,]+/).filter((s) => s.length > 0)];
}

/** Repeatable option whose values are kept whole (they may contain spaces or commas). */
export function collectRaw(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('Expected a whole number.');
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('The number is too large.');
  return n;
}

export function seconds(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('Expected a whole number of seconds.');
  const n = Number(value.trim());
  if (n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected at least 1 second.');
  return n;
}

/** All of stdin (for `--password -` / `--token -`), without the final newline. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

// ---------------------------------------------------------------------------------------------
// Lookups

export async function requireApp(ctx: OAuthContext, clientId: string): Promise<ClientRow> {
  const c = await ctx.storage.clients.byId(clientId);
  if (!c) throw new CliError(`No application with the client_id ${clientId}`);
  return c;
}

export async function userIdByEmail(ctx: OAuthContext, email: string): Promise<string> {
  return (await requireUserByEmail(ctx, email)).id;
}

export async function orgIdByName(ctx: OAuthContext, name: string): Promise<string> {
  return (await requireOrg(ctx, name)).id;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The options of a paged `list` command (issue #15 §12): `--limit`, `--after`, `--search`. */
export interface PageOptions extends JsonOption {
  limit: string;
  after?: string;
  search?: string;
}

export function withPageOptions(cmd: Command, what: string, search: string): Command {
  return withJson(
    cmd
      .option('--limit <n>', `${what} per page (1-500)`, '100')
      .option('--after <cursor>', 'the page after this one (the "next" of the previous page)')
      .option('--search <text>', search),
  );
}

/** What a paged command asks of its repository: the limit checked, the cursor and the search. */
export function pageQuery(opts: PageOptions): { limit: number; after: string | null; search?: string } {
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('--limit must be a whole number from 1 to 500');
  return { limit, after: opts.after ?? null, ...(opts.search !== undefined ? { search: opts.search } : {}) };
}

/** A page as a table, with the command that shows the next page when there is one. */
export function pagedTable(command: string, opts: PageOptions, table: string, next: string | null): string {
  return next === null ? table : `${table}\n\nMore: tollgate ${command} --after ${next}${opts.search !== undefined ? ` --search ${JSON.stringify(opts.search)}` : ''}`;
}
