/** `tollgate serve`: runs the HTTP server until SIGTERM/SIGINT (startServer handles the signals). */
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { action, printJson, type JsonOption } from './shared.js';

async function serve(opts: JsonOption): Promise<void> {
  const config = loadConfig();
  // Loaded on demand: the HTTP stack is heavy and no other command needs it.
  const [{ startServer }, { loggerOptions }] = await Promise.all([import('../server.js'), import('../http/logging.js')]);
  if (opts.json) {
    // Keep stdout to one JSON document: the server's own lines and its request log go to stderr.
    const server = await startServer(config, {
      handleSignals: true,
      out: (line) => process.stderr.write(`${line}\n`),
      logger: { ...loggerOptions(config.logLevel), stream: process.stderr },
    });
    printJson({ url: server.url });
  } else {
    await startServer(config, { handleSignals: true });
  }
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the authorization server (bootstraps a fresh database); stops on SIGTERM/SIGINT')
    .option('--json', 'print {"url": …} on stdout once listening; the other lines go to stderr')
    .action(action(serve));
}
