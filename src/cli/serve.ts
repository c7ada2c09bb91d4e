/**
 * `tollgate serve`: runs the HTTP server until SIGTERM/SIGINT (startServer handles the signals).
 * With `--workers N`, N processes share the port (see cluster.ts).
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config.js';
import { action, printJson, reportError, type JsonOption } from './shared.js';

interface ServeOptions extends JsonOption {
  readonly workers?: number;
}

const MAX_WORKERS = 64;

function parseWorkers(value: string): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_WORKERS}, or "auto"`);
  }
  return n;
}

async function serve(opts: ServeOptions): Promise<void> {
  const config = loadConfig();
  // Loaded on demand: the HTTP stack is heavy and no other command needs it.
  const [{ startServer }, { loggerOptions }, { isClusterWorker, runWorker, startCluster }] = await Promise.all([
    import('../server.js'),
    import('../http/logging.js'),
    import('../cluster.js'),
  ]);
  // Keep stdout to one JSON document: the server's own lines and its request log go to stderr.
  const quiet = opts.json
    ? { out: (line: string) => process.stderr.write(`${line}\n`), logger: { ...loggerOptions(config.logLevel), stream: process.stderr } }
    : {};
  if (isClusterWorker()) {
    try {
      await runWorker(config, quiet);
    } catch (err) {
      // The IPC channel to the primary would keep a failed worker alive: exit, so the primary
      // sees it die before listening and stops the cluster.
      reportError(err);
      process.exit(1);
    }
    return;
  }
  const workers = opts.workers ?? 1;
  if (workers > 1) {
    await startCluster(config, {
      workers,
      out: quiet.out ?? ((line) => process.stdout.write(`${line}\n`)),
      onListening: (url) => {
        if (opts.json) printJson({ url, workers });
      },
    });
    return;
  }
  const server = await startServer(config, { handleSignals: true, ...quiet });
  if (opts.json) printJson({ url: server.url });
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the authorization server (bootstraps a fresh database); stops on SIGTERM/SIGINT')
    .option('--workers <n>', `processes sharing the port, 1-${MAX_WORKERS} or "auto" (one per CPU); default 1`, parseWorkers)
    .option('--json', 'print {"url": …} on stdout once listening; the other lines go to stderr')
    .action(action(serve));
}
