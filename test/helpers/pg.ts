/**
 * PostgreSQL test helpers. Suites that need PostgreSQL run only when `TOLLGATE_TEST_PG_URL` is
 * set; otherwise they are skipped with a loud warning, unless `TOLLGATE_TEST_PG=required`, in
 * which case they fail (so CI cannot silently lose PostgreSQL coverage). Each suite gets its own
 * throwaway schema via `freshPgSchema`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

/** `TOLLGATE_TEST_PG_URL`, or null when unset/empty. */
export function pgTestUrl(): string | null {
  const url = process.env['TOLLGATE_TEST_PG_URL'];
  return url !== undefined && url.trim() !== '' ? url.trim() : null;
}

/** True when `TOLLGATE_TEST_PG=required`: missing PostgreSQL is then a failure, not a skip. */
export function pgRequired(): boolean {
  return process.env['TOLLGATE_TEST_PG'] === 'required';
}

let warned = false;

/**
 * `describe` for PostgreSQL-backed suites; `fn` receives the connection URL. Without a URL the
 * suite is skipped (with a warning) or, when PostgreSQL is required, replaced by a failing test.
 * `fn` must only connect inside hooks/tests: it is also collected (then skipped) without a URL.
 */
export function describePg(name: string, fn: (url: string) => void): void {
  const url = pgTestUrl();
  if (url !== null) {
    describe(name, () => fn(url));
    return;
  }
  if (pgRequired()) {
    describe(name, () => {
      it('requires PostgreSQL', () => {
        throw new Error(
          'TOLLGATE_TEST_PG=required but TOLLGATE_TEST_PG_URL is not set ' +
            '(e.g. TOLLGATE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test)',
        );
      });
    });
    return;
  }
  if (!warned) {
    warned = true;
    console.warn(
      '\n*** PostgreSQL suites SKIPPED: set TOLLGATE_TEST_PG_URL ' +
        '(e.g. postgres://postgres@127.0.0.1:5432/test) to run them; ' +
        'TOLLGATE_TEST_PG=required makes their absence a failure ***\n',
    );
  }
  describe.skip(name, () => fn('postgres://skipped.invalid/'));
}

export interface PgSchema {
  /** The unique schema name (`t_<random hex>`), already created. */
  readonly schema: string;
  /** Drops the schema and everything in it (CASCADE). Safe to call twice. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a uniquely named schema for one test or suite; call `drop()` in cleanup. */
export async function freshPgSchema(url: string): Promise<PgSchema> {
  const schema = `t_${randomBytes(8).toString('hex')}`;
  await withClient(url, (client) => client.query(`create schema "${schema}"`));
  return {
    schema,
    drop: async () => {
      await withClient(url, (client) => client.query(`drop schema if exists "${schema}" cascade`));
    },
  };
}
