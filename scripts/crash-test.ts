/**
 * `npm run test:crash`: kill -9 under load, restart, verify (see test/crash/run.ts, which holds the
 * logic so that `tsc -p .` type-checks it). Options: --iterations N (default 5), --seed S.
 */
import { pgRequired, pgTestUrl } from '../test/helpers/pg.js';
import { crashTest, type CrashReport } from '../test/crash/run.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

const iterations = arg('iterations', 5);
const seed = arg('seed', 6);
const pgUrl = pgTestUrl();
const log = (line: string): void => void process.stdout.write(`${line}\n`);

const dbs: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (pgUrl !== null) dbs.push('postgres');
else if (pgRequired()) {
  log('TOLLGATE_TEST_PG=required but TOLLGATE_TEST_PG_URL is not set');
  process.exit(1);
} else log('*** PostgreSQL crash test SKIPPED: set TOLLGATE_TEST_PG_URL to run it ***');

let failed = false;
const reports: CrashReport[] = [];
for (const db of dbs) {
  log(`crash test on ${db}: ${iterations} iterations, seed ${seed}`);
  const report = await crashTest(db, pgUrl, { iterations, concurrency: 32, seed, log });
  reports.push(report);
  for (const f of report.failures.slice(0, 20)) log(`  FAIL ${f}`);
  if (report.failures.length > 0) failed = true;
}
for (const r of reports) {
  log(`${r.failures.length === 0 ? 'ok  ' : 'FAIL'} ${r.db}: ${r.iterations} kill -9 iterations, ${r.tokensVerified} tokens answered 200 verified, ${r.revocationsVerified} revocations answered 200 verified, integrity check ${r.failures.some((f) => /integrity|foreign_key|no application/.test(f)) ? 'FAILED' : 'ok'}, ${r.failures.length} failures`);
}
process.exit(failed ? 1 : 0);
