// @ts-check
/**
 * The WAL checkpoint worker (started by ./open.ts): its own connection to the database file,
 * one PASSIVE checkpoint a tick, so the request path never pays for a checkpoint. Plain
 * JavaScript (type-checked through JSDoc) so that the same file runs as a worker from the
 * sources under the test runner and from `dist/` after the build.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** @type {{ file: string, interval: number, driver: string }} */
const { file, interval, driver } = workerData;
/** @type {typeof import('better-sqlite3')} */
const Database = createRequire(import.meta.url)(driver);
const db = new Database(file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy: the next tick tries again
  }
}, interval);
parentPort?.on('message', () => {
  clearInterval(timer);
  try {
    db.close();
  } catch {
    // already closed
  }
  parentPort?.close();
});
