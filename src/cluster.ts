/**
 * `tollgate serve --workers N` (issue #5): N server processes behind one listening port, through
 * `node:cluster`. The primary bootstraps the database once (migrations, first key, admin), then
 * forks the workers and only supervises: it prints the banner when all of them listen, restarts
 * a worker that dies, and on SIGTERM/SIGINT passes the signal on and exits once every worker has
 * drained (each runs the same graceful shutdown as a single process).
 *
 * Safe on both databases: every cross-request cache is validated against the database (the
 * cache epoch), lockouts live in the database, and with TOLLGATE_REDIS_URL the rate limits are
 * shared. Without Redis, per-IP limits count per worker. Only the first worker runs the purge job.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { createRuntime } from './runtime.js';
import { bootstrap } from './services/bootstrap.js';
import { printBanner, startServer, type StartOptions } from './server.js';

const WORKER_INDEX = 'TOLLGATE_WORKER_INDEX';
const SHUTDOWN_MS = 12_000;
const RESTART_DELAY_MS = 500;

export interface ClusterOptions {
  readonly workers: number;
  readonly out: (line: string) => void;
  /** Called once every worker listens. */
  readonly onListening?: (url: string) => void;
}

/** In a cluster worker: serve like a single process, quietly, purging only in the first one. */
export async function runWorker(config: Config, opts: StartOptions): Promise<void> {
  const index = Number(process.env[WORKER_INDEX] ?? '0');
  await startServer(config, { ...opts, handleSignals: true, banner: false, purge: index === 0 });
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * In the primary: bootstrap once, fork, supervise. Resolves once every worker listens; if a worker
 * dies before listening, stops the others and exits 1.
 */
export async function startCluster(config: Config, opts: ClusterOptions): Promise<void> {
  const { out } = opts;
  const runtime = await createRuntime(config, {});
  const boot = await bootstrap(runtime.ctx).finally(() => runtime.close());
  const dialect = runtime.storage.dialect;

  let shuttingDown = false;
  const live = new Map<number, Worker>();
  let listening = 0;
  let announced = false;

  /** Stops every worker (each drains), then exits: 0 only if asked to and every worker exited 0. */
  const stopAll = (exitCode: number, reason: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    out(reason);
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_MS);
    timer.unref();
    let failed = exitCode !== 0;
    let remaining = live.size;
    if (remaining === 0) process.exit(failed ? 1 : 0);
    for (const worker of live.values()) {
      worker.once('exit', (code) => {
        if (code !== 0) failed = true;
        if (--remaining === 0) process.exit(failed ? 1 : 0);
      });
      worker.process.kill('SIGTERM');
    }
  };

  const fork = (index: number, onAllListening: (url: string) => void): void => {
    const worker = cluster.fork({ [WORKER_INDEX]: String(index) });
    let listened = false;
    live.set(index, worker);
    worker.once('listening', (address) => {
      listened = true;
      if (announced) {
        out(`worker ${index} (pid ${worker.process.pid}) is serving again`);
        return;
      }
      if (++listening < opts.workers) return;
      announced = true;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      onAllListening(`http://${host}:${address.port}`);
    });
    worker.once('exit', (code, signal) => {
      live.delete(index);
      if (shuttingDown) return;
      const how = signal ?? `code ${code}`;
      if (!listened) {
        // It never started (a bad configuration, the port taken, a newer database): restarting
        // would only loop, and a partial cluster is not what was asked for.
        stopAll(1, `worker ${index} exited before listening (${how}); stopping every worker`);
        return;
      }
      out(`worker ${index} exited (${how}); starting a new one`);
      setTimeout(() => fork(index, () => {}), RESTART_DELAY_MS).unref();
    });
  };

  const url = await new Promise<string>((resolve) => {
    for (let i = 0; i < opts.workers; i++) fork(i, resolve);
  });
  printBanner(out, config, boot, url, dialect);
  out(`  workers       ${opts.workers} processes (pids ${[...live.values()].map((w) => w.process.pid).join(', ')})`);
  opts.onListening?.(url);

  process.once('SIGTERM', () => stopAll(0, 'SIGTERM received: every worker finishes its in-flight requests, then exits.'));
  process.once('SIGINT', () => stopAll(0, 'SIGINT received: every worker finishes its in-flight requests, then exits.'));
}
